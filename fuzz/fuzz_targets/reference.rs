//! Registry reference parsing (and the TARGET and digest grammars around it):
//! a parsed reference written back as `REGISTRY/REPO[:TAG][@DIGEST]` parses to itself.
//! The body is `wasm_image_fuzz::targets::reference::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::reference::run(data));
