//! One test per named bound of `src/limits.rs`: input just over the bound is
//! refused with an error that names the bound (its value, and where the
//! message has room, its name), without a crash, a hang, or an allocation of
//! the claimed size. Documents over a bound are a byte over it; claimed
//! sizes are far over it (2^62 bytes), so reading them would fail the test.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use wasm_image::compat::{self, CompatError};
use wasm_image::digest::Digest;
use wasm_image::json::JsonError;
use wasm_image::limits::{self, Limits};
use wasm_image::manifest::{self, ManifestError, RootIndex};
use wasm_image::store::{self, Archive, Layout, StoreError};
use wasm_image::validate::{self, DocumentKind, Options, Report, validate_document, validate_path};
use wasm_image::wasm::{self, InspectOptions, StreamingInspector, WasmError};

const HUGE: u64 = 1 << 62;

fn codes(report: &Report) -> Vec<(&'static str, String)> {
    report
        .findings()
        .map(|f| (f.code, f.message.clone()))
        .collect()
}

fn has(report: &Report, code: &str, text: &str) -> bool {
    report
        .findings()
        .any(|f| f.code == code && f.message.contains(text))
}

fn options(limits: Limits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

/// A JSON document of exactly `size` bytes: `{"pad":"xxx…"}`.
fn json_of_size(size: usize) -> Vec<u8> {
    let mut doc = br#"{"pad":""#.to_vec();
    doc.resize(size - 2, b'x');
    doc.extend_from_slice(br#""}"#);
    doc
}

/// A layout holding `blobs`, with `index.json` naming `manifest` (digest of the given bytes).
fn layout_with(dir: &Path, blobs: &[&[u8]], manifest: &[u8]) {
    fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    fs::write(dir.join("oci-layout"), store::LAYOUT_HEADER).unwrap();
    for b in blobs {
        fs::write(dir.join(Digest::sha256_of(b).layout_path()), b).unwrap();
    }
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": Digest::sha256_of(manifest).to_string(),
        "size": manifest.len(),
    }]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": Digest::sha256_of(bytes).to_string(), "size": bytes.len()})
}

// --- Documents -------------------------------------------------------------

