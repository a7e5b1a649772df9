//! The validator: checks an image, a layout or an archive against every rule
//! of `spec/` (codes in [`crate::rules::RULES`]) and of the OCI image spec,
//! names the variant, and says which consumers load the image.
//!
//! This module owns:
//! - reading untrusted stores leniently ([`validate_path`]): `oci-layout`,
//!   `index.json` and blob paths are checked, not required, so a broken
//!   layout still yields findings;
//! - the document checks ([`validate_document`]): descriptors, digests,
//!   annotations, manifests, indexes, the layout header, image configs,
//!   on JSON values read leniently;
//! - blob integrity: every blob is streamed once, its declared size checked
//!   against the bound and the stored size before any byte is read, at most
//!   `size + 1` bytes read, hashed on the way;
//! - the payload: raw Wasm layers and compat tar layers streamed through the
//!   hash and the Wasm inspector in the same pass, within the bounds of
//!   [`Limits`];
//! - the rules of each variant, and the consumer verdicts with the command
//!   that converts the image.
//!
//! Every problem is a [`Finding`]; nothing in the input can make the
//! validator panic, hang or allocate in proportion to a declared size.
//!
//! The checks of an OCI or Docker image config ([`DocumentKind::Config`], and
//! the config of every image that uses one) report `WI-CONFIG-001`; a
//! malformed archive `WI-LAYOUT-009`; a selector that names no image
//! `WI-LAYOUT-010`; a blob that is present but unreadable `WI-LAYOUT-011`.

mod consumers;
pub(crate) mod document;
mod engine;
mod finding;
mod payload;
mod source;
mod variants;

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

pub use crate::rules::Severity;
pub use finding::Finding;

use crate::digest::{Digest, Digester};
use crate::limits::Limits;
use crate::store::{ImageStore, Selector};
use crate::variant::Variant;
use engine::Engine;
use finding::Sink;
use source::{ArchiveSource, BlobSource, DirSource, Member, ScanError, StoreSource};

/// How to validate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bounds on untrusted input.
    pub limits: Limits,
    /// Validate Wasm payloads fully with `wasmparser` (default true); when
    /// false only the preamble, the section framing and the exports are read.
    pub validate_wasm: bool,
    /// Count warnings as errors for [`ImageReport::valid`].
    pub strict: bool,
    /// The variant the user asks to check against (`--variant`): when the
    /// detected one differs, WI-VARIANT-004 is reported and this variant's
    /// rules are applied (spec/detection.md). `None` checks the detected one.
    pub expected_variant: Option<Variant>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            validate_wasm: true,
            strict: false,
            expected_variant: None,
        }
    }
}

/// Whether a consumer loads the image, and why (or why not).
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerVerdict {
    /// `istio`, `envoy-gateway`, `wkg`, `wasmcloud`, `runwasi`, `spin` (containerd-shim-spin) or `kubewarden`.
    pub consumer: &'static str,
    /// Whether it loads the image.
    pub loads: bool,
    /// How it reads the image, or the error it gives.
    pub reason: String,
}

/// The result for one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    /// No finding of severity error (with `strict`, no warning either).
    pub valid: bool,
    /// The variant named from the media types.
    pub variant: Variant,
    /// The manifest's digest.
    pub manifest_digest: Option<Digest>,
    /// The image's tag in the store (`org.opencontainers.image.ref.name`).
    pub tag: Option<String>,
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
    /// One verdict per consumer.
    pub consumers: Vec<ConsumerVerdict>,
    /// The command that converts the image for the consumers that do not
    /// load it, e.g. `wasm-image build plugin.wasm --variant compat-oci -o OUT`
    /// (`None` when nothing is to convert).
    pub convert: Option<String>,
}

/// The result for a whole layout holding several images.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutReport {
    /// No error in the layout-level findings nor in any image.
    pub valid: bool,
    /// Layout-level findings (`oci-layout`, `index.json`, blob paths).
    pub findings: Vec<Finding>,
    /// One report per image.
    pub images: Vec<ImageReport>,
}

/// What [`validate`] returns.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// One image.
    Image(ImageReport),
    /// A layout with several (or no) images.
    Layout(LayoutReport),
}

impl Report {
    /// Whether the report has no error (with `strict`, no warning).
    pub fn valid(&self) -> bool {
        match self {
            Report::Image(i) => i.valid,
            Report::Layout(l) => l.valid,
        }
    }

