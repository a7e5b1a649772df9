//! Copying an image between any two of layout, archive and registry.
//!
//! One algorithm for every direction ([`copy_image`]): resolve the image in
//! the source, read its manifest (verified against its digest), move every
//! blob the manifest names that the destination lacks, streamed and verified
//! against its digest and size, and only then write the manifest and commit.
//! So:
//! - a pull into a layout or archive leaves the destination's `index.json`
//!   as it was when anything fails (the stores' commit is atomic), and no
//!   blob lands under its final name unless its bytes matched;
//! - a push puts the manifest (by tag, or by digest when the reference has
//!   no tag) only after every blob is in the registry, so a tag never points
//!   at a manifest whose blobs are missing.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::client::{BlobPush, OpenBlob};
use super::{Registry, RegistryError};
use crate::digest::Digest;
use crate::limits::MAX_MANIFEST_BYTES;
use crate::media_type as mt;
use crate::store::{self, ImageStore, Selector, WritableStore};

/// Hears about a transfer's progress (for progress bars). All no-ops by default.
pub trait Observer {
    /// A blob transfer starts.
    fn blob_start(&mut self, _digest: &Digest, _size: u64) {}
    /// Bytes of the current blob moved.
    fn blob_progress(&mut self, _bytes: u64) {}
    /// The current blob is done; `how` is `uploaded`, `copied`, `existing` or `mounted`.
    fn blob_done(&mut self, _digest: &Digest, _how: &str) {}
    /// Bytes of the blob `digest` moved, when several blobs move at once
    /// (their events interleave). By default, [`Observer::blob_progress`].
    fn blob_progress_of(&mut self, _digest: &Digest, bytes: u64) {
        self.blob_progress(bytes);
    }
}

/// An observer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;
impl Observer for Quiet {}

/// Where [`copy_image`] writes.
pub trait Sink {
    /// For messages.
    fn describe(&self) -> String;
    /// Whether the destination already has the blob.
    fn has_blob(&mut self, digest: &Digest, size: u64) -> Result<bool, RegistryError>;
    /// Tries to get the blob without sending it (a cross-repository mount).
    fn try_mount(&mut self, _digest: &Digest) -> Result<bool, RegistryError> {
        Ok(false)
    }
    /// Stores a blob from the stream `open` gives, verifying digest and
    /// size (a registry opens it again to start an interrupted upload again).
    fn put_blob<'s>(
        &mut self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError>;
    /// Stores the manifest (its blobs are all present by now) under `tag`.
    fn put_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<(), RegistryError>;
    /// Makes the writes visible.
    fn commit(&mut self) -> Result<(), RegistryError>;
    /// The sink's blob operations for several threads at once, if it has them.
    fn shared(&self) -> Option<Shared<'_>> {
        None
    }
}

/// A layout or archive as a [`Sink`].
pub struct StoreSink<'a>(pub &'a mut dyn WritableStore);

impl Sink for StoreSink<'_> {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn has_blob(&mut self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        Ok(self.0.blob_size(digest)? == Some(size))
    }

    fn put_blob<'s>(
        &mut self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        let mut content = open()?;
        let mut counting = Counting {
            inner: &mut content,
            progress,
        };
        Ok(self.0.put_blob(digest, size, &mut counting)?)
    }

    fn put_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<(), RegistryError> {
        self.0
            .put_blob(digest, bytes.len() as u64, &mut &bytes[..])?;
        self.0
            .add_manifest(media_type, digest, bytes.len() as u64, tag)?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), RegistryError> {
        Ok(self.0.commit()?)
    }

    fn shared(&self) -> Option<Shared<'_>> {
        self.0.shared_writer().map(Shared::Store)
    }
}

struct Counting<'a, 'b> {
    inner: &'a mut dyn Read,
    progress: &'b mut dyn FnMut(u64),
}

impl Read for Counting<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// A registry repository as a [`Sink`].
pub struct RegistrySink<'a> {
    registry: &'a Registry,
    mount_from: Option<String>,
}

impl<'a> RegistrySink<'a> {
    /// Pushes to the repository of `registry`'s reference.
    pub fn new(registry: &'a Registry) -> Self {
        RegistrySink {
            registry,
            mount_from: None,
        }
    }

