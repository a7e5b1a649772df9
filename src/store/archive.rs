//! An OCI archive: a tar file holding an image layout (`oci-archive:` in
//! skopeo's terms). It is read in place, without unpacking: one pass over the
//! tar headers records where each blob's bytes are, and blobs are then read
//! straight from the file. Writes are staged in a temporary layout and the
//! archive is written to a temporary file renamed over the target at commit.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::layout::{check_header, write_atomically_with};
use super::{ImageStore, Layout, StoreError, WritableStore};
use crate::digest::Digest;
use crate::limits::{MAX_ARCHIVE_ENTRIES, MAX_INDEX_BYTES, MAX_LAYOUT_HEADER_BYTES};
use crate::manifest::RootIndex;

/// Where one member's bytes are inside the archive file.
#[derive(Debug, Clone, Copy)]
struct Member {
    offset: u64,
    size: u64,
}

/// An OCI archive file.
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    members: BTreeMap<String, Member>,
    index: RootIndex,
    staging: Option<Staging>,
}

#[derive(Debug)]
struct Staging {
    // Kept for its lifetime: the directory is removed when the archive is dropped.
    _dir: tempfile::TempDir,
    layout: Layout,
}

/// Whether a file looks like a tar archive (the `ustar` magic at offset 257).
pub fn is_archive(path: &Path) -> bool {
    let mut header = [0u8; 263];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map(|()| &header[257..262] == b"ustar")
        .unwrap_or(false)
}

fn normalise(name: &str) -> String {
    name.trim_start_matches("./")
        .trim_end_matches('/')
        .to_owned()
}

impl Archive {
    /// Opens an existing archive for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let members = scan(&path)?;
        let not_layout = |reason: String| StoreError::NotALayout {
            path: path.clone(),
            reason,
        };
        let read_member = |name: &str, limit: u64| -> Result<Vec<u8>, StoreError> {
            let member = members
                .get(name)
                .ok_or_else(|| not_layout(format!("archive has no {name}: not an OCI archive")))?;
            if member.size > limit {
                return Err(not_layout(format!(
                    "{name} is {} bytes, over the limit of {limit}",
                    member.size
                )));
            }
            let mut bytes = Vec::new();
            open_member(&path, *member)?
                .read_to_end(&mut bytes)
                .map_err(|e| StoreError::io(&path, e))?;
            Ok(bytes)
        };
        check_header(&read_member("oci-layout", MAX_LAYOUT_HEADER_BYTES)?).map_err(not_layout)?;
        let index = RootIndex::parse(
            &read_member("index.json", MAX_INDEX_BYTES)?,
            MAX_INDEX_BYTES,
        )?;
        Ok(Archive {
            path,
            members,
            index,
            staging: None,
        })
    }

    /// Opens the archive at `path` for adding images, or starts a new one.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let mut archive = if path.exists() {
            Self::open(path)?
        } else {
            Archive {
                path: path.to_path_buf(),
                members: BTreeMap::new(),
                index: RootIndex::new(),
                staging: None,
            }
        };
        archive.stage()?;
        Ok(archive)
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn stage(&mut self) -> Result<&mut Layout, StoreError> {
        if self.staging.is_none() {
            let parent = self
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let dir = tempfile::Builder::new()
                .prefix(".wasm-image-staging-")
                .tempdir_in(parent)
                .map_err(|e| StoreError::io(parent, e))?;
            let layout = Layout::open_or_create(dir.path().join("layout"))?;
            self.staging = Some(Staging { _dir: dir, layout });
        }
        match &mut self.staging {
            Some(s) => Ok(&mut s.layout),
            None => unreachable!("staging set above"),
        }
    }
}

fn scan(path: &Path) -> Result<BTreeMap<String, Member>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut archive = tar::Archive::new(io::BufReader::new(file));
    let mut members = BTreeMap::new();
    let entries = archive.entries().map_err(|e| StoreError::io(path, e))?;
    for (count, entry) in entries.enumerate() {
        if count as u64 >= MAX_ARCHIVE_ENTRIES {
            return Err(StoreError::NotALayout {
                path: path.to_path_buf(),
                reason: format!("more than {MAX_ARCHIVE_ENTRIES} entries"),
            });
        }
        let entry = entry.map_err(|e| StoreError::io(path, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| StoreError::io(path, e))?;
        let name = normalise(&name.to_string_lossy());
        let member = Member {
            offset: entry.raw_file_position(),
            size: entry.size(),
        };
        members.insert(name, member);
    }
    Ok(members)
}

fn open_member(path: &Path, member: Member) -> Result<impl Read + use<>, StoreError> {
    let mut file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    file.seek(SeekFrom::Start(member.offset))
        .map_err(|e| StoreError::io(path, e))?;
    Ok(file.take(member.size))
}

