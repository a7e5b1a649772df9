//! Where image bytes live. One pair of traits, [`ImageStore`] to read and
//! [`WritableStore`] to write, with a backend per place: an OCI image layout
//! directory ([`layout`]) and an OCI archive, a tar of a layout ([`archive`]).
//! The encoder, validator and (later) registry and signer work on the traits.

pub mod archive;
pub mod layout;
mod writeback;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::digest::{Algorithm, Digest, Digester, HashingReader};
use crate::manifest::{IndexEntry, IndexError, RootIndex};

pub use archive::Archive;
pub use layout::Layout;

/// Layout header content this crate writes.
pub const LAYOUT_HEADER: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Layout version this crate reads and writes.
pub const LAYOUT_VERSION: &str = "1.0.0";

/// Failures of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The blob is not in the store.
    #[error("blob {0} is not in the store")]
    BlobNotFound(Digest),
    /// Bytes did not hash to the digest they were stored under.
    #[error("blob {expected}: content hashes to {actual}")]
    DigestMismatch {
        /// The digest the blob was named by.
        expected: Digest,
        /// The digest of the bytes.
        actual: Digest,
    },
    /// Bytes were not of the size the descriptor stated.
    #[error("blob {digest}: expected {expected} bytes, found {actual}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The size stated.
        expected: u64,
        /// The size found.
        actual: u64,
    },
    /// A blob or document is larger than a bound.
    #[error("blob {digest} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The bound in force.
        limit: u64,
    },
    /// A digest whose algorithm this crate cannot compute.
    #[error("cannot verify {0}: unsupported digest algorithm")]
    UnsupportedAlgorithm(Digest),
    /// The store is not an OCI layout or archive this crate can read.
    #[error("{path}: {reason}")]
    NotALayout {
        /// The path opened.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The root index could not be read.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A blob's path is a symbolic link, directory, device or FIFO, which is
    /// never followed or opened (spec/oci-base.md, WI-LAYOUT-008).
    #[error("{path} is {kind}, not a regular file; blobs must be regular files")]
    NotARegularFile {
        /// The blob's path.
        path: PathBuf,
        /// What it is, e.g. `a symbolic link`.
        kind: &'static str,
    },
    /// No image matches the selector.
    #[error("{0}")]
    NoSuchImage(String),
}

impl StoreError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        StoreError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// A readable place holding blobs and a root index of images.
pub trait ImageStore {
    /// A short description for messages, e.g. the path.
    fn describe(&self) -> String;

    /// The size of a blob, or `None` when the store does not have it.
    fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StoreError>;

    /// Opens a blob for streaming. The bytes are not verified: use
    /// [`read_blob`] or [`copy_blob`] for verified reads.
    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError>;

    /// The root index: the images of the store and their tags.
    fn root_index(&self) -> Result<RootIndex, StoreError>;

    /// Registry hook: the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`).
    /// Returns the descriptors of the manifests whose `subject` is `subject`
    /// (each with `artifactType` and annotations), or `None` when the store has
    /// no such API: layouts, archives and registries that answer 404. Callers
    /// then read the referrers tag schema (tag `sha256-<hex>` holding an index).
    fn referrers(&self, _subject: &Digest) -> Result<Option<Vec<serde_json::Value>>, StoreError> {
        Ok(None)
    }

    /// The root-index entry tagged `tag`, or `None`. Layouts and archives
    /// search their root index; a registry asks for the tag itself
    /// (`GET /v2/<name>/manifests/<tag>`), since its root index holds only
    /// the reference's image.
    fn find_tag(&self, tag: &str) -> Result<Option<IndexEntry>, StoreError> {
        Ok(self
            .root_index()?
            .entries()?
            .into_iter()
            .find(|e| e.tag.as_deref() == Some(tag)))
    }

    /// Registry hook: the bytes of a manifest by digest, read through the
    /// manifest endpoint (a registry need not serve manifests as blobs).
    /// `None` (the default) means "read it as a blob": see [`read_manifest`].
    fn fetch_manifest(&self, _digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }

    /// This store, when several threads may read it at once (layouts,
    /// archives and registries): transfers then move blobs concurrently.
    fn as_sync(&self) -> Option<&(dyn ImageStore + Sync)> {
        None
    }

    /// How many threads should read this store at once when it holds
    /// several images (with [`ImageStore::as_sync`]): one per core by
    /// default, as reading a local store is bound by the CPU; a store that
    /// mostly waits on the network asks for more.
    fn preferred_readers(&self) -> usize {
        cores()
    }
}