#[test]
fn max_manifest_bytes() {
    let limit = limits::MAX_MANIFEST_BYTES;
    let over = json_of_size(limit as usize + 1);
    match manifest::parse_manifest(&over) {
        Err(ManifestError::Json(JsonError::TooLarge { size, limit: l })) => {
            assert_eq!((size, l), (limit + 1, limit));
        }
        other => panic!("{other:?}"),
    }
    let findings = validate_document(DocumentKind::Manifest, &over, &Options::default());
    assert!(
        findings
            .iter()
            .any(|f| f.code == "WI-LIMIT-001" && f.message.contains(&limit.to_string())),
        "{findings:?}"
    );
    // A manifest blob over the bound in a store is refused before it is read.
    let dir = tempfile::tempdir().unwrap();
    layout_with(dir.path(), &[&over], &over);
    let layout = Layout::open(dir.path()).unwrap();
    let digest = Digest::sha256_of(&over);
    match store::read_blob(&layout, &digest, Some(limit + 1), limit) {
        Err(StoreError::TooLarge { size, limit: l, .. }) => {
            assert_eq!((size, l), (limit + 1, limit))
        }
        other => panic!("{other:?}"),
    }
    let report = validate_path(dir.path(), None, &Options::default()).unwrap();
    assert!(
        has(&report, "WI-LIMIT-006", &limit.to_string()),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn max_config_bytes() {
    let small = Limits {
        max_config_bytes: 1000,
        ..Limits::default()
    };
    let config = json_of_size(1001);
    let layer = b"\0asm\x01\0\0\0".as_slice();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.wasm.config.v0+json", &config),
        "layers": [descriptor("application/wasm", layer)],
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    layout_with(dir.path(), &[&config, layer, &manifest], &manifest);
    let report = validate_path(dir.path(), None, &options(small)).unwrap();
    assert!(has(&report, "WI-LIMIT-006", "1000"), "{:?}", codes(&report));
    // The default bound, on the document alone.
    let over = json_of_size(limits::MAX_CONFIG_BYTES as usize + 1);
    let findings = validate_document(DocumentKind::Config, &over, &Options::default());
    assert!(
        findings.iter().any(|f| f.code == "WI-LIMIT-001"
            && f.message.contains(&limits::MAX_CONFIG_BYTES.to_string())),
        "{findings:?}"
    );
    // A descriptor claiming a huge config is not read (nor allocated for).
    let image = wasm_image::image::Image::open(
        &Layout::open(dir.path()).unwrap(),
        &store::Selector::Only,
        &small,
    );
    assert!(
        matches!(
            image,
            Err(wasm_image::image::ImageError::Store(StoreError::TooLarge {
                limit: 1000,
                ..
            }))
        ),
        "{image:?}"
    );
}

#[test]
fn max_index_bytes() {
    let limit = limits::MAX_INDEX_BYTES;
    let over = json_of_size(limit as usize + 1);
    assert!(matches!(
        RootIndex::parse(&over, limit),
        Err(manifest::IndexError::Json(JsonError::TooLarge { .. }))
    ));
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("oci-layout"), store::LAYOUT_HEADER).unwrap();
    fs::write(dir.path().join("index.json"), &over).unwrap();
    let err = Layout::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::NotALayout { .. })
            && err.to_string().contains(&limit.to_string()),
        "{err}"
    );
    let report = validate_path(dir.path(), None, &Options::default()).unwrap();
    assert!(
        has(&report, "WI-LIMIT-001", &limit.to_string()),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn max_layout_header_bytes() {
    let limit = limits::MAX_LAYOUT_HEADER_BYTES;
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("oci-layout"),
        json_of_size(limit as usize + 1),
    )
    .unwrap();
    fs::write(
        dir.path().join("index.json"),
        br#"{"schemaVersion":2,"manifests":[]}"#,
    )
    .unwrap();
    let err = Layout::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains(&limit.to_string()), "{err}");
    let report = validate_path(dir.path(), None, &Options::default()).unwrap();
    assert!(
        report
            .findings()
            .any(|f| f.code.starts_with("WI-L") && f.message.contains(&limit.to_string())),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn max_json_depth() {
    let limit = limits::MAX_JSON_DEPTH;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    let over = [b"{\"a\":".as_slice(), &deep(limit), b"}"].concat();
    match manifest::parse_manifest(&over) {
        Err(ManifestError::Json(JsonError::TooDeep { limit: l, .. })) => assert_eq!(l, limit),
        other => panic!("{other:?}"),
    }
    // Just at the bound: parsed (and refused for its shape, not its depth).
    let at = [b"{\"a\":".as_slice(), &deep(limit - 1), b"}"].concat();
    assert!(!matches!(
        manifest::parse_manifest(&at),
        Err(ManifestError::Json(JsonError::TooDeep { .. }))
    ));
    for kind in [
        DocumentKind::Manifest,
        DocumentKind::Index,
        DocumentKind::Config,
    ] {
        let findings = validate_document(kind, &over, &Options::default());
        assert!(
            findings.iter().any(|f| f.code == "WI-LIMIT-002"),
            "{kind:?}: {findings:?}"
        );
    }
    // Far deeper than any stack could recurse: refused before parsing.
    let very = [b"{\"a\":".as_slice(), &deep(1_000_000), b"}"].concat();
    assert!(manifest::parse_manifest(&very).is_err());
}

// --- Compressed tar layers -------------------------------------------------

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, *data).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn max_tar_entries() {
    let limits = Limits {
        max_tar_entries: 16,
        ..Limits::default()
    };
    let names: Vec<String> = (0..17).map(|i| format!("f{i}")).collect();
    let mut entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    entries.push(("plugin.wasm", b"\0asm\x01\0\0\0"));
    let layer = tar_gz(&entries);
    let err = compat::read_plugin(&mut &layer[..], &limits, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, CompatError::TooManyEntries(16)), "{err}");
    assert!(err.to_string().contains("16"), "{err}");
    // With one entry fewer, plugin.wasm is found.
    let layer = tar_gz(&entries[2..]);
    assert!(compat::read_plugin(&mut &layer[..], &limits, &mut |_| Ok(())).is_ok());
}

