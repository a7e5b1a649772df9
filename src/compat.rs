//! The `tar+gzip` layer of the compat variants: writing it reproducibly, and
//! finding `plugin.wasm` in it the way the proxy consumers do (first entry
//! whose base name is `plugin.wasm`), within the bounds of [`Limits`].

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;

use crate::digest::{Algorithm, Digest, HashingWriter};
use crate::limits::Limits;

/// The file name the consumers look for.
pub const PLUGIN_FILE: &str = "plugin.wasm";
/// The optional runtime config beside it.
pub const RUNTIME_CONFIG_FILE: &str = "runtime-config.json";

/// Writes the compat layer: a gzip stream (mtime 0, no file name, OS byte 255)
/// of a tar holding `plugin.wasm` and, if given, `runtime-config.json`, with
/// fixed headers (mode 0644, uid and gid 0, no owner names, mtime `mtime`).
/// Returns the digest of the uncompressed tar (the config's `diff_id`).
pub fn write_layer(
    module: &mut dyn Read,
    module_size: u64,
    runtime_config: Option<&[u8]>,
    mtime: u64,
    out: &mut dyn Write,
) -> io::Result<Digest> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, Compression::default());
    let mut tar = tar::Builder::new(HashingWriter::new(gzip, Algorithm::Sha256));
    tar.mode(tar::HeaderMode::Deterministic);
    let header = |size: u64| {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h
    };
    tar.append_data(
        &mut header(module_size),
        PLUGIN_FILE,
        module.take(module_size),
    )?;
    if let Some(config) = runtime_config {
        tar.append_data(
            &mut header(config.len() as u64),
            RUNTIME_CONFIG_FILE,
            config,
        )?;
    }
    let hashing = tar.into_inner()?;
    let (gzip, diff_id, _) = hashing.finish();
    gzip.finish()?;
    Ok(diff_id)
}

/// Why a compat layer did not yield `plugin.wasm`.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// Not a gzip stream, or a broken one.
    #[error("layer is not a valid gzip stream: {0}")]
    Gzip(io::Error),
    /// A broken tar.
    #[error("layer tar is malformed: {0}")]
    Tar(io::Error),
    /// No entry named `plugin.wasm`.
    #[error("plugin.wasm not found in the layer")]
    NoPlugin,
    /// More entries than [`Limits::max_tar_entries`].
    #[error("layer has more than {0} tar entries")]
    TooManyEntries(u64),
    /// Decompressed more than [`Limits::max_decompressed_bytes`].
    #[error("layer decompresses to more than {0} bytes")]
    TooBig(u64),
    /// Decompression ratio above [`Limits::max_decompression_ratio`].
    #[error("layer decompresses more than {0}:1 (a decompression bomb?)")]
    Ratio(u64),
    /// The consumer of the plugin bytes failed.
    #[error("{0}")]
    Sink(String),
}

/// A reader that counts compressed bytes consumed.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A reader over decompressed bytes that enforces the size and ratio bounds.
struct Bounded<R> {
    decoder: GzDecoder<Counting<R>>,
    out: u64,
    limits: Limits,
    tripped: Option<CompatError>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf)?;
        self.out += n as u64;
        if self.out > self.limits.max_decompressed_bytes {
            self.tripped = Some(CompatError::TooBig(self.limits.max_decompressed_bytes));
            return Err(io::Error::other("decompressed size limit"));
        }
        let compressed = self.decoder.get_ref().count.max(1);
        if self.out > self.limits.ratio_free_bytes
            && self.out / compressed > self.limits.max_decompression_ratio
        {
            self.tripped = Some(CompatError::Ratio(self.limits.max_decompression_ratio));
            return Err(io::Error::other("decompression ratio limit"));
        }
        Ok(n)
    }
}

/// Streams the bytes of the first `plugin.wasm` of a compat layer into `sink`,
/// in chunks; returns the entry's path in the tar and its size.
pub fn read_plugin(
    layer: &mut dyn Read,
    limits: &Limits,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<(String, u64), CompatError> {
    let mut bounded = Bounded {
        decoder: GzDecoder::new(Counting {
            inner: layer,
            count: 0,
        }),
        out: 0,
        limits: *limits,
        tripped: None,
    };
    let result = find_in_tar(&mut bounded, limits, sink);
    match (result, bounded.tripped) {
        (Err(_), Some(bound)) => Err(bound),
        (result, _) => result,
    }
}

fn find_in_tar(
    input: &mut dyn Read,
    limits: &Limits,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<(String, u64), CompatError> {
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(classify)?;
    for (count, entry) in entries.enumerate() {
        if count as u64 >= limits.max_tar_entries {
            return Err(CompatError::TooManyEntries(limits.max_tar_entries));
        }
        let mut entry = entry.map_err(classify)?;
        let path = entry
            .path()
            .map_err(CompatError::Tar)?
            .to_string_lossy()
            .into_owned();
        let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if base != PLUGIN_FILE || !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        let mut buf = vec![0u8; 64 << 10];
        let mut read = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(classify)?;
            if n == 0 {
                break;
            }
            read += n as u64;
            sink(&buf[..n]).map_err(CompatError::Sink)?;
        }
        // The tar reader ends an entry quietly when the stream ends early.
        if read != size {
            return Err(CompatError::Tar(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path} is truncated: the layer ends after {read} of its {size} bytes"),
            )));
        }
        return Ok((path, size));
    }
    Err(CompatError::NoPlugin)
}

fn classify(e: io::Error) -> CompatError {
    // flate2 reports corrupt streams as InvalidInput/InvalidData; the tar
    // crate reports its own problems as other kinds.
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => CompatError::Gzip(e),
        _ => CompatError::Tar(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(module: &[u8], config: Option<&[u8]>) -> (Vec<u8>, Digest) {
        let mut out = Vec::new();
        let diff = write_layer(&mut &module[..], module.len() as u64, config, 0, &mut out).unwrap();
        (out, diff)
    }

    #[test]
    fn writes_reproducibly_and_reads_back() {
        let module = b"\0asm\x01\0\0\0";
        let (a, da) = layer(module, Some(b"{}"));
        let (b, db) = layer(module, Some(b"{}"));
        assert_eq!((a.clone(), da), (b, db));
        assert_eq!(&a[..2], &[0x1f, 0x8b]);
        assert_eq!(&a[4..8], &[0, 0, 0, 0], "gzip mtime must be 0");
        let mut got = Vec::new();
        let (path, size) = read_plugin(&mut &a[..], &Limits::default(), &mut |c| {
            got.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            (path.as_str(), size, got.as_slice()),
            ("plugin.wasm", 8, &module[..])
        );
    }

    #[test]
    fn bounds_decompression() {
        let zeros = vec![0u8; 8 << 20];
        let (bomb, _) = layer(&zeros, None);
        let limits = Limits::default();
        let err = read_plugin(&mut &bomb[..], &limits, &mut |_| Ok(())).unwrap_err();
        assert!(matches!(err, CompatError::Ratio(100)), "{err}");
        let small = Limits {
            max_decompressed_bytes: 4096,
            ..Limits::default()
        };
        let (plain, _) = layer(&[1u8; 8192], None);
        let err = read_plugin(&mut &plain[..], &small, &mut |_| Ok(())).unwrap_err();
        assert!(matches!(err, CompatError::TooBig(4096)), "{err}");
        let err = read_plugin(&mut &b"not gzip at all"[..], &limits, &mut |_| Ok(())).unwrap_err();
        assert!(
            matches!(err, CompatError::Gzip(_) | CompatError::Tar(_)),
            "{err}"
        );
    }
}
