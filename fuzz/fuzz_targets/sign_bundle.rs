//! Signature and bundle parsing: simple-signing payloads, base64 signatures,
//! Sigstore bundles (DSSE envelope, in-toto statement), the verification
//! candidates built from them, and trusted roots.
//! The body is `wasm_image_fuzz::targets::sign_bundle::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::sign_bundle::run(data));
