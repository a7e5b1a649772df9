//! Helpers shared by the integration tests: the test modules and the
//! variants each can be built as, file comparison, and the CLI runner.
//! (Each test crate uses a part of them, hence `dead_code` allowed.)
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wasm_image::variant::Variant;

/// A proxy-wasm filter (core module exporting the ABI marker).
pub const PROXY: &str = "proxy-filter.wasm";
/// A plain core module.
pub const CORE: &str = "hello.wasm";
/// A component.
pub const COMPONENT: &str = "adder.component.wasm";

/// A module of `testdata/modules`.
pub fn module(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/modules")
        .join(name)
}

/// Each buildable variant with a module it can hold.
pub fn cases() -> Vec<(Variant, &'static str)> {
    vec![
        (Variant::Cncf, CORE),
        (Variant::Cncf, COMPONENT),
        (Variant::CompatOci, PROXY),
        (Variant::CompatDocker, PROXY),
        (Variant::WasmOci, PROXY),
        (Variant::WasmContentV1, CORE),
    ]
}

/// Every file under `dir`: relative path and bytes, sorted by path.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wasm-image")
}

/// Runs the CLI with `stdin` (or none) and extra environment; returns (exit
/// code, stdout, stderr). The developer's own docker credentials are never
/// read (`DOCKER_CONFIG` points into the repository, which has none).
pub fn cli_env(
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &OsStr)],
) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("DOCKER_CONFIG", env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