    /// Every finding, layout-level first.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        let (top, images): (&[Finding], &[ImageReport]) = match self {
            Report::Image(i) => (&i.findings, &[]),
            Report::Layout(l) => (&l.findings, &l.images),
        };
        top.iter()
            .chain(images.iter().flat_map(|i| i.findings.iter()))
    }
}

/// Why [`validate_path`] could not run.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The path cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The path is neither a layout directory nor an OCI archive.
    #[error("{0}: neither an OCI image layout directory nor an OCI archive (tar)")]
    NotAnImage(PathBuf),
}

/// The kind of a document for [`validate_document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A content descriptor.
    Descriptor,
    /// An image manifest.
    Manifest,
    /// An image index.
    Index,
    /// An `oci-layout` header.
    Layout,
    /// An OCI image config.
    Config,
}

/// Validates one image (selector `Some`) or, with `None`, the whole store:
/// one image gives [`Report::Image`], several give [`Report::Layout`].
pub fn validate(store: &dyn ImageStore, selector: Option<&Selector>, options: &Options) -> Report {
    let src = StoreSource::new(store);
    let mut engine = Engine::new(&src, options);
    let mut layout = Sink::new();
    let index = match store.root_index() {
        Ok(index) => Some(index.as_json().clone()),
        Err(e) => {
            layout.add(
                "WI-LAYOUT-002",
                "index.json",
                format!("the root index cannot be read: {e}"),
            );
            None
        }
    };
    engine::run(&mut engine, index.as_ref(), selector, layout)
}

/// Opens a layout directory or an OCI archive *leniently* at `path` and
/// validates it, with the layout-level checks (`oci-layout`, `index.json`,
/// `blobs/` paths, missing blobs, blobs whose content does not match their
/// path). A path that is neither gives an error (the CLI exits 2 then).
pub fn validate_path(
    path: &Path,
    selector: Option<&Selector>,
    options: &Options,
) -> Result<Report, ValidateError> {
    let io_err = |source| ValidateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(io_err)?;
    let limits = &options.limits;
    let mut layout = Sink::new();
    if meta.is_dir() {
        let src = DirSource {
            root: path.to_path_buf(),
        };
        match read_file(&path.join("oci-layout"), limits.max_layout_header_bytes) {
            Ok(bytes) => document::check_layout_header(&bytes, limits, &mut layout),
            Err(e) => layout.add(
                "WI-LAYOUT-001",
                "oci-layout",
                format!("oci-layout cannot be read: {e}"),
            ),
        }
        let blob_files = walk_blobs_dir(path, limits, &mut layout);
        let index = read_index(
            read_file(&path.join("index.json"), limits.max_index_bytes),
            limits,
            &mut layout,
        );
        let mut engine = Engine::new(&src, options);
        let report = engine::run(&mut engine, index.as_ref(), selector, layout);
        let unread: Vec<Digest> = blob_files
            .into_iter()
            .filter(|d| !engine.read.contains(d))
            .collect();
        Ok(add_layout_findings(
            report,
            check_unreferenced(&src, &unread),
            options,
        ))
    } else if meta.is_file() && crate::store::archive::is_archive(path) {
        let src = match ArchiveSource::scan(path, limits.max_archive_entries) {
            Ok(src) => src,
            Err(ScanError::Io(e)) => return Err(io_err(e)),
            Err(ScanError::Broken(why, members)) => {
                layout.add(
                    "WI-LAYOUT-009",
                    "archive",
                    format!("the archive is not a well-formed tar ({why}); only the members before the fault are read"),
                );
                ArchiveSource {
                    path: path.to_path_buf(),
                    members,
                }
            }
        };
        match src.read_member("oci-layout", limits.max_layout_header_bytes) {
            Some(Ok(bytes)) => document::check_layout_header(&bytes, limits, &mut layout),
            Some(Err(e)) => layout.add(
                "WI-LAYOUT-001",
                "oci-layout",
                format!("oci-layout cannot be read: {e}"),
            ),
            None => layout.add(
                "WI-LAYOUT-001",
                "oci-layout",
                "the archive has no oci-layout",
            ),
        }
        let mut blob_files = Vec::new();
        let mut has_blobs = false;
        for (name, member) in &src.members {
            if name == "blobs" {
                has_blobs = true;
                continue;
            }
            let Some(rest) = name.strip_prefix("blobs/") else {
                continue;
            };
            has_blobs = true;
            let is_file = matches!(member, Member::File { .. });
            match blob_name(rest) {
                Some(d) if is_file => blob_files.push(d),
                Some(_) => {}
                None if !is_file && !rest.contains('/') && algorithm_ok(rest) => {}
                None => layout.add(
                    "WI-LAYOUT-004",
                    format!("archive {name}"),
                    format!("{name} is not at a path blobs/<alg>/<encoded> that follows the digest grammar"),
                ),
            }
        }
        if !has_blobs {
            layout.add(
                "WI-LAYOUT-003",
                "blobs",
                "the archive has no blobs directory",
            );
        }
        let index = match src.read_member("index.json", limits.max_index_bytes) {
            Some(r) => read_index(r, limits, &mut layout),
            None => {
                layout.add(
                    "WI-LAYOUT-002",
                    "index.json",
                    "the archive has no index.json",
                );
                None
            }
        };
        let mut engine = Engine::new(&src, options);
        let report = engine::run(&mut engine, index.as_ref(), selector, layout);
        let unread: Vec<Digest> = blob_files
            .into_iter()
            .filter(|d| !engine.read.contains(d))
            .collect();
        Ok(add_layout_findings(
            report,
            check_unreferenced(&src, &unread),
            options,
        ))
    } else {
        Err(ValidateError::NotAnImage(path.to_path_buf()))
    }
}

