use super::*;

const PROXY_FILTER: &str = r#"
(module
  (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
  (func $marker (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) local.get 0)
  (memory (export "memory") 1))
"#;

const COMPONENT: &str = r#"
(component
  (import "wasi:cli/environment@0.2.0" (instance))
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.add)
    (func (export "proxy_abi_version_0_2_1")))
  (core instance $i (instantiate $m))
  (func $add (param "a" s32) (param "b" s32) (result s32)
    (canon lift (core func $i "add")))
  (export "add" (func $add)))
"#;

fn wat(text: &str) -> Vec<u8> {
    match wat::parse_str(text) {
        Ok(bytes) => bytes,
        Err(e) => panic!("bad test WAT: {e}"),
    }
}

fn leb(mut v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(leb(payload.len() as u32));
    out.extend_from_slice(payload);
    out
}

fn custom_section(name: &str, payload_len: usize) -> Vec<u8> {
    let mut payload = leb(name.len() as u32);
    payload.extend_from_slice(name.as_bytes());
    payload.resize(payload.len() + payload_len, 0xab);
    section(0, &payload)
}

/// A result comparable across forms (WasmError is not PartialEq).
fn key(r: &Result<ModuleInfo, WasmError>) -> Result<ModuleInfo, String> {
    match r {
        Ok(info) => Ok(info.clone()),
        Err(e) => Err(format!("{e:?}")),
    }
}

fn stream(bytes: &[u8], options: InspectOptions, chunk: usize) -> Result<ModuleInfo, WasmError> {
    let mut s = StreamingInspector::new(options);
    let mut first_err = None;
    for c in bytes.chunks(chunk.max(1)) {
        if let Err(e) = s.push(c)
            && first_err.is_none()
        {
            first_err = Some(format!("{e:?}"));
        }
    }
    let r = s.finish();
    // An error reported by `push` is the one `finish` reports again.
    if let Some(e) = first_err {
        assert_eq!(Some(e), r.as_ref().err().map(|e| format!("{e:?}")));
    }
    r
}

fn opts(validate: bool) -> InspectOptions {
    InspectOptions {
        validate,
        ..InspectOptions::default()
    }
}

/// Runs `inspect` and `validate`, checks every streaming split agrees with
/// them, and returns both results.
fn run(bytes: &[u8]) -> (Result<ModuleInfo, WasmError>, Result<ModuleInfo, WasmError>) {
    let inspected = inspect(bytes);
    let validated = validate(bytes);
    for (validate, slice) in [(false, &inspected), (true, &validated)] {
        for chunk in [1, 2, 3, 7, 64, 4096, bytes.len()] {
            assert_eq!(
                key(slice),
                key(&stream(bytes, opts(validate), chunk)),
                "streaming with {chunk}-byte chunks disagrees (validate: {validate})"
            );
        }
        let reader = inspect_reader(bytes, opts(validate));
        assert_eq!(key(slice), key(&reader));
    }
    // Validation agrees with wasmparser's own validator on the verdict.
    let reference = wasmparser::Validator::new().validate_all(bytes).map(|_| ());
    assert_eq!(
        reference.is_ok(),
        validated.is_ok(),
        "wasmparser says {reference:?}, we say {validated:?}"
    );
    (inspected, validated)
}

