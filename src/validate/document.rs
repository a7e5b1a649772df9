//! Document-level checks: descriptors, digests, annotations, manifests,
//! indexes, the layout header and the OCI image config, on JSON values read
//! leniently, so one bad field gives its finding and the rest is still checked.

use base64::Engine as _;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::finding::{Sink, show, show_json};
use crate::digest::{Algorithm, Digest, DigestError};
use crate::json::{self, JsonError};
use crate::limits::Limits;
use crate::media_type as mt;

/// The OCI empty config type.
const OCI_EMPTY: &str = mt::OCI_EMPTY;

/// The annotation keys the image spec defines under `org.opencontainers.image.`.
const DEFINED_ANNOTATIONS: &[&str] = &[
    "created",
    "authors",
    "url",
    "documentation",
    "source",
    "version",
    "revision",
    "vendor",
    "licenses",
    "ref.name",
    "title",
    "description",
    "base.digest",
    "base.name",
];

/// The parts of a descriptor that passed their checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Desc {
    pub(crate) media_type: Option<String>,
    pub(crate) digest: Option<Digest>,
    pub(crate) size: Option<u64>,
    pub(crate) annotations: Map<String, Value>,
}

impl Desc {
    pub(crate) fn title(&self) -> Option<&str> {
        self.annotations
            .get("org.opencontainers.image.title")
            .and_then(Value::as_str)
    }
}

