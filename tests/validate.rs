//! Integration tests of the validator (src/validate): the OCI image-spec
//! fixtures, build-then-validate for every variant, corrupted and hostile input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wasm_image::build::ImageBuilder;
use wasm_image::digest::Digest;
use wasm_image::rules::RULES;
use wasm_image::store::{Layout, Selector};
use wasm_image::validate::{
    DocumentKind, Finding, ImageReport, Options, Report, Severity, validate, validate_document, validate_path,
};
use wasm_image::variant::Variant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn module(name: &str) -> PathBuf {
    root().join("testdata/modules").join(name)
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn image(report: Report) -> ImageReport {
    match report {
        Report::Image(i) => i,
        Report::Layout(l) => panic!("expected one image, got a layout: {l:#?}"),
    }
}

fn build(dir: &Path, module_name: &str, variant: Variant) -> PathBuf {
    let out = dir.join(format!("{}-{}", variant.id(), module_name));
    let mut layout = Layout::open_or_create(&out).unwrap();
    ImageBuilder::new(module(module_name))
        .variant(variant)
        .build(&mut layout, Some("tag"))
        .unwrap_or_else(|e| panic!("build {module_name} as {variant}: {e}"));
    out
}

fn validate_dir(path: &Path) -> ImageReport {
    image(validate_path(path, None, &Options::default()).unwrap())
}

fn has(report: &ImageReport, code: &str) -> bool {
    report.findings.iter().any(|f| f.code == code)
}

fn assert_has(report: &ImageReport, code: &str) {
    assert!(has(report, code), "expected {code} in {:#?}", report.findings);
}

fn no_problems(report: &ImageReport) -> bool {
    report.findings.iter().all(|f| f.severity == Severity::Info)
}

#[test]
fn every_code_used_is_in_the_catalogue() {
    let dir = root().join("src/validate");
    for entry in fs::read_dir(dir).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("\"WI-") {
            let tail = &rest[i + 1..];
            let end = tail.find('"').unwrap();
            let code = &tail[..end];
            if code.len() > 4 && code.rsplit('-').next().is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit())) {
                assert!(RULES.iter().any(|r| r.code == code), "{code} is not in src/rules.rs");
            }
            rest = &tail[end..];
        }
    }
}

// ---------------------------------------------------------------- fixtures

#[test]
fn oci_image_spec_fixtures_get_the_expected_verdict() {
    let base = root().join("testdata/oci-image-spec");
    let cases: Vec<Value> = serde_json::from_slice(&fs::read(base.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 71);
    let mut wrong = Vec::new();
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        let mut bytes = fs::read(base.join(file)).unwrap();
        if let Some(subs) = case.get("media_type_substitutions").and_then(Value::as_object) {
            let mut text = String::from_utf8(bytes).unwrap();
            for (from, to) in subs {
                text = text.replace(from.as_str(), to.as_str().unwrap());
            }
            bytes = text.into_bytes();
        }
        let kind = match case["kind"].as_str().unwrap() {
            "descriptor" => DocumentKind::Descriptor,
            "manifest" => DocumentKind::Manifest,
            "image-index" => DocumentKind::Index,
            "image-layout" => DocumentKind::Layout,
            "config" => DocumentKind::Config,
            other => panic!("unknown kind {other}"),
        };
        let findings = validate_document(kind, &bytes, &Options::default());
        let passed = !findings.iter().any(|f| f.severity == Severity::Error);
        let expect = case["expect"].as_str().unwrap() == "pass";
        if passed != expect {
            wrong.push(format!("{file}: expected {}, findings {:?}", case["expect"], findings));
        }
    }
    assert!(wrong.is_empty(), "{} wrong verdicts:\n{}", wrong.len(), wrong.join("\n"));
}

// ------------------------------------------------------------ build, clean

const BUILDS: &[(&str, Variant)] = &[
    ("hello.wasm", Variant::Cncf),
    ("adder.component.wasm", Variant::Cncf),
    ("proxy-filter.wasm", Variant::Cncf),
    ("proxy-filter.wasm", Variant::CompatOci),
    ("proxy-filter.wasm", Variant::CompatDocker),
    ("abi-0_1_0.wasm", Variant::CompatOci),
    ("proxy-filter.wasm", Variant::WasmOci),
    ("abi-0_1_0.wasm", Variant::WasmOci),
    ("proxy-filter.wasm", Variant::WasmContentV1),
    ("adder.component.wasm", Variant::WasmContentV1),
];