#[test]
fn max_decompressed_bytes() {
    let limits = Limits {
        max_decompressed_bytes: 64 << 10,
        max_decompression_ratio: u64::MAX,
        ..Limits::default()
    };
    let module = vec![7u8; 64 << 10];
    let layer = tar_gz(&[("plugin.wasm", &module)]);
    let mut seen = 0u64;
    let err = compat::read_plugin(&mut &layer[..], &limits, &mut |c| {
        seen += c.len() as u64;
        Ok(())
    })
    .unwrap_err();
    assert!(matches!(err, CompatError::TooBig(65536)), "{err}");
    assert!(err.to_string().contains("65536"), "{err}");
    assert!(seen <= 64 << 10);
}

#[test]
fn max_decompression_ratio_and_ratio_free_bytes() {
    // 4 MiB of zeros compress about 1000:1.
    let bomb = tar_gz(&[("plugin.wasm", &vec![0u8; 4 << 20])]);
    let limits = Limits::default();
    let err = compat::read_plugin(&mut &bomb[..], &limits, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, CompatError::Ratio(100)), "{err}");
    assert!(err.to_string().contains("100:1"), "{err}");
    // The ratio applies only past `ratio_free_bytes` (this bound was once
    // ignored by compat::read_plugin, which used the constant).
    let free = Limits {
        ratio_free_bytes: 8 << 20,
        ..Limits::default()
    };
    assert!(compat::read_plugin(&mut &bomb[..], &free, &mut |_| Ok(())).is_ok());
    let tight = Limits {
        ratio_free_bytes: 0,
        max_decompression_ratio: 2,
        ..Limits::default()
    };
    let plain = tar_gz(&[("plugin.wasm", b"\0asm\x01\0\0\0")]);
    assert!(matches!(
        compat::read_plugin(&mut &plain[..], &tight, &mut |_| Ok(())),
        Err(CompatError::Ratio(2))
    ));
}

// --- Layers, modules, archives ---------------------------------------------

/// A cncf image whose layer descriptor claims `size` bytes.
fn image_claiming(dir: &Path, size: u64) {
    let layer = b"\0asm\x01\0\0\0".as_slice();
    let config = serde_json::to_vec(&json!({
        "architecture": "wasm", "os": "wasip1",
        "layerDigests": [Digest::sha256_of(layer).to_string()],
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.wasm.config.v0+json", &config),
        "layers": [{"mediaType": "application/wasm", "digest": Digest::sha256_of(layer).to_string(), "size": size}],
    }))
    .unwrap();
    layout_with(dir, &[&config, layer, &manifest], &manifest);
}

#[test]
fn max_layer_bytes() {
    let dir = tempfile::tempdir().unwrap();
    image_claiming(dir.path(), HUGE);
    let report = validate_path(dir.path(), None, &Options::default()).unwrap();
    assert!(
        has(
            &report,
            "WI-LIMIT-006",
            &limits::MAX_LAYER_BYTES.to_string()
        ),
        "{:?}",
        codes(&report)
    );
    let small = Limits {
        max_layer_bytes: 7,
        ..Limits::default()
    };
    let dir = tempfile::tempdir().unwrap();
    image_claiming(dir.path(), 8);
    let report = validate_path(dir.path(), None, &options(small)).unwrap();
    assert!(
        has(&report, "WI-LIMIT-006", "over the limit of 7"),
        "{:?}",
        codes(&report)
    );
    let layout = Layout::open(dir.path()).unwrap();
    let image = wasm_image::image::Image::open(&layout, &store::Selector::Only, &small).unwrap();
    let err = image.inspect_module(&layout, &small, true).unwrap_err();
    assert!(err.to_string().contains('7'), "{err}");
}

#[test]
fn max_wasm_section_bytes() {
    // A data section (id 11) declaring 2^31 bytes, of which 4 are present.
    let mut module = wasm::CORE_MODULE_PREAMBLE.to_vec();
    module.extend_from_slice(&[11, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2, 3, 4]);
    let options = InspectOptions {
        validate: true,
        max_section_size: limits::MAX_WASM_SECTION_BYTES,
    };
    let mut inspector = StreamingInspector::new(options.clone());
    let err = inspector.push(&module).unwrap_err();
    match &err {
        WasmError::TooLarge { size, limit, .. } => {
            assert_eq!((*size, *limit), (1 << 31, limits::MAX_WASM_SECTION_BYTES));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&limits::MAX_WASM_SECTION_BYTES.to_string())
    );
    assert!(matches!(
        wasm::inspect_reader(&module[..], options),
        Err(WasmError::TooLarge { .. })
    ));
}

