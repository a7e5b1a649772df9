//! Wasm inspection: `inspect`, `validate`, and the streaming inspector fed
//! in random chunks, which must agree with the slice form exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::wasm::{self, InspectOptions, ModuleInfo, StreamingInspector, WasmError};

fn streamed(data: &[u8], options: InspectOptions) -> Result<ModuleInfo, WasmError> {
    let mut inspector = StreamingInspector::new(options);
    let mut rest = data;
    for size in wasm_image_fuzz::chunk_sizes(data) {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        if inspector.push(chunk).is_err() {
            break;
        }
    }
    inspector.finish()
}

fn same(a: &Result<ModuleInfo, WasmError>, b: &Result<ModuleInfo, WasmError>) {
    match (a, b) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("slice and streaming forms disagree: {a:?} vs {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let inspected = wasm::inspect(data);
    let validated = wasm::validate(data);
    if let (Ok(v), Ok(i)) = (&validated, &inspected) {
        assert_eq!(v, i, "validate returns what inspect returns");
    }
    if validated.is_ok() {
        assert!(inspected.is_ok(), "a valid binary inspects: {inspected:?}");
    }
    for validate in [false, true] {
        let slice = if validate { &validated } else { &inspected };
        same(
            slice,
            &streamed(
                data,
                InspectOptions {
                    validate,
                    ..InspectOptions::default()
                },
            ),
        );
        let small = InspectOptions {
            validate,
            max_section_size: 64,
        };
        same(
            &wasm::inspect_with(data, small.clone()),
            &streamed(data, small),
        );
    }
});
