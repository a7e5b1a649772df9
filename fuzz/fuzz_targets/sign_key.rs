//! Key parsing: PEM blocks, private keys (plain and cosign's encrypted
//! format), public keys (PEM and SPKI DER); a parsed public key never
//! accepts a signature made of the fuzz input.
//! The body is `wasm_image_fuzz::targets::sign_key::run`, shared with tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_image_fuzz::targets::sign_key::run(data));