#[test]
fn consumer_max_module_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("m.wasm");
    fs::write(
        &module,
        wat::parse_str(
            "(module (func (export \"proxy_abi_version_0_2_1\")) (memory (export \"memory\") 1))",
        )
        .unwrap(),
    )
    .unwrap();
    let out = dir.path().join("layout");
    let mut layout = Layout::open_or_create(&out).unwrap();
    wasm_image::build::ImageBuilder::new(&module)
        .variant(wasm_image::variant::Variant::CompatOci)
        .build(&mut layout, None)
        .unwrap();
    let small = Limits {
        consumer_max_module_bytes: 8,
        ..Limits::default()
    };
    let report = validate_path(&out, None, &options(small)).unwrap();
    let Report::Image(image) = report else {
        panic!("one image")
    };
    let istio = image
        .consumers
        .iter()
        .find(|c| c.consumer == "istio")
        .unwrap();
    assert!(!istio.loads && istio.reason.contains('8'), "{istio:?}");
}

fn tar_of(entries: usize, path: &Path) {
    let file = fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mut h = tar::Header::new_ustar();
    h.set_size(0);
    h.set_mode(0o644);
    for i in 0..entries {
        let mut h = h.clone();
        tar.append_data(&mut h, format!("d/{i}"), &b""[..]).unwrap();
    }
    tar.into_inner().unwrap().flush().unwrap();
}

#[test]
fn max_archive_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    tar_of(limits::MAX_ARCHIVE_ENTRIES as usize + 1, &path);
    let err = Archive::open(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains(&limits::MAX_ARCHIVE_ENTRIES.to_string()),
        "{err}"
    );
    let small = Limits {
        max_archive_entries: 10,
        ..Limits::default()
    };
    let path = dir.path().join("b.tar");
    tar_of(11, &path);
    let report = validate_path(&path, None, &options(small)).unwrap();
    assert!(
        report.findings().any(|f| f.message.contains("10")),
        "{:?}",
        codes(&report)
    );
}

// --- Files given by path ---------------------------------------------------

#[test]
fn read_file_bounded_names_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    fs::write(&path, vec![b'x'; 101]).unwrap();
    let err = limits::read_file_bounded(&path, 100, "MAX_TEST_BYTES").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("100 bytes (MAX_TEST_BYTES)"),
        "{err}"
    );
    assert_eq!(
        limits::read_file_bounded(&path, 101, "x").unwrap().len(),
        101
    );
    // A device that never ends is read to the bound and no further.
    if Path::new("/dev/zero").exists() {
        let err = limits::read_file_bounded(Path::new("/dev/zero"), 1 << 20, "MAX_KEY_FILE_BYTES")
            .unwrap_err();
        assert!(err.to_string().contains("MAX_KEY_FILE_BYTES"), "{err}");
    }
    assert_eq!(limits::MAX_RUNTIME_CONFIG_BYTES, limits::MAX_CONFIG_BYTES);
}

// --- Signing -----------------------------------------------------------------

#[test]
fn max_key_file_bytes() {
    use wasm_image::sign::key::{KeyError, PrivateKey, PublicKey};
    let limit = limits::MAX_KEY_FILE_BYTES;
    let mut pem = b"-----BEGIN PUBLIC KEY-----\n".to_vec();
    pem.resize(limit as usize - 25, b'A');
    pem.extend_from_slice(b"\n-----END PUBLIC KEY-----\n");
    assert!(pem.len() as u64 > limit);
    for err in [
        PublicKey::from_pem(&pem).unwrap_err(),
        PrivateKey::from_pem(&pem, None).unwrap_err(),
    ] {
        assert!(matches!(err, KeyError::TooLarge(l) if l == limit), "{err}");
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
    }
}

#[test]
fn max_signature_payload_bytes() {
    use wasm_image::sign::payload::SimpleSigning;
    let limit = limits::MAX_SIGNATURE_PAYLOAD_BYTES;
    let err = SimpleSigning::parse(&json_of_size(limit as usize + 1)).unwrap_err();
    assert!(err.to_string().contains(&limit.to_string()), "{err}");
}

