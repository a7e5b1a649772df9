//! The section framer behind [`inspect`](super::inspect), [`validate`](super::validate)
//! and [`StreamingInspector`](super::StreamingInspector).
//!
//! Why the framing is hand-written instead of driving `wasmparser::Parser`:
//! `Parser::parse` needs a whole section resident in memory before it returns
//! its payload, custom sections included (only the code section is streamed),
//! so a 2 GiB DWARF custom section would have to be buffered, and `Parser` has
//! no way to skip bytes it has not seen (its `skip_section` works only for the
//! code section). So this module reads the section headers itself (id byte +
//! LEB128 length), skips custom-section payloads and unneeded sections
//! without buffering them, buffers the other sections one at a time (capped
//! by `max_section_size` on the declared length, before allocating), streams
//! function bodies, recurses into the nested modules and components of a
//! component, and hands `wasmparser` section readers and `Payload`s built
//! over exactly the section bytes (with their absolute offsets).
//!
//! `wasmparser::Validator` relies on checks that `Parser` makes while framing
//! (section order, function/code and data-count consistency, a single
//! component start section); those are replicated here, with `Parser`'s
//! messages, whenever validating.
//!
//! The machine works like `Parser::parse`: [`Machine::advance`] is given the
//! bytes available from the current offset and consumes whole units; errors
//! depend only on the bytes, never on how the input was split.

use wasmparser::{
    BinaryReader, BinaryReaderError, ComponentAliasSectionReader, ComponentCanonicalSectionReader,
    ComponentExportSectionReader, ComponentImportSectionReader, ComponentInstanceSectionReader,
    ComponentStartFunction, ComponentTypeSectionReader, CoreTypeSectionReader, CustomSectionReader,
    DataSectionReader, ElementSectionReader, Encoding, ExportSectionReader, ExternalKind,
    FuncValidatorAllocations, FunctionBody, FunctionSectionReader, GlobalSectionReader,
    ImportSectionReader, InstanceSectionReader, MemorySectionReader, Payload, TableSectionReader,
    TagSectionReader, TypeSectionReader, Validator, WasmFeatures,
};

use super::pool::{BATCH_BYTES, BodyPool};
use super::{
    InspectOptions, ModuleInfo, ModuleKind, ProxyAbi, TruncatedWithin, WASM_MAGIC, WasmError,
};

/// `wasmparser`'s limit on a string, which bounds a custom section name.
const MAX_NAME_LEN: u64 = 100_000;
/// `wasmparser`'s limit on a nested module or component.
const MAX_NESTED_SIZE: u64 = 1024 * 1024 * 1024;

pub(super) fn invalid(e: BinaryReaderError) -> WasmError {
    WasmError::Invalid {
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

fn bail<T>(offset: u64, message: impl Into<String>) -> Result<T, WasmError> {
    Err(WasmError::Invalid {
        offset,
        message: message.into(),
    })
}

/// Result of one step of the machine.
enum Step {
    /// This many bytes were consumed (possibly 0 after a state change).
    Consumed(usize),
    /// At least this many bytes, counted from the current offset, are needed.
    NeedMore(usize),
    /// The top-level module or component ended.
    Done,
}

/// An unsigned LEB128 `u32` read from a prefix of a buffer.
enum Leb {
    /// Value and encoded length.
    Value(u32, usize),
    /// The buffer ends inside the number.
    Incomplete,
    /// Longer than 5 bytes, or more than 32 bits.
    Malformed(&'static str),
}

fn read_leb_u32(buf: &[u8]) -> Leb {
    let mut value: u32 = 0;
    for (i, &byte) in buf.iter().enumerate().take(5) {
        if i == 4 && byte & 0x70 != 0 {
            return Leb::Malformed(if byte & 0x80 != 0 {
                "invalid var_u32: integer representation too long"
            } else {
                "invalid var_u32: integer too large"
            });
        }
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Leb::Value(value, i + 1);
        }
        if i == 4 {
            return Leb::Malformed("invalid var_u32: integer representation too long");
        }
    }
    Leb::Incomplete
}

/// Module section order, as `wasmparser::Parser` enforces it.
fn module_order(id: u8) -> Option<u8> {
    Some(match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => return None,
    })
}

/// A human name for a section, for messages.
fn section_name(encoding: Encoding, id: u8) -> &'static str {
    match (encoding, id) {
        (_, 0) => "custom section",
        (Encoding::Module, 1) => "type section",
        (Encoding::Module, 2) => "import section",
        (Encoding::Module, 3) => "function section",
        (Encoding::Module, 4) => "table section",
        (Encoding::Module, 5) => "memory section",
        (Encoding::Module, 6) => "global section",
        (Encoding::Module, 7) => "export section",
        (Encoding::Module, 8) => "start section",
        (Encoding::Module, 9) => "element section",
        (Encoding::Module, 10) => "code section",
        (Encoding::Module, 11) => "data section",
        (Encoding::Module, 12) => "data count section",
        (Encoding::Module, 13) => "tag section",
        (Encoding::Component, 1) => "core module section",
        (Encoding::Component, 2) => "core instance section",
        (Encoding::Component, 3) => "core type section",
        (Encoding::Component, 4) => "component section",
        (Encoding::Component, 5) => "instance section",
        (Encoding::Component, 6) => "alias section",
        (Encoding::Component, 7) => "type section",
        (Encoding::Component, 8) => "canonical section",
        (Encoding::Component, 9) => "start section",
        (Encoding::Component, 10) => "import section",
        (Encoding::Component, 11) => "export section",
        _ => "unknown section",
    }
}

