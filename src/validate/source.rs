//! Where blobs come from: any [`ImageStore`], or a layout directory or OCI
//! archive opened leniently by [`super::validate_path`] (no header or index
//! checks on open, blob paths checked to be regular files before they are opened).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::store::{ImageStore, StoreError};

/// What is at a blob's place.
#[derive(Debug, Clone)]
pub(crate) enum Stat {
    /// A regular file of this size.
    Present(u64),
    /// Nothing.
    Missing,
    /// Something that must not be opened (a link, directory, device, FIFO).
    NotRegular(String),
    /// The place could not be examined.
    Error(String),
}

/// Read access to blobs, as the validator needs it.
pub(crate) trait BlobSource {
    fn stat(&self, digest: &Digest) -> Stat;
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String>;
    /// The same source, when several threads may read it at once (a layout
    /// directory or an archive; not an arbitrary store).
    fn as_sync(&self) -> Option<&(dyn BlobSource + Sync)> {
        None
    }
    /// How many threads should read it at once (see [`ImageStore::preferred_readers`]).
    fn readers(&self) -> usize {
        crate::store::cores()
    }
}

/// A [`BlobSource`] over any store; read from several threads when the
/// store allows it ([`ImageStore::as_sync`]), by as many as it asks for
/// ([`ImageStore::preferred_readers`]).
pub(crate) struct StoreSource<'a> {
    store: &'a dyn ImageStore,
    shared: Option<SharedStoreSource<'a>>,
}

impl<'a> StoreSource<'a> {
    pub(crate) fn new(store: &'a dyn ImageStore) -> Self {
        StoreSource {
            store,
            shared: store.as_sync().map(SharedStoreSource),
        }
    }
}

/// A store that several threads may read at once.
pub(crate) struct SharedStoreSource<'a>(&'a (dyn ImageStore + Sync));

fn store_stat(store: &dyn ImageStore, digest: &Digest) -> Stat {
    match store.blob_size(digest) {
        Ok(Some(n)) => Stat::Present(n),
        Ok(None) => Stat::Missing,
        Err(StoreError::NotARegularFile { kind, .. }) => Stat::NotRegular(kind.to_owned()),
        Err(e) => Stat::Error(e.to_string()),
    }
}

fn store_open<'s>(
    store: &'s dyn ImageStore,
    digest: &Digest,
) -> Result<Box<dyn Read + 's>, String> {
    store.open_blob(digest).map_err(|e| match e {
        StoreError::BlobNotFound(d) => format!("blob {d} is not in the store"),
        other => other.to_string(),
    })
}

impl BlobSource for StoreSource<'_> {
    fn stat(&self, digest: &Digest) -> Stat {
        store_stat(self.store, digest)
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String> {
        store_open(self.store, digest)
    }

    fn as_sync(&self) -> Option<&(dyn BlobSource + Sync)> {
        self.shared.as_ref().map(|s| s as &(dyn BlobSource + Sync))
    }

    fn readers(&self) -> usize {
        self.store.preferred_readers()
    }
}

impl BlobSource for SharedStoreSource<'_> {
    fn stat(&self, digest: &Digest) -> Stat {
        store_stat(self.0, digest)
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String> {
        store_open(self.0, digest)
    }

    fn as_sync(&self) -> Option<&(dyn BlobSource + Sync)> {
        Some(self)
    }

    fn readers(&self) -> usize {
        self.0.preferred_readers()
    }
}

/// A layout directory, read without trusting it.
pub(crate) struct DirSource {
    pub(crate) root: PathBuf,
}

impl BlobSource for DirSource {
    fn as_sync(&self) -> Option<&(dyn BlobSource + Sync)> {
        Some(self)
    }

