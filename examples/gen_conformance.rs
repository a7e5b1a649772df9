//! Generates the conformance suite of golden images: `conformance/cases/<id>/`.
//!
//! ```sh
//! cargo run --example gen_conformance -- conformance/cases
//! ```
//!
//! Good images are built with the library's [`ImageBuilder`]; broken ones are
//! derived from them by editing the JSON documents and blobs directly, and
//! written with a small layout writer of their own, so that the generator can
//! write what the library would refuse to. Every byte is a function of the
//! inputs in `testdata/modules` and of this file: no clock, no randomness, no
//! temporary names. The output is committed; `tests/conformance.rs` checks
//! that running the generator again gives identical files.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::Digest as _;
use wasm_image::build::ImageBuilder;
use wasm_image::digest::{Algorithm, Digest};
use wasm_image::media_type as mt;
use wasm_image::store::Layout;
use wasm_image::variant::Variant;

const TITLE: &str = "org.opencontainers.image.title";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const SPIN_LABEL: &str = "com.fermyon.spin.lockedAppDigest";

// ---------------------------------------------------------------------------
// Inputs

fn modules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/modules")
}

fn testdata(name: &str) -> Vec<u8> {
    fs::read(modules_dir().join(name)).unwrap_or_else(|e| panic!("testdata/modules/{name}: {e}"))
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid wat")
}

/// A proxy-wasm-like core module exporting the given exports (WAT fragments).
fn filter_with(exports: &str) -> Vec<u8> {
    wat(&format!(
        r#"(module
  (memory (export "memory") 1)
  (func $marker)
  (global $g i32 (i32.const 0))
  (func $malloc (param i32) (result i32) (i32.const 0))
  (export "malloc" (func $malloc))
  {exports})"#
    ))
}

fn sha256(bytes: &[u8]) -> String {
    Digest::sha256_of(bytes).to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

/// One tar entry; written with fixed headers and the path bytes verbatim
/// (so that `../x` and `/etc/x` can be written).
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        let (path, data, kind, link): (&str, &[u8], _, Option<&str>) = match entry {
            Entry::File(p, d) => (p, d, tar::EntryType::Regular, None),
            Entry::Dir(p) => (p, &[], tar::EntryType::Directory, None),
            Entry::Symlink(p, t) => (p, &[], tar::EntryType::Symlink, Some(t)),
            Entry::Hardlink(p, t) => (p, &[], tar::EntryType::Link, Some(t)),
        };
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        {
            let name = &mut h.as_old_mut().name;
            assert!(path.len() < name.len(), "tar path too long: {path}");
            name[..path.len()].copy_from_slice(path.as_bytes());
            if let Some(link) = link {
                let target = &mut h.as_old_mut().linkname;
                target[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

// ---------------------------------------------------------------------------
// An image in memory

/// An image: its blobs by digest, its manifest, and its `index.json` entry.
#[derive(Clone)]
struct Img {
    blobs: BTreeMap<String, Vec<u8>>,
    manifest: Value,
    /// Used verbatim instead of `manifest` when set.
    manifest_raw: Option<Vec<u8>>,
    /// Extra keys of the `index.json` entry (`platform`, annotations...).
    entry: Value,
    /// Override of the entry's `mediaType`; `Some(None)` leaves it out.
    entry_media_type: Option<Option<String>>,
}

impl Img {
    fn put(&mut self, bytes: &[u8]) -> (String, u64) {
        let d = sha256(bytes);
        self.blobs.insert(d.clone(), bytes.to_vec());
        (d, bytes.len() as u64)
    }

    fn blob(&self, digest: &str) -> Vec<u8> {
        self.blobs[digest].clone()
    }

    fn config_bytes(&self) -> Vec<u8> {
        self.blob(self.manifest["config"]["digest"].as_str().unwrap())
    }

    fn config(&self) -> Value {
        serde_json::from_slice(&self.config_bytes()).expect("JSON config")
    }

    fn set_config_bytes(&mut self, bytes: &[u8]) {
        let (d, s) = self.put(bytes);
        self.manifest_raw = None;
        self.manifest["config"]["digest"] = json!(d);
        self.manifest["config"]["size"] = json!(s);
    }

    fn edit_config(&mut self, edit: impl FnOnce(&mut Value)) {
        let mut config = self.config();
        edit(&mut config);
        self.set_config_bytes(&serde_json::to_vec(&config).unwrap());
    }

    fn layers(&mut self) -> &mut Vec<Value> {
        self.manifest_raw = None;
        self.manifest["layers"].as_array_mut().expect("layers")
    }

    fn layer_bytes(&self, i: usize) -> Vec<u8> {
        self.blob(self.manifest["layers"][i]["digest"].as_str().unwrap())
    }

    fn set_layer(&mut self, i: usize, bytes: &[u8]) {
        let (d, s) = self.put(bytes);
        let layer = &mut self.layers()[i];
        layer["digest"] = json!(d);
        layer["size"] = json!(s);
    }

    fn edit(&mut self, edit: impl FnOnce(&mut Value)) {
        self.manifest_raw = None;
        edit(&mut self.manifest);
    }

    /// For `cncf`: makes `layerDigests` the manifest's layer digests again.
    fn sync_layer_digests(&mut self) {
        let digests: Vec<Value> = self.manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].clone())
            .collect();
        self.edit_config(|c| c["layerDigests"] = Value::Array(digests));
    }

    fn manifest_bytes(&self) -> Vec<u8> {
        self.manifest_raw
            .clone()
            .unwrap_or_else(|| serde_json::to_vec(&self.manifest).unwrap())
    }

    /// The `index.json` entry of this image.
    fn index_entry(&self, tag: Option<&str>) -> Value {
        let bytes = self.manifest_bytes();
        let mut entry = json!({"digest": sha256(&bytes), "size": bytes.len()});
        let media_type = match &self.entry_media_type {
            Some(m) => m.clone(),
            None => Some(
                self.manifest
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .unwrap_or(mt::OCI_MANIFEST)
                    .to_owned(),
            ),
        };
        if let Some(m) = media_type {
            entry["mediaType"] = json!(m);
        }
        if let Some(tag) = tag {
            entry["annotations"] = json!({ REF_NAME: tag });
        }
        if let Value::Object(extra) = &self.entry {
            for (k, v) in extra {
                entry[k] = v.clone();
            }
        }
        entry
    }

    /// The files of a layout holding this image only, tagged `latest`.
    fn files(&self) -> Files {
        Files::of(&[(self, Some("latest"))])
    }
}

/// The files of a layout: relative path → bytes (`None`: a directory).
#[derive(Clone, Default)]
struct Files(BTreeMap<String, Option<Vec<u8>>>);

impl Files {
    fn of(images: &[(&Img, Option<&str>)]) -> Files {
        let mut files = Files::default();
        files.set("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        let mut entries = Vec::new();
        for (img, tag) in images {
            files.put_blob(&img.manifest_bytes());
            for (digest, bytes) in &img.blobs {
                files.set(&blob_path(digest), bytes);
            }
            entries.push(img.index_entry(*tag));
        }
        files.set_index(json!({
            "schemaVersion": 2,
            "mediaType": mt::OCI_INDEX,
            "manifests": entries,
        }));
        files
    }

    fn set(&mut self, path: &str, bytes: &[u8]) {
        self.0.insert(path.to_owned(), Some(bytes.to_vec()));
    }

    fn put_blob(&mut self, bytes: &[u8]) -> String {
        let d = sha256(bytes);
        self.set(&blob_path(&d), bytes);
        d
    }

    fn remove(&mut self, path: &str) {
        assert!(self.0.remove(path).is_some(), "no file {path}");
    }

    fn index(&self) -> Value {
        serde_json::from_slice(self.0["index.json"].as_deref().unwrap()).unwrap()
    }

    fn set_index(&mut self, index: Value) {
        self.set("index.json", &serde_json::to_vec(&index).unwrap());
    }

    fn edit_index(&mut self, edit: impl FnOnce(&mut Value)) {
        let mut index = self.index();
        edit(&mut index);
        self.set_index(index);
    }

    fn write_dir(&self, root: &Path) {
        for (path, content) in &self.0 {
            let p = root.join(path);
            match content {
                Some(bytes) => {
                    fs::create_dir_all(p.parent().unwrap()).unwrap();
                    fs::write(&p, bytes).unwrap();
                }
                None => fs::create_dir_all(&p).unwrap(),
            }
        }
        // A layout has a blobs directory even when empty, unless a case removes it.
        if self.0.keys().any(|k| k.starts_with("blobs/")) {
            fs::create_dir_all(root.join("blobs")).unwrap();
        }
    }

    /// An OCI archive: a tar of the layout, with fixed headers, in path order.
    fn tar(&self) -> Vec<u8> {
        let entries: Vec<Entry<'_>> = self
            .0
            .iter()
            .map(|(p, c)| match c {
                Some(b) => Entry::File(p, b),
                None => Entry::Dir(p),
            })
            .collect();
        tar(&entries)
    }
}

fn blob_path(digest: &str) -> String {
    let (alg, enc) = digest.split_once(':').expect("digest");
    format!("blobs/{alg}/{enc}")
}

/// Builds an image with the library's encoder.
fn build(
    name: &str,
    module: &[u8],
    variant: Variant,
    tweak: impl FnOnce(ImageBuilder) -> ImageBuilder,
) -> Img {
    let dir = tempfile::tempdir().unwrap();
    let module_path = dir.path().join(name);
    fs::write(&module_path, module).unwrap();
    let layout_path = dir.path().join("layout");
    let mut store = Layout::open_or_create(&layout_path).unwrap();
    let builder = tweak(ImageBuilder::new(&module_path).variant(variant));
    let built = builder.build(&mut store, Some("latest")).expect("build");
    let mut blobs = BTreeMap::new();
    for entry in fs::read_dir(layout_path.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let d = format!("sha256:{}", entry.file_name().to_string_lossy());
        blobs.insert(d, fs::read(entry.path()).unwrap());
    }
    let manifest_raw = blobs.remove(built.manifest_digest.as_str()).unwrap();
    Img {
        blobs,
        manifest: serde_json::from_slice(&manifest_raw).unwrap(),
        manifest_raw: Some(manifest_raw),
        entry: json!({}),
        entry_media_type: None,
    }
}

/// A hand-made image: config bytes, config media type, layers (media type, bytes, title).
fn handmade(
    manifest_type: Option<&str>,
    config_type: &str,
    config: &[u8],
    layers: &[(&str, &[u8], Option<&str>)],
) -> Img {
    let mut img = Img {
        blobs: BTreeMap::new(),
        manifest: json!({}),
        manifest_raw: None,
        entry: json!({}),
        entry_media_type: None,
    };
    let (cd, cs) = img.put(config);
    let mut descs = Vec::new();
    for (media_type, bytes, title) in layers {
        let (d, s) = img.put(bytes);
        let mut desc = json!({"mediaType": media_type, "digest": d, "size": s});
        if let Some(t) = title {
            desc["annotations"] = json!({ TITLE: t });
        }
        descs.push(desc);
    }
    img.manifest = json!({
        "schemaVersion": 2,
        "config": {"mediaType": config_type, "digest": cd, "size": cs},
        "layers": descs,
    });
    if let Some(m) = manifest_type {
        img.manifest["mediaType"] = json!(m);
    }
    img
}

// ---------------------------------------------------------------------------
// Base images

struct Modules {
    filter: Vec<u8>,
    hello: Vec<u8>,
    adder: Vec<u8>,
    abi010: Vec<u8>,
    two_markers: Vec<u8>,
    truncated: Vec<u8>,
    not_wasm: Vec<u8>,
}

fn cncf_core(m: &Modules) -> Img {
    build("hello.wasm", &m.hello, Variant::Cncf, |b| b)
}
fn cncf_component(m: &Modules) -> Img {
    build("adder.component.wasm", &m.adder, Variant::Cncf, |b| b)
}
fn compat_oci(m: &Modules) -> Img {
    build("proxy-filter.wasm", &m.filter, Variant::CompatOci, |b| b)
}
fn compat_docker(m: &Modules) -> Img {
    build("proxy-filter.wasm", &m.filter, Variant::CompatDocker, |b| b)
}
fn wasm_oci(m: &Modules) -> Img {
    build("filter.wasm", &m.filter, Variant::WasmOci, |b| b)
}
fn w2o(m: &Modules) -> Img {
    build("hello.wasm", &m.hello, Variant::WasmContentV1, |b| b)
}

/// A runwasi image as `oci-tar-builder` writes it: an OCI image config with
/// `architecture` "wasm", an `Entrypoint` naming the module, empty `diff_ids`,
/// and one raw Wasm layer.
fn runwasi(name: &str, module: &[u8], layer_type: &str) -> Img {
    let config = json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": {"Entrypoint": [name]},
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    handmade(
        Some(mt::OCI_MANIFEST),
        mt::OCI_CONFIG,
        &serde_json::to_vec(&config).unwrap(),
        &[(layer_type, module, None)],
    )
}

fn locked_app(component_digest: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "spin_lock_version": 1,
        "metadata": {"name": "adder", "trigger": {"type": "http"}},
        "triggers": [{"id": "trigger--adder", "trigger_type": "http",
                      "trigger_config": {"component": "adder", "route": "/..."}}],
        "components": [{"id": "adder",
                        "source": {"content_type": "application/wasm",
                                   "source": null,
                                   "digest": component_digest},
                        "files": [{"content": {"digest": sha256(b"hello from spin\n".repeat(16).as_slice())},
                                   "path": "hello.txt"}]}],
    }))
    .unwrap()
}