/// One module or component being framed: the top level, or a nested one.
struct Frame {
    /// The encoding a nested header must have; `None` at top level.
    expect: Option<Encoding>,
    /// Set once the header is read.
    encoding: Encoding,
    /// End offset of a nested module or component; `None` at top level.
    end: Option<u64>,
    /// Structural checks `wasmparser::Parser` would make (validation only).
    last_order: (u8, u64),
    function_entries: Option<u32>,
    code_entries: Option<u32>,
    data_entries: Option<u32>,
    data_count: Option<u32>,
    component_start: bool,
}

impl Frame {
    fn new(expect: Option<Encoding>, end: Option<u64>) -> Self {
        Frame {
            expect,
            encoding: expect.unwrap_or(Encoding::Module),
            end,
            last_order: (0, 0),
            function_entries: None,
            code_entries: None,
            data_entries: None,
            data_count: None,
            component_start: false,
        }
    }

    fn update_order(&mut self, id: u8, pos: u64) -> Result<(), WasmError> {
        if self.encoding != Encoding::Module {
            return Ok(());
        }
        // A step is retried at the same position when the section is not
        // complete yet, hence the position (as in `Parser::update_order`).
        if let Some(order) = module_order(id) {
            if self.last_order.0 >= order && self.last_order.1 < pos {
                return bail(pos, "section out of order");
            }
            self.last_order = (order, pos);
        }
        Ok(())
    }

    fn check_function_code_counts(&self, pos: u64) -> Result<(), WasmError> {
        match (self.function_entries, self.code_entries) {
            (Some(n), Some(m)) if n != m => {
                bail(pos, "function and code section have inconsistent lengths")
            }
            (Some(n), None) if n > 0 => bail(
                pos,
                "function section has non-zero count but code section is absent",
            ),
            (None, Some(m)) if m > 0 => bail(
                pos,
                "function section is absent but code section has non-zero count",
            ),
            _ => Ok(()),
        }
    }

    fn check_data_count(&self, pos: u64) -> Result<(), WasmError> {
        match (self.data_count, self.data_entries) {
            (Some(n), Some(m)) if n != m => {
                bail(pos, "data count and data section have inconsistent lengths")
            }
            (Some(n), None) if n > 0 => {
                bail(pos, "data count is non-zero but data section is absent")
            }
            _ => Ok(()),
        }
    }
}

/// Where the machine is.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Expecting the 8-byte preamble of the innermost frame.
    Header,
    /// Expecting a section header (or the end of the innermost frame).
    SectionStart,
    /// Expecting the name of a custom section ending at `end`.
    CustomName { end: u64 },
    /// Skipping the rest of the current section without reading it.
    Skip { remaining: u64 },
    /// Expecting the function count of a code section (validation only).
    CodeCount { start: u64, end: u64 },
    /// Expecting `remaining` function bodies of a code section ending at `end`.
    CodeBodies { remaining: u32, end: u64 },
    /// The top-level module or component ended.
    Done,
}