impl ImageStore for Archive {
    fn as_sync(&self) -> Option<&(dyn ImageStore + Sync)> {
        Some(self)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StoreError> {
        if let Some(staged) = &self.staging
            && let Some(size) = staged.layout.blob_size(digest)?
        {
            return Ok(Some(size));
        }
        Ok(self.members.get(&digest.layout_path()).map(|m| m.size))
    }

    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError> {
        if let Some(staged) = &self.staging
            && staged.layout.blob_size(digest)?.is_some()
        {
            return staged.layout.open_blob(digest);
        }
        let member = self
            .members
            .get(&digest.layout_path())
            .ok_or_else(|| StoreError::BlobNotFound(digest.clone()))?;
        Ok(Box::new(open_member(&self.path, *member)?))
    }

    fn root_index(&self) -> Result<RootIndex, StoreError> {
        Ok(self.index.clone())
    }
}

impl WritableStore for Archive {
    fn put_blob(
        &mut self,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
    ) -> Result<(), StoreError> {
        if self.members.get(&digest.layout_path()).map(|m| m.size) == Some(size) {
            return Ok(());
        }
        self.stage()?.put_blob(digest, size, content)
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
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let Some(staging) = &self.staging else {
            return Ok(());
        };
        // Every blob of the new archive: the old members and the staged ones.
        let mut blobs: BTreeMap<String, Source> = self
            .members
            .iter()
            .filter(|(name, _)| name.starts_with("blobs/"))
            .map(|(name, m)| (name.clone(), Source::Old(*m)))
            .collect();
        let staged_root = staging.layout.root().join("blobs");
        if staged_root.is_dir() {
            for alg in fs::read_dir(&staged_root).map_err(|e| StoreError::io(&staged_root, e))? {
                let alg = alg.map_err(|e| StoreError::io(&staged_root, e))?;
                for blob in fs::read_dir(alg.path()).map_err(|e| StoreError::io(alg.path(), e))? {
                    let blob = blob.map_err(|e| StoreError::io(alg.path(), e))?;
                    let name = format!(
                        "blobs/{}/{}",
                        alg.file_name().to_string_lossy(),
                        blob.file_name().to_string_lossy()
                    );
                    if !name.contains("/.wasm-image-") {
                        blobs.insert(name, Source::Staged(blob.path()));
                    }
                }
            }
        }
        let index = self.index.to_bytes();
        let source_path = self.path.clone();
        write_atomically_with(&self.path, |w| {
            write_tar(w, &source_path, &index, &blobs).map_err(|e| StoreError::io(&source_path, e))
        })?;
        // Reopen so that reads see the new file.
        let reopened = Archive::open(&self.path)?;
        self.members = reopened.members;
        self.index = reopened.index;
        self.staging = None;
        Ok(())
    }
}

enum Source {
    Old(Member),
    Staged(PathBuf),
}

/// Writes the archive with fixed headers (mode, owner, time), sorted names,
/// so the same layout always gives the same archive bytes.
fn write_tar(
    out: &mut dyn Write,
    old: &Path,
    index: &[u8],
    blobs: &BTreeMap<String, Source>,
) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    let header = |size: u64, dir: bool| {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(if dir { 0o755 } else { 0o644 });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h
    };
    let put_file =
        |tar: &mut tar::Builder<&mut dyn Write>, name: &str, size: u64, data: &mut dyn Read| {
            let mut h = header(size, false);
            tar.append_data(&mut h, name, data)
        };
    put_file(
        &mut tar,
        "oci-layout",
        super::LAYOUT_HEADER.len() as u64,
        &mut &super::LAYOUT_HEADER[..],
    )?;
    put_file(&mut tar, "index.json", index.len() as u64, &mut &index[..])?;
    let mut dirs: Vec<String> = vec!["blobs".into()];
    for name in blobs.keys() {
        if let Some((dir, _)) = name.rsplit_once('/')
            && !dirs.iter().any(|d| d == dir)
        {
            dirs.push(dir.to_owned());
        }
    }
    for dir in &dirs {
        let mut h = header(0, true);
        tar.append_data(&mut h, format!("{dir}/"), io::empty())?;
    }
    for (name, source) in blobs {
        match source {
            Source::Old(member) => {
                let mut r = open_member(old, *member).map_err(io::Error::other)?;
                put_file(&mut tar, name, member.size, &mut r)?;
            }
            Source::Staged(path) => {
                let mut f = File::open(path)?;
                let size = f.metadata()?.len();
                put_file(&mut tar, name, size, &mut f)?;
            }
        }
    }
    tar.finish()
}