/// A Spin ≥ 2.0 application as `spin registry push` writes it: no manifest
/// `mediaType`, an OCI image config with the locked-app label, the component,
/// a data layer, and the locked app last.
fn spin(m: &Modules) -> Img {
    let data = b"hello from spin\n".repeat(16);
    let lock = locked_app(&sha256(&m.adder));
    let config = json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": {"Labels": { SPIN_LABEL: sha256(&lock) }},
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    let mut img = handmade(
        None,
        mt::OCI_CONFIG,
        &serde_json::to_vec(&config).unwrap(),
        &[
            (mt::WASM_CONTENT_LAYER_V1, &m.adder, None),
            (mt::WASM_CONTENT_DATA_V1, &data, None),
            (mt::SPIN_APPLICATION_CONFIG, &lock, None),
        ],
    );
    img.edit(|man| {
        man["annotations"] = json!({
            "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
            "org.opencontainers.image.title": "adder",
            "org.opencontainers.image.version": "0.1.0",
        })
    });
    img
}

/// A Spin < 2.0 application: the locked app is the config.
fn spin_v1(m: &Modules) -> Img {
    let lock = locked_app(&sha256(&m.adder));
    handmade(
        None,
        mt::SPIN_APPLICATION_CONFIG,
        &lock,
        &[(mt::WASM_CONTENT_LAYER_V1, &m.adder, None)],
    )
}

/// A compat-oci image whose layer holds the given tar entries (gzip-compressed
/// unless `raw`), with `diff_ids` right.
fn compat_with(m: &Modules, tar_bytes: &[u8]) -> Img {
    let mut img = compat_oci(m);
    img.set_layer(0, &gzip(tar_bytes));
    let diff = sha256(tar_bytes);
    img.edit_config(|c| c["rootfs"]["diff_ids"] = json!([diff]));
    img
}

// ---------------------------------------------------------------------------
// Cases

struct Case {
    id: String,
    description: String,
    rule: String,
    valid: bool,
    variant: &'static str,
    codes: Vec<&'static str>,
    options: Option<Value>,
    files: Files,
    archive: bool,
    /// Written as `image.tar` verbatim instead of the files.
    archive_bytes: Option<Vec<u8>>,
    /// Appended to the image path to select one image (`:TAG`, `@DIGEST`).
    select: Option<String>,
    /// Why the case, valid as it is, fails under `--strict`.
    strict_reason: Option<String>,
}

#[derive(Default)]
struct Suite(Vec<Case>);

impl Suite {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        id: &str,
        rule: &str,
        description: &str,
        valid: bool,
        variant: &'static str,
        codes: &[&'static str],
        files: Files,
    ) -> &mut Case {
        assert!(self.0.iter().all(|c| c.id != id), "duplicate case id {id}");
        self.0.push(Case {
            id: id.to_owned(),
            description: description.to_owned(),
            rule: rule.to_owned(),
            valid,
            variant,
            codes: codes.to_vec(),
            options: None,
            files,
            archive: false,
            archive_bytes: None,
            select: None,
            strict_reason: None,
        });
        self.0.last_mut().unwrap()
    }

    /// A failing case: invalid, with `code` expected.
    fn fail(
        &mut self,
        id: &str,
        code: &'static str,
        description: &str,
        variant: &'static str,
        files: Files,
    ) -> &mut Case {
        self.add(id, code, description, false, variant, &[code], files)
    }

    /// A case that stays valid but must report `code` (a warning or info);
    /// a warning makes it fail under `--strict`, which its case.json says.
    fn note(
        &mut self,
        id: &str,
        code: &'static str,
        description: &str,
        variant: &'static str,
        files: Files,
    ) -> &mut Case {
        let warning = wasm_image::rules::rule(code)
            .is_some_and(|r| r.severity == wasm_image::rules::Severity::Warning);
        let case = self.add(id, code, description, true, variant, &[code], files);
        if warning {
            case.strict_reason = Some(format!(
                "{code} is a warning, which --strict counts as an error"
            ));
        }
        case
    }

    fn pass(
        &mut self,
        id: &str,
        description: &str,
        variant: &'static str,
        files: Files,
    ) -> &mut Case {
        self.add(id, "pass", description, true, variant, &[], files)
    }
}

