//! The catalogue of validation rules: one entry per rule of spec/, with its stable code.
//!
//! This list is the single source that the validator cites and that the rule
//! tables of `spec/` are generated from. Codes have the form `WI-<AREA>-<NNN>`;
//! a code is never changed, and the code of a withdrawn rule is never reused.
use serde::Serialize;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Notable, but nothing will fail.
    Info,
    /// Will work, but is risky, not portable, or hits a limit of one consumer.
    Warning,
    /// A consumer will fail, or the specification is violated.
    Error,
}

/// One rule of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable code, e.g. `WI-CNCF-003`; also the finding code.
    pub code: &'static str,
    /// Default severity of a finding under this rule.
    pub severity: Severity,
    /// One-line statement of the rule.
    pub summary: &'static str,
    /// How to fix an image that breaks it.
    pub hint: &'static str,
    /// The spec document that states it, relative to the repo root, e.g. `spec/variant-cncf.md`.
    pub spec: &'static str,
}

/// Every rule, sorted by code.
pub const RULES: &[Rule] = &[
    Rule {
        code: "WI-ABI-001",
        severity: Severity::Info,
        summary: "The module exports a proxy-wasm ABI marker; the finding names the version a host detects (first marker in export order).",
        hint: "None needed.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-ABI-002",
        severity: Severity::Warning,
        summary: "The module exports more than one known ABI marker; hosts disagree on which one wins.",
        hint: "Export exactly one `proxy_abi_version_*` function.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-ABI-003",
        severity: Severity::Warning,
        summary: "An export named like a known ABI marker is not a function, so hosts skip it.",
        hint: "Export the marker as a function with no parameters and no results.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-ABI-004",
        severity: Severity::Warning,
        summary: "A function export `proxy_abi_version_*` names a version that no released host recognises.",
        hint: "Build against proxy-wasm ABI 0.2.1, 0.2.0 or 0.1.0.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-ABI-005",
        severity: Severity::Error,
        summary: "An image for proxies (`compat-oci`, `compat-docker`, `wasm-oci`) holds a core module that exports no known ABI marker; Envoy refuses to load it.",
        hint: "Build the module with a proxy-wasm SDK, or publish it as a `cncf` image.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-ANNOT-001",
        severity: Severity::Error,
        summary: "An `annotations` value is not an object whose values are all strings.",
        hint: "Make every annotation value a string; drop null, number, array and object values.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-ANNOT-002",
        severity: Severity::Error,
        summary: "`org.opencontainers.image.ref.name` does not follow the ref grammar of the image spec.",
        hint: "Use components of letters and digits joined by `-`, `.`, `_`, `:`, `@`, `+` or `--`, separated by `/`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-ANNOT-003",
        severity: Severity::Error,
        summary: "`org.opencontainers.image.created` is not an RFC 3339 date-time.",
        hint: "Write a date-time such as `2024-01-01T00:00:00Z`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-ANNOT-004",
        severity: Severity::Warning,
        summary: "An annotation key uses the reserved `org.opencontainers.` prefix but is not a key the image spec defines.",
        hint: "Put custom keys under a reverse-DNS prefix of your own.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-ANNOT-005",
        severity: Severity::Warning,
        summary: "`org.opencontainers.image.title` is empty, absolute, holds `/` or `\\`, or is `.` or `..`; tools that save the blob under that name refuse it or write outside the target directory.",
        hint: "Use a plain file name such as `plugin.wasm`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-BLOB-001",
        severity: Severity::Error,
        summary: "A blob's length differs from the `size` of the descriptor that references it (checked before hashing).",
        hint: "Correct the descriptor's `size` or replace the blob; content of the wrong length must not be trusted.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-BLOB-002",
        severity: Severity::Error,
        summary: "A blob's content does not hash to the digest of the descriptor that references it.",
        hint: "Recompute the descriptor's digest from the blob, or replace the corrupted blob.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-CNCF-001",
        severity: Severity::Error,
        summary: "The manifest's `mediaType` is absent or is not `application/vnd.oci.image.manifest.v1+json`; oci-wasm and wkg refuse to pull it.",
        hint: "Set the manifest `mediaType` to `application/vnd.oci.image.manifest.v1+json`.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-002",
        severity: Severity::Error,
        summary: "The manifest does not have exactly one layer.",
        hint: "Publish one module or component per image.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-003",
        severity: Severity::Error,
        summary: "The layer's media type is not `application/wasm`.",
        hint: "Set the layer `mediaType` to `application/wasm`.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-004",
        severity: Severity::Warning,
        summary: "The layer has no `org.opencontainers.image.title` annotation, so generic pull tools save no file.",
        hint: "Set `org.opencontainers.image.title` on the layer to the module's file name.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-005",
        severity: Severity::Error,
        summary: "The config is not a JSON object, or a field has the wrong JSON type.",
        hint: "Write the config as specified in spec/schema/cncf-config.schema.json.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-006",
        severity: Severity::Error,
        summary: "The config's `architecture` is not \"wasm\", or its `os` is not \"wasip1\" or \"wasip2\".",
        hint: "Set `\"architecture\":\"wasm\"` and `os` to \"wasip1\" for a core module or \"wasip2\" for a component.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-007",
        severity: Severity::Error,
        summary: "The config's `created` is missing or is not an RFC 3339 date-time.",
        hint: "Set `created`, e.g. `1970-01-01T00:00:00Z`.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-008",
        severity: Severity::Error,
        summary: "The config's `layerDigests` is missing or differs from the manifest's layer digests in order.",
        hint: "Set `layerDigests` to the digests of the manifest's layers, in the same order.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-009",
        severity: Severity::Error,
        summary: "The payload is a component but the config has no `component` object.",
        hint: "Add `component` with the component's `imports` and `exports`.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-010",
        severity: Severity::Error,
        summary: "The payload is a component but the config's `os` is \"wasip1\".",
        hint: "Set `os` to \"wasip2\".",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-011",
        severity: Severity::Warning,
        summary: "The payload is a core module but the config says \"wasip2\" or carries a `component` object (as wkg writes for core modules).",
        hint: "Set `os` to \"wasip1\" and drop `component`.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-CNCF-012",
        severity: Severity::Warning,
        summary: "The config's `component.imports` or `component.exports` differ from the top-level names the component declares.",
        hint: "Regenerate the lists from the component's top-level imports and exports.",
        spec: "spec/variant-cncf.md",
    },
    Rule {
        code: "WI-COMPAT-001",
        severity: Severity::Error,
        summary: "The last layer's media type is not the gzip tar type of the manifest's family (`application/vnd.oci.image.layer.v1.tar+gzip` for OCI, `application/vnd.docker.image.rootfs.diff.tar.gzip` for Docker).",
        hint: "Make the last layer a gzip-compressed tar with the media type that matches the manifest.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-002",
        severity: Severity::Error,
        summary: "The last layer is an uncompressed tar (`application/vnd.oci.image.layer.v1.tar`); Istio and Envoy Gateway require gzip.",
        hint: "Compress the layer with gzip and set its type to `application/vnd.oci.image.layer.v1.tar+gzip`.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-003",
        severity: Severity::Error,
        summary: "The last layer is not well-formed gzip (bad header, corrupt deflate data, CRC or length mismatch, or trailing bytes).",
        hint: "Recreate the layer with a working gzip encoder.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-004",
        severity: Severity::Error,
        summary: "The decompressed last layer is not a well-formed tar stream (bad header checksum or truncated entry).",
        hint: "Recreate the layer with a working tar writer.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-005",
        severity: Severity::Error,
        summary: "The last layer has no entry whose base name is `plugin.wasm`.",
        hint: "Add the module to the layer as `plugin.wasm`.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-006",
        severity: Severity::Error,
        summary: "The first entry whose base name is `plugin.wasm` is not a regular file.",
        hint: "Store `plugin.wasm` as a regular file, not a link or directory.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-007",
        severity: Severity::Error,
        summary: "A tar entry has an absolute path or a `..` path component.",
        hint: "Use relative paths without `..`, e.g. `plugin.wasm`.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-008",
        severity: Severity::Error,
        summary: "A tar entry is a symbolic link, hard link, character or block device, or FIFO.",
        hint: "Keep only regular files (and directories) in the layer.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-009",
        severity: Severity::Error,
        summary: "Two tar entries have the same path once a leading `./` is removed.",
        hint: "Write each file once.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-010",
        severity: Severity::Warning,
        summary: "Several entries in different directories have the base name `plugin.wasm`; consumers take the first.",
        hint: "Keep a single `plugin.wasm` in the layer.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-011",
        severity: Severity::Warning,
        summary: "The manifest annotation `module.wasm.image/variant` is present with a value other than \"compat\".",
        hint: "Set it to \"compat\", or drop it.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-012",
        severity: Severity::Error,
        summary: "The payload is a component; proxy-wasm hosts load core modules only.",
        hint: "Use a core module built with a proxy-wasm SDK, or publish the component as a `cncf` image.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-COMPAT-013",
        severity: Severity::Error,
        summary: "The image config's `rootfs.diff_ids` do not list the sha256 of each uncompressed layer, in order.",
        hint: "Set `rootfs.diff_ids` to the sha256 digests of the uncompressed layer tars.",
        spec: "spec/variant-compat.md",
    },
    Rule {
        code: "WI-CONFIG-001",
        severity: Severity::Error,
        summary: "An OCI or Docker image config (`application/vnd.oci.image.config.v1+json`, `application/vnd.docker.container.image.v1+json`) breaks the image spec's config schema: it is not a JSON object, a field has the wrong JSON type (`created`, `architecture`, `os`, `config`, `history`...), `architecture`, `os` or `rootfs` is missing, `rootfs.type` is not \"layers\" or `rootfs.diff_ids` is not an array of digests.",
        hint: "Write the config as the image spec's `config-schema.json` states; `wasm-image build` writes a valid one.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-001",
        severity: Severity::Error,
        summary: "A descriptor lacks `mediaType`, `digest` or `size`, or one of them has the wrong JSON type.",
        hint: "Give every descriptor a string `mediaType`, a string `digest` and an integer `size`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-002",
        severity: Severity::Error,
        summary: "A descriptor's `mediaType` does not match the RFC 6838 pattern of the image-spec v1.1.1 schema.",
        hint: "Use `type/subtype`, each part 1 to 127 characters, starting with a letter or digit.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-003",
        severity: Severity::Error,
        summary: "A descriptor's `size` is negative, not a whole number, or beyond the int64 range.",
        hint: "Set `size` to the exact length of the content in bytes.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-004",
        severity: Severity::Error,
        summary: "A descriptor's `data` is not padded base64 (RFC 4648 section 4).",
        hint: "Encode embedded data with the standard alphabet and `=` padding, or drop `data`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-005",
        severity: Severity::Error,
        summary: "The bytes decoded from a descriptor's `data` differ from the content it references (length or digest).",
        hint: "Regenerate `data` from the blob, or drop the field.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-006",
        severity: Severity::Error,
        summary: "An entry of a descriptor's `urls` is not an absolute URI (RFC 3986).",
        hint: "List absolute URIs only, or drop `urls`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DESC-007",
        severity: Severity::Error,
        summary: "A descriptor's `artifactType` does not match the RFC 6838 pattern.",
        hint: "Use a valid media type, or drop `artifactType`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DIGEST-001",
        severity: Severity::Error,
        summary: "A digest does not follow the grammar `algorithm \":\" encoded`.",
        hint: "Write digests as `<algorithm>:<encoded>`, e.g. `sha256:` followed by 64 lowercase hex digits.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DIGEST-002",
        severity: Severity::Error,
        summary: "A `sha256` or `sha512` digest is not lowercase hex of exactly 64 or 128 characters.",
        hint: "Write the hex part in lowercase with the exact length; `A-F` is forbidden.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DIGEST-003",
        severity: Severity::Warning,
        summary: "A digest uses an algorithm the image spec does not register, so its content cannot be verified.",
        hint: "Use `sha256`, the one algorithm every consumer implements.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-DIGEST-004",
        severity: Severity::Warning,
        summary: "A digest uses `sha512`: valid, but Wasm consumers (Istio, Envoy Gateway, oci-client tools) expect `sha256`.",
        hint: "Use `sha256` for portability.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-001",
        severity: Severity::Error,
        summary: "The image index is not a UTF-8 JSON object, or its `schemaVersion` is not the integer 2.",
        hint: "Store the index as a JSON object with `\"schemaVersion\": 2`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-002",
        severity: Severity::Error,
        summary: "The index's `mediaType` is present but is neither the OCI index type nor the Docker manifest list type.",
        hint: "Set `mediaType` to `application/vnd.oci.image.index.v1+json`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-003",
        severity: Severity::Error,
        summary: "The index's `manifests` is missing or is not an array of descriptors.",
        hint: "Add a `manifests` array; it may be empty.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-004",
        severity: Severity::Error,
        summary: "A `platform` object lacks `architecture` or `os`.",
        hint: "Set both, e.g. `\"architecture\":\"wasm\",\"os\":\"wasip1\"`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-005",
        severity: Severity::Warning,
        summary: "A `platform` object uses the keys `os_version` or `os_features` instead of `os.version` or `os.features`.",
        hint: "Rename the keys to the dotted names of the image spec.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-006",
        severity: Severity::Warning,
        summary: "A nested image index offers no linux/amd64 entry: Istio and Envoy Gateway resolve indexes to linux/amd64 and oci-client tools to the host platform, so they find no image.",
        hint: "Give these consumers the digest of the image manifest itself rather than the index.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-007",
        severity: Severity::Error,
        summary: "Image indexes reference each other in a cycle.",
        hint: "Remove the entry that points back to an enclosing index.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-INDEX-008",
        severity: Severity::Info,
        summary: "An index entry's `mediaType` is neither an image manifest nor an index type: the entry is skipped (the image spec requires unknown types to be ignored), so nothing it points at is validated.",
        hint: "If the entry is an image, set its `mediaType` to `application/vnd.oci.image.manifest.v1+json`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-001",
        severity: Severity::Error,
        summary: "The `oci-layout` file is missing, is not a JSON object, or its `imageLayoutVersion` is not the string \"1.0.0\".",
        hint: "Write `{\"imageLayoutVersion\":\"1.0.0\"}` to `oci-layout` at the root of the layout.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-002",
        severity: Severity::Error,
        summary: "`index.json` is missing at the root of the layout or is not an image index.",
        hint: "Write an image index to `index.json` that lists the manifests of the layout.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-003",
        severity: Severity::Error,
        summary: "The `blobs` directory is missing.",
        hint: "Create `blobs/` at the root of the layout; it may be empty.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-004",
        severity: Severity::Error,
        summary: "A file under `blobs/` is not at a path `blobs/<alg>/<encoded>` whose two parts follow the digest grammar.",
        hint: "Remove the stray file, or store the blob under the path named by its digest.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-005",
        severity: Severity::Error,
        summary: "A blob's content does not hash to the digest that its path names.",
        hint: "Replace the blob with the right content, or store it under the digest of its actual content.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-006",
        severity: Severity::Error,
        summary: "A manifest, index or config blob reachable from `index.json` is missing from the layout.",
        hint: "Copy the missing blob into `blobs/<alg>/<encoded>`; it is needed to check the image.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-007",
        severity: Severity::Warning,
        summary: "A layer blob named by a manifest is missing from the layout, so its payload cannot be checked.",
        hint: "Copy the layer into the layout; the image spec allows absent blobs, but this layout cannot be pushed or loaded as it is.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-008",
        severity: Severity::Error,
        summary: "A path under `blobs/` where a blob is expected is a symbolic link, directory, device or FIFO rather than a regular file.",
        hint: "Replace it with a regular file that holds the blob content.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-009",
        severity: Severity::Error,
        summary: "An OCI archive is not a well-formed tar (a bad header checksum, a member cut short, too many members); only the members before the fault are read.",
        hint: "Write the archive again, e.g. with `tar -cf image.tar -C LAYOUT .`, and check that the copy is complete.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-010",
        severity: Severity::Error,
        summary: "The tag or digest given to select an image names no image of `index.json`.",
        hint: "Name a tag (`org.opencontainers.image.ref.name`) or manifest digest that `index.json` lists, or validate the whole layout.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LAYOUT-011",
        severity: Severity::Error,
        summary: "A blob is present but cannot be read (permissions, an I/O error); nothing about its content can be checked.",
        hint: "Make the file readable by the user running the validator, or replace it with a good copy.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-001",
        severity: Severity::Error,
        summary: "A manifest, index or config document is larger than 4 MiB: one read without a descriptor (`index.json`, a document checked alone), or a stored blob over the bound whose descriptor declares less.",
        hint: "Shrink the document; no Wasm image needs a document this large.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-002",
        severity: Severity::Error,
        summary: "A JSON document nests arrays and objects deeper than 64 levels.",
        hint: "Flatten the document; no valid manifest or config needs this depth.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-003",
        severity: Severity::Error,
        summary: "A tar layer holds more than 10,000 entries.",
        hint: "Put only the files the variant needs (e.g. `plugin.wasm`, `runtime-config.json`) in the layer.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-004",
        severity: Severity::Error,
        summary: "A compressed layer decompresses to more than 512 MiB.",
        hint: "Shrink the layer; no consumer loads a Wasm file that large.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-005",
        severity: Severity::Error,
        summary: "A compressed layer's output exceeds 100 times its input after the first 1 MiB of output (decompression bomb).",
        hint: "Rebuild the layer from its actual content.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-006",
        severity: Severity::Error,
        summary: "A descriptor declares a size over the bound for its kind (4 MiB for documents, 512 MiB for layers), so the content is not read.",
        hint: "Correct the descriptor's `size`, or shrink the content below the bound.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-LIMIT-007",
        severity: Severity::Error,
        summary: "A Wasm section that must be held in memory to be decoded (any non-custom section, or one function body when validating) is larger than 64 MiB.",
        hint: "Split the data over several segments or shrink the module; pass `--max-wasm-section-bytes` to raise the bound for a trusted image.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-001",
        severity: Severity::Error,
        summary: "The manifest is not a JSON object encoded as UTF-8.",
        hint: "Store the manifest as a UTF-8 JSON object.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-002",
        severity: Severity::Error,
        summary: "The manifest's `schemaVersion` is missing or is not the integer 2.",
        hint: "Set `\"schemaVersion\": 2`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-003",
        severity: Severity::Warning,
        summary: "The manifest has no `mediaType` field (the image spec says SHOULD; oci-wasm and wkg require it). Not reported for `spin` images, which Spin never writes it for.",
        hint: "Set `mediaType` to `application/vnd.oci.image.manifest.v1+json`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-004",
        severity: Severity::Error,
        summary: "The manifest's `mediaType` is neither the OCI image manifest type nor the Docker schema 2 manifest type.",
        hint: "Use `application/vnd.oci.image.manifest.v1+json`, or `application/vnd.docker.distribution.manifest.v2+json` for a Docker image.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-005",
        severity: Severity::Error,
        summary: "The `mediaType` of the descriptor that references the manifest differs from the manifest's own `mediaType`.",
        hint: "Make the referencing descriptor carry the manifest's media type.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-006",
        severity: Severity::Error,
        summary: "The manifest's `config` is missing or not a descriptor, or its `layers` is missing or not an array.",
        hint: "Give the manifest a `config` descriptor and a `layers` array of descriptors.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-007",
        severity: Severity::Error,
        summary: "The manifest's `layers` is empty (the image-spec schema sets minItems 1).",
        hint: "Add the payload layer; every Wasm image carries at least one.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-008",
        severity: Severity::Error,
        summary: "`config.mediaType` is the empty type `application/vnd.oci.empty.v1+json` but the manifest has no `artifactType`.",
        hint: "Set `artifactType`, or better for Wasm consumers, use the config media type of a variant of this spec.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-009",
        severity: Severity::Error,
        summary: "The manifest's `artifactType` does not match the RFC 6838 pattern.",
        hint: "Use a valid media type, or drop `artifactType`.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-MANIFEST-010",
        severity: Severity::Error,
        summary: "The manifest's `subject` is not a valid descriptor.",
        hint: "Point `subject` at the referred manifest with its `mediaType`, `digest` and `size`, or drop it.",
        spec: "spec/oci-base.md",
    },
    Rule {
        code: "WI-RUNWASI-001",
        severity: Severity::Error,
        summary: "The image config's `architecture` is not exactly \"wasm\"; runwasi then ignores the Wasm layers.",
        hint: "Set `\"architecture\":\"wasm\"` in the image config.",
        spec: "spec/variant-runwasi.md",
    },
    Rule {
        code: "WI-RUNWASI-002",
        severity: Severity::Error,
        summary: "The image has more than one Wasm layer; runwasi supports a single module per image with OCI layers.",
        hint: "Publish one module per image.",
        spec: "spec/variant-runwasi.md",
    },
    Rule {
        code: "WI-RUNWASI-003",
        severity: Severity::Warning,
        summary: "The image config's `config.Entrypoint` is missing or its first element does not end in `.wasm`.",
        hint: "Set `config.Entrypoint` to `[\"<name>.wasm\"]`.",
        spec: "spec/variant-runwasi.md",
    },
    Rule {
        code: "WI-RUNWASI-004",
        severity: Severity::Info,
        summary: "Wasm layers outside the rootfs need containerd 1.6.25, 1.7.7, 2.0 or later.",
        hint: "Run the image on a recent containerd.",
        spec: "spec/variant-runwasi.md",
    },
    Rule {
        code: "WI-SPIN-001",
        severity: Severity::Error,
        summary: "The image has no locked app: neither the last layer nor the config has type `application/vnd.fermyon.spin.application.v1+config`.",
        hint: "Push the application with `spin registry push`.",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-SPIN-002",
        severity: Severity::Error,
        summary: "The locked app is not a JSON object.",
        hint: "Push the application again with `spin registry push`.",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-SPIN-003",
        severity: Severity::Warning,
        summary: "The config label `com.fermyon.spin.lockedAppDigest` is missing or differs from the digest of the locked-app layer.",
        hint: "Set the label to the digest of the locked-app layer.",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-SPIN-004",
        severity: Severity::Warning,
        summary: "The manifest has more than 500 layers, which some registries (ECR) refuse.",
        hint: "Push with archive layers (`SPIN_OCI_ARCHIVE_LAYERS`).",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-SPIN-005",
        severity: Severity::Info,
        summary: "The config's `os` is not lowercase (e.g. \"Wasip1\"); this project compares it case-insensitively.",
        hint: "None needed; lowercase `wasip1` is the usual value.",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-SPIN-006",
        severity: Severity::Error,
        summary: "The image config's `architecture` is not exactly \"wasm\"; containerd-shim-spin then ignores the Wasm layers.",
        hint: "Set `\"architecture\":\"wasm\"` in the image config.",
        spec: "spec/variant-spin.md",
    },
    Rule {
        code: "WI-VARIANT-001",
        severity: Severity::Warning,
        summary: "The image matches no variant of this spec; no listed consumer is known to load it.",
        hint: "Rebuild the image in one of the variants, e.g. with `wasm-image build`.",
        spec: "spec/detection.md",
    },
    Rule {
        code: "WI-VARIANT-002",
        severity: Severity::Warning,
        summary: "The image carries marks of more than one variant.",
        hint: "Remove the marks of the variant the image does not follow.",
        spec: "spec/detection.md",
    },
    Rule {
        code: "WI-VARIANT-003",
        severity: Severity::Info,
        summary: "The image follows a known layout outside this spec (wasmCloud actor or provider archive, Docker-style Wasm container image), which is not checked further.",
        hint: "None needed; convert the image if a listed consumer must load it.",
        spec: "spec/detection.md",
    },
    Rule {
        code: "WI-VARIANT-004",
        severity: Severity::Error,
        summary: "The image is not in the variant the user asked to check against.",
        hint: "Check against the detected variant, or rebuild the image in the requested one.",
        spec: "spec/detection.md",
    },
    Rule {
        code: "WI-W2O-001",
        severity: Severity::Error,
        summary: "The manifest does not have exactly one layer.",
        hint: "Publish one module per image.",
        spec: "spec/variant-wasm-content-v1.md",
    },
    Rule {
        code: "WI-W2O-002",
        severity: Severity::Error,
        summary: "The layer's media type is not `application/vnd.wasm.content.layer.v1+wasm`.",
        hint: "Set the layer `mediaType` to `application/vnd.wasm.content.layer.v1+wasm`.",
        spec: "spec/variant-wasm-content-v1.md",
    },
    Rule {
        code: "WI-W2O-003",
        severity: Severity::Warning,
        summary: "The config blob is not exactly the two bytes `{}`.",
        hint: "Use the blob `{}` (digest `sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a`, size 2).",
        spec: "spec/variant-wasm-content-v1.md",
    },
    Rule {
        code: "WI-W2O-004",
        severity: Severity::Info,
        summary: "The layer has no `org.opencontainers.image.title` annotation.",
        hint: "Set `org.opencontainers.image.title` on the layer to the module's file name.",
        spec: "spec/variant-wasm-content-v1.md",
    },
    Rule {
        code: "WI-W2O-005",
        severity: Severity::Info,
        summary: "The core module has no `io.kubewarden.metadata` custom section; Kubewarden's kwctl refuses to push such a policy without `--force`.",
        hint: "For a Kubewarden policy, run `kwctl annotate` before pushing; other uses need nothing.",
        spec: "spec/variant-wasm-content-v1.md",
    },
    Rule {
        code: "WI-WASM-001",
        severity: Severity::Error,
        summary: "The Wasm payload is shorter than the 8-byte preamble.",
        hint: "Supply the complete `.wasm` file.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-002",
        severity: Severity::Error,
        summary: "The Wasm payload does not start with the magic bytes `00 61 73 6d` (`\\0asm`).",
        hint: "Supply a binary Wasm module or component; compile WAT text first.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-003",
        severity: Severity::Error,
        summary: "The preamble's version bytes are neither `01 00 00 00` (core module) nor `0d 00 01 00` (component).",
        hint: "Rebuild with a toolchain that emits core module version 1 or component encoding 0x0d, layer 1.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-004",
        severity: Severity::Error,
        summary: "The Wasm payload fails structural validation; the finding gives the byte offset.",
        hint: "Rebuild the module; `wasm-tools validate` shows the cause.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-005",
        severity: Severity::Error,
        summary: "A section's declared length runs past the end of the payload.",
        hint: "The file is truncated or corrupt; supply the complete file.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-006",
        severity: Severity::Error,
        summary: "The payload ends inside a section header, or a section length is not a LEB128 u32 of at most 5 bytes.",
        hint: "The file is truncated or corrupt; supply the complete file.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-007",
        severity: Severity::Warning,
        summary: "The Wasm payload is larger than 256 MiB, the most Istio and Envoy Gateway load.",
        hint: "Shrink the module below 256 MiB (strip debug and name sections, optimise for size).",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-008",
        severity: Severity::Info,
        summary: "The payload is a component; the finding lists its top-level import and export names.",
        hint: "None needed; compare the names with what the target host provides.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASM-009",
        severity: Severity::Error,
        summary: "A payload that must be raw Wasm is gzip- or tar-wrapped.",
        hint: "Store the uncompressed `.wasm` bytes in raw Wasm layers.",
        spec: "spec/wasm-payload.md",
    },
    Rule {
        code: "WI-WASMOCI-001",
        severity: Severity::Error,
        summary: "The manifest does not have exactly two layers; Istio and Envoy Gateway refuse it.",
        hint: "Push the runtime config and the module as the only two layers.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-002",
        severity: Severity::Error,
        summary: "The manifest does not have exactly one layer of type `application/vnd.module.wasm.content.layer.v1+wasm`.",
        hint: "Store the module in one layer of type `application/vnd.module.wasm.content.layer.v1+wasm`.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-003",
        severity: Severity::Warning,
        summary: "No layer has type `application/vnd.module.wasm.config.v1+json`; wasme cannot pull the runtime config.",
        hint: "Add the runtime-config blob as the first layer, with the config's media type.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-004",
        severity: Severity::Warning,
        summary: "The runtime-config layer's digest differs from the config descriptor's digest.",
        hint: "Use the same runtime-config blob for the config and for the first layer.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-005",
        severity: Severity::Error,
        summary: "The runtime config is not a JSON object, lacks the string `type`, or has `abiVersions` or `config.rootIds` of the wrong JSON type.",
        hint: "Write the config as specified in spec/schema/wasm-oci-runtime-config.schema.json.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-006",
        severity: Severity::Warning,
        summary: "The runtime config's `type` is not \"envoy_proxy\".",
        hint: "Set `\"type\":\"envoy_proxy\"`.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-007",
        severity: Severity::Warning,
        summary: "The runtime config uses the spellings `abi_version`, `abiVersion` or `root_ids`, which wasme does not read.",
        hint: "Write `abiVersions` (string array) and `config.rootIds`.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-008",
        severity: Severity::Info,
        summary: "`abiVersions` holds a legacy `v0-<40 hex>` value that names an envoy-wasm commit.",
        hint: "None needed; new images write `v0.1.0`, `v0.2.0` or `v0.2.1`.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-009",
        severity: Severity::Warning,
        summary: "`abiVersions` does not name the ABI version of the marker the module exports.",
        hint: "List the version of the exported `proxy_abi_version_*` marker, e.g. \"v0.2.1\".",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-010",
        severity: Severity::Warning,
        summary: "The manifest annotations `module.wasm.runtime/abi_version` or `module.wasm.runtime/type` are missing or disagree with the runtime config.",
        hint: "Set `module.wasm.runtime/abi_version` to the comma-joined `abiVersions` and `module.wasm.runtime/type` to `type`.",
        spec: "spec/variant-wasm-oci.md",
    },
    Rule {
        code: "WI-WASMOCI-011",
        severity: Severity::Error,
        summary: "The payload is a component; proxy-wasm hosts load core modules only.",
        hint: "Use a core module built with a proxy-wasm SDK, or publish the component as a `cncf` image.",
        spec: "spec/variant-wasm-oci.md",
    },
];

