//! Cosign's simple-signing payload: the bytes a cosign signature covers.
//!
//! The payload is compact JSON in Go `encoding/json` order and escaping
//! (`critical` → `identity`, `image`, `type`; then `optional` with sorted
//! keys, `null` without annotations), so that bytes written here are
//! identical to cosign's. On verification the payload is parsed only to read
//! its claims; signatures are always checked over the raw bytes.

use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::json::parse_bounded;
use crate::limits::{MAX_JSON_DEPTH, MAX_SIGNATURE_PAYLOAD_BYTES};

/// `critical.type` of a cosign image signature.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, too big or too deep.
    #[error("simple-signing payload: {0}")]
    Json(String),
    /// A required field is missing or of the wrong type.
    #[error("simple-signing payload: {0}")]
    Shape(String),
    /// `critical.type` is not cosign's.
    #[error("simple-signing payload: type {0:?} is not {COSIGN_SIGNATURE_TYPE:?}")]
    Type(String),
}

/// The claims of a simple-signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository, informative only.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the signed manifest.
    pub manifest_digest: String,
    /// `optional`: annotations, `None` for `null`.
    pub optional: Option<Map<String, Value>>,
}

impl SimpleSigning {
    /// A payload for a manifest digest.
    pub fn new(docker_reference: &str, manifest_digest: &Digest) -> Self {
        SimpleSigning {
            docker_reference: docker_reference.to_owned(),
            manifest_digest: manifest_digest.as_str().to_owned(),
            optional: None,
        }
    }

    /// Adds string annotations into `optional`.
    pub fn with_annotations<'a>(
        mut self,
        annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut any = false;
        let map = self.optional.get_or_insert_with(Map::new);
        for (k, v) in annotations {
            map.insert(k.to_owned(), Value::String(v.to_owned()));
            any = true;
        }
        if !any && map.is_empty() {
            self.optional = None;
        }
        self
    }

    /// The payload bytes, as Go's `json.Marshal` writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
        go_string(&mut out, &self.docker_reference);
        out.push_str(r#"},"image":{"docker-manifest-digest":"#);
        go_string(&mut out, &self.manifest_digest);
        out.push_str(r#"},"type":"#);
        go_string(&mut out, COSIGN_SIGNATURE_TYPE);
        out.push_str(r#"},"optional":"#);
        match &self.optional {
            None => out.push_str("null"),
            Some(map) => go_value(&mut out, &Value::Object(map.clone())),
        }
        out.push('}');
        out.into_bytes()
    }

    /// Reads a payload's claims (the bytes are not kept: verify signatures over the input).
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        let value: Value = parse_bounded(bytes, MAX_SIGNATURE_PAYLOAD_BYTES, MAX_JSON_DEPTH)
            .map_err(|e| PayloadError::Json(e.to_string()))?;
        let shape = |what: &str| PayloadError::Shape(what.to_owned());
        let critical = value
            .get("critical")
            .and_then(Value::as_object)
            .ok_or_else(|| shape("no critical object"))?;
        let kind = critical
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("no critical.type string"))?;
        if kind != COSIGN_SIGNATURE_TYPE {
            return Err(PayloadError::Type(kind.to_owned()));
        }
        let manifest_digest = critical
            .get("image")
            .and_then(|i| i.get("docker-manifest-digest"))
            .and_then(Value::as_str)
            .ok_or_else(|| shape("no critical.image.docker-manifest-digest string"))?;
        let docker_reference = critical
            .get("identity")
            .and_then(|i| i.get("docker-reference"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let optional = match value.get("optional") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => return Err(shape("optional is neither null nor an object")),
        };
        Ok(SimpleSigning {
            docker_reference: docker_reference.to_owned(),
            manifest_digest: manifest_digest.to_owned(),
            optional,
        })
    }
}

/// The repository part of an image reference, normalised as
/// go-containerregistry does for `docker-reference`: no tag or digest, Docker
/// Hub as `index.docker.io`, single names under `library/`.
pub fn docker_reference(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let repo = match without_digest.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => without_digest,
    };
    let (registry, path) = match repo.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => ("index.docker.io".to_owned(), repo.to_owned()),
    };
    let registry = if registry == "docker.io" {
        "index.docker.io".to_owned()
    } else {
        registry
    };
    let path = if registry == "index.docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    format!("{registry}/{path}")
}

/// Writes a JSON string as Go's `encoding/json` does (HTML-safe escaping).
pub fn go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a JSON value as Go's `encoding/json` does for `map[string]interface{}`:
/// sorted keys, no spaces, Go string escaping. Numbers keep serde_json's text.
pub fn go_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(out, k);
                out.push(':');
                go_value(out, &map[k]);
            }
            out.push('}');
        }
    }
}
