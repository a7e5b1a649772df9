//! Inputs shared by the criterion benches and the benchmark examples
//! (`examples/gen_big_module.rs`, `examples/gen_many_images.rs` include it).
#![allow(dead_code)]

use std::path::Path;

use wasm_image::build::ImageBuilder;
use wasm_image::store::Layout;
use wasm_image::variant::Variant;

/// Appends `n` as an unsigned LEB128 (the integer encoding of Wasm).
pub fn leb(mut n: u64, out: &mut Vec<u8>) {
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

/// A valid core module of about `bytes` bytes: `code_percent` of it small
/// function bodies (1000 `nop`s each), the rest a custom section (as
/// `examples/gen_big_module.rs` writes, in memory).
pub fn module(bytes: u64, code_percent: u64) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    out.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    let mut body = Vec::new();
    leb(1002, &mut body);
    body.push(0x00);
    body.extend(std::iter::repeat_n(0x01u8, 1000));
    body.push(0x0b);
    let functions = (bytes * code_percent / 100) / body.len() as u64;
    let mut count = Vec::new();
    leb(functions, &mut count);
    out.push(0x03);
    leb(count.len() as u64 + functions, &mut out);
    out.extend_from_slice(&count);
    out.extend(std::iter::repeat_n(0u8, functions as usize));
    out.push(0x0a);
    leb(count.len() as u64 + functions * body.len() as u64, &mut out);
    out.extend_from_slice(&count);
    for _ in 0..functions {
        out.extend_from_slice(&body);
    }
    let name = b"bench.debug";
    let rest = bytes.saturating_sub(out.len() as u64 + 32) as usize;
    out.push(0x00);
    leb((1 + name.len() + rest) as u64, &mut out);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    out.extend((0..rest).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }));
    out
}

/// Writes `module` to `dir/module.wasm` and builds a cncf image of it into
/// the layout `dir/layout`.
pub fn layout_with(dir: &Path, module: &[u8], variant: Variant) -> std::path::PathBuf {
    let wasm = dir.join("module.wasm");
    std::fs::write(&wasm, module).expect("write module");
    let root = dir.join("layout");
    let mut layout = Layout::open_or_create(&root).expect("layout");
    ImageBuilder::new(&wasm)
        .variant(variant)
        .build(&mut layout, Some("latest"))
        .expect("build");
    root
}
