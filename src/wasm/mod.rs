//! Wasm module and component inspection and validation.
//!
//! This module owns everything the crate learns from the bytes of a Wasm
//! layer: whether it is a core module or a component (by its preamble), its
//! top-level imports and exports (for the CNCF config's `component` object),
//! the proxy-wasm ABI markers a proxy host would detect, the names of its
//! custom sections, and full structural validation with `wasmparser`.
//!
//! There is one engine, a streaming section framer ([`StreamingInspector`]);
//! [`inspect`] and [`validate`] run the same engine over a whole slice without
//! copying, so the slice and streaming forms always agree.
//!
//! # Memory bound of streaming
//!
//! The inspector buffers at most one *unit* at a time, each capped by
//! [`InspectOptions::max_section_size`] (plus a few header bytes):
//! - a non-custom section that has to be decoded (with `validate: false`
//!   only the import and export sections are decoded; the others are
//!   skipped unread);
//! - with `validate: true`, one function body of the code section at a time
//!   (the code section itself is streamed, so its total size is not capped);
//! - the name of a custom section (at most 100 000 bytes, the `wasmparser`
//!   string limit). Custom section payloads are never buffered.
//!
//! Nested modules and components of a component are framed recursively, so
//! the same bound applies inside them (their total size is not capped, apart
//! from `wasmparser`'s 1 GiB limit on a nested module). With `validate: true`
//! the `wasmparser::Validator` additionally keeps its own state (types,
//! function signatures, …), which grows with the declarations of the module,
//! not with code or data size.

mod machine;
mod pool;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Read;

use serde::Serialize;

use machine::Machine;

/// Preamble of a core Wasm module: magic `\0asm`, version 1, layer 0.
pub const CORE_MODULE_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// Preamble of a Wasm component: magic `\0asm`, version `0x0d`, layer 1.
pub const COMPONENT_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// The Wasm magic number, the first four bytes of every module or component.
pub const WASM_MAGIC: [u8; 4] = [0x00, 0x61, 0x73, 0x6d];

/// Default for [`InspectOptions::max_section_size`]: 64 MiB.
pub const DEFAULT_MAX_SECTION_SIZE: u64 = 64 * 1024 * 1024;

/// Whether a binary is a core module or a component, from its preamble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleKind {
    /// A core Wasm module (preamble [`CORE_MODULE_PREAMBLE`]); CNCF `os` `wasip1`.
    CoreModule,
    /// A component (preamble [`COMPONENT_PREAMBLE`]); CNCF `os` `wasip2`.
    Component,
}

impl ModuleKind {
    /// The kebab-case name, as serialised: `core-module` or `component`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::CoreModule => "core-module",
            ModuleKind::Component => "component",
        }
    }
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proxy-wasm ABI version, announced by exporting a marker function.
///
/// Serialises as its [`version`](ProxyAbi::version) spelling (`"v0.2.1"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ProxyAbi {
    /// `proxy_abi_version_0_1_0`.
    #[serde(rename = "v0.1.0")]
    V0_1_0,
    /// `proxy_abi_version_0_2_0` (TinyGo SDK).
    #[serde(rename = "v0.2.0")]
    V0_2_0,
    /// `proxy_abi_version_0_2_1` (Rust SDK; adds `proxy_get_log_level`).
    #[serde(rename = "v0.2.1")]
    V0_2_1,
}

impl ProxyAbi {
    /// Every ABI version that proxy-wasm-cpp-host recognises, oldest first.
    pub const ALL: [ProxyAbi; 3] = [ProxyAbi::V0_1_0, ProxyAbi::V0_2_0, ProxyAbi::V0_2_1];

    /// The exported function name that announces this version, e.g. `proxy_abi_version_0_2_1`.
    pub fn marker(self) -> &'static str {
        match self {
            ProxyAbi::V0_1_0 => "proxy_abi_version_0_1_0",
            ProxyAbi::V0_2_0 => "proxy_abi_version_0_2_0",
            ProxyAbi::V0_2_1 => "proxy_abi_version_0_2_1",
        }
    }

    /// The version whose marker is exactly `name`.
    pub fn from_marker(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|abi| abi.marker() == name)
    }

    /// The version as spelled in runtime configuration, e.g. `v0.2.1`.
    pub fn version(self) -> &'static str {
        match self {
            ProxyAbi::V0_1_0 => "v0.1.0",
            ProxyAbi::V0_2_0 => "v0.2.0",
            ProxyAbi::V0_2_1 => "v0.2.1",
        }
    }

    /// The version spelled exactly `v` (`v0.2.1`; no other spelling is accepted).
    pub fn from_version(v: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|abi| abi.version() == v)
    }
}

