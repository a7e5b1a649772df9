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
    DocumentKind, Finding, ImageReport, Options, Report, Severity, validate, validate_document,
    validate_path,
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
    assert!(
        has(report, code),
        "expected {code} in {:#?}",
        report.findings
    );
}

fn no_problems(report: &ImageReport) -> bool {
    report.findings.iter().all(|f| f.severity == Severity::Info)
}

#[test]
fn every_code_used_is_in_the_catalogue() {
    let dir = root().join("src/validate");
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("tests.rs") {
            continue;
        }
        let text = fs::read_to_string(path).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("\"WI-") {
            let tail = &rest[i + 1..];
            let end = tail.find('"').unwrap();
            let code = &tail[..end];
            if code.len() > 4
                && code
                    .rsplit('-')
                    .next()
                    .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
            {
                assert!(
                    RULES.iter().any(|r| r.code == code),
                    "{code} is not in src/rules.rs"
                );
            }
            rest = &tail[end..];
        }
    }
}

// ---------------------------------------------------------------- fixtures

#[test]
fn oci_image_spec_fixtures_get_the_expected_verdict() {
    let base = root().join("testdata/oci-image-spec");
    let cases: Vec<Value> =
        serde_json::from_slice(&fs::read(base.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 71);
    let mut wrong = Vec::new();
    let mut config_fails = 0;
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        let mut bytes = fs::read(base.join(file)).unwrap();
        if let Some(subs) = case
            .get("media_type_substitutions")
            .and_then(Value::as_object)
        {
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
            wrong.push(format!(
                "{file}: expected {}, findings {:?}",
                case["expect"], findings
            ));
        }
        // A failing image-spec config fixture fails under the image config
        // rule (or a digest rule, for a malformed diff_id).
        if kind == DocumentKind::Config && !expect {
            let own = findings
                .iter()
                .any(|f| f.code == "WI-CONFIG-001" || f.code.starts_with("WI-DIGEST-"));
            let foreign = findings.iter().any(|f| f.code.starts_with("WI-CNCF-"));
            if !own || foreign {
                wrong.push(format!("{file}: config findings {findings:?}"));
            }
            config_fails += 1;
        }
    }
    assert!(config_fails > 0, "no failing config fixture");
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
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
        let again = image(validate(
            &layout,
            Some(&Selector::Tag("tag".into())),
            &strict,
        ));
        assert!(
            again.valid,
            "{name} as {variant} (strict): {:#?}",
            again.findings
        );
        assert_eq!(again.tag.as_deref(), Some("tag"));
    }
}

fn verdict<'a>(
    report: &'a ImageReport,
    consumer: &str,
) -> &'a wasm_image::validate::ConsumerVerdict {
    report
        .consumers
        .iter()
        .find(|c| c.consumer == consumer)
        .unwrap()
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

    let w2o = validate_dir(&build(
        dir.path(),
        "proxy-filter.wasm",
        Variant::WasmContentV1,
    ));
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
        ImageBuilder::new(module(name))
            .variant(variant)
            .build(&mut layout, Some(tag))
            .unwrap();
    }
    let report = validate_path(&out, None, &Options::default()).unwrap();
    let Report::Layout(l) = &report else {
        panic!("expected a layout report");
    };
    assert_eq!(l.images.len(), 4);
    assert!(
        report.valid(),
        "{:#?}",
        report.findings().collect::<Vec<_>>()
    );
    let variants: Vec<Variant> = l.images.iter().map(|i| i.variant).collect();
    assert_eq!(
        variants,
        [
            Variant::Cncf,
            Variant::CompatOci,
            Variant::WasmOci,
            Variant::WasmContentV1
        ]
    );
    // A selector picks one.
    let one =
        image(validate_path(&out, Some(&Selector::Tag("b".into())), &Options::default()).unwrap());
    assert_eq!(one.variant, Variant::CompatOci);
    let none = validate_path(
        &out,
        Some(&Selector::Tag("zzz".into())),
        &Options::default(),
    )
    .unwrap();
    assert!(!none.valid());
    // The strict store gives the same.
    let store = Layout::open(&out).unwrap();
    assert!(
        matches!(validate(&store, None, &Options::default()), Report::Layout(ref l) if l.images.len() == 4)
    );
}

// ------------------------------------------------------ hand-made layouts

/// Stores a blob in a layout directory; returns its digest and size.
fn put(dir: &Path, bytes: &[u8]) -> (Digest, u64) {
    let d = Digest::sha256_of(bytes);
    let path = dir.join(d.layout_path());
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    (d, bytes.len() as u64)
}

fn desc(media_type: &str, d: &(Digest, u64)) -> Value {
    serde_json::json!({"mediaType": media_type, "digest": d.0.as_str(), "size": d.1})
}

/// Writes a layout holding one manifest (given as a JSON value) under index.json.
fn layout_with_manifest(dir: &Path, manifest: &Value) -> (Digest, u64) {
    fs::create_dir_all(dir.join("blobs")).unwrap();
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let m = put(dir, &serde_json::to_vec(manifest).unwrap());
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [desc("application/vnd.oci.image.manifest.v1+json", &m)]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    m
}