/// The current section, for error messages.
#[derive(Debug, Clone, Copy)]
struct SectionCtx {
    name: &'static str,
    id: u8,
    header: u64,
    end: u64,
}

/// Facts collected from the top level.
#[derive(Default)]
struct Collected {
    exports: Vec<String>,
    function_exports: Vec<String>,
    imports: Vec<String>,
    markers: Vec<ProxyAbi>,
    custom_sections: Vec<String>,
}

pub(super) struct Machine {
    max_section_size: u64,
    features: WasmFeatures,
    validator: Option<Validator>,
    allocs: Option<FuncValidatorAllocations>,
    /// Absolute offset of the next unconsumed byte.
    offset: u64,
    /// Bytes needed from `offset` before the next step can run.
    needed: usize,
    state: State,
    frames: Vec<Frame>,
    section: Option<SectionCtx>,
    kind: Option<ModuleKind>,
    collected: Collected,
    /// Worker threads for function bodies, when asked for (see [`Machine::set_body_workers`]).
    body_workers: usize,
    pool: Option<BodyPool>,
}

/// Code sections smaller than this are validated on the caller's thread:
/// starting workers would cost more than it saves.
const POOL_MIN_CODE_SIZE: u64 = 4 * BATCH_BYTES as u64;

impl Machine {
    pub(super) fn new(options: InspectOptions) -> Self {
        let (validator, features) = if options.validate {
            let validator = Validator::new();
            let features = *validator.features();
            (Some(validator), features)
        } else {
            // Parsing only: accept every encoding wasmparser knows, like `Parser`.
            (None, WasmFeatures::all())
        };
        Machine {
            max_section_size: options.max_section_size,
            features,
            validator,
            allocs: Some(FuncValidatorAllocations::default()),
            offset: 0,
            needed: 1,
            state: State::Header,
            frames: vec![Frame::new(None, None)],
            section: None,
            kind: None,
            collected: Collected::default(),
            body_workers: 0,
            pool: None,
        }
    }

    /// Validates the function bodies of large code sections on `workers`
    /// threads (0: on the caller's thread). Errors stay those of sequential
    /// validation; only when they are reported can come later (at the next
    /// step, or at the end of the input).
    pub(super) fn set_body_workers(&mut self, workers: usize) {
        self.body_workers = workers;
    }

    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes needed from [`Machine::offset`] before progress is possible.
    pub(super) fn needed(&self) -> usize {
        self.needed
    }

    /// Consumes as much of `data` (the bytes from the current offset) as
    /// possible and returns how much. With `eof`, `data` is the rest of the
    /// input: then everything is consumed and the binary ended, or an error.
    pub(super) fn advance(&mut self, data: &[u8], eof: bool) -> Result<usize, WasmError> {
        let result = self.advance_inner(data, eof);
        let Some(pool) = self.pool.as_mut() else {
            return result;
        };
        // The bodies the workers have are earlier in the binary than
        // anything found since: their error comes first, as it would have
        // sequentially.
        match result {
            Err(e) => {
                let first = pool.finish().err().unwrap_or(e);
                self.pool = None;
                Err(first)
            }
            Ok(n) if matches!(self.state, State::Done) || pool.failed() => {
                let r = pool.finish();
                self.pool = None;
                r.map(|()| n)
            }
            Ok(n) => Ok(n),
        }
    }

