//! Signature artifacts beside an image: cosign's `sha256-<hex>.sig`
//! manifests (and `.att`, `.sbom`), the referrers fallback index at
//! `sha256-<hex>`, and OCI 1.1 referrer manifests (a manifest with a
//! `subject`). They are not Wasm images: each is checked as an artifact, by
//! the descriptor and blob rules only (the document is well-formed JSON, its
//! descriptors are valid, every blob it names is present and matches its
//! digest and size), and never counted as an image of the layout.

use serde_json::Value;

use super::{Engine, ImageRef};
use crate::digest::Digest;
use crate::media_type as mt;
use crate::validate::document::{self, parse_json};
use crate::validate::finding::Sink;

/// How deep artifact indexes may nest (the fallback index lists manifests).
const MAX_ARTIFACT_DEPTH: usize = 2;

impl Engine<'_> {
    /// Whether an image found in an index is a referrer of another image of
    /// the store: its manifest's `subject` names the digest of one of `images`.
    /// (A manifest whose subject is elsewhere is still validated as an image.)
    pub(crate) fn is_referrer(&mut self, image: &ImageRef, images: &[Digest]) -> bool {
        let limit = self.options.limits.max_manifest_bytes;
        let mut scratch = Sink::new();
        self.document(&image.digest, image.size, limit, &mut scratch)
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| {
                v.get("subject")?
                    .get("digest")?
                    .as_str()
                    .and_then(|d| Digest::parse(d).ok())
            })
            .is_some_and(|subject| subject != image.digest && images.contains(&subject))
    }

    /// Checks an artifact manifest or index by the descriptor and blob rules.
    pub(crate) fn artifact(&mut self, image: &ImageRef, sink: &mut Sink) {
        self.artifact_at(image, 0, sink);
    }

    fn artifact_at(&mut self, image: &ImageRef, depth: usize, sink: &mut Sink) {
        let limits = self.options.limits;
        let prefix = match &image.tag {
            Some(tag) => format!("artifact {tag}"),
            None => format!("artifact {}", image.digest),
        };
        let Some(bytes) = self.document(&image.digest, image.size, limits.max_manifest_bytes, sink)
        else {
            return;
        };
        let Some(Value::Object(obj)) = parse_json(
            &bytes,
            limits.max_manifest_bytes,
            &limits,
            &prefix,
            "WI-MANIFEST-001",
            "the artifact manifest",
            sink,
        ) else {
            return;
        };
        let is_index = matches!(
            image.media_type.as_deref(),
            Some(mt::OCI_INDEX | mt::DOCKER_MANIFEST_LIST)
        ) || obj.get("manifests").is_some();
        if is_index {
            let items = document::check_index(&obj, &prefix, sink);
            if depth >= MAX_ARTIFACT_DEPTH {
                return;
            }
            for item in items {
                let (Some(digest), Some(size)) = (&item.desc.digest, item.desc.size) else {
                    continue;
                };
                let nested = ImageRef {
                    location: item.location.clone(),
                    media_type: item.desc.media_type.clone(),
                    digest: digest.clone(),
                    size,
                    tag: None,
                };
                self.artifact_at(&nested, depth + 1, sink);
            }
            return;
        }
        let facts = document::check_manifest(&obj, &prefix, sink);
        for desc in facts.config.iter().chain(facts.layers.iter()) {
            if let (Some(digest), Some(size)) = (&desc.digest, desc.size) {
                self.verify_layer(digest, size, sink);
            }
        }
    }
}
