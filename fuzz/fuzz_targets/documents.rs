//! Manifest, index and config parsing: the strict readers, the typed configs,
//! and the validator's lenient document checks for every DocumentKind.
//! The body is `wasm_image_fuzz::targets::documents::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::documents::run(data));