impl Case {
    fn options(&mut self, options: Value) -> &mut Self {
        self.options = Some(options);
        self
    }
    fn codes(&mut self, codes: &[&'static str]) -> &mut Self {
        self.codes = codes.to_vec();
        self
    }
    fn archive(&mut self) -> &mut Self {
        self.archive = true;
        self
    }
    fn select(&mut self, select: &str) -> &mut Self {
        self.select = Some(select.to_owned());
        self
    }
}

fn modules() -> Modules {
    Modules {
        filter: testdata("proxy-filter.wasm"),
        hello: testdata("hello.wasm"),
        adder: testdata("adder.component.wasm"),
        abi010: testdata("abi-0_1_0.wasm"),
        two_markers: testdata("two-markers.wasm"),
        truncated: testdata("truncated.wasm"),
        not_wasm: testdata("not-wasm.txt"),
    }
}

fn passing(s: &mut Suite, m: &Modules) {
    s.pass(
        "pass-cncf-core",
        "A core module (WASI command) built as cncf by the encoder.",
        "cncf",
        cncf_core(m).files(),
    );
    s.pass(
        "pass-cncf-component",
        "A component built as cncf by the encoder (os wasip2, component imports/exports).",
        "cncf",
        cncf_component(m).files(),
    )
    .codes(&["WI-WASM-008"]);
    s.pass(
        "pass-cncf-archive",
        "A cncf component in an OCI archive (image.tar) instead of a layout directory.",
        "cncf",
        cncf_component(m).files(),
    )
    .archive();
    s.pass(
        "pass-compat-oci",
        "A proxy-wasm filter built as compat-oci (the encoder's default for filters).",
        "compat-oci",
        compat_oci(m).files(),
    )
    .codes(&["WI-ABI-001"]);
    s.pass(
        "pass-compat-oci-runtime-config",
        "A compat-oci filter (ABI 0.1.0) whose layer also holds runtime-config.json.",
        "compat-oci",
        build("abi-0_1_0.wasm", &m.abi010, Variant::CompatOci, |b| {
            b.runtime_config(br#"{"type":"envoy_proxy","abiVersions":["v0.1.0"]}"#.to_vec())
        })
        .files(),
    );
    s.pass(
        "pass-compat-docker",
        "A proxy-wasm filter built as compat-docker.",
        "compat-docker",
        compat_docker(m).files(),
    );
    s.pass(
        "pass-compat-docker-archive",
        "A compat-docker filter (ABI 0.1.0) in an OCI archive.",
        "compat-docker",
        build("abi-0_1_0.wasm", &m.abi010, Variant::CompatDocker, |b| b).files(),
    )
    .archive();
    s.pass(
        "pass-wasm-oci",
        "A proxy-wasm filter built as wasm-oci (runtime config derived from the module).",
        "wasm-oci",
        wasm_oci(m).files(),
    );
    s.pass(
        "pass-wasm-oci-abi-0_1_0",
        "A wasm-oci filter that declares ABI 0.1.0, with user annotations.",
        "wasm-oci",
        build("filter.wasm", &m.abi010, Variant::WasmOci, |b| {
            b.annotation(
                "org.opencontainers.image.source",
                "https://example.com/filter",
            )
        })
        .files(),
    );
    s.pass(
        "pass-wasm-content-v1",
        "A core module built as wasm-content-v1 (wasm-to-oci / Kubewarden layout).",
        "wasm-content-v1",
        w2o(m).files(),
    )
    .codes(&["WI-W2O-005"]);
    let policy = wat(
        r#"(module (@custom "io.kubewarden.metadata" "{\"rules\":[]}") (memory (export "memory") 1))"#,
    );
    s.pass(
        "pass-wasm-content-v1-kubewarden",
        "A Kubewarden-style policy module (with the io.kubewarden.metadata section) as wasm-content-v1.",
        "wasm-content-v1",
        build("policy.wasm", &policy, Variant::WasmContentV1, |b| b).files(),
    );
    s.pass(
        "pass-wasm-content-v1-component",
        "A component as wasm-content-v1 (both kinds are accepted).",
        "wasm-content-v1",
        build(
            "adder.component.wasm",
            &m.adder,
            Variant::WasmContentV1,
            |b| b,
        )
        .files(),
    );
    s.pass(
        "pass-runwasi-component",
        "A runwasi image as oci-tar-builder writes it: OCI config with architecture wasm, one component layer.",
        "runwasi",
        runwasi("adder.component.wasm", &m.adder, mt::RUNWASI_COMPONENT_LAYER).files(),
    )
    .codes(&["WI-RUNWASI-004"]);
    s.pass(
        "pass-runwasi-application-wasm",
        "A runwasi image whose single layer is application/wasm holding a WASI command.",
        "runwasi",
        runwasi("hello.wasm", &m.hello, mt::WASM_LAYER).files(),
    );
    s.pass(
        "pass-spin",
        "A Spin 2.x application: component, data file, locked app last, lockedAppDigest label.",
        "spin",
        spin(m).files(),
    );
    s.pass(
        "pass-spin-v1",
        "A Spin 1.x application: the locked app is the config.",
        "spin",
        spin_v1(m).files(),
    );
    let a = cncf_core(m);
    let b = cncf_component(m);
    s.pass(
        "pass-layout-two-images",
        "A layout holding two cncf images (tags core and component); validated whole.",
        "cncf",
        Files::of(&[(&a, Some("core")), (&b, Some("component"))]),
    );
}

fn layout_cases(s: &mut Suite, m: &Modules) {
    let mut f = cncf_core(m).files();
    f.remove("oci-layout");
    s.fail(
        "layout-no-oci-layout",
        "WI-LAYOUT-001",
        "The oci-layout file is missing.",
        "cncf",
        f,
    );
    let mut f = cncf_core(m).files();
    f.set("oci-layout", br#"{"imageLayoutVersion":"2.0.0"}"#);
    s.fail(
        "layout-version-2",
        "WI-LAYOUT-001",
        "oci-layout names imageLayoutVersion 2.0.0.",
        "cncf",
        f,
    );
    let mut f = cncf_core(m).files();
    f.remove("index.json");
    s.fail(
        "layout-no-index",
        "WI-LAYOUT-002",
        "index.json is missing; no image can be found.",
        "unknown",
        f,
    );
    let mut f = cncf_core(m).files();
    f.0.retain(|k, _| !k.starts_with("blobs/"));
    s.fail(
        "layout-no-blobs-dir",
        "WI-LAYOUT-003",
        "The blobs directory is missing.",
        "unknown",
        f,
    );
    let mut f = cncf_core(m).files();
    f.set("blobs/sha256/not-a-digest", b"stray");
    s.fail(
        "layout-bad-blob-path",
        "WI-LAYOUT-004",
        "A file under blobs/ is not at blobs/<alg>/<encoded> with a valid digest.",
        "cncf",
        f,
    );
    let img = cncf_core(m);
    let mut f = img.files();
    let layer = img.manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut corrupt = img.layer_bytes(0);
    corrupt[9] ^= 0xff;
    f.set(&blob_path(&layer), &corrupt);
    s.fail(
        "blob-corrupt-layer",
        "WI-BLOB-002",
        "The layer blob was altered in place (same length): it does not hash to its descriptor's digest.",
        "cncf",
        f,
    );
    let mut f = img.files();
    let stray = sha256(b"the content this path names");
    f.set(&blob_path(&stray), b"other content under that name");
    s.fail(
        "layout-stray-blob-wrong-content",
        "WI-LAYOUT-005",
        "An unreferenced blob's content does not hash to the digest its path names.",
        "cncf",
        f,
    );
    let mut f = img.files();
    f.remove(&blob_path(
        img.manifest["config"]["digest"].as_str().unwrap(),
    ));
    s.fail(
        "layout-missing-config",
        "WI-LAYOUT-006",
        "The config blob is missing from the layout.",
        "cncf",
        f,
    );
    let mut f = img.files();
    let manifest = img.index_entry(None)["digest"].as_str().unwrap().to_owned();
    f.remove(&blob_path(&manifest));
    s.fail(
        "layout-missing-manifest",
        "WI-LAYOUT-006",
        "The manifest blob named by index.json is missing.",
        "unknown",
        f,
    );
    let mut f = img.files();
    f.remove(&blob_path(&layer));
    s.note(
        "layout-missing-layer",
        "WI-LAYOUT-007",
        "The layer blob is missing: allowed by the image spec, a warning here (the payload cannot be checked).",
        "cncf",
        f,
    );
    let mut f = img.files();
    f.remove(&blob_path(&layer));
    f.0.insert(blob_path(&layer), None);
    f.set(
        &format!("{}/README", blob_path(&layer)),
        b"a directory where a blob belongs\n",
    );
    s.fail(
        "layout-blob-is-directory",
        "WI-LAYOUT-008",
        "The path of the layer blob is a directory, not a regular file.",
        "cncf",
        f,
    );
}

fn blob_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| {
        let size = man["layers"][0]["size"].as_u64().unwrap();
        man["layers"][0]["size"] = json!(size + 1);
    });
    s.fail(
        "blob-size-mismatch",
        "WI-BLOB-001",
        "The layer descriptor's size is one more than the blob's length.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        let size = man["config"]["size"].as_u64().unwrap();
        man["config"]["size"] = json!(size - 1);
    });
    s.fail(
        "blob-config-size-short",
        "WI-BLOB-001",
        "The config descriptor's size is one less than the blob's length.",
        "cncf",
        img.files(),
    );
    let img = cncf_core(m);
    let mut f = img.files();
    let config = img.manifest["config"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bytes = img.config_bytes();
    let pos = bytes.iter().position(|&b| b == b'1').unwrap();
    bytes[pos] = b'2';
    f.set(&blob_path(&config), &bytes);
    s.fail(
        "blob-config-digest-mismatch",
        "WI-BLOB-002",
        "The config blob was altered in place (1970 became 2970): right length, wrong digest.",
        "cncf",
        f,
    );
}

fn digest_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["digest"] = json!("sha256"));
    s.fail(
        "digest-no-colon",
        "WI-DIGEST-001",
        "The layer digest is `sha256`, without a colon and an encoded part.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        let d = man["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .to_uppercase()
            .replacen("SHA256", "sha256", 1);
        man["layers"][0]["digest"] = json!(d);
    });
    s.fail(
        "digest-uppercase-hex",
        "WI-DIGEST-002",
        "The layer digest uses upper-case hex.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        let d = man["config"]["digest"].as_str().unwrap()[..70].to_owned();
        man["config"]["digest"] = json!(d);
    });
    s.fail(
        "digest-short-hex",
        "WI-DIGEST-002",
        "The config digest has 63 hex characters.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    let sha384 = hex::encode(sha2::Sha384::digest(b"subject"));
    img.edit(|man| {
        man["subject"] =
            json!({"mediaType": mt::OCI_MANIFEST, "digest": format!("sha384:{sha384}"), "size": 7})
    });
    s.note(
        "digest-unknown-algorithm",
        "WI-DIGEST-003",
        "The manifest's subject uses sha384, an algorithm the image spec does not register.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    let module = img.layer_bytes(0);
    let d512 = Digest::of(Algorithm::Sha512, &module).to_string();
    img.blobs.insert(d512.clone(), module);
    img.edit(|man| man["layers"][0]["digest"] = json!(d512));
    img.sync_layer_digests();
    let old = sha256(&m.hello);
    img.blobs.remove(&old);
    s.note(
        "digest-sha512-layer",
        "WI-DIGEST-004",
        "The layer is addressed by a sha512 digest.",
        "cncf",
        img.files(),
    );
}

fn desc_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| {
        man["layers"][0].as_object_mut().unwrap().remove("size");
    });
    s.fail(
        "desc-missing-size",
        "WI-DESC-001",
        "The layer descriptor has no size.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["config"]["digest"] = json!(42));
    s.fail(
        "desc-digest-not-string",
        "WI-DESC-001",
        "The config descriptor's digest is a number.",
        "cncf",
        img.files(),
    );
    let mut img = compat_oci(m);
    img.edit(|man| {
        man["subject"] = json!({"mediaType": "application", "digest": sha256(b"x"), "size": 1})
    });
    s.fail(
        "desc-media-type-no-subtype",
        "WI-DESC-002",
        "The subject descriptor's mediaType is `application`, without a subtype.",
        "compat-oci",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["size"] = json!(-1));
    s.fail(
        "desc-negative-size",
        "WI-DESC-003",
        "The layer descriptor's size is -1.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        let size = man["layers"][0]["size"].as_u64().unwrap();
        man["layers"][0]["size"] = json!(size as f64);
    });
    s.fail(
        "desc-float-size",
        "WI-DESC-003",
        "The layer descriptor's size is written as a float (173.0).",
        "cncf",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| man["config"]["data"] = json!("e30"));
    s.fail(
        "desc-data-unpadded",
        "WI-DESC-004",
        "The config descriptor's data is unpadded base64 (`e30` for `{}`).",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| man["config"]["data"] = json!("W10="));
    s.fail(
        "desc-data-differs",
        "WI-DESC-005",
        "The config descriptor's data decodes to `[]`, not the blob `{}`.",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["urls"] = json!(["not a uri"]));
    s.fail(
        "desc-relative-url",
        "WI-DESC-006",
        "A layer url is `not a uri`.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["artifactType"] = json!("wasm"));
    s.fail(
        "desc-bad-artifact-type",
        "WI-DESC-007",
        "The layer descriptor's artifactType is `wasm`.",
        "cncf",
        img.files(),
    );
}

