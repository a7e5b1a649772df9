//! The registry client against a real registry (Debian's `docker-registry`,
//! CNCF distribution 2.8) on 127.0.0.1: push/pull round trips of every
//! variant, skipped re-uploads, chunked uploads, mounts, tags, basic and
//! bearer authentication, skopeo interop both ways, and faults injected by a
//! proxy (wrong bytes, truncation, 500s, broken and stalled connections).

#[path = "../benches/common/mod.rs"]
mod bench_inputs;
mod common;
#[path = "registry_support/mod.rs"]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{COMPONENT, CORE, PROXY, all_files, cases, cli_env, module};
use support::{Auth, Fault, FaultProxy, PASS, Registry as Server, Rule, USER, on_uploads};
use wasm_image::build::{BuiltImage, ImageBuilder};
use wasm_image::digest::Digest;
use wasm_image::image::Image;
use wasm_image::limits::Limits;
use wasm_image::registry::client::pull_scope;
use wasm_image::registry::transfer::{self, Quiet, RegistrySink};
use wasm_image::registry::{Credentials, Options, Reference, Registry, RegistryError};
use wasm_image::store::{ImageStore, Layout, Selector};
use wasm_image::validate;
use wasm_image::variant::Variant;

fn plain() -> Options {
    Options {
        plain_http: true,
        docker_config: false,
        retry_delay: Duration::from_millis(20),
        ..Options::default()
    }
}

fn build(dir: &Path, variant: Variant, name: &str, tag: &str) -> BuiltImage {
    let mut layout = Layout::open_or_create(dir).unwrap();
    ImageBuilder::new(module(name))
        .variant(variant)
        .build(&mut layout, Some(tag))
        .unwrap()
}

fn reg(host: &str, repo: &str, options: &Options) -> Registry {
    Registry::parse(&format!("{host}/{repo}"), options).unwrap()
}

fn push_layout(dir: &Path, tag: &str, dst: &Registry) -> transfer::Copied {
    let layout = Layout::open(dir).unwrap();
    transfer::push(&layout, &Selector::Tag(tag.into()), dst, &mut Quiet).unwrap()
}

/// Runs the CLI; returns (exit code, stdout, stderr).
fn cli(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    cli_env(args, stdin, &[])
}

#[test]
fn every_variant_round_trips_with_the_same_manifest_digest() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let host = server.host();
    let options = plain();
    for (i, (variant, name)) in cases().into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let built = build(&src, variant, name, "v1");
        let dst = reg(&host, &format!("rt/{}-{i}:v1", variant.id()), &options);
        let pushed = push_layout(&src, "v1", &dst);
        assert_eq!(pushed.digest, built.manifest_digest, "{variant}");
        // Through the registry: the manifest it serves has the same digest and type.
        let fresh = reg(&host, &format!("rt/{}-{i}:v1", variant.id()), &options);
        let served = fresh.manifest().unwrap();
        assert_eq!(served.digest, built.manifest_digest, "{variant}");
        assert_eq!(served.media_type, built.manifest_media_type, "{variant}");
        let image = Image::open(&fresh, &Selector::Only, &Limits::default()).unwrap();
        assert_eq!(image.variant, variant);
        image
            .inspect_module(&fresh, &Limits::default(), true)
            .unwrap();
        // Pull into a new layout: byte-identical blobs, tagged v1.
        let out = dir.path().join("out");
        let mut layout = Layout::open_or_create(&out).unwrap();
        let pulled = transfer::pull(&fresh, &mut layout, Some("v1"), &mut Quiet).unwrap();
        assert_eq!(pulled.digest, built.manifest_digest);
        let back = Layout::open(&out).unwrap();
        let entry = &back.root_index().unwrap().entries().unwrap()[0];
        assert_eq!(entry.digest, built.manifest_digest);
        assert_eq!(entry.tag.as_deref(), Some("v1"));
        let blobs = |p: &Path| all_files(&p.join("blobs")).into_iter().collect::<Vec<_>>();
        assert_eq!(blobs(&src), blobs(&out), "{variant}: blobs differ");
    }
}