    fn advance_inner(&mut self, data: &[u8], eof: bool) -> Result<usize, WasmError> {
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            match self.step(rest, eof)? {
                Step::Consumed(n) => {
                    pos += n;
                    self.offset += n as u64;
                }
                Step::NeedMore(n) => {
                    if eof {
                        return Err(self.truncated(rest.len() as u64));
                    }
                    self.needed = n;
                    return Ok(pos);
                }
                Step::Done => return Ok(pos),
            }
        }
    }

    /// The result, once [`Machine::advance`] with `eof` succeeded.
    pub(super) fn into_info(self) -> Result<ModuleInfo, WasmError> {
        let (State::Done, Some(kind)) = (self.state, self.kind) else {
            return Err(self.truncated(0));
        };
        let c = self.collected;
        Ok(ModuleInfo {
            kind,
            size: self.offset,
            proxy_abi: c.markers.first().copied(),
            exports: c.exports,
            function_exports: c.function_exports,
            imports: c.imports,
            proxy_abi_markers: c.markers,
            custom_sections: c.custom_sections,
        })
    }

    /// The error for input ending `available` bytes after the current offset.
    fn truncated(&self, available: u64) -> WasmError {
        let end = self.offset + available;
        let in_section = |s: &SectionCtx| {
            format!(
                "{} (id {}) at offset {:#x} declares its end at offset {:#x}, {} bytes past the end of the input",
                s.name,
                s.id,
                s.header,
                s.end,
                s.end.saturating_sub(end)
            )
        };
        let (within, message) = match (self.state, &self.section) {
            (State::Header, _) if self.frames.len() == 1 => (
                TruncatedWithin::Preamble,
                "the input ends inside the 8-byte preamble".to_string(),
            ),
            (State::Header, _) => (
                TruncatedWithin::Preamble,
                "the input ends inside a nested preamble".to_string(),
            ),
            (State::SectionStart, Some(s)) => (TruncatedWithin::Section, in_section(s)),
            (State::SectionStart, None) => (
                TruncatedWithin::SectionHeader,
                format!(
                    "the input ends inside a section header at offset {:#x}",
                    self.offset
                ),
            ),
            (State::CodeBodies { .. }, Some(s)) => (
                TruncatedWithin::Section,
                format!("the input ends inside a function body; {}", in_section(s)),
            ),
            (_, Some(s)) => (TruncatedWithin::Section, in_section(s)),
            (_, None) => (TruncatedWithin::Other, "the input ended early".to_string()),
        };
        WasmError::Truncated {
            offset: end,
            within,
            message,
        }
    }

    fn frame(&self) -> &Frame {
        // Invariant: frames is never empty (the top-level frame is never popped).
        &self.frames[self.frames.len() - 1]
    }

    fn frame_mut(&mut self) -> &mut Frame {
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    fn top_level(&self) -> bool {
        self.frames.len() == 1
    }

    fn reader<'a>(&self, data: &'a [u8], offset: u64) -> BinaryReader<'a> {
        BinaryReader::new_features(data, offset, self.features)
    }

    /// `data` cut at absolute offset `bound`, and whether the cut (rather
    /// than the end of the bytes available so far) is what ends it.
    fn window<'a>(&self, data: &'a [u8], bound: Option<u64>) -> (&'a [u8], bool) {
        match bound {
            Some(bound) => {
                let left = bound.saturating_sub(self.offset);
                if left <= data.len() as u64 {
                    // `left` fits in usize because it is at most `data.len()`.
                    (&data[..left as usize], true)
                } else {
                    (data, false)
                }
            }
            None => (data, false),
        }
    }

    /// Reads a LEB128 `u32` at the start of `window`.
    /// Reads a LEB128 `u32` at the start of `window`, which starts at absolute
    /// offset `at`; `Ok(None)` when more bytes are needed.
    fn leb(
        window: &[u8],
        at: u64,
        bounded: bool,
        bound_what: &str,
    ) -> Result<Option<(u32, usize)>, WasmError> {
        match read_leb_u32(window) {
            Leb::Value(v, n) => Ok(Some((v, n))),
            Leb::Incomplete if bounded => bail(
                at + window.len() as u64,
                format!("unexpected end-of-file: {bound_what} ends inside a number"),
            ),
            Leb::Incomplete => Ok(None),
            // The offending byte is the fifth.
            Leb::Malformed(message) => bail(at + 4, message),
        }
    }

    fn step(&mut self, data: &[u8], eof: bool) -> Result<Step, WasmError> {
        match self.state {
            State::Header => self.step_header(data, eof),
            State::SectionStart => self.step_section_start(data, eof),
            State::CustomName { end } => self.step_custom_name(data, end),
            State::Skip { remaining } => {
                if remaining == 0 {
                    self.state = State::SectionStart;
                    return Ok(Step::Consumed(0));
                }
                if data.is_empty() {
                    return Ok(Step::NeedMore(1));
                }
                let n = remaining.min(data.len() as u64);
                self.state = State::Skip {
                    remaining: remaining - n,
                };
                // `n` fits in usize because it is at most `data.len()`.
                Ok(Step::Consumed(n as usize))
            }
            State::CodeCount { start, end } => self.step_code_count(data, start, end),
            State::CodeBodies { remaining, end } => self.step_code_body(data, remaining, end),
            State::Done => Ok(Step::Done),
        }
    }

    fn step_header(&mut self, data: &[u8], eof: bool) -> Result<Step, WasmError> {
        let top = self.top_level();
        let (window, bounded) = self.window(data, self.frame().end);
        if window.len() < 4 {
            if bounded {
                return bail(self.offset + window.len() as u64, "unexpected end-of-file");
            }
            if eof && top && (window.is_empty() || !WASM_MAGIC.starts_with(window)) {
                return Err(WasmError::NotWasm {
                    found: window.to_vec(),
                });
            }
            return Ok(Step::NeedMore(4));
        }
        if window[..4] != WASM_MAGIC {
            if top {
                return Err(WasmError::NotWasm {
                    found: window[..4].to_vec(),
                });
            }
            return bail(self.offset, "magic header not detected: bad magic number");
        }
        if window.len() < 8 {
            if bounded {
                return bail(self.offset + window.len() as u64, "unexpected end-of-file");
            }
            return Ok(Step::NeedMore(8));
        }
        let found = [window[4], window[5], window[6], window[7]];
        let (encoding, kind) = match found {
            [0x01, 0x00, 0x00, 0x00] => (Encoding::Module, ModuleKind::CoreModule),
            [0x0d, 0x00, 0x01, 0x00] => (Encoding::Component, ModuleKind::Component),
            _ if top => {
                return Err(WasmError::UnsupportedVersion {
                    offset: self.offset + 4,
                    found,
                });
            }
            _ => {
                return bail(
                    self.offset + 4,
                    format!(
                        "unknown binary version: {:#010x}",
                        u32::from_le_bytes(found)
                    ),
                );
            }
        };
        match self.frame().expect {
            Some(Encoding::Module) if encoding != Encoding::Module => {
                return bail(self.offset, "expected a version header for a module");
            }
            Some(Encoding::Component) if encoding != Encoding::Component => {
                return bail(self.offset, "expected a version header for a component");
            }
            _ => {}
        }
        if top {
            self.kind = Some(kind);
        }
        self.frame_mut().encoding = encoding;
        let range = self.offset..self.offset + 8;
        if let Some(v) = self.validator.as_mut() {
            v.version(u16::from_le_bytes([found[0], found[1]]), encoding, &range)
                .map_err(invalid)?;
        }
        self.state = State::SectionStart;
        Ok(Step::Consumed(8))
    }

    /// The end of the innermost module or component at `offset`.
    fn end_frame(&mut self, offset: u64) -> Result<(), WasmError> {
        if let Some(v) = self.validator.as_mut() {
            let frame = &self.frames[self.frames.len() - 1];
            frame.check_function_code_counts(offset)?;
            frame.check_data_count(offset)?;
            v.end(offset).map_err(invalid)?;
        }
        Ok(())
    }

    fn step_section_start(&mut self, data: &[u8], eof: bool) -> Result<Step, WasmError> {
        self.section = None;
        let frame_end = self.frame().end;
        if frame_end == Some(self.offset) {
            self.end_frame(self.offset)?;
            self.frames.pop();
            return Ok(Step::Consumed(0));
        }
        if data.is_empty() {
            if eof && self.top_level() {
                self.end_frame(self.offset)?;
                self.state = State::Done;
                return Ok(Step::Done);
            }
            return Ok(Step::NeedMore(1));
        }
        let (window, bounded) = self.window(data, frame_end);
        // Like `Parser`: two concatenated binaries give a clear error. Wait
        // for four bytes so that the result does not depend on chunking.
        if window.len() >= 4 && window[..4] == WASM_MAGIC {
            return bail(self.offset, "expected section, got wasm magic number");
        }
        if window.len() < 4 && !bounded && !eof && WASM_MAGIC.starts_with(window) {
            return Ok(Step::NeedMore(4));
        }
        let header = self.offset;
        let id = window[0];
        if id & 0x80 != 0 {
            return bail(header, "malformed section id");
        }
        let Some((len, leb_len)) = Self::leb(
            &window[1..],
            self.offset + 1,
            bounded,
            "the enclosing module",
        )?
        else {
            return Ok(Step::NeedMore(window.len() + 1));
        };
        let header_len = 1 + leb_len;
        let start = header + header_len as u64;
        let end = start + u64::from(len);
        if let Some(max) = frame_end
            && end > max
        {
            return bail(
                header + 1,
                format!("section too large, {len} goes past {max:#x}"),
            );
        }
        let encoding = self.frame().encoding;
        let name = section_name(encoding, id);
        self.section = Some(SectionCtx {
            name,
            id,
            header,
            end,
        });
        let validating = self.validator.is_some();
        if validating && id != 0 {
            self.frame_mut().update_order(id, start)?;
        }

        match (encoding, id) {
            (_, 0) => {
                self.state = State::CustomName { end };
                return Ok(Step::Consumed(header_len));
            }
            (Encoding::Component, 1 | 4) => {
                if u64::from(len) > MAX_NESTED_SIZE {
                    return bail(header + 1, format!("{name} is too large"));
                }
                if let Some(v) = self.validator.as_mut() {
                    let range = start..end;
                    let (nested, r) = if id == 1 {
                        (Encoding::Module, v.module_section(&range))
                    } else {
                        (Encoding::Component, v.component_section(&range))
                    };
                    r.map_err(invalid)?;
                    self.frames.push(Frame::new(Some(nested), Some(end)));
                    self.state = State::Header;
                } else {
                    // Inspection reports only the top level: skip it unread.
                    self.state = State::Skip {
                        remaining: u64::from(len),
                    };
                }
                return Ok(Step::Consumed(header_len));
            }
            (Encoding::Module, 10) if validating => {
                self.state = State::CodeCount { start, end };
                return Ok(Step::Consumed(header_len));
            }
            _ => {}
        }

        let reported = matches!(
            (encoding, id),
            (Encoding::Module, 2 | 7) | (Encoding::Component, 10 | 11)
        );
        if !validating && !reported {
            self.state = State::Skip {
                remaining: u64::from(len),
            };
            return Ok(Step::Consumed(header_len));
        }
        if u64::from(len) > self.max_section_size {
            return Err(WasmError::TooLarge {
                offset: header,
                what: format!("{name} (id {id})"),
                size: u64::from(len),
                limit: self.max_section_size,
            });
        }
        // Fits in usize: `len` is at most `max_section_size`, which was
        // compared above, and a u32.
        let total = header_len + len as usize;
        if window.len() < total {
            return Ok(Step::NeedMore(total));
        }
        self.section_payload(encoding, id, &window[header_len..total], start)?;
        self.state = State::SectionStart;
        Ok(Step::Consumed(total))
    }

    /// Decodes (and validates) one whole non-custom section.
    fn section_payload(
        &mut self,
        encoding: Encoding,
        id: u8,
        bytes: &[u8],
        start: u64,
    ) -> Result<(), WasmError> {
        let reader = self.reader(bytes, start);
        let range = start..start + bytes.len() as u64;
        let payload = match (encoding, id) {
            (Encoding::Module, 1) => {
                Payload::TypeSection(TypeSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 2) => {
                Payload::ImportSection(ImportSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 3) => {
                let s = FunctionSectionReader::new(reader).map_err(invalid)?;
                self.frame_mut().function_entries = Some(s.count());
                Payload::FunctionSection(s)
            }
            (Encoding::Module, 4) => {
                Payload::TableSection(TableSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 5) => {
                Payload::MemorySection(MemorySectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 6) => {
                Payload::GlobalSection(GlobalSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 7) => {
                Payload::ExportSection(ExportSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 8) => {
                let func = single_item(reader, "start", |r| r.read_var_u32())?;
                Payload::StartSection { func, range }
            }
            (Encoding::Module, 9) => {
                Payload::ElementSection(ElementSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Module, 11) => {
                let s = DataSectionReader::new(reader).map_err(invalid)?;
                let frame = self.frame_mut();
                frame.data_entries = Some(s.count());
                frame.check_data_count(range.end)?;
                Payload::DataSection(s)
            }
            (Encoding::Module, 12) => {
                let count = single_item(reader, "data count", |r| r.read_var_u32())?;
                self.frame_mut().data_count = Some(count);
                Payload::DataCountSection { count, range }
            }
            (Encoding::Module, 13) => {
                Payload::TagSection(TagSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Component, 2) => {
                Payload::InstanceSection(InstanceSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Component, 3) => {
                Payload::CoreTypeSection(CoreTypeSectionReader::new(reader).map_err(invalid)?)
            }
            (Encoding::Component, 5) => Payload::ComponentInstanceSection(
                ComponentInstanceSectionReader::new(reader).map_err(invalid)?,
            ),
            (Encoding::Component, 6) => Payload::ComponentAliasSection(
                ComponentAliasSectionReader::new(reader).map_err(invalid)?,
            ),
            (Encoding::Component, 7) => Payload::ComponentTypeSection(
                ComponentTypeSectionReader::new(reader).map_err(invalid)?,
            ),
            (Encoding::Component, 8) => Payload::ComponentCanonicalSection(
                ComponentCanonicalSectionReader::new(reader).map_err(invalid)?,
            ),
            (Encoding::Component, 9) => {
                let frame = self.frame_mut();
                if frame.component_start {
                    return bail(start, "component cannot have more than one start function");
                }
                frame.component_start = true;
                let start_fn = single_item(reader, "component start", |r| {
                    r.read::<ComponentStartFunction>()
                })?;
                Payload::ComponentStartSection {
                    start: start_fn,
                    range,
                }
            }
            (Encoding::Component, 10) => Payload::ComponentImportSection(
                ComponentImportSectionReader::new(reader).map_err(invalid)?,
            ),
            (Encoding::Component, 11) => Payload::ComponentExportSection(
                ComponentExportSectionReader::new(reader).map_err(invalid)?,
            ),
            (_, id) => Payload::UnknownSection {
                id,
                contents: bytes,
                range,
            },
        };
        if let Some(v) = self.validator.as_mut() {
            v.payload(&payload).map_err(invalid)?;
        }
        if self.top_level() {
            self.collect(payload)?;
        }
        Ok(())
    }

    /// Records the imports and exports of a top-level section.
    fn collect(&mut self, payload: Payload<'_>) -> Result<(), WasmError> {
        let c = &mut self.collected;
        match payload {
            Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    let import = import.map_err(invalid)?;
                    c.imports
                        .push(format!("{}::{}", import.module, import.name));
                }
            }
            Payload::ExportSection(s) => {
                for export in s {
                    let export = export.map_err(invalid)?;
                    c.exports.push(export.name.to_string());
                    if export.kind == ExternalKind::Func {
                        c.function_exports.push(export.name.to_string());
                    }
                    // proxy-wasm-cpp-host accepts a marker only with export kind
                    // 0x00 (function); a global or memory named like one does not count.
                    if export.kind == ExternalKind::Func
                        && let Some(abi) = ProxyAbi::from_marker(export.name)
                    {
                        c.markers.push(abi);
                    }
                }
            }
            Payload::ComponentImportSection(s) => {
                for import in s {
                    let import = import.map_err(invalid)?;
                    c.imports.push(import.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(s) => {
                for export in s {
                    let export = export.map_err(invalid)?;
                    c.exports.push(export.name.full_name().into_owned());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn step_custom_name(&mut self, data: &[u8], end: u64) -> Result<Step, WasmError> {
        let (window, bounded) = self.window(data, Some(end));
        let Some((len, leb_len)) = Self::leb(window, self.offset, bounded, "the custom section")?
        else {
            return Ok(Step::NeedMore(window.len() + 1));
        };
        if u64::from(len) > MAX_NAME_LEN {
            return bail(self.offset, "string size out of bounds");
        }
        let total = leb_len as u64 + u64::from(len);
        if self.offset + total > end {
            return bail(
                self.offset,
                "unexpected end-of-file: the custom section name extends past the end of the section",
            );
        }
        // Fits in usize: at most 5 + MAX_NAME_LEN.
        let total = total as usize;
        if window.len() < total {
            return Ok(Step::NeedMore(total));
        }
        let custom = CustomSectionReader::new(self.reader(&window[..total], self.offset))
            .map_err(invalid)?;
        if self.top_level() {
            self.collected
                .custom_sections
                .push(custom.name().to_string());
        }
        self.state = State::Skip {
            remaining: end - (self.offset + total as u64),
        };
        Ok(Step::Consumed(total))
    }

    fn step_code_count(&mut self, data: &[u8], start: u64, end: u64) -> Result<Step, WasmError> {
        let (window, bounded) = self.window(data, Some(end));
        let Some((count, leb_len)) = Self::leb(window, self.offset, bounded, "the code section")?
        else {
            return Ok(Step::NeedMore(window.len() + 1));
        };
        let frame = self.frame_mut();
        frame.code_entries = Some(count);
        frame.check_function_code_counts(start)?;
        if let Some(v) = self.validator.as_mut() {
            v.code_section_start(&(start..end)).map_err(invalid)?;
            if self.body_workers > 0 && self.pool.is_none() && end - start >= POOL_MIN_CODE_SIZE {
                self.pool = Some(BodyPool::new(self.body_workers, self.features));
            }
        }
        self.state = State::CodeBodies {
            remaining: count,
            end,
        };
        Ok(Step::Consumed(leb_len))
    }

    fn step_code_body(&mut self, data: &[u8], remaining: u32, end: u64) -> Result<Step, WasmError> {
        if remaining == 0 {
            if self.offset != end {
                return bail(self.offset, "trailing bytes at end of section");
            }
            self.state = State::SectionStart;
            return Ok(Step::Consumed(0));
        }
        let (window, bounded) = self.window(data, Some(end));
        let Some((size, leb_len)) = Self::leb(window, self.offset, bounded, "the code section")?
        else {
            return Ok(Step::NeedMore(window.len() + 1));
        };
        let body_start = self.offset + leb_len as u64;
        if body_start + u64::from(size) > end {
            return bail(self.offset, "unexpected end-of-file");
        }
        if u64::from(size) > self.max_section_size {
            return Err(WasmError::TooLarge {
                offset: self.offset,
                what: "function body".to_string(),
                size: u64::from(size),
                limit: self.max_section_size,
            });
        }
        // Fits in usize: `size` is a u32 at most `max_section_size`.
        let total = leb_len + size as usize;
        if window.len() < total {
            return Ok(Step::NeedMore(total));
        }
        let body = FunctionBody::new(self.reader(&window[leb_len..total], body_start));
        if let Some(v) = self.validator.as_mut() {
            let func = v.code_section_entry(&body).map_err(invalid)?;
            if let Some(pool) = self.pool.as_mut() {
                pool.submit(func, &window[leb_len..total], body_start, &mut self.allocs)?;
                self.state = State::CodeBodies {
                    remaining: remaining - 1,
                    end,
                };
                return Ok(Step::Consumed(total));
            }
            let mut fv = func.into_validator(self.allocs.take().unwrap_or_default());
            let result = fv.validate(&body);
            self.allocs = Some(fv.into_allocations());
            result.map_err(invalid)?;
        }
        self.state = State::CodeBodies {
            remaining: remaining - 1,
            end,
        };
        Ok(Step::Consumed(total))
    }
}

/// A section holding a single item (start, data count, component start),
/// like `Parser`'s `single_item`.
fn single_item<'a, T>(
    mut reader: BinaryReader<'a>,
    desc: &str,
    read: impl FnOnce(&mut BinaryReader<'a>) -> wasmparser::Result<T>,
) -> Result<T, WasmError> {
    let value = read(&mut reader).map_err(invalid)?;
    if !reader.eof() {
        return bail(
            reader.original_position(),
            format!("unexpected content in the {desc} section"),
        );
    }
    Ok(value)
}