/// A compat image around a hand-made layer.
fn compat_layout(dir: &Path, layer: &[u8]) -> ImageReport {
    let config = put(
        dir,
        br#"{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let l = put(dir, layer);
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", &config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", &l)]});
    layout_with_manifest(dir, &manifest);
    validate_dir(dir)
}

/// A cncf image around a hand-made payload.
fn cncf_layout(dir: &Path, payload: &[u8]) -> ImageReport {
    let l = put(dir, payload);
    let config = serde_json::json!({"created": "1970-01-01T00:00:00Z", "architecture": "wasm", "os": "wasip1",
        "layerDigests": [l.0.as_str()]});
    let c = put(dir, &serde_json::to_vec(&config).unwrap());
    let mut layer = desc("application/wasm", &l);
    layer["annotations"] = serde_json::json!({"org.opencontainers.image.title": "m.wasm"});
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.wasm.config.v0+json", &c), "layers": [layer]});
    layout_with_manifest(dir, &manifest);
    validate_dir(dir)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A tar built entry by entry with raw headers (so that `..` and links can be written).
fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        {
            let raw = h.as_old_mut();
            raw.name[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_size(data.len() as u64);
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        if kind.is_symlink() || kind.is_hard_link() {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn gzip_bomb_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fs::read(module("proxy-filter.wasm")).unwrap();
    let zeros = vec![0u8; 64 << 20];
    let layer = gzip(&tar_of(&[
        ("zeros", tar::EntryType::Regular, &zeros),
        ("plugin.wasm", tar::EntryType::Regular, &wasm),
    ]));
    assert!(layer.len() < 1 << 20);
    let report = compat_layout(dir.path(), &layer);
    assert_has(&report, "WI-LIMIT-005");
    assert!(!report.valid);
    assert!(!verdict(&report, "istio").loads);
    // With a small output bound instead of the ratio.
    let small = Options {
        limits: wasm_image::limits::Limits {
            max_decompressed_bytes: 1 << 20,
            max_decompression_ratio: u64::MAX,
            ..Default::default()
        },
        ..Options::default()
    };
    let report = image(validate_path(dir.path(), None, &small).unwrap());
    assert_has(&report, "WI-LIMIT-004");
}

#[test]
fn tar_entries_with_dotdot_links_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fs::read(module("proxy-filter.wasm")).unwrap();
    let layer = gzip(&tar_of(&[
        ("../evil", tar::EntryType::Regular, b"x"),
        ("/abs", tar::EntryType::Regular, b"x"),
        ("link", tar::EntryType::Symlink, b""),
        ("hard", tar::EntryType::Link, b""),
        ("fifo", tar::EntryType::Fifo, b""),
        ("plugin.wasm", tar::EntryType::Regular, &wasm),
        ("./plugin.wasm", tar::EntryType::Regular, &wasm),
        ("dir/plugin.wasm", tar::EntryType::Regular, &wasm),
    ]));
    let report = compat_layout(dir.path(), &layer);
    for code in [
        "WI-COMPAT-007",
        "WI-COMPAT-008",
        "WI-COMPAT-009",
        "WI-COMPAT-010",
        "WI-COMPAT-013",
    ] {
        assert_has(&report, code);
    }
    let entry = report
        .findings
        .iter()
        .find(|f| f.code == "WI-COMPAT-007")
        .unwrap();
    assert!(
        entry.location.ends_with("tar entry ../evil"),
        "{}",
        entry.location
    );
    let links = report
        .findings
        .iter()
        .filter(|f| f.code == "WI-COMPAT-008")
        .count();
    assert_eq!(links, 3);
    // The payload is still found and checked.
    assert_has(&report, "WI-ABI-001");
}

#[test]
fn compat_layer_without_plugin_or_with_a_link_plugin_or_broken_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let report = compat_layout(
        dir.path(),
        &gzip(&tar_of(&[("other.wasm", tar::EntryType::Regular, b"x")])),
    );
    assert_has(&report, "WI-COMPAT-005");
    let dir = tempfile::tempdir().unwrap();
    let report = compat_layout(
        dir.path(),
        &gzip(&tar_of(&[("plugin.wasm", tar::EntryType::Symlink, b"")])),
    );
    assert_has(&report, "WI-COMPAT-006");
    let dir = tempfile::tempdir().unwrap();
    let mut bad = gzip(&tar_of(&[(
        "plugin.wasm",
        tar::EntryType::Regular,
        b"\0asm",
    )]));
    let n = bad.len();
    bad[n - 6] ^= 0xff; // the CRC trailer
    let report = compat_layout(dir.path(), &bad);
    assert_has(&report, "WI-COMPAT-003");
    let dir = tempfile::tempdir().unwrap();
    let report = compat_layout(
        dir.path(),
        &gzip(b"this is not a tar stream at all, just text that goes on"),
    );
    assert!(
        has(&report, "WI-COMPAT-004") || has(&report, "WI-COMPAT-005"),
        "{:#?}",
        report.findings
    );
    let dir = tempfile::tempdir().unwrap();
    let report = compat_layout(dir.path(), b"not gzip");
    assert_has(&report, "WI-COMPAT-003");
}

#[test]
fn huge_json_documents_are_not_read() {
    // 100 MB given to the document checks.
    let big = format!(
        "{{\"schemaVersion\":2,\"x\":\"{}\"}}",
        "a".repeat(100 << 20)
    );
    let findings = validate_document(DocumentKind::Manifest, big.as_bytes(), &Options::default());
    assert_eq!(codes(&findings), ["WI-LIMIT-001"]);
    // 100 MB stored as a manifest blob whose descriptor says so: not read.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("blobs/sha256")).unwrap();
    fs::write(d.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let fake = Digest::sha256_of(b"fake");
    let f = File::create(d.join(fake.layout_path())).unwrap();
    f.set_len(100 << 20).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": fake.as_str(), "size": 100u64 << 20}]});
    fs::write(d.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let report = validate_dir(d);
    assert_has(&report, "WI-LIMIT-006");
    // And an index.json of 100 MB.
    let f = File::create(d.join("index.json")).unwrap();
    f.set_len(100 << 20).unwrap();
    let report = validate_path(d, None, &Options::default()).unwrap();
    assert!(
        report.findings().any(|f| f.code == "WI-LIMIT-001"),
        "{:#?}",
        report.findings().collect::<Vec<_>>()
    );
}

use std::fs::File;

#[test]
fn deeply_nested_json_is_refused() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for kind in [
        DocumentKind::Manifest,
        DocumentKind::Index,
        DocumentKind::Config,
        DocumentKind::Descriptor,
    ] {
        let findings = validate_document(kind, deep.as_bytes(), &Options::default());
        assert_eq!(codes(&findings), ["WI-LIMIT-002"], "{kind:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("blobs")).unwrap();
    fs::write(d.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let m = put(
        d,
        format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
    );
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [desc("application/vnd.oci.image.manifest.v1+json", &m)]});
    fs::write(d.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    assert_has(&validate_dir(d), "WI-LIMIT-002");
}

#[test]
fn declared_size_of_2_pow_62_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = put(d, b"{}");
    let layer = serde_json::json!({"mediaType": "application/vnd.wasm.content.layer.v1+wasm",
        "digest": Digest::sha256_of(b"x").as_str(), "size": 1u64 << 62});
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.wasm.config.v1+json", &config), "layers": [layer]});
    layout_with_manifest(d, &manifest);
    let report = validate_dir(d);
    assert_has(&report, "WI-LIMIT-006");
    assert_eq!(report.variant, Variant::WasmContentV1);
}

/// A store that claims any size and serves an endless stream.
struct Liar;

impl wasm_image::store::ImageStore for Liar {
    fn describe(&self) -> String {
        "liar".into()
    }
    fn blob_size(&self, _: &Digest) -> Result<Option<u64>, wasm_image::store::StoreError> {
        Ok(Some(1000))
    }
    fn open_blob(
        &self,
        _: &Digest,
    ) -> Result<Box<dyn std::io::Read + '_>, wasm_image::store::StoreError> {
        Ok(Box::new(std::io::repeat(b'{')))
    }
    fn root_index(&self) -> Result<wasm_image::manifest::RootIndex, wasm_image::store::StoreError> {
        let mut index = wasm_image::manifest::RootIndex::new();
        index.add(
            "application/vnd.oci.image.manifest.v1+json",
            &Digest::sha256_of(b"m"),
            1000,
            Some("t"),
        );
        Ok(index)
    }
}

#[test]
fn a_blob_longer_than_its_descriptor_is_caught_after_size_plus_one_bytes() {
    let report = image(validate(&Liar, None, &Options::default()));
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "WI-BLOB-001")
        .expect("BLOB-001");
    assert!(f.message.contains("read 1001 bytes"), "{}", f.message);
}

#[test]
fn missing_and_unreadable_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let layout = Layout::open(&out).unwrap();
    let entries = layout.root_index().unwrap().entries().unwrap();
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.join(entries[0].digest.layout_path())).unwrap())
            .unwrap();
    let config = Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    let layer = Digest::parse(manifest["layers"][0]["digest"].as_str().unwrap()).unwrap();

    fs::remove_file(out.join(layer.layout_path())).unwrap();
    let report = validate_dir(&out);
    assert_has(&report, "WI-LAYOUT-007");
    assert_eq!(report.variant, Variant::Cncf);

    // A directory where the layer should be, then a FIFO (must not block).
    fs::create_dir(out.join(layer.layout_path())).unwrap();
    assert_has(&validate_dir(&out), "WI-LAYOUT-008");
    fs::remove_dir(out.join(layer.layout_path())).unwrap();
    #[cfg(unix)]
    {
        let status = std::process::Command::new("mkfifo")
            .arg(out.join(layer.layout_path()))
            .status();
        if status.is_ok_and(|s| s.success()) {
            assert_has(&validate_dir(&out), "WI-LAYOUT-008");
            fs::remove_file(out.join(layer.layout_path())).unwrap();
        }
        // An unreadable file (only meaningful when not running as root).
        use std::os::unix::fs::PermissionsExt;
        let path = out.join(config.layout_path());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&path).is_err() {
            // Present but unreadable: its own rule now, not "missing" (spec/oci-base.md).
            assert_has(&validate_dir(&out), "WI-LAYOUT-011");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    }
    fs::remove_file(out.join(config.layout_path())).unwrap();
    assert_has(&validate_dir(&out), "WI-LAYOUT-006");
}

