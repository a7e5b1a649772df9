//! docs/cli.md cannot drift from the code: its finding-code table is the
//! output of `wasm-image rules --format markdown`, and it names every verb
//! and every flag the binary accepts.

use std::path::Path;
use std::process::Command;

const BEGIN: &str = "<!-- rules:begin -->";
const END: &str = "<!-- rules:end -->";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wasm-image"))
}

fn cli_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"))
        .expect("docs/cli.md")
}

fn stdout(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("the binary runs");
    assert!(out.status.success(), "wasm-image {args:?} failed");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn the_rule_table_is_generated() {
    let doc = cli_md();
    let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = doc.find(END).expect("end marker");
    let table = doc[start..end].trim();
    let generated = stdout(&["rules", "--format", "markdown"]);
    assert_eq!(
        table,
        generated.trim(),
        "docs/cli.md is out of date: replace the table between the markers with \
         the output of `wasm-image rules --format markdown`"
    );
}

#[test]
fn every_verb_and_flag_is_documented() {
    let doc = cli_md();
    for verb in [
        "build",
        "inspect",
        "validate",
        "rules",
        "conformance",
        "push",
        "pull",
        "copy",
        "keygen",
        "sign",
        "verify",
    ] {
        assert!(
            doc.contains(&format!("wasm-image {verb}")),
            "docs/cli.md does not document `wasm-image {verb}`"
        );
        let help = stdout(&[verb, "--help"]);
        for word in help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']') {
            let flag = word.split('=').next().unwrap_or_default();
            let flag = flag.trim_end_matches(['.', ':', ')']);
            if flag.starts_with("--") && flag.len() > 2 && flag != "--help" && flag != "--version" {
                assert!(
                    doc.contains(&format!("`{flag}")),
                    "docs/cli.md does not document `{flag}` of `wasm-image {verb}`"
                );
            }
        }
    }
}