fn manifest_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.manifest_raw = Some(b"this is not JSON\n".to_vec());
    s.fail(
        "manifest-not-json",
        "WI-MANIFEST-001",
        "The manifest blob is text, not JSON.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.manifest_raw = Some(b"[2]".to_vec());
    s.fail(
        "manifest-array",
        "WI-MANIFEST-001",
        "The manifest is a JSON array.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    let mut raw = serde_json::to_vec(&img.manifest).unwrap();
    raw.splice(1..1, b"\"\xff\xfe\":\"x\",".iter().copied());
    img.manifest_raw = Some(raw);
    s.fail(
        "manifest-not-utf8",
        "WI-MANIFEST-001",
        "The manifest holds bytes that are not UTF-8.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["schemaVersion"] = json!(1));
    s.fail(
        "manifest-schema-version-1",
        "WI-MANIFEST-002",
        "schemaVersion is 1; the rest of the manifest is still checked.",
        "cncf",
        img.files(),
    );
    let mut img = compat_oci(m);
    img.edit(|man| man["schemaVersion"] = json!("2"));
    s.fail(
        "manifest-schema-version-string",
        "WI-MANIFEST-002",
        "schemaVersion is the string \"2\".",
        "compat-oci",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| {
        man.as_object_mut().unwrap().remove("mediaType");
    });
    s.note(
        "manifest-no-media-type",
        "WI-MANIFEST-003",
        "A wasm-content-v1 manifest without mediaType (as Kubewarden pushes it).",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = compat_oci(m);
    img.edit(|man| man["mediaType"] = json!("application/vnd.example.manifest.v1+json"));
    // index.json calls it an OCI manifest: an entry of an unknown type would be skipped.
    img.entry_media_type = Some(Some(mt::OCI_MANIFEST.to_owned()));
    s.fail(
        "manifest-unknown-media-type",
        "WI-MANIFEST-004",
        "The manifest's mediaType is neither the OCI nor the Docker manifest type.",
        "compat-oci",
        img.files(),
    );
    let mut img = compat_oci(m);
    img.entry_media_type = Some(Some(mt::DOCKER_MANIFEST.to_owned()));
    s.fail(
        "manifest-index-type-mismatch",
        "WI-MANIFEST-005",
        "index.json says Docker schema 2 for an OCI manifest.",
        "compat-oci",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        man.as_object_mut().unwrap().remove("config");
    });
    s.fail(
        "manifest-no-config",
        "WI-MANIFEST-006",
        "The manifest has no config.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"] = man["layers"][0].clone());
    s.fail(
        "manifest-layers-object",
        "WI-MANIFEST-006",
        "The manifest's layers is an object, not an array.",
        "cncf",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| man["layers"] = json!([]));
    s.fail(
        "manifest-no-layers",
        "WI-MANIFEST-007",
        "The manifest's layers is empty.",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| man["config"]["mediaType"] = json!(mt::OCI_EMPTY));
    s.fail(
        "manifest-empty-config-no-artifact-type",
        "WI-MANIFEST-008",
        "The config is the empty descriptor type but the manifest has no artifactType.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["artifactType"] = json!("wasm module"));
    s.fail(
        "manifest-bad-artifact-type",
        "WI-MANIFEST-009",
        "The manifest's artifactType is `wasm module`.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["subject"] = json!(sha256(b"x")));
    s.fail(
        "manifest-subject-string",
        "WI-MANIFEST-010",
        "The manifest's subject is a digest string, not a descriptor.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["subject"] = json!({"mediaType": mt::OCI_MANIFEST}));
    s.fail(
        "manifest-subject-incomplete",
        "WI-DESC-001",
        "The manifest's subject lacks digest and size: a descriptor finding, and not a valid subject.",
        "cncf",
        img.files(),
    )
    .codes(&["WI-DESC-001", "WI-MANIFEST-010"]);
    let mut img = cncf_core(m);
    img.edit(|man| man["subject"] = json!({"mediaType": mt::OCI_MANIFEST, "size": 2, "digest": 7}));
    s.fail(
        "manifest-subject-digest-number",
        "WI-MANIFEST-010",
        "The manifest's subject is an object whose digest is a number: not a valid descriptor.",
        "cncf",
        img.files(),
    )
    .codes(&["WI-MANIFEST-010", "WI-DESC-001"]);
}

fn index_cases(s: &mut Suite, m: &Modules) {
    let mut f = cncf_core(m).files();
    f.edit_index(|i| i["schemaVersion"] = json!(1));
    s.fail(
        "index-schema-version-1",
        "WI-INDEX-001",
        "index.json has schemaVersion 1.",
        "cncf",
        f,
    );
    let mut f = cncf_core(m).files();
    f.set("index.json", b"{\"schemaVersion\":2,\"manifests\":[");
    s.fail(
        "index-truncated",
        "WI-LAYOUT-002",
        "index.json is cut off: not an image index, so no image is found.",
        "unknown",
        f,
    );
    let mut f = cncf_core(m).files();
    f.edit_index(|i| i["mediaType"] = json!(mt::OCI_MANIFEST));
    s.fail(
        "index-wrong-media-type",
        "WI-INDEX-002",
        "index.json's mediaType is the manifest type.",
        "cncf",
        f,
    );
    let mut f = cncf_core(m).files();
    f.edit_index(|i| i["manifests"] = json!({}));
    s.fail(
        "index-manifests-object",
        "WI-INDEX-003",
        "index.json's manifests is an object.",
        "unknown",
        f,
    );
    let mut img = cncf_core(m);
    img.entry = json!({"platform": {"architecture": "wasm"}});
    s.fail(
        "index-platform-no-os",
        "WI-INDEX-004",
        "An index.json entry's platform has no os.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.entry = json!({"platform": {"architecture": "wasm", "os": "wasip1", "os_version": "1"}});
    s.note(
        "index-platform-os-version",
        "WI-INDEX-005",
        "A platform uses os_version instead of os.version (as oci-spec-rs writes it).",
        "cncf",
        img.files(),
    );
    // A nested index that lists only a Wasm platform.
    let img = cncf_core(m);
    let mut f = img.files();
    let entry = {
        let mut e = img.index_entry(None);
        e["platform"] = json!({"architecture": "wasm", "os": "wasip1"});
        e
    };
    let nested = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": mt::OCI_INDEX, "manifests": [entry]}),
    )
    .unwrap();
    let nd = f.put_blob(&nested);
    f.edit_index(|i| {
        i["manifests"] = json!([{"mediaType": mt::OCI_INDEX, "digest": nd, "size": nested.len(),
                                 "annotations": {REF_NAME: "latest"}}])
    });
    s.note(
        "index-nested-no-linux-amd64",
        "WI-INDEX-006",
        "index.json points at a nested image index whose only entry is wasm/wasip1, so Istio and oci-client tools find no image.",
        "cncf",
        f,
    );
    // An entry of a type that is not a manifest: skipped, and said.
    let img = cncf_core(m);
    let mut f = img.files();
    let other = br#"{"kind":"not an image"}"#;
    let od = f.put_blob(other);
    f.edit_index(|i| {
        let entries = i["manifests"].as_array_mut().unwrap();
        entries.push(
            json!({"mediaType": "application/vnd.example.thing.v1+json", "digest": od,
                            "size": other.len()}),
        );
    });
    s.note(
        "index-entry-unknown-media-type",
        "WI-INDEX-008",
        "index.json has a second entry whose mediaType is not a manifest or index type: it is skipped (as the image spec requires) and reported as info; the image stays valid.",
        "cncf",
        f,
    );
}

fn annot_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| man["annotations"] = json!({"com.example.count": 3}));
    s.fail(
        "annot-number-value",
        "WI-ANNOT-001",
        "A manifest annotation value is a number.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["annotations"] = json!(["plugin.wasm"]));
    s.fail(
        "annot-array",
        "WI-ANNOT-001",
        "A layer's annotations is an array.",
        "cncf",
        img.files(),
    );
    let img = cncf_core(m);
    let f = Files::of(&[(&img, Some("-bad tag-"))]);
    s.fail(
        "annot-bad-ref-name",
        "WI-ANNOT-002",
        "The index.json entry's ref.name is `-bad tag-`.",
        "cncf",
        f,
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["annotations"] = json!({"org.opencontainers.image.created": "yesterday"}));
    s.fail(
        "annot-bad-created",
        "WI-ANNOT-003",
        "org.opencontainers.image.created is `yesterday`.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["annotations"] = json!({"org.opencontainers.image.colour": "blue"}));
    s.note(
        "annot-reserved-prefix",
        "WI-ANNOT-004",
        "An undefined key under the reserved org.opencontainers. prefix.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["annotations"][TITLE] = json!("../../etc/hello.wasm"));
    s.note(
        "annot-title-path",
        "WI-ANNOT-005",
        "The layer title is a path that leaves the target directory.",
        "cncf",
        img.files(),
    );
}

fn limit_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| man["annotations"] = json!({"com.example.padding": "x".repeat(1200)}));
    s.fail(
        "limit-manifest-too-large",
        "WI-LIMIT-006",
        "A manifest of about 1.6 KB checked with max_manifest_bytes 1024: stands in for a 100 MB manifest without committing 100 MB. The descriptor declares the size, so the manifest is refused unread.",
        "unknown",
        img.files(),
    )
    .options(json!({"max_manifest_bytes": 1024}));
    let mut img = cncf_core(m);
    img.edit_config(|c| c["padding"] = json!("x".repeat(2000)));
    s.fail("limit-config-too-large", "WI-LIMIT-006", "A config of about 2.2 KB checked with max_config_bytes 1024: refused on its declared size.", "cncf", img.files())
        .options(json!({"max_config_bytes": 1024}));
    let mut f = cncf_core(m).files();
    f.edit_index(|i| i["annotations"] = json!({"com.example.padding": "x".repeat(1200)}));
    s.fail(
        "limit-index-too-large",
        "WI-LIMIT-001",
        "index.json of about 1.5 KB checked with max_index_bytes 1024 (index.json has no descriptor, so its length is checked).",
        "unknown",
        f,
    )
    .options(json!({"max_index_bytes": 1024}));
    let mut img = cncf_core(m);
    let mut raw = b"{\"schemaVersion\":2,\"x\":".to_vec();
    raw.extend(std::iter::repeat_n(b'[', 10_000));
    raw.extend(std::iter::repeat_n(b']', 10_000));
    raw.push(b'}');
    img.manifest_raw = Some(raw);
    s.fail(
        "limit-manifest-nested-10000",
        "WI-LIMIT-002",
        "A manifest whose arrays nest 10,000 deep.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    let mut config = img.config_bytes();
    config.pop();
    config.extend(b",\"x\":");
    config.extend(std::iter::repeat_n(b'[', 65));
    config.extend(std::iter::repeat_n(b']', 65));
    config.push(b'}');
    img.set_config_bytes(&config);
    s.fail(
        "limit-config-nested-65",
        "WI-LIMIT-002",
        "A cncf config with arrays nested 65 deep (one over the bound).",
        "cncf",
        img.files(),
    );
    let entries: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("f{i}.txt"), vec![b'a'; 1]))
        .collect();
    let mut list: Vec<Entry<'_>> = entries.iter().map(|(p, d)| Entry::File(p, d)).collect();
    list.push(Entry::File("plugin.wasm", &m.filter));
    s.fail(
        "limit-tar-entries",
        "WI-LIMIT-003",
        "A compat layer of 7 entries checked with max_tar_entries 5.",
        "compat-oci",
        compat_with(m, &tar(&list)).files(),
    )
    .options(json!({"max_tar_entries": 5}));
    let filler = vec![0u8; 8192];
    s.fail(
        "limit-decompressed-size",
        "WI-LIMIT-004",
        "A compat layer decompressing to about 11 KB checked with max_decompressed_bytes 4096.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::File("zeros", &filler),
            ]),
        )
        .files(),
    )
    .options(json!({"max_decompressed_bytes": 4096}));
    let zeros = vec![0u8; 6 << 20];
    s.fail(
        "limit-gzip-bomb",
        "WI-LIMIT-005",
        "A gzip bomb: a compat layer of a few KB that inflates to 6 MiB of zeros (ratio far above 100:1 past the first MiB).",
        "compat-oci",
        compat_with(m, &tar(&[Entry::File("plugin.wasm", &m.filter), Entry::File("zeros", &zeros)])).files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["size"] = json!(1u64 << 62));
    s.fail(
        "limit-declared-size-2-62",
        "WI-LIMIT-006",
        "The layer descriptor declares 2^62 bytes; nothing is read.",
        "cncf",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.edit(|man| man["config"]["size"] = json!(5u64 << 20));
    s.fail(
        "limit-declared-config-size",
        "WI-LIMIT-006",
        "The config descriptor declares 5 MiB, over the document bound.",
        "wasm-oci",
        img.files(),
    );
}