use wasm_image::store::ImageStore;

#[test]
fn truncated_and_broken_wasm_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let report = cncf_layout(dir.path(), &fs::read(module("truncated.wasm")).unwrap());
    assert!(
        has(&report, "WI-WASM-005") || has(&report, "WI-WASM-006"),
        "{:#?}",
        report.findings
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.code.starts_with("WI-WASM-00"))
        .unwrap();
    assert!(f.location.contains("wasm offset 0x"), "{}", f.location);
    assert!(!verdict(&report, "wkg").loads);
    assert_eq!(report.convert, None);

    // A section whose length points past the end.
    let dir = tempfile::tempdir().unwrap();
    let mut past = b"\0asm\x01\0\0\0".to_vec();
    past.extend_from_slice(&[0x01, 0x64, 0x60, 0x00]);
    assert_has(&cncf_layout(dir.path(), &past), "WI-WASM-005");

    let dir = tempfile::tempdir().unwrap();
    assert_has(
        &cncf_layout(dir.path(), &fs::read(module("not-wasm.txt")).unwrap()),
        "WI-WASM-002",
    );
    let dir = tempfile::tempdir().unwrap();
    assert_has(&cncf_layout(dir.path(), b"\0asm"), "WI-WASM-001");
    let dir = tempfile::tempdir().unwrap();
    assert_has(&cncf_layout(dir.path(), b"\0asm\x02\0\0\0"), "WI-WASM-003");
    let dir = tempfile::tempdir().unwrap();
    assert_has(
        &cncf_layout(dir.path(), &gzip(&fs::read(module("hello.wasm")).unwrap())),
        "WI-WASM-009",
    );
    // Structurally invalid: a function whose body returns the wrong type.
    let dir = tempfile::tempdir().unwrap();
    let bad = wat::parse_str(r#"(module (func (result i32) (i64.const 1)))"#);
    if let Ok(bad) = bad {
        let report = cncf_layout(dir.path(), &bad);
        assert_has(&report, "WI-WASM-004");
        // Skipped when full validation is off.
        let lax = Options {
            validate_wasm: false,
            ..Options::default()
        };
        let report = image(validate_path(dir.path(), None, &lax).unwrap());
        assert!(!has(&report, "WI-WASM-004"), "{:#?}", report.findings);
    }
}