/// Document-level checks alone, for the image-spec fixtures and other
/// implementations: a descriptor, manifest, index, `oci-layout` header or
/// OCI image config, read leniently. Blobs are not looked up.
pub fn validate_document(kind: DocumentKind, bytes: &[u8], options: &Options) -> Vec<Finding> {
    let limits = &options.limits;
    let mut sink = Sink::new();
    let max = limits.max_manifest_bytes;
    match kind {
        DocumentKind::Descriptor => {
            if let Some(v) = document::parse_json(
                bytes,
                max,
                limits,
                "descriptor",
                "WI-DESC-001",
                "the descriptor",
                &mut sink,
            ) {
                document::check_descriptor(&v, "descriptor", &mut sink);
            }
        }
        DocumentKind::Manifest => {
            if let Some(Value::Object(o)) = document::parse_json(
                bytes,
                max,
                limits,
                "manifest",
                "WI-MANIFEST-001",
                "the manifest",
                &mut sink,
            ) {
                document::check_manifest(&o, "manifest", &mut sink);
            }
        }
        DocumentKind::Index => {
            if let Some(Value::Object(o)) = document::parse_json(
                bytes,
                limits.max_index_bytes,
                limits,
                "index",
                "WI-INDEX-001",
                "the index",
                &mut sink,
            ) {
                document::check_index(&o, "index", &mut sink);
            }
        }
        DocumentKind::Layout => document::check_layout_header(bytes, limits, &mut sink),
        DocumentKind::Config => {
            if let Some(Value::Object(o)) = document::parse_json(
                bytes,
                limits.max_config_bytes,
                limits,
                "config",
                document::IMAGE_CONFIG_CODE,
                "the config",
                &mut sink,
            ) {
                document::check_image_config(&o, "config", &mut sink);
            }
        }
    }
    sink.findings
}

/// Reads a regular file of at most `limit` bytes (one more is read to tell).
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn read_index(
    read: Result<Vec<u8>, String>,
    limits: &Limits,
    layout: &mut Sink,
) -> Option<serde_json::Map<String, Value>> {
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            layout.add(
                "WI-LAYOUT-002",
                "index.json",
                format!("index.json cannot be read: {e}"),
            );
            return None;
        }
    };
    match document::parse_json(
        &bytes,
        limits.max_index_bytes,
        limits,
        "index.json",
        "WI-LAYOUT-002",
        "index.json",
        layout,
    )? {
        Value::Object(o) => Some(o),
        _ => None,
    }
}

fn algorithm_ok(alg: &str) -> bool {
    Digest::parse(&format!("{alg}:x")).is_ok()
        || Digest::parse(&format!("{alg}:{}", "0".repeat(128))).is_ok()
        || Digest::parse(&format!("{alg}:{}", "0".repeat(64))).is_ok()
}

/// The digest a path `<alg>/<encoded>` under `blobs/` names.
fn blob_name(rest: &str) -> Option<Digest> {
    let (alg, enc) = rest.split_once('/')?;
    if enc.contains('/') {
        return None;
    }
    Digest::parse(&format!("{alg}:{enc}")).ok()
}