/// Parses a JSON document after the size and depth bounds. Failures are
/// reported with `shape_code` (the "not a JSON object" rule of the kind).
pub(crate) fn parse_json(
    bytes: &[u8],
    max_bytes: u64,
    limits: &Limits,
    location: &str,
    shape_code: &'static str,
    what: &str,
    sink: &mut Sink,
) -> Option<Value> {
    if bytes.len() as u64 > max_bytes {
        let code = if shape_code == "WI-LAYOUT-001" {
            shape_code
        } else {
            "WI-LIMIT-001"
        };
        sink.add(
            code,
            location,
            format!(
                "{what} is {} bytes, over the limit of {max_bytes} bytes",
                bytes.len()
            ),
        );
        return None;
    }
    if let Err(JsonError::TooDeep { limit, offset }) =
        json::check_depth(bytes, limits.max_json_depth)
    {
        sink.add(
            "WI-LIMIT-002",
            location,
            format!(
                "{what} nests arrays and objects deeper than {limit} levels (at byte {offset})"
            ),
        );
        return None;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Some(Value::Object(map)),
        Ok(other) => {
            sink.add(
                shape_code,
                location,
                format!("{what} is a JSON {}, not an object", json_type(&other)),
            );
            None
        }
        Err(e) => {
            sink.add(
                shape_code,
                location,
                format!("{what} is not valid UTF-8 JSON: {e}"),
            );
            None
        }
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks a digest string; returns it when it follows the grammar.
pub(crate) fn check_digest(text: &str, location: &str, sink: &mut Sink) -> Option<Digest> {
    match Digest::parse(text) {
        Ok(d) => {
            match d.algorithm() {
                None => sink.add(
                    "WI-DIGEST-003",
                    location,
                    format!(
                        "digest {} uses the algorithm {:?}, which the image spec does not register; the content cannot be verified",
                        show(text),
                        d.algorithm_name()
                    ),
                ),
                Some(Algorithm::Sha512) => sink.add(
                    "WI-DIGEST-004",
                    location,
                    format!("digest {} uses sha512; Wasm consumers expect sha256", show(text)),
                ),
                Some(Algorithm::Sha256) => {}
            }
            Some(d)
        }
        Err(e @ DigestError::BadHex { .. }) => {
            sink.add(
                "WI-DIGEST-002",
                location,
                format!("digest {}: {e}", show(text)),
            );
            None
        }
        Err(e) => {
            sink.add(
                "WI-DIGEST-001",
                location,
                format!("digest {}: {e}", show(text)),
            );
            None
        }
    }
}

/// Whether `text` is an absolute URI (RFC 3986 `scheme ":" hier-part …`),
/// with only characters a URI may hold and well-formed percent escapes.
pub(crate) fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    if !sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'['
                    | b']'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `text` follows the `org.opencontainers.image.ref.name` grammar.
pub(crate) fn is_ref_name(text: &str) -> bool {
    fn component(c: &str) -> bool {
        let b = c.as_bytes();
        if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric()
        {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // A separator: one of [-._:@+] or "--", followed by an alphanumeric.
            let len = if b[i] == b'-' && b.get(i + 1) == Some(&b'-') {
                2
            } else {
                1
            };
            if len == 1 && !matches!(b[i], b'-' | b'.' | b'_' | b':' | b'@' | b'+') {
                return false;
            }
            i += len;
            if !b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                return false;
            }
        }
        true
    }
    !text.is_empty() && text.split('/').all(component)
}

/// Whether `text` is an RFC 3339 date-time.
pub(crate) fn is_rfc3339(text: &str) -> bool {
    OffsetDateTime::parse(text, &Rfc3339).is_ok()
}

/// Checks an `annotations` value.
pub(crate) fn check_annotations(
    value: &Value,
    location: &str,
    sink: &mut Sink,
) -> Map<String, Value> {
    let Value::Object(map) = value else {
        sink.add(
            "WI-ANNOT-001",
            location,
            format!(
                "annotations is a JSON {}, not an object of strings",
                json_type(value)
            ),
        );
        return Map::new();
    };
    for (key, v) in map {
        let at = format!("{location}.{key}");
        let Some(text) = v.as_str() else {
            sink.add(
                "WI-ANNOT-001",
                &at,
                format!(
                    "annotation {} has the {} value {}, not a string",
                    show(key),
                    json_type(v),
                    show_json(v)
                ),
            );
            continue;
        };
        if let Some(name) = key.strip_prefix("org.opencontainers.image.") {
            if !DEFINED_ANNOTATIONS.contains(&name) {
                sink.add(
                    "WI-ANNOT-004",
                    &at,
                    format!("annotation key {} uses the reserved prefix but is not defined by the image spec", show(key)),
                );
            }
        } else if key.starts_with("org.opencontainers.") {
            sink.add(
                "WI-ANNOT-004",
                &at,
                format!(
                    "annotation key {} uses the reserved prefix org.opencontainers.",
                    show(key)
                ),
            );
        }
        match key.as_str() {
            "org.opencontainers.image.ref.name" if !is_ref_name(text) => sink.add(
                "WI-ANNOT-002",
                &at,
                format!("ref name {} does not follow the ref grammar", show(text)),
            ),
            "org.opencontainers.image.created" if !is_rfc3339(text) => sink.add(
                "WI-ANNOT-003",
                &at,
                format!("created {} is not an RFC 3339 date-time", show(text)),
            ),
            "org.opencontainers.image.title"
                if text.is_empty()
                    || text.starts_with('/')
                    || text.contains('/')
                    || text.contains('\\')
                    || text == "."
                    || text == ".." =>
            {
                sink.add(
                    "WI-ANNOT-005",
                    &at,
                    format!("title {} is not a plain file name", show(text)),
                )
            }
            _ => {}
        }
    }
    map.clone()
}

/// Checks a descriptor at `location` (a JSON path).
pub(crate) fn check_descriptor(value: &Value, location: &str, sink: &mut Sink) -> Desc {
    let mut desc = Desc::default();
    let Value::Object(obj) = value else {
        sink.add(
            "WI-DESC-001",
            location,
            format!(
                "descriptor is a JSON {} {}, not an object",
                json_type(value),
                show_json(value)
            ),
        );
        return desc;
    };
    match obj.get("mediaType") {
        None => sink.add("WI-DESC-001", location, "descriptor has no mediaType"),
        Some(Value::String(m)) => {
            if mt::is_valid(m) {
                desc.media_type = Some(m.clone());
            } else {
                sink.add(
                    "WI-DESC-002",
                    format!("{location}.mediaType"),
                    format!("media type {} does not match the RFC 6838 pattern", show(m)),
                );
            }
        }
        Some(other) => sink.add(
            "WI-DESC-001",
            format!("{location}.mediaType"),
            format!("mediaType is a JSON {}, not a string", json_type(other)),
        ),
    }
    match obj.get("digest") {
        None => sink.add("WI-DESC-001", location, "descriptor has no digest"),
        Some(Value::String(d)) => {
            desc.digest = check_digest(d, &format!("{location}.digest"), sink)
        }
        Some(other) => sink.add(
            "WI-DESC-001",
            format!("{location}.digest"),
            format!("digest is a JSON {}, not a string", json_type(other)),
        ),
    }
    match obj.get("size") {
        None => sink.add("WI-DESC-001", location, "descriptor has no size"),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) if s <= i64::MAX as u64 => desc.size = Some(s),
            _ => sink.add(
                "WI-DESC-003",
                format!("{location}.size"),
                format!("size {n} is not a non-negative int64"),
            ),
        },
        Some(other) => sink.add(
            "WI-DESC-001",
            format!("{location}.size"),
            format!(
                "size is a JSON {} {}, not an integer",
                json_type(other),
                show_json(other)
            ),
        ),
    }
    if let Some(urls) = obj.get("urls") {
        match urls {
            Value::Array(items) => {
                for (i, u) in items.iter().enumerate() {
                    let ok = u.as_str().is_some_and(is_absolute_uri);
                    if !ok {
                        sink.add(
                            "WI-DESC-006",
                            format!("{location}.urls[{i}]"),
                            format!("url {} is not an absolute URI", show_json(u)),
                        );
                    }
                }
            }
            other => sink.add(
                "WI-DESC-006",
                format!("{location}.urls"),
                format!("urls is a JSON {}, not an array of URIs", json_type(other)),
            ),
        }
    }
    if let Some(a) = obj.get("annotations") {
        desc.annotations = check_annotations(a, &format!("{location}.annotations"), sink);
    }
    if let Some(a) = obj.get("artifactType")
        && !a.as_str().is_some_and(mt::is_valid)
    {
        sink.add(
            "WI-DESC-007",
            format!("{location}.artifactType"),
            format!(
                "artifactType {} does not match the RFC 6838 pattern",
                show_json(a)
            ),
        );
    }
    if let Some(data) = obj.get("data") {
        let at = format!("{location}.data");
        match data
            .as_str()
            .map(|t| base64::engine::general_purpose::STANDARD.decode(t))
        {
            Some(Ok(bytes)) => {
                if let Some(size) = desc.size
                    && bytes.len() as u64 != size
                {
                    sink.add(
                        "WI-DESC-005",
                        &at,
                        format!("data decodes to {} bytes but size is {size}", bytes.len()),
                    );
                }
                if let Some(digest) = &desc.digest
                    && let Some(alg) = digest.algorithm()
                {
                    let actual = Digest::of(alg, &bytes);
                    if &actual != digest {
                        sink.add(
                            "WI-DESC-005",
                            &at,
                            format!(
                                "data hashes to {actual}, not to the descriptor's digest {digest}"
                            ),
                        );
                    }
                }
            }
            Some(Err(e)) => sink.add(
                "WI-DESC-004",
                &at,
                format!("data is not padded base64: {e}"),
            ),
            None => sink.add(
                "WI-DESC-004",
                &at,
                format!("data is a JSON {}, not a base64 string", json_type(data)),
            ),
        }
    }
    if let Some(p) = obj.get("platform") {
        check_platform(p, &format!("{location}.platform"), sink);
    }
    desc
}

