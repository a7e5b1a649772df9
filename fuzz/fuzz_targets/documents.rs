//! Manifest, index and config parsing: the strict readers, the typed configs,
//! and the validator's lenient document checks for every DocumentKind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::config::{CompatImageConfig, RuntimeConfig, WasmConfig};
use wasm_image::limits::MAX_INDEX_BYTES;
use wasm_image::manifest::{self, RootIndex};
use wasm_image::validate::{self, DocumentKind, Options};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    data: &[u8],
) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let text = serde_json::to_vec(&value).expect("a parsed config serialises");
        let again: T = serde_json::from_slice(&text).expect("a written config parses");
        assert_eq!(value, again);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = manifest::parse_manifest(data) {
        let _ = manifest::manifest_media_type(&m);
        let _ = manifest::encode(&m);
    }
    if let Ok(mut index) = RootIndex::parse(data, MAX_INDEX_BYTES) {
        let entries = index.entries().expect("parse checked the entries");
        let bytes = index.to_bytes();
        let again = RootIndex::parse(&bytes, u64::MAX).expect("written index parses");
        assert_eq!(again.entries().expect("entries").len(), entries.len());
        if let Some(e) = entries.first() {
            index.add(&e.media_type, &e.digest, e.size, Some("fuzz"));
            let _ = index.entries();
        }
    }
    round_trip::<WasmConfig>(data);
    round_trip::<RuntimeConfig>(data);
    round_trip::<CompatImageConfig>(data);
    let _ = wasm_image::store::layout::check_header(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = wasm_image::variant::detect(&value);
    }
    let options = Options::default();
    for kind in [
        DocumentKind::Descriptor,
        DocumentKind::Manifest,
        DocumentKind::Index,
        DocumentKind::Layout,
        DocumentKind::Config,
    ] {
        let _ = validate::validate_document(kind, data, &options);
    }
});
