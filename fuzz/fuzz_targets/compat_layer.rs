//! Compat layer extraction: `compat::read_plugin` with small limits, the
//! plugin bytes streamed into the Wasm inspector. The first input byte picks
//! raw mode (gzip as given) or tar mode (the rest is gzipped first).
//! The body is `wasm_image_fuzz::targets::compat_layer::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::compat_layer::run(data));
