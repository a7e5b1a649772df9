//! One reference in a registry, seen as an [`ImageStore`], and its
//! repository as a [`WritableStore`] for signatures.
//!
//! # Why `WritableStore` and not narrow signing operations
//!
//! The signer ([`crate::sign`]) and the signature carrier
//! ([`crate::sign::carry`]) are written once against the store traits and
//! already do the read-modify-write the registry needs (read the `.sig`
//! manifest, append a layer, write it back; read the `sha256-<hex>` index,
//! add a descriptor, write it back). Implementing the traits for the
//! registry makes every one of them work on a registry unchanged, with the
//! same tests, instead of a second copy of that logic speaking HTTP. The
//! HTTP itself is [`Client`]'s, the same code `push` and `pull` use.
//!
//! The trait's shape maps onto the distribution API so:
//! - [`WritableStore::put_blob`] keeps a small blob (up to
//!   [`MAX_MANIFEST_BYTES`]) in memory, verified, because it may turn out to
//!   be a manifest (registries keep manifests apart from blobs); larger ones
//!   cannot be manifests and are uploaded at once (streamed, verified by
//!   [`Client::upload_blob`]). A blob the registry has is not sent again.
//! - [`WritableStore::add_manifest`] queues the manifest; [`WritableStore::commit`]
//!   uploads every pending blob that is not a queued manifest, then `PUT`s the
//!   manifests in the order they were added. So a tag never points at a
//!   manifest whose blobs are missing, and an index (the referrers fallback
//!   tag) is pushed after the manifests it lists. A failure part-way leaves
//!   at worst blobs without a manifest, which a registry garbage-collects.
//! - [`WritableStore::add_referrer`] cannot wait for the commit: whether the
//!   registry indexes the subject (`OCI-Subject`) decides whether the caller
//!   maintains the fallback tag. It uploads the pending blobs and `PUT`s the
//!   referrer by digest at once (untagged: nothing points at it unless the
//!   registry indexes it, and then its blobs are there).
//! - Reads see the pending writes ([`ImageStore::find_tag`] answers a queued
//!   tag from the queue), so two read-modify-writes in one commit compose.
//!
//! Read-modify-write on a registry is not atomic: two signers of the same
//! image at the same moment can each write a `.sig` manifest without the
//! other's layer (cosign has the same race). Signing again restores it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use super::client::{Client, FetchedManifest, StatsSnapshot};
use super::reference::Reference;
use super::{Options, RegistryError};
use crate::digest::Digest;
use crate::limits::MAX_MANIFEST_BYTES;
use crate::manifest::{IndexEntry, RootIndex};
use crate::store::{ImageStore, ReferrerIndexing, StoreError, WritableStore, verify_bytes};

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
    /// Other manifests read by tag or digest (signatures, referrers), by digest.
    manifests: Arc<Mutex<HashMap<Digest, FetchedManifest>>>,
    /// Writes not yet committed.
    pending: Pending,
    /// With [`Registry::all_tags`]: every tag of the repository and its
    /// manifest, read on first use.
    all_tags: Option<Arc<OnceLock<TagList>>>,
    /// See [`Registry::manifest_cache_bytes`].
    manifest_cache_bytes: u64,
}

/// A repository's tags, each with its manifest's descriptor, and the
/// manifests by digest.
#[derive(Debug, Default)]
struct TagList {
    tags: Vec<ListedTag>,
    by_digest: HashMap<Digest, usize>,
}

/// One tag of a repository and the manifest it points at.
#[derive(Debug, Clone)]
struct ListedTag {
    tag: String,
    digest: Digest,
    media_type: String,
    size: u64,
}

/// The bytes of tag manifests kept in memory when a whole repository is
/// listed (the rest are fetched again when read), so that memory does not
/// grow with the number of tags.
pub const TAG_MANIFEST_CACHE_BYTES: u64 = 16 << 20;

