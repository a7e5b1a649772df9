//! Input decoders shared by the fuzz targets and by `tests/fuzz_regressions.rs`
//! (which includes this file by path), so a crashing input replays the same
//! way in the normal suite. Depends only on crates the main crate has.

use std::fs;
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// Separates the files of a layout input: `oci-layout`, `index.json`, then blobs.
pub const SEPARATOR: &[u8] = b"\n~~~~\n";

/// Most sections read from one input.
pub const MAX_SECTIONS: usize = 10;

/// Splits an input at [`SEPARATOR`] (at most [`MAX_SECTIONS`] pieces; the last keeps the rest).
pub fn sections(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < MAX_SECTIONS {
        match find(rest, SEPARATOR) {
            Some(at) => {
                out.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Replaces the placeholders `@@N` (by `sha256:<hex>` of blob N) and `##N`
/// (by the size of blob N) for every `N` in `refs`, so that the fuzzer can
/// write documents that name other blobs of the same input correctly.
pub fn substitute(
    bytes: &[u8],
    blobs: &[(String, usize)],
    refs: std::ops::Range<usize>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 2 < bytes.len()
            && (bytes[i..i + 2] == *b"@@" || bytes[i..i + 2] == *b"##")
            && bytes[i + 2].is_ascii_digit()
        {
            let n = usize::from(bytes[i + 2] - b'0');
            if refs.contains(&n) && n < blobs.len() {
                let (digest, size) = &blobs[n];
                if bytes[i] == b'@' {
                    out.extend_from_slice(digest.as_bytes());
                } else {
                    out.extend_from_slice(size.to_string().as_bytes());
                }
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The files of a layout input: `(oci-layout, index.json, blobs)`. Blobs are
/// resolved last to first, so blob `i` may name any blob after it and
/// `index.json` may name any blob. An empty `oci-layout` or `index.json`
/// section means the file is absent.
pub struct LayoutFiles {
    /// `oci-layout`, if present.
    pub header: Option<Vec<u8>>,
    /// `index.json`, if present.
    pub index: Option<Vec<u8>>,
    /// `(digest, bytes)` of each blob.
    pub blobs: Vec<(String, Vec<u8>)>,
}

/// Decodes a layout input.
pub fn layout_files(data: &[u8]) -> LayoutFiles {
    let parts = sections(data);
    let header = parts.first().filter(|p| !p.is_empty()).map(|p| p.to_vec());
    let raw_blobs: Vec<&[u8]> = parts.iter().skip(2).copied().collect();
    let n = raw_blobs.len();
    let mut resolved: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut names: Vec<(String, usize)> = vec![(String::new(), 0); n];
    for i in (0..n).rev() {
        let bytes = substitute(raw_blobs[i], &names, i + 1..n);
        names[i] = (
            format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
            bytes.len(),
        );
        resolved[i] = bytes;
    }
    let index = parts
        .get(1)
        .filter(|p| !p.is_empty())
        .map(|p| substitute(p, &names, 0..n));
    let blobs = names.into_iter().map(|(d, _)| d).zip(resolved).collect();
    LayoutFiles {
        header,
        index,
        blobs,
    }
}

/// Writes a layout input as a layout directory at `root` (which must exist).
pub fn write_layout(root: &Path, data: &[u8]) -> std::io::Result<()> {
    let files = layout_files(data);
    if let Some(h) = &files.header {
        fs::write(root.join("oci-layout"), h)?;
    }
    if let Some(i) = &files.index {
        fs::write(root.join("index.json"), i)?;
    }
    let dir = root.join("blobs").join("sha256");
    fs::create_dir_all(&dir)?;
    for (digest, bytes) in &files.blobs {
        let hex = digest.trim_start_matches("sha256:");
        fs::write(dir.join(hex), bytes)?;
    }
    Ok(())
}

/// A temporary directory on a RAM disk when there is one (faster fuzzing).
pub fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
}

/// The compat-layer input: the first byte picks raw mode (the rest is the
/// layer as is, gzip and all) or tar mode (the rest is a tar, gzipped here
/// so that the fuzzer reaches the tar reader).
pub fn compat_layer_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match data.split_first() {
        None => Vec::new(),
        Some((mode, rest)) if mode & 1 == 0 => rest.to_vec(),
        Some((_, rest)) => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = gz.write_all(rest);
            gz.finish().unwrap_or_default()
        }
    }
}

/// Chunk sizes for the streaming Wasm inspector, derived from the input
/// itself (a tiny xorshift seeded by its length and first bytes), so the
/// corpus stays plain `.wasm` files and every run splits the same way.
pub fn chunk_sizes(data: &[u8]) -> impl Iterator<Item = usize> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ data.len() as u64;
    for &b in data.iter().rev().take(8) {
        state = state.rotate_left(8) ^ u64::from(b);
    }
    state |= 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 4 {
            0 => 1,
            1 => 1 + (state >> 8) as usize % 8,
            2 => 1 + (state >> 8) as usize % 64,
            _ => 1 + (state >> 8) as usize % 4096,
        }
    })
}
