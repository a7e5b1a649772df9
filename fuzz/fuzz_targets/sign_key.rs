//! Key parsing: PEM blocks, private keys (plain and cosign's encrypted
//! format), public keys (PEM and SPKI DER); a parsed public key never
//! accepts a signature made of the fuzz input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::sign::key::{self, PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let _ = key::parse_pem_blocks(data);
    let _ = key::is_encrypted_pem(data);
    let _ = PrivateKey::from_pem(data, None);
    if key::is_encrypted_pem(data) {
        // The empty password, as `cosign generate-key-pair` allows.
        let _ = PrivateKey::from_pem(data, Some(b""));
    }
    for public in [PublicKey::from_pem(data), PublicKey::from_spki_der(data)] {
        let Ok(public) = public else { continue };
        let _ = public.hint();
        if let Ok(pem) = public.to_pem() {
            let again = PublicKey::from_pem(pem.as_bytes()).expect("a written key reads back");
            assert_eq!(again.spki_der().ok(), public.spki_der().ok());
        }
        let (message, signature) = data.split_at(data.len() / 2);
        assert!(
            public.verify(message, signature).is_err(),
            "a signature made of the key's own bytes verified"
        );
    }
});
