//! One reference in a registry, seen as an [`ImageStore`].

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use super::client::{Client, FetchedManifest, StatsSnapshot};
use super::reference::Reference;
use super::{Options, RegistryError};
use crate::digest::Digest;
use crate::manifest::RootIndex;
use crate::store::{ImageStore, StoreError};

/// An image reference in a registry, readable as a store: the root index is
/// the reference's manifest as a one-entry index (tagged with the
/// reference's tag), and blobs stream from the registry. The manifest is
/// fetched once, on first use, and verified against the reference's digest
/// or the digest the registry announces.
#[derive(Debug, Clone)]
pub struct Registry {
    client: Arc<Client>,
    reference: Reference,
    manifest: Arc<OnceLock<Resolved>>,
}

#[derive(Debug)]
struct Resolved {
    manifest: FetchedManifest,
    /// Sizes of the blobs the manifest names (for resuming downloads).
    sizes: HashMap<Digest, u64>,
}

impl Registry {
    /// A registry reference; nothing is sent until it is read.
    pub fn new(reference: Reference, options: &Options) -> Result<Self, RegistryError> {
        let client = Arc::new(Client::new(&reference, options)?);
        Ok(Registry {
            client,
            reference,
            manifest: Arc::new(OnceLock::new()),
        })
    }

    /// Parses a reference and makes a [`Registry`] of it.
    pub fn parse(reference: &str, options: &Options) -> Result<Self, RegistryError> {
        Self::new(Reference::parse(reference)?, options)
    }

    /// Another reference on the same registry, sharing the client (and its
    /// authentication and counters).
    pub fn sibling(&self, reference: Reference) -> Registry {
        Registry {
            client: Arc::clone(&self.client),
            reference,
            manifest: Arc::new(OnceLock::new()),
        }
    }

    /// The reference.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// What the client did so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.client.stats().snapshot()
    }

    /// The reference's manifest, fetched and verified once.
    pub fn manifest(&self) -> Result<&FetchedManifest, RegistryError> {
        if let Some(r) = self.manifest.get() {
            return Ok(&r.manifest);
        }
        let fetched = self.client.get_manifest(
            &self.reference.repository,
            &self.reference.manifest_reference(),
            self.reference.digest.as_ref(),
        )?;
        let sizes = blob_sizes(&fetched.bytes);
        let _ = self.manifest.set(Resolved {
            manifest: fetched,
            sizes,
        });
        match self.manifest.get() {
            Some(r) => Ok(&r.manifest),
            None => Err(self.client_protocol("manifest cache lost")),
        }
    }

    /// The manifest digest the reference resolves to.
    pub fn resolve(&self) -> Result<Digest, RegistryError> {
        Ok(self.manifest()?.digest.clone())
    }

    /// The repository's tags.
    pub fn list_tags(&self) -> Result<Vec<String>, RegistryError> {
        self.client.list_tags(&self.reference.repository)
    }

    fn client_protocol(&self, reason: &str) -> RegistryError {
        RegistryError::Protocol {
            registry: self.reference.registry.clone(),
            reason: reason.to_owned(),
        }
    }

    fn known_size(&self, digest: &Digest) -> Option<u64> {
        self.manifest.get()?.sizes.get(digest).copied()
    }
}

/// The blobs a manifest's descriptors name, with their sizes.
fn blob_sizes(bytes: &[u8]) -> HashMap<Digest, u64> {
    let mut out = HashMap::new();
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return out;
    };
    let config = value.get("config").into_iter();
    let layers = value
        .get("layers")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten();
    for d in config.chain(layers) {
        if let (Some(digest), Some(size)) = (
            d.get("digest")
                .and_then(|v| v.as_str())
                .and_then(|s| Digest::parse(s).ok()),
            d.get("size").and_then(|v| v.as_u64()),
        ) {
            out.insert(digest, size);
        }
    }
    out
}

impl ImageStore for Registry {
    fn as_sync(&self) -> Option<&(dyn ImageStore + Sync)> {
        Some(self)
    }

    fn describe(&self) -> String {
        self.reference.to_string()
    }

    fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StoreError> {
        let what = self.describe();
        let manifest = self.manifest().map_err(|e| e.into_store(&what))?;
        if &manifest.digest == digest {
            return Ok(Some(manifest.bytes.len() as u64));
        }
        self.client
            .head_blob(&self.reference.repository, digest)
            .map_err(|e| e.into_store(&what))
    }

    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError> {
        let what = self.describe();
        let manifest = self.manifest().map_err(|e| e.into_store(&what))?;
        if &manifest.digest == digest {
            return Ok(Box::new(manifest.bytes.as_slice()));
        }
        let reader = self
            .client
            .open_blob(&self.reference.repository, digest, self.known_size(digest))
            .map_err(|e| {
                if e.status() == Some(404) {
                    StoreError::BlobNotFound(digest.clone())
                } else {
                    e.into_store(&what)
                }
            })?;
        Ok(Box::new(reader))
    }

    fn root_index(&self) -> Result<RootIndex, StoreError> {
        let what = self.describe();
        let manifest = self.manifest().map_err(|e| e.into_store(&what))?;
        let mut index = RootIndex::new();
        index.add(
            &manifest.media_type,
            &manifest.digest,
            manifest.bytes.len() as u64,
            self.reference.tag.as_deref(),
        );
        Ok(index)
    }
}