#[test]
fn a_flipped_byte_in_each_blob_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    for variant in Variant::BUILDABLE {
        let name = if variant == Variant::Cncf {
            "adder.component.wasm"
        } else {
            "proxy-filter.wasm"
        };
        let out = build(dir.path(), name, variant);
        let mut blobs: Vec<PathBuf> = fs::read_dir(out.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        blobs.sort();
        for blob in blobs {
            let original = fs::read(&blob).unwrap();
            let mut flipped = original.clone();
            let i = flipped.len() / 2;
            flipped[i] ^= 0x01;
            fs::write(&blob, &flipped).unwrap();
            let report = validate_path(&out, None, &Options::default()).unwrap();
            let name = blob.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                report
                    .findings()
                    .any(|f| f.code == "WI-BLOB-002" && f.location.contains(&name)),
                "{variant}: flipped byte in {name} not reported: {:#?}",
                report.findings().collect::<Vec<_>>()
            );
            assert!(!report.valid());
            fs::write(&blob, &original).unwrap();
        }
        assert!(
            validate_path(&out, None, &Options::default())
                .unwrap()
                .valid()
        );
    }
}

#[test]
fn one_bad_field_does_not_hide_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wasm = fs::read(module("hello.wasm")).unwrap();
    let l = put(d, &wasm);
    let config = serde_json::json!({"created": "yesterday", "architecture": "wasm", "os": "wasip1",
        "layerDigests": [l.0.as_str()]});
    let c = put(d, &serde_json::to_vec(&config).unwrap());
    let mut layer = desc("application/wasm", &l);
    layer["digest"] = Value::String(l.0.as_str().to_uppercase().replace("SHA256", "sha256"));
    let manifest = serde_json::json!({"schemaVersion": 1, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.wasm.config.v0+json", &c), "layers": [layer],
        "annotations": {"org.opencontainers.image.created": 5}});
    layout_with_manifest(d, &manifest);
    let report = validate_dir(d);
    assert_eq!(report.variant, Variant::Cncf);
    for code in [
        "WI-MANIFEST-002",
        "WI-DIGEST-002",
        "WI-ANNOT-001",
        "WI-CNCF-007",
        "WI-CNCF-008",
    ] {
        assert_has(&report, code);
    }
    let dig = report
        .findings
        .iter()
        .find(|f| f.code == "WI-DIGEST-002")
        .unwrap();
    assert_eq!(dig.location, "manifest.layers[0].digest");

    // A string where the layers array belongs.
    let dir = tempfile::tempdir().unwrap();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.wasm.config.v0+json", &put(dir.path(), b"{}")), "layers": "plugin.wasm"});
    layout_with_manifest(dir.path(), &manifest);
    let report = validate_dir(dir.path());
    assert_eq!(report.variant, Variant::Cncf);
    assert_has(&report, "WI-MANIFEST-006");
    assert_has(&report, "WI-CNCF-002");
}