#[test]
fn a_whole_repository_is_validated_tag_by_tag() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let host = server.host();
    let options = plain();
    // One repository, one tag per variant (reported in lexical order of the tags).
    let dir = tempfile::tempdir().unwrap();
    let mut tags = Vec::new();
    for (i, (variant, name)) in cases().into_iter().enumerate() {
        let src = dir.path().join(format!("src{i}"));
        let tag = format!("t{i:02}-{}", variant.id());
        build(&src, variant, name, &tag);
        push_layout(
            &src,
            &tag,
            &reg(&host, &format!("whole/repo:{tag}"), &options),
        );
        tags.push(tag);
    }
    // Library: every tag is an image of the report, in tag order, valid.
    let store = reg(&host, "whole/repo", &options).all_tags();
    let report = validate::validate(&store, None, &validate::Options::default());
    let validate::Report::Layout(layout) = &report else {
        panic!("one report per tag expected: {report:?}");
    };
    let seen: Vec<_> = layout
        .images
        .iter()
        .map(|i| i.tag.clone().unwrap())
        .collect();
    assert_eq!(seen, tags);
    assert!(report.valid(), "{report:?}");
    let variants: Vec<_> = layout.images.iter().map(|i| i.variant).collect();
    assert_eq!(
        variants,
        cases().into_iter().map(|(v, _)| v).collect::<Vec<_>>()
    );
    // With no manifest kept in memory, each is fetched again when read: the
    // same report.
    let uncached = reg(&host, "whole/repo", &options)
        .all_tags()
        .manifest_cache_bytes(0);
    let again = validate::validate(&uncached, None, &validate::Options::default());
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&report).unwrap()
    );
    // CLI: the same as JSON; a tag or digest with --all-tags is refused.
    let target = format!("{host}/whole/repo");
    let (code, out, err) = cli(
        &[
            "validate",
            "--plain-http",
            "--all-tags",
            "--format",
            "json",
            &target,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["images"].as_array().unwrap().len(),
        tags.len(),
        "{out}"
    );
    let (code, _, err) = cli(
        &[
            "validate",
            "--plain-http",
            "--all-tags",
            &format!("{target}:t00"),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("without a tag or digest"), "{err}");
    let local = dir.path().join("src0");
    let (code, _, err) = cli(&["validate", "--all-tags", local.to_str().unwrap()], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("--all-tags needs a registry repository"),
        "{err}"
    );
}

#[test]
fn pushing_twice_uploads_no_blob_the_second_time_and_mounts_across_repositories() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::CompatOci, PROXY, "v1");
    let first = reg(&host, "twice/filter:v1", &plain());
    push_layout(&src, "v1", &first);
    let s = first.stats();
    assert_eq!((s.blobs_uploaded, s.blobs_existing), (2, 0), "{s:?}");
    let second = reg(&host, "twice/filter:v1", &plain());
    let copied = push_layout(&src, "v1", &second);
    let s = second.stats();
    assert_eq!(s.blobs_uploaded, 0, "second push uploaded blobs: {s:?}");
    assert_eq!(s.bytes_uploaded, 0);
    assert_eq!(s.blobs_existing, 2);
    assert_eq!(copied.blobs_existing, 2);
    assert_eq!(copied.digest, built.manifest_digest);
    // Registry to registry in the same registry: blobs are mounted, not sent.
    let other = reg(&host, "elsewhere/filter:v9", &plain());
    let src_reg = reg(&host, "twice/filter:v1", &plain());
    let mut sink = RegistrySink::new(&other).mount_from(Some("twice/filter".into()));
    let copied =
        transfer::copy_image(&src_reg, &Selector::Only, &mut sink, Some("v9"), &mut Quiet).unwrap();
    assert_eq!(copied.blobs_mounted, 2, "{copied:?}");
    assert_eq!(other.stats().blobs_uploaded, 0);
    assert_eq!(
        reg(&host, "elsewhere/filter:v9", &plain())
            .resolve()
            .unwrap(),
        built.manifest_digest
    );
    // Tags.
    let mut tags = first.list_tags().unwrap();
    tags.sort();
    assert_eq!(tags, vec!["v1".to_owned()]);
    // By digest only: the manifest is put by digest, no tag is made.
    let by_digest = Registry::new(
        Reference::parse(&format!("{host}/bydigest/x@{}", built.manifest_digest)).unwrap(),
        &plain(),
    )
    .unwrap();
    push_layout(&src, "v1", &by_digest);
    match by_digest.list_tags() {
        Ok(tags) => assert!(tags.is_empty(), "{tags:?}"),
        // distribution 2.8: a repository without tags is NAME_UNKNOWN.
        Err(e) => assert!(e.has_code("NAME_UNKNOWN"), "{e}"),
    }
    assert_eq!(by_digest.resolve().unwrap(), built.manifest_digest);
}

