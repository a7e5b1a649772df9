//! Signing on the real registry of the test suite (Debian's `docker-registry`,
//! CNCF distribution 2.8, which has no referrers API: bundles go to the
//! `sha256-<hex>` fallback tag), and signatures carried by `push`, `pull` and
//! `copy` in every direction. Plus the cosign shape of a signed layout.

mod common;
#[path = "registry_support/mod.rs"]
mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{cli_env, module};
use serde_json::Value;
use support::{Auth, Registry as Server};
use wasm_image::build::ImageBuilder;
use wasm_image::digest::Digest;
use wasm_image::registry::transfer::{self, Quiet};
use wasm_image::registry::{Options, Registry};
use wasm_image::sign::bundle::{self, sign_image_bundle};
use wasm_image::sign::carry::carry_signatures;
use wasm_image::sign::cosign::{self, SignOptions, sign_image};
use wasm_image::sign::key::{KeyAlgorithm, PrivateKey, PublicKey};
use wasm_image::sign::payload::SimpleSigning;
use wasm_image::sign::verify::{VerifyOptions, VerifyReport, verify_image};
use wasm_image::store::{
    ImageStore, Layout, Selector, WritableStore, read_manifest, referrers_tag, signature_tag,
};

fn plain() -> Options {
    Options {
        plain_http: true,
        docker_config: false,
        retry_delay: Duration::from_millis(20),
        ..Options::default()
    }
}

fn reg(host: &str, repo: &str) -> Registry {
    Registry::parse(&format!("{host}/{repo}"), &plain()).unwrap()
}

fn build(store: &mut dyn WritableStore, name: &str, tag: &str) -> Digest {
    ImageBuilder::new(module(name))
        .build(store, Some(tag))
        .unwrap()
        .manifest_digest
}

/// Builds an image in a fresh layout and pushes it to `repo:tag`.
fn pushed(dir: &Path, host: &str, name: &str, repo_tag: &str) -> Digest {
    let path = dir.join(repo_tag.replace([':', '/'], "_"));
    let mut layout = Layout::open_or_create(&path).unwrap();
    let digest = build(&mut layout, name, "t");
    let dst = reg(host, repo_tag);
    let copied = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap();
    assert_eq!(copied.digest, digest);
    digest
}

fn opts() -> SignOptions {
    SignOptions {
        docker_reference: "127.0.0.1/signed/app".into(),
        annotations: vec![("env".into(), "prod".into())],
    }
}

fn verify(store: &dyn ImageStore, key: &PublicKey) -> VerifyReport {
    let options = VerifyOptions {
        key: Some(key.clone()),
        annotations: vec![("env".into(), "prod".into())],
        ..Default::default()
    };
    verify_image(store, &Selector::Only, &options).unwrap()
}

fn verified_kinds(report: &VerifyReport) -> Vec<&'static str> {
    report
        .signatures
        .iter()
        .filter(|s| s.verified)
        .map(|s| s.kind)
        .collect()
}

fn server() -> Option<Server> {
    let bin = support::registry_bin()?;
    Some(Server::start(&bin, Auth::None))
}

#[test]
fn sign_then_verify_on_the_registry_both_algorithms_sig_and_bundle() {
    let Some(server) = server() else { return };
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let image = pushed(dir.path(), &host, "hello.wasm", "signed/app:v1");
    let mut keys = Vec::new();
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let public = key.public_key().unwrap();
        let mut store = reg(&host, "signed/app:v1");
        let signed = sign_image(&mut store, &Selector::Only, &key, &opts()).unwrap();
        assert_eq!(signed.image, image);
        assert_eq!(signed.location, signature_tag(&image));
        let mut store = reg(&host, "signed/app:v1");
        sign_image_bundle(
            &mut store,
            &Selector::Only,
            &key,
            &[("env".into(), "prod".into())],
        )
        .unwrap();
        // A fresh client (nothing cached) finds and verifies both kinds.
        let report = verify(&reg(&host, "signed/app:v1"), &public);
        assert!(report.verified, "{report:#?}");
        let kinds = verified_kinds(&report);
        assert!(
            kinds.contains(&"cosign-simple-signing") && kinds.contains(&"sigstore-bundle"),
            "{algorithm}: {report:#?}"
        );
        keys.push(public);
    }
    // The second signature was appended: both keys still verify.
    let reader = reg(&host, "signed/app:v1");
    for public in &keys {
        let report = verify(&reader, public);
        let ok: Vec<_> = report.signatures.iter().filter(|s| s.verified).collect();
        assert_eq!(ok.len(), 2, "{report:#?}");
    }
    let sig = cosign::read_signature_manifest(&reader, &image)
        .unwrap()
        .unwrap();
    assert_eq!(sig.layers.len(), 2);
    assert_eq!(bundle::find_bundles(&reader, &image).unwrap().len(), 2);
    // distribution 2.8 has no referrers API: the fallback tag holds the index.
    assert_eq!(reader.referrers(&image).unwrap(), None);
    let tags = reader.list_tags().unwrap();
    assert!(tags.contains(&signature_tag(&image)), "{tags:?}");
    assert!(tags.contains(&referrers_tag(&image)), "{tags:?}");
    let index = reader.find_tag(&referrers_tag(&image)).unwrap().unwrap();
    assert_eq!(index.media_type, "application/vnd.oci.image.index.v1+json");
    let bytes = read_manifest(&reader, &index.digest, Some(index.size), 1 << 20).unwrap();
    let index: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    // The image's tag still names the image.
    assert_eq!(reg(&host, "signed/app:v1").resolve().unwrap(), image);
}