#[test]
fn layout_level_problems() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
    fs::write(out.join("blobs/sha256/not-a-digest"), b"x").unwrap();
    let stray = Digest::sha256_of(b"stray");
    fs::write(out.join(stray.layout_path()), b"not stray").unwrap();
    let report = validate_dir(&out);
    for code in ["WI-LAYOUT-001", "WI-LAYOUT-004", "WI-LAYOUT-005"] {
        assert_has(&report, code);
    }
    // The image itself is still checked and named.
    assert_eq!(report.variant, Variant::Cncf);
    fs::remove_file(out.join("oci-layout")).unwrap();
    fs::remove_file(out.join("index.json")).unwrap();
    let report = validate_path(&out, None, &Options::default()).unwrap();
    let found: Vec<&str> = report.findings().map(|f| f.code).collect();
    assert!(
        found.contains(&"WI-LAYOUT-001") && found.contains(&"WI-LAYOUT-002"),
        "{found:?}"
    );
    assert!(!report.valid());

    // Neither a layout nor an archive, or nothing at all: an error, not a report.
    assert!(validate_path(&module("hello.wasm"), None, &Options::default()).is_err());
    assert!(validate_path(&dir.path().join("nothing"), None, &Options::default()).is_err());
}

#[test]
fn archives_are_validated_like_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let mut archive = wasm_image::store::Archive::open_or_create(&path).unwrap();
    ImageBuilder::new(module("proxy-filter.wasm"))
        .build(&mut archive, Some("v1"))
        .unwrap();
    drop(archive);
    let report = image(validate_path(&path, None, &Options::default()).unwrap());
    assert_eq!(report.variant, Variant::CompatOci);
    assert!(no_problems(&report), "{:#?}", report.findings);
    // A flipped byte inside the archive.
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() - 1024 - 700;
    bytes[at] ^= 0x20;
    fs::write(&path, &bytes).unwrap();
    let report = validate_path(&path, None, &Options::default()).unwrap();
    assert!(!report.valid());
}

#[test]
fn consumer_size_limit_and_wasm_oci_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "proxy-filter.wasm", Variant::CompatOci);
    let tiny = Options {
        limits: wasm_image::limits::Limits {
            consumer_max_module_bytes: 100,
            ..Default::default()
        },
        ..Options::default()
    };
    let report = image(validate_path(&out, None, &tiny).unwrap());
    assert_has(&report, "WI-WASM-007");
    assert!(report.valid);
    assert!(!verdict(&report, "istio").loads);
    assert!(
        verdict(&report, "istio")
            .reason
            .contains("Istio and Envoy Gateway")
    );

    // A hello module (no ABI marker) forced into a proxy layout by hand.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rc = put(
        d,
        br#"{"type":"envoy_proxy","abi_version":"v0.2.1","abiVersions":["v0.1.0"]}"#,
    );
    let m = put(d, &fs::read(module("proxy-filter.wasm")).unwrap());
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.module.wasm.config.v1+json", &rc),
        "layers": [desc("application/vnd.module.wasm.config.v1+json", &rc), desc("application/vnd.module.wasm.content.layer.v1+wasm", &m)]});
    layout_with_manifest(d, &manifest);
    let report = validate_dir(d);
    for code in ["WI-WASMOCI-007", "WI-WASMOCI-009", "WI-WASMOCI-010"] {
        assert_has(&report, code);
    }
    assert!(report.valid, "{:#?}", report.findings);
}

/// A cncf image of `payload` with a config made by `config` from the layer digest.
fn cncf_with_config(dir: &Path, payload: &[u8], config: impl Fn(&str) -> Value) -> ImageReport {
    let l = put(dir, payload);
    let c = put(dir, &serde_json::to_vec(&config(l.0.as_str())).unwrap());
    let mut layer = desc("application/wasm", &l);
    layer["annotations"] = serde_json::json!({"org.opencontainers.image.title": "m.wasm"});
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.wasm.config.v0+json", &c), "layers": [layer]});
    layout_with_manifest(dir, &manifest);
    validate_dir(dir)
}

