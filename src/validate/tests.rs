//! Unit tests of the document checks and report helpers.

use super::*;

fn codes(kind: DocumentKind, text: &str) -> Vec<&'static str> {
    validate_document(kind, text.as_bytes(), &Options::default())
        .into_iter()
        .map(|f| f.code)
        .collect()
}

const SHA: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

#[test]
fn findings_take_severity_and_hint_from_the_catalogue() {
    let f = Finding::new("WI-CNCF-004", "manifest.layers[0]", "no title");
    assert_eq!(f.severity, Severity::Warning);
    assert!(!f.hint.is_empty());
    assert!(!f.fails(false) && f.fails(true));
    let unknown = Finding::new("WI-NOPE-000", "x", "y");
    assert_eq!(unknown.severity, Severity::Error);
}

#[test]
fn descriptor_data_size_and_digests() {
    let ok = format!(
        r#"{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{SHA}","size":2,"data":"e30="}}"#
    );
    assert!(codes(DocumentKind::Descriptor, &ok).is_empty());
    let wrong = ok.replace("e30=", "e3s=");
    assert_eq!(codes(DocumentKind::Descriptor, &wrong), ["WI-DESC-005"]);
    let unpadded = ok.replace("e30=", "e30");
    assert_eq!(codes(DocumentKind::Descriptor, &unpadded), ["WI-DESC-004"]);
    for (size, code) in [
        ("-1", "WI-DESC-003"),
        ("1.0", "WI-DESC-003"),
        ("\"2\"", "WI-DESC-001"),
        ("1e30", "WI-DESC-003"),
    ] {
        let d = ok.replace("\"size\":2,\"data\":\"e30=\"", &format!("\"size\":{size}"));
        assert_eq!(codes(DocumentKind::Descriptor, &d), [code], "{size}");
    }
    let sha512 = format!(
        r#"{{"mediaType":"a/b","digest":"sha512:{}","size":2}}"#,
        "a".repeat(128)
    );
    assert_eq!(codes(DocumentKind::Descriptor, &sha512), ["WI-DIGEST-004"]);
    let unknown = r#"{"mediaType":"a/b","digest":"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8","size":2}"#;
    assert_eq!(codes(DocumentKind::Descriptor, unknown), ["WI-DIGEST-003"]);
    let bad = r#"{"mediaType":"a/b","digest":"sha256+foo+-b:abc","size":2}"#;
    assert_eq!(codes(DocumentKind::Descriptor, bad), ["WI-DIGEST-001"]);
}

#[test]
fn annotations_and_platforms() {
    let d = format!(
        r#"{{"mediaType":"a/b","digest":"{SHA}","size":2,"annotations":{{"org.opencontainers.image.ref.name":"-bad","org.opencontainers.image.created":"now","org.opencontainers.image.title":"../x","org.opencontainers.image.nope":"1","k":null}},"platform":{{"architecture":"wasm","os_version":"1"}}}}"#
    );
    let mut got = codes(DocumentKind::Descriptor, &d);
    got.sort();
    assert_eq!(
        got,
        [
            "WI-ANNOT-001",
            "WI-ANNOT-002",
            "WI-ANNOT-003",
            "WI-ANNOT-004",
            "WI-ANNOT-005",
            "WI-INDEX-004",
            "WI-INDEX-005"
        ]
    );
}

#[test]
fn manifest_and_index_rules() {
    let m = format!(
        r#"{{"schemaVersion":2.0,"mediaType":"text/plain","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{SHA}","size":2}},"layers":[],"subject":"x","artifactType":".x"}}"#
    );
    let mut got = codes(DocumentKind::Manifest, &m);
    got.sort();
    assert_eq!(
        got,
        [
            "WI-MANIFEST-002",
            "WI-MANIFEST-004",
            "WI-MANIFEST-007",
            "WI-MANIFEST-009",
            "WI-MANIFEST-010"
        ]
    );
    let empty_config = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{SHA}","size":2}},"layers":[{{"mediaType":"a/b","digest":"{SHA}","size":2}}]}}"#
    );
    let mut got = codes(DocumentKind::Manifest, &empty_config);
    got.sort();
    assert_eq!(got, ["WI-MANIFEST-003", "WI-MANIFEST-008"]);
    assert_eq!(
        codes(
            DocumentKind::Index,
            r#"{"schemaVersion":2,"mediaType":"x/y","manifests":{}}"#
        ),
        ["WI-INDEX-002", "WI-INDEX-003"]
    );
    assert_eq!(codes(DocumentKind::Index, "[]"), ["WI-INDEX-001"]);
    assert_eq!(
        codes(DocumentKind::Layout, r#"{"imageLayoutVersion":1}"#),
        ["WI-LAYOUT-001"]
    );
    assert_eq!(
        codes(DocumentKind::Config, r#"{"os":"linux"}"#),
        // Image configs have their own rule now (spec/oci-base.md, "Image config").
        ["WI-CONFIG-001", "WI-CONFIG-001"]
    );
}

#[test]
fn a_subject_object_that_is_not_a_valid_descriptor_is_manifest_010() {
    let manifest = |subject: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{z}","size":2}},
            "layers":[{{"mediaType":"application/wasm","digest":"sha256:{z}","size":2}}],
            "subject":{subject}}}"#,
            z = "0".repeat(64)
        )
    };
    let no_digest = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2}"#;
    let got = codes(DocumentKind::Manifest, &manifest(no_digest));
    assert!(got.contains(&"WI-MANIFEST-010"), "{got:?}");
    assert!(got.contains(&"WI-DESC-001"), "{got:?}");
    let no_size = format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}"}}"#,
        "0".repeat(64)
    );
    let got = codes(DocumentKind::Manifest, &manifest(&no_size));
    assert!(got.contains(&"WI-MANIFEST-010"), "{got:?}");
    let good = format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":2}}"#,
        "0".repeat(64)
    );
    assert!(codes(DocumentKind::Manifest, &manifest(&good)).is_empty());
    assert_eq!(
        codes(DocumentKind::Manifest, &manifest("3")),
        ["WI-MANIFEST-010"]
    );
    let index = format!(r#"{{"schemaVersion":2,"manifests":[],"subject":{no_digest}}}"#);
    assert!(codes(DocumentKind::Index, &index).contains(&"WI-MANIFEST-010"));
}

#[test]
fn report_helpers() {
    let report = Report::Layout(LayoutReport {
        valid: false,
        findings: vec![Finding::new("WI-LAYOUT-001", "oci-layout", "missing")],
        images: vec![ImageReport {
            valid: true,
            variant: Variant::Cncf,
            manifest_digest: None,
            tag: None,
            findings: vec![Finding::new("WI-WASM-008", "layer", "component")],
            consumers: Vec::new(),
            convert: None,
        }],
    });
    assert!(!report.valid());
    let found: Vec<&str> = report.findings().map(|f| f.code).collect();
    assert_eq!(found, ["WI-LAYOUT-001", "WI-WASM-008"]);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["images"][0]["variant"], "cncf");
    assert_eq!(json["findings"][0]["severity"], "error");
}