#[test]
fn large_blobs_go_up_in_chunks_and_come_back_identical() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::Cncf, COMPONENT, "v1");
    let options = Options {
        chunk_size: Some(64), // The component is a few hundred bytes: several PATCHes.
        ..plain()
    };
    let dst = reg(&server.host(), "chunked/adder:v1", &options);
    push_layout(&src, "v1", &dst);
    assert!(
        server.log().contains("PATCH"),
        "the registry log shows no PATCH: {}",
        server.log()
    );
    let out = dir.path().join("out");
    let mut layout = Layout::open_or_create(&out).unwrap();
    let fresh = reg(&server.host(), "chunked/adder:v1", &plain());
    let pulled = transfer::pull(&fresh, &mut layout, Some("v1"), &mut Quiet).unwrap();
    assert_eq!(pulled.digest, built.manifest_digest);
    assert_eq!(all_files(&src.join("blobs")), all_files(&out.join("blobs")));
}

#[test]
fn cli_push_emit_pull_wasm_validate_and_errors() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::CompatDocker, PROXY, "v1");
    let reference = format!("{host}/cli/filter:v1");
    let src_arg = format!("{}:v1", src.display());
    let (code, out, err) = cli(
        &[
            "push",
            &src_arg,
            &reference,
            "--plain-http",
            "--emit",
            "istio",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let pinned = format!("{host}/cli/filter@{}", built.manifest_digest);
    assert_eq!(out.lines().next(), Some(pinned.as_str()), "{out}");
    assert!(out.contains("kind: WasmPlugin"), "{out}");
    assert!(out.contains(&format!("url: oci://{reference}")), "{out}");
    assert!(
        out.contains(&format!("sha256: {}", built.manifest_digest.encoded())),
        "{out}"
    );
    let (code, out, err) = cli(
        &[
            "push",
            &src_arg,
            &reference,
            "--plain-http",
            "--emit",
            "envoy-gateway",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("kind: EnvoyExtensionPolicy"), "{out}");
    assert!(err.contains("0 uploaded"), "{err}");
    // Pull into a layout and the module out of the compat tar.
    let out_dir = dir.path().join("pulled");
    let wasm = dir.path().join("plugin.wasm");
    let (code, _, err) = cli(
        &[
            "pull",
            &reference,
            "--plain-http",
            "-o",
            out_dir.to_str().unwrap(),
            "--wasm",
            wasm.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(&wasm).unwrap(), fs::read(module(PROXY)).unwrap());
    let layout = Layout::open(&out_dir).unwrap();
    let entry = &layout.root_index().unwrap().entries().unwrap()[0];
    assert_eq!(
        (entry.digest.clone(), entry.tag.as_deref()),
        (built.manifest_digest.clone(), Some("v1"))
    );
    // Validate the remote image: same verdict and findings as on the layout.
    let (code_remote, remote, err) = cli(
        &["validate", &reference, "--plain-http", "--format", "json"],
        None,
    );
    let (code_local, local, _) = cli(&["validate", &src_arg, "--format", "json"], None);
    assert_eq!(code_remote, code_local, "{err}");
    let codes = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut codes: Vec<String> = Vec::new();
        collect_codes(&v, &mut codes);
        codes.sort();
        codes
    };
    let (r, l) = (codes(&remote), codes(&local));
    assert!(!l.is_empty() || !r.is_empty() || remote.contains("valid"));
    assert_eq!(
        r.iter()
            .filter(|c| !c.starts_with("WI-LAYOUT"))
            .collect::<Vec<_>>(),
        l.iter()
            .filter(|c| !c.starts_with("WI-LAYOUT"))
            .collect::<Vec<_>>()
    );
    let (code, out, _) = cli(&["inspect", &reference, "--plain-http"], None);
    assert_eq!(code, 0);
    assert!(out.contains("compat-docker"), "{out}");
    // Copy registry → archive → registry.
    let tar = dir.path().join("copy.tar");
    let (code, _, err) = cli(
        &["copy", &reference, tar.to_str().unwrap(), "--plain-http"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(
        &[
            "copy",
            &format!("{}:v1", tar.display()),
            &format!("{host}/cli/copied:v2"),
            "--plain-http",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(built.manifest_digest.as_str()), "{out}");
    // Errors: an unknown tag names the registry's code and exits 1.
    let (code, _, err) = cli(
        &[
            "pull",
            &format!("{host}/cli/filter:nope"),
            "--plain-http",
            "-o",
            "x",
        ],
        None,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("MANIFEST_UNKNOWN") && err.contains("404"),
        "{err}"
    );
    assert!(!Path::new("x").exists());
    // A bad reference could not run: exit 2.
    let (code, _, err) = cli(
        &["push", &src_arg, "127.0.0.1:1/UPPER", "--plain-http"],
        None,
    );
    assert_eq!(code, 2, "{err}");
}

fn collect_codes(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "code"
                    && let Some(s) = x.as_str()
                {
                    out.push(s.to_owned());
                }
                collect_codes(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_codes(x, out)),
        _ => {}
    }
}

#[test]
fn basic_auth_succeeds_with_credentials_and_fails_clearly_without() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::Basic);
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::WasmOci, PROXY, "v1");
    let good = Options {
        credentials: Some(Credentials::new(USER, PASS)),
        ..plain()
    };
    push_layout(&src, "v1", &reg(&host, "auth/filter:v1", &good));
    assert_eq!(
        reg(&host, "auth/filter:v1", &good).resolve().unwrap(),
        built.manifest_digest
    );
    // Wrong password: a 401 naming UNAUTHORIZED, and the password is never shown.
    let bad = Options {
        credentials: Some(Credentials::new(USER, "wrong-password-xyz")),
        ..plain()
    };
    let err = reg(&host, "auth/filter:v1", &bad).resolve().unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.has_code("UNAUTHORIZED"), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("UNAUTHORIZED") && !text.contains("wrong-password-xyz"),
        "{text}"
    );
    // Anonymous: the same clear 401.
    let err = reg(&host, "auth/filter:v1", &plain())
        .resolve()
        .unwrap_err();
    assert!(err.has_code("UNAUTHORIZED"), "{err}");
    // The CLI with --username and --password-stdin, and with a docker config file.
    let out = dir.path().join("out");
    let (code, _, err) = cli(
        &[
            "pull",
            &format!("{host}/auth/filter:v1"),
            "--plain-http",
            "-o",
            out.to_str().unwrap(),
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(&format!("{PASS}\n")),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(
        &[
            "inspect",
            &format!("{host}/auth/filter:v1"),
            "--plain-http",
            "-u",
            USER,
            "--password-stdin",
        ],
        Some("nope\n"),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("UNAUTHORIZED") && !err.contains("nope\n"),
        "{err}"
    );
    let config_dir = dir.path().join("docker");
    fs::create_dir_all(&config_dir).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"));
    fs::write(
        config_dir.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let (code, out, err) = cli_env(
        &["inspect", &format!("{host}/auth/filter:v1"), "--plain-http"],
        None,
        &[("DOCKER_CONFIG", config_dir.as_os_str())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wasm-oci"), "{out}");
}

#[test]
fn bearer_token_auth_with_an_es256_token_server() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::Bearer);
    let host = server.host();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::Cncf, COMPONENT, "v1");
    let good = Options {
        credentials: Some(Credentials::new(USER, PASS)),
        ..plain()
    };
    let dst = reg(&host, "token/adder:v1", &good);
    push_layout(&src, "v1", &dst);
    let out = dir.path().join("out");
    let mut layout = Layout::open_or_create(&out).unwrap();
    let src_reg = reg(&host, "token/adder:v1", &good);
    let pulled = transfer::pull(&src_reg, &mut layout, Some("v1"), &mut Quiet).unwrap();
    assert_eq!(pulled.digest, built.manifest_digest);
    let scopes = server
        .token
        .as_ref()
        .unwrap()
        .requests
        .lock()
        .unwrap()
        .clone();
    assert!(
        scopes
            .iter()
            .any(|s| s.contains("repository:token/adder:pull,push")),
        "{scopes:?}"
    );
    assert!(
        scopes.iter().any(|s| s == &pull_scope("token/adder")),
        "{scopes:?}"
    );
    // Anonymous gets a token without access: the registry refuses.
    let err = reg(&host, "token/adder:v1", &plain())
        .resolve()
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.has_code("UNAUTHORIZED"), "{err}");
    // Wrong password: the token server refuses, the error says so.
    let bad = Options {
        credentials: Some(Credentials::new(USER, "bad")),
        ..plain()
    };
    let err = reg(&host, "token/adder:v1", &bad).resolve().unwrap_err();
    assert!(
        err.to_string().contains("401") && err.to_string().contains("UNAUTHORIZED"),
        "{err}"
    );
    // The CLI.
    let (code, out, err) = cli(
        &[
            "push",
            &format!("{}:v1", src.display()),
            &format!("{host}/token/cli:v1"),
            "--plain-http",
            "-u",
            USER,
            "--password-stdin",
        ],
        Some(PASS),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(built.manifest_digest.as_str()));
}

fn skopeo() -> Option<PathBuf> {
    support::which("skopeo").or_else(|| {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("skopeo is required in CI (scripts/test.sh installs it)");
        }
        eprintln!("SKIPPED: skopeo not installed");
        None
    })
}