/// The cores this process may use (1 when unknown).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Stores blobs through a shared reference, so that several threads can
/// store blobs at once (see [`WritableStore::shared_writer`]).
pub trait SharedBlobWriter {
    /// Same as [`WritableStore::put_blob`].
    fn put_blob_shared(
        &self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError>;
}

/// Reads a manifest or index by digest, bounded by `limit` and verified
/// against its digest (and `size` when known): through the store's
/// [`ImageStore::fetch_manifest`] when it has one, else as a blob.
pub fn read_manifest(
    store: &dyn ImageStore,
    digest: &Digest,
    size: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>, StoreError> {
    match store.fetch_manifest(digest)? {
        Some(bytes) => {
            let len = bytes.len() as u64;
            if len > limit {
                return Err(StoreError::TooLarge {
                    digest: digest.clone(),
                    size: len,
                    limit,
                });
            }
            verify_bytes(digest, size.unwrap_or(len), &bytes)?;
            Ok(bytes)
        }
        None => read_blob(store, digest, size, limit),
    }
}

/// How a store recorded a manifest that has a `subject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrerIndexing {
    /// The store indexes referrers itself (a registry that answered `OCI-Subject`).
    ByStore,
    /// The caller must list the manifest in the `sha256-<hex>` fallback tag index.
    FallbackTag,
}

/// Tag of cosign's signature manifest for an image: `sha256-<hex>.sig`.
pub fn signature_tag(subject: &Digest) -> String {
    format!("{}.sig", referrers_tag(subject))
}

/// Tag of the OCI 1.1 referrers fallback index for an image: `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm_name(), subject.encoded())
}

/// Whether a tag is one of the artifact tags that point at an image's
/// signatures or referrers (`sha256-<hex>`, with `.sig`, `.att` or `.sbom`),
/// which [`Selector::Only`] does not count as images.
pub fn is_artifact_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest
        .strip_suffix(".sig")
        .or_else(|| rest.strip_suffix(".att"))
        .or_else(|| rest.strip_suffix(".sbom"))
        .unwrap_or(rest);
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A store that can be written. Writes become visible at [`WritableStore::commit`].
pub trait WritableStore: ImageStore {
    /// Stores a blob from a stream, hashing while writing; refuses bytes
    /// that do not match `digest` and `size`. A blob already present is kept.
    fn put_blob(
        &mut self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError>;

    /// Records a manifest (already stored as a blob) in the root index,
    /// optionally under a tag, which moves from any other entry.
    fn add_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        size: u64,
        tag: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Registry hook: records a manifest that has a `subject` (already stored
    /// as a blob). A registry PUTs it by digest and answers whether it indexed
    /// it (`OCI-Subject`); layouts and archives keep it as a blob reached from
    /// the fallback index, which the caller maintains.
    fn add_referrer(
        &mut self,
        _media_type: &str,
        _digest: &Digest,
        _size: u64,
        _subject: &Digest,
    ) -> Result<ReferrerIndexing, StoreError> {
        Ok(ReferrerIndexing::FallbackTag)
    }

    /// Publishes the writes atomically: until this returns, readers see the
    /// store as it was; a crash before it leaves the old store intact.
    fn commit(&mut self) -> Result<(), StoreError>;

    /// Stores a blob whose digest is learnt while it is stored: `content` is
    /// read once and hashed with `algorithm` as it is written; then `accept` is told the
    /// digest and size, and the blob is published under that digest only if
    /// it answers `true` (else nothing stays in the store). Returns the
    /// digest and size when published. The default spools to a temporary
    /// file and then calls [`WritableStore::put_blob`].
    fn put_blob_hashed(
        &mut self,
        algorithm: Algorithm,
        content: &mut dyn Read,
        accept: &mut dyn FnMut(&Digest, u64) -> bool,
    ) -> Result<Option<(Digest, u64)>, StoreError> {
        let temp_dir = std::env::temp_dir();
        let mut temp = tempfile::tempfile().map_err(|e| StoreError::io(&temp_dir, e))?;
        let (digest, size) = write_hashed(algorithm, content, &mut temp, &temp_dir)?;
        if !accept(&digest, size) {
            return Ok(None);
        }
        io::Seek::rewind(&mut temp).map_err(|e| StoreError::io(&temp_dir, e))?;
        self.put_blob(&digest, size, &mut temp)?;
        Ok(Some((digest, size)))
    }

    /// A writer of blobs usable from several threads at once, when the store
    /// has one (a layout does; an archive does not).
    fn shared_writer(&self) -> Option<&(dyn SharedBlobWriter + Sync)> {
        None
    }
}

/// Which image of a store to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The only image of the store.
    Only,
    /// The image tagged so (`org.opencontainers.image.ref.name`).
    Tag(String),
    /// The image whose manifest has this digest.
    Digest(Digest),
}

/// Finds the index entry a selector names.
pub fn resolve(
    index: &RootIndex,
    selector: &Selector,
    store: &str,
) -> Result<IndexEntry, StoreError> {
    let entries = index.entries()?;
    match selector {
        Selector::Only => match entries
            .iter()
            .filter(|e| !e.tag.as_deref().is_some_and(is_artifact_tag))
            .cloned()
            .collect::<Vec<_>>()
            .as_slice()
        {
            [one] => Ok(one.clone()),
            [] => Err(StoreError::NoSuchImage(format!("{store} holds no image"))),
            many => Err(StoreError::NoSuchImage(format!(
                "{store} holds {} images; name one as {store}:TAG or {store}@DIGEST (tags: {})",
                many.len(),
                tag_list(many)
            ))),
        },
        Selector::Tag(tag) => entries
            .iter()
            .find(|e| e.tag.as_deref() == Some(tag.as_str()))
            .cloned()
            .ok_or_else(|| {
                StoreError::NoSuchImage(format!(
                    "{store} has no image tagged {tag:?} (tags: {})",
                    tag_list(&entries)
                ))
            }),
        Selector::Digest(digest) => entries
            .iter()
            .find(|e| &e.digest == digest)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchImage(format!("{store} has no image {digest}"))),
    }
}

