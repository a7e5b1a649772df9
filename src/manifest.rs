//! Manifests, descriptors and indexes: the `oci-spec` types, with the checks
//! and encodings that crate leaves out.
//!
//! `oci-spec` does not enforce `schemaVersion: 2` nor non-empty `layers`, and
//! its `Platform` writes `os_version`/`os_features` where the image spec says
//! `os.version`/`os.features`. So strict reads go through [`parse_manifest`],
//! writes through [`encode`] (sorted keys, reproducible), and the root index of
//! a layout is edited as JSON values by [`RootIndex`], so that entries written
//! by other tools keep every field exactly.

use std::collections::HashMap;
use std::str::FromStr;

use oci_spec::image::{Descriptor, ImageManifest, MediaType};
use serde_json::{Map, Value, json};

use crate::digest::Digest;
use crate::json::{self, JsonError};
use crate::limits::{MAX_JSON_DEPTH, MAX_MANIFEST_BYTES};
use crate::media_type;

/// Annotation that names a tag in a layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation that names the file a layer holds.
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// Manifest annotation of the compat variant.
pub const ANNOTATION_WASM_VARIANT: &str = "module.wasm.image/variant";
/// Manifest annotation of the wasm-oci variant listing ABI versions.
pub const ANNOTATION_ABI_VERSION: &str = "module.wasm.runtime/abi_version";
/// Manifest annotation of the wasm-oci variant naming the runtime type.
pub const ANNOTATION_RUNTIME_TYPE: &str = "module.wasm.runtime/type";

/// Why a manifest was refused by the strict reader.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON, too big, too deep, or not of a manifest's shape.
    #[error("manifest: {0}")]
    Json(#[from] JsonError),
    /// `schemaVersion` other than 2.
    #[error("manifest schemaVersion is {0}, must be 2")]
    SchemaVersion(u32),
    /// A `mediaType` that is not a manifest type.
    #[error("manifest mediaType {0:?} is not an OCI or Docker schema 2 image manifest")]
    MediaType(String),
    /// No layers.
    #[error("manifest has no layers")]
    NoLayers,
    /// A descriptor's digest breaks the grammar.
    #[error("descriptor digest: {0}")]
    Digest(#[from] crate::digest::DigestError),
    /// `oci-spec` refused a value.
    #[error("{0}")]
    Spec(#[from] oci_spec::OciSpecError),
}

/// Parses an image manifest strictly (OCI or Docker schema 2).
pub fn parse_manifest(bytes: &[u8]) -> Result<ImageManifest, ManifestError> {
    let manifest: ImageManifest = json::parse_bounded(bytes, MAX_MANIFEST_BYTES, MAX_JSON_DEPTH)?;
    if manifest.schema_version() != 2 {
        return Err(ManifestError::SchemaVersion(manifest.schema_version()));
    }
    if let Some(mt) = manifest.media_type() {
        let mt = mt.to_string();
        if mt != media_type::OCI_MANIFEST && mt != media_type::DOCKER_MANIFEST {
            return Err(ManifestError::MediaType(mt));
        }
    }
    if manifest.layers().is_empty() {
        return Err(ManifestError::NoLayers);
    }
    Ok(manifest)
}

/// The media type a manifest is served with: its own `mediaType`, else OCI.
pub fn manifest_media_type(manifest: &ImageManifest) -> String {
    manifest
        .media_type()
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned())
}

/// The canonical bytes of any document this crate writes (compact, sorted keys).
pub fn encode<T: serde::Serialize>(document: &T) -> Vec<u8> {
    // Serialising plain data types into a JSON value cannot fail: every map key is a string.
    json::to_canonical_vec(document).unwrap_or_default()
}

/// Builds a descriptor from its three required fields.
pub fn descriptor(
    media_type: &str,
    digest: &Digest,
    size: u64,
) -> Result<Descriptor, ManifestError> {
    let digest = oci_spec::image::Digest::from_str(digest.as_str())?;
    Ok(Descriptor::new(MediaType::from(media_type), size, digest))
}

/// Builds a descriptor with annotations.
pub fn descriptor_with_annotations(
    media_type: &str,
    digest: &Digest,
    size: u64,
    annotations: &[(&str, &str)],
) -> Result<Descriptor, ManifestError> {
    let mut d = descriptor(media_type, digest, size)?;
    if !annotations.is_empty() {
        let map: HashMap<String, String> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        d.set_annotations(Some(map));
    }
    Ok(d)
}

/// Digest of the two-byte `{}` blob.
pub const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// The digest of a descriptor, in this crate's type.
pub fn descriptor_digest(d: &Descriptor) -> Digest {
    Digest::from(d.digest())
}

/// The root `index.json` of a layout, edited as JSON so that entries and
/// fields written by other tools survive untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct RootIndex {
    document: Map<String, Value>,
}

