//! Sigstore bundles (v0.3) for images: a DSSE envelope over an in-toto
//! statement whose subject is the image manifest digest, stored as an OCI 1.1
//! referrer manifest (empty config, `artifactType`, `subject`) and listed in
//! the referrers tag schema index `sha256-<hex>` when the store does not
//! index referrers itself ([`WritableStore::add_referrer`]).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::digest::Digest;
use crate::limits::{
    MAX_BUNDLE_BYTES, MAX_INDEX_BYTES, MAX_JSON_DEPTH, MAX_MANIFEST_BYTES, MAX_SIGNATURES,
};
use crate::manifest::{EMPTY_DIGEST, IndexEntry, encode};
use crate::media_type as mt;
use crate::sign::cosign::{SignError, Signed, resolve_subject};
use crate::sign::key::PrivateKey;
use crate::store::{self, ImageStore, ReferrerIndexing, Selector, WritableStore, referrers_tag};

/// Media type of a Sigstore bundle v0.3 (layer and `artifactType`).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Prefix of every bundle media type, old forms included.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Predicate type cosign v3 uses for image signatures.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// DSSE pre-authentication encoding: the bytes a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The in-toto statement cosign v3 signs for an image.
pub fn statement(image: &Digest, annotations: &[(String, String)]) -> Vec<u8> {
    let mut subject = json!({"digest": {image.algorithm_name(): image.encoded()}});
    if !annotations.is_empty() {
        let map: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        subject["annotations"] = Value::Object(map);
    }
    encode(&json!({
        "_type": STATEMENT_TYPE,
        "subject": [subject],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    }))
}

/// A key-signed bundle v0.3 for an image (`publicKey.hint`, no log entries:
/// verifiers must skip the transparency log, e.g. `--insecure-ignore-tlog`).
pub fn make_bundle(
    key: &PrivateKey,
    image: &Digest,
    annotations: &[(String, String)],
) -> Result<Vec<u8>, SignError> {
    let payload = statement(image, annotations);
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload))?;
    let hint = key.public_key()?.hint()?;
    Ok(encode(&json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": STANDARD.encode(&payload),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": STANDARD.encode(signature)}],
        },
    })))
}

/// Stores a bundle as a referrer of `subject` and indexes it (by the store,
/// or in the `sha256-<hex>` fallback index). The caller commits.
pub fn attach_bundle(
    store: &mut dyn WritableStore,
    subject: &IndexEntry,
    bundle: &[u8],
    created: &str,
) -> Result<Digest, SignError> {
    store.put_blob(&Digest::sha256_of(b"{}"), 2, &mut &b"{}"[..])?;
    let bundle_digest = Digest::sha256_of(bundle);
    store.put_blob(&bundle_digest, bundle.len() as u64, &mut &bundle[..])?;
    let annotations = json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE,
        "org.opencontainers.image.created": created,
    });
    let manifest = encode(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": {"mediaType": mt::OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
        "layers": [{"mediaType": BUNDLE_MEDIA_TYPE, "digest": bundle_digest.as_str(), "size": bundle.len()}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest.as_str(), "size": subject.size},
        "annotations": annotations,
    }));
    let digest = Digest::sha256_of(&manifest);
    let size = manifest.len() as u64;
    store.put_blob(&digest, size, &mut &manifest[..])?;
    if store.add_referrer(mt::OCI_MANIFEST, &digest, size, &subject.digest)?
        == ReferrerIndexing::FallbackTag
    {
        let descriptor = json!({
            "mediaType": mt::OCI_MANIFEST,
            "digest": digest.as_str(),
            "size": size,
            "artifactType": BUNDLE_MEDIA_TYPE,
            "annotations": annotations,
        });
        add_to_fallback_index(store, &subject.digest, descriptor)?;
    }
    Ok(digest)
}

