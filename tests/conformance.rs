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
const INFEASIBLE: &[&str] = &["WI-INDEX-007", "WI-LAYOUT-011"];

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

/// Every valid case is valid under `--strict` too, unless its case.json
/// says `"strict": false` with a reason; then it must be invalid under it.
#[test]
fn every_valid_case_passes_strict_or_says_why_not() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for dir in conformance::case_dirs(&cases_dir()).unwrap() {
        let spec = conformance::load_case(&dir).unwrap();
        if !spec.expect.valid {
            assert!(
                spec.strict.is_none() && spec.strict_reason.is_none(),
                "{}: an invalid case needs no strict verdict",
                spec.id
            );
            continue;
        }
        checked += 1;
        let mut options = conformance::options_from(spec.options.as_ref()).unwrap();
        options.strict = true;
        let image = conformance::case_image(&dir).unwrap();
        let selector = spec.selector().unwrap();
        let report =
            wasm_image::validate::validate_path(&image, selector.as_ref(), &options).unwrap();
        let expected = spec.strict.unwrap_or(true);
        match (&spec.strict, &spec.strict_reason) {
            (Some(false), Some(reason)) if !reason.trim().is_empty() => {}
            (None, None) => {}
            _ => problems.push(format!(
                "{}: \"strict\": false goes with a non-empty \"strict_reason\", and nothing else",
                spec.id
            )),
        }
        if report.valid() != expected {
            let warnings: Vec<&str> = report
                .findings()
                .filter(|f| f.severity == wasm_image::rules::Severity::Warning)
                .map(|f| f.code)
                .collect();
            problems.push(format!(
                "{}: valid under --strict is {}, expected {expected} (warnings {warnings:?})",
                spec.id,
                report.valid()
            ));
        }
    }
    assert!(checked > 0);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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

/// The same suite through the binary, and the exit codes of `validate`.
#[cfg(feature = "cli")]
mod cli {
    use super::cases_dir;
    use std::process::Command;

    fn bin() -> Command {
        Command::new(env!("CARGO_BIN_EXE_wasm-image"))
    }

    #[test]
    fn the_conformance_verb_passes_the_suite() {
        let out = bin().arg("conformance").arg(cases_dir()).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let last = text.lines().last().unwrap_or_default();
        let n = super::conformance::case_dirs(&cases_dir()).unwrap().len();
        assert_eq!(last, format!("{n} passed, 0 failed"), "{text}");
        assert_eq!(out.status.code(), Some(0));
    }

    #[test]
    fn the_conformance_verb_fails_on_a_wrong_expectation() {
        let temp = tempfile::tempdir().unwrap();
        let case = temp.path().join("pass-cncf-core");
        let src = cases_dir().join("pass-cncf-core");
        copy(&src, &case);
        let spec = std::fs::read_to_string(case.join("case.json"))
            .unwrap()
            .replace("\"variant\": \"cncf\"", "\"variant\": \"spin\"");
        std::fs::write(case.join("case.json"), spec).unwrap();
        let out = bin().arg("conformance").arg(temp.path()).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().any(|l| l == "0 passed, 1 failed"), "{text}");
        assert_eq!(out.status.code(), Some(1));
    }

    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let p = entry.unwrap().path();
            let t = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &t);
            } else {
                std::fs::copy(&p, &t).unwrap();
            }
        }
    }

    fn validate(args: &[&str]) -> (Option<i32>, String) {
        let out = bin().arg("validate").args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    }

    fn image(id: &str) -> String {
        cases_dir().join(id).join("image").display().to_string()
    }

    #[test]
    fn exit_codes() {
        assert_eq!(validate(&[&image("pass-compat-oci")]).0, Some(0));
        assert_eq!(validate(&[&image("cncf-layer-type")]).0, Some(1));
        // A warning fails only with --strict.
        assert_eq!(validate(&[&image("cncf-no-title")]).0, Some(0));
        assert_eq!(validate(&["--strict", &image("cncf-no-title")]).0, Some(1));
        assert_eq!(validate(&["/no/such/layout"]).0, Some(2));
        assert_eq!(
            validate(&["--format", "yaml", &image("pass-compat-oci")]).0,
            Some(2)
        );
        // A limit flag: the filter is over a 1 KiB consumer limit (a warning).
        let (code, text) = validate(&[
            "--consumer-max-module-bytes",
            "1024",
            &image("pass-compat-oci"),
        ]);
        assert_eq!(code, Some(0));
        assert!(text.contains("WI-WASM-007"), "{text}");
    }

    #[test]
    fn json_shapes() {
        let (_, text) = validate(&["--format", "json", &image("cncf-layer-type")]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["valid"], false);
        assert_eq!(v["variant"], "cncf");
        assert!(
            v["manifest_digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        let f = &v["findings"][0];
        for key in ["code", "severity", "message", "location"] {
            assert!(f[key].is_string(), "finding lacks {key}: {f}");
        }
        assert!(v["consumers"].is_array());
        let (code, text) = validate(&["--format", "json", &image("pass-layout-two-images")]);
        assert_eq!(code, Some(0));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["valid"], true);
        assert_eq!(v["images"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn sarif_for_code_scanning() {
        let target = image("compat-tar-symlink");
        let (code, text) = validate(&["--format", "sarif", &target]);
        assert_eq!(code, Some(1));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), wasm_image::rules::RULES.len());
        assert!(
            rules
                .iter()
                .all(|r| r["helpUri"].as_str().unwrap().ends_with(".md")
                    && r["help"]["text"].is_string())
        );
        let result = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "WI-COMPAT-008")
            .expect("the symlink is reported");
        assert_eq!(result["level"], "error");
        let loc = &result["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            target.replace('\\', "/")
        );
        assert!(
            loc["logicalLocations"][0]["name"]
                .as_str()
                .unwrap()
                .contains("tar entry")
        );
        let idx = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], "WI-COMPAT-008");
    }

    #[test]
    fn text_has_no_colour_when_piped() {
        let (_, text) = validate(&[&image("cncf-layer-type")]);
        assert!(!text.contains('\x1b'));
        assert!(
            text.lines()
                .next()
                .unwrap()
                .starts_with("error   WI-CNCF-003 "),
            "{text}"
        );
        assert!(text.contains("variant: cncf"));
        assert!(text.contains("convert: wasm-image build"));
    }
}