#[test]
fn a_signature_of_image_a_does_not_verify_image_b_on_the_registry() {
    let Some(server) = server() else { return };
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let a = pushed(dir.path(), &host, "hello.wasm", "attack/app:a");
    let b = pushed(dir.path(), &host, "adder.component.wasm", "attack/app:b");
    assert_ne!(a, b);
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let public = key.public_key().unwrap();
    let mut store = reg(&host, "attack/app:a");
    sign_image(&mut store, &Selector::Only, &key, &opts()).unwrap();
    let mut store = reg(&host, "attack/app:a");
    sign_image_bundle(&mut store, &Selector::Only, &key, &[]).unwrap();
    assert!(verify(&reg(&host, "attack/app:a"), &public).verified);
    // B unsigned: not verified.
    let report = verify(&reg(&host, "attack/app:b"), &public);
    assert!(!report.verified && report.signatures.is_empty());
    // A's signature manifest and referrers index presented under B's tags.
    let client = reg(&host, "attack/app:a");
    for (from, to) in [
        (signature_tag(&a), signature_tag(&b)),
        (referrers_tag(&a), referrers_tag(&b)),
    ] {
        let m = client
            .client()
            .get_manifest("attack/app", &from, None)
            .unwrap();
        client
            .client()
            .put_manifest("attack/app", &to, &m.media_type, &m.bytes, &m.digest)
            .unwrap();
    }
    let report = verify(&reg(&host, "attack/app:b"), &public);
    assert!(!report.verified, "{report:#?}");
    assert_eq!(report.signatures.len(), 2, "{report:#?}");
    for s in &report.signatures {
        let reason = s.reason.as_deref().unwrap_or("");
        assert!(
            reason.contains(a.as_str()) || reason.contains("subject"),
            "{s:?}"
        );
    }
}

#[test]
fn library_carry_registry_to_archive_to_registry_keeps_signatures() {
    let Some(server) = server() else { return };
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let image = pushed(dir.path(), &host, "hello.wasm", "carry/src:v1");
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let public = key.public_key().unwrap();
    sign_image(
        &mut reg(&host, "carry/src:v1"),
        &Selector::Only,
        &key,
        &opts(),
    )
    .unwrap();
    sign_image_bundle(
        &mut reg(&host, "carry/src:v1"),
        &Selector::Only,
        &key,
        &[("env".into(), "prod".into())],
    )
    .unwrap();
    // registry -> archive
    let path = dir.path().join("copy.tar");
    let src = reg(&host, "carry/src:v1");
    let mut archive = wasm_image::store::Archive::open_or_create(&path).unwrap();
    transfer::pull(&src, &mut archive, Some("v1"), &mut Quiet).unwrap();
    let carried = carry_signatures(&src, &image, &mut archive).unwrap();
    assert_eq!((carried.signatures, carried.referrers), (1, 1));
    let archive = wasm_image::store::Archive::open(&path).unwrap();
    let report = verify(&archive, &public);
    assert_eq!(verified_kinds(&report).len(), 2, "{report:#?}");
    // archive -> another repository
    let dst = reg(&host, "carry/dst:v1");
    transfer::push(&archive, &Selector::Only, &dst, &mut Quiet).unwrap();
    let mut writer = dst.clone();
    carry_signatures(&archive, &image, &mut writer).unwrap();
    let report = verify(&reg(&host, "carry/dst:v1"), &public);
    assert_eq!(verified_kinds(&report).len(), 2, "{report:#?}");
    // Carried byte for byte: the same .sig manifest digest on both sides.
    let sig_src = reg(&host, "carry/src:v1")
        .find_tag(&signature_tag(&image))
        .unwrap()
        .unwrap();
    let sig_dst = reg(&host, "carry/dst:v1")
        .find_tag(&signature_tag(&image))
        .unwrap()
        .unwrap();
    assert_eq!(sig_src.digest, sig_dst.digest);
    // Carrying into a destination with its own signature appends, never replaces.
    let other = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let mut dst2 = reg(&host, "carry/dst2:v1");
    transfer::push(&archive, &Selector::Only, &dst2, &mut Quiet).unwrap();
    sign_image(&mut dst2, &Selector::Only, &other, &opts()).unwrap();
    carry_signatures(&archive, &image, &mut reg(&host, "carry/dst2:v1")).unwrap();
    let reader = reg(&host, "carry/dst2:v1");
    assert_eq!(
        cosign::read_signature_manifest(&reader, &image)
            .unwrap()
            .unwrap()
            .layers
            .len(),
        2
    );
    assert!(verify(&reader, &public).verified);
    assert!(verify(&reader, &other.public_key().unwrap()).verified);
}