/// Adds a descriptor to the referrers tag schema index `sha256-<hex>`
/// (created empty if missing; an entry of the same digest is replaced).
pub fn add_to_fallback_index(
    store: &mut dyn WritableStore,
    subject: &Digest,
    descriptor: Value,
) -> Result<Digest, SignError> {
    let mut manifests = fallback_entries(&*store, subject)?;
    let digest = descriptor.get("digest").cloned();
    manifests.retain(|m| m.get("digest") != digest.as_ref());
    manifests.push(descriptor);
    let index = encode(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_INDEX,
        "manifests": manifests,
    }));
    let index_digest = Digest::sha256_of(&index);
    store.put_blob(&index_digest, index.len() as u64, &mut &index[..])?;
    store.add_manifest(
        mt::OCI_INDEX,
        &index_digest,
        index.len() as u64,
        Some(&referrers_tag(subject)),
    )?;
    Ok(index_digest)
}

fn fallback_entries(store: &dyn ImageStore, subject: &Digest) -> Result<Vec<Value>, SignError> {
    let tag = referrers_tag(subject);
    let Some(entry) = store.find_tag(&tag)? else {
        return Ok(Vec::new());
    };
    let bytes = store::read_manifest(store, &entry.digest, Some(entry.size), MAX_INDEX_BYTES)?;
    let document: Value = crate::json::parse_bounded(&bytes, MAX_INDEX_BYTES, MAX_JSON_DEPTH)
        .map_err(|e| SignError::Malformed {
            what: "referrers index",
            digest: entry.digest.clone(),
            reason: e.to_string(),
        })?;
    Ok(document
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The referrers of an image: from the store's referrers API when it has one,
/// else from the `sha256-<hex>` fallback index.
pub fn referrers(store: &dyn ImageStore, subject: &Digest) -> Result<Vec<Value>, SignError> {
    let list = match store.referrers(subject)? {
        Some(list) => list,
        None => fallback_entries(store, subject)?,
    };
    if list.len() > MAX_SIGNATURES {
        return Err(SignError::TooMany(referrers_tag(subject)));
    }
    Ok(list)
}

/// A bundle found among an image's referrers.
#[derive(Debug, Clone)]
pub struct FoundBundle {
    /// The referrer manifest.
    pub manifest: Digest,
    /// The bundle layer's digest.
    pub layer: Digest,
    /// The bundle bytes (verified against `layer`), or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
}

/// Reads the bundles among an image's referrers. A referrer manifest whose
/// `subject` is not the image is reported as an error entry, never trusted.
pub fn find_bundles(
    store: &dyn ImageStore,
    subject: &Digest,
) -> Result<Vec<FoundBundle>, SignError> {
    let mut found = Vec::new();
    for descriptor in referrers(store, subject)? {
        let Some(digest) = descriptor.get("digest").and_then(Value::as_str) else {
            continue;
        };
        let Ok(digest) = Digest::parse(digest) else {
            continue;
        };
        let size = descriptor.get("size").and_then(Value::as_u64);
        let manifest = match store::read_manifest(store, &digest, size, MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(e) => {
                found.push(FoundBundle {
                    manifest: digest.clone(),
                    layer: digest,
                    bytes: Err(format!("referrer manifest: {e}")),
                });
                continue;
            }
        };
        let Ok(document) = crate::json::parse_bounded::<Value>(&manifest, MAX_MANIFEST_BYTES, 16)
        else {
            continue;
        };
        let bundle_layers: Vec<&Value> = document
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|l| {
                l.get("mediaType")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.starts_with(BUNDLE_MEDIA_TYPE_PREFIX))
            })
            .collect();
        if bundle_layers.is_empty() {
            continue;
        }
        let subject_ok = document
            .get("subject")
            .and_then(|s| s.get("digest"))
            .and_then(Value::as_str)
            == Some(subject.as_str());
        for layer in bundle_layers {
            let layer_digest = layer
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok());
            let Some(layer_digest) = layer_digest else {
                continue;
            };
            let bytes = if !subject_ok {
                Err(format!(
                    "referrer manifest {digest} has a subject other than {subject}"
                ))
            } else {
                let size = layer.get("size").and_then(Value::as_u64);
                store::read_blob(store, &layer_digest, size, MAX_BUNDLE_BYTES)
                    .map_err(|e| format!("bundle blob: {e}"))
            };
            found.push(FoundBundle {
                manifest: digest.clone(),
                layer: layer_digest,
                bytes,
            });
        }
    }
    Ok(found)
}