fn wasm_cases(s: &mut Suite, m: &Modules) {
    let cncf_payload = |payload: &[u8]| {
        let mut img = cncf_core(m);
        img.set_layer(0, payload);
        img.sync_layer_digests();
        img
    };
    s.fail(
        "wasm-too-short",
        "WI-WASM-001",
        "The payload is the 4 bytes `\\0asm`.",
        "cncf",
        cncf_payload(b"\0asm").files(),
    );
    s.fail(
        "wasm-empty",
        "WI-WASM-001",
        "The payload is empty.",
        "cncf",
        cncf_payload(b"").files(),
    );
    s.fail(
        "wasm-bad-magic",
        "WI-WASM-002",
        "The payload is a text file.",
        "cncf",
        cncf_payload(&m.not_wasm).files(),
    );
    s.fail(
        "wasm-bad-version",
        "WI-WASM-003",
        "The preamble's version bytes are 02 00 00 00.",
        "cncf",
        cncf_payload(b"\0asm\x02\0\0\0").files(),
    );
    let invalid = wat(r#"(module (func (export "f") (result i32) (i64.const 0)))"#);
    s.fail(
        "wasm-type-mismatch",
        "WI-WASM-004",
        "A function returns i64 where i32 is declared: well framed, invalid.",
        "cncf",
        cncf_payload(&invalid).files(),
    );
    let img = compat_with(m, &tar(&[Entry::File("plugin.wasm", &m.truncated)]));
    s.fail(
        "wasm-truncated",
        "WI-WASM-005",
        "plugin.wasm is proxy-filter.wasm cut inside its code section.",
        "compat-oci",
        img.files(),
    );
    s.fail(
        "wasm-section-past-end",
        "WI-WASM-005",
        "A type section declares 127 bytes and 1 follows.",
        "cncf",
        cncf_payload(b"\0asm\x01\0\0\0\x01\x7f\x00").files(),
    );
    s.fail(
        "wasm-ends-in-header",
        "WI-WASM-006",
        "The payload ends right after a section id.",
        "cncf",
        cncf_payload(b"\0asm\x01\0\0\0\x01").files(),
    );
    s.fail(
        "wasm-leb-too-long",
        "WI-WASM-006",
        "A section size is a LEB128 of 6 bytes.",
        "cncf",
        cncf_payload(b"\0asm\x01\0\0\0\x00\x80\x80\x80\x80\x80\x00").files(),
    );
    s.note(
        "wasm-over-consumer-limit",
        "WI-WASM-007",
        "A filter checked with consumer_max_module_bytes 1024 (stands in for a 256 MiB module).",
        "compat-oci",
        compat_oci(m).files(),
    )
    .options(json!({"consumer_max_module_bytes": 1024}));
    s.note(
        "wasm-component-names",
        "WI-WASM-008",
        "A cncf component: its top-level imports and exports are listed.",
        "cncf",
        cncf_component(m).files(),
    );
    s.fail(
        "wasm-gzip-wrapped",
        "WI-WASM-009",
        "The application/wasm layer is the module gzip-compressed.",
        "cncf",
        cncf_payload(&gzip(&m.hello)).files(),
    );
    let mut w = w2o(m);
    w.set_layer(0, &tar(&[Entry::File("hello.wasm", &m.hello)]));
    s.fail(
        "wasm-tar-wrapped",
        "WI-WASM-009",
        "The wasm-content-v1 layer is a tar holding the module.",
        "wasm-content-v1",
        w.files(),
    );
    s.note(
        "wasm-no-validate",
        "WI-ABI-001",
        "A type-mismatched module checked with validate_wasm false: structural validation is skipped.",
        "compat-oci",
        compat_with(m, &tar(&[Entry::File("plugin.wasm", &filter_with(r#"(func (export "proxy_abi_version_0_2_1")) (func (export "bad") (result i32) (i64.const 0))"#))])).files(),
    )
    .options(json!({"validate_wasm": false}));
}

fn abi_cases(s: &mut Suite, m: &Modules) {
    s.note(
        "abi-marker-info",
        "WI-ABI-001",
        "A filter exporting proxy_abi_version_0_2_1: the detected ABI is reported.",
        "compat-oci",
        compat_oci(m).files(),
    );
    s.note(
        "abi-two-markers",
        "WI-ABI-002",
        "A filter exporting two ABI markers (0.2.0 first, then 0.2.1).",
        "compat-oci",
        build(
            "two-markers.wasm",
            &m.two_markers,
            Variant::CompatOci,
            |b| b,
        )
        .files(),
    );
    let global_marker = filter_with(
        r#"(export "proxy_abi_version_0_2_0" (global $g)) (export "proxy_abi_version_0_2_1" (func $marker))"#,
    );
    s.note(
        "abi-marker-not-function",
        "WI-ABI-003",
        "proxy_abi_version_0_2_0 is exported as a global (skipped by hosts); a function marker 0.2.1 follows.",
        "compat-oci",
        build("filter.wasm", &global_marker, Variant::CompatOci, |b| b).files(),
    );
    let unknown_marker = filter_with(
        r#"(export "proxy_abi_version_0_3_0" (func $marker)) (export "proxy_abi_version_0_2_1" (func $marker))"#,
    );
    s.note(
        "abi-unknown-version",
        "WI-ABI-004",
        "A filter exporting proxy_abi_version_0_3_0 (unreleased) beside 0.2.1.",
        "compat-oci",
        build("filter.wasm", &unknown_marker, Variant::CompatOci, |b| b).files(),
    );
    s.fail(
        "abi-no-marker-compat",
        "WI-ABI-005",
        "A WASI command without ABI marker as plugin.wasm of a compat-oci image.",
        "compat-oci",
        build("hello.wasm", &m.hello, Variant::CompatOci, |b| b).files(),
    );
    let mut img = wasm_oci(m);
    img.set_layer(1, &m.hello);
    s.fail(
        "abi-no-marker-wasm-oci",
        "WI-ABI-005",
        "A wasm-oci image whose module exports no ABI marker.",
        "wasm-oci",
        img.files(),
    );
}

fn cncf_cases(s: &mut Suite, m: &Modules) {
    let mut img = cncf_core(m);
    img.edit(|man| {
        man.as_object_mut().unwrap().remove("mediaType");
    });
    s.fail(
        "cncf-no-manifest-media-type",
        "WI-CNCF-001",
        "A cncf manifest without mediaType (oci-wasm refuses it).",
        "cncf",
        img.files(),
    )
    .codes(&["WI-CNCF-001", "WI-MANIFEST-003"]);
    let mut img = cncf_core(m);
    img.edit(|man| {
        let l = man["layers"][0].clone();
        man["layers"].as_array_mut().unwrap().push(l);
    });
    img.sync_layer_digests();
    s.fail(
        "cncf-two-layers",
        "WI-CNCF-002",
        "A cncf manifest with two layers (the same module twice).",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["layers"][0]["mediaType"] = json!("application/octet-stream"));
    s.fail(
        "cncf-layer-type",
        "WI-CNCF-003",
        "The cncf layer's media type is application/octet-stream.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| {
        man["layers"][0]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
    });
    s.note(
        "cncf-no-title",
        "WI-CNCF-004",
        "The cncf layer has no title annotation.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.set_config_bytes(b"[]");
    s.fail(
        "cncf-config-array",
        "WI-CNCF-005",
        "The cncf config is a JSON array.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| c["os"] = json!(2));
    s.fail(
        "cncf-config-os-number",
        "WI-CNCF-005",
        "The cncf config's os is a number.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| c["architecture"] = json!("wasm32"));
    s.fail(
        "cncf-architecture-wasm32",
        "WI-CNCF-006",
        "The cncf config's architecture is wasm32.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| c["os"] = json!("wasi"));
    s.fail(
        "cncf-os-wasi",
        "WI-CNCF-006",
        "The cncf config's os is wasi.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| {
        c.as_object_mut().unwrap().remove("created");
    });
    s.fail(
        "cncf-no-created",
        "WI-CNCF-007",
        "The cncf config has no created.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| c["created"] = json!("01/01/1970"));
    s.fail(
        "cncf-bad-created",
        "WI-CNCF-007",
        "The cncf config's created is 01/01/1970.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| c["layerDigests"] = json!([sha256(b"other")]));
    s.fail(
        "cncf-layer-digests-differ",
        "WI-CNCF-008",
        "layerDigests names another digest than the layer's.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| {
        c.as_object_mut().unwrap().remove("layerDigests");
    });
    s.fail(
        "cncf-no-layer-digests",
        "WI-CNCF-008",
        "The cncf config has no layerDigests.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_component(m);
    img.edit_config(|c| {
        c.as_object_mut().unwrap().remove("component");
    });
    s.fail(
        "cncf-component-without-component",
        "WI-CNCF-009",
        "A component payload, but the config has no component object.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_component(m);
    img.edit_config(|c| c["os"] = json!("wasip1"));
    s.fail(
        "cncf-component-wasip1",
        "WI-CNCF-010",
        "A component payload with os wasip1.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit_config(|c| {
        c["os"] = json!("wasip2");
        c["component"] = json!({"exports": [], "imports": [], "target": null});
    });
    s.note(
        "cncf-core-as-wkg-writes",
        "WI-CNCF-011",
        "A core module with os wasip2 and an empty component object, as wkg 0.16 pushes it.",
        "cncf",
        img.files(),
    );
    let mut img = cncf_component(m);
    img.edit_config(|c| c["component"]["imports"] = json!(["wasi:http/outgoing-handler@0.2.0"]));
    s.note(
        "cncf-component-imports-differ",
        "WI-CNCF-012",
        "The config's component.imports differ from the component's imports.",
        "cncf",
        img.files(),
    );
}

fn compat_cases(s: &mut Suite, m: &Modules) {
    let mut img = compat_docker(m);
    img.edit(|man| man["layers"][0]["mediaType"] = json!(mt::OCI_LAYER_TAR_GZIP));
    s.fail("compat-docker-oci-layer-type", "WI-COMPAT-001", "A Docker manifest whose last layer has the OCI gzip type (Istio requires the Docker type here).", "compat-docker", img.files());
    let mut img = compat_oci(m);
    img.edit(|man| man["layers"][0]["mediaType"] = json!(mt::DOCKER_LAYER_TAR_GZIP));
    s.fail(
        "compat-oci-docker-layer-type",
        "WI-COMPAT-001",
        "An OCI manifest whose last layer has the Docker gzip type.",
        "compat-oci",
        img.files(),
    );
    let plain = tar(&[Entry::File("plugin.wasm", &m.filter)]);
    let mut img = compat_with(m, &plain);
    img.set_layer(0, &plain);
    img.edit(|man| man["layers"][0]["mediaType"] = json!(mt::OCI_LAYER_TAR));
    s.fail(
        "compat-uncompressed-tar",
        "WI-COMPAT-002",
        "The last layer is an uncompressed tar holding plugin.wasm.",
        "compat-oci",
        img.files(),
    );
    let mut img = compat_oci(m);
    img.set_layer(0, b"this is not gzip");
    s.fail(
        "compat-not-gzip",
        "WI-COMPAT-003",
        "The gzip layer is plain text (detected by the variant annotation).",
        "compat-oci",
        img.files(),
    );
    let mut img = compat_oci(m);
    let mut gz = img.layer_bytes(0);
    let n = gz.len();
    gz[n - 1] ^= 0xff;
    img.set_layer(0, &gz);
    s.fail(
        "compat-gzip-bad-length",
        "WI-COMPAT-003",
        "The gzip trailer's length field is wrong.",
        "compat-oci",
        img.files(),
    );
    let mut bad = tar(&[Entry::File("plugin.wasm", &m.filter)]);
    bad[148] = b'9';
    s.fail(
        "compat-tar-bad-checksum",
        "WI-COMPAT-004",
        "The tar header's checksum is wrong.",
        "compat-oci",
        compat_with(m, &bad).files(),
    );
    let good = tar(&[Entry::File("plugin.wasm", &m.filter)]);
    s.fail(
        "compat-tar-truncated",
        "WI-COMPAT-004",
        "The tar stream ends inside plugin.wasm's content.",
        "compat-oci",
        compat_with(m, &good[..900]).files(),
    );
    s.fail(
        "compat-no-plugin",
        "WI-COMPAT-005",
        "The layer holds filter.wasm, not plugin.wasm (detected by the variant annotation).",
        "compat-oci",
        compat_with(m, &tar(&[Entry::File("filter.wasm", &m.filter)])).files(),
    );
    s.fail(
        "compat-plugin-is-directory",
        "WI-COMPAT-006",
        "The first entry named plugin.wasm is a directory.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::Dir("plugin.wasm/"),
                Entry::File("dir/plugin.wasm", &m.filter),
            ]),
        )
        .files(),
    );
    s.fail(
        "compat-tar-dotdot",
        "WI-COMPAT-007",
        "A tar entry ../../etc/evil.sh escapes the extraction directory.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("../../etc/evil.sh", b"echo pwned\n"),
                Entry::File("plugin.wasm", &m.filter),
            ]),
        )
        .files(),
    );
    s.fail(
        "compat-tar-absolute",
        "WI-COMPAT-007",
        "A tar entry has the absolute path /etc/evil.sh.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::File("/etc/evil.sh", b"echo pwned\n"),
            ]),
        )
        .files(),
    );
    s.fail(
        "compat-tar-symlink",
        "WI-COMPAT-008",
        "A tar entry is a symbolic link to /etc/passwd.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::Symlink("passwd", "/etc/passwd"),
            ]),
        )
        .files(),
    );
    s.fail(
        "compat-tar-hardlink",
        "WI-COMPAT-008",
        "A tar entry is a hard link.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::Hardlink("copy.wasm", "plugin.wasm"),
            ]),
        )
        .files(),
    );
    s.fail(
        "compat-tar-duplicate",
        "WI-COMPAT-009",
        "runtime-config.json appears twice (once as ./runtime-config.json).",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::File("runtime-config.json", b"{}"),
                Entry::File("./runtime-config.json", b"{}"),
            ]),
        )
        .files(),
    );
    s.note(
        "compat-two-plugins",
        "WI-COMPAT-010",
        "plugin.wasm at the root and in dir/: consumers take the first.",
        "compat-oci",
        compat_with(
            m,
            &tar(&[
                Entry::File("plugin.wasm", &m.filter),
                Entry::File("dir/plugin.wasm", &m.filter),
            ]),
        )
        .files(),
    );
    let mut img = compat_oci(m);
    img.edit(|man| man["annotations"]["module.wasm.image/variant"] = json!("oci"));
    s.note(
        "compat-variant-annotation",
        "WI-COMPAT-011",
        "module.wasm.image/variant is `oci` on a compat image.",
        "compat-oci",
        img.files(),
    );
    s.fail(
        "compat-component",
        "WI-COMPAT-012",
        "A component as plugin.wasm.",
        "compat-oci",
        build("adder.component.wasm", &m.adder, Variant::CompatOci, |b| b).files(),
    );
    let mut img = compat_oci(m);
    img.edit_config(|c| c["rootfs"]["diff_ids"] = json!([sha256(b"not the tar")]));
    s.fail(
        "compat-diff-ids",
        "WI-COMPAT-013",
        "rootfs.diff_ids names another digest than the uncompressed tar's.",
        "compat-oci",
        img.files(),
    );
    let mut img = compat_docker(m);
    let layer = img.layer_bytes(0);
    img.edit_config(|c| c["rootfs"]["diff_ids"] = json!([sha256(&layer)]));
    s.fail(
        "compat-diff-ids-compressed",
        "WI-COMPAT-013",
        "rootfs.diff_ids names the compressed layer's digest instead of the tar's.",
        "compat-docker",
        img.files(),
    );
}