#[test]
fn max_signature_bytes() {
    use base64::Engine as _;
    let limit = limits::MAX_SIGNATURE_BYTES;
    let over = base64::engine::general_purpose::STANDARD.encode(vec![1u8; limit + 3]);
    let err = wasm_image::sign::verify::decode_signature(&over).unwrap_err();
    assert!(err.contains(&limit.to_string()), "{err}");
    let at = base64::engine::general_purpose::STANDARD.encode(vec![1u8; limit]);
    assert_eq!(
        wasm_image::sign::verify::decode_signature(&at)
            .unwrap()
            .len(),
        limit
    );
}

#[test]
fn max_signatures() {
    use wasm_image::sign::cosign::{self, SignError};
    let image = b"{}".as_slice();
    let image_digest = Digest::sha256_of(image);
    let layer = descriptor("application/vnd.dev.cosign.simplesigning.v1+json", b"x");
    let layers: Vec<Value> = vec![layer; limits::MAX_SIGNATURES + 1];
    let sig_manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", b"{}"),
        "layers": layers,
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    layout_with(dir.path(), &[image, &sig_manifest], image);
    let mut index: Value =
        serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": Digest::sha256_of(&sig_manifest).to_string(),
        "size": sig_manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": store::signature_tag(&image_digest)},
    }));
    fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let layout = Layout::open(dir.path()).unwrap();
    let err = cosign::read_signature_manifest(&layout, &image_digest).unwrap_err();
    assert!(matches!(err, SignError::TooMany(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&limits::MAX_SIGNATURES.to_string()),
        "{err}"
    );
}

#[test]
fn max_bundle_bytes() {
    let limit = limits::MAX_BUNDLE_BYTES;
    let over = json_of_size(limit as usize + 1);
    let err = wasm_image::sign::bundle::read_dsse(&over).unwrap_err();
    assert!(err.contains(&limit.to_string()), "{err}");
    let err = wasm_image::sign::bundle::statement_subjects(&over).unwrap_err();
    assert!(err.contains(&limit.to_string()), "{err}");
}

#[test]
fn max_chain_length() {
    use wasm_image::sign::keyless::{CertificateAuthority, TrustedRoot, check_chain};
    use x509_cert::der::Decode;
    let leaf = rcgen::generate_simple_self_signed(vec!["leaf.example".into()]).unwrap();
    let leaf = x509_cert::Certificate::from_der(leaf.cert.der()).unwrap();
    let root = TrustedRoot {
        authorities: vec![CertificateAuthority {
            chain: vec![vec![0u8; 16]; limits::MAX_CHAIN_LENGTH + 1],
            valid_for: (None, None),
        }],
        ..TrustedRoot::default()
    };
    let err = check_chain(&root, &leaf, 1).unwrap_err();
    assert!(err.to_string().contains("MAX_CHAIN_LENGTH"), "{err}");
}

#[test]
fn max_trusted_root_bytes() {
    let limit = limits::MAX_TRUSTED_ROOT_BYTES;
    let over = json_of_size(limit as usize + 1);
    let err = wasm_image::sign::keyless::TrustedRoot::from_json(&over).expect_err("refused");
    assert!(err.to_string().contains(&limit.to_string()), "{err}");
}

// --- Registry responses ------------------------------------------------------

#[cfg(feature = "registry")]
mod registry {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use wasm_image::limits;
    use wasm_image::registry::auth;
    use wasm_image::registry::{Client, Options, Reference};