    fn stat(&self, digest: &Digest) -> Stat {
        let path = self.root.join(digest.layout_path());
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => Stat::Present(m.len()),
            Ok(m) => Stat::NotRegular(describe_type(&m.file_type())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Stat::Missing,
            Err(e) => Stat::Error(format!("{}: {e}", path.display())),
        }
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String> {
        let path = self.root.join(digest.layout_path());
        let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // The path could have been swapped for something else since `stat`.
        match file.metadata() {
            Ok(m) if m.is_file() => Ok(Box::new(file)),
            Ok(_) => Err(format!("{} is not a regular file", path.display())),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

fn describe_type(t: &fs::FileType) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO".into();
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device".into();
        }
        if t.is_socket() {
            return "a socket".into();
        }
    }
    if t.is_symlink() {
        "a symbolic link".into()
    } else if t.is_dir() {
        "a directory".into()
    } else {
        "not a regular file".into()
    }
}

/// One member of an archive.
#[derive(Debug, Clone)]
pub(crate) enum Member {
    File { offset: u64, size: u64 },
    Other(String),
}

/// An OCI archive (a tar of a layout), scanned once for its members.
pub(crate) struct ArchiveSource {
    pub(crate) path: PathBuf,
    pub(crate) members: BTreeMap<String, Member>,
}

/// Why an archive could not be scanned.
pub(crate) enum ScanError {
    /// The file cannot be read at all.
    Io(io::Error),
    /// The tar is broken or too big; the members found so far are kept.
    Broken(String, BTreeMap<String, Member>),
}

impl ArchiveSource {
    pub(crate) fn scan(path: &Path, max_entries: u64) -> Result<Self, ScanError> {
        let file = File::open(path).map_err(ScanError::Io)?;
        let mut archive = tar::Archive::new(BufReader::new(file));
        let mut members = BTreeMap::new();
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return Err(ScanError::Broken(e.to_string(), members)),
        };
        for (count, entry) in entries.enumerate() {
            if count as u64 >= max_entries {
                return Err(ScanError::Broken(
                    format!("more than {max_entries} tar entries"),
                    members,
                ));
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return Err(ScanError::Broken(e.to_string(), members)),
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_owned();
            let kind = entry.header().entry_type();
            let member = if kind.is_file() {
                Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                }
            } else if kind.is_dir() {
                Member::Other("a directory".into())
            } else if kind.is_symlink() {
                Member::Other("a symbolic link".into())
            } else if kind.is_hard_link() {
                Member::Other("a hard link".into())
            } else {
                Member::Other("not a regular file".into())
            };
            members.insert(name, member);
        }
        Ok(ArchiveSource {
            path: path.to_path_buf(),
            members,
        })
    }

    /// Reads a member whole, up to `limit + 1` bytes.
    pub(crate) fn read_member(&self, name: &str, limit: u64) -> Option<Result<Vec<u8>, String>> {
        match self.members.get(name)? {
            Member::File { offset, size } => {
                let mut bytes = Vec::new();
                let result = File::open(&self.path)
                    .and_then(|mut f| {
                        f.seek(SeekFrom::Start(*offset))?;
                        f.take((*size).min(limit + 1)).read_to_end(&mut bytes)
                    })
                    .map(|_| bytes)
                    .map_err(|e| format!("{}: {e}", self.path.display()));
                Some(result)
            }
            Member::Other(kind) => Some(Err(format!("{name} is {kind}"))),
        }
    }
}

impl BlobSource for ArchiveSource {
    fn as_sync(&self) -> Option<&(dyn BlobSource + Sync)> {
        Some(self)
    }

    fn stat(&self, digest: &Digest) -> Stat {
        match self.members.get(&digest.layout_path()) {
            Some(Member::File { size, .. }) => Stat::Present(*size),
            Some(Member::Other(kind)) => Stat::NotRegular(kind.clone()),
            None => Stat::Missing,
        }
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String> {
        match self.members.get(&digest.layout_path()) {
            Some(Member::File { offset, size }) => {
                let mut f =
                    File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
                f.seek(SeekFrom::Start(*offset))
                    .map_err(|e| format!("{}: {e}", self.path.display()))?;
                Ok(Box::new(f.take(*size)))
            }
            Some(Member::Other(kind)) => Err(format!("{} is {kind}", digest.layout_path())),
            None => Err(format!("{} is not in the archive", digest.layout_path())),
        }
    }
}
