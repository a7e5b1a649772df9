//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<encoded>`).
//!
//! Blobs are written to a temporary file beside their final path, hashed on
//! the way, synced and renamed into place; `index.json` is replaced the same
//! way at commit. An interrupted write therefore leaves the old layout readable.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::writeback::Writeback;
use super::{
    ImageStore, LAYOUT_HEADER, LAYOUT_VERSION, SharedBlobWriter, StoreError, WritableStore,
    copy_verified, write_hashed,
};
use crate::digest::Algorithm;
use crate::digest::Digest;
use crate::limits::{MAX_INDEX_BYTES, MAX_LAYOUT_HEADER_BYTES};
use crate::manifest::RootIndex;

/// An OCI image layout on disk.
#[derive(Debug)]
pub struct Layout {
    root: PathBuf,
    index: RootIndex,
    dirty: bool,
}

impl Layout {
    /// Opens an existing layout, checking its header and reading its index.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref().to_path_buf();
        let not_layout = |reason: String| StoreError::NotALayout {
            path: root.clone(),
            reason,
        };
        let header_path = root.join("oci-layout");
        let header = read_bounded(&header_path, MAX_LAYOUT_HEADER_BYTES).map_err(|e| match e {
            StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                not_layout("no oci-layout file: not an OCI image layout".into())
            }
            other => other,
        })?;
        check_header(&header).map_err(not_layout)?;
        let index_bytes = read_bounded(&root.join("index.json"), MAX_INDEX_BYTES)?;
        let index = RootIndex::parse(&index_bytes, MAX_INDEX_BYTES)?;
        Ok(Layout {
            root,
            index,
            dirty: false,
        })
    }

    /// Opens the layout at `root`, or starts a new one there (the directory is
    /// created if missing and must otherwise be empty). Nothing is written
    /// until the first blob or the commit.
    pub fn open_or_create(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref();
        if root.join("oci-layout").exists() {
            return Self::open(root);
        }
        if root.exists() {
            let mut entries = fs::read_dir(root).map_err(|e| StoreError::io(root, e))?;
            if entries.next().is_some() {
                return Err(StoreError::NotALayout {
                    path: root.to_path_buf(),
                    reason:
                        "exists, is not empty and has no oci-layout file; refusing to write into it"
                            .into(),
                });
            }
        }
        Ok(Layout {
            root: root.to_path_buf(),
            index: RootIndex::new(),
            dirty: true,
        })
    }

    /// The layout's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path a blob has (or would have) in this layout.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join(digest.layout_path())
    }

    fn ensure_skeleton(&self) -> Result<(), StoreError> {
        let blobs = self.root.join("blobs");
        fs::create_dir_all(&blobs).map_err(|e| StoreError::io(&blobs, e))?;
        let header = self.root.join("oci-layout");
        if !header.exists() {
            write_atomically(&header, LAYOUT_HEADER)?;
        }
        Ok(())
    }
}

/// What a non-regular file is, for [`StoreError::NotARegularFile`].
fn file_kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Checks an `oci-layout` header.
pub fn check_header(bytes: &[u8]) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("oci-layout is not JSON: {e}"))?;
    match value.get("imageLayoutVersion").and_then(|v| v.as_str()) {
        Some(LAYOUT_VERSION) => Ok(()),
        Some(other) => Err(format!(
            "imageLayoutVersion {other:?} is not {LAYOUT_VERSION:?}"
        )),
        None => Err("oci-layout has no imageLayoutVersion string".into()),
    }
}

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(StoreError::NotALayout {
            path: path.to_path_buf(),
            reason: format!("larger than the limit of {limit} bytes"),
        });
    }
    Ok(bytes)
}

/// Writes a file through a temporary file in the same directory, synced and
/// renamed over the target, so readers see the old or the new content, never a mix.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomically_with(path, |w| {
        w.write_all(bytes).map_err(|e| StoreError::io(path, e))
    })
}

/// Like [`write_atomically`], with the content produced by `fill`.
pub(crate) fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".wasm-image-")
        .tempfile_in(dir)
        .map_err(|e| StoreError::io(dir, e))?;
    let mut writer = BufWriter::new(Writeback::new(temp.as_file()));
    fill(&mut writer)?;
    writer
        .into_inner()
        .map_err(|e| StoreError::io(path, e.into_error()))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| StoreError::io(path, e))?;
    temp.persist(path)
        .map_err(|e| StoreError::io(path, e.error))?;
    Ok(())
}