fn check_platform(value: &Value, location: &str, sink: &mut Sink) {
    let Value::Object(p) = value else {
        sink.add(
            "WI-INDEX-004",
            location,
            format!("platform is a JSON {}, not an object", json_type(value)),
        );
        return;
    };
    for key in ["architecture", "os"] {
        match p.get(key) {
            Some(Value::String(_)) => {}
            Some(other) => sink.add(
                "WI-INDEX-004",
                format!("{location}.{key}"),
                format!(
                    "platform {key} is a JSON {}, not a string",
                    json_type(other)
                ),
            ),
            None => sink.add("WI-INDEX-004", location, format!("platform has no {key}")),
        }
    }
    for key in ["os_version", "os_features"] {
        if p.contains_key(key) {
            sink.add(
                "WI-INDEX-005",
                format!("{location}.{key}"),
                format!(
                    "platform uses the key {key}; the image spec names it {}",
                    key.replace('_', ".")
                ),
            );
        }
    }
}

fn is_schema_version_2(v: Option<&Value>) -> bool {
    v.and_then(Value::as_u64) == Some(2)
        && v.is_some_and(|v| !v.as_number().is_some_and(|n| n.is_f64()))
}

/// What the manifest checks learned.
#[derive(Debug, Clone, Default)]
pub(crate) struct ManifestFacts {
    pub(crate) media_type: Option<String>,
    pub(crate) config: Option<Desc>,
    /// One entry per element of `layers` (checked or not).
    pub(crate) layers: Vec<Desc>,
    pub(crate) annotations: Map<String, Value>,
}