#[test]
fn skopeo_interop_both_ways() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let Some(skopeo) = skopeo() else { return };
    let server = Server::start(&bin, Auth::None);
    let host = server.host();
    for (i, (variant, name)) in cases().into_iter().enumerate() {
        if variant == Variant::CompatDocker {
            continue; // skopeo 1.9.3 cannot read a Docker manifest out of an OCI layout.
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let built = build(&src, variant, name, "v1");
        // skopeo pushes, wasm-image pulls and validates.
        let by_skopeo = format!("{host}/skopeo/in-{i}:v1");
        let status = Command::new(&skopeo)
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .arg(format!("oci:{}:v1", src.display()))
            .arg(format!("docker://{by_skopeo}"))
            .status()
            .unwrap();
        assert!(status.success(), "{variant}: skopeo push failed");
        let out = dir.path().join("pulled");
        let (code, _, err) = cli(
            &[
                "pull",
                &by_skopeo,
                "--plain-http",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(code, 0, "{variant}: {err}");
        let layout = Layout::open(&out).unwrap();
        assert_eq!(
            layout.root_index().unwrap().entries().unwrap()[0].digest,
            built.manifest_digest
        );
        let (code, report, err) = cli(&["validate", &by_skopeo, "--plain-http"], None);
        assert_eq!(code, 0, "{variant}: {report}{err}");
        // wasm-image pushes, skopeo copies back byte-identically.
        let by_us = format!("{host}/skopeo/out-{i}:v1");
        push_layout(
            &src,
            "v1",
            &reg(&host, &format!("skopeo/out-{i}:v1"), &plain()),
        );
        let back = dir.path().join("back");
        let status = Command::new(&skopeo)
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--src-tls-verify=false",
            ])
            .arg(format!("docker://{by_us}"))
            .arg(format!("oci:{}:v1", back.display()))
            .status()
            .unwrap();
        assert!(status.success(), "{variant}: skopeo pull failed");
        let copied = Layout::open(&back).unwrap();
        assert_eq!(
            copied.root_index().unwrap().entries().unwrap()[0].digest,
            built.manifest_digest,
            "{variant}"
        );
        assert_eq!(
            all_files(&src.join("blobs")),
            all_files(&back.join("blobs")),
            "{variant}: blobs differ after skopeo"
        );
    }
}

