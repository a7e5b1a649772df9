//! Carrying an image's signatures and referrers along when the image is
//! copied, between any two of layout, archive and registry (`copy`, `push`
//! and `pull` do it by default; `--no-signatures` skips it).
//!
//! What moves, after the image itself:
//! - the cosign signature manifest at `sha256-<hex>.sig`: copied byte for
//!   byte (its config and payload blobs first) when the destination has none;
//!   when the destination already has one, the source's signature layers are
//!   **appended** to it ([`append_signature`]), so no signature already at the
//!   destination is ever replaced;
//! - every referrer of the image (from the source's referrers API, else its
//!   `sha256-<hex>` fallback index) whose manifest's `subject` really is the
//!   image: its blobs, then the manifest by digest, indexed by the destination
//!   itself (a registry answering `OCI-Subject`) or added to the
//!   destination's `sha256-<hex>` fallback index (read-modify-write, entries
//!   already there kept).
//!
//! Nothing is checked cryptographically here (a copy moves bytes; `verify`
//! judges them), but every blob and manifest is verified against its digest
//! and size on the way, as in every transfer.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::digest::Digest;
use crate::limits::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_PAYLOAD_BYTES};
use crate::media_type as mt;
use crate::sign::bundle::{add_to_fallback_index, referrers};
use crate::sign::cosign::{SignError, append_signature, read_signature_manifest};
use crate::store::{self, ImageStore, ReferrerIndexing, WritableStore, signature_tag};

/// What [`carry_signatures`] moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Carried {
    /// Signature layers of the `.sig` manifest the source holds.
    pub signatures: usize,
    /// Whether the destination's `.sig` manifest was written (copied or appended to).
    pub signature_manifest_written: bool,
    /// Referrer manifests copied.
    pub referrers: usize,
}

impl Carried {
    /// Whether there was anything to carry.
    pub fn is_empty(&self) -> bool {
        self.signatures == 0 && self.referrers == 0
    }
}

/// The `(digest, size)` of a manifest's config and layers.
fn descriptors(document: &Value, digest: &Digest) -> Result<Vec<(Digest, u64)>, SignError> {
    let malformed = |reason: String| SignError::Malformed {
        what: "manifest",
        digest: digest.clone(),
        reason,
    };
    let mut out = Vec::new();
    let config = document.get("config").into_iter();
    let layers = document
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for (i, d) in config.chain(layers).enumerate() {
        let blob = d
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("descriptor {i} has no digest")))?;
        let blob = Digest::parse(blob).map_err(|e| malformed(format!("descriptor {i}: {e}")))?;
        let size = d
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed(format!("descriptor {i} has no size")))?;
        if !out.iter().any(|(b, _)| b == &blob) {
            out.push((blob, size));
        }
    }
    Ok(out)
}

/// Copies a manifest's blobs, then the manifest bytes as a blob (the caller
/// records it in the destination's index).
fn copy_manifest_and_blobs(
    src: &dyn ImageStore,
    dst: &mut dyn WritableStore,
    digest: &Digest,
    bytes: &[u8],
    document: &Value,
) -> Result<(), SignError> {
    for (blob, size) in descriptors(document, digest)? {
        store::copy_blob(src, dst, &blob, size)?;
    }
    dst.put_blob(digest, bytes.len() as u64, &mut &bytes[..])?;
    Ok(())
}

/// Copies the signatures and referrers of `image` from `src` to `dst` (which
/// must already hold the image) and commits `dst`.
pub fn carry_signatures(
    src: &dyn ImageStore,
    image: &Digest,
    dst: &mut dyn WritableStore,
) -> Result<Carried, SignError> {
    let mut carried = Carried::default();

    if let Some(sig) = read_signature_manifest(src, image)? {
        carried.signatures = sig.layers.len();
        let tag = signature_tag(image);
        let existing = dst.find_tag(&tag)?;
        match existing {
            Some(e) if e.digest == sig.entry.digest => {}
            None => {
                let bytes = store::read_manifest(
                    src,
                    &sig.entry.digest,
                    Some(sig.entry.size),
                    MAX_MANIFEST_BYTES,
                )?;
                copy_manifest_and_blobs(src, dst, &sig.entry.digest, &bytes, &sig.document)?;
                dst.add_manifest(
                    &sig.entry.media_type,
                    &sig.entry.digest,
                    sig.entry.size,
                    Some(&tag),
                )?;
                carried.signature_manifest_written = true;
            }
            Some(_) => {
                // The destination has signatures of its own: append ours.
                for layer in &sig.layers {
                    let payload = store::read_blob(
                        src,
                        &layer.digest,
                        Some(layer.size),
                        MAX_SIGNATURE_PAYLOAD_BYTES,
                    )?;
                    let annotations: BTreeMap<String, String> = layer.annotations.clone();
                    append_signature(dst, image, &payload, &annotations)?;
                }
                carried.signature_manifest_written = true;
            }
        }
    }

    for descriptor in referrers(src, image)? {
        let Some(digest) = descriptor
            .get("digest")
            .and_then(Value::as_str)
            .and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let media_type = descriptor
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(mt::OCI_MANIFEST);
        if media_type != mt::OCI_MANIFEST {
            continue;
        }
        let size = descriptor.get("size").and_then(Value::as_u64);
        let bytes = store::read_manifest(src, &digest, size, MAX_MANIFEST_BYTES)?;
        let document: Value =
            crate::json::parse_bounded(&bytes, MAX_MANIFEST_BYTES, 16).map_err(|e| {
                SignError::Malformed {
                    what: "referrer manifest",
                    digest: digest.clone(),
                    reason: e.to_string(),
                }
            })?;
        // A referrer whose subject is not the image is not the image's: never carried.
        if document
            .get("subject")
            .and_then(|s| s.get("digest"))
            .and_then(Value::as_str)
            != Some(image.as_str())
        {
            continue;
        }
        copy_manifest_and_blobs(src, dst, &digest, &bytes, &document)?;
        let size = bytes.len() as u64;
        if dst.add_referrer(mt::OCI_MANIFEST, &digest, size, image)?
            == ReferrerIndexing::FallbackTag
        {
            let mut entry = serde_json::Map::new();
            entry.insert("mediaType".into(), Value::from(mt::OCI_MANIFEST));
            entry.insert("digest".into(), Value::from(digest.as_str()));
            entry.insert("size".into(), Value::from(size));
            for key in ["artifactType", "annotations"] {
                if let Some(v) = descriptor.get(key).or_else(|| document.get(key)) {
                    entry.insert(key.into(), v.clone());
                }
            }
            add_to_fallback_index(dst, image, Value::Object(entry))?;
        }
        carried.referrers += 1;
    }

    dst.commit()?;
    Ok(carried)
}