/// What inspection learned about a module or component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleInfo {
    /// Core module or component.
    pub kind: ModuleKind,
    /// Size of the binary in bytes.
    pub size: u64,
    /// Core module: export names in order. Component: top-level export names
    /// (e.g. `wasi:http/incoming-handler@0.2.0`, or a bare function name like `add`).
    pub exports: Vec<String>,
    /// Core module: the names of the exports of kind function (`0x00`), in
    /// export order (a subset of `exports`). Component: empty.
    pub function_exports: Vec<String>,
    /// Core module: imports as `module::name`. Component: top-level import
    /// names (e.g. `wasi:cli/environment@0.2.0`).
    pub imports: Vec<String>,
    /// The proxy-wasm ABI the host would pick: first exported *function* whose
    /// name is a marker, in export order. Always `None` for a component.
    pub proxy_abi: Option<ProxyAbi>,
    /// Every marker exported as a function, in export order.
    pub proxy_abi_markers: Vec<ProxyAbi>,
    /// Names of the top-level custom sections, in order (e.g. `name`,
    /// `io.kubewarden.metadata`). Custom sections of nested modules are not listed.
    pub custom_sections: Vec<String>,
}

/// Where a truncated input ended, for callers that report the cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncatedWithin {
    /// Inside the 8-byte preamble (of the module or of a nested one).
    Preamble,
    /// Inside a section header (id byte and LEB128 length).
    SectionHeader,
    /// Inside a section whose declared length runs past the end of the input.
    Section,
    /// Elsewhere.
    Other,
}
/// Why a binary could not be inspected or is invalid.
///
/// Every variant but [`Io`](WasmError::Io) carries the byte offset (see
/// [`WasmError::offset`]); offsets are from the start of the binary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WasmError {
    /// The input does not start with the Wasm magic `00 61 73 6d` (offset 0).
    #[error("not a WebAssembly binary: {}", describe_not_wasm(found))]
    NotWasm {
        /// The first bytes of the input (at most 4; fewer if the input is shorter).
        found: Vec<u8>,
    },
    /// The magic is right but the version/layer field is neither a core module
    /// (`01 00 00 00`) nor a component (`0d 00 01 00`).
    #[error(
        "unsupported WebAssembly version at offset {offset:#x}: found {}, expected 01 00 00 00 (core module) or 0d 00 01 00 (component){}",
        hex(found),
        version_hint(found)
    )]
    UnsupportedVersion {
        /// Offset of the version field (4).
        offset: u64,
        /// The four version/layer bytes found.
        found: [u8; 4],
    },
    /// The input ends before the module or component does.
    #[error("truncated WebAssembly binary: input ends at offset {offset:#x}: {message}")]
    Truncated {
        /// Where the input ended (its length).
        offset: u64,
        /// What was being read when it ended.
        within: TruncatedWithin,
        /// What was being read, in words.
        message: String,
    },
    /// Malformed or invalid content.
    #[error("invalid WebAssembly at offset {offset:#x}: {message}")]
    Invalid {
        /// Offset of the offending byte.
        offset: u64,
        /// What is wrong (the `wasmparser` message for parse and validation errors).
        message: String,
    },
    /// A section (or function body) that would have to be buffered is larger
    /// than [`InspectOptions::max_section_size`]; nothing was allocated for it.
    #[error("{what} at offset {offset:#x} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Offset of the section (or function body) header.
        offset: u64,
        /// What is too large, e.g. `data section (id 11)`.
        what: String,
        /// Its declared size in bytes.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Reading the input failed.
    #[error("reading the WebAssembly binary failed: {0}")]
    Io(#[from] std::io::Error),
}