/// The destination's state: index.json bytes, and every blob hashing to its name.
fn check_untouched(out: &Path, index_before: &[u8]) {
    assert_eq!(
        fs::read(out.join("index.json")).unwrap(),
        index_before,
        "index.json changed"
    );
    for (path, bytes) in all_files(&out.join("blobs")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.'),
            "a temporary file was left: {path:?}"
        );
        assert_eq!(
            Digest::sha256_of(&bytes).encoded(),
            name,
            "blob {path:?} does not match its name"
        );
    }
}

#[test]
fn pull_through_faults_recovers_or_fails_clearly_leaving_the_destination_as_it_was() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let proxy = FaultProxy::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::CompatOci, PROXY, "v1");
    push_layout(
        &src,
        "v1",
        &reg(&server.host(), "faults/filter:v1", &plain()),
    );
    let layer = built.layer_digests[0].to_string();
    let options = Options {
        read_timeout: Duration::from_secs(1),
        retries: 2,
        ..plain()
    };
    let cases: Vec<(&str, Fault, u32, bool)> = vec![
        ("500 twice then 200", Fault::Status500, 2, true),
        ("close mid-blob once", Fault::CloseMid, 1, true),
        ("truncated body once", Fault::Truncate, 1, true),
        ("wrong blob", Fault::WrongBody, u32::MAX, false),
        ("truncated body always", Fault::Truncate, u32::MAX, false),
        ("close mid-blob always", Fault::CloseMid, u32::MAX, false),
        ("500 always", Fault::Status500, u32::MAX, false),
        ("stall", Fault::Stall, u32::MAX, false),
    ];
    for (what, fault, times, recovers) in cases {
        // A destination that already holds another image.
        let out = dir.path().join(format!("out-{}", what.replace(' ', "-")));
        build(&out, Variant::Cncf, CORE, "other");
        let index_before = fs::read(out.join("index.json")).unwrap();
        proxy.set(vec![Rule {
            method: "GET",
            path_contains: format!("/blobs/{layer}"),
            fault,
            times,
        }]);
        let from = reg(&proxy.host(), "faults/filter:v1", &options);
        let mut layout = Layout::open(&out).unwrap();
        let started = Instant::now();
        let result = transfer::pull(&from, &mut layout, Some("v1"), &mut Quiet);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(30), "{what}: took {took:?}");
        if recovers {
            let copied = result.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(copied.digest, built.manifest_digest);
            assert!(from.stats().retries >= 1, "{what}: no retry counted");
            let back = Layout::open(&out).unwrap();
            Image::open(&back, &Selector::Tag("v1".into()), &Limits::default())
                .unwrap()
                .inspect_module(&back, &Limits::default(), true)
                .unwrap();
        } else {
            let err = result.expect_err(what).to_string();
            eprintln!("{what}: {err}");
            let clear = match fault {
                Fault::WrongBody => err.contains("hashes to"),
                Fault::Truncate | Fault::CloseMid | Fault::Drop => {
                    err.contains("bytes") || err.contains("connection") || err.contains("body")
                }
                Fault::Status500 => err.contains("HTTP 500") && err.contains("UNKNOWN"),
                Fault::Stall => err.contains("timed out") || err.contains("bytes"),
                Fault::Pass => true,
            };
            assert!(clear, "{what}: unclear error: {err}");
            assert!(
                err.contains(layer.as_str()) || err.contains("blobs"),
                "{what}: {err}"
            );
            check_untouched(&out, &index_before);
        }
    }
}

