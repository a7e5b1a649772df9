//! Archive reading: the input is an OCI archive (a tar file), opened with
//! `Archive::open`, validated leniently with `validate_path`, and its
//! signatures looked up (`verify_image`).
//! The body is `wasm_image_fuzz::targets::archive::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::archive::run(data));
