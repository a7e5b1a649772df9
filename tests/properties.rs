//! Property tests (proptest), bounded so the file adds a few seconds to CI:
//! - build → validate is clean for random metadata (annotations, creation
//!   times, tags, titles, authors, runtime configs) and random modules (core
//!   modules with random exports and proxy-wasm ABI markers, components);
//! - one flipped byte in any blob, or a changed descriptor field (digest,
//!   size, mediaType), is reported by the validator;
//! - a signature (cosign simple signing or Sigstore bundle, Ed25519 and
//!   ECDSA P-256) never verifies after a one-byte change to the image
//!   manifest, the signed payload or the signature.
//!
//! Failures are not persisted to files; proptest prints the minimal case.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use time::OffsetDateTime;
use wasm_image::build::ImageBuilder;
use wasm_image::digest::Digest;
use wasm_image::sign::bundle;
use wasm_image::sign::cosign::SIGNATURE_ANNOTATION;
use wasm_image::sign::key::{KeyAlgorithm, PrivateKey};
use wasm_image::sign::payload::SimpleSigning;
use wasm_image::sign::verify::{self, Candidate, Constraint, DigestMatches, SignedByKey};
use wasm_image::store::Layout;
use wasm_image::validate::{Options, Report, Severity, validate_path};
use wasm_image::variant::Variant;
use wasm_image::wasm::ProxyAbi;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(dir: &Path) -> Report {
    validate_path(dir, None, &Options::default()).expect("a layout directory")
}

fn problems(report: &Report) -> Vec<String> {
    report
        .findings()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| format!("{} {}: {}", f.code, f.location, f.message))
        .collect()
}

fn codes(report: &Report) -> BTreeSet<&'static str> {
    report.findings().map(|f| f.code).collect()
}

// ---------------------------------------------------------------------------
// Random modules and metadata.

/// A module to generate: a core module (exports, at most one proxy-wasm
/// marker, maybe a memory) or a component (kebab-case function exports).
#[derive(Debug, Clone)]
struct ModuleSpec {
    component: bool,
    exports: BTreeSet<String>,
    marker: Option<ProxyAbi>,
    memory: bool,
}

impl ModuleSpec {
    fn wat(&self) -> String {
        let mut out = String::new();
        if self.component {
            out.push_str(
                "(component\n  (core module $m (func (export \"f\")))\n  (core instance $i (instantiate $m))\n  (type $t (func))\n  (func $f (type $t) (canon lift (core func $i \"f\")))\n",
            );
            for name in &self.exports {
                out.push_str(&format!("  (export \"{name}\" (func $f))\n"));
            }
        } else {
            out.push_str("(module\n  (func $f)\n");
            let names = self
                .exports
                .iter()
                .map(String::as_str)
                .chain(self.marker.map(ProxyAbi::marker));
            for name in names {
                out.push_str(&format!("  (export \"{name}\" (func $f))\n"));
            }
            if self.memory {
                out.push_str("  (memory (export \"memory\") 1)\n");
            }
        }
        out.push(')');
        out
    }

    /// The variants this module is a clean image of.
    fn variants(&self) -> Vec<Variant> {
        if self.component {
            vec![Variant::Cncf]
        } else if self.marker.is_some() {
            Variant::BUILDABLE.to_vec()
        } else {
            vec![Variant::Cncf, Variant::WasmContentV1]
        }
    }
}

fn module_spec() -> impl Strategy<Value = ModuleSpec> {
    let core = (
        proptest::collection::btree_set("[a-zA-Z_][a-zA-Z0-9_.]{0,12}", 0..6),
        proptest::option::of(proptest::sample::select(ProxyAbi::ALL.to_vec())),
        any::<bool>(),
    )
        .prop_map(|(exports, marker, memory)| ModuleSpec {
            component: false,
            exports: exports
                .into_iter()
                .filter(|n| n != "memory" && !n.starts_with("proxy_"))
                .collect(),
            marker,
            memory,
        });
    let component =
        proptest::collection::btree_set("[a-z][a-z0-9]{0,5}(-[a-z][a-z0-9]{0,5}){0,2}", 0..4)
            .prop_map(|exports| ModuleSpec {
                component: true,
                exports,
                marker: None,
                memory: false,
            });
    prop_oneof![3 => core, 1 => component]
}

