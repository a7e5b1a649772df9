//! Compat layer extraction: `compat::read_plugin` with small limits, the
//! plugin bytes streamed into the Wasm inspector. The first input byte picks
//! raw mode (gzip as given) or tar mode (the rest is gzipped first).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::compat;
use wasm_image::limits::Limits;
use wasm_image::wasm::{InspectOptions, StreamingInspector};

fuzz_target!(|data: &[u8]| {
    let layer = wasm_image_fuzz::compat_layer_bytes(data);
    let limits = Limits {
        max_tar_entries: 16,
        max_decompressed_bytes: 1 << 20,
        max_decompression_ratio: 50,
        ratio_free_bytes: 64 << 10,
        max_wasm_section_bytes: 64 << 10,
        ..Limits::default()
    };
    let mut inspector = StreamingInspector::new(InspectOptions {
        validate: true,
        max_section_size: limits.max_wasm_section_bytes,
    });
    let mut seen = 0u64;
    let result = compat::read_plugin(&mut &layer[..], &limits, &mut |chunk| {
        seen += chunk.len() as u64;
        inspector.push(chunk).map_err(|e| e.to_string())
    });
    if let Ok((_, size)) = result {
        assert_eq!(seen, size, "the sink got every byte of plugin.wasm");
        assert!(seen <= limits.max_decompressed_bytes);
        let _ = inspector.finish();
    }
});