#[test]
fn cncf_config_must_agree_with_the_payload() {
    let component = fs::read(module("adder.component.wasm")).unwrap();
    let core = fs::read(module("hello.wasm")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = cncf_with_config(
        dir.path(),
        &component,
        |l| serde_json::json!({"created": "1970-01-01T00:00:00Z", "architecture": "wasm", "os": "wasip1", "layerDigests": [l]}),
    );
    assert_has(&r, "WI-CNCF-009");
    assert_has(&r, "WI-CNCF-010");
    let dir = tempfile::tempdir().unwrap();
    let r = cncf_with_config(dir.path(), &component, |l| {
        serde_json::json!({"created": "1970-01-01T00:00:00Z", "architecture": "wasm", "os": "wasip2", "layerDigests": [l],
            "component": {"exports": ["sub"], "imports": ["wasi:cli/environment@0.2.0"], "target": null}, "author": null})
    });
    assert_eq!(
        codes(&r.findings)
            .into_iter()
            .filter(|c| !c.ends_with("WASM-008"))
            .collect::<Vec<_>>(),
        ["WI-CNCF-012"]
    );
    // wkg's form for a core module: a warning only.
    let dir = tempfile::tempdir().unwrap();
    let r = cncf_with_config(dir.path(), &core, |l| {
        serde_json::json!({"created": "1970-01-01T00:00:00Z", "architecture": "wasm", "os": "wasip2", "layerDigests": [l],
            "component": {"exports": [], "imports": [], "target": null}})
    });
    assert_has(&r, "WI-CNCF-011");
    assert!(r.valid);
    let dir = tempfile::tempdir().unwrap();
    let r = cncf_with_config(
        dir.path(),
        &core,
        |_| serde_json::json!({"architecture": "wasm32", "os": 1, "layerDigests": "x"}),
    );
    for code in ["WI-CNCF-005", "WI-CNCF-006", "WI-CNCF-007"] {
        assert_has(&r, code);
    }
    assert!(!verdict(&r, "wkg").loads);
    assert!(
        verdict(&r, "wkg").reason.contains("WI-CNCF-"),
        "{}",
        verdict(&r, "wkg").reason
    );
}

/// A store over a layout whose reads of one blob fail with an I/O error
/// after a few bytes (a bad disk, a file that vanished under the reader).
struct FailingBlob {
    inner: Layout,
    bad: Digest,
}

struct FailingReader(usize);

impl std::io::Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("simulated I/O error"));
        }
        let n = self.0.min(buf.len());
        buf[..n].fill(0);
        self.0 -= n;
        Ok(n)
    }
}

impl ImageStore for FailingBlob {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn blob_size(&self, d: &Digest) -> Result<Option<u64>, wasm_image::store::StoreError> {
        self.inner.blob_size(d)
    }
    fn open_blob(
        &self,
        d: &Digest,
    ) -> Result<Box<dyn std::io::Read + '_>, wasm_image::store::StoreError> {
        if d == &self.bad {
            Ok(Box::new(FailingReader(3)))
        } else {
            self.inner.open_blob(d)
        }
    }
    fn root_index(&self) -> Result<wasm_image::manifest::RootIndex, wasm_image::store::StoreError> {
        self.inner.root_index()
    }
}

fn manifest_of(out: &Path) -> Value {
    let layout = Layout::open(out).unwrap();
    let entries = layout.root_index().unwrap().entries().unwrap();
    serde_json::from_slice(&fs::read(out.join(entries[0].digest.layout_path())).unwrap()).unwrap()
}

#[test]
fn a_blob_that_cannot_be_read_is_layout_011_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let manifest = manifest_of(&out);
    for key in ["config", "layer"] {
        let digest = if key == "config" {
            &manifest["config"]["digest"]
        } else {
            &manifest["layers"][0]["digest"]
        };
        let store = FailingBlob {
            inner: Layout::open(&out).unwrap(),
            bad: Digest::parse(digest.as_str().unwrap()).unwrap(),
        };
        let report = image(validate(&store, None, &Options::default()));
        assert_has(&report, "WI-LAYOUT-011");
        assert!(!report.valid, "{key}");
        for absent in [
            "WI-LAYOUT-006",
            "WI-LAYOUT-007",
            "WI-BLOB-001",
            "WI-BLOB-002",
        ] {
            assert!(
                !has(&report, absent),
                "{key}: {absent} in {:#?}",
                report.findings
            );
        }
        let f = report
            .findings
            .iter()
            .find(|f| f.code == "WI-LAYOUT-011")
            .unwrap();
        assert!(f.message.contains("simulated I/O error"), "{}", f.message);
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_blob_in_a_layout_store_is_layout_008() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let manifest = manifest_of(&out);
    let layer = Digest::parse(manifest["layers"][0]["digest"].as_str().unwrap()).unwrap();
    let path = out.join(layer.layout_path());
    let outside = dir.path().join("outside.wasm");
    fs::rename(&path, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &path).unwrap();
    // Through the store API and through the lenient path reader alike.
    let store = Layout::open(&out).unwrap();
    assert_has(
        &image(validate(&store, None, &Options::default())),
        "WI-LAYOUT-008",
    );
    assert_has(&validate_dir(&out), "WI-LAYOUT-008");
}