/// The DSSE content of a bundle, as needed to check it.
#[derive(Debug, Clone)]
pub struct DsseContent {
    /// `dsseEnvelope.payloadType`.
    pub payload_type: String,
    /// The decoded payload (the in-toto statement bytes).
    pub payload: Vec<u8>,
    /// The one signature, decoded.
    pub signature: Vec<u8>,
    /// The bundle's `publicKey.hint`, if any.
    pub key_hint: Option<String>,
}

/// Reads the DSSE envelope of a bundle (exactly one signature required).
pub fn read_dsse(bundle: &[u8]) -> Result<DsseContent, String> {
    let value: Value = crate::json::parse_bounded(bundle, MAX_BUNDLE_BYTES, MAX_JSON_DEPTH)
        .map_err(|e| format!("bundle: {e}"))?;
    let media_type = value
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) {
        return Err(format!(
            "bundle mediaType {media_type:?} is not a Sigstore bundle"
        ));
    }
    let envelope = value
        .get("dsseEnvelope")
        .ok_or("bundle has no dsseEnvelope")?;
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or("dsseEnvelope has no payloadType")?;
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .ok_or("dsseEnvelope has no payload")?;
    let payload = STANDARD
        .decode(payload)
        .map_err(|_| "dsseEnvelope payload is not base64")?;
    let signatures = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or("dsseEnvelope has no signatures")?;
    let [signature] = signatures.as_slice() else {
        return Err(format!(
            "dsseEnvelope has {} signatures, exactly one is required",
            signatures.len()
        ));
    };
    let signature = signature
        .get("sig")
        .and_then(Value::as_str)
        .ok_or("DSSE signature has no sig")?;
    let signature = super::verify::decode_signature(signature)?;
    let key_hint = value
        .pointer("/verificationMaterial/publicKey/hint")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(DsseContent {
        payload_type: payload_type.to_owned(),
        payload,
        signature,
        key_hint,
    })
}

/// One subject of an in-toto statement: `sha256:<hex>` and its annotations.
pub type StatementSubject = (String, BTreeMap<String, Value>);

/// The claims of an in-toto statement about an image: the subject entries'
/// sha256 digests and their annotations.
pub fn statement_subjects(payload: &[u8]) -> Result<Vec<StatementSubject>, String> {
    let value: Value = crate::json::parse_bounded(payload, MAX_BUNDLE_BYTES, MAX_JSON_DEPTH)
        .map_err(|e| format!("in-toto statement: {e}"))?;
    let kind = value
        .get("_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !kind.starts_with("https://in-toto.io/Statement/") {
        return Err(format!(
            "in-toto statement _type {kind:?} is not a Statement"
        ));
    }
    let subjects = value
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("in-toto statement has no subject")?;
    Ok(subjects
        .iter()
        .filter_map(|s| {
            let hex = s.pointer("/digest/sha256").and_then(Value::as_str)?;
            let annotations = s
                .get("annotations")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            Some((format!("sha256:{hex}"), annotations))
        })
        .collect())
}

/// Signs an image with a key-signed bundle stored as a referrer; commits the store.
pub fn sign_image_bundle(
    store: &mut dyn WritableStore,
    selector: &Selector,
    key: &PrivateKey,
    annotations: &[(String, String)],
) -> Result<Signed, SignError> {
    let entry = resolve_subject(&*store, selector)?;
    let bundle = make_bundle(key, &entry.digest, annotations)?;
    let created = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let manifest = attach_bundle(store, &entry, &bundle, &created)?;
    store.commit()?;
    Ok(Signed {
        location: format!(
            "referrer {manifest} (index tag {})",
            referrers_tag(&entry.digest)
        ),
        image: entry.digest,
        signature_manifest: manifest,
    })
}