/// Looks a rule up by its code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES
        .binary_search_by(|r| r.code.cmp(code))
        .ok()
        .map(|i| &RULES[i])
}

/// The area of a code: `CNCF` for `WI-CNCF-003`.
pub fn area(code: &str) -> &str {
    let rest = code.strip_prefix("WI-").unwrap_or(code);
    rest.rsplit_once('-').map_or(rest, |(area, _)| area)
}

/// The name of a severity as the tables spell it.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Opening marker of a generated rules table in a spec file (`AREA` e.g. `LAYOUT`).
pub const SPEC_TABLE_BEGIN: &str = "<!-- rules:";
/// Closing marker of a generated rules table.
pub const SPEC_TABLE_END: &str = "<!-- /rules -->";

/// The rules table of one area, as the spec files embed it between
/// `<!-- rules:AREA -->` and `<!-- /rules -->`.
pub fn spec_table(area_name: &str) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("| Code | Severity | Rule | Fix |\n|---|---|---|---|\n");
    for r in RULES.iter().filter(|r| area(r.code) == area_name) {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.code,
            severity_name(r.severity),
            cell(r.summary),
            cell(r.hint)
        ));
    }
    out
}

/// A spec document with every rules table regenerated from [`RULES`], and
/// the areas whose tables it holds. Fails on a marker without its end.
pub fn sync_spec_tables(text: &str) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(text.len());
    let mut areas = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(SPEC_TABLE_BEGIN) {
        let after = &rest[start + SPEC_TABLE_BEGIN.len()..];
        let Some(close) = after.find("-->") else {
            return Err("a rules marker is not closed by -->".into());
        };
        let area_name = after[..close].trim().to_owned();
        let body = &after[close + 3..];
        let Some(end) = body.find(SPEC_TABLE_END) else {
            return Err(format!(
                "the rules table of {area_name} has no {SPEC_TABLE_END}"
            ));
        };
        out.push_str(&rest[..start]);
        out.push_str(SPEC_TABLE_BEGIN);
        out.push_str(&after[..close + 3]);
        out.push('\n');
        out.push_str(&spec_table(&area_name));
        rest = &body[end..];
        areas.push(area_name);
    }
    out.push_str(rest);
    Ok((out, areas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// True when `s` has the shape `WI-[A-Z0-9]+-[0-9]{3}`.
    fn is_code(s: &str) -> bool {
        let Some(rest) = s.strip_prefix("WI-") else {
            return false;
        };
        let Some((area, num)) = rest.rsplit_once('-') else {
            return false;
        };
        !area.is_empty()
            && area
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && num.len() == 3
            && num.bytes().all(|b| b.is_ascii_digit())
    }

    /// Every `WI-<AREA>-<NNN>` code mentioned in `text`.
    fn codes_in(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while let Some(pos) = text[i..].find("WI-") {
            let start = i + pos;
            // Must not be the tail of a longer word.
            let boundary =
                start == 0 || !(b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'-');
            let mut j = start + 3;
            while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit()) {
                j += 1;
            }
            if boundary && j > start + 3 && j < b.len() && b[j] == b'-' {
                let mut k = j + 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                let followed = k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_');
                if k - (j + 1) == 3 && !followed {
                    found.push(text[start..k].to_string());
                }
            }
            i = start + 3;
        }
        found
    }

    fn read(rel: &str) -> String {
        let path = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    }

    #[test]
    fn codes_are_unique_and_sorted() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} must sort before {}",
                pair[0].code,
                pair[1].code
            );
        }
        let set: BTreeSet<_> = RULES.iter().map(|r| r.code).collect();
        assert_eq!(set.len(), RULES.len());
    }

    #[test]
    fn codes_have_the_right_shape() {
        for r in RULES {
            assert!(is_code(r.code), "bad code {}", r.code);
            assert!(
                !r.summary.is_empty() && !r.hint.is_empty(),
                "{} needs text",
                r.code
            );
            assert!(
                r.spec.starts_with("spec/") && r.spec.ends_with(".md"),
                "{}",
                r.code
            );
        }
        assert!(!is_code("WI-cncf-001"));
        assert!(!is_code("WI-CNCF-01"));
        assert!(!is_code("WI--001"));
    }

    #[test]
    fn lookup_finds_every_rule() {
        for r in RULES {
            assert_eq!(rule(r.code), Some(r));
        }
        assert_eq!(rule("WI-NOPE-000"), None);
    }

    #[test]
    fn every_code_appears_in_its_spec_file() {
        for r in RULES {
            let text = read(r.spec);
            assert!(
                codes_in(&text).iter().any(|c| c == r.code),
                "{} is not stated in {}",
                r.code,
                r.spec
            );
        }
    }

    #[test]
    fn every_code_in_spec_is_catalogued() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/spec");
        let mut docs = 0;
        for entry in std::fs::read_dir(dir).expect("spec/ exists") {
            let path = entry.expect("readable entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            docs += 1;
            let text = std::fs::read_to_string(&path).expect("readable spec file");
            for code in codes_in(&text) {
                assert!(
                    rule(&code).is_some(),
                    "{} names unknown rule {code}",
                    path.display()
                );
            }
        }
        assert!(docs > 0, "no spec documents found");
    }

    #[test]
    fn code_scanner_works() {
        assert_eq!(
            codes_in("see WI-CNCF-003, and WI-A1-010."),
            ["WI-CNCF-003", "WI-A1-010"]
        );
        assert!(codes_in("WI-<AREA>-<NNN> and WI-CNCF-0001 and XWI-CNCF-001").is_empty());
    }
}
