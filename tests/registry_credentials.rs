//! Credentials from docker credential helpers (`credHelpers` and
//! `credsStore` in the docker config), against a real registry with basic auth.

#[path = "registry_support/mod.rs"]
mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use support::{Auth, PASS, Registry as Server, USER};
use wasm_image::build::ImageBuilder;
use wasm_image::registry::{Credentials, Options, Registry, transfer};
use wasm_image::store::{Layout, Selector};
use wasm_image::variant::Variant;

/// Writes `docker-credential-<name>`, a helper that answers `get` for `host`
/// with the test user, and logs the server it was asked about.
fn helper(dir: &Path, name: &str, host: &str, secret: &str) {
    let log = dir.join(format!("{name}.log"));
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread server\necho \"$server\" >> '{}'\n\
         if [ \"$server\" = '{host}' ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{secret}\"}}' \"$server\"\n\
         else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
        log.display()
    );
    let path = dir.join(format!("docker-credential-{name}"));
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn inspect(host: &str, config: &Path, bin_dir: &Path) -> (i32, String, String) {
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wasm-image"))
        .args([
            "inspect",
            &format!("{host}/helper/filter:v1"),
            "--plain-http",
        ])
        .env("DOCKER_CONFIG", config)
        .env("PATH", path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn credential_helpers_supply_the_password_and_never_show_it() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::Basic);
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let mut layout = Layout::open_or_create(&src).unwrap();
    ImageBuilder::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/modules/proxy-filter.wasm"),
    )
    .variant(Variant::CompatOci)
    .build(&mut layout, Some("v1"))
    .unwrap();
    let options = Options {
        plain_http: true,
        docker_config: false,
        credentials: Some(Credentials::new(USER, PASS)),
        ..Options::default()
    };
    let dst = Registry::parse(&format!("{host}/helper/filter:v1"), &options).unwrap();
    transfer::push(
        &layout,
        &Selector::Tag("v1".into()),
        &dst,
        &mut transfer::Quiet,
    )
    .unwrap();

    let bin_dir = dir.path().join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    helper(&bin_dir, "good", &host, PASS);
    helper(&bin_dir, "bad", &host, "helper-wrong-secret");

    // credHelpers names the helper for this host.
    let config = dir.path().join("helpers");
    fs::create_dir_all(&config).unwrap();
    fs::write(
        config.join("config.json"),
        format!(r#"{{"credHelpers":{{"{host}":"good"}}}}"#),
    )
    .unwrap();
    let (code, out, err) = inspect(&host, &config, &bin_dir);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("compat-oci"), "{out}");
    assert!(
        fs::read_to_string(bin_dir.join("good.log"))
            .unwrap()
            .contains(&host)
    );

    // credsStore is the fallback for every host.
    let config = dir.path().join("store");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("config.json"), r#"{"credsStore":"good"}"#).unwrap();
    let (code, _, err) = inspect(&host, &config, &bin_dir);
    assert_eq!(code, 0, "{err}");

    // A helper that gives a wrong secret: a clear 401, the secret never shown.
    let config = dir.path().join("bad");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("config.json"), r#"{"credsStore":"bad"}"#).unwrap();
    let (code, out, err) = inspect(&host, &config, &bin_dir);
    assert_ne!(code, 0);
    assert!(err.contains("UNAUTHORIZED"), "{err}");
    assert!(!err.contains("helper-wrong-secret") && !out.contains("helper-wrong-secret"));

    // A helper that is not installed: a clear error naming it.
    let config = dir.path().join("missing");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("config.json"), r#"{"credsStore":"absent"}"#).unwrap();
    let (code, _, err) = inspect(&host, &config, &bin_dir);
    assert_ne!(code, 0);
    assert!(err.contains("docker-credential-absent"), "{err}");
}
