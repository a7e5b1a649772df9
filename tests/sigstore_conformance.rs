//! The 70 bundle-verification cases of the Sigstore conformance suite, run
//! offline (production trusted root snapshot for cases without their own),
//! each in file mode and in digest mode as the upstream harness does.
#![cfg(feature = "sigstore")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use wasm_image::digest::Digest;
use wasm_image::sigstore::{Artifact, Signer, verify_bundle};

/// Cases passing in both modes, out of 70. Raise it when a case starts to pass.
const EXPECTED_PASSING: usize = 70;

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigstore-conformance")
}

fn run_case(case: &Value, digest_mode: bool) -> Result<(), String> {
    let read = |rel: &str| std::fs::read(base().join(rel)).map_err(|e| format!("{rel}: {e}"));
    let bundle = read(case["bundle"].as_str().unwrap())?;
    let root = read(case["trusted_root"].as_str().unwrap())?;
    let artifact = if digest_mode {
        Artifact::Digest(Digest::parse(case["artifact_digest"].as_str().unwrap()).unwrap())
    } else {
        Artifact::Bytes(read(case["artifact"].as_str().unwrap())?)
    };
    let signer = match case["key"].as_str() {
        Some(key) => Signer::Key(String::from_utf8_lossy(&read(key)?).into_owned()),
        None => Signer::Identity {
            identity: case["certificate_identity"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            issuer: case["certificate_oidc_issuer"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        },
    };
    verify_bundle(&bundle, &artifact, &signer, &root)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn sigstore_conformance_bundle_cases_offline() {
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(base().join("cases.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 70);
    let mut passing = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let want_ok = case["expect"] == "success";
        let mut ok = true;
        for digest_mode in [false, true] {
            let got = run_case(case, digest_mode);
            if got.is_ok() != want_ok {
                ok = false;
                failures.push(format!(
                    "{} ({}): expected {}, got {:?}",
                    case["case"].as_str().unwrap(),
                    if digest_mode { "digest" } else { "file" },
                    case["expect"],
                    got
                ));
            }
        }
        passing += usize::from(ok);
    }
    eprintln!("sigstore conformance: {passing}/70 cases pass offline");
    for f in &failures {
        eprintln!("  {f}");
    }
    assert_eq!(passing, EXPECTED_PASSING, "{failures:#?}");
}
