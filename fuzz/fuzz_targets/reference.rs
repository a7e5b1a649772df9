//! Registry reference parsing (and the TARGET and digest grammars around it):
//! a parsed reference written back as `REGISTRY/REPO[:TAG][@DIGEST]` parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::digest::Digest;
use wasm_image::registry::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Digest::parse(text) {
        assert_eq!(Digest::parse(d.as_str()).expect("reparses"), d);
        let _ = d.layout_path();
    }
    let _ = Reference::looks_like_registry(text);
    if let Ok(r) = Reference::parse(text) {
        let mut again = r.name();
        if let Some(t) = &r.tag {
            again = format!("{again}:{t}");
        }
        if let Some(d) = &r.digest {
            again = format!("{again}@{d}");
        }
        let reparsed = Reference::parse(&again)
            .unwrap_or_else(|e| panic!("{again:?} (from {text:?}) does not reparse: {e}"));
        assert_eq!(reparsed, r, "{again:?} from {text:?}");
        let _ = (r.api_host(), r.manifest_reference(), r.is_loopback());
    }
    // Not a path on this machine (it would be opened), only the grammar.
    if !text.starts_with('/') && !text.starts_with('.') && !std::path::Path::new(text).exists() {
        let _ = wasm_image::target::Target::parse(text);
    }
});