impl SharedBlobWriter for Layout {
    fn put_blob_shared(
        &self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError> {
        if self.blob_size(digest)? == Some(size) {
            return Ok(());
        }
        self.ensure_skeleton()?;
        let path = self.blob_path(digest);
        write_atomically_with(&path, |w| copy_verified(digest, size, content, w, &path))
    }
}

impl ImageStore for Layout {
    fn as_sync(&self) -> Option<&(dyn ImageStore + Sync)> {
        Some(self)
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    /// The size of a blob stored as a regular file. A path that is a
    /// symbolic link (never followed), directory, device or FIFO is
    /// [`StoreError::NotARegularFile`].
    fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StoreError> {
        let path = self.blob_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => Ok(Some(m.len())),
            Ok(m) => Err(StoreError::NotARegularFile {
                path,
                kind: file_kind(&m.file_type()),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    /// Opens a blob stored as a regular file; refuses a symbolic link
    /// (checked on the path, not followed) or any other kind of file.
    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError> {
        let path = self.blob_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => {}
            Ok(m) => {
                return Err(StoreError::NotARegularFile {
                    path,
                    kind: file_kind(&m.file_type()),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound(digest.clone()));
            }
            Err(e) => return Err(StoreError::io(path, e)),
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound(digest.clone()));
            }
            Err(e) => return Err(StoreError::io(path, e)),
        };
        // The path may have been swapped since it was examined: the opened
        // file itself must be a regular file too.
        match file.metadata() {
            Ok(m) if m.is_file() => Ok(Box::new(file)),
            Ok(m) => Err(StoreError::NotARegularFile {
                path,
                kind: file_kind(&m.file_type()),
            }),
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    fn root_index(&self) -> Result<RootIndex, StoreError> {
        Ok(self.index.clone())
    }
}

impl WritableStore for Layout {
    fn put_blob(
        &mut self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError> {
        self.put_blob_shared(digest, size, content)
    }

    fn shared_writer(&self) -> Option<&(dyn SharedBlobWriter + Sync)> {
        Some(self)
    }

    /// One pass: the bytes go to a temporary file in the blob directory
    /// while they are hashed, which is renamed to its digest's path.
    fn put_blob_hashed(
        &mut self,
        algorithm: Algorithm,
        content: &mut dyn Read,
        accept: &mut dyn FnMut(&Digest, u64) -> bool,
    ) -> Result<Option<(Digest, u64)>, StoreError> {
        // Nothing is created in the layout before `accept`: the temporary
        // file goes into the blob directory if it exists, else into the
        // nearest existing directory above it (the same file system, so
        // that it can be renamed).
        let dir = self.root.join("blobs").join(algorithm.name());
        let near = dir
            .ancestors()
            .find(|d| d.is_dir())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let temp = tempfile::Builder::new()
            .prefix(".wasm-image-")
            .tempfile_in(&near)
            .map_err(|e| StoreError::io(&near, e))?;
        let mut file = Writeback::new(temp.as_file());
        let (digest, size) = write_hashed(algorithm, content, &mut file, &near)?;
        if !accept(&digest, size) {
            return Ok(None);
        }
        if self.blob_size(&digest)? == Some(size) {
            return Ok(Some((digest, size)));
        }
        self.ensure_skeleton()?;
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let path = self.blob_path(&digest);
        temp.as_file()
            .sync_all()
            .map_err(|e| StoreError::io(&path, e))?;
        if let Err(e) = temp.persist(&path) {
            // Not renameable (another file system): copy it, verified.
            let mut temp = e.file;
            temp.rewind().map_err(|e| StoreError::io(&path, e))?;
            self.put_blob(&digest, size, &mut temp)?;
        }
        Ok(Some((digest, size)))
    }

    fn add_manifest(
        &mut self,
        media_type: &str,
        digest: &Digest,
        size: u64,
        tag: Option<&str>,
    ) -> Result<(), StoreError> {
        if self.blob_size(digest)? != Some(size) {
            return Err(StoreError::BlobNotFound(digest.clone()));
        }
        self.index.add(media_type, digest, size, tag);
        self.dirty = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if !self.dirty {
            return Ok(());
        }
        self.ensure_skeleton()?;
        write_atomically(&self.root.join("index.json"), &self.index.to_bytes())?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WritableStore;

    fn layout_with_blob(dir: &Path, content: &[u8]) -> (Layout, Digest) {
        let mut layout = Layout::open_or_create(dir.join("layout")).expect("new layout");
        let digest = Digest::sha256_of(content);
        layout
            .put_blob(&digest, content.len() as u64, &mut &content[..])
            .expect("blob stored");
        (layout, digest)
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_blob_is_refused() {
        let temp = tempfile::tempdir().expect("temp dir");
        let (layout, digest) = layout_with_blob(temp.path(), b"real content");
        assert_eq!(layout.blob_size(&digest).expect("regular"), Some(12));
        // Replace the blob with a link to a file outside the layout holding the same bytes.
        let outside = temp.path().join("outside");
        fs::write(&outside, b"real content").expect("write");
        let path = layout.blob_path(&digest);
        fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink(&outside, &path).expect("symlink");
        for err in [
            layout.blob_size(&digest).expect_err("size refused"),
            layout.open_blob(&digest).err().expect("open refused"),
        ] {
            match &err {
                StoreError::NotARegularFile { path: p, kind } => {
                    assert_eq!(p, &path);
                    assert_eq!(*kind, "a symbolic link");
                }
                other => panic!("unexpected error {other:?}"),
            }
            assert!(err.to_string().contains("symbolic link"), "{err}");
        }
        let read = crate::store::read_blob(&layout, &digest, Some(12), 1 << 20);
        assert!(matches!(read, Err(StoreError::NotARegularFile { .. })));
    }

    #[test]
    fn a_directory_in_place_of_a_blob_is_refused() {
        let temp = tempfile::tempdir().expect("temp dir");
        let (layout, digest) = layout_with_blob(temp.path(), b"x");
        let path = layout.blob_path(&digest);
        fs::remove_file(&path).expect("remove");
        fs::create_dir(&path).expect("dir");
        assert!(matches!(
            layout.blob_size(&digest),
            Err(StoreError::NotARegularFile {
                kind: "a directory",
                ..
            })
        ));
        assert!(matches!(
            layout.open_blob(&digest).err(),
            Some(StoreError::NotARegularFile {
                kind: "a directory",
                ..
            })
        ));
    }

    #[test]
    fn a_missing_blob_is_not_found() {
        let temp = tempfile::tempdir().expect("temp dir");
        let (layout, _) = layout_with_blob(temp.path(), b"x");
        let other = Digest::sha256_of(b"absent");
        assert_eq!(layout.blob_size(&other).expect("no error"), None);
        assert!(matches!(
            layout.open_blob(&other).err(),
            Some(StoreError::BlobNotFound(_))
        ));
    }
}