impl WasmError {
    /// Byte offset the error refers to; `None` for [`WasmError::Io`].
    pub fn offset(&self) -> Option<u64> {
        match self {
            WasmError::NotWasm { .. } => Some(0),
            WasmError::UnsupportedVersion { offset, .. }
            | WasmError::Truncated { offset, .. }
            | WasmError::Invalid { offset, .. }
            | WasmError::TooLarge { offset, .. } => Some(*offset),
            WasmError::Io(_) => None,
        }
    }

    /// A copy, so that a streaming inspector can report the same error again
    /// from `finish` (`std::io::Error` is not `Clone`; its kind and text are kept).
    fn duplicate(&self) -> WasmError {
        match self {
            WasmError::NotWasm { found } => WasmError::NotWasm {
                found: found.clone(),
            },
            WasmError::UnsupportedVersion { offset, found } => WasmError::UnsupportedVersion {
                offset: *offset,
                found: *found,
            },
            WasmError::Truncated {
                offset,
                within,
                message,
            } => WasmError::Truncated {
                offset: *offset,
                within: *within,
                message: message.clone(),
            },
            WasmError::Invalid { offset, message } => WasmError::Invalid {
                offset: *offset,
                message: message.clone(),
            },
            WasmError::TooLarge {
                offset,
                what,
                size,
                limit,
            } => WasmError::TooLarge {
                offset: *offset,
                what: what.clone(),
                size: *size,
                limit: *limit,
            },
            WasmError::Io(e) => WasmError::Io(std::io::Error::new(e.kind(), e.to_string())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_not_wasm(found: &[u8]) -> String {
    if found.is_empty() {
        "the input is empty".to_string()
    } else if found.len() < 4 {
        format!(
            "the input is only {} bytes long ({}); a Wasm binary starts with 00 61 73 6d",
            found.len(),
            hex(found)
        )
    } else {
        format!("expected magic 00 61 73 6d, found {}", hex(found))
    }
}

fn version_hint(found: &[u8; 4]) -> &'static str {
    match found {
        [_, _, 0x01, 0x00] => {
            "; this is a component of an older or newer binary-format draft, rebuild it with current tooling"
        }
        _ => "",
    }
}

/// How a [`StreamingInspector`] works.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// Run full structural validation (`wasmparser::Validator` with the
    /// default, stable feature set, which includes the component model).
    pub validate: bool,
    /// Largest section (or, when validating, function body) that may be
    /// buffered; a larger one is [`WasmError::TooLarge`], checked on its
    /// declared length before anything is allocated. Custom sections are
    /// never buffered and are not subject to it.
    pub max_section_size: u64,
}

impl Default for InspectOptions {
    /// No validation, [`DEFAULT_MAX_SECTION_SIZE`].
    fn default() -> Self {
        InspectOptions {
            validate: false,
            max_section_size: DEFAULT_MAX_SECTION_SIZE,
        }
    }
}

/// Inspects a whole binary without full validation: checks the preamble and
/// the section framing (every section length, the end of nested modules and
/// components) and decodes only the sections reported in [`ModuleInfo`]; the
/// others are skipped unread. Fast; used by the encoder. Same as
/// [`inspect_with`] with `InspectOptions::default()`.
pub fn inspect(bytes: &[u8]) -> Result<ModuleInfo, WasmError> {
    inspect_with(bytes, InspectOptions::default())
}

/// Fully validates a whole binary (`wasmparser::Validator`, stable features
/// including the component model), then returns what [`inspect`] returns.
/// Same as [`inspect_with`] with `validate: true` and the default limit.
pub fn validate(bytes: &[u8]) -> Result<ModuleInfo, WasmError> {
    inspect_with(
        bytes,
        InspectOptions {
            validate: true,
            ..InspectOptions::default()
        },
    )
}

/// Inspects or validates a whole binary with explicit options, without
/// copying it; the result is the one [`StreamingInspector`] gives with the
/// same options. A slice needs no buffering, so
/// `max_section_size: u64::MAX` is safe here to accept sections over the
/// default limit (e.g. a 100 MiB data section) when validating.
pub fn inspect_with(bytes: &[u8], options: InspectOptions) -> Result<ModuleInfo, WasmError> {
    let mut machine = Machine::new(options);
    // The whole input is present: one call with `eof` consumes it all (or fails).
    machine.advance(bytes, true)?;
    machine.into_info()
}

/// Inspects (or, with `options.validate`, validates) a binary read from
/// `reader` in 64 KiB chunks, with the memory bound of [`StreamingInspector`].
pub fn inspect_reader<R: Read>(
    mut reader: R,
    options: InspectOptions,
) -> Result<ModuleInfo, WasmError> {
    let mut inspector = StreamingInspector::new(options);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(WasmError::Io(e)),
        };
        inspector.push(&chunk[..n])?;
    }
    inspector.finish()
}