/// Walks `blobs/` of a layout directory: checks every path, returns the blobs found.
fn walk_blobs_dir(root: &Path, limits: &Limits, layout: &mut Sink) -> Vec<Digest> {
    let blobs = root.join("blobs");
    let mut found = Vec::new();
    match fs::symlink_metadata(&blobs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            layout.add("WI-LAYOUT-003", "blobs", "blobs is not a directory");
            return found;
        }
        Err(_) => {
            layout.add(
                "WI-LAYOUT-003",
                "blobs",
                "the layout has no blobs directory",
            );
            return found;
        }
    }
    let mut budget = limits.max_archive_entries;
    let Ok(algs) = fs::read_dir(&blobs) else {
        layout.add(
            "WI-LAYOUT-003",
            "blobs",
            "the blobs directory cannot be read",
        );
        return found;
    };
    for alg in algs.flatten() {
        let name = alg.file_name().to_string_lossy().into_owned();
        let is_dir = alg.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || !algorithm_ok(&name) {
            layout.add(
                "WI-LAYOUT-004",
                format!("blobs/{name}"),
                format!("blobs/{name} is not a directory named by a digest algorithm"),
            );
            continue;
        }
        let Ok(files) = fs::read_dir(alg.path()) else {
            continue;
        };
        for file in files.flatten() {
            if budget == 0 {
                return found;
            }
            budget -= 1;
            let enc = file.file_name().to_string_lossy().into_owned();
            match blob_name(&format!("{name}/{enc}")) {
                Some(d) => found.push(d),
                None => layout.add(
                    "WI-LAYOUT-004",
                    format!("blobs/{name}/{enc}"),
                    format!("blobs/{name}/{enc} is not named by a digest of the algorithm {name}"),
                ),
            }
        }
    }
    found
}

/// Hashes the blobs no descriptor led to, so that a corrupt stored blob is
/// still reported (WI-LAYOUT-005). Non-regular files are reported (WI-LAYOUT-008).
fn check_unreferenced(src: &dyn BlobSource, unread: &[Digest]) -> Vec<finding::Finding> {
    let mut sink = Sink::new();
    for digest in unread {
        let location = format!("blob {digest}");
        match src.stat(digest) {
            source::Stat::NotRegular(kind) => {
                sink.add(
                    "WI-LAYOUT-008",
                    &location,
                    format!("{} is {kind}, not a regular file", digest.layout_path()),
                );
                continue;
            }
            source::Stat::Present(_) => {}
            source::Stat::Error(e) => {
                sink.add(
                    "WI-LAYOUT-011",
                    &location,
                    format!("blob {digest} cannot be examined: {e}"),
                );
                continue;
            }
            source::Stat::Missing => continue,
        }
        let Some(alg) = digest.algorithm() else {
            continue;
        };
        let mut r = match src.open(digest) {
            Ok(r) => r,
            Err(e) => {
                sink.add(
                    "WI-LAYOUT-011",
                    &location,
                    format!("blob {digest} cannot be opened: {e}"),
                );
                continue;
            }
        };
        let mut d = Digester::new(alg);
        let mut buf = vec![0u8; 64 << 10];
        let ok = loop {
            match r.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => d.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    sink.add(
                        "WI-LAYOUT-011",
                        &location,
                        format!("blob {digest} cannot be read: {e}"),
                    );
                    break false;
                }
            }
        };
        if ok {
            let actual = d.finish();
            if &actual != digest {
                sink.add(
                    "WI-LAYOUT-005",
                    &location,
                    format!("{} hashes to {actual}", digest.layout_path()),
                );
            }
        }
    }
    sink.findings
}

fn add_layout_findings(report: Report, extra: Vec<Finding>, options: &Options) -> Report {
    if extra.is_empty() {
        return report;
    }
    match report {
        Report::Image(mut i) => {
            i.findings.extend(extra);
            i.valid = !i.findings.iter().any(|f| f.fails(options.strict));
            Report::Image(i)
        }
        Report::Layout(mut l) => {
            l.findings.extend(extra);
            l.valid = !l.findings.iter().any(|f| f.fails(options.strict))
                && l.images.iter().all(|i| i.valid);
            Report::Layout(l)
        }
    }
}

#[cfg(test)]
mod tests;