/// One entry of a [`RootIndex`], the fields this crate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The entry's media type (a manifest or index type).
    pub media_type: String,
    /// Digest of the manifest.
    pub digest: Digest,
    /// Size of the manifest.
    pub size: u64,
    /// `org.opencontainers.image.ref.name`, if tagged.
    pub tag: Option<String>,
}

/// Why a root index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Not JSON, too big or too deep.
    #[error("index.json: {0}")]
    Json(#[from] JsonError),
    /// Not an object with a `manifests` array of descriptors.
    #[error("index.json: {0}")]
    Shape(String),
}

impl Default for RootIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl RootIndex {
    /// An empty index.
    pub fn new() -> Self {
        let Value::Object(document) = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_INDEX,
            "manifests": [],
        }) else {
            unreachable!("a JSON object literal")
        };
        RootIndex { document }
    }

    /// Reads an index, bounded by `max_bytes`.
    pub fn parse(bytes: &[u8], max_bytes: u64) -> Result<Self, IndexError> {
        let value: Value = json::parse_bounded(bytes, max_bytes, MAX_JSON_DEPTH)?;
        let Value::Object(document) = value else {
            return Err(IndexError::Shape("not a JSON object".into()));
        };
        let index = RootIndex { document };
        index.entries()?;
        Ok(index)
    }

    /// The entries, in order.
    pub fn entries(&self) -> Result<Vec<IndexEntry>, IndexError> {
        let Some(manifests) = self.document.get("manifests") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = manifests else {
            return Err(IndexError::Shape("manifests is not an array".into()));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let shape = |what: &str| IndexError::Shape(format!("manifests[{i}]: {what}"));
                let media_type = item
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape("mediaType missing or not a string"))?;
                let digest = item
                    .get("digest")
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape("digest missing or not a string"))?;
                let digest = Digest::parse(digest).map_err(|e| shape(&e.to_string()))?;
                let size = item
                    .get("size")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| shape("size missing or not a non-negative integer"))?;
                let tag = item
                    .get("annotations")
                    .and_then(|a| a.get(ANNOTATION_REF_NAME))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(IndexEntry {
                    media_type: media_type.to_owned(),
                    digest,
                    size,
                    tag,
                })
            })
            .collect()
    }

    /// Adds a manifest. A `tag` moves: any other entry carrying it loses it
    /// (and is dropped if it was only there for that tag and has the same
    /// digest as nothing else). An identical entry is not added twice.
    pub fn add(&mut self, media_type: &str, digest: &Digest, size: u64, tag: Option<&str>) {
        let items = self.manifests_mut();
        if let Some(tag) = tag {
            items.retain(|item| {
                item.get("annotations")
                    .and_then(|a| a.get(ANNOTATION_REF_NAME))
                    .and_then(Value::as_str)
                    != Some(tag)
            });
        }
        let mut entry = json!({
            "mediaType": media_type,
            "digest": digest.as_str(),
            "size": size,
        });
        if let Some(tag) = tag {
            entry["annotations"] = json!({ ANNOTATION_REF_NAME: tag });
        }
        if !items.contains(&entry) {
            items.push(entry);
        }
    }

    fn manifests_mut(&mut self) -> &mut Vec<Value> {
        let slot = self
            .document
            .entry("manifests")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        match slot {
            Value::Array(items) => items,
            _ => unreachable!("made an array above"),
        }
    }

    /// The canonical bytes of the index.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(&self.document)
    }

    /// The index as a JSON value.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keeps_foreign_fields_and_moves_tags() {
        let foreign = br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"architecture":"wasm","os":"wasip1","os.version":"x"},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}"#;
        let mut index = RootIndex::parse(foreign, 1 << 20).unwrap();
        let d = Digest::sha256_of(b"x");
        index.add(media_type::OCI_MANIFEST, &d, 1, Some("v2"));
        let text = String::from_utf8(index.to_bytes()).unwrap();
        assert!(text.contains(r#""os.version":"x""#), "{text}");
        let entries = index.entries().unwrap();
        assert_eq!(entries.len(), 2);
        index.add(media_type::OCI_MANIFEST, &d, 1, Some("v1"));
        let entries = index.entries().unwrap();
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(entries.iter().all(|e| e.digest == d));
    }

    #[test]
    fn strict_manifest_reader_checks_what_oci_spec_does_not() {
        let m = br#"{"schemaVersion":1,"config":{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        assert!(matches!(
            parse_manifest(m),
            Err(ManifestError::SchemaVersion(1))
        ));
        let m = String::from_utf8_lossy(m).replace(r#""schemaVersion":1"#, r#""schemaVersion":2"#);
        assert!(matches!(
            parse_manifest(m.as_bytes()),
            Err(ManifestError::NoLayers)
        ));
    }
}