/// Checks an image manifest (a JSON object). `prefix` is the JSON path of the document, e.g. `manifest`.
pub(crate) fn check_manifest(
    obj: &Map<String, Value>,
    prefix: &str,
    sink: &mut Sink,
) -> ManifestFacts {
    let mut facts = ManifestFacts::default();
    let at = |field: &str| format!("{prefix}.{field}");
    if !is_schema_version_2(obj.get("schemaVersion")) {
        let found = obj
            .get("schemaVersion")
            .map(show_json)
            .unwrap_or_else(|| "missing".into());
        sink.add(
            "WI-MANIFEST-002",
            at("schemaVersion"),
            format!("schemaVersion is {found}, must be the integer 2"),
        );
    }
    match obj.get("mediaType") {
        None => sink.add("WI-MANIFEST-003", prefix, "manifest has no mediaType"),
        Some(Value::String(m)) if m == mt::OCI_MANIFEST || m == mt::DOCKER_MANIFEST => {
            facts.media_type = Some(m.clone());
        }
        Some(other) => sink.add(
            "WI-MANIFEST-004",
            at("mediaType"),
            format!(
                "manifest mediaType {} is not an image manifest type",
                show_json(other)
            ),
        ),
    }
    match obj.get("config") {
        Some(c @ Value::Object(_)) => facts.config = Some(check_descriptor(c, &at("config"), sink)),
        Some(other) => sink.add(
            "WI-MANIFEST-006",
            at("config"),
            format!("config is a JSON {}, not a descriptor", json_type(other)),
        ),
        None => sink.add("WI-MANIFEST-006", prefix, "manifest has no config"),
    }
    match obj.get("layers") {
        Some(Value::Array(items)) => {
            if items.is_empty() {
                sink.add("WI-MANIFEST-007", at("layers"), "layers is empty");
            }
            for (i, l) in items.iter().enumerate() {
                facts
                    .layers
                    .push(check_descriptor(l, &format!("{prefix}.layers[{i}]"), sink));
            }
        }
        Some(other) => sink.add(
            "WI-MANIFEST-006",
            at("layers"),
            format!("layers is a JSON {}, not an array", json_type(other)),
        ),
        None => sink.add("WI-MANIFEST-006", prefix, "manifest has no layers"),
    }
    let artifact_type = obj.get("artifactType");
    if let Some(a) = artifact_type
        && !a.as_str().is_some_and(mt::is_valid)
    {
        sink.add(
            "WI-MANIFEST-009",
            at("artifactType"),
            format!(
                "artifactType {} does not match the RFC 6838 pattern",
                show_json(a)
            ),
        );
    }
    if artifact_type.is_none()
        && facts.config.as_ref().and_then(|c| c.media_type.as_deref()) == Some(OCI_EMPTY)
    {
        sink.add(
            "WI-MANIFEST-008",
            at("config.mediaType"),
            format!("config mediaType is {OCI_EMPTY} but the manifest has no artifactType"),
        );
    }
    if let Some(s) = obj.get("subject") {
        check_subject(s, &at("subject"), sink);
    }
    if let Some(a) = obj.get("annotations") {
        facts.annotations = check_annotations(a, &at("annotations"), sink);
    }
    facts
}