    /// Mounts blobs from this repository of the same registry when it has them.
    pub fn mount_from(mut self, repository: Option<String>) -> Self {
        self.mount_from = repository;
        self
    }
}

impl RegistrySink<'_> {
    fn has(&self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        let client = self.registry.client();
        let found = client.head_blob_for_push(&self.registry.reference().repository, digest)?;
        Ok(found == Some(size))
    }

    fn mount(&self, digest: &Digest) -> Result<bool, RegistryError> {
        match &self.mount_from {
            Some(from) if *from != self.registry.reference().repository => self
                .registry
                .client()
                .mount_blob(&self.registry.reference().repository, digest, from),
            _ => Ok(false),
        }
    }

    fn upload<'s>(
        &self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        self.registry.client().upload_blob_from(
            &self.registry.reference().repository,
            digest,
            size,
            open,
            progress,
        )
    }
}

impl Sink for RegistrySink<'_> {
    fn describe(&self) -> String {
        self.registry.reference().to_string()
    }

    fn has_blob(&mut self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        self.has(digest, size)
    }

    fn try_mount(&mut self, digest: &Digest) -> Result<bool, RegistryError> {
        self.mount(digest)
    }

    fn put_blob<'s>(
        &mut self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        self.upload(digest, size, open, progress)
    }

    fn shared(&self) -> Option<Shared<'_>> {
        Some(Shared::Registry(self))
    }

    fn put_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<(), RegistryError> {
        let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
        self.registry.client().put_manifest(
            &self.registry.reference().repository,
            &reference,
            media_type,
            bytes,
            digest,
        )
    }

    fn commit(&mut self) -> Result<(), RegistryError> {
        Ok(())
    }
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    /// The manifest digest (the same in source and destination).
    pub digest: Digest,
    /// The manifest media type.
    pub media_type: String,
    /// The manifest size.
    pub size: u64,
    /// The blobs the manifest names.
    pub blobs: usize,
    /// Blobs sent (uploaded or written).
    pub blobs_sent: usize,
    /// Bytes of the blobs sent.
    pub bytes_sent: u64,
    /// Blobs the destination had.
    pub blobs_existing: usize,
    /// Blobs mounted from another repository.
    pub blobs_mounted: usize,
}

/// The config and layer descriptors of a manifest: `(digest, size)`, deduplicated.
pub fn manifest_blobs(bytes: &[u8]) -> Result<Vec<(Digest, u64)>, RegistryError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::Unsupported(format!("manifest is not JSON: {e}")))?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let config = value.get("config").into_iter();
    let layers = value
        .get("layers")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten();
    for (i, d) in config.chain(layers).enumerate() {
        let digest = d
            .get("digest")
            .and_then(|v| v.as_str())
            .ok_or_else(|| RegistryError::Unsupported(format!("descriptor {i} has no digest")))?;
        let digest = Digest::parse(digest)
            .map_err(|e| RegistryError::Unsupported(format!("descriptor {i}: {e}")))?;
        let size = d
            .get("size")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| RegistryError::Unsupported(format!("descriptor {i} has no size")))?;
        if seen.insert(digest.clone()) {
            out.push((digest, size));
        }
    }
    Ok(out)
}

/// Copies the image `selector` names from `src` to `dst`, tagged `tag` there.
pub fn copy_image(
    src: &dyn ImageStore,
    selector: &Selector,
    dst: &mut dyn Sink,
    tag: Option<&str>,
    observer: &mut dyn Observer,
) -> Result<Copied, RegistryError> {
    let entry = store::resolve(&src.root_index()?, selector, &src.describe())?;
    if entry.media_type == mt::OCI_INDEX || entry.media_type == mt::DOCKER_MANIFEST_LIST {
        return Err(RegistryError::Unsupported(format!(
            "{} {}: image indexes are not transferred yet; name one of its manifests by digest",
            src.describe(),
            entry.digest
        )));
    }
    let manifest = store::read_blob(src, &entry.digest, Some(entry.size), MAX_MANIFEST_BYTES)?;
    let blobs = manifest_blobs(&manifest)?;
    let mut copied = Copied {
        digest: entry.digest.clone(),
        media_type: entry.media_type.clone(),
        size: entry.size,
        blobs: blobs.len(),
        blobs_sent: 0,
        bytes_sent: 0,
        blobs_existing: 0,
        blobs_mounted: 0,
    };
    move_blobs(src, dst, &blobs, observer, &mut copied)?;
    dst.put_manifest(&entry.media_type, &entry.digest, &manifest, tag)?;
    dst.commit()?;
    Ok(copied)
}

