//! Wasm inspection: `inspect`, `validate`, and the streaming inspector fed
//! in random chunks, which must agree with the slice form exactly.
//! The body is `wasm_image_fuzz::targets::wasm::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::wasm::run(data));
