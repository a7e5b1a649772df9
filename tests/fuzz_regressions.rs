//! Every crash the fuzz targets of `fuzz/` found, replayed in the normal
//! suite. `testdata/fuzz-regressions/<target>/` holds the crashing inputs;
//! each is run through the same code as the fuzz target (the target bodies
//! live in `fuzz/src/lib.rs`, included here by path), so a regression fails
//! here exactly as it failed under the fuzzer. Add a crash by copying its
//! `fuzz/artifacts/<target>/crash-…` file into that directory (and a named
//! test below that says what was wrong).

#[allow(dead_code, clippy::all)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_support;

use std::fs;
use std::path::PathBuf;

use fuzz_support::targets;
use wasm_image::compat::{self, CompatError};
use wasm_image::limits::Limits;

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz-regressions")
        .join(target);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn input(target: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz-regressions")
        .join(target)
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of a fuzz target.
type Run = fn(&[u8]);

/// Replays every committed input of every target.
#[test]
fn every_committed_crash_replays_cleanly() {
    let runs: [(&str, Run); 8] = [
        ("documents", targets::documents::run),
        ("layout", targets::layout::run),
        ("archive", targets::archive::run),
        ("compat_layer", targets::compat_layer::run),
        ("wasm", targets::wasm::run),
        ("reference", targets::reference::run),
        ("sign_key", targets::sign_key::run),
        ("sign_bundle", targets::sign_bundle::run),
    ];
    let known: Vec<&str> = runs.iter().map(|(t, _)| *t).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz-regressions");
    for dir in fs::read_dir(&root).expect("testdata/fuzz-regressions") {
        let name = dir
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            known.contains(&name.as_str()) || name == "README.md",
            "testdata/fuzz-regressions/{name} is not a fuzz target"
        );
    }
    for (target, run) in runs {
        for file in regressions(target) {
            let data = fs::read(&file).expect("read");
            run(&data);
        }
    }
}

/// compat_layer: a gzip layer whose tar ends inside `plugin.wasm`
/// (conformance case compat-tar-truncated) was returned as a complete plugin
/// of the size its header claims: `compat::read_plugin` reported success
/// after streaming 388 of 1312 bytes. It now fails with a tar error.
#[test]
fn compat_layer_truncated_plugin_entry_is_an_error() {
    let data = input("compat_layer", "truncated-plugin-entry");
    targets::compat_layer::run(&data);
    let layer = &data[1..];
    let mut seen = 0usize;
    let err = compat::read_plugin(&mut &layer[..], &Limits::default(), &mut |c| {
        seen += c.len();
        Ok(())
    })
    .expect_err("a truncated plugin.wasm is refused");
    assert!(matches!(err, CompatError::Tar(_)), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    assert_eq!(seen, 388);
}
