//! Writes a valid Wasm core module of about the requested size, for the
//! memory and speed benchmarks: CODE_PERCENT of it (default 50) a code
//! section of many small function bodies (which full validation must walk),
//! the rest a custom section (as debug info is in real modules).
//!
//! `cargo run --release --example gen_big_module -- OUT.wasm SIZE_MIB [CODE_PERCENT]`

use std::fs::File;
use std::io::{self, BufWriter, Write};

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, payload_len: u64, out: &mut impl Write) -> io::Result<()> {
    let mut header = vec![id];
    leb(payload_len, &mut header);
    out.write_all(&header)
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
    let total = mib << 20;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    out.write_all(b"\0asm\x01\0\0\0")?;
    // Type section: one type, () -> ().
    out.write_all(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00])?;

    const NOPS: usize = 1000;
    let mut body = Vec::new();
    leb(NOPS as u64 + 2, &mut body);
    body.push(0x00); // no locals
    body.extend(std::iter::repeat_n(0x01u8, NOPS)); // nop
    body.push(0x0b); // end
    let functions = (total * code_percent / 100) / body.len() as u64;

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
    section(
        0x0a,
        count.len() as u64 + functions * body.len() as u64,
        &mut out,
    )?;
    out.write_all(&count)?;
    for _ in 0..functions {
        out.write_all(&body)?;
    }

    // Custom section of incompressible bytes filling the rest.
    let name = b"bench.debug";
    let written = 8 + 6 + 2 * (count.len() as u64 + 6) + functions * (1 + body.len() as u64);
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
