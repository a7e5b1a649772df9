//! Reading blobs (size before hash, one pass) and the payload inside them:
//! raw Wasm layers and the gzip tar layers of the compat variants.

use std::collections::HashSet;
use std::io::{self, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use super::finding::{Finding, Sink, show};
use super::source::{BlobSource, Stat};
use crate::compat::PLUGIN_FILE;
use crate::digest::{Algorithm, Digest, Digester};
use crate::limits::Limits;
use crate::pipe::pipe;
use crate::wasm::{
    InspectOptions, ModuleInfo, ModuleKind, ProxyAbi, StreamingInspector, TruncatedWithin,
    WasmError, default_body_workers,
};

/// The code of a blob that is present but cannot be read.
const UNREADABLE: &str = "WI-LAYOUT-011";

/// What a blob is to the image, which decides the code of a missing blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A manifest, index or config: needed to check the image.
    Document,
    /// A layer: may be fetched from elsewhere.
    Layer,
}

/// A reader that counts and hashes what passes through it.
struct Hashing<R> {
    inner: R,
    digester: Option<Digester>,
    count: u64,
    /// The first read error of the blob itself (not of what decodes it).
    error: Option<String>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted && self.error.is_none() {
                self.error = Some(e.to_string());
            }
        })?;
        if let Some(d) = &mut self.digester {
            d.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// Reads one blob in a single pass: the declared size is checked against
/// `limit` and against the stored size before anything is read; at most
/// `size + 1` bytes are read; the bytes are hashed while `consume` reads them
/// (what it leaves is drained); the result of `consume` is returned only when
/// length and digest are right (or the algorithm cannot be verified).
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_blob<T>(
    src: &dyn BlobSource,
    digest: &Digest,
    size: u64,
    limit: u64,
    role: Role,
    sink: &mut Sink,
    consume: impl FnOnce(&mut dyn Read) -> T + Send,
) -> Option<T>
where
    T: Send,
{
    let location = format!("blob {digest}");
    let absent_code = match role {
        Role::Document => "WI-LAYOUT-006",
        Role::Layer => "WI-LAYOUT-007",
    };
    if size > limit {
        sink.add(
            "WI-LIMIT-006",
            &location,
            format!("the descriptor declares {size} bytes, over the limit of {limit} bytes; the content is not read"),
        );
        return None;
    }
    match src.stat(digest) {
        Stat::Present(stored) if stored != size => {
            if role == Role::Document && stored > limit {
                sink.add(
                    "WI-LIMIT-001",
                    &location,
                    format!("the stored document is {stored} bytes, over the limit of {limit} bytes; not read"),
                );
            }
            sink.add(
                "WI-BLOB-001",
                &location,
                format!("the blob is {stored} bytes but its descriptor says {size}; not read"),
            );
            return None;
        }
        Stat::Present(_) => {}
        Stat::Missing => {
            sink.add(absent_code, &location, format!("blob {digest} is missing"));
            return None;
        }
        Stat::NotRegular(kind) => {
            sink.add(
                "WI-LAYOUT-008",
                &location,
                format!(
                    "{} is {kind}, not a regular file; not opened",
                    digest.layout_path()
                ),
            );
            return None;
        }
        Stat::Error(e) => {
            sink.add(
                UNREADABLE,
                &location,
                format!("blob {digest} cannot be examined: {e}"),
            );
            return None;
        }
    }
    let reader = match src.open(digest) {
        Ok(r) => r,
        Err(e) => {
            sink.add(
                UNREADABLE,
                &location,
                format!("blob {digest} cannot be opened: {e}"),
            );
            return None;
        }
    };
    let mut hashing = Hashing {
        inner: reader.take(size.saturating_add(1)),
        digester: digest.algorithm().map(Digester::new),
        count: 0,
        error: None,
    };
    let value = if size >= OVERLAP_MIN_BYTES {
        overlapped(&mut hashing, consume)
    } else {
        consume(&mut hashing)
    };
    let drained = io::copy(&mut hashing, &mut io::sink());
    if let Some(e) = hashing
        .error
        .take()
        .or(drained.err().map(|e| e.to_string()))
    {
        sink.add(
            UNREADABLE,
            &location,
            format!("blob {digest} cannot be read: {e}"),
        );
        return None;
    }
    if hashing.count != size {
        let found = if hashing.count > size {
            format!(
                "longer than {size} bytes (read {} bytes, then stopped)",
                hashing.count
            )
        } else {
            format!("{} bytes", hashing.count)
        };
        sink.add(
            "WI-BLOB-001",
            &location,
            format!("the blob is {found} but its descriptor says {size}"),
        );
        return None;
    }
    if let Some(d) = hashing.digester.take() {
        let actual = d.finish();
        if &actual != digest {
            sink.add(
                "WI-BLOB-002",
                &location,
                format!("the content hashes to {actual}, not to {digest}"),
            );
            return None;
        }
    }
    Some(value)
}

/// Blobs from this size on are hashed on the caller's thread while another
/// thread consumes them; smaller ones are not worth a thread.
const OVERLAP_MIN_BYTES: u64 = 1 << 20;
/// Size of the chunks handed from the hashing thread to the consumer.
const CHUNK_BYTES: usize = 64 << 10;
/// Chunks that may wait for the consumer (bounds the memory in flight).
const QUEUE_CHUNKS: usize = 4;

/// Runs `consume` on a second thread, fed by a bounded channel of chunks
/// that this thread reads from `src` (which hashes them): hashing and
/// consuming (Wasm validation, decompression) overlap on two cores, and at
/// most `QUEUE_CHUNKS + 2` chunks are in memory. Read errors reach the
/// consumer as they would have directly; when it stops early, reading stops
/// here too (the caller drains the rest).
fn overlapped<T: Send>(src: &mut dyn Read, consume: impl FnOnce(&mut dyn Read) -> T + Send) -> T {
    let (writer, mut reader) = pipe(QUEUE_CHUNKS);
    std::thread::scope(|scope| {
        let consumer = scope.spawn(move || consume(&mut reader));
        loop {
            let mut buf = writer.buffer(CHUNK_BYTES);
            match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if !writer.send(buf) {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    writer.fail(io::Error::new(e.kind(), e.to_string()));
                    break;
                }
            }
        }
        // The end of the stream for the consumer.
        drop(writer);
        match consumer.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reads a whole (bounded) document.
pub(crate) fn read_all(r: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What streaming a payload through the inspector gave.
pub(crate) struct PayloadScan {
    /// The first bytes, to recognise wrapped payloads.
    head: Vec<u8>,
    result: Result<ModuleInfo, WasmError>,
}

const HEAD: usize = 512;

/// Streams a payload through a [`StreamingInspector`] (full validation when
/// `validate`), stopping at the first error.
pub(crate) fn scan_payload(reader: &mut dyn Read, validate: bool, limits: &Limits) -> PayloadScan {
    let mut inspector = StreamingInspector::new(InspectOptions {
        validate,
        max_section_size: limits.max_wasm_section_bytes,
    })
    .with_body_workers(default_body_workers());
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return PayloadScan {
                    head,
                    result: Err(WasmError::Io(e)),
                };
            }
        };
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        if let Err(e) = inspector.push(&buf[..n]) {
            return PayloadScan {
                head,
                result: Err(e),
            };
        }
    }
    PayloadScan {
        head,
        result: inspector.finish(),
    }
}

/// Turns a payload scan into findings; `location` names the layer (and tar entry).
pub(crate) fn payload_findings(
    scan: PayloadScan,
    location: &str,
    limits: &Limits,
    sink: &mut Sink,
) -> Option<ModuleInfo> {
    let at = |offset: u64| format!("{location} wasm offset {offset:#x}");
    match scan.result {
        Ok(info) => {
            module_findings(&info, location, limits, sink);
            Some(info)
        }
        Err(WasmError::Io(e)) => {
            // The blob reader reports the failure (short or unreadable content).
            let _ = e;
            None
        }
        Err(e) => {
            let offset = e.offset().unwrap_or(0);
            let head = &scan.head;
            let wrapped = head.starts_with(&[0x1f, 0x8b]) || head.get(257..262) == Some(b"ustar");
            let message = e.to_string();
            let code = match &e {
                WasmError::NotWasm { .. } if wrapped => "WI-WASM-009",
                WasmError::NotWasm { found } if found.len() < 4 && head.len() < 8 => "WI-WASM-001",
                WasmError::NotWasm { .. } => "WI-WASM-002",
                WasmError::UnsupportedVersion { .. } => "WI-WASM-003",
                WasmError::Truncated {
                    within: TruncatedWithin::Preamble,
                    ..
                } if head.len() < 8 => "WI-WASM-001",
                WasmError::Truncated {
                    within: TruncatedWithin::Section,
                    ..
                } => "WI-WASM-005",
                WasmError::Truncated { .. } => "WI-WASM-006",
                WasmError::Invalid { message, .. } if message.starts_with("invalid var_u32") => {
                    "WI-WASM-006"
                }
                WasmError::TooLarge { .. } => "WI-LIMIT-007",
                _ => "WI-WASM-004",
            };
            let message = if code == "WI-WASM-009" {
                format!(
                    "the payload is {}-wrapped, not raw Wasm: {message}",
                    if head.starts_with(&[0x1f, 0x8b]) {
                        "gzip"
                    } else {
                        "tar"
                    }
                )
            } else if code == "WI-WASM-001" {
                format!(
                    "the payload is only {} bytes, shorter than the 8-byte preamble",
                    head.len()
                )
            } else {
                message
            };
            sink.add(code, at(offset), message);
            None
        }
    }
}

/// Findings about a module that was read completely.
fn module_findings(info: &ModuleInfo, location: &str, limits: &Limits, sink: &mut Sink) {
    if info.size > limits.consumer_max_module_bytes {
        sink.add(
            "WI-WASM-007",
            location,
            format!(
                "the payload is {} bytes, more than the {} bytes Istio and Envoy Gateway load",
                info.size, limits.consumer_max_module_bytes
            ),
        );
    }
    match info.kind {
        ModuleKind::Component => sink.add(
            "WI-WASM-008",
            location,
            format!(
                "component imports [{}], exports [{}]",
                info.imports.join(", "),
                info.exports.join(", ")
            ),
        ),
        ModuleKind::CoreModule => {
            if let Some(abi) = info.proxy_abi {
                sink.add(
                    "WI-ABI-001",
                    location,
                    format!(
                        "the module exports {}: hosts detect proxy-wasm ABI {}",
                        abi.marker(),
                        abi.version()
                    ),
                );
            }
            if info.proxy_abi_markers.len() > 1 {
                let names: Vec<&str> = info.proxy_abi_markers.iter().map(|a| a.marker()).collect();
                sink.add(
                    "WI-ABI-002",
                    location,
                    format!(
                        "the module exports several ABI markers: {}",
                        names.join(", ")
                    ),
                );
            }
            for name in &info.exports {
                match ProxyAbi::from_marker(name) {
                    Some(abi) if !info.proxy_abi_markers.contains(&abi) => sink.add(
                        "WI-ABI-003",
                        location,
                        format!("the export {name} is not a function, so hosts skip it"),
                    ),
                    None if name.starts_with("proxy_abi_version_")
                        && info.function_exports.contains(name) =>
                    {
                        sink.add(
                        "WI-ABI-004",
                        location,
                        format!(
                            "the function export {} names an ABI version no released host recognises",
                            show(name)
                        ),
                    )
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The decompressed stream of a tar layer, with the size and ratio bounds,
/// hashing the uncompressed bytes (the layer's `diff_id`).
struct Decompressed<'a> {
    gz: Option<MultiGzDecoder<BufReader<Counting<'a>>>>,
    plain: Option<Counting<'a>>,
    out: u64,
    limits: Limits,
    tripped: Option<(&'static str, String)>,
    gz_error: Option<String>,
    diff: Digester,
}

struct Counting<'a> {
    inner: &'a mut dyn Read,
    count: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl Read for Decompressed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = match (&mut self.gz, &mut self.plain) {
            (Some(gz), _) => gz
                .read(buf)
                .inspect_err(|e| self.gz_error = Some(e.to_string())),
            (None, Some(plain)) => plain.read(buf),
            (None, None) => Ok(0),
        };
        let n = result?;
        self.out += n as u64;
        self.diff.update(&buf[..n]);
        if self.out > self.limits.max_decompressed_bytes {
            self.tripped = Some((
                "WI-LIMIT-004",
                format!(
                    "the layer decompresses to more than {} bytes",
                    self.limits.max_decompressed_bytes
                ),
            ));
            return Err(io::Error::other("decompressed size limit"));
        }
        if let Some(gz) = &self.gz {
            let compressed = gz.get_ref().get_ref().count.max(1);
            if self.out > self.limits.ratio_free_bytes
                && self.out / compressed > self.limits.max_decompression_ratio
            {
                self.tripped = Some((
                    "WI-LIMIT-005",
                    format!(
                        "the layer decompresses to {} bytes from {compressed}, more than {}:1 (a decompression bomb)",
                        self.out, self.limits.max_decompression_ratio
                    ),
                ));
                return Err(io::Error::other("decompression ratio limit"));
            }
        }
        Ok(n)
    }
}

/// What walking a tar layer gave.
pub(crate) struct TarScan {
    /// Findings about the layer's structure (gzip, tar, entries).
    pub(crate) findings: Vec<Finding>,
    /// The first `plugin.wasm` (its path and the payload scan), if a regular file.
    pub(crate) plugin: Option<(String, PayloadScan)>,
    /// sha256 of the uncompressed tar, when the stream was read to its end.
    pub(crate) diff_id: Option<Digest>,
}

/// Walks a tar layer (gzip-compressed when `gzip`), checking every entry,
/// streaming the first `plugin.wasm` through the Wasm inspector when
/// `find_plugin`, within the bounds of `limits`.
pub(crate) fn scan_tar(
    reader: &mut dyn Read,
    gzip: bool,
    find_plugin: bool,
    limits: &Limits,
    validate: bool,
    location: &str,
) -> TarScan {
    let counting = Counting {
        inner: reader,
        count: 0,
    };
    let mut dec = if gzip {
        Decompressed {
            gz: Some(MultiGzDecoder::new(BufReader::new(counting))),
            plain: None,
            out: 0,
            limits: *limits,
            tripped: None,
            gz_error: None,
            diff: Digester::new(Algorithm::Sha256),
        }
    } else {
        Decompressed {
            gz: None,
            plain: Some(counting),
            out: 0,
            limits: *limits,
            tripped: None,
            gz_error: None,
            diff: Digester::new(Algorithm::Sha256),
        }
    };
    let mut sink = Sink::new();
    let mut plugin: Option<(String, PayloadScan)> = None;
    let mut plugin_paths: Vec<String> = Vec::new();
    let mut failure: Option<String> = None;
    let mut complete = false;
    {
        let mut archive = tar::Archive::new(&mut dec);
        match archive.entries() {
            Err(e) => failure = Some(e.to_string()),
            Ok(entries) => {
                let mut seen: HashSet<String> = HashSet::new();
                let mut count: u64 = 0;
                let mut stopped = false;
                for entry in entries {
                    let mut entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            failure = Some(e.to_string());
                            stopped = true;
                            break;
                        }
                    };
                    count += 1;
                    if count > limits.max_tar_entries {
                        sink.add(
                            "WI-LIMIT-003",
                            location,
                            format!(
                                "the layer holds more than {} tar entries",
                                limits.max_tar_entries
                            ),
                        );
                        stopped = true;
                        break;
                    }
                    let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                    let at = format!("{location} tar entry {path}");
                    if path.starts_with('/') || path.split('/').any(|c| c == "..") {
                        sink.add(
                            "WI-COMPAT-007",
                            &at,
                            format!(
                                "tar entry {} has an absolute path or a `..` component",
                                show(&path)
                            ),
                        );
                    }
                    let kind = entry.header().entry_type();
                    let special = if kind.is_symlink() {
                        Some("a symbolic link")
                    } else if kind.is_hard_link() {
                        Some("a hard link")
                    } else if kind.is_character_special() || kind.is_block_special() {
                        Some("a device")
                    } else if kind.is_fifo() {
                        Some("a FIFO")
                    } else {
                        None
                    };
                    if let Some(special) = special {
                        sink.add(
                            "WI-COMPAT-008",
                            &at,
                            format!("tar entry {} is {special}", show(&path)),
                        );
                    }
                    let normal = path
                        .trim_start_matches("./")
                        .trim_end_matches('/')
                        .to_owned();
                    if !seen.insert(normal.clone()) {
                        sink.add(
                            "WI-COMPAT-009",
                            &at,
                            format!("tar entry {} appears more than once", show(&path)),
                        );
                    }
                    let base = normal.rsplit('/').next().unwrap_or("");
                    if find_plugin && base == PLUGIN_FILE {
                        if plugin_paths.is_empty() {
                            if kind.is_file() {
                                let scan = scan_payload(&mut entry, validate, limits);
                                // Finish the entry so that tar or gzip failures
                                // inside it are seen as such.
                                if let Err(e) = io::copy(&mut entry, &mut io::sink()) {
                                    failure = Some(e.to_string());
                                    stopped = true;
                                    plugin = Some((path.clone(), scan));
                                    plugin_paths.push(normal);
                                    break;
                                }
                                plugin = Some((path.clone(), scan));
                            } else {
                                sink.add(
                                    "WI-COMPAT-006",
                                    &at,
                                    format!("the first entry named plugin.wasm, {}, is not a regular file", show(&path)),
                                );
                            }
                        } else if !plugin_paths.contains(&normal) {
                            sink.add(
                                "WI-COMPAT-010",
                                &at,
                                format!(
                                    "{} also has the base name plugin.wasm; consumers take the first, {}",
                                    show(&path),
                                    show(&plugin_paths[0])
                                ),
                            );
                        }
                        plugin_paths.push(normal);
                    }
                }
                complete = !stopped;
            }
        }
    }
    if complete {
        // The rest of the stream (end-of-archive blocks, padding), for the
        // diff_id and the gzip trailer.
        if let Err(e) = io::copy(&mut dec, &mut io::sink()) {
            failure = Some(e.to_string());
            complete = false;
        }
    }
    if let Some(failure) = failure {
        complete = false;
        if let Some((code, message)) = dec.tripped.take() {
            sink.add(code, location, message);
        } else if let Some(gz) = dec.gz_error.take() {
            sink.add(
                "WI-COMPAT-003",
                location,
                format!("the layer is not well-formed gzip: {gz}"),
            );
        } else {
            sink.add(
                "WI-COMPAT-004",
                location,
                format!("the layer is not a well-formed tar stream: {failure}"),
            );
        }
    }
    if complete && find_plugin && plugin_paths.is_empty() {
        sink.add(
            "WI-COMPAT-005",
            location,
            "the layer has no entry whose base name is plugin.wasm",
        );
    }
    let diff_id = complete.then(|| dec.diff.clone().finish());
    TarScan {
        findings: sink.findings,
        plugin,
        diff_id,
    }
}