#[test]
fn an_interrupted_streamed_upload_starts_again_from_the_blob() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let proxy = FaultProxy::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::Cncf, COMPONENT, "v1");
    let layout = Layout::open(&src).unwrap();
    // Small PATCHes, so that every blob of the component is streamed.
    let options = Options {
        chunk_size: Some(64),
        retries: 2,
        ..plain()
    };
    // Two broken PATCHes: each upload breaks off, is cancelled and starts
    // again with the blob opened afresh; the push succeeds.
    proxy.set(vec![on_uploads("PATCH", Fault::Status500, 2)]);
    let dst = reg(&proxy.host(), "restart/adder:v1", &options);
    let copied = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap();
    assert_eq!(copied.digest, built.manifest_digest);
    assert!(dst.stats().retries >= 2, "{:?}", dst.stats());
    // Connections closed in the middle of a PATCH: the same.
    proxy.set(vec![on_uploads("PATCH", Fault::Drop, 2)]);
    let dst = reg(&proxy.host(), "restart/dropped:v1", &options);
    let copied = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap();
    assert_eq!(copied.digest, built.manifest_digest);
    assert!(dst.stats().retries >= 2, "{:?}", dst.stats());
    let out = dir.path().join("out");
    let mut pulled_into = Layout::open_or_create(&out).unwrap();
    let fresh = reg(&server.host(), "restart/adder:v1", &plain());
    transfer::pull(&fresh, &mut pulled_into, Some("v1"), &mut Quiet).unwrap();
    assert_eq!(all_files(&src.join("blobs")), all_files(&out.join("blobs")));
    // PATCHes that always break: the push gives up after the retries, says
    // why, and no tag appears.
    proxy.set(vec![on_uploads("PATCH", Fault::Status500, u32::MAX)]);
    let dst = reg(&proxy.host(), "restart/broken:v1", &options);
    let err = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("upload interrupted"), "{err}");
    assert_eq!(dst.stats().manifests_pushed, 0);
    let missing = reg(&server.host(), "restart/broken:v1", &plain())
        .resolve()
        .unwrap_err();
    assert!(
        missing.has_code("MANIFEST_UNKNOWN") || missing.has_code("NAME_UNKNOWN"),
        "{missing}"
    );
    // A source shorter than its descriptor says is refused locally, and
    // nothing is committed.
    let digest = Digest::sha256_of(&[7u8; 200]);
    let direct = reg(&server.host(), "restart/short:v1", &options);
    let err = direct
        .client()
        .upload_blob(
            "restart/short",
            &digest,
            200,
            &mut &[7u8; 150][..],
            &mut |_| {},
        )
        .unwrap_err();
    assert!(matches!(err, RegistryError::Store(_)), "{err}");
    assert_eq!(
        direct.client().head_blob("restart/short", &digest).unwrap(),
        None
    );
}