/// Checks a `subject`: a descriptor, or WI-MANIFEST-010 beside the
/// descriptor findings that say what is wrong with it.
fn check_subject(value: &Value, location: &str, sink: &mut Sink) {
    if !value.is_object() {
        sink.add(
            "WI-MANIFEST-010",
            location,
            format!("subject {} is not a descriptor", show_json(value)),
        );
        return;
    }
    let mut local = Sink::new();
    check_descriptor(value, location, &mut local);
    let faults: Vec<&str> = local
        .findings
        .iter()
        .filter(|f| f.severity == crate::rules::Severity::Error)
        .map(|f| f.code)
        .collect();
    if !faults.is_empty() {
        sink.add(
            "WI-MANIFEST-010",
            location,
            format!("subject is not a valid descriptor ({})", faults.join(", ")),
        );
    }
    sink.extend(local.findings);
}

/// One entry of an index's `manifests`, as far as it is usable.
#[derive(Debug, Clone)]
pub(crate) struct IndexItem {
    /// JSON path, e.g. `index.json manifests[0]`.
    pub(crate) location: String,
    pub(crate) desc: Desc,
    pub(crate) platform: Option<(String, String)>,
}

/// Checks an image index (a JSON object); `prefix` is its location, e.g. `index.json`.
pub(crate) fn check_index(
    obj: &Map<String, Value>,
    prefix: &str,
    sink: &mut Sink,
) -> Vec<IndexItem> {
    let at = |field: &str| format!("{prefix} {field}");
    if !is_schema_version_2(obj.get("schemaVersion")) {
        let found = obj
            .get("schemaVersion")
            .map(show_json)
            .unwrap_or_else(|| "missing".into());
        sink.add(
            "WI-INDEX-001",
            at("schemaVersion"),
            format!("schemaVersion is {found}, must be the integer 2"),
        );
    }
    if let Some(m) = obj.get("mediaType")
        && !matches!(m.as_str(), Some(mt::OCI_INDEX | mt::DOCKER_MANIFEST_LIST))
    {
        sink.add(
            "WI-INDEX-002",
            at("mediaType"),
            format!(
                "index mediaType {} is not an image index type",
                show_json(m)
            ),
        );
    }
    if let Some(a) = obj.get("artifactType")
        && !a.as_str().is_some_and(mt::is_valid)
    {
        sink.add(
            "WI-DESC-007",
            at("artifactType"),
            format!(
                "artifactType {} does not match the RFC 6838 pattern",
                show_json(a)
            ),
        );
    }
    if let Some(s) = obj.get("subject") {
        check_subject(s, &at("subject"), sink);
    }
    if let Some(a) = obj.get("annotations") {
        check_annotations(a, &at("annotations"), sink);
    }
    let mut items = Vec::new();
    match obj.get("manifests") {
        Some(Value::Array(entries)) => {
            for (i, e) in entries.iter().enumerate() {
                let location = at(&format!("manifests[{i}]"));
                if !e.is_object() {
                    sink.add(
                        "WI-INDEX-003",
                        &location,
                        format!("entry is a JSON {}, not a descriptor", json_type(e)),
                    );
                    continue;
                }
                let desc = check_descriptor(e, &location, sink);
                let platform = e.get("platform").and_then(|p| {
                    Some((
                        p.get("architecture")?.as_str()?.to_owned(),
                        p.get("os")?.as_str()?.to_owned(),
                    ))
                });
                items.push(IndexItem {
                    location,
                    desc,
                    platform,
                });
            }
        }
        Some(other) => sink.add(
            "WI-INDEX-003",
            at("manifests"),
            format!("manifests is a JSON {}, not an array", json_type(other)),
        ),
        None => sink.add("WI-INDEX-003", prefix, "index has no manifests"),
    }
    items
}

