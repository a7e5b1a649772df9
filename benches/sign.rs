//! Signing and verifying an image in a layout with a key (ed25519 and
//! ECDSA P-256), through the `wasm_image::sign` API.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use wasm_image::sign::cosign::{SignOptions, sign_image};
use wasm_image::sign::key::{KeyAlgorithm, PrivateKey};
use wasm_image::sign::verify::{VerifyOptions, verify_image};
use wasm_image::store::{Layout, Selector};
use wasm_image::variant::Variant;

fn sign(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let module = common::module(64 << 10, 50);
    let root = common::layout_with(dir.path(), &module, Variant::Cncf);
    let selector = Selector::Tag("latest".into());
    let options = SignOptions {
        docker_reference: "localhost/bench/module".into(),
        annotations: Vec::new(),
    };
    let mut group = c.benchmark_group("sign");
    for (name, algorithm) in [
        ("ed25519", KeyAlgorithm::Ed25519),
        ("ecdsa_p256", KeyAlgorithm::EcdsaP256),
    ] {
        let key = PrivateKey::generate(algorithm).expect("key");
        let public = key.public_key().expect("public key");
        group.bench_function(format!("sign_{name}"), |b| {
            b.iter(|| {
                let mut layout = Layout::open(&root).expect("layout");
                sign_image(&mut layout, &selector, &key, &options).expect("sign")
            })
        });
        let verify = VerifyOptions {
            key: Some(public),
            ..Default::default()
        };
        group.bench_function(format!("verify_{name}"), |b| {
            b.iter(|| {
                let layout = Layout::open(&root).expect("layout");
                let report = verify_image(&layout, &selector, &verify).expect("verify");
                assert!(report.verified);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