/// Manifests fetched at once when a whole repository is listed.
pub const CONCURRENT_MANIFESTS: usize = 8;

/// What [`WritableStore`] writes wait for [`WritableStore::commit`].
#[derive(Debug, Clone, Default)]
struct Pending {
    /// Small blobs kept in memory (they may be manifests), in order.
    blobs: Vec<(Digest, Vec<u8>)>,
    /// Manifests to `PUT`, in order: (media type, digest, tag).
    manifests: Vec<(String, Digest, Option<String>)>,
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
            manifests: Arc::default(),
            pending: Pending::default(),
            all_tags: None,
            manifest_cache_bytes: TAG_MANIFEST_CACHE_BYTES,
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
            manifests: Arc::default(),
            pending: Pending::default(),
            all_tags: None,
            manifest_cache_bytes: self.manifest_cache_bytes,
        }
    }

    /// The whole repository instead of one reference: the root index lists
    /// every tag (from the tag list, each tag's manifest fetched and
    /// verified, [`CONCURRENT_MANIFESTS`] at a time), so that validating the
    /// store validates every image of the repository. The reference's tag or
    /// digest is not used.
    pub fn all_tags(mut self) -> Self {
        self.all_tags = Some(Arc::new(OnceLock::new()));
        self
    }

    /// With [`Registry::all_tags`]: the bytes of tag manifests kept in
    /// memory once listed (default [`TAG_MANIFEST_CACHE_BYTES`]); the others
    /// are fetched again when validated.
    pub fn manifest_cache_bytes(mut self, bytes: u64) -> Self {
        self.manifest_cache_bytes = bytes;
        self
    }

    /// Every tag and its manifest's descriptor (cached), in lexical order
    /// of the tags. A tag deleted while the list is read is left out. The
    /// manifests are fetched (and verified) [`CONCURRENT_MANIFESTS`] at a
    /// time; up to [`Registry::manifest_cache_bytes`] of them are kept for the
    /// validation that follows, the others are fetched again when read.
    fn tag_manifests<'t>(
        &self,
        tags: &'t OnceLock<TagList>,
    ) -> Result<&'t [ListedTag], RegistryError> {
        use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
        if let Some(found) = tags.get() {
            return Ok(&found.tags);
        }
        // Sorted: registries list tags in their own order (distribution 2.8
        // in directory order), and a report must not change with it.
        let mut names = self.list_tags()?;
        names.sort();
        names.dedup();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let cached = AtomicU64::new(0);
        let workers = CONCURRENT_MANIFESTS.min(names.len()).max(1);
        let results: Vec<Result<Vec<(usize, ListedTag)>, RegistryError>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut found = Vec::new();
                            while !failed.load(Ordering::Relaxed) {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(tag) = names.get(i) else {
                                    break;
                                };
                                let m = match self.client.find_manifest(self.repository(), tag) {
                                    Ok(Some(m)) => m,
                                    Ok(None) => continue,
                                    Err(e) => {
                                        failed.store(true, Ordering::Relaxed);
                                        return Err(e);
                                    }
                                };
                                let size = m.bytes.len() as u64;
                                if cached.fetch_add(size, Ordering::Relaxed) + size
                                    <= self.manifest_cache_bytes
                                {
                                    self.remember(&m);
                                }
                                found.push((
                                    i,
                                    ListedTag {
                                        tag: tag.clone(),
                                        digest: m.digest,
                                        media_type: m.media_type,
                                        size,
                                    },
                                ));
                            }
                            Ok(found)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(r) => r,
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            });
        let mut listed = Vec::new();
        for r in results {
            listed.extend(r?);
        }
        listed.sort_by_key(|(i, _)| *i);
        let tags_in_order: Vec<ListedTag> = listed.into_iter().map(|(_, t)| t).collect();
        let by_digest = tags_in_order
            .iter()
            .enumerate()
            .map(|(i, t)| (t.digest.clone(), i))
            .collect();
        let _ = tags.set(TagList {
            tags: tags_in_order,
            by_digest,
        });
        tags.get()
            .map(|t| t.tags.as_slice())
            .ok_or_else(|| self.client_protocol("tag list cache lost"))
    }

    /// A manifest the tag list named, by digest: its descriptor.
    fn listed_manifest(&self, digest: &Digest) -> Option<&ListedTag> {
        let list = self.all_tags.as_ref()?.get()?;
        list.tags.get(*list.by_digest.get(digest)?)
    }

    /// The reference's manifest, or `None` for a whole repository.
    fn reference_manifest(&self) -> Result<Option<&FetchedManifest>, RegistryError> {
        if self.all_tags.is_some() {
            return Ok(None);
        }
        self.manifest().map(Some)
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

    /// A manifest already read or pending, by digest.
    fn cached_manifest(&self, digest: &Digest) -> Option<Vec<u8>> {
        if let Some(r) = self.manifest.get()
            && &r.manifest.digest == digest
        {
            return Some(r.manifest.bytes.clone());
        }
        if let Some((_, b)) = self.pending.blobs.iter().find(|(d, _)| d == digest) {
            return Some(b.clone());
        }
        self.manifests
            .lock()
            .ok()?
            .get(digest)
            .map(|m| m.bytes.clone())
    }

    fn remember(&self, manifest: &FetchedManifest) {
        if let Ok(mut cache) = self.manifests.lock() {
            cache.insert(manifest.digest.clone(), manifest.clone());
        }
    }

    fn repository(&self) -> &str {
        &self.reference.repository
    }

    /// Uploads the pending blobs that are not manifests (queued, or `except`).
    fn flush_blobs(&mut self, except: Option<&Digest>) -> Result<(), RegistryError> {
        let blobs = std::mem::take(&mut self.pending.blobs);
        let (manifests, others): (Vec<_>, Vec<_>) = blobs.into_iter().partition(|(d, _)| {
            Some(d) == except || self.pending.manifests.iter().any(|(_, m, _)| m == d)
        });
        self.pending.blobs = manifests;
        for (digest, bytes) in others {
            let repository = self.reference.repository.clone();
            // The bytes are in memory: an interrupted upload starts again from them.
            self.client.push_blob(
                &repository,
                &digest,
                bytes.len() as u64,
                &mut || Ok(Box::new(bytes.as_slice())),
                None,
                &mut |_| {},
            )?;
        }
        Ok(())
    }

    /// `PUT`s a pending manifest under `reference`; answers `OCI-Subject`.
    fn push_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        reference: &str,
    ) -> Result<bool, RegistryError> {
        let Some(pos) = self.pending.blobs.iter().position(|(d, _)| d == digest) else {
            return Err(RegistryError::Store(StoreError::BlobNotFound(
                digest.clone(),
            )));
        };
        let (_, bytes) = self.pending.blobs.remove(pos);
        let repository = self.reference.repository.clone();
        let indexed =
            self.client
                .put_manifest_answer(&repository, reference, media_type, &bytes, digest)?;
        self.remember(&FetchedManifest {
            bytes,
            digest: digest.clone(),
            media_type: media_type.to_owned(),
        });
        Ok(indexed)
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

    /// Reading a registry waits on round trips more than on the CPU:
    /// [`CONCURRENT_MANIFESTS`] readers, or one per core if there are more.
    fn preferred_readers(&self) -> usize {
        crate::store::cores().max(CONCURRENT_MANIFESTS)
    }

    fn describe(&self) -> String {
        if self.all_tags.is_some() {
            return format!("{} (every tag)", self.reference.name());
        }
        self.reference.to_string()
    }

    fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StoreError> {
        let what = self.describe();
        if let Some(bytes) = self.cached_manifest(digest) {
            return Ok(Some(bytes.len() as u64));
        }
        if let Some(listed) = self.listed_manifest(digest) {
            return Ok(Some(listed.size));
        }
        let manifest = self.reference_manifest().map_err(|e| e.into_store(&what))?;
        if let Some(manifest) = manifest
            && &manifest.digest == digest
        {
            return Ok(Some(manifest.bytes.len() as u64));
        }
        self.client
            .head_blob(&self.reference.repository, digest)
            .map_err(|e| e.into_store(&what))
    }

    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError> {
        let what = self.describe();
        if let Some(bytes) = self.cached_manifest(digest) {
            return Ok(Box::new(std::io::Cursor::new(bytes)));
        }
        if self.listed_manifest(digest).is_some() {
            // A tag's manifest not kept in memory: from the manifest
            // endpoint again (registries need not serve manifests as blobs).
            let fetched = self
                .client
                .get_manifest(self.repository(), digest.as_str(), Some(digest))
                .map_err(|e| missing_or(e, digest, &what))?;
            return Ok(Box::new(std::io::Cursor::new(fetched.bytes)));
        }
        let manifest = self.reference_manifest().map_err(|e| e.into_store(&what))?;
        if let Some(manifest) = manifest
            && &manifest.digest == digest
        {
            return Ok(Box::new(manifest.bytes.as_slice()));
        }
        let reader = self
            .client
            .open_blob(&self.reference.repository, digest, self.known_size(digest))
            .map_err(|e| missing_or(e, digest, &what))?;
        Ok(Box::new(reader))
    }

    fn root_index(&self) -> Result<RootIndex, StoreError> {
        let what = self.describe();
        if let Some(tags) = &self.all_tags {
            let mut index = RootIndex::new();
            for t in self.tag_manifests(tags).map_err(|e| e.into_store(&what))? {
                index.add(&t.media_type, &t.digest, t.size, Some(&t.tag));
            }
            return Ok(index);
        }
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

    fn find_tag(&self, tag: &str) -> Result<Option<IndexEntry>, StoreError> {
        if let Some((media_type, digest, _)) = self
            .pending
            .manifests
            .iter()
            .rev()
            .find(|(_, _, t)| t.as_deref() == Some(tag))
        {
            let size = self.cached_manifest(digest).map_or(0, |b| b.len() as u64);
            return Ok(Some(entry(media_type, digest, size, tag)));
        }
        let what = format!("{}:{tag}", self.reference.name());
        let Some(found) = self
            .client
            .find_manifest(self.repository(), tag)
            .map_err(|e| e.into_store(&what))?
        else {
            return Ok(None);
        };
        self.remember(&found);
        Ok(Some(entry(
            &found.media_type,
            &found.digest,
            found.bytes.len() as u64,
            tag,
        )))
    }

    fn fetch_manifest(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(bytes) = self.cached_manifest(digest) {
            return Ok(Some(bytes));
        }
        let what = format!("{}@{digest}", self.reference.name());
        let fetched = self
            .client
            .get_manifest(self.repository(), digest.as_str(), Some(digest))
            .map_err(|e| missing_or(e, digest, &what))?;
        self.remember(&fetched);
        Ok(Some(fetched.bytes))
    }

    fn referrers(&self, subject: &Digest) -> Result<Option<Vec<serde_json::Value>>, StoreError> {
        let what = format!("{} referrers of {subject}", self.reference.name());
        self.client
            .get_referrers(self.repository(), subject)
            .map_err(|e| e.into_store(&what))
    }
}

/// A registry's 404 for `digest` as [`StoreError::BlobNotFound`]; any other
/// failure as a store error about `what`.
fn missing_or(e: RegistryError, digest: &Digest, what: &str) -> StoreError {
    if e.status() == Some(404) {
        StoreError::BlobNotFound(digest.clone())
    } else {
        e.into_store(what)
    }
}

fn entry(media_type: &str, digest: &Digest, size: u64, tag: &str) -> IndexEntry {
    IndexEntry {
        media_type: media_type.to_owned(),
        digest: digest.clone(),
        size,
        tag: Some(tag.to_owned()),
    }
}

impl WritableStore for Registry {
    fn put_blob(
        &mut self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError> {
        let what = self.describe();
        if self.pending.blobs.iter().any(|(d, _)| d == digest) {
            return Ok(());
        }
        if size > MAX_MANIFEST_BYTES {
            let repository = self.reference.repository.clone();
            let mut once = Some(Box::new(content) as Box<dyn Read + '_>);
            self.client
                .push_blob(
                    &repository,
                    digest,
                    size,
                    // A stream is read once: an interrupted upload is not started again.
                    &mut || {
                        once.take().ok_or_else(|| {
                            RegistryError::Unsupported("the blob can be read only once".into())
                        })
                    },
                    None,
                    &mut |_| {},
                )
                .map_err(|e| e.into_store(&what))?;
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(size as usize);
        content
            .take(size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&what, e))?;
        verify_bytes(digest, size, &bytes)?;
        self.pending.blobs.push((digest.clone(), bytes));
        Ok(())
    }

    fn add_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        size: u64,
        tag: Option<&str>,
    ) -> Result<(), StoreError> {
        match self.pending.blobs.iter().find(|(d, _)| d == digest) {
            Some((_, b)) if b.len() as u64 == size => {}
            _ => return Err(StoreError::BlobNotFound(digest.clone())),
        }
        self.pending.manifests.push((
            media_type.to_owned(),
            digest.clone(),
            tag.map(str::to_owned),
        ));
        Ok(())
    }

    fn add_referrer(
        &mut self,
        media_type: &str,
        digest: &Digest,
        size: u64,
        _subject: &Digest,
    ) -> Result<ReferrerIndexing, StoreError> {
        let what = self.describe();
        match self.pending.blobs.iter().find(|(d, _)| d == digest) {
            Some((_, b)) if b.len() as u64 == size => {}
            _ => return Err(StoreError::BlobNotFound(digest.clone())),
        }
        self.flush_blobs(Some(digest))
            .map_err(|e| e.into_store(&what))?;
        let indexed = self
            .push_manifest(media_type, digest, digest.as_str())
            .map_err(|e| e.into_store(&what))?;
        Ok(if indexed {
            ReferrerIndexing::ByStore
        } else {
            ReferrerIndexing::FallbackTag
        })
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let what = self.describe();
        // A tag written twice in one commit (a fallback index updated for
        // each referrer) is pushed once, with its last manifest; the
        // superseded manifests are dropped, not uploaded.
        let queued = std::mem::take(&mut self.pending.manifests);
        let mut manifests = Vec::new();
        for (i, m) in queued.iter().enumerate() {
            let superseded = m.2.is_some() && queued[i + 1..].iter().any(|later| later.2 == m.2);
            if !superseded {
                manifests.push(m.clone());
            }
        }
        self.pending.blobs.retain(|(d, _)| {
            !queued.iter().any(|m| &m.1 == d) || manifests.iter().any(|m| &m.1 == d)
        });
        self.pending.manifests = manifests;
        self.flush_blobs(None).map_err(|e| e.into_store(&what))?;
        let manifests = std::mem::take(&mut self.pending.manifests);
        for (media_type, digest, tag) in manifests {
            let reference = tag.unwrap_or_else(|| digest.to_string());
            // A manifest queued under several tags is one PUT per tag: the
            // bytes come back from the cache after the first.
            if !self.pending.blobs.iter().any(|(d, _)| d == &digest) {
                let bytes = self
                    .cached_manifest(&digest)
                    .ok_or_else(|| StoreError::BlobNotFound(digest.clone()))?;
                self.pending.blobs.push((digest.clone(), bytes));
            }
            self.push_manifest(&media_type, &digest, &reference)
                .map_err(|e| e.into_store(&what))?;
        }
        self.pending.blobs.clear();
        Ok(())
    }
}