#[test]
fn a_registry_that_stops_answering_an_upload_is_left_after_the_read_timeout() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let proxy = FaultProxy::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    // A 2 MiB module (a custom section): streamed, and its request's own
    // deadline (read timeout + size at 64 KiB/s) is over 30 s.
    let wasm = bench_inputs::module(2 << 20, 0);
    let module_path = dir.path().join("big.wasm");
    fs::write(&module_path, &wasm).unwrap();
    let src = dir.path().join("src");
    let mut layout = Layout::open_or_create(&src).unwrap();
    let built = ImageBuilder::new(&module_path)
        .variant(Variant::Cncf)
        .build(&mut layout, Some("v1"))
        .unwrap();
    let options = Options {
        read_timeout: Duration::from_secs(1),
        retries: 2,
        ..plain()
    };
    // The first PATCH is taken and never answered (the proxy holds it for
    // STALL): after one read timeout of silence it is abandoned, the upload
    // starts again, and the push succeeds well before the proxy lets go.
    proxy.set(vec![on_uploads("PATCH", Fault::Stall, 1)]);
    let dst = reg(&proxy.host(), "stall/big:v1", &options);
    let started = Instant::now();
    let copied = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap();
    assert_eq!(copied.digest, built.manifest_digest);
    assert!(dst.stats().retries >= 1, "{:?}", dst.stats());
    assert!(
        started.elapsed() < support::STALL,
        "took {:?}",
        started.elapsed()
    );
    // Always stalled: the push fails, saying so, after the retries.
    proxy.set(vec![on_uploads("PATCH", Fault::Stall, u32::MAX)]);
    let dst = reg(&proxy.host(), "stall/never:v1", &options);
    let err = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap_err();
    assert!(err.to_string().contains("did not answer for 1 s"), "{err}");
}

