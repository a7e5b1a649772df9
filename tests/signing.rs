//! Signing and verification: the cosign vectors (keys, payloads, signature
//! layers), sign-then-verify in a layout and an archive, and the attacks
//! that must fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use wasm_image::build::ImageBuilder;
use wasm_image::digest::Digest;
use wasm_image::sign::bundle::{self, sign_image_bundle};
use wasm_image::sign::cosign::{self, SIGNATURE_ANNOTATION, SignOptions, sign_image};
use wasm_image::sign::key::{KeyAlgorithm, PrivateKey, PublicKey};
use wasm_image::sign::keyless::{self, KeylessPolicy, TrustedRoot};
use wasm_image::sign::payload::{SimpleSigning, docker_reference};
use wasm_image::sign::verify::{VerifyOptions, VerifyReport, verify_image};
use wasm_image::store::{Archive, Layout, Selector, WritableStore, signature_tag};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn read_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(testdata(rel)).unwrap()).unwrap()
}

#[test]
fn cosign_key_vectors_load_or_fail_as_listed() {
    let rows = read_json("cosign/keys/keys.json");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 33);
    for row in rows {
        let file = row["file"].as_str().unwrap();
        let text = std::fs::read(testdata(&format!("cosign/keys/{file}"))).unwrap();
        let password = row["password"].as_str().map(str::as_bytes);
        let ok = row["expect"] == "ok";
        let result = if row["format"]
            .as_str()
            .unwrap()
            .starts_with("PUBLIC KEY (SPKI")
        {
            PublicKey::from_pem(&text).map(|k| k.algorithm().to_string())
        } else {
            PrivateKey::from_pem(&text, password).map(|k| k.algorithm().to_string())
        };
        match (&result, ok) {
            (Ok(_), true) | (Err(_), false) => {}
            _ => panic!(
                "{file} ({:?}): expected {}, got {result:?}",
                row["password"], row["expect"]
            ),
        }
        if let Err(e) = &result {
            let text = e.to_string();
            if let Some(p) = password.filter(|p| p.len() > 1) {
                assert!(!text.contains(std::str::from_utf8(p).unwrap()), "{text}");
            }
        }
        // A derived public key must match its private key.
        if let (Some(public), Ok(_)) = (row["derived_public_key"].as_str(), &result) {
            let private = PrivateKey::from_pem(&text, password).unwrap();
            let public = PublicKey::from_pem(
                &std::fs::read(testdata(&format!("cosign/keys/{public}"))).unwrap(),
            )
            .unwrap();
            if let Ok(derived) = private.public_key() {
                assert_eq!(derived, public, "{file}");
            }
        }
    }
}

#[test]
fn encrypted_keys_round_trip_and_refuse_wrong_passwords() {
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let key = PrivateKey::generate(algorithm).unwrap();
        for password in [&b""[..], b"correct horse"] {
            let pem = key.to_encrypted_pem(password).unwrap();
            assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
            let back = PrivateKey::from_pem(pem.as_bytes(), Some(password)).unwrap();
            assert_eq!(back.public_key().unwrap(), key.public_key().unwrap());
            let err = PrivateKey::from_pem(pem.as_bytes(), Some(b"wrong")).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(text.contains("wrong password"), "{text}");
            let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
            assert!(
                !text.contains(&body) && !text.contains("correct horse"),
                "{text}"
            );
            assert!(PrivateKey::from_pem(pem.as_bytes(), None).is_err());
        }
        assert!(!format!("{key:?}").contains("secret"));
    }
}