#[test]
fn a_wasm_section_over_the_bound_is_limit_007() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let report = validate_dir(&out);
    assert!(!has(&report, "WI-LIMIT-007"));
    for validate_wasm in [true, false] {
        let tiny = Options {
            validate_wasm,
            limits: wasm_image::limits::Limits {
                max_wasm_section_bytes: 16,
                ..Default::default()
            },
            ..Options::default()
        };
        let report = image(validate_path(&out, None, &tiny).unwrap());
        assert_has(&report, "WI-LIMIT-007");
        assert!(!has(&report, "WI-WASM-004"), "{:#?}", report.findings);
        let f = report
            .findings
            .iter()
            .find(|f| f.code == "WI-LIMIT-007")
            .unwrap();
        assert!(f.location.contains("wasm offset 0x"), "{}", f.location);
    }
    // Inside a compat tar layer too.
    let out = build(dir.path(), "proxy-filter.wasm", Variant::CompatOci);
    let tiny = Options {
        limits: wasm_image::limits::Limits {
            max_wasm_section_bytes: 16,
            ..Default::default()
        },
        ..Options::default()
    };
    assert_has(
        &image(validate_path(&out, None, &tiny).unwrap()),
        "WI-LIMIT-007",
    );
    assert_eq!(
        wasm_image::limits::MAX_WASM_SECTION_BYTES,
        wasm_image::wasm::DEFAULT_MAX_SECTION_SIZE
    );
}

#[test]
fn a_requested_variant_that_differs_is_variant_004_with_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let same = Options {
        expected_variant: Some(Variant::Cncf),
        ..Options::default()
    };
    let report = image(validate_path(&out, None, &same).unwrap());
    assert!(
        report.valid && !has(&report, "WI-VARIANT-004"),
        "{:#?}",
        report.findings
    );
    let other = Options {
        expected_variant: Some(Variant::CompatOci),
        ..Options::default()
    };
    let report = image(validate_path(&out, None, &other).unwrap());
    assert!(!report.valid);
    assert_has(&report, "WI-VARIANT-004");
    // The compat rules are applied: the layer is not a gzip tar, and the
    // module (still read as the image holds it) has no ABI marker.
    assert_has(&report, "WI-COMPAT-001");
    assert_has(&report, "WI-ABI-005");
    assert!(!has(&report, "WI-CNCF-004"));
    // The variant reported is still the detected one.
    assert_eq!(report.variant, Variant::Cncf);
}

#[test]
fn a_selector_that_names_no_image_is_layout_010() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let report = validate_path(
        &out,
        Some(&Selector::Tag("nope".into())),
        &Options::default(),
    )
    .unwrap();
    assert!(!report.valid());
    let found: Vec<&str> = report.findings().map(|f| f.code).collect();
    assert_eq!(found, ["WI-LAYOUT-010"]);
    let d = Digest::sha256_of(b"no such manifest");
    let report = validate_path(&out, Some(&Selector::Digest(d)), &Options::default()).unwrap();
    assert!(report.findings().any(|f| f.code == "WI-LAYOUT-010"));
    let report = validate_path(
        &out,
        Some(&Selector::Tag("tag".into())),
        &Options::default(),
    )
    .unwrap();
    assert!(report.valid());
}

#[test]
fn a_broken_archive_is_layout_009() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(".", &out).unwrap();
    let mut bytes = tar.into_inner().unwrap();
    // The writer ends with two zero blocks: put a block of garbage before them.
    let end = bytes.len() - 1024;
    bytes.splice(end..end, std::iter::repeat_n(0x41u8, 512));
    let path = dir.path().join("broken.tar");
    fs::write(&path, &bytes).unwrap();
    let report = image(validate_path(&path, None, &Options::default()).unwrap());
    assert_has(&report, "WI-LAYOUT-009");
    assert!(!has(&report, "WI-LAYOUT-002"), "{:#?}", report.findings);
    assert_eq!(report.variant, Variant::Cncf);
}

#[test]
fn generic_image_configs_follow_the_config_schema() {
    let dir = tempfile::tempdir().unwrap();
    for variant in [Variant::CompatOci, Variant::CompatDocker] {
        let out = build(dir.path(), "proxy-filter.wasm", variant);
        let report = validate_dir(&out);
        assert!(
            !has(&report, "WI-CONFIG-001"),
            "{variant}: {:#?}",
            report.findings
        );
    }
}