#[test]
fn push_through_faults_never_leaves_a_tag_on_missing_blobs() {
    let Some(bin) = support::registry_bin() else {
        return;
    };
    let server = Server::start(&bin, Auth::None);
    let proxy = FaultProxy::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let built = build(&src, Variant::CompatOci, PROXY, "v1");
    let options = Options {
        retries: 2,
        ..plain()
    };
    let layout = Layout::open(&src).unwrap();
    // Every blob upload fails: the push fails and no tag appears.
    proxy.set(vec![on_uploads("PUT", Fault::Status500, u32::MAX)]);
    let dst = reg(&proxy.host(), "pushfaults/filter:v1", &options);
    let err = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(dst.stats().manifests_pushed, 0);
    let direct = reg(&server.host(), "pushfaults/filter:v1", &plain());
    let missing = direct.resolve().unwrap_err();
    assert!(
        missing.has_code("MANIFEST_UNKNOWN") || missing.has_code("NAME_UNKNOWN"),
        "{missing}"
    );
    // 500 twice on each upload then 200: the push recovers.
    proxy.set(vec![
        on_uploads("POST", Fault::Status500, 2),
        Rule {
            method: "PUT",
            path_contains: "/manifests/".into(),
            fault: Fault::Status500,
            times: 2,
        },
    ]);
    let dst = reg(&proxy.host(), "pushfaults/filter:v1", &options);
    let copied = transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).unwrap();
    assert_eq!(copied.digest, built.manifest_digest);
    assert!(dst.stats().retries >= 4, "{:?}", dst.stats());
    // A manifest put that always fails leaves the new tag absent.
    proxy.set(vec![Rule {
        method: "PUT",
        path_contains: "/manifests/".into(),
        fault: Fault::Status500,
        times: u32::MAX,
    }]);
    let dst = reg(&proxy.host(), "pushfaults/filter:v2", &options);
    assert!(transfer::push(&layout, &Selector::Only, &dst, &mut Quiet).is_err());
    let err = reg(&server.host(), "pushfaults/filter:v2", &plain())
        .resolve()
        .unwrap_err();
    assert!(err.has_code("MANIFEST_UNKNOWN"), "{err}");
    // Wrong bytes in the source are never committed: the upload is refused locally.
    let fake = Digest::sha256_of(b"something else");
    let sink_reg = reg(&server.host(), "pushfaults/fake:v1", &plain());
    let err = sink_reg
        .client()
        .upload_blob("pushfaults/fake", &fake, 5, &mut &b"hello"[..], &mut |_| {})
        .unwrap_err();
    assert!(matches!(err, RegistryError::Store(_)), "{err}");
    assert_eq!(
        sink_reg
            .client()
            .head_blob("pushfaults/fake", &fake)
            .unwrap(),
        None
    );
}