#[test]
fn scrypt_parameters_outside_cosigns_are_refused_before_work() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pem = key.to_encrypted_pem(b"").unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let json = String::from_utf8(STANDARD.decode(body).unwrap()).unwrap();
    for (from, to) in [
        (r#""N":65536"#, r#""N":1048576"#),
        (r#""r":8"#, r#""r":64"#),
        (r#""p":1"#, r#""p":16"#),
    ] {
        let evil = json.replace(from, to);
        let evil_pem = format!(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            STANDARD.encode(evil)
        );
        let start = std::time::Instant::now();
        let err = PrivateKey::from_pem(evil_pem.as_bytes(), Some(b"")).unwrap_err();
        assert!(err.to_string().contains("scrypt parameters"), "{err}");
        assert!(start.elapsed().as_millis() < 50);
    }
}

#[test]
fn simple_signing_payloads_are_byte_identical_to_cosigns() {
    let rows = read_json("cosign/payloads.json");
    for row in rows.as_array().unwrap() {
        let bytes = row["bytes"].as_str().unwrap();
        match row["direction"].as_str().unwrap() {
            "marshal" => {
                let image = row["image"].as_str().unwrap();
                let (_, digest) = image.split_once('@').unwrap();
                let reference = row["claimed_identity"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| docker_reference(image));
                let mut payload = SimpleSigning::new(&reference, &Digest::parse(digest).unwrap());
                if let Some(map) = row["annotations"].as_object() {
                    payload.optional = Some(map.clone());
                }
                assert_eq!(String::from_utf8(payload.to_bytes()).unwrap(), bytes);
            }
            _ => {
                let parsed = SimpleSigning::parse(bytes.as_bytes());
                if row["expect"] == "error" {
                    assert!(parsed.is_err(), "{bytes}");
                } else {
                    let parsed = parsed.unwrap();
                    let expected = row["expected_image"].as_str().unwrap();
                    assert!(expected.ends_with(&parsed.manifest_digest));
                    assert_eq!(
                        parsed.optional.map(Value::Object).unwrap_or(Value::Null),
                        row["expected_annotations"]
                    );
                }
            }
        }
    }
}

#[test]
fn cosign_signature_layer_vectors_verify() {
    let good = read_json("cosign/signature-layers/without_bundle.json");
    let key = PublicKey::from_pem(good["public_key_pem"].as_str().unwrap().as_bytes()).unwrap();
    let sig = STANDARD
        .decode(good["signature_b64"].as_str().unwrap())
        .unwrap();
    key.verify(good["payload"].as_str().unwrap().as_bytes(), &sig)
        .unwrap();

    let wrong = read_json("cosign/signature-layers/without_bundle_wrong_key.json");
    let key = PublicKey::from_pem(wrong["public_key_pem"].as_str().unwrap().as_bytes()).unwrap();
    let sig = STANDARD
        .decode(wrong["signature_b64"].as_str().unwrap())
        .unwrap();
    let err = key
        .verify(wrong["payload"].as_str().unwrap().as_bytes(), &sig)
        .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

fn keyless_vector() -> (Value, BTreeMap<String, String>) {
    let v = read_json("cosign/signature-layers/with_certificate.json");
    let mut annotations = BTreeMap::new();
    annotations.insert(
        SIGNATURE_ANNOTATION.to_owned(),
        v["signature_b64"].as_str().unwrap().to_owned(),
    );
    annotations.insert(
        cosign::CERTIFICATE_ANNOTATION.to_owned(),
        v["certificate_pem"].as_str().unwrap().to_owned(),
    );
    annotations.insert(
        cosign::BUNDLE_ANNOTATION.to_owned(),
        serde_json::to_string(&v["bundle"]).unwrap(),
    );
    (v, annotations)
}

fn pool_root(v: &Value) -> TrustedRoot {
    let pool: Vec<Vec<u8>> = match &v["fulcio_cert_pool_pem"] {
        Value::Array(items) => items
            .iter()
            .map(|p| p.as_str().unwrap().as_bytes().to_vec())
            .collect(),
        Value::String(s) => vec![s.as_bytes().to_vec()],
        other => panic!("{other}"),
    };
    let pool: Vec<&[u8]> = pool.iter().map(Vec::as_slice).collect();
    TrustedRoot::from_pem(
        &pool,
        &[v["rekor_public_key_pem"].as_str().unwrap().as_bytes()],
    )
    .unwrap()
}

#[test]
fn cosign_keyless_vector_verifies_offline() {
    let (v, annotations) = keyless_vector();
    let payload = v["payload"].as_str().unwrap().as_bytes();
    let sig = STANDARD
        .decode(v["signature_b64"].as_str().unwrap())
        .unwrap();
    let policy = KeylessPolicy {
        trusted_root: pool_root(&v),
        identity: "flavio@castelli.me".into(),
        issuer: None,
    };
    let signer = keyless::verify_keyless_parts(&policy, &annotations, payload, &sig).unwrap();
    assert!(signer.contains("flavio@castelli.me"));
    // The same with the production trusted root file of sigstore-rs.
    let root = TrustedRoot::from_json(
        &std::fs::read(testdata(
            "cosign/trust-roots/sigstore-rs_trust_root_prod_trusted_root.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let policy = KeylessPolicy {
        trusted_root: root,
        ..policy
    };
    keyless::verify_keyless_parts(&policy, &annotations, payload, &sig).unwrap();

    // Wrong identity.
    let other = KeylessPolicy {
        identity: "mallory@example.com".into(),
        ..policy.clone()
    };
    let err = keyless::verify_keyless_parts(&other, &annotations, payload, &sig).unwrap_err();
    assert!(err.to_string().contains("identity"), "{err}");
}

#[test]
fn attack_certificate_from_an_untrusted_root_fails() {
    let (v, annotations) = keyless_vector();
    let payload = v["payload"].as_str().unwrap().as_bytes();
    let sig = STANDARD
        .decode(v["signature_b64"].as_str().unwrap())
        .unwrap();
    // A root that has the right Rekor key but a CA that did not issue the leaf.
    let stranger = {
        let conformance = TrustedRoot::from_json(
            &std::fs::read(testdata(
                "sigstore-conformance/default-trusted-root/production_trusted_root.json",
            ))
            .unwrap(),
        )
        .unwrap();
        let mut root = pool_root(&v);
        root.authorities = conformance
            .authorities
            .into_iter()
            .filter(|a| {
                // keep only the newer intermediate chains, not the 2021 root
                a.chain.len() > 1
            })
            .collect();
        root
    };
    let policy = KeylessPolicy {
        trusted_root: stranger,
        identity: "flavio@castelli.me".into(),
        issuer: None,
    };
    let err = keyless::verify_keyless_parts(&policy, &annotations, payload, &sig).unwrap_err();
    assert!(err.to_string().contains("does not chain"), "{err}");
}

#[test]
fn attack_expired_certificate_outside_the_set_time_fails() {
    let (v, mut annotations) = keyless_vector();
    let payload = v["payload"].as_str().unwrap().as_bytes();
    let sig = STANDARD
        .decode(v["signature_b64"].as_str().unwrap())
        .unwrap();
    let policy = KeylessPolicy {
        trusted_root: pool_root(&v),
        identity: "flavio@castelli.me".into(),
        issuer: None,
    };
    // Move the integrated time an hour later: the SET no longer verifies.
    let mut bundle = v["bundle"].clone();
    bundle["Payload"]["integratedTime"] = Value::from(1634714717u64 + 3600);
    annotations.insert(cosign::BUNDLE_ANNOTATION.to_owned(), bundle.to_string());
    let err = keyless::verify_keyless_parts(&policy, &annotations, payload, &sig).unwrap_err();
    assert!(err.to_string().contains("signed entry timestamp"), "{err}");
    // Without a SET the signing time is unknown and the expired certificate is refused.
    annotations.remove(cosign::BUNDLE_ANNOTATION);
    let err = keyless::verify_keyless_parts(&policy, &annotations, payload, &sig).unwrap_err();
    assert!(err.to_string().contains("signing time"), "{err}");
}

// ---- sign then verify in stores ----

fn build_image(store: &mut dyn WritableStore, module: &str, tag: &str) -> Digest {
    let module = testdata(&format!("modules/{module}"));
    ImageBuilder::new(module)
        .build(store, Some(tag))
        .unwrap()
        .manifest_digest
}

fn verify(
    store: &dyn wasm_image::store::ImageStore,
    selector: &Selector,
    key: &PublicKey,
    annotations: &[(&str, &str)],
) -> VerifyReport {
    let options = VerifyOptions {
        key: Some(key.clone()),
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..Default::default()
    };
    verify_image(store, selector, &options).unwrap()
}

fn opts(annotations: &[(&str, &str)]) -> SignOptions {
    SignOptions {
        docker_reference: "localhost/wasm/hello".into(),
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

fn sign_and_verify_in(
    store: &mut dyn WritableStore,
    reopen: &dyn Fn() -> Box<dyn wasm_image::store::ImageStore>,
) {
    let a = build_image(store, "hello.wasm", "a");
    let sel = Selector::Tag("a".into());
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let public = key.public_key().unwrap();
        let signed = sign_image(store, &sel, &key, &opts(&[("env", "prod")])).unwrap();
        assert_eq!(signed.image, a);
        assert_eq!(signed.location, signature_tag(&a));
        sign_image_bundle(store, &sel, &key, &[("env".into(), "prod".into())]).unwrap();
        let reader = reopen();
        let report = verify(reader.as_ref(), &sel, &public, &[("env", "prod")]);
        assert!(report.verified, "{report:#?}");
        let kinds: Vec<_> = report
            .signatures
            .iter()
            .filter(|s| s.verified)
            .map(|s| s.kind)
            .collect();
        assert!(
            kinds.contains(&"cosign-simple-signing") && kinds.contains(&"sigstore-bundle"),
            "{kinds:?}"
        );
        // Required annotation absent.
        let report = verify(reader.as_ref(), &sel, &public, &[("env", "dev")]);
        assert!(!report.verified);
        assert!(
            report.signatures.iter().any(|s| s
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("annotation"))
        );
    }
    // Signatures were appended, not replaced: two layers in .sig.
    let reader = reopen();
    let manifest = cosign::read_signature_manifest(reader.as_ref(), &a)
        .unwrap()
        .unwrap();
    assert_eq!(manifest.layers.len(), 2);
    assert_eq!(bundle::find_bundles(reader.as_ref(), &a).unwrap().len(), 2);
    // The image is still the only image of the store.
    let only =
        wasm_image::image::Image::open(reader.as_ref(), &Selector::Only, &Default::default())
            .unwrap();
    assert_eq!(only.entry.digest, a);
}

#[test]
fn sign_then_verify_in_a_layout_both_algorithms_sig_and_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout");
    let mut layout = Layout::open_or_create(&path).unwrap();
    sign_and_verify_in(&mut layout, &|| Box::new(Layout::open(&path).unwrap()));
}

#[test]
fn sign_then_verify_in_an_archive_both_algorithms_sig_and_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let mut archive = Archive::open_or_create(&path).unwrap();
    sign_and_verify_in(&mut archive, &|| Box::new(Archive::open(&path).unwrap()));
}

// ---- attacks ----

struct Two {
    _dir: tempfile::TempDir,
    layout: Layout,
    a: Digest,
    b: Digest,
    key: PrivateKey,
}

fn two_images() -> Two {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::open_or_create(dir.path().join("l")).unwrap();
    let a = build_image(&mut layout, "hello.wasm", "a");
    let b = build_image(&mut layout, "adder.component.wasm", "b");
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    Two {
        _dir: dir,
        layout,
        a,
        b,
        key,
    }
}

fn reasons(report: &VerifyReport) -> String {
    assert!(!report.verified, "{report:#?}");
    report
        .signatures
        .iter()
        .filter_map(|s| s.reason.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn attack_signature_of_image_a_presented_for_image_b() {
    let mut t = two_images();
    sign_image(
        &mut t.layout,
        &Selector::Tag("a".into()),
        &t.key,
        &opts(&[]),
    )
    .unwrap();
    // Copy A's signature manifest to B's .sig tag.
    let sig_a = cosign::read_signature_manifest(&t.layout, &t.a)
        .unwrap()
        .unwrap();
    t.layout
        .add_manifest(
            &sig_a.entry.media_type,
            &sig_a.entry.digest,
            sig_a.entry.size,
            Some(&signature_tag(&t.b)),
        )
        .unwrap();
    let r = verify(
        &t.layout,
        &Selector::Tag("b".into()),
        &t.key.public_key().unwrap(),
        &[],
    );
    assert!(
        reasons(&r).contains("is not the image's manifest digest"),
        "{}",
        reasons(&r)
    );
}

#[test]
fn attack_signature_layer_replayed_into_another_images_sig_manifest() {
    let mut t = two_images();
    sign_image(
        &mut t.layout,
        &Selector::Tag("a".into()),
        &t.key,
        &opts(&[]),
    )
    .unwrap();
    sign_image(
        &mut t.layout,
        &Selector::Tag("b".into()),
        &t.key,
        &opts(&[]),
    )
    .unwrap();
    let sig_a = cosign::read_signature_manifest(&t.layout, &t.a)
        .unwrap()
        .unwrap();
    let layer = &sig_a.layers[0];
    let payload = std::fs::read(t.layout.blob_path(&layer.digest)).unwrap();
    // Replay A's layer (payload + signature) into B's manifest; B keeps its own good layer too,
    // so check the replayed layer's verdict.
    cosign::append_signature(&mut t.layout, &t.b, &payload, &layer.annotations).unwrap();
    let r = verify(
        &t.layout,
        &Selector::Tag("b".into()),
        &t.key.public_key().unwrap(),
        &[],
    );
    assert!(r.verified);
    let replayed = &r.signatures[1];
    assert!(!replayed.verified);
    assert!(
        replayed
            .reason
            .as_deref()
            .unwrap()
            .contains("is not the image's manifest digest")
    );
    // And the bundle path: a referrer of A listed in B's fallback index.
    sign_image_bundle(&mut t.layout, &Selector::Tag("a".into()), &t.key, &[]).unwrap();
    let found = bundle::find_bundles(&t.layout, &t.a).unwrap();
    let d = found[0].manifest.clone();
    let size = std::fs::metadata(t.layout.blob_path(&d)).unwrap().len();
    bundle::add_to_fallback_index(&mut t.layout, &t.b, serde_json::json!({"mediaType": wasm_image::media_type::OCI_MANIFEST, "digest": d.as_str(), "size": size, "artifactType": bundle::BUNDLE_MEDIA_TYPE})).unwrap();
    let r = verify(
        &t.layout,
        &Selector::Tag("b".into()),
        &t.key.public_key().unwrap(),
        &[],
    );
    let bundle_report = r
        .signatures
        .iter()
        .find(|s| s.kind == "sigstore-bundle")
        .unwrap();
    assert!(!bundle_report.verified);
    assert!(
        bundle_report
            .reason
            .as_deref()
            .unwrap()
            .contains("subject other than"),
        "{bundle_report:?}"
    );
}

fn tamper_payload(t: &mut Two, edit: impl Fn(&str) -> String) -> VerifyReport {
    sign_image(
        &mut t.layout,
        &Selector::Tag("a".into()),
        &t.key,
        &opts(&[("x", "1")]),
    )
    .unwrap();
    let sig_a = cosign::read_signature_manifest(&t.layout, &t.a)
        .unwrap()
        .unwrap();
    let layer = sig_a.layers[0].clone();
    let payload =
        String::from_utf8(std::fs::read(t.layout.blob_path(&layer.digest)).unwrap()).unwrap();
    let changed = edit(&payload);
    assert_ne!(changed, payload);
    // The same image in a fresh layout whose .sig manifest holds only the tampered layer.
    let mut fresh = Layout::open_or_create(t._dir.path().join("fresh")).unwrap();
    let a = build_image(&mut fresh, "hello.wasm", "a");
    assert_eq!(a, t.a);
    cosign::append_signature(&mut fresh, &a, changed.as_bytes(), &layer.annotations).unwrap();
    fresh.commit().unwrap();
    verify(
        &fresh,
        &Selector::Tag("a".into()),
        &t.key.public_key().unwrap(),
        &[],
    )
}

#[test]
fn attack_payload_changed_in_whitespace_or_key_order() {
    let mut t = two_images();
    let r = tamper_payload(&mut t, |p| {
        p.replacen(r#""critical":"#, r#""critical": "#, 1)
    });
    assert!(reasons(&r).contains("does not verify"), "{}", reasons(&r));
    let mut t = two_images();
    let r = tamper_payload(&mut t, |p| {
        let v: Value = serde_json::from_str(p).unwrap();
        format!(
            r#"{{"optional":{},"critical":{}}}"#,
            v["optional"], v["critical"]
        )
    });
    assert!(reasons(&r).contains("does not verify"), "{}", reasons(&r));
}

#[test]
fn attack_blob_whose_digest_does_not_match() {
    let mut t = two_images();
    sign_image(
        &mut t.layout,
        &Selector::Tag("a".into()),
        &t.key,
        &opts(&[]),
    )
    .unwrap();
    let sig_a = cosign::read_signature_manifest(&t.layout, &t.a)
        .unwrap()
        .unwrap();
    let path = t.layout.blob_path(&sig_a.layers[0].digest);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = b' ';
    std::fs::write(&path, bytes).unwrap();
    let r = verify(
        &t.layout,
        &Selector::Tag("a".into()),
        &t.key.public_key().unwrap(),
        &[],
    );
    assert!(reasons(&r).contains("content hashes to"), "{}", reasons(&r));
}

#[test]
fn attack_wrong_key_and_key_of_another_algorithm() {
    let mut t = two_images();
    sign_image(
        &mut t.layout,
        &Selector::Tag("a".into()),
        &t.key,
        &opts(&[]),
    )
    .unwrap();
    sign_image_bundle(&mut t.layout, &Selector::Tag("a".into()), &t.key, &[]).unwrap();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256)
        .unwrap()
        .public_key()
        .unwrap();
    let r = verify(&t.layout, &Selector::Tag("a".into()), &other, &[]);
    assert!(
        reasons(&r).contains("does not verify with the given key"),
        "{}",
        reasons(&r)
    );
    let ed = PrivateKey::generate(KeyAlgorithm::Ed25519)
        .unwrap()
        .public_key()
        .unwrap();
    let r = verify(&t.layout, &Selector::Tag("a".into()), &ed, &[]);
    assert!(
        reasons(&r).contains("malformed Ed25519 signature"),
        "{}",
        reasons(&r)
    );
}

#[test]
fn attack_truncated_or_non_der_signature() {
    for edit in [
        (|s: &[u8]| s[..s.len() - 3].to_vec()) as fn(&[u8]) -> Vec<u8>,
        |s: &[u8]| {
            let mut raw = vec![0u8; 64];
            raw[..s.len().min(64)].copy_from_slice(&s[..s.len().min(64)]);
            raw
        },
    ] {
        let mut t = two_images();
        sign_image(
            &mut t.layout,
            &Selector::Tag("a".into()),
            &t.key,
            &opts(&[]),
        )
        .unwrap();
        let sig_a = cosign::read_signature_manifest(&t.layout, &t.a)
            .unwrap()
            .unwrap();
        let mut layer = sig_a.layers[0].clone();
        let sig = STANDARD
            .decode(&layer.annotations[SIGNATURE_ANNOTATION])
            .unwrap();
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.into(), STANDARD.encode(edit(&sig)));
        let payload = std::fs::read(t.layout.blob_path(&layer.digest)).unwrap();
        let mut fresh = Layout::open_or_create(t._dir.path().join("fresh")).unwrap();
        let a = build_image(&mut fresh, "hello.wasm", "a");
        cosign::append_signature(&mut fresh, &a, &payload, &layer.annotations).unwrap();
        fresh.commit().unwrap();
        let r = verify(
            &fresh,
            &Selector::Tag("a".into()),
            &t.key.public_key().unwrap(),
            &[],
        );
        assert!(reasons(&r).contains("not an ASN.1 DER"), "{}", reasons(&r));
    }
}

#[test]
fn no_signature_means_not_verified() {
    let t = two_images();
    let r = verify(
        &t.layout,
        &Selector::Tag("a".into()),
        &t.key.public_key().unwrap(),
        &[],
    );
    assert!(!r.verified && r.signatures.is_empty());
}
