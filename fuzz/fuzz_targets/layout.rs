//! Layout opening: the input is split into `oci-layout`, `index.json` and
//! blobs (see `wasm_image_fuzz::layout_files`), written as a layout directory,
//! then validated leniently (`validate_path`), opened strictly (`Layout::open`)
//! and its signatures looked up (`verify_image`).
//! The body is `wasm_image_fuzz::targets::layout::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::layout::run(data));