fn ok(r: Result<ModuleInfo, WasmError>) -> ModuleInfo {
    match r {
        Ok(info) => info,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn preambles_and_abi_names() {
    assert!(wasmparser::Parser::is_core_wasm(&CORE_MODULE_PREAMBLE));
    assert!(wasmparser::Parser::is_component(&COMPONENT_PREAMBLE));
    for abi in ProxyAbi::ALL {
        assert_eq!(ProxyAbi::from_marker(abi.marker()), Some(abi));
        assert_eq!(ProxyAbi::from_version(abi.version()), Some(abi));
        assert_eq!(
            serde_json::to_string(&abi).ok(),
            Some(format!("\"{}\"", abi.version()))
        );
    }
    assert_eq!(ProxyAbi::V0_2_1.marker(), "proxy_abi_version_0_2_1");
    assert_eq!(ProxyAbi::V0_2_1.version(), "v0.2.1");
    assert_eq!(ProxyAbi::from_version("0.2.1"), None);
    assert_eq!(ProxyAbi::from_marker("proxy_abi_version_0_3_0"), None);
    assert_eq!(
        serde_json::to_string(&ModuleKind::CoreModule)
            .ok()
            .as_deref(),
        Some("\"core-module\"")
    );
}

#[test]
fn proxy_wasm_filter_marker_detected() {
    let bytes = wat(PROXY_FILTER);
    let (inspected, validated) = run(&bytes);
    let info = ok(inspected);
    assert_eq!(info, ok(validated));
    assert_eq!(info.kind, ModuleKind::CoreModule);
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.proxy_abi, Some(ProxyAbi::V0_2_1));
    assert_eq!(info.proxy_abi_markers, vec![ProxyAbi::V0_2_1]);
    assert_eq!(info.imports, strings(&["env::proxy_log"]));
    assert_eq!(
        info.exports,
        strings(&[
            "proxy_abi_version_0_2_1",
            "proxy_on_memory_allocate",
            "memory"
        ])
    );
    // `$marker` gives the module a name section.
    assert_eq!(info.custom_sections, strings(&["name"]));
}

#[test]
fn first_marker_in_export_order_wins() {
    let bytes = wat(r#"(module
        (func (export "proxy_abi_version_0_1_0"))
        (func (export "proxy_abi_version_0_2_1")))"#);
    let info = ok(run(&bytes).1);
    assert_eq!(info.proxy_abi, Some(ProxyAbi::V0_1_0));
    assert_eq!(
        info.proxy_abi_markers,
        vec![ProxyAbi::V0_1_0, ProxyAbi::V0_2_1]
    );
}

#[test]
fn marker_exported_as_global_or_memory_is_not_detected() {
    let bytes = wat(r#"(module
        (global (export "proxy_abi_version_0_2_1") i32 (i32.const 0))
        (memory (export "proxy_abi_version_0_2_0") 1))"#);
    let info = ok(run(&bytes).1);
    assert_eq!(info.proxy_abi, None);
    assert!(info.proxy_abi_markers.is_empty());
    assert_eq!(
        info.exports,
        strings(&["proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0"])
    );
    assert!(info.function_exports.is_empty());
}

#[test]
fn function_exports_keep_export_order_and_skip_other_kinds() {
    let bytes = wat(r#"(module
        (func (export "b"))
        (memory (export "memory") 1)
        (global (export "proxy_abi_version_9_9_9") i32 (i32.const 0))
        (func (export "a")))"#);
    let info = ok(run(&bytes).1);
    assert_eq!(
        info.exports,
        strings(&["b", "memory", "proxy_abi_version_9_9_9", "a"])
    );
    assert_eq!(info.function_exports, strings(&["b", "a"]));
    let component = ok(run(&wat(COMPONENT)).1);
    assert!(component.function_exports.is_empty());
}

#[test]
fn plain_core_module() {
    let bytes = wat("(module)");
    assert_eq!(bytes, CORE_MODULE_PREAMBLE);
    let info = ok(run(&bytes).1);
    assert_eq!(
        info,
        ModuleInfo {
            kind: ModuleKind::CoreModule,
            size: 8,
            exports: vec![],
            function_exports: vec![],
            imports: vec![],
            proxy_abi: None,
            proxy_abi_markers: vec![],
            custom_sections: vec![],
        }
    );
}

#[test]
fn component_imports_and_exports() {
    let bytes = wat(COMPONENT);
    assert!(bytes.starts_with(&COMPONENT_PREAMBLE));
    let (inspected, validated) = run(&bytes);
    let info = ok(validated);
    assert_eq!(info, ok(inspected));
    assert_eq!(info.kind, ModuleKind::Component);
    assert_eq!(info.imports, strings(&["wasi:cli/environment@0.2.0"]));
    assert_eq!(info.exports, strings(&["add"]));
    // A marker inside a nested core module is not a proxy-wasm filter.
    assert_eq!(info.proxy_abi, None);
    assert!(info.proxy_abi_markers.is_empty());
}

#[test]
fn invalid_nested_module_is_found_by_validate() {
    let bytes = wat(r#"(component
        (core module (func (result i32) i64.const 0)))"#);
    let (inspected, validated) = run(&bytes);
    assert_eq!(ok(inspected).kind, ModuleKind::Component);
    let reference = wasmparser::Validator::new()
        .validate_all(&bytes)
        .err()
        .map(|e| e.offset());
    match validated {
        Err(WasmError::Invalid { offset, message }) => {
            assert_eq!(Some(offset), reference);
            assert!(message.contains("type mismatch"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn not_wasm() {
    let (inspected, validated) = run(b"GIF89a, certainly not wasm");
    for r in [inspected, validated] {
        match r {
            Err(WasmError::NotWasm { found }) => assert_eq!(found, b"GIF8"),
            other => panic!("expected NotWasm, got {other:?}"),
        }
    }
    match run(b"").0 {
        Err(e @ WasmError::NotWasm { .. }) => {
            assert_eq!(e.offset(), Some(0));
            assert!(e.to_string().contains("empty"), "{e}");
        }
        other => panic!("expected NotWasm, got {other:?}"),
    }
    match run(b"PK").0 {
        Err(WasmError::NotWasm { found }) => assert_eq!(found, b"PK"),
        other => panic!("expected NotWasm, got {other:?}"),
    }
}

#[test]
fn unsupported_version() {
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes[4] = 2;
    match run(&bytes).1 {
        Err(WasmError::UnsupportedVersion { offset, found }) => {
            assert_eq!(offset, 4);
            assert_eq!(found, [2, 0, 0, 0]);
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    // A pre-release component encoding.
    let bytes = [0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00];
    match run(&bytes).0 {
        Err(e @ WasmError::UnsupportedVersion { .. }) => {
            assert!(e.to_string().contains("draft"), "{e}");
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn truncated_module() {
    let bytes = wat(PROXY_FILTER);
    let cut = &bytes[..bytes.len() - 20];
    let (inspected, validated) = run(cut);
    for r in [inspected, validated] {
        match r {
            Err(WasmError::Truncated {
                offset,
                message,
                within: TruncatedWithin::Section,
            }) => {
                assert_eq!(offset, cut.len() as u64);
                assert!(!message.is_empty());
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
    // Inside the preamble.
    match run(&CORE_MODULE_PREAMBLE[..6]).1 {
        Err(WasmError::Truncated {
            offset: 6,
            message,
            within: TruncatedWithin::Preamble,
        }) => {
            assert!(message.contains("preamble"), "{message}");
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn every_prefix_fails_cleanly() {
    for text in [PROXY_FILTER, COMPONENT] {
        let bytes = wat(text);
        for n in 0..bytes.len() {
            // A prefix ending at a section boundary may be a whole module;
            // `run` checks that every form agrees and nothing panics.
            let (_, validated) = run(&bytes[..n]);
            if let Err(e) = validated {
                assert!(e.offset().is_some_and(|o| o <= bytes.len() as u64));
            }
        }
    }
}

#[test]
fn section_length_past_end() {
    // A type section declaring 128 bytes, followed by one.
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes.extend([0x01, 0x80, 0x01, 0x00]);
    let (inspected, validated) = run(&bytes);
    for r in [inspected, validated] {
        match r {
            Err(WasmError::Truncated {
                offset,
                message,
                within: TruncatedWithin::Section,
            }) => {
                assert_eq!(offset, 12);
                assert!(message.contains("type section"), "{message}");
                assert!(message.contains("offset 0x8"), "{message}");
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
    // A hostile length (4 GiB - 1) costs nothing: it is skipped when
    // inspecting and refused before any allocation when validating.
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes.extend([0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    let (inspected, validated) = run(&bytes);
    assert!(matches!(inspected, Err(WasmError::Truncated { .. })));
    assert!(matches!(
        validated,
        Err(WasmError::TooLarge { offset: 8, .. })
    ));
    // Inside a component, a nested section may not leave its module.
    let mut nested = CORE_MODULE_PREAMBLE.to_vec();
    nested.extend([0x01, 0x05, 0x00]);
    let mut bytes = COMPONENT_PREAMBLE.to_vec();
    bytes.extend(section(1, &nested));
    match run(&bytes).1 {
        Err(WasmError::Invalid { offset, message }) => {
            assert_eq!(offset, 19);
            assert!(message.contains("section too large"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // A malformed LEB128 length.
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes.extend([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
    let reference = wasmparser::Validator::new()
        .validate_all(&bytes)
        .err()
        .map(|e| (e.offset(), e.message().to_string()));
    for r in [run(&bytes).0, run(&bytes).1] {
        match r {
            Err(WasmError::Invalid { offset, message }) => {
                assert_eq!(Some((offset, message)), reference);
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn big_custom_section_streams_in_one_byte_chunks() {
    let mut bytes = wat(PROXY_FILTER);
    bytes.extend(custom_section("io.kubewarden.metadata", 1024 * 1024));
    bytes.extend(custom_section(".debug_info", 10));
    for validate in [false, true] {
        let mut s = StreamingInspector::new(InspectOptions {
            validate,
            max_section_size: 4096,
        });
        let mut most_pending = 0;
        for b in bytes.chunks(1) {
            if let Err(e) = s.push(b) {
                panic!("push failed: {e}");
            }
            most_pending = most_pending.max(s.pending.len());
        }
        // At most one small section of the filter is ever carried over,
        // never any of the custom section's payload.
        assert!(most_pending < 100, "buffered {most_pending} bytes");
        let info = ok(s.finish());
        assert_eq!(info.size, bytes.len() as u64);
        assert_eq!(info.proxy_abi, Some(ProxyAbi::V0_2_1));
        assert_eq!(
            info.custom_sections,
            strings(&["name", "io.kubewarden.metadata", ".debug_info"])
        );
        assert_eq!(key(&Ok(info)), key(&run(&bytes).1));
    }
}

#[test]
fn max_section_size_exceeded() {
    let bytes = wat(
        r#"(module (memory 1) (data (i32.const 0) "0123456789012345678901234567890123456789"))"#,
    );
    let small = |validate| InspectOptions {
        validate,
        max_section_size: 16,
    };
    for chunk in [1, 5, bytes.len()] {
        match stream(&bytes, small(true), chunk) {
            Err(WasmError::TooLarge {
                what, size, limit, ..
            }) => {
                assert_eq!(what, "data section (id 11)");
                assert!(size > 16);
                assert_eq!(limit, 16);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // Inspection does not need the data section, so never buffers it.
        assert!(stream(&bytes, small(false), chunk).is_ok());
    }
    // The export section is decoded when inspecting, so it is capped too.
    let bytes = wat(r#"(module (func (export "a_rather_long_export_name")))"#);
    assert!(matches!(
        stream(&bytes, small(false), 3),
        Err(WasmError::TooLarge { .. })
    ));
    // A function body over the limit, in a code section streamed body by body.
    let bytes =
        wat(r#"(module (func (drop (i64.const 1234567890123)) (drop (i64.const 1234567890123))))"#);
    match stream(&bytes, small(true), 2) {
        Err(WasmError::TooLarge { what, .. }) => assert_eq!(what, "function body"),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn invalid_module_rejected_only_by_validate() {
    let bytes = wat("(module (func (result i32) i64.const 0))");
    let (inspected, validated) = run(&bytes);
    assert!(inspected.is_ok());
    let reference = wasmparser::Validator::new().validate_all(&bytes).err();
    match (validated, reference) {
        (Err(WasmError::Invalid { offset, message }), Some(r)) => {
            assert_eq!(offset, r.offset());
            assert_eq!(message, r.message());
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn structural_checks_of_the_parser_are_kept() {
    let ty = section(1, &[1, 0x60, 0, 0]);
    let func = section(3, &[1, 0]);
    let body = [2, 0, 0x0b];
    let mut code = vec![2];
    code.extend(body);
    code.extend(body);
    let code = section(10, &code);
    // One function declared, two bodies: the validator would panic without
    // the parser's count check.
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes.extend(&ty);
    bytes.extend(&func);
    bytes.extend(&code);
    let (inspected, validated) = run(&bytes);
    assert!(inspected.is_ok());
    match validated {
        Err(WasmError::Invalid { message, .. }) => {
            assert!(message.contains("inconsistent lengths"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Sections out of order.
    let mut bytes = CORE_MODULE_PREAMBLE.to_vec();
    bytes.extend(section(7, &[0]));
    bytes.extend(&ty);
    match run(&bytes).1 {
        Err(WasmError::Invalid { message, .. }) => assert_eq!(message, "section out of order"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Two concatenated modules.
    let mut bytes = wat(PROXY_FILTER);
    bytes.extend(CORE_MODULE_PREAMBLE);
    assert!(matches!(run(&bytes).0, Err(WasmError::Invalid { .. })));
}

#[test]
fn mutated_binaries_never_panic_and_agree_with_wasmparser() {
    // Deterministic xorshift, so failures reproduce.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for text in [PROXY_FILTER, COMPONENT] {
        let original = wat(text);
        for _ in 0..300 {
            let mut bytes = original.clone();
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
            // `run` compares every form and the verdict with wasmparser.
            let _ = run(&bytes);
        }
    }
}

#[test]
fn inspector_is_an_io_sink_and_limit_can_be_lifted() {
    let bytes = wat(COMPONENT);
    let mut sink = StreamingInspector::new(opts(true));
    let copied = std::io::copy(&mut &bytes[..], &mut sink).ok();
    assert_eq!(copied, Some(bytes.len() as u64));
    assert_eq!(sink.offset(), bytes.len() as u64);
    assert_eq!(key(&sink.finish()), key(&validate(&bytes)));

    let mut sink = StreamingInspector::new(opts(false));
    assert!(std::io::copy(&mut &b"not wasm"[..], &mut sink).is_err());
    assert!(matches!(sink.finish(), Err(WasmError::NotWasm { .. })));

    let bytes = wat(
        r#"(module (memory 1) (data (i32.const 0) "0123456789012345678901234567890123456789"))"#,
    );
    let capped = InspectOptions {
        validate: true,
        max_section_size: 16,
    };
    assert!(matches!(
        inspect_with(&bytes, capped.clone()),
        Err(WasmError::TooLarge { .. })
    ));
    let unlimited = InspectOptions {
        max_section_size: u64::MAX,
        ..capped
    };
    assert!(inspect_with(&bytes, unlimited).is_ok());
}

/// A module of `n` bodies of 1000 `nop`s (over the size from which bodies go
/// to workers), with body `bad[i]` made invalid (`i32.add` on an empty stack).
fn many_bodies(n: usize, bad: &[usize], trailing_garbage: bool) -> Vec<u8> {
    fn leb(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut out = CORE_MODULE_PREAMBLE.to_vec();
    out.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    let mut count = Vec::new();
    leb(n as u64, &mut count);
    out.push(0x03);
    leb((count.len() + n) as u64, &mut out);
    out.extend_from_slice(&count);
    out.extend(std::iter::repeat_n(0u8, n));
    let mut code = count.clone();
    for i in 0..n {
        let mut body = vec![0x00];
        body.extend(std::iter::repeat_n(0x01u8, 1000));
        if bad.contains(&i) {
            body[500] = 0x6a;
        }
        body.push(0x0b);
        leb(body.len() as u64, &mut code);
        code.extend_from_slice(&body);
    }
    out.push(0x0a);
    leb(code.len() as u64, &mut out);
    out.extend_from_slice(&code);
    if trailing_garbage {
        out.extend_from_slice(&[0x0c, 0x01, 0x00]);
    }
    out
}

fn with_workers(bytes: &[u8], chunk: usize, workers: usize) -> Result<ModuleInfo, WasmError> {
    let mut s = StreamingInspector::new(opts(true)).with_body_workers(workers);
    for piece in bytes.chunks(chunk) {
        if s.push(piece).is_err() {
            break;
        }
    }
    s.finish()
}

#[test]
fn body_workers_give_the_results_of_sequential_validation() {
    let cases = [
        many_bodies(1100, &[], false),
        many_bodies(1100, &[300, 1050], false),
        many_bodies(1100, &[0], false),
        many_bodies(1100, &[], true),
        many_bodies(1100, &[1099], true),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        assert!(bytes.len() > 1 << 20, "case {i} is too small for the pool");
        let sequential = validate(bytes).map_err(|e| e.to_string());
        for (chunk, workers) in [(64 << 10, 2), (7919, 3), (bytes.len(), 1)] {
            let parallel = with_workers(bytes, chunk, workers).map_err(|e| e.to_string());
            assert_eq!(
                parallel, sequential,
                "case {i}, chunk {chunk}, {workers} workers"
            );
        }
    }
}

#[test]
fn an_inspector_dropped_with_bodies_in_flight_stops_its_workers() {
    let bytes = many_bodies(1100, &[], false);
    let mut s = StreamingInspector::new(opts(true)).with_body_workers(2);
    s.push(&bytes[..bytes.len() / 2])
        .expect("first half is fine");
    drop(s);
}