#[derive(Debug, Clone)]
struct Meta {
    created: OffsetDateTime,
    annotations: BTreeMap<String, String>,
    tag: String,
    title: Option<String>,
    author: Option<String>,
    root_ids: Option<Vec<String>>,
}

fn meta() -> impl Strategy<Value = Meta> {
    (
        // 0001-01-01 is out of RFC 3339's four-digit years; keep 1970..9999.
        (0i64..253_402_300_799, 0u32..1_000_000_000),
        proptest::collection::btree_map("x[a-z]{0,7}\\.[a-z]{1,8}", "\\PC{0,24}", 0..4),
        // Tags that are both Docker tags and OCI ref names (a bare `_` is
        // the first only; see the report of issue 6).
        "[A-Za-z0-9]{1,8}([._-][A-Za-z0-9]{1,8}){0,3}",
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9._-]{0,24}\\.wasm"),
        proptest::option::of("\\PC{1,24}"),
        proptest::option::of(proptest::collection::vec("[a-z_]{1,16}", 1..3)),
    )
        .prop_map(
            |((secs, nanos), annotations, tag, title, author, root_ids)| {
                let created = OffsetDateTime::from_unix_timestamp(secs)
                    .expect("in range")
                    .replace_nanosecond(nanos)
                    .expect("in range");
                Meta {
                    created,
                    annotations,
                    tag,
                    title,
                    author,
                    root_ids,
                }
            },
        )
}

/// Builds `spec` as `variant` with what of `meta` the variant can carry.
fn build(dir: &Path, spec: &ModuleSpec, variant: Variant, meta: &Meta) -> PathBuf {
    let module = dir.join("module.wasm");
    fs::write(
        &module,
        wat::parse_str(spec.wat()).expect("generated WAT parses"),
    )
    .expect("write");
    let out = dir.join("layout");
    let _ = fs::remove_dir_all(&out);
    let mut builder = ImageBuilder::new(&module)
        .variant(variant)
        .created(meta.created);
    if variant != Variant::CompatDocker {
        for (k, v) in &meta.annotations {
            builder = builder.annotation(k, v);
        }
    }
    if let Some(title) = &meta.title {
        builder = builder.title(title);
    }
    if variant == Variant::Cncf
        && let Some(author) = &meta.author
    {
        builder = builder.author(author);
    }
    if matches!(
        variant,
        Variant::WasmOci | Variant::CompatOci | Variant::CompatDocker
    ) && let (Some(ids), Some(marker)) = (&meta.root_ids, spec.marker)
    {
        let config = serde_json::json!({
            "type": "envoy_proxy",
            "abiVersions": [marker.version()],
            "config": {"rootIds": ids},
        });
        builder = builder.runtime_config(serde_json::to_vec(&config).expect("JSON"));
    }
    let mut layout = Layout::open_or_create(&out).expect("layout");
    builder
        .build(&mut layout, Some(&meta.tag))
        .unwrap_or_else(|e| panic!("build as {variant}: {e}\n{}", spec.wat()));
    out
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn build_then_validate_is_clean(
        spec in module_spec(),
        meta in meta(),
        pick in any::<proptest::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let variants = spec.variants();
        let variant = variants[pick.index(variants.len())];
        let layout = build(dir.path(), &spec, variant, &meta);
        let report = validate(&layout);
        prop_assert!(report.valid(), "{variant}: {:#?}", problems(&report));
        prop_assert!(problems(&report).is_empty(), "{variant}: {:#?}", problems(&report));
        match &report {
            Report::Image(image) => {
                prop_assert_eq!(image.variant, variant);
                prop_assert_eq!(image.tag.as_deref(), Some(meta.tag.as_str()));
            }
            Report::Layout(l) => prop_assert!(false, "one image expected: {l:#?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Corruption: one byte of a blob, or one descriptor field.

/// One image of each buildable variant (and a component), built once.
fn images() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static IMAGES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let modules = root().join("testdata/modules");
        let mut out = Vec::new();
        let mut add = |module: &str, variant: Variant| {
            let path = dir.path().join(format!("{}-{module}", variant.id()));
            let mut layout = Layout::open_or_create(&path).expect("layout");
            let mut builder = ImageBuilder::new(modules.join(module)).variant(variant);
            if variant != Variant::CompatDocker {
                builder = builder.annotation("org.example.note", "x");
            }
            builder.build(&mut layout, Some("v1")).expect("build");
            out.push(path);
        };
        for variant in Variant::BUILDABLE {
            add("proxy-filter.wasm", variant);
        }
        add("adder.component.wasm", Variant::Cncf);
        (dir, out)
    })
}

fn blob_files(layout: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(layout.join("blobs/sha256"))
        .expect("blobs")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Each test works on its own copy of the images (tests run in parallel).
fn copy_images(to: &Path) -> Vec<PathBuf> {
    images()
        .1
        .iter()
        .map(|src| {
            let dst = to.join(src.file_name().expect("name"));
            copy_dir(src, &dst);
            dst
        })
        .collect()
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    for entry in fs::read_dir(src).expect("read dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), to).expect("copy");
        }
    }
}

#[test]
fn the_images_corrupted_below_are_valid() {
    for layout in &images().1 {
        let report = validate(layout);
        assert!(
            report.valid(),
            "{}: {:#?}",
            layout.display(),
            problems(&report)
        );
    }
}

fn corrupted_images() -> &'static Vec<PathBuf> {
    images();
    static COPIES: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    &COPIES
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let copies = copy_images(dir.path());
            (dir, copies)
        })
        .1
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn one_flipped_byte_in_any_blob_is_reported(
        image in any::<proptest::sample::Index>(),
        blob in any::<proptest::sample::Index>(),
        at in any::<proptest::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let layouts = corrupted_images();
        let layout = &layouts[image.index(layouts.len())];
        let files = blob_files(layout);
        let file = &files[blob.index(files.len())];
        let original = fs::read(file).expect("read");
        let mut bytes = original.clone();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        fs::write(file, &bytes).expect("write");
        let report = validate(layout);
        fs::write(file, &original).expect("restore");
        prop_assert!(!report.valid(), "byte {i} of {} flipped, still valid", file.display());
        prop_assert!(codes(&report).contains("WI-BLOB-002"), "{:#?}", problems(&report));
    }
}