#[test]
fn an_unknown_abi_version_is_reported_only_for_function_exports() {
    let dir = tempfile::tempdir().unwrap();
    let base = r#"(memory (export "memory") 1)
        (func (export "proxy_abi_version_0_2_1"))"#;
    let as_global = wat::parse_str(format!(
        r#"(module {base} (global (export "proxy_abi_version_9_9_9") i32 (i32.const 0)))"#
    ))
    .unwrap();
    let report = cncf_layout(&dir.path().join("g"), &as_global);
    assert!(!has(&report, "WI-ABI-004"), "{:#?}", report.findings);
    let as_function = wat::parse_str(format!(
        r#"(module {base} (func (export "proxy_abi_version_9_9_9")))"#
    ))
    .unwrap();
    assert_has(
        &cncf_layout(&dir.path().join("f"), &as_function),
        "WI-ABI-004",
    );
}

#[test]
fn limit_001_and_006_apply_as_spec_oci_base_says() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), "hello.wasm", Variant::Cncf);
    let manifest = manifest_of(&out);
    let config = Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    let declared = manifest["config"]["size"].as_u64().unwrap();
    let bound = |n: u64| Options {
        limits: wasm_image::limits::Limits {
            max_config_bytes: n,
            ..Default::default()
        },
        ..Options::default()
    };
    // Declared over the bound: WI-LIMIT-006, never read.
    let report = image(validate_path(&out, None, &bound(declared - 1)).unwrap());
    assert_has(&report, "WI-LIMIT-006");
    assert!(!has(&report, "WI-LIMIT-001") && !has(&report, "WI-BLOB-001"));
    // Stored over the bound, declared within it: WI-LIMIT-001 beside WI-BLOB-001.
    let path = out.join(config.layout_path());
    let mut bytes = fs::read(&path).unwrap();
    bytes.resize(declared as usize + 4096, b' ');
    fs::write(&path, &bytes).unwrap();
    let report = image(validate_path(&out, None, &bound(declared + 10)).unwrap());
    assert_has(&report, "WI-LIMIT-001");
    assert_has(&report, "WI-BLOB-001");
    assert!(!has(&report, "WI-LIMIT-006"));
    // Stored longer but within the bound: only the length is wrong.
    let report = validate_dir(&out);
    assert_has(&report, "WI-BLOB-001");
    assert!(!has(&report, "WI-LIMIT-001"));
}

// ---- signature artifacts beside an image ----

#[test]
fn a_layout_with_one_image_and_its_signatures_validates_as_one_image() {
    use wasm_image::sign::bundle::sign_image_bundle;
    use wasm_image::sign::cosign::{SignOptions, sign_image};
    use wasm_image::sign::key::{KeyAlgorithm, PrivateKey};
    use wasm_image::store::{Archive, WritableStore};

    let dir = tempfile::tempdir().unwrap();
    let path = build(dir.path(), "proxy-filter.wasm", Variant::CompatOci);
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let sign = |store: &mut dyn WritableStore| {
        sign_image(store, &Selector::Only, &key, &SignOptions::default()).unwrap();
        sign_image(
            store,
            &Selector::Only,
            &PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            &SignOptions::default(),
        )
        .unwrap();
        sign_image_bundle(store, &Selector::Only, &key, &[]).unwrap();
    };
    sign(&mut Layout::open(&path).unwrap());
    let report = validate_dir(&path);
    assert!(report.valid, "{:#?}", report.findings);
    assert_eq!(report.tag.as_deref(), Some("tag"));
    assert!(!has(&report, "WI-VARIANT-001"), "{:#?}", report.findings);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity != Severity::Warning),
        "{:#?}",
        report.findings
    );
    // The same in an archive.
    let tar = dir.path().join("signed.tar");
    let mut archive = Archive::open_or_create(&tar).unwrap();
    ImageBuilder::new(module("proxy-filter.wasm"))
        .variant(Variant::CompatOci)
        .build(&mut archive, Some("tag"))
        .unwrap();
    sign(&mut archive);
    let report = image(validate_path(&tar, None, &Options::default()).unwrap());
    assert!(report.valid, "{:#?}", report.findings);
    assert!(!has(&report, "WI-VARIANT-001"));

    // A signature artifact is still checked by the blob rules: a payload
    // blob whose bytes changed is reported.
    let index: Value = serde_json::from_slice(&fs::read(path.join("index.json")).unwrap()).unwrap();
    let sig = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .is_some_and(|t| t.ends_with(".sig"))
        })
        .unwrap();
    let sig_digest = Digest::parse(sig["digest"].as_str().unwrap()).unwrap();
    let manifest: Value =
        serde_json::from_slice(&fs::read(path.join(sig_digest.layout_path())).unwrap()).unwrap();
    let payload = Digest::parse(manifest["layers"][0]["digest"].as_str().unwrap()).unwrap();
    let blob = path.join(payload.layout_path());
    let mut bytes = fs::read(&blob).unwrap();
    bytes[0] ^= 1;
    fs::write(&blob, bytes).unwrap();
    let report = validate_dir(&path);
    assert!(!report.valid);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.message.contains(payload.as_str())),
        "{:#?}",
        report.findings
    );
}