/// Blobs [`copy_image`] moves at once when source and destination allow it.
pub const CONCURRENT_BLOBS: usize = 4;

/// What a transfer worker tells the thread that owns the observer.
enum Event {
    Start(usize),
    Progress(usize, u64),
    Done(usize, &'static str),
}

/// The destination's blob operations through a shared reference.
trait BlobDst {
    fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool, RegistryError>;
    fn try_mount(&self, digest: &Digest) -> Result<bool, RegistryError>;
    fn put_blob<'s>(
        &self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError>;
}

/// Any sink, one blob at a time.
struct Exclusive<'a>(std::cell::RefCell<&'a mut dyn Sink>);

impl BlobDst for Exclusive<'_> {
    fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        self.0.borrow_mut().has_blob(digest, size)
    }
    fn try_mount(&self, digest: &Digest) -> Result<bool, RegistryError> {
        self.0.borrow_mut().try_mount(digest)
    }
    fn put_blob<'s>(
        &self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        self.0.borrow_mut().put_blob(digest, size, open, progress)
    }
}

/// A registry repository, from several threads.
struct SharedRegistry<'a>(&'a RegistrySink<'a>);

impl BlobDst for SharedRegistry<'_> {
    fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        self.0.has(digest, size)
    }
    fn try_mount(&self, digest: &Digest) -> Result<bool, RegistryError> {
        self.0.mount(digest)
    }
    fn put_blob<'s>(
        &self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        self.0.upload(digest, size, open, progress)
    }
}

/// A layout, from several threads.
struct SharedStore<'a>(&'a (dyn store::SharedBlobWriter + Sync));

impl BlobDst for SharedStore<'_> {
    fn has_blob(&self, _digest: &Digest, _size: u64) -> Result<bool, RegistryError> {
        // `put_blob_shared` keeps a blob already present; checked there.
        Ok(false)
    }
    fn try_mount(&self, _digest: &Digest) -> Result<bool, RegistryError> {
        Ok(false)
    }
    fn put_blob<'s>(
        &self,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        let mut content = open()?;
        let mut counting = Counting {
            inner: &mut content,
            progress,
        };
        Ok(self.0.put_blob_shared(digest, size, &mut counting)?)
    }
}

/// Moves one blob; how (`existing`, `mounted` or `copied`).
fn move_blob(
    src: &dyn ImageStore,
    dst: &dyn BlobDst,
    digest: &Digest,
    size: u64,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<&'static str, RegistryError> {
    if dst.has_blob(digest, size)? {
        progress(size);
        return Ok("existing");
    }
    if dst.try_mount(digest)? {
        progress(size);
        return Ok("mounted");
    }
    // Opened again for each new start of an interrupted upload, but not
    // once another blob has failed the transfer.
    let mut open = || -> Result<Box<dyn Read + '_>, RegistryError> {
        if stop.load(Ordering::Relaxed) {
            return Err(RegistryError::Unsupported("the transfer stopped".into()));
        }
        Ok(src.open_blob(digest)?)
    };
    dst.put_blob(digest, size, &mut open, progress)?;
    Ok("copied")
}

fn count(copied: &mut Copied, how: &str, size: u64) {
    match how {
        "existing" => copied.blobs_existing += 1,
        "mounted" => copied.blobs_mounted += 1,
        _ => {
            copied.blobs_sent += 1;
            copied.bytes_sent += size;
        }
    }
}