/// A descriptor of an image and one change to one of its fields.
#[derive(Debug, Clone)]
enum Field {
    Digest(Vec<u8>),
    Size(i64),
    MediaType(String),
}

fn field() -> impl Strategy<Value = Field> {
    let media_types = proptest::sample::select(vec![
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.wasm.config.v0+json",
        "application/vnd.wasm.content.layer.v1+wasm",
        "application/vnd.wasm.config.v1+json",
        "application/vnd.module.wasm.config.v1+json",
        "application/vnd.module.wasm.content.layer.v1+wasm",
        "application/wasm",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/octet-stream",
    ]);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Field::Digest),
        prop_oneof![
            (-64i64..=64).prop_filter("a change", |d| *d != 0),
            Just(i64::MAX),
            (1i64 << 20..1i64 << 40),
        ]
        .prop_map(Field::Size),
        prop_oneof![
            media_types.prop_map(str::to_owned),
            "[a-z]{1,10}/[a-z.+-]{1,24}",
        ]
        .prop_map(Field::MediaType),
    ]
}

/// Which descriptor was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    Nothing,
    IndexEntry,
    Config,
    Layer,
}

/// Applies `field` to the descriptor `which` (0: the index entry of the
/// manifest, 1: the config, 2..: the layers), rewriting the manifest and the
/// index as needed.
fn change_descriptor(layout: &Path, which: usize, field: &Field) -> Changed {
    let index_path = layout.join("index.json");
    let mut index: Value =
        serde_json::from_slice(&fs::read(&index_path).expect("index")).expect("JSON");
    let entry = &index["manifests"][0];
    let manifest_digest = entry["digest"].as_str().expect("digest").to_owned();
    let manifest_path = layout.join(format!("blobs/sha256/{}", &manifest_digest[7..]));
    let mut manifest: Value =
        serde_json::from_slice(&fs::read(&manifest_path).expect("manifest")).expect("JSON");
    let layers = manifest["layers"].as_array().expect("layers").len();
    let target = match which % (2 + layers) {
        0 => &mut index["manifests"][0],
        1 => &mut manifest["config"],
        n => &mut manifest["layers"][n - 2],
    };
    let before = target.clone();
    match field {
        Field::Digest(salt) => {
            let old = target["digest"].as_str().expect("digest").to_owned();
            let mut seed = old.clone().into_bytes();
            seed.extend_from_slice(salt);
            target["digest"] = Value::String(Digest::sha256_of(&seed).to_string());
        }
        Field::Size(delta) => {
            let old = target["size"].as_i64().expect("size");
            let new = if *delta == i64::MAX {
                i64::MAX
            } else {
                (old + delta).max(0)
            };
            target["size"] = Value::from(new);
        }
        Field::MediaType(m) => target["mediaType"] = Value::String(m.clone()),
    }
    if *target == before {
        return Changed::Nothing;
    }
    let changed = match which % (2 + layers) {
        0 => Changed::IndexEntry,
        1 => Changed::Config,
        _ => Changed::Layer,
    };
    if changed != Changed::IndexEntry {
        let bytes = serde_json::to_vec(&manifest).expect("JSON");
        let digest = Digest::sha256_of(&bytes);
        fs::write(layout.join(digest.layout_path()), &bytes).expect("write manifest");
        index["manifests"][0]["digest"] = Value::String(digest.to_string());
        index["manifests"][0]["size"] = Value::from(bytes.len());
    }
    fs::write(&index_path, serde_json::to_vec(&index).expect("JSON")).expect("write index");
    changed
}

