//! Signature and bundle parsing: simple-signing payloads, base64 signatures,
//! Sigstore bundles (DSSE envelope, in-toto statement), the verification
//! candidates built from them, and trusted roots.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wasm_image::digest::Digest;
use wasm_image::sign::cosign::SIGNATURE_ANNOTATION;
use wasm_image::sign::{bundle, keyless, payload, verify};

fuzz_target!(|data: &[u8]| {
    let image = Digest::sha256_of(b"image");
    let _ = payload::SimpleSigning::parse(data);
    let _ = bundle::read_dsse(data);
    let _ = bundle::statement_subjects(data);
    let _ = verify::bundle_candidate(&image, data);
    let _ = keyless::TrustedRoot::from_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify::decode_signature(text);
        let _ = payload::docker_reference(text);
        let mut annotations = BTreeMap::new();
        annotations.insert(SIGNATURE_ANNOTATION.to_owned(), text.to_owned());
        let _ = verify::simple_signing_candidate(&image, data, &annotations);
    }
});
