//! Writes an OCI image layout of COUNT distinct small `cncf` images, tagged
//! `v0000`, `v0001`, ..., for the benchmarks of validating many images (a
//! layout, or a registry repository they are pushed to; see
//! `benches/compare.sh`).
//!
//! Each module is a valid core module of about KIB KiB (default 16): a type
//! section, a function section and a code section of small bodies
//! (`i32.const`/`drop`/`nop`), and a custom section `image` naming the image,
//! so that every module (and so every image) differs.
//!
//! `cargo run --release --example gen_many_images -- OUT_LAYOUT COUNT [KIB]`

use std::path::PathBuf;
use std::process::ExitCode;

use wasm_image::build::ImageBuilder;
use wasm_image::store::Layout;
use wasm_image::variant::Variant;

#[path = "../benches/common/mod.rs"]
mod common;
use common::leb;

fn section(id: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Instruction groups per body: `i32.const N; drop; nop` (4 to 6 bytes each).
const GROUPS: u64 = 16;

/// A body of a function `() -> ()`: no locals, GROUPS groups, `end`.
fn body(seed: u64, out: &mut Vec<u8>) {
    let mut code = vec![0x00];
    for g in 0..GROUPS {
        code.push(0x41);
        // A signed LEB128 of a non-negative value below 2^20.
        let mut v = (seed.wrapping_mul(31).wrapping_add(g * 977)) & 0xf_ffff;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 && byte & 0x40 == 0 {
                code.push(byte);
                break;
            }
            code.push(byte | 0x80);
        }
        code.extend_from_slice(&[0x1a, 0x01]);
    }
    code.push(0x0b);
    leb(code.len() as u64, out);
    out.extend_from_slice(&code);
}

/// A valid core module of about `bytes` bytes, differing with `index`.
fn module(index: u32, bytes: u64) -> Vec<u8> {
    let name = format!("image-{index:04}");
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    // One type: () -> ().
    section(0x01, &[0x01, 0x60, 0x00, 0x00], &mut out);
    // Bodies of about 4.5 * GROUPS + 3 bytes, until the module is about `bytes`.
    let mut bodies = Vec::new();
    let mut functions = 0u64;
    let budget = bytes.saturating_sub(out.len() as u64 + name.len() as u64 + 32);
    loop {
        let before = bodies.len();
        body(u64::from(index) * 1_000_003 + functions, &mut bodies);
        functions += 1;
        // Each function also costs a byte in the function section.
        if (bodies.len() as u64) + functions >= budget {
            if functions > 1 && (bodies.len() as u64) + functions > budget {
                bodies.truncate(before);
                functions -= 1;
            }
            break;
        }
    }
    let mut payload = Vec::new();
    leb(functions, &mut payload);
    payload.extend(std::iter::repeat_n(0u8, functions as usize));
    section(0x03, &payload, &mut out);
    payload.clear();
    leb(functions, &mut payload);
    payload.extend_from_slice(&bodies);
    section(0x0a, &payload, &mut out);
    // Custom section `image` holding the image's name.
    payload.clear();
    payload.push(5);
    payload.extend_from_slice(b"image");
    payload.extend_from_slice(name.as_bytes());
    section(0x00, &payload, &mut out);
    out
}

fn usage() -> ExitCode {
    eprintln!("usage: gen_many_images OUT_LAYOUT COUNT [KIB]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        return usage();
    }
    let out = PathBuf::from(&args[0]);
    let Ok(count) = args[1].parse::<u32>() else {
        return usage();
    };
    let kib = match args.get(2).map(|k| k.parse::<u64>()) {
        None => 16,
        Some(Ok(k)) if k > 0 => k,
        Some(_) => return usage(),
    };
    if count > 10_000 {
        eprintln!("COUNT must be at most 10000 (tags are v0000 to v9999)");
        return ExitCode::from(2);
    }
    match generate(&out, count, kib << 10) {
        Ok(total) => {
            println!(
                "wrote {count} images to {} ({total} bytes of modules)",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_many_images: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(
    out: &std::path::Path,
    count: u32,
    bytes: u64,
) -> Result<u64, Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let mut layout = Layout::open_or_create(out)?;
    let mut total = 0u64;
    for i in 0..count {
        let m = module(i, bytes);
        total += m.len() as u64;
        let wasm = scratch.path().join(format!("image-{i:04}.wasm"));
        std::fs::write(&wasm, &m)?;
        ImageBuilder::new(&wasm)
            .variant(Variant::Cncf)
            .build(&mut layout, Some(&format!("v{i:04}")))?;
        std::fs::remove_file(&wasm)?;
    }
    Ok(total)
}