fn is_manifest_type(m: &str) -> bool {
    m == "application/vnd.oci.image.manifest.v1+json"
        || m == "application/vnd.docker.distribution.manifest.v2+json"
        || m == "application/vnd.oci.image.index.v1+json"
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_changed_descriptor_field_is_reported(
        image in any::<proptest::sample::Index>(),
        which in 0usize..8,
        field in field(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = &images().1;
        let source = &source[image.index(source.len())];
        let layout = dir.path().join("image");
        copy_dir(source, &layout);
        let changed = change_descriptor(&layout, which, &field);
        prop_assume!(changed != Changed::Nothing);
        let name = source.file_name().expect("name").to_string_lossy().into_owned();
        // Known gap, reported in issue 6: the compat variants do not check
        // the config descriptor's mediaType (any type is accepted).
        if let Field::MediaType(_) = field {
            prop_assume!(!(changed == Changed::Config && name.starts_with("compat-")));
        }
        // A missing blob is a warning (the image spec allows absent blobs):
        // reported means invalid under --strict.
        let strict = Options { strict: true, ..Options::default() };
        let report = validate_path(&layout, None, &strict).expect("a layout");
        if let Field::Digest(_) = field {
            // The blob the descriptor now names is missing: the manifest (an
            // error) or another blob (a warning).
            let found = codes(&report);
            prop_assert!(
                found.contains("WI-LAYOUT-006") || found.contains("WI-LAYOUT-007"),
                "{:#?}",
                problems(&report)
            );
        }
        if let (Changed::IndexEntry, Field::MediaType(m)) = (changed, &field)
            && !is_manifest_type(m)
        {
            // An index entry of another type is skipped, as the image-layout
            // spec requires: the image is gone from the report.
            let images = match &report {
                Report::Image(_) => 1,
                Report::Layout(l) => l.images.len(),
            };
            prop_assert_eq!(images, 0, "{:#?}", problems(&report));
            return Ok(());
        }
        prop_assert!(
            !report.valid(),
            "{} with {field:?} on descriptor {which} is still valid: {:#?}",
            source.display(),
            report.findings().collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------
// Signatures.

fn keys() -> &'static [PrivateKey; 2] {
    static KEYS: OnceLock<[PrivateKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            PrivateKey::generate(KeyAlgorithm::Ed25519).expect("Ed25519 key"),
            PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("P-256 key"),
        ]
    })
}

/// The manifest of a real image, the thing a signature is about.
fn manifest_bytes() -> &'static Vec<u8> {
    static MANIFEST: OnceLock<Vec<u8>> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let layout = &images().1[0];
        let index: Value =
            serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index"))
                .expect("JSON");
        let digest = Digest::parse(index["manifests"][0]["digest"].as_str().expect("digest"))
            .expect("digest");
        fs::read(layout.join(digest.layout_path())).expect("manifest")
    })
}

/// What is changed by one byte.
#[derive(Debug, Clone, Copy)]
enum Part {
    Manifest,
    Payload,
    Signature,
    SignatureText,
}

/// Whether a signature over `manifest` verifies with the constraints the
/// verifier applies to key-based signatures (digest, then key).
fn verifies(key: &PrivateKey, candidate: Result<Candidate, String>) -> bool {
    let public = key.public_key().expect("public key");
    let by_key = SignedByKey(public);
    candidate.is_ok_and(|c| {
        verify::check_constraints(&c, &[&DigestMatches as &dyn Constraint, &by_key]).is_ok()
    })
}