/// Moves the blobs, [`CONCURRENT_BLOBS`] at a time when the source can be
/// read from several threads and the destination is a registry or a layout;
/// else one after the other. The observer hears of every blob from this
/// thread. On failure, the error of the first failing blob (in manifest
/// order) is returned once the blobs under way have stopped.
fn move_blobs(
    src: &dyn ImageStore,
    dst: &mut dyn Sink,
    blobs: &[(Digest, u64)],
    observer: &mut dyn Observer,
    copied: &mut Copied,
) -> Result<(), RegistryError> {
    let shared_src = src.as_sync().filter(|_| blobs.len() > 1);
    let shared_dst: Option<Box<dyn BlobDst + Sync + '_>> = match (shared_src, dst.shared()) {
        (Some(_), Some(Shared::Registry(r))) => Some(Box::new(SharedRegistry(r))),
        (Some(_), Some(Shared::Store(w))) => Some(Box::new(SharedStore(w))),
        _ => None,
    };
    let (Some(shared_src), Some(shared_dst)) = (shared_src, shared_dst) else {
        let exclusive = Exclusive(std::cell::RefCell::new(dst));
        for (digest, size) in blobs {
            observer.blob_start(digest, *size);
            let how = move_blob(
                src,
                &exclusive,
                digest,
                *size,
                &mut |n| observer.blob_progress(n),
                &AtomicBool::new(false),
            )?;
            count(copied, how, *size);
            observer.blob_done(digest, how);
        }
        return Ok(());
    };
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Event>();
    let dst: &(dyn BlobDst + Sync) = &*shared_dst;
    let failures: Vec<(usize, RegistryError)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CONCURRENT_BLOBS.min(blobs.len()))
            .map(|_| {
                let tx = tx.clone();
                let (next, stop) = (&next, &stop);
                scope.spawn(move || -> Option<(usize, RegistryError)> {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return None;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let (digest, size) = blobs.get(i)?;
                        let _ = tx.send(Event::Start(i));
                        let progress = &mut |n| {
                            let _ = tx.send(Event::Progress(i, n));
                        };
                        match move_blob(shared_src, dst, digest, *size, progress, stop) {
                            Ok(how) => {
                                let _ = tx.send(Event::Done(i, how));
                            }
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                return Some((i, e));
                            }
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        // Progress bars interleave: each event names its blob.
        for event in rx {
            match event {
                Event::Start(i) => observer.blob_start(&blobs[i].0, blobs[i].1),
                Event::Progress(i, n) => observer.blob_progress_of(&blobs[i].0, n),
                Event::Done(i, how) => {
                    count(copied, how, blobs[i].1);
                    observer.blob_done(&blobs[i].0, how);
                }
            }
        }
        workers
            .into_iter()
            .filter_map(|w| match w.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    match failures.into_iter().min_by_key(|(i, _)| *i) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// What a sink offers for concurrent transfers (see [`Sink::shared`]).
pub enum Shared<'a> {
    /// A registry repository.
    Registry(&'a RegistrySink<'a>),
    /// A store that takes blobs from several threads (a layout).
    Store(&'a (dyn store::SharedBlobWriter + Sync)),
}

/// Pushes the image `selector` names in `src` to `dst`'s reference: by its
/// tag, or by digest when the reference has only a digest (which must then
/// be the image's).
pub fn push(
    src: &dyn ImageStore,
    selector: &Selector,
    dst: &Registry,
    observer: &mut dyn Observer,
) -> Result<Copied, RegistryError> {
    let reference = dst.reference();
    if let Some(want) = &reference.digest {
        let entry = store::resolve(&src.root_index()?, selector, &src.describe())?;
        if &entry.digest != want {
            return Err(RegistryError::Unsupported(format!(
                "{reference} names digest {want}, but the image is {}",
                entry.digest
            )));
        }
    }
    let tag = if reference.digest.is_some() {
        None
    } else {
        reference.tag.clone()
    };
    let mut sink = RegistrySink::new(dst);
    copy_image(src, selector, &mut sink, tag.as_deref(), observer)
}

/// Pulls `src`'s reference into a layout or archive, tagged `tag` there.
pub fn pull(
    src: &Registry,
    dst: &mut dyn WritableStore,
    tag: Option<&str>,
    observer: &mut dyn Observer,
) -> Result<Copied, RegistryError> {
    copy_image(src, &Selector::Only, &mut StoreSink(dst), tag, observer)
}

impl BlobPush {
    /// A word for messages.
    pub fn word(self) -> &'static str {
        match self {
            BlobPush::Existing => "existing",
            BlobPush::Mounted => "mounted",
            BlobPush::Uploaded => "uploaded",
        }
    }
}
