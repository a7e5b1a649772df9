//! The conformance suite: every case passes through the library runner, and
//! the committed cases are exactly what the generator writes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_image::conformance::{self, run_suite};
use wasm_image::rules::RULES;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/cases")
}

#[test]
fn every_case_passes() {
    let report = run_suite(cases_dir()).expect("the suite is readable");
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| {
            format!(
                "{} (valid {:?}, variant {:?}, codes {:?}): {}",
                c.id,
                c.valid,
                c.variant,
                c.codes,
                c.problems.join("; ")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        report.cases.len(),
        failures.join("\n")
    );
}

/// Rules for which no failing case can be built, with the reason in
/// docs/conformance.md.
const INFEASIBLE: &[&str] = &["WI-INDEX-007", "WI-VARIANT-004"];

#[test]
fn the_suite_covers_every_rule_and_variant() {
    let dirs = conformance::case_dirs(&cases_dir()).unwrap();
    assert!(dirs.len() >= 60, "only {} cases", dirs.len());
    let specs: Vec<_> = dirs
        .iter()
        .map(|d| conformance::load_case(d).unwrap())
        .collect();
    for rule in RULES {
        let covered = specs
            .iter()
            .any(|s| s.rule == rule.code && s.expect.codes.iter().any(|c| c == rule.code));
        assert!(
            covered || INFEASIBLE.contains(&rule.code),
            "no case for {}",
            rule.code
        );
        assert!(
            !(covered && INFEASIBLE.contains(&rule.code)),
            "{} has a case; remove it from INFEASIBLE and docs/conformance.md",
            rule.code
        );
    }
    for variant in [
        "cncf",
        "compat-oci",
        "compat-docker",
        "wasm-oci",
        "wasm-content-v1",
        "runwasi",
        "spin",
    ] {
        let passing = specs
            .iter()
            .filter(|s| s.expect.valid && s.rule == "pass" && s.expect.variant == variant)
            .count();
        assert!(passing >= 2, "{variant} has {passing} passing cases");
    }
    let docs =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/conformance.md"))
            .expect("docs/conformance.md");
    for code in INFEASIBLE {
        assert!(
            docs.contains(code),
            "docs/conformance.md does not explain {code}"
        );
    }
}

/// Every file under `root`, relative path → bytes (directories as `None`).
fn tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn the_generator_reproduces_the_committed_cases() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("cases");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", "gen_conformance", "--"])
        .arg(&out)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the generator failed");
    let fresh = tree(&out);
    let committed = tree(&cases_dir());
    let names = |t: &BTreeMap<String, Option<Vec<u8>>>| t.keys().cloned().collect::<Vec<_>>();
    let only_fresh: Vec<_> = names(&fresh)
        .into_iter()
        .filter(|k| !committed.contains_key(k))
        .collect();
    let only_committed: Vec<_> = names(&committed)
        .into_iter()
        .filter(|k| !fresh.contains_key(k))
        .collect();
    assert!(
        only_fresh.is_empty() && only_committed.is_empty(),
        "regenerate with `cargo run --example gen_conformance -- conformance/cases`: \
         only generated {only_fresh:?}, only committed {only_committed:?}"
    );
    let differing: Vec<_> = fresh
        .iter()
        .filter(|(k, v)| committed.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        differing.is_empty(),
        "regenerate with `cargo run --example gen_conformance -- conformance/cases`: {differing:?} differ"
    );
}