// ---- the CLI ----

fn cli(args: &[&str]) -> (i32, String, String) {
    cli_env(
        args,
        None,
        &[("WASM_IMAGE_PASSWORD", OsStr::new("correct horse"))],
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = cli(args);
    assert_eq!(code, 0, "{args:?}\nstdout: {out}\nstderr: {err}");
    assert!(!err.contains("correct horse") && !out.contains("correct horse"));
    out
}

#[test]
fn cli_sign_verify_push_pull_copy_carry_signatures() {
    let Some(server) = server() else { return };
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    for algorithm in ["ecdsa-p256", "ed25519"] {
        ok(&["keygen", "--algorithm", algorithm, "-o", &p(algorithm)]);
    }
    let ecdsa_key = p("ecdsa-p256.key");
    let ecdsa_pub = p("ecdsa-p256.pub");
    let ed_key = p("ed25519.key");
    let ed_pub = p("ed25519.pub");
    let verify_ok = |target: &str, public: &str| {
        let (code, out, err) = cli(&[
            "verify",
            target,
            "--key",
            public,
            "--plain-http",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{target}\n{out}\n{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        report["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["verified"] == true)
            .map(|s| s["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    // Sign and verify directly on the registry, both algorithms, .sig and --bundle.
    let mut layout = Layout::open_or_create(dir.path().join("direct")).unwrap();
    build(&mut layout, "hello.wasm", "v1");
    let direct = format!("{host}/cli/direct:v1");
    ok(&["push", &p("direct"), &direct, "--plain-http"]);
    for (key, public) in [(&ecdsa_key, &ecdsa_pub), (&ed_key, &ed_pub)] {
        ok(&[
            "sign",
            &direct,
            "--key",
            key,
            "-a",
            "env=prod",
            "--plain-http",
        ]);
        let out = ok(&["sign", &direct, "--key", key, "--bundle", "--plain-http"]);
        assert!(out.contains("referrer"), "{out}");
        let kinds = verify_ok(&direct, public);
        assert!(
            kinds.contains(&"cosign-simple-signing".to_owned())
                && kinds.contains(&"sigstore-bundle".to_owned()),
            "{kinds:?}"
        );
    }
    // Required annotation: only the .sig signatures carry env=prod.
    let (code, _, _) = cli(&[
        "verify",
        &direct,
        "--key",
        &ed_pub,
        "-a",
        "env=dev",
        "--plain-http",
    ]);
    assert_eq!(code, 1);

    // A signed layout pushed keeps its signatures; pulled into a fresh
    // layout, they verify there too.
    let mut layout = Layout::open_or_create(dir.path().join("signed")).unwrap();
    build(&mut layout, "proxy-filter.wasm", "v1");
    drop(layout);
    ok(&["sign", &p("signed"), "--key", &ed_key]);
    ok(&["sign", &p("signed"), "--key", &ecdsa_key, "--bundle"]);
    let remote = format!("{host}/cli/signed:v1");
    let (code, out, err) = cli(&["push", &p("signed"), &remote, "--plain-http"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("1 signature(s)") && err.contains("1 referrer(s)"),
        "{err}"
    );
    assert_eq!(verify_ok(&remote, &ed_pub), ["cosign-simple-signing"]);
    assert_eq!(verify_ok(&remote, &ecdsa_pub), ["sigstore-bundle"]);
    ok(&["pull", &remote, "-o", &p("pulled"), "--plain-http"]);
    assert_eq!(verify_ok(&p("pulled"), &ed_pub), ["cosign-simple-signing"]);
    assert_eq!(verify_ok(&p("pulled"), &ecdsa_pub), ["sigstore-bundle"]);
    // The pulled layout validates as one image, signatures as artifacts.
    let (code, out, err) = cli(&["validate", &p("pulled"), "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report.get("images").is_none(), "{out}");

    // registry -> archive -> registry.
    let archive = p("copy.tar");
    ok(&["copy", &remote, &archive, "--plain-http"]);
    assert_eq!(verify_ok(&archive, &ed_pub), ["cosign-simple-signing"]);
    let back = format!("{host}/cli/back:v1");
    ok(&["copy", &archive, &back, "--plain-http"]);
    assert_eq!(verify_ok(&back, &ed_pub), ["cosign-simple-signing"]);
    assert_eq!(verify_ok(&back, &ecdsa_pub), ["sigstore-bundle"]);

    // --no-signatures copies the image alone.
    let bare = format!("{host}/cli/bare:v1");
    ok(&["copy", &remote, &bare, "--no-signatures", "--plain-http"]);
    let (code, out, _) = cli(&["verify", &bare, "--key", &ed_pub, "--plain-http"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no signatures found"), "{out}");
    // and --with-signatures after it wins again.
    ok(&[
        "copy",
        &remote,
        &bare,
        "--no-signatures",
        "--with-signatures",
        "--plain-http",
    ]);
    assert_eq!(verify_ok(&bare, &ed_pub), ["cosign-simple-signing"]);
}

// ---- cosign compatibility of a signed layout ----

#[test]
fn a_signed_layout_holds_exactly_what_cosign_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout");
    let mut layout = Layout::open_or_create(&path).unwrap();
    let image = build(&mut layout, "hello.wasm", "v1");
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let options = SignOptions {
        docker_reference: "registry.example/wasm/hello".into(),
        annotations: vec![("env".into(), "prod".into())],
    };
    sign_image(&mut layout, &Selector::Only, &key, &options).unwrap();
    let layout = Layout::open(&path).unwrap();
    // index.json: the image and, beside it, the .sig manifest under cosign's tag.
    let index: Value =
        serde_json::from_slice(&std::fs::read(path.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let sig_entry = entries
        .iter()
        .find(|e| e["annotations"]["org.opencontainers.image.ref.name"] == signature_tag(&image))
        .unwrap();
    assert_eq!(
        sig_entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let digest = Digest::parse(sig_entry["digest"].as_str().unwrap()).unwrap();
    let bytes = read_manifest(&layout, &digest, None, 1 << 20).unwrap();
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert!(manifest.get("subject").is_none());
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    let layer = &layers[0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let annotations = layer["annotations"].as_object().unwrap();
    assert_eq!(
        annotations.keys().collect::<Vec<_>>(),
        ["dev.cosignproject.cosign/signature"]
    );
    let signature = STANDARD
        .decode(
            annotations["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    // The payload blob is byte for byte cosign's payload for this image.
    let payload_digest = Digest::parse(layer["digest"].as_str().unwrap()).unwrap();
    let payload =
        wasm_image::store::read_blob(&layout, &payload_digest, layer["size"].as_u64(), 1 << 16)
            .unwrap();
    let expected = SimpleSigning::new("registry.example/wasm/hello", &image)
        .with_annotations([("env", "prod")])
        .to_bytes();
    assert_eq!(payload, expected);
    assert_eq!(
        String::from_utf8(payload.clone()).unwrap(),
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"registry.example/wasm/hello\"}},\"image\":{{\"docker-manifest-digest\":\"{image}\"}},\"type\":\"cosign container image signature\"}},\"optional\":{{\"env\":\"prod\"}}}}"
        )
    );
    key.public_key()
        .unwrap()
        .verify(&payload, &signature)
        .unwrap();
    // The config is an image config whose rootfs.diff_ids list the payloads.
    let config_digest = Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    let config: Value = serde_json::from_slice(
        &wasm_image::store::read_blob(&layout, &config_digest, None, 1 << 16).unwrap(),
    )
    .unwrap();
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(
        config["rootfs"]["diff_ids"],
        Value::from(vec![payload_digest.as_str()])
    );
}