fn flip(bytes: &mut [u8], at: proptest::sample::Index, xor: u8) {
    if !bytes.is_empty() {
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
    }
}

/// A cosign simple-signing signature over the manifest, with one part changed.
fn simple_signing(key: &PrivateKey, part: Option<(Part, proptest::sample::Index, u8)>) -> bool {
    let mut manifest = manifest_bytes().clone();
    let signed = Digest::sha256_of(&manifest);
    let mut payload = SimpleSigning::new("registry.example/team/filter", &signed)
        .with_annotations([("env", "prod")])
        .to_bytes();
    let mut signature = key.sign(&payload).expect("sign");
    let mut text = None;
    match part {
        None => {}
        Some((Part::Manifest, at, xor)) => flip(&mut manifest, at, xor),
        Some((Part::Payload, at, xor)) => flip(&mut payload, at, xor),
        Some((Part::Signature, at, xor)) => flip(&mut signature, at, xor),
        Some((Part::SignatureText, at, xor)) => {
            let mut t = STANDARD.encode(&signature).into_bytes();
            flip(&mut t, at, xor);
            text = Some(String::from_utf8_lossy(&t).into_owned());
        }
    }
    let image = Digest::sha256_of(&manifest);
    let mut annotations = BTreeMap::new();
    annotations.insert(
        SIGNATURE_ANNOTATION.to_owned(),
        text.unwrap_or_else(|| STANDARD.encode(&signature)),
    );
    verifies(
        key,
        verify::simple_signing_candidate(&image, &payload, &annotations),
    )
}

/// A Sigstore bundle over the manifest, with one part changed.
fn sigstore_bundle(key: &PrivateKey, part: Option<(Part, proptest::sample::Index, u8)>) -> bool {
    let mut manifest = manifest_bytes().clone();
    let signed = Digest::sha256_of(&manifest);
    let bundle_bytes =
        bundle::make_bundle(key, &signed, &[("env".into(), "prod".into())]).expect("bundle");
    let mut document: Value = serde_json::from_slice(&bundle_bytes).expect("JSON");
    let envelope = &mut document["dsseEnvelope"];
    let decode = |v: &Value| {
        STANDARD
            .decode(v.as_str().expect("base64 string"))
            .expect("base64")
    };
    let mut payload = decode(&envelope["payload"]);
    let mut signature = decode(&envelope["signatures"][0]["sig"]);
    let mut text = None;
    match part {
        None => {}
        Some((Part::Manifest, at, xor)) => flip(&mut manifest, at, xor),
        Some((Part::Payload, at, xor)) => flip(&mut payload, at, xor),
        Some((Part::Signature, at, xor)) => flip(&mut signature, at, xor),
        Some((Part::SignatureText, at, xor)) => {
            let mut t = STANDARD.encode(&signature).into_bytes();
            flip(&mut t, at, xor);
            text = Some(String::from_utf8_lossy(&t).into_owned());
        }
    }
    envelope["payload"] = Value::String(STANDARD.encode(&payload));
    envelope["signatures"][0]["sig"] =
        Value::String(text.unwrap_or_else(|| STANDARD.encode(&signature)));
    let image = Digest::sha256_of(&manifest);
    let bytes = serde_json::to_vec(&document).expect("JSON");
    verifies(key, verify::bundle_candidate(&image, &bytes))
}

#[test]
fn unchanged_signatures_verify() {
    for key in keys() {
        assert!(simple_signing(key, None), "{}", key.algorithm());
        assert!(sigstore_bundle(key, None), "{}", key.algorithm());
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn a_signature_never_verifies_after_a_one_byte_change(
        key in 0usize..2,
        bundle in any::<bool>(),
        part in proptest::sample::select(vec![Part::Manifest, Part::Payload, Part::Signature, Part::SignatureText]),
        at in any::<proptest::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let key = &keys()[key];
        let change = Some((part, at, xor));
        let verified = if bundle {
            sigstore_bundle(key, change)
        } else {
            simple_signing(key, change)
        };
        prop_assert!(!verified, "{} {} verified after a change to the {part:?}", key.algorithm(), if bundle { "bundle" } else { "simple signing" });
    }
}
