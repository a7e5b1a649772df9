//! The rules tables of spec/*.md cannot drift from `src/rules.rs`: each is
//! what `rules::spec_table` generates, and every rule sits in a table of the
//! spec file it names. Regenerate with `cargo run --example sync_spec_tables`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use wasm_image::rules::{RULES, area, sync_spec_tables};

#[test]
fn spec_rule_tables_are_generated_from_the_catalogue() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut tables: BTreeMap<String, String> = BTreeMap::new();
    let mut stale = Vec::new();
    for entry in fs::read_dir(&dir).expect("spec/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("readable spec file");
        let (synced, areas) = sync_spec_tables(&text).expect("well-formed markers");
        let rel = format!(
            "spec/{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        );
        if synced != text {
            stale.push(rel.clone());
        }
        for a in areas {
            assert!(
                tables.insert(a.clone(), rel.clone()).is_none(),
                "the rules table of {a} appears twice"
            );
        }
    }
    assert!(
        stale.is_empty(),
        "rules tables out of date in {stale:?}: run `cargo run --example sync_spec_tables`"
    );
    for r in RULES {
        assert_eq!(
            tables.get(area(r.code)).map(String::as_str),
            Some(r.spec),
            "{} must be listed in the rules table of {} in {}",
            r.code,
            area(r.code),
            r.spec
        );
    }
}

#[test]
fn sync_replaces_only_the_table() {
    let text = "intro\n<!-- rules:LIMIT -->\nold\n<!-- /rules -->\nafter\n";
    let (synced, areas) = sync_spec_tables(text).unwrap();
    assert_eq!(areas, ["LIMIT"]);
    assert!(synced.starts_with("intro\n<!-- rules:LIMIT -->\n| Code | Severity |"));
    assert!(synced.contains("| WI-LIMIT-007 | error |"));
    assert!(synced.ends_with("<!-- /rules -->\nafter\n"));
    assert!(sync_spec_tables("<!-- rules:X -->\nno end").is_err());
}