fn w2o_cases(s: &mut Suite, m: &Modules) {
    let mut img = w2o(m);
    img.edit(|man| {
        let l = man["layers"][0].clone();
        man["layers"].as_array_mut().unwrap().push(l);
    });
    s.fail(
        "w2o-two-layers",
        "WI-W2O-001",
        "A wasm-content-v1 manifest with two layers.",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| man["layers"][0]["mediaType"] = json!(mt::WASM_LAYER));
    s.fail(
        "w2o-layer-type",
        "WI-W2O-002",
        "The wasm-content-v1 layer's type is application/wasm.",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = w2o(m);
    img.set_config_bytes(br#"{"name":"hello"}"#);
    s.note(
        "w2o-config-not-empty",
        "WI-W2O-003",
        "The config blob is not `{}`.",
        "wasm-content-v1",
        img.files(),
    );
    let mut img = w2o(m);
    img.edit(|man| {
        man["layers"][0]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
    });
    s.note(
        "w2o-no-title",
        "WI-W2O-004",
        "The wasm-content-v1 layer has no title.",
        "wasm-content-v1",
        img.files(),
    );
    s.note(
        "w2o-no-kubewarden-metadata",
        "WI-W2O-005",
        "A core module without the io.kubewarden.metadata section.",
        "wasm-content-v1",
        w2o(m).files(),
    );
}

fn wasm_oci_cases(s: &mut Suite, m: &Modules) {
    let mut img = wasm_oci(m);
    img.edit(|man| {
        let l = man["layers"][1].clone();
        man["layers"].as_array_mut().unwrap().push(l);
    });
    s.fail(
        "wasm-oci-three-layers",
        "WI-WASMOCI-001",
        "A wasm-oci manifest with three layers.",
        "wasm-oci",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.edit(|man| man["layers"][1]["mediaType"] = json!(mt::WASM_LAYER));
    s.fail(
        "wasm-oci-no-module-layer",
        "WI-WASMOCI-002",
        "The module layer's type is application/wasm.",
        "wasm-oci",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.edit(|man| man["layers"][0]["mediaType"] = json!("application/json"));
    s.note(
        "wasm-oci-no-config-layer",
        "WI-WASMOCI-003",
        "No layer has the runtime-config type (wasme cannot pull it).",
        "wasm-oci",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.set_layer(
        0,
        br#"{"type":"envoy_proxy","abiVersions":["v0.2.1"],"config":{"rootIds":["root"]}}"#,
    );
    s.note(
        "wasm-oci-config-layer-differs",
        "WI-WASMOCI-004",
        "The runtime-config layer is another blob than the config.",
        "wasm-oci",
        img.files(),
    );
    let with_config = |runtime: &[u8]| {
        let mut img = wasm_oci(m);
        img.set_config_bytes(runtime);
        let (d, sz) = (
            img.manifest["config"]["digest"].clone(),
            img.manifest["config"]["size"].clone(),
        );
        img.edit(|man| {
            man["layers"][0]["digest"] = d;
            man["layers"][0]["size"] = sz;
        });
        img
    };
    s.fail(
        "wasm-oci-no-type",
        "WI-WASMOCI-005",
        "The runtime config lacks type.",
        "wasm-oci",
        with_config(br#"{"abiVersions":["v0.2.1"]}"#).files(),
    );
    s.fail(
        "wasm-oci-abi-versions-string",
        "WI-WASMOCI-005",
        "abiVersions is a string.",
        "wasm-oci",
        with_config(br#"{"type":"envoy_proxy","abiVersions":"v0.2.1"}"#).files(),
    );
    let mut img = with_config(br#"{"type":"nginx","abiVersions":["v0.2.1"]}"#);
    img.edit(|man| man["annotations"]["module.wasm.runtime/type"] = json!("nginx"));
    s.note(
        "wasm-oci-type-not-envoy",
        "WI-WASMOCI-006",
        "The runtime config's type is nginx.",
        "wasm-oci",
        img.files(),
    );
    let mut img = with_config(br#"{"type":"envoy_proxy","abi_version":"v0.2.1"}"#);
    img.edit(|man| {
        man["annotations"]["module.wasm.runtime/abi_version"] = json!("v0.2.1");
    });
    s.note("wasm-oci-snake-case", "WI-WASMOCI-007", "The runtime config spells abi_version (the solo.io spec's example), which wasme does not read.", "wasm-oci", img.files());
    let legacy = "v0-541b2c1155fffb15ccde92b8324f3e38f7339ba6";
    let mut img = with_config(format!(r#"{{"type":"envoy_proxy","abiVersions":["{legacy}","v0.2.1"],"config":{{"rootIds":["add_header_root_id"]}}}}"#).as_bytes());
    img.edit(|man| {
        man["annotations"]["module.wasm.runtime/abi_version"] = json!(format!("{legacy},v0.2.1"))
    });
    s.note(
        "wasm-oci-legacy-abi",
        "WI-WASMOCI-008",
        "abiVersions holds wasme's legacy v0-<commit> value beside v0.2.1.",
        "wasm-oci",
        img.files(),
    );
    let mut img = with_config(br#"{"type":"envoy_proxy","abiVersions":["v0.1.0"]}"#);
    img.edit(|man| man["annotations"]["module.wasm.runtime/abi_version"] = json!("v0.1.0"));
    s.note(
        "wasm-oci-abi-disagrees",
        "WI-WASMOCI-009",
        "abiVersions says v0.1.0; the module exports the 0.2.1 marker.",
        "wasm-oci",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.edit(|man| {
        man.as_object_mut().unwrap().remove("annotations");
    });
    s.note(
        "wasm-oci-no-annotations",
        "WI-WASMOCI-010",
        "The module.wasm.runtime/* manifest annotations are missing.",
        "wasm-oci",
        img.files(),
    );
    let mut img = wasm_oci(m);
    img.set_layer(1, &m.adder);
    s.fail(
        "wasm-oci-component",
        "WI-WASMOCI-011",
        "A component in the module layer of a wasm-oci image.",
        "wasm-oci",
        img.files(),
    );
}

fn runwasi_cases(s: &mut Suite, m: &Modules) {
    let mut img = runwasi(
        "adder.component.wasm",
        &m.adder,
        mt::RUNWASI_COMPONENT_LAYER,
    );
    img.edit_config(|c| c["architecture"] = json!("wasm32"));
    s.fail(
        "runwasi-architecture-wasm32",
        "WI-RUNWASI-001",
        "The image config's architecture is wasm32.",
        "runwasi",
        img.files(),
    );
    let mut img = runwasi(
        "adder.component.wasm",
        &m.adder,
        mt::RUNWASI_COMPONENT_LAYER,
    );
    let (d, sz) = img.put(&m.hello);
    img.layers()
        .push(json!({"mediaType": mt::WASM_LAYER, "digest": d, "size": sz}));
    s.fail(
        "runwasi-two-modules",
        "WI-RUNWASI-002",
        "Two Wasm layers (a component and a module).",
        "runwasi",
        img.files(),
    );
    let mut img = runwasi(
        "adder.component.wasm",
        &m.adder,
        mt::RUNWASI_COMPONENT_LAYER,
    );
    img.edit_config(|c| c["config"] = json!({}));
    s.note(
        "runwasi-no-entrypoint",
        "WI-RUNWASI-003",
        "The image config has no Entrypoint.",
        "runwasi",
        img.files(),
    );
    s.note(
        "runwasi-containerd-version",
        "WI-RUNWASI-004",
        "Any runwasi image: Wasm layers outside the rootfs need a recent containerd.",
        "runwasi",
        runwasi("hello.wasm", &m.hello, mt::RUNWASI_COMPONENT_LAYER).files(),
    );
}

fn spin_cases(s: &mut Suite, m: &Modules) {
    let mut img = spin(m);
    img.layers().swap(1, 2);
    s.fail(
        "spin-locked-app-not-last",
        "WI-SPIN-001",
        "The locked app is not the last layer, and the config is an image config.",
        "spin",
        img.files(),
    );
    let mut img = spin(m);
    img.set_layer(2, b"[]");
    let d = sha256(b"[]");
    img.edit_config(|c| c["config"]["Labels"][SPIN_LABEL] = json!(d));
    s.fail(
        "spin-locked-app-array",
        "WI-SPIN-002",
        "The locked app is a JSON array.",
        "spin",
        img.files(),
    );
    let mut img = spin(m);
    img.edit_config(|c| c["config"] = json!({}));
    s.note(
        "spin-no-label",
        "WI-SPIN-003",
        "The lockedAppDigest label is missing.",
        "spin",
        img.files(),
    );
    let mut img = spin(m);
    let data = img.manifest["layers"][1].clone();
    img.edit(|man| {
        let layers = man["layers"].as_array_mut().unwrap();
        let lock = layers.pop().unwrap();
        for _ in 0..500 {
            layers.push(data.clone());
        }
        layers.push(lock);
    });
    s.note(
        "spin-503-layers",
        "WI-SPIN-004",
        "A Spin image with 503 layers (the data layer repeated).",
        "spin",
        img.files(),
    );
    let mut img = spin(m);
    img.edit_config(|c| c["os"] = json!("Wasip1"));
    s.note(
        "spin-os-uppercase",
        "WI-SPIN-005",
        "The config's os is Wasip1, as Spin's development branch writes it.",
        "spin",
        img.files(),
    );
    let mut img = spin(m);
    img.edit_config(|c| c["architecture"] = json!("amd64"));
    s.fail(
        "spin-architecture-amd64",
        "WI-SPIN-006",
        "The config's architecture is amd64.",
        "spin",
        img.files(),
    );
}

fn variant_cases(s: &mut Suite, m: &Modules) {
    let img = handmade(
        Some(mt::OCI_MANIFEST),
        mt::OCI_CONFIG,
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        &[("application/octet-stream", &m.hello, None)],
    );
    s.note(
        "variant-unknown",
        "WI-VARIANT-001",
        "An OCI image with one application/octet-stream layer: no variant.",
        "unknown",
        img.files(),
    );
    let mut img = cncf_core(m);
    img.edit(|man| man["annotations"] = json!({"module.wasm.image/variant": "compat"}));
    s.note(
        "variant-conflicting-marks",
        "WI-VARIANT-002",
        "A cncf image that carries the compat variant annotation.",
        "cncf",
        img.files(),
    );
    let img = handmade(
        Some(mt::OCI_MANIFEST),
        "application/vnd.wasmcloud.actor.archive.config",
        br#"{}"#,
        &[(
            "application/vnd.wasmcloud.actor.archive.layer",
            &m.adder,
            None,
        )],
    );
    s.note(
        "variant-wasmcloud-actor",
        "WI-VARIANT-003",
        "A wasmCloud actor archive (wash <= 0.28): known, outside this spec.",
        "unknown",
        img.files(),
    );
}

// ---------------------------------------------------------------------------
// Output

fn write_case(root: &Path, case: &Case) {
    let dir = root.join(&case.id);
    fs::create_dir_all(&dir).unwrap();
    let mut meta = json!({
        "id": case.id,
        "description": case.description,
        "rule": case.rule,
        "expect": {"valid": case.valid, "variant": case.variant, "codes": case.codes},
    });
    if let Some(o) = &case.options {
        meta["options"] = o.clone();
    }
    if let Some(select) = &case.select {
        meta["select"] = json!(select);
    }
    if let Some(reason) = &case.strict_reason {
        meta["strict"] = json!(false);
        meta["strict_reason"] = json!(reason);
    }
    let mut text = serde_json::to_string_pretty(&meta).unwrap();
    text.push('\n');
    fs::write(dir.join("case.json"), text).unwrap();
    if let Some(bytes) = &case.archive_bytes {
        fs::write(dir.join("image.tar"), bytes).unwrap();
    } else if case.archive {
        fs::write(dir.join("image.tar"), case.files.tar()).unwrap();
    } else {
        case.files.write_dir(&dir.join("image"));
    }
}

/// The cases of the rules added after the first suite: the image config,
/// archive, selector, Wasm section bound and requested variant.
fn more_cases(s: &mut Suite, m: &Modules) {
    let mut img = compat_oci(m);
    img.edit_config(|c| c["architecture"] = json!(64));
    s.fail(
        "config-architecture-number",
        "WI-CONFIG-001",
        "The OCI image config of a compat-oci image has architecture 64, a number.",
        "compat-oci",
        img.files(),
    );
    let mut img = runwasi("hello.wasm", &m.hello, mt::WASM_LAYER);
    img.edit_config(|c| c["rootfs"]["type"] = json!("layer"));
    s.fail(
        "config-rootfs-type",
        "WI-CONFIG-001",
        "The runwasi image config's rootfs.type is \"layer\", not \"layers\".",
        "runwasi",
        img.files(),
    );
    let mut img = compat_docker(m);
    img.edit_config(|c| c["created"] = json!(0));
    s.fail(
        "config-docker-created-number",
        "WI-CONFIG-001",
        "The Docker image config of a compat-docker image has created 0, not a date-time string.",
        "compat-docker",
        img.files(),
    );

    let mut bytes = cncf_core(m).files().tar();
    let end = bytes.len() - 1024;
    bytes.splice(end..end, std::iter::repeat_n(b'A', 512));
    s.fail(
        "layout-archive-bad-header",
        "WI-LAYOUT-009",
        "An OCI archive with a block of garbage (a header with a bad checksum) after its last member.",
        "cncf",
        Files::default(),
    )
    .archive_bytes = Some(bytes);
    s.fail(
        "layout-selector-no-image",
        "WI-LAYOUT-010",
        "The image is selected by the tag v2, which index.json does not list (it lists latest).",
        "unknown",
        cncf_core(m).files(),
    )
    .select(":v2");

    s.fail(
        "limit-wasm-section",
        "WI-LIMIT-007",
        "A core module whose sections are larger than the Wasm section bound, lowered to 16 bytes.",
        "cncf",
        cncf_core(m).files(),
    )
    .options(json!({"max_wasm_section_bytes": 16}));

    s.fail(
        "variant-requested-differs",
        "WI-VARIANT-004",
        "A cncf image checked against compat-oci: the compat rules are applied and fail.",
        "cncf",
        cncf_core(m).files(),
    )
    .options(json!({"variant": "compat-oci"}))
    .codes(&["WI-VARIANT-004", "WI-COMPAT-001"]);
    s.pass(
        "pass-variant-requested-matches",
        "A cncf image checked against cncf, the variant it is detected as.",
        "cncf",
        cncf_core(m).files(),
    )
    .options(json!({"variant": "cncf"}));
}

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "conformance/cases".to_owned()),
    );
    let m = modules();
    let mut suite = Suite::default();
    passing(&mut suite, &m);
    layout_cases(&mut suite, &m);
    blob_cases(&mut suite, &m);
    digest_cases(&mut suite, &m);
    desc_cases(&mut suite, &m);
    manifest_cases(&mut suite, &m);
    index_cases(&mut suite, &m);
    annot_cases(&mut suite, &m);
    limit_cases(&mut suite, &m);
    wasm_cases(&mut suite, &m);
    abi_cases(&mut suite, &m);
    cncf_cases(&mut suite, &m);
    compat_cases(&mut suite, &m);
    w2o_cases(&mut suite, &m);
    wasm_oci_cases(&mut suite, &m);
    runwasi_cases(&mut suite, &m);
    spin_cases(&mut suite, &m);
    variant_cases(&mut suite, &m);
    more_cases(&mut suite, &m);

    // Remove the cases of an earlier run (only directories that hold a case.json).
    if out.is_dir() {
        for entry in fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path.join("case.json").is_file() {
                fs::remove_dir_all(&path).unwrap();
            }
        }
    }
    fs::create_dir_all(&out).unwrap();
    for case in &suite.0 {
        write_case(&out, case);
    }
    println!("wrote {} cases to {}", suite.0.len(), out.display());
}