fn tag_list(entries: &[IndexEntry]) -> String {
    let tags: Vec<&str> = entries.iter().filter_map(|e| e.tag.as_deref()).collect();
    if tags.is_empty() {
        "none".to_owned()
    } else {
        tags.join(", ")
    }
}

/// Reads a whole blob into memory, refusing it if it is larger than `limit`
/// (checked before reading), not of the expected `size`, or not matching its digest.
pub fn read_blob(
    store: &dyn ImageStore,
    digest: &Digest,
    size: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>, StoreError> {
    let stored = store
        .blob_size(digest)?
        .ok_or_else(|| StoreError::BlobNotFound(digest.clone()))?;
    for claimed in [Some(stored), size].into_iter().flatten() {
        if claimed > limit {
            return Err(StoreError::TooLarge {
                digest: digest.clone(),
                size: claimed,
                limit,
            });
        }
    }
    if let Some(expected) = size.filter(|&s| s != stored) {
        return Err(StoreError::SizeMismatch {
            digest: digest.clone(),
            expected,
            actual: stored,
        });
    }
    let mut bytes = Vec::with_capacity(stored as usize);
    store
        .open_blob(digest)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(store.describe(), e))?;
    verify_bytes(digest, stored, &bytes)?;
    Ok(bytes)
}

/// Checks bytes against a digest and size.
pub fn verify_bytes(digest: &Digest, size: u64, bytes: &[u8]) -> Result<(), StoreError> {
    if bytes.len() as u64 != size {
        return Err(StoreError::SizeMismatch {
            digest: digest.clone(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let mut digester = digest
        .digester()
        .ok_or_else(|| StoreError::UnsupportedAlgorithm(digest.clone()))?;
    digester.update(bytes);
    let actual = digester.finish();
    if &actual != digest {
        return Err(StoreError::DigestMismatch {
            expected: digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// Streams a blob from one store into another, verified on the way.
pub fn copy_blob(
    from: &dyn ImageStore,
    to: &mut dyn WritableStore,
    digest: &Digest,
    size: u64,
) -> Result<(), StoreError> {
    if to.blob_size(digest)? == Some(size) {
        return Ok(());
    }
    let mut reader = from.open_blob(digest)?;
    to.put_blob(digest, size, &mut reader)
}

/// Copies `content` into `sink`, hashing it: its digest and size.
pub(crate) fn write_hashed(
    algorithm: Algorithm,
    content: &mut dyn Read,
    sink: &mut dyn io::Write,
    path: &Path,
) -> Result<(Digest, u64), StoreError> {
    let mut reader = HashingReader::new(content, algorithm);
    copy_large(&mut reader, sink).map_err(|e| StoreError::io(path, e))?;
    Ok(reader.finish())
}

/// Size of the buffer of [`copy_large`].
pub(crate) const COPY_BUFFER: usize = 64 << 10;

/// `io::copy` with a large buffer (`io::copy` uses 8 KiB through `dyn Write`):
/// fewer system calls and hasher calls for large blobs.
pub(crate) fn copy_large(from: &mut dyn Read, to: &mut dyn io::Write) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// Copies `content` into `sink`, hashing on the way, and checks digest and size.
/// Reads at most `size + 1` bytes, so a longer stream is caught without reading it all.
pub(crate) fn copy_verified(
    digest: &Digest,
    size: u64,
    content: &mut dyn Read,
    sink: &mut dyn io::Write,
    path: &Path,
) -> Result<(), StoreError> {
    let algorithm = digest
        .algorithm()
        .ok_or_else(|| StoreError::UnsupportedAlgorithm(digest.clone()))?;
    let mut reader = HashingReader::new(content.take(size + 1), algorithm);
    copy_large(&mut reader, sink).map_err(|e| StoreError::io(path, e))?;
    let (actual, n) = reader.finish();
    if n != size {
        return Err(StoreError::SizeMismatch {
            digest: digest.clone(),
            expected: size,
            actual: n,
        });
    }
    if &actual != digest {
        return Err(StoreError::DigestMismatch {
            expected: digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// Hashes a whole stream with SHA-256 (used for files given by path).
pub fn sha256_of_reader(reader: &mut dyn Read) -> io::Result<(Digest, u64)> {
    let mut digester = Digester::sha256();
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        digester.update(&buf[..n]);
    }
    let n = digester.len();
    Ok((digester.finish(), n))
}