/// Checks an `oci-layout` header document.
pub(crate) fn check_layout_header(bytes: &[u8], limits: &Limits, sink: &mut Sink) {
    let Some(v) = parse_json(
        bytes,
        limits.max_layout_header_bytes,
        limits,
        "oci-layout",
        "WI-LAYOUT-001",
        "oci-layout",
        sink,
    ) else {
        return;
    };
    match v.get("imageLayoutVersion") {
        Some(Value::String(s)) if s == "1.0.0" => {}
        Some(other) => sink.add(
            "WI-LAYOUT-001",
            "oci-layout",
            format!("imageLayoutVersion is {}, not \"1.0.0\"", show_json(other)),
        ),
        None => sink.add(
            "WI-LAYOUT-001",
            "oci-layout",
            "oci-layout has no imageLayoutVersion",
        ),
    }
}

/// The code of every problem of an OCI or Docker image config (spec/oci-base.md, "Image config").
pub(crate) const IMAGE_CONFIG_CODE: &str = "WI-CONFIG-001";

/// Checks an OCI (or Docker) image config against the image spec's
/// `config-schema.json` and the Go validator's extra `Env` check.
pub(crate) fn check_image_config(obj: &Map<String, Value>, prefix: &str, sink: &mut Sink) {
    let code = IMAGE_CONFIG_CODE;
    let mut expect =
        |v: Option<&Value>, path: &str, ok: fn(&Value) -> bool, want: &str, required: bool| match v
        {
            None if required => sink.add(code, prefix, format!("image config has no {path}")),
            None => {}
            Some(v) if ok(v) => {}
            Some(v) => sink.add(
                code,
                format!("{prefix}.{path}"),
                format!(
                    "{path} is the JSON {} {}, must be {want}",
                    json_type(v),
                    show_json(v)
                ),
            ),
        };
    let string = |v: &Value| v.is_string();
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let strings_or_null =
        |v: &Value| v.is_null() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let object_or_null = |v: &Value| v.is_null() || v.is_object();
    let string_map = |v: &Value| {
        v.is_null()
            || v.as_object()
                .is_some_and(|m| m.values().all(Value::is_string))
    };
    expect(
        obj.get("created"),
        "created",
        |v| v.as_str().is_some_and(is_rfc3339),
        "an RFC 3339 date-time",
        false,
    );
    expect(obj.get("author"), "author", string, "a string", false);
    expect(
        obj.get("architecture"),
        "architecture",
        string,
        "a string",
        true,
    );
    expect(obj.get("os"), "os", string, "a string", true);
    expect(
        obj.get("os.version"),
        "os.version",
        string,
        "a string",
        false,
    );
    expect(
        obj.get("os.features"),
        "os.features",
        strings,
        "an array of strings",
        false,
    );
    expect(obj.get("variant"), "variant", string, "a string", false);
    expect(
        obj.get("config"),
        "config",
        object_or_null,
        "an object",
        false,
    );
    if let Some(Value::Object(c)) = obj.get("config") {
        expect(c.get("User"), "config.User", string, "a string", false);
        expect(
            c.get("ExposedPorts"),
            "config.ExposedPorts",
            object_or_null,
            "an object",
            false,
        );
        expect(
            c.get("Env"),
            "config.Env",
            strings_or_null,
            "an array of strings",
            false,
        );
        expect(
            c.get("Entrypoint"),
            "config.Entrypoint",
            strings_or_null,
            "an array of strings",
            false,
        );
        expect(
            c.get("Cmd"),
            "config.Cmd",
            strings_or_null,
            "an array of strings",
            false,
        );
        expect(
            c.get("Volumes"),
            "config.Volumes",
            object_or_null,
            "an object",
            false,
        );
        expect(
            c.get("WorkingDir"),
            "config.WorkingDir",
            string,
            "a string",
            false,
        );
        expect(
            c.get("Labels"),
            "config.Labels",
            string_map,
            "an object of strings",
            false,
        );
        expect(
            c.get("StopSignal"),
            "config.StopSignal",
            string,
            "a string",
            false,
        );
        expect(
            c.get("ArgsEscaped"),
            "config.ArgsEscaped",
            Value::is_boolean,
            "a boolean",
            false,
        );
        if let Some(Value::Array(env)) = c.get("Env") {
            for (i, e) in env.iter().enumerate() {
                if let Some(text) = e.as_str() {
                    let ok = text.split_once('=').is_some_and(|(k, _)| !k.is_empty());
                    if !ok {
                        sink.add(
                            code,
                            format!("{prefix}.config.Env[{i}]"),
                            format!("Env entry {} is not of the form NAME=value", show(text)),
                        );
                    }
                }
            }
        }
    }
    match obj.get("rootfs") {
        None => sink.add(code, prefix, "image config has no rootfs"),
        Some(Value::Object(r)) => {
            match r.get("type") {
                Some(Value::String(t)) if t == "layers" => {}
                Some(other) => sink.add(
                    code,
                    format!("{prefix}.rootfs.type"),
                    format!("rootfs.type is {}, must be \"layers\"", show_json(other)),
                ),
                None => sink.add(code, format!("{prefix}.rootfs"), "rootfs has no type"),
            }
            match r.get("diff_ids") {
                Some(Value::Array(ids)) => {
                    for (i, id) in ids.iter().enumerate() {
                        let at = format!("{prefix}.rootfs.diff_ids[{i}]");
                        match id.as_str() {
                            Some(text) => {
                                check_digest(text, &at, sink);
                            }
                            None => sink.add(
                                code,
                                at,
                                format!("diff_id is a JSON {}, not a digest", json_type(id)),
                            ),
                        }
                    }
                }
                Some(other) => sink.add(
                    code,
                    format!("{prefix}.rootfs.diff_ids"),
                    format!(
                        "rootfs.diff_ids is a JSON {}, not an array",
                        json_type(other)
                    ),
                ),
                None => sink.add(code, format!("{prefix}.rootfs"), "rootfs has no diff_ids"),
            }
        }
        Some(other) => sink.add(
            code,
            format!("{prefix}.rootfs"),
            format!("rootfs is a JSON {}, not an object", json_type(other)),
        ),
    }
    match obj.get("history") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, h) in items.iter().enumerate() {
                let Value::Object(h) = h else {
                    sink.add(
                        code,
                        format!("{prefix}.history[{i}]"),
                        "history entry is not an object",
                    );
                    continue;
                };
                for key in ["created", "author", "created_by", "comment"] {
                    if let Some(v) = h.get(key)
                        && !v.is_string()
                    {
                        sink.add(
                            code,
                            format!("{prefix}.history[{i}].{key}"),
                            format!("{key} is a JSON {}, not a string", json_type(v)),
                        );
                    }
                }
                if let Some(v) = h.get("empty_layer")
                    && !v.is_boolean()
                {
                    sink.add(
                        code,
                        format!("{prefix}.history[{i}].empty_layer"),
                        format!("empty_layer is a JSON {}, not a boolean", json_type(v)),
                    );
                }
            }
        }
        Some(other) => sink.add(
            code,
            format!("{prefix}.history"),
            format!("history is a JSON {}, not an array", json_type(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_and_ref_grammar() {
        assert!(is_absolute_uri("https://example.com/a?b=c#d"));
        assert!(is_absolute_uri("urn:x:y"));
        assert!(!is_absolute_uri("value"));
        assert!(!is_absolute_uri("http://exa mple.com"));
        assert!(!is_absolute_uri("1http://x"));
        assert!(!is_absolute_uri("http://x/%zz"));
        assert!(is_ref_name("v1.0"));
        assert!(is_ref_name("a--b/c_d:e@f+g"));
        assert!(!is_ref_name("-a"));
        assert!(!is_ref_name("a//b"));
        assert!(!is_ref_name("a..b"));
        assert!(!is_ref_name("a---b"));
        assert!(!is_ref_name(""));
    }
}