/// The number of body workers worth starting on this machine (see
/// [`StreamingInspector::with_body_workers`]): the available parallelism, at
/// most 4; 0 (the caller's thread) on a single core.
pub fn default_body_workers() -> usize {
    match std::thread::available_parallelism().map(|n| n.get()) {
        Ok(n) if n > 1 => n.min(4),
        _ => 0,
    }
}

/// Streaming form for big layers: bytes are pushed in chunks as they are read
/// from a blob (while another party hashes them); memory stays bounded (see
/// the [module documentation](self) for the bound).
///
/// Errors are reported as early as they are detected and are the same,
/// offsets included, however the input is split into chunks.
pub struct StreamingInspector {
    machine: Machine,
    /// Bytes of an incomplete unit (section header, section, function body
    /// or custom-section name) carried over between pushes.
    pending: Vec<u8>,
    /// The first error, reported again by `finish`.
    failed: Option<WasmError>,
}

impl fmt::Debug for StreamingInspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingInspector")
            .field("offset", &self.machine.offset())
            .field("pending", &self.pending.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl StreamingInspector {
    /// A new inspector expecting the first byte of a binary.
    pub fn new(options: InspectOptions) -> Self {
        StreamingInspector {
            machine: Machine::new(options),
            pending: Vec::new(),
            failed: None,
        }
    }

    /// Validates the function bodies of large code sections (from 1 MiB) on
    /// `workers` threads while this inspector frames the rest (0, the
    /// default: on the caller's thread). Memory stays bounded (a few batches
    /// of 256 KiB of bodies in flight). Errors and their offsets are those of
    /// sequential validation; an invalid body is then reported by a later
    /// [`push`](Self::push) or by [`finish`](Self::finish) rather than by the
    /// push that carried it. Without `options.validate` this does nothing.
    pub fn with_body_workers(mut self, workers: usize) -> Self {
        self.machine.set_body_workers(workers);
        self
    }

    /// Feeds the next chunk. Returns an error as soon as one is detected;
    /// after an error further pushes are no-ops and `finish` returns it again.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), WasmError> {
        if self.failed.is_some() {
            return Ok(());
        }
        let result = self.push_inner(chunk);
        if let Err(e) = &result {
            self.failed = Some(e.duplicate());
        }
        result
    }

    fn push_inner(&mut self, mut chunk: &[u8]) -> Result<(), WasmError> {
        while !chunk.is_empty() {
            if self.pending.is_empty() {
                // Work directly on the caller's chunk; keep only the tail that
                // is an incomplete unit (smaller than what the machine needs,
                // which is capped by `max_section_size` before it is asked for).
                let used = self.machine.advance(chunk, false)?;
                self.pending.extend_from_slice(&chunk[used..]);
                return Ok(());
            }
            // Top the carried-over bytes up to what the machine needs, no more,
            // so the buffer never holds more than one unit.
            let want = self
                .machine
                .needed()
                .saturating_sub(self.pending.len())
                .max(1);
            let take = want.min(chunk.len());
            self.pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.pending.len() < self.machine.needed() {
                continue;
            }
            let used = self.machine.advance(&self.pending, false)?;
            self.pending.drain(..used);
        }
        Ok(())
    }

    /// Number of bytes pushed and processed so far (excluding buffered ones).
    pub fn offset(&self) -> u64 {
        self.machine.offset()
    }

    /// Ends the input and returns what was learned, or the first error.
    pub fn finish(mut self) -> Result<ModuleInfo, WasmError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let pending = std::mem::take(&mut self.pending);
        self.machine.advance(&pending, true)?;
        self.machine.into_info()
    }
}

/// Lets an inspector be the sink of `std::io::copy` or a tee: a push error
/// becomes an `io::Error` wrapping the [`WasmError`], and
/// [`finish`](StreamingInspector::finish) returns the typed error.
impl std::io::Write for StreamingInspector {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
