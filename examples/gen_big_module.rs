//! Writes a valid Wasm core module of about the requested size, for the
//! memory and speed benchmarks: CODE_PERCENT of it (default 50) a code
//! section of many function bodies of about 1 KiB (which full validation
//! must walk), the rest a custom section (as debug info is in real modules).
//!
//! CODE_KIND chooses the bodies:
//! - `nop` (default): 1000 `nop`s each, one byte per instruction: the worst
//!   case for a validator, whose cost is per instruction;
//! - `typical`: the instruction mix of compiled code, about 2 bytes per
//!   instruction: functions `(i32, i32) -> i32` with two i32 locals, of
//!   blocks of local accesses, multi-byte constants, arithmetic, loads and
//!   stores (on one memory), `br_if` and calls to other functions.
//!
//! `cargo run --release --example gen_big_module -- OUT.wasm SIZE_MIB [CODE_PERCENT [nop|typical]]`

use std::fs::File;
use std::io::{self, BufWriter, Write};

#[path = "../benches/common/mod.rs"]
mod common;
use common::leb;

fn section(id: u8, payload_len: u64, out: &mut impl Write) -> io::Result<()> {
    let mut header = vec![id];
    leb(payload_len, &mut header);
    out.write_all(&header)
}

/// Blocks of a `typical` body (42 bytes, 21 instructions each).
const TYPICAL_BLOCKS: usize = 24;

/// A `typical` body for a function `(i32, i32) -> i32`: its size, its two
/// i32 locals, TYPICAL_BLOCKS blocks, `local.get 3`, `end`. Each call
/// target is written as a `call_width`-byte LEB128 (1 or 2) whose offset is
/// returned, to be set per function by `set_call`.
fn typical_body(call_width: usize) -> (Vec<u8>, Vec<usize>) {
    let mut code = vec![0x01, 0x02, 0x7f]; // locals: 2 x i32
    let mut calls = Vec::new();
    for j in 0..TYPICAL_BLOCKS as u64 {
        code.extend([0x02, 0x40]); // block
        code.extend([0x20, 0x00]); // local.get 0
        code.push(0x41); // i32.const, a 3-byte LEB128 (an address)
        leb(0x1_0000 + j * 0x2468 + (j % 5) * 4, &mut code);
        code.push(0x6a); // i32.add
        code.extend([0x22, 0x02]); // local.tee 2
        code.extend([0x28, 0x02, 0x10]); // i32.load offset=16 align=2
        code.extend([0x20, 0x01]); // local.get 1
        code.push(0x6c); // i32.mul
        code.extend([0x21, 0x03]); // local.set 3
        code.extend([0x20, 0x03]); // local.get 3
        code.extend([0x41, 0x07]); // i32.const 7
        code.push(0x71); // i32.and
        code.extend([0x0d, 0x00]); // br_if 0
        code.extend([0x20, 0x02]); // local.get 2
        code.extend([0x20, 0x03]); // local.get 3
        code.extend([0x36, 0x02, 0x08]); // i32.store offset=8 align=2
        code.extend([0x20, 0x03]); // local.get 3
        code.extend([0x20, 0x00]); // local.get 0
        code.push(0x10); // call, the target set later
        calls.push(code.len());
        code.extend(std::iter::repeat_n(0x00, call_width));
        code.push(0x1a); // drop
        code.push(0x0b); // end
    }
    code.extend([0x20, 0x03]); // local.get 3
    code.push(0x0b); // end
    let mut body = Vec::new();
    leb(code.len() as u64, &mut body);
    let shift = body.len();
    body.extend(code);
    (body, calls.into_iter().map(|at| at + shift).collect())
}

/// Writes `target` as a LEB128 of exactly `width` bytes (it fits).
fn set_call(slot: &mut [u8], target: u64) {
    let width = slot.len();
    for (i, b) in slot.iter_mut().enumerate() {
        let byte = ((target >> (7 * i)) & 0x7f) as u8;
        *b = if i + 1 < width { byte | 0x80 } else { byte };
    }
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "big.wasm".into());
    let mib: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(256);
    let code_percent: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .min(100);
    let typical = match args.next().as_deref() {
        None | Some("nop") => false,
        Some("typical") => true,
        Some(other) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("CODE_KIND is `nop` or `typical`, not `{other}`"),
            ));
        }
    };
    let total = mib << 20;
    let code_bytes = total * code_percent / 100;

    // The bodies, and for `typical` the call targets: [lo, hi), with
    // 2-byte indices (128..16384) when there are more than 128 functions,
    // as in real modules; else 1-byte ones.
    let (mut body, calls, width, functions, lo, hi) = if typical {
        let (body, calls) = typical_body(2);
        let functions = code_bytes / body.len() as u64;
        if functions > 128 {
            (body, calls, 2, functions, 128, functions.min(1 << 14))
        } else {
            let (body, calls) = typical_body(1);
            let functions = code_bytes / body.len() as u64;
            (body, calls, 1, functions, 0, functions.min(128))
        }
    } else {
        const NOPS: usize = 1000;
        let mut body = Vec::new();
        leb(NOPS as u64 + 2, &mut body);
        body.push(0x00); // no locals
        body.extend(std::iter::repeat_n(0x01u8, NOPS)); // nop
        body.push(0x0b); // end
        let functions = code_bytes / body.len() as u64;
        (body, Vec::new(), 0, functions, 0, 0)
    };

    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    out.write_all(b"\0asm\x01\0\0\0")?;
    // Type section: one type, () -> () or (i32, i32) -> i32.
    let types: &[u8] = if typical {
        &[0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f]
    } else {
        &[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]
    };
    out.write_all(types)?;

    let mut count = Vec::new();
    leb(functions, &mut count);
    section(0x03, count.len() as u64 + functions, &mut out)?;
    out.write_all(&count)?;
    let zeros = vec![0u8; 1 << 16];
    let mut left = functions;
    while left > 0 {
        let n = left.min(zeros.len() as u64);
        out.write_all(&zeros[..n as usize])?;
        left -= n;
    }
    // Memory section (typical): one memory of 1 page, for the loads and stores.
    let memory: &[u8] = if typical {
        &[0x05, 0x03, 0x01, 0x00, 0x01]
    } else {
        &[]
    };
    out.write_all(memory)?;
    section(
        0x0a,
        count.len() as u64 + functions * body.len() as u64,
        &mut out,
    )?;
    out.write_all(&count)?;
    for f in 0..functions {
        // Calls to other functions (to itself only when it is the only one).
        for (j, &at) in calls.iter().enumerate() {
            let span = hi - lo;
            let mut target = lo + (f * 7919 + j as u64 * 104_729) % span;
            if target == f && span > 1 {
                target = lo + (target - lo + 1) % span;
            }
            set_call(&mut body[at..at + width], target);
        }
        out.write_all(&body)?;
    }

    // Custom section of incompressible bytes filling the rest.
    let name = b"bench.debug";
    let written = 8
        + types.len() as u64
        + 2 * (count.len() as u64 + 6)
        + memory.len() as u64
        + functions * (1 + body.len() as u64);
    let rest = total.saturating_sub(written + 16);
    let mut head = Vec::new();
    leb(name.len() as u64, &mut head);
    head.extend_from_slice(name);
    section(0x00, head.len() as u64 + rest, &mut out)?;
    out.write_all(&head)?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut chunk = vec![0u8; 1 << 16];
    let mut left = rest;
    while left > 0 {
        for b in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.flush()
}