    /// A one-thread HTTP server answering every request with `answer(path)`:
    /// (status line, extra headers, body); bodies without Content-Length are
    /// sent until the connection closes.
    fn serve(answer: fn(&str, u16) -> (String, Vec<u8>)) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = handle(&mut stream, answer, port);
            }
        });
        port
    }

    fn handle(
        stream: &mut TcpStream,
        answer: fn(&str, u16) -> (String, Vec<u8>),
        port: u16,
    ) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
            if stream.read(&mut byte)? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head);
        let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
        let (head, body) = answer(&path, port);
        stream.write_all(head.as_bytes())?;
        stream.write_all(b"Connection: close\r\n\r\n")?;
        stream.write_all(&body)?;
        Ok(())
    }

    fn client(port: u16) -> Client {
        let reference = Reference::parse(&format!("127.0.0.1:{port}/team/filter:v1")).unwrap();
        let options = Options {
            plain_http: true,
            docker_config: false,
            retries: 0,
            ..Options::default()
        };
        Client::new(&reference, &options).unwrap()
    }

    fn over(limit: u64) -> Vec<u8> {
        vec![b' '; limit as usize + 1]
    }

    #[test]
    fn max_manifest_bytes_of_a_registry_response() {
        // Without Content-Length: read to the bound and one byte more.
        let port = serve(|_, _| {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                    .into(),
                over(limits::MAX_MANIFEST_BYTES),
            )
        });
        let err = client(port)
            .get_manifest("team/filter", "v1", None)
            .unwrap_err();
        assert!(err.to_string().contains("MAX_MANIFEST_BYTES"), "{err}");
        // With a Content-Length over the bound: refused before reading.
        let port = serve(|_, _| {
            (
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", 1u64 << 40),
                Vec::new(),
            )
        });
        let err = client(port)
            .get_manifest("team/filter", "v1", None)
            .unwrap_err();
        assert!(err.to_string().contains("MAX_MANIFEST_BYTES"), "{err}");
    }

    #[test]
    fn max_token_response_bytes() {
        let port = serve(|path, port| {
            if path.starts_with("/token") {
                (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".into(),
                    over(limits::MAX_TOKEN_RESPONSE_BYTES),
                )
            } else {
                (
                    format!(
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test\"\r\nContent-Length: 0\r\n"
                    ),
                    Vec::new(),
                )
            }
        });
        let err = client(port)
            .get_manifest("team/filter", "v1", None)
            .unwrap_err();
        assert!(
            err.to_string().contains("MAX_TOKEN_RESPONSE_BYTES"),
            "{err}"
        );
    }

    #[test]
    fn max_tag_list_bytes() {
        let port = serve(|_, _| {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".into(),
                over(limits::MAX_TAG_LIST_BYTES),
            )
        });
        let err = client(port).list_tags("team/filter").unwrap_err();
        assert!(err.to_string().contains("MAX_TAG_LIST_BYTES"), "{err}");
    }

    #[test]
    fn max_tag_pages() {
        let port = serve(|_, _| {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLink: </v2/team/filter/tags/list?n=1&last=a>; rel=\"next\"\r\n".into(),
                br#"{"tags":["a"]}"#.to_vec(),
            )
        });
        let err = client(port).list_tags("team/filter").unwrap_err();
        assert!(
            err.to_string().contains(&limits::MAX_TAG_PAGES.to_string()),
            "{err}"
        );
    }

    #[test]
    fn max_error_body_bytes() {
        // A 16 MiB error body is read only up to the bound, for its codes.
        let port = serve(|_, _| {
            (
                "HTTP/1.1 404 Not Found\r\n".into(),
                vec![b' '; 16 * limits::MAX_ERROR_BODY_BYTES as usize],
            )
        });
        let start = std::time::Instant::now();
        let err = client(port)
            .get_manifest("team/filter", "v1", None)
            .unwrap_err();
        assert!(err.to_string().contains("404"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn max_docker_config_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            vec![b' '; limits::MAX_DOCKER_CONFIG_BYTES as usize + 1],
        )
        .unwrap();
        let err = auth::from_docker_config(&path, "example.com").unwrap_err();
        assert!(err.to_string().contains("MAX_DOCKER_CONFIG_BYTES"), "{err}");
    }
}

#[test]
fn every_bound_is_tested_here() {
    // Each `pub const MAX_*` (and the other bounds) of src/limits.rs has a
    // test named after it in this file.
    let source = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/limits.rs")).unwrap();
    let tests = fs::read_to_string(file!()).unwrap_or_else(|_| {
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/limits.rs")).unwrap()
    });
    let untested: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub const "))
        .filter_map(|l| l.split(':').next())
        .filter(|name| !tests.contains(&name.to_lowercase()) && !tests.contains(name))
        .collect();
    assert!(untested.is_empty(), "bounds without a test: {untested:?}");
    let _ = validate::DocumentKind::Layout;
}
