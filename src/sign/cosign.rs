//! Cosign simple signing: one signature manifest per signed image, at tag
//! `sha256-<hex>.sig` in the same store, with one layer per signature (the
//! payload blob, its base64 signature in a layer annotation). New signatures
//! are appended; existing ones are never replaced.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::digest::Digest;
use crate::limits::{MAX_MANIFEST_BYTES, MAX_SIGNATURES};
use crate::manifest::{IndexEntry, encode};
use crate::media_type as mt;
use crate::sign::key::{KeyError, PrivateKey};
use crate::sign::payload::SimpleSigning;
use crate::store::{self, ImageStore, Selector, StoreError, WritableStore, signature_tag};

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the PEM leaf certificate (keyless).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the PEM chain (keyless).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation holding the Rekor bundle (SET and entry).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// Why signing, or reading signatures, failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A signature manifest or index in the store is malformed.
    #[error("{what} {digest}: {reason}")]
    Malformed {
        /// What kind of document.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// What is wrong.
        reason: String,
    },
    /// More signatures than [`MAX_SIGNATURES`].
    #[error("{0} holds more than {MAX_SIGNATURES} signatures")]
    TooMany(String),
}

/// One layer of a signature manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureLayer {
    /// Position in the manifest.
    pub index: usize,
    /// The layer's media type.
    pub media_type: String,
    /// The payload blob.
    pub digest: Digest,
    /// The payload's size.
    pub size: u64,
    /// Layer annotations (string values only).
    pub annotations: BTreeMap<String, String>,
}

/// An image's signature manifest.
#[derive(Debug, Clone)]
pub struct SignatureManifest {
    /// Its root-index entry (tag `sha256-<hex>.sig`).
    pub entry: IndexEntry,
    /// The manifest document.
    pub document: Value,
    /// Its layers.
    pub layers: Vec<SignatureLayer>,
}

/// Reads the signature manifest of an image, if the store has one.
pub fn read_signature_manifest(
    store: &dyn ImageStore,
    image: &Digest,
) -> Result<Option<SignatureManifest>, SignError> {
    let tag = signature_tag(image);
    let Some(entry) = store.find_tag(&tag)? else {
        return Ok(None);
    };
    let bytes = store::read_manifest(store, &entry.digest, Some(entry.size), MAX_MANIFEST_BYTES)?;
    let malformed = |reason: String| SignError::Malformed {
        what: "signature manifest",
        digest: entry.digest.clone(),
        reason,
    };
    let document: Value = crate::json::parse_bounded(&bytes, MAX_MANIFEST_BYTES, 16)
        .map_err(|e| malformed(e.to_string()))?;
    let layers = document
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no layers array".into()))?;
    if layers.len() > MAX_SIGNATURES {
        return Err(SignError::TooMany(tag));
    }
    let layers = layers
        .iter()
        .enumerate()
        .map(|(index, l)| {
            parse_layer(index, l).map_err(|r| malformed(format!("layers[{index}]: {r}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(SignatureManifest {
        entry,
        document,
        layers,
    }))
}

fn parse_layer(index: usize, l: &Value) -> Result<SignatureLayer, String> {
    let media_type = l
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or("no mediaType")?;
    let digest = l.get("digest").and_then(Value::as_str).ok_or("no digest")?;
    let digest = Digest::parse(digest).map_err(|e| e.to_string())?;
    let size = l.get("size").and_then(Value::as_u64).ok_or("no size")?;
    let annotations = match l.get("annotations") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect(),
        Some(_) => return Err("annotations is not an object".into()),
    };
    Ok(SignatureLayer {
        index,
        media_type: media_type.to_owned(),
        digest,
        size,
        annotations,
    })
}

/// Appends a signature layer (payload blob plus annotations) to the image's
/// signature manifest, creating it if needed, and moves the `.sig` tag to the
/// new manifest. An identical layer already present is not added twice.
/// The caller commits the store.
pub fn append_signature(
    store: &mut dyn WritableStore,
    image: &Digest,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
) -> Result<Digest, SignError> {
    let payload_digest = Digest::sha256_of(payload);
    store.put_blob(&payload_digest, payload.len() as u64, &mut &payload[..])?;
    let existing = read_signature_manifest(&*store, image)?;
    let mut layers: Vec<Value> = existing
        .as_ref()
        .and_then(|m| m.document.get("layers").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let layer = json!({
        "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
        "digest": payload_digest.as_str(),
        "size": payload.len(),
        "annotations": annotations,
    });
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    if layers.len() > MAX_SIGNATURES {
        return Err(SignError::TooMany(signature_tag(image)));
    }
    let diff_ids: Vec<Value> = layers
        .iter()
        .filter_map(|l| l.get("digest").cloned())
        .collect();
    let config = encode(&json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }));
    let config_digest = Digest::sha256_of(&config);
    store.put_blob(&config_digest, config.len() as u64, &mut &config[..])?;
    let manifest = encode(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "config": {
            "mediaType": mt::OCI_CONFIG,
            "digest": config_digest.as_str(),
            "size": config.len(),
        },
        "layers": layers,
    }));
    let manifest_digest = Digest::sha256_of(&manifest);
    store.put_blob(&manifest_digest, manifest.len() as u64, &mut &manifest[..])?;
    store.add_manifest(
        mt::OCI_MANIFEST,
        &manifest_digest,
        manifest.len() as u64,
        Some(&signature_tag(image)),
    )?;
    Ok(manifest_digest)
}

/// What to put in a signature.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// `critical.identity.docker-reference` (informative; verifiers ignore it).
    pub docker_reference: String,
    /// `-a key=value` annotations, into the payload's `optional`.
    pub annotations: Vec<(String, String)>,
}

/// The outcome of signing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Signed {
    /// The signed manifest.
    pub image: Digest,
    /// Where the signature is: a tag (`.sig`) or the referrer manifest digest.
    pub location: String,
    /// The manifest holding the signature.
    pub signature_manifest: Digest,
}

/// Resolves the image to sign and checks its manifest blob against its digest.
pub fn resolve_subject(
    store: &dyn ImageStore,
    selector: &Selector,
) -> Result<IndexEntry, SignError> {
    let entry = store::resolve(&store.root_index()?, selector, &store.describe())?;
    store::read_manifest(store, &entry.digest, Some(entry.size), MAX_MANIFEST_BYTES)?;
    Ok(entry)
}

/// Signs an image with cosign simple signing and stores the signature at
/// `sha256-<hex>.sig`, appended to any already there; commits the store.
pub fn sign_image(
    store: &mut dyn WritableStore,
    selector: &Selector,
    key: &PrivateKey,
    options: &SignOptions,
) -> Result<Signed, SignError> {
    let entry = resolve_subject(&*store, selector)?;
    let payload = SimpleSigning::new(&options.docker_reference, &entry.digest)
        .with_annotations(
            options
                .annotations
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .to_bytes();
    let signature = key.sign(&payload)?;
    let mut annotations = BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature));
    let manifest = append_signature(store, &entry.digest, &payload, &annotations)?;
    store.commit()?;
    Ok(Signed {
        location: signature_tag(&entry.digest),
        image: entry.digest,
        signature_manifest: manifest,
    })
}