#[test]
fn every_build_output_validates_clean() {
    let dir = tempfile::tempdir().unwrap();
    for (name, variant) in BUILDS {
        let out = build(dir.path(), name, *variant);
        let report = validate_dir(&out);
        assert_eq!(report.variant, *variant, "{name}");
        assert!(report.valid, "{name} as {variant}: {:#?}", report.findings);
        assert!(
            no_problems(&report),
            "{name} as {variant} has errors or warnings: {:#?}",
            report.findings
        );
        // The same through the strict store and with --strict.
        let layout = Layout::open(&out).unwrap();
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        let again = image(validate(&layout, Some(&Selector::Tag("tag".into())), &strict));
        assert!(again.valid, "{name} as {variant} (strict): {:#?}", again.findings);
        assert_eq!(again.tag.as_deref(), Some("tag"));
    }
}

fn verdict<'a>(report: &'a ImageReport, consumer: &str) -> &'a wasm_image::validate::ConsumerVerdict {
    report.consumers.iter().find(|c| c.consumer == consumer).unwrap()
}

#[test]
fn consumers_of_compat_and_cncf_images() {
    let dir = tempfile::tempdir().unwrap();
    let compat = validate_dir(&build(dir.path(), "proxy-filter.wasm", Variant::CompatOci));
    assert!(verdict(&compat, "istio").loads, "{:#?}", compat.consumers);
    assert!(verdict(&compat, "envoy-gateway").loads);
    assert!(!verdict(&compat, "wkg").loads);
    assert_eq!(compat.convert, None);

    let cncf = validate_dir(&build(dir.path(), "adder.component.wasm", Variant::Cncf));
    assert!(verdict(&cncf, "wkg").loads, "{:#?}", cncf.consumers);
    assert!(verdict(&cncf, "wasmcloud").loads);
    let istio = verdict(&cncf, "istio");
    assert!(!istio.loads);
    assert!(
        istio.reason.starts_with("Istio reads only compat (last layer tar+gzip) and wasm-oci (2 layers) images: could not parse as compat variant: invalid media type application/wasm"),
        "{}",
        istio.reason
    );
    assert!(!verdict(&cncf, "kubewarden").loads);

    // A proxy filter pushed as cncf: Istio does not load it, and the command converts it.
    let filter = validate_dir(&build(dir.path(), "proxy-filter.wasm", Variant::Cncf));
    assert!(!verdict(&filter, "istio").loads);
    assert_eq!(
        filter.convert.as_deref(),
        Some("wasm-image build proxy-filter.wasm --variant compat-oci -o OUT")
    );

    let w2o = validate_dir(&build(dir.path(), "proxy-filter.wasm", Variant::WasmContentV1));
    assert!(verdict(&w2o, "kubewarden").loads);
    let oci = validate_dir(&build(dir.path(), "proxy-filter.wasm", Variant::WasmOci));
    assert!(verdict(&oci, "istio").loads && verdict(&oci, "envoy-gateway").loads);
    assert!(!verdict(&oci, "wasmcloud").loads);
}

#[test]
fn several_images_give_a_layout_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("multi");
    let mut layout = Layout::open_or_create(&out).unwrap();
    for (tag, name, variant) in [
        ("a", "hello.wasm", Variant::Cncf),
        ("b", "proxy-filter.wasm", Variant::CompatOci),
        ("c", "proxy-filter.wasm", Variant::WasmOci),
        ("d", "hello.wasm", Variant::WasmContentV1),
    ] {
        ImageBuilder::new(module(name)).variant(variant).build(&mut layout, Some(tag)).unwrap();
    }
    let report = validate_path(&out, None, &Options::default()).unwrap();
    let Report::Layout(l) = &report else {
        panic!("expected a layout report");
    };
    assert_eq!(l.images.len(), 4);
    assert!(report.valid(), "{:#?}", report.findings().collect::<Vec<_>>());
    let variants: Vec<Variant> = l.images.iter().map(|i| i.variant).collect();
    assert_eq!(variants, [Variant::Cncf, Variant::CompatOci, Variant::WasmOci, Variant::WasmContentV1]);
    // A selector picks one.
    let one = image(validate_path(&out, Some(&Selector::Tag("b".into())), &Options::default()).unwrap());
    assert_eq!(one.variant, Variant::CompatOci);
    let none = validate_path(&out, Some(&Selector::Tag("zzz".into())), &Options::default()).unwrap();
    assert!(!none.valid());
    // The strict store gives the same.
    let store = Layout::open(&out).unwrap();
    assert!(matches!(validate(&store, None, &Options::default()), Report::Layout(ref l) if l.images.len() == 4));
}
