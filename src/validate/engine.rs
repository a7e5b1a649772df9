//! The walk over a store: the root index, nested indexes, and each image
//! (manifest, config, layers), each blob read once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value};

use super::consumers::{self, Facts};
use super::document::{self, Desc, IndexItem, parse_json};
use super::finding::{Finding, Sink};
use super::payload::{self, Role, read_all, read_blob};
use super::source::BlobSource;
use super::variants::{self, ImageFacts};
use super::{ImageReport, LayoutReport, Options, Report};
use crate::digest::Digest;
use crate::manifest::ANNOTATION_REF_NAME;
use crate::media_type as mt;
use crate::store::Selector;
use crate::variant::{self, Variant};
use crate::wasm::ModuleInfo;

// A child of this module (it uses the engine's private readers), kept in its own file.
#[path = "artifacts.rs"]
mod artifacts;

/// Config media types whose content is JSON this crate knows how to read.
const JSON_CONFIG_TYPES: &[&str] = &[
    mt::OCI_CONFIG,
    mt::DOCKER_CONFIG,
    mt::WASM_CONFIG_V0,
    mt::MODULE_WASM_CONFIG,
    mt::MODULE_WASM_CONFIG_TYPO,
    mt::WASM_CONTENT_CONFIG_V1,
    mt::SPIN_APPLICATION_CONFIG,
];

/// A document blob read before: its findings and, if verified, its bytes.
#[derive(Clone)]
struct CachedDoc {
    findings: Vec<Finding>,
    bytes: Option<Vec<u8>>,
}

/// A raw Wasm layer read before.
#[derive(Clone)]
struct CachedPayload {
    findings: Vec<Finding>,
    module: Option<ModuleInfo>,
}

/// An image manifest to validate, found in an index.
#[derive(Debug, Clone)]
pub(crate) struct ImageRef {
    pub(crate) location: String,
    pub(crate) media_type: Option<String>,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    pub(crate) tag: Option<String>,
}

pub(crate) struct Engine<'a> {
    src: &'a dyn BlobSource,
    options: &'a Options,
    docs: HashMap<(Digest, u64), CachedDoc>,
    raws: HashMap<(Digest, u64), CachedPayload>,
    verified: HashMap<(Digest, u64), Vec<Finding>>,
    /// Every blob read (for the unreferenced-blob check of a layout).
    pub(crate) read: HashSet<Digest>,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(src: &'a dyn BlobSource, options: &'a Options) -> Self {
        Engine {
            src,
            options,
            docs: HashMap::new(),
            raws: HashMap::new(),
            verified: HashMap::new(),
            read: HashSet::new(),
        }
    }

    /// Reads a document blob (bounded by `limit`), once per run.
    fn document(
        &mut self,
        digest: &Digest,
        size: u64,
        limit: u64,
        sink: &mut Sink,
    ) -> Option<Vec<u8>> {
        let key = (digest.clone(), size);
        if let Some(c) = self.docs.get(&key) {
            sink.extend(c.findings.clone());
            return c.bytes.clone();
        }
        self.read.insert(digest.clone());
        let mut local = Sink::new();
        let bytes = read_blob(
            self.src,
            digest,
            size,
            limit,
            Role::Document,
            &mut local,
            read_all,
        );
        let bytes = match bytes {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                local.add(
                    "WI-LAYOUT-011",
                    format!("blob {digest}"),
                    format!("blob {digest} cannot be read: {e}"),
                );
                None
            }
            None => None,
        };
        sink.extend(local.findings.clone());
        self.docs.insert(
            key,
            CachedDoc {
                findings: local.findings,
                bytes: bytes.clone(),
            },
        );
        bytes
    }

    /// Streams a layer only to verify its size and digest.
    fn verify_layer(&mut self, digest: &Digest, size: u64, sink: &mut Sink) {
        let key = (digest.clone(), size);
        if let Some(f) = self.verified.get(&key) {
            sink.extend(f.clone());
            return;
        }
        self.read.insert(digest.clone());
        let mut local = Sink::new();
        read_blob(
            self.src,
            digest,
            size,
            self.options.limits.max_layer_bytes,
            Role::Layer,
            &mut local,
            |_| (),
        );
        sink.extend(local.findings.clone());
        self.verified.insert(key, local.findings);
    }

    /// Streams a raw Wasm layer through hashing and the inspector at once.
    fn raw_payload(&mut self, digest: &Digest, size: u64, sink: &mut Sink) -> Option<ModuleInfo> {
        let key = (digest.clone(), size);
        if let Some(c) = self.raws.get(&key) {
            sink.extend(c.findings.clone());
            return c.module.clone();
        }
        self.read.insert(digest.clone());
        let validate = self.options.validate_wasm;
        let mut local = Sink::new();
        let scan = read_blob(
            self.src,
            digest,
            size,
            self.options.limits.max_layer_bytes,
            Role::Layer,
            &mut local,
            |r| payload::scan_payload(r, validate, &self.options.limits),
        );
        let module = scan.and_then(|s| {
            payload::payload_findings(
                s,
                &format!("layer {digest}"),
                &self.options.limits,
                &mut local,
            )
        });
        sink.extend(local.findings.clone());
        self.raws.insert(
            key,
            CachedPayload {
                findings: local.findings,
                module: module.clone(),
            },
        );
        module
    }

    /// Walks a tar layer; returns the plugin's module info and the diff_id.
    fn tar_layer(
        &mut self,
        digest: &Digest,
        size: u64,
        gzip: bool,
        find_plugin: bool,
        sink: &mut Sink,
    ) -> (Option<ModuleInfo>, Option<Digest>) {
        self.read.insert(digest.clone());
        let limits = self.options.limits;
        let validate = self.options.validate_wasm;
        let location = format!("layer {digest}");
        let scan = read_blob(
            self.src,
            digest,
            size,
            limits.max_layer_bytes,
            Role::Layer,
            sink,
            |r| payload::scan_tar(r, gzip, find_plugin, &limits, validate, &location),
        );
        let Some(scan) = scan else {
            return (None, None);
        };
        sink.extend(scan.findings);
        let module = scan.plugin.and_then(|(path, p)| {
            payload::payload_findings(p, &format!("{location} tar entry {path}"), &limits, sink)
        });
        (module, scan.diff_id)
    }

    /// Collects the images an index names, following nested indexes.
    pub(crate) fn collect(
        &mut self,
        items: &[IndexItem],
        stack: &mut Vec<Digest>,
        sink: &mut Sink,
        out: &mut Vec<ImageRef>,
    ) {
        for item in items {
            let (Some(digest), Some(size)) = (&item.desc.digest, item.desc.size) else {
                continue;
            };
            let tag = item
                .desc
                .annotations
                .get(ANNOTATION_REF_NAME)
                .and_then(Value::as_str)
                .map(str::to_owned);
            match item.desc.media_type.as_deref() {
                Some(mt::OCI_INDEX | mt::DOCKER_MANIFEST_LIST) => {
                    if stack.contains(digest) {
                        sink.add(
                            "WI-INDEX-007",
                            &item.location,
                            format!("index {digest} refers back to an enclosing index"),
                        );
                        continue;
                    }
                    let limit = self.options.limits.max_manifest_bytes;
                    let Some(bytes) = self.document(digest, size, limit, sink) else {
                        continue;
                    };
                    let prefix = format!("index {digest}");
                    let Some(Value::Object(obj)) = parse_json(
                        &bytes,
                        limit,
                        &self.options.limits,
                        &prefix,
                        "WI-INDEX-001",
                        "the index",
                        sink,
                    ) else {
                        continue;
                    };
                    let nested = document::check_index(&obj, &prefix, sink);
                    let amd64 = nested.iter().any(|n| {
                        n.platform
                            .as_ref()
                            .is_some_and(|(a, o)| a == "amd64" && o == "linux")
                    });
                    if !amd64 {
                        sink.add(
                            "WI-INDEX-006",
                            &prefix,
                            "the index offers no linux/amd64 entry; Istio, Envoy Gateway and oci-client tools find no image in it",
                        );
                    }
                    stack.push(digest.clone());
                    self.collect(&nested, stack, sink, out);
                    stack.pop();
                }
                Some(mt::OCI_MANIFEST | mt::DOCKER_MANIFEST) => out.push(ImageRef {
                    location: item.location.clone(),
                    media_type: item.desc.media_type.clone(),
                    digest: digest.clone(),
                    size,
                    tag,
                }),
                // Other media types MUST NOT cause an error: skipped, and said.
                Some(other) => sink.add(
                    "WI-INDEX-008",
                    &item.location,
                    format!("entry of type {other} is not an image manifest or index: skipped"),
                ),
                // A descriptor without a media type is reported by the descriptor rules.
                None => {}
            }
        }
    }

    /// Validates one image.
    pub(crate) fn image(&mut self, image: &ImageRef) -> ImageReport {
        let mut sink = Sink::new();
        let limits = self.options.limits;
        let broken = |sink: Sink, why: &str, image: &ImageRef, options: &Options| {
            let verdicts = [
                "istio",
                "envoy-gateway",
                "wkg",
                "wasmcloud",
                "runwasi",
                "spin",
                "kubewarden",
            ]
            .into_iter()
            .map(|consumer| super::ConsumerVerdict {
                consumer,
                loads: false,
                reason: why.to_owned(),
            })
            .collect();
            finish(
                sink.findings,
                Variant::Unknown,
                image,
                verdicts,
                None,
                options,
            )
        };
        let Some(bytes) = self.document(
            &image.digest,
            image.size,
            limits.max_manifest_bytes,
            &mut sink,
        ) else {
            return broken(sink, "the manifest could not be read", image, self.options);
        };
        let Some(value) = parse_json(
            &bytes,
            limits.max_manifest_bytes,
            &limits,
            "manifest",
            "WI-MANIFEST-001",
            "the manifest",
            &mut sink,
        ) else {
            return broken(
                sink,
                "the manifest is not a JSON object",
                image,
                self.options,
            );
        };
        let Value::Object(obj) = &value else {
            return broken(
                sink,
                "the manifest is not a JSON object",
                image,
                self.options,
            );
        };
        let facts = document::check_manifest(obj, "manifest", &mut sink);
        let manifest_type = obj.get("mediaType").and_then(Value::as_str);
        if let (Some(outer), Some(own)) = (&image.media_type, manifest_type)
            && outer != own
        {
            sink.add(
                "WI-MANIFEST-005",
                &image.location,
                format!("the descriptor says {outer}, the manifest says {own}"),
            );
        }
        // The variant named from the media types, and the one whose rules
        // apply: the one the user asked for, if any (spec/detection.md).
        let detected = variant::detect(&value);
        let variant = match self.options.expected_variant {
            Some(wanted) if wanted != detected => {
                sink.add(
                    "WI-VARIANT-004",
                    "manifest",
                    format!(
                        "the image is detected as {detected}, not {wanted}; the rules of {wanted} are applied"
                    ),
                );
                wanted
            }
            _ => detected,
        };
        if variant == Variant::Spin {
            // Spin never writes the manifest mediaType and its spec accepts
            // the absence: WI-MANIFEST-003 is out of scope (spec/oci-base.md).
            sink.findings.retain(|f| f.code != "WI-MANIFEST-003");
        }

        // The config.
        let config_type = facts.config.as_ref().and_then(|c| c.media_type.clone());
        let config_bytes = match facts.config.as_ref().map(|c| (&c.digest, c.size)) {
            Some((Some(d), Some(size))) => {
                self.document(d, size, limits.max_config_bytes, &mut sink)
            }
            _ => None,
        };
        // An OCI or Docker image config follows the image spec's schema,
        // whatever the variant (WI-CONFIG-001).
        let generic_config = matches!(
            config_type.as_deref(),
            Some(mt::OCI_CONFIG | mt::DOCKER_CONFIG)
        );
        let shape_code = match variant {
            Variant::Cncf => "WI-CNCF-005",
            Variant::WasmOci => "WI-WASMOCI-005",
            Variant::Spin if config_type.as_deref() == Some(mt::SPIN_APPLICATION_CONFIG) => {
                "WI-SPIN-002"
            }
            _ if generic_config => document::IMAGE_CONFIG_CODE,
            _ => "",
        };
        let config_value: Option<Map<String, Value>> = match (&config_bytes, config_type.as_deref())
        {
            (Some(b), Some(t))
                if JSON_CONFIG_TYPES.contains(&t) && variant != Variant::WasmContentV1 =>
            {
                if shape_code.is_empty() {
                    // Any content is accepted here: only the bounds are reported.
                    let mut quiet = Sink::new();
                    let v = parse_json(
                        b,
                        limits.max_config_bytes,
                        &limits,
                        "config",
                        "WI-CNCF-005",
                        "the config",
                        &mut quiet,
                    );
                    sink.extend(
                        quiet
                            .findings
                            .into_iter()
                            .filter(|f| f.code.starts_with("WI-LIMIT-")),
                    );
                    v
                } else {
                    parse_json(
                        b,
                        limits.max_config_bytes,
                        &limits,
                        "config",
                        shape_code,
                        "the config",
                        &mut sink,
                    )
                }
                .and_then(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
            }
            _ => None,
        };
        if generic_config
            && shape_code == document::IMAGE_CONFIG_CODE
            && let Some(obj) = &config_value
        {
            document::check_image_config(obj, "config", &mut sink);
        }

        // The layers.
        let n = facts.layers.len();
        let mut payloads: Vec<(usize, ModuleInfo)> = Vec::new();
        let mut diff_ids: Vec<Option<Digest>> = vec![None; n];
        let mut locked_app = None;
        let config_digest = facts.config.as_ref().and_then(|c| c.digest.clone());
        for (i, layer) in facts.layers.iter().enumerate() {
            let (Some(digest), Some(size)) = (&layer.digest, layer.size) else {
                continue;
            };
            let t = layer.media_type.as_deref();
            let last = i + 1 == n;
            // Layers are read as the image is (its detected variant), so
            // that a requested variant's rules see the real payload.
            match layer_role(detected, t, n, last) {
                LayerRole::Raw => {
                    if let Some(info) = self.raw_payload(digest, size, &mut sink) {
                        payloads.push((i, info));
                    }
                }
                LayerRole::Tar { gzip, plugin } => {
                    let (module, diff) = self.tar_layer(digest, size, gzip, plugin, &mut sink);
                    if let Some(info) = module {
                        payloads.push((i, info));
                    }
                    diff_ids[i] = diff;
                }
                LayerRole::Document => {
                    if let Some(b) = self.document(digest, size, limits.max_config_bytes, &mut sink)
                    {
                        let mut quiet = Sink::new();
                        let v = parse_json(
                            &b,
                            limits.max_config_bytes,
                            &limits,
                            "locked app",
                            "WI-SPIN-002",
                            "the locked app",
                            &mut quiet,
                        );
                        sink.extend(
                            quiet
                                .findings
                                .into_iter()
                                .filter(|f| f.code.starts_with("WI-LIMIT-")),
                        );
                        locked_app = Some((digest.clone(), v.is_some()));
                    }
                }
                LayerRole::Verify => {
                    if Some(digest) == config_digest.as_ref()
                        && facts.config.as_ref().and_then(|c| c.size) == Some(size)
                    {
                        // The same blob as the config (wasm-oci): already read.
                        continue;
                    }
                    if t == Some(mt::OCI_LAYER_TAR) {
                        diff_ids[i] = Some(digest.clone());
                    }
                    self.verify_layer(digest, size, &mut sink);
                }
            }
        }
        if detected == Variant::Spin
            && config_type.as_deref() == Some(mt::SPIN_APPLICATION_CONFIG)
            && let Some(d) = &config_digest
        {
            locked_app = Some((d.clone(), config_value.is_some()));
        }

        let image_facts = ImageFacts {
            variant,
            manifest: &facts,
            manifest_type,
            config_bytes: config_bytes.as_deref(),
            config: config_value.as_ref(),
            payloads: &payloads,
            diff_ids: &diff_ids,
            locked_app,
        };
        variants::check(&image_facts, &mut sink);

        let config_json = config_value.map(Value::Object);
        let consumer_facts = Facts {
            manifest: &value,
            config: config_json.as_ref(),
            module: payloads.first().map(|(_, m)| m),
            variant: detected,
        };
        let verdicts = consumers::verdicts(&consumer_facts, &sink.findings);
        let module_name = module_name(detected, &facts.layers, payloads.first().map(|(i, _)| *i));
        let convert = consumers::convert(&consumer_facts, &sink.findings, &verdicts, &module_name);
        finish(
            sink.findings,
            detected,
            image,
            verdicts,
            convert,
            self.options,
        )
    }
}

fn finish(
    findings: Vec<Finding>,
    variant: Variant,
    image: &ImageRef,
    consumers: Vec<super::ConsumerVerdict>,
    convert: Option<String>,
    options: &Options,
) -> ImageReport {
    ImageReport {
        valid: !findings.iter().any(|f| f.fails(options.strict)),
        variant,
        manifest_digest: Some(image.digest.clone()),
        tag: image.tag.clone(),
        findings,
        consumers,
        convert,
    }
}

/// The name to give the module in a conversion command.
fn module_name(variant: Variant, layers: &[Desc], payload_layer: Option<usize>) -> String {
    if matches!(variant, Variant::CompatOci | Variant::CompatDocker) {
        return crate::compat::PLUGIN_FILE.to_owned();
    }
    payload_layer
        .and_then(|i| layers.get(i))
        .and_then(Desc::title)
        .filter(|t| {
            !t.is_empty()
                && !t.contains(['/', '\\', ' ', '\'', '"', '$', '`', ';', '&', '|'])
                && t.ends_with(".wasm")
        })
        .map(str::to_owned)
        .unwrap_or_else(|| "<module>".to_owned())
}

enum LayerRole {
    /// Raw Wasm bytes.
    Raw,
    /// A tar layer: the compat payload layer, or one whose diff_id is needed.
    Tar { gzip: bool, plugin: bool },
    /// A JSON document (the Spin locked app).
    Document,
    /// Only size and digest are checked.
    Verify,
}

fn layer_role(variant: Variant, t: Option<&str>, n: usize, last: bool) -> LayerRole {
    let gzip_tar = matches!(t, Some(mt::OCI_LAYER_TAR_GZIP | mt::DOCKER_LAYER_TAR_GZIP));
    match variant {
        Variant::Cncf if t == Some(mt::WASM_LAYER) || n == 1 => LayerRole::Raw,
        Variant::WasmOci if t == Some(mt::MODULE_WASM_CONTENT_LAYER) => LayerRole::Raw,
        Variant::WasmContentV1 if t == Some(mt::WASM_CONTENT_LAYER_V1) || n == 1 => LayerRole::Raw,
        Variant::Runwasi if matches!(t, Some(mt::RUNWASI_COMPONENT_LAYER | mt::WASM_LAYER)) => {
            LayerRole::Raw
        }
        Variant::Spin if matches!(t, Some(mt::WASM_CONTENT_LAYER_V1 | mt::WASM_LAYER)) => {
            LayerRole::Raw
        }
        Variant::Spin if t == Some(mt::SPIN_APPLICATION_CONFIG) => LayerRole::Document,
        Variant::CompatOci | Variant::CompatDocker
            if last && (gzip_tar || t == Some(mt::OCI_LAYER_TAR)) =>
        {
            LayerRole::Tar {
                gzip: gzip_tar,
                plugin: true,
            }
        }
        Variant::CompatOci | Variant::CompatDocker if gzip_tar => LayerRole::Tar {
            gzip: true,
            plugin: false,
        },
        _ => LayerRole::Verify,
    }
}

/// What one thread of [`validate_images`] did: reports by image number, blobs read.
type WorkerResult = (Vec<(usize, ImageReport)>, HashSet<Digest>);

/// Validates images, on every core for a layout or archive holding several
/// (more threads for a store that waits on the network, as it asks):
/// threads take the next image from a shared counter, each with its own
/// engine (so a blob two images share may be read by two threads; the
/// findings are the same), and the reports keep the order of `selected`.
fn validate_images(engine: &mut Engine, selected: &[ImageRef]) -> Vec<ImageReport> {
    let threads = engine.src.readers().max(1).min(selected.len());
    let src = match engine.src.as_sync() {
        Some(src) if threads > 1 => src,
        _ => return selected.iter().map(|r| engine.image(r)).collect(),
    };
    let options = engine.options;
    let next = AtomicUsize::new(0);
    let results: Vec<WorkerResult> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut local = Engine::new(src, options);
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(image) = selected.get(i) else {
                            break;
                        };
                        done.push((i, local.image(image)));
                    }
                    (done, local.read)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| match w.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let mut reports: Vec<Option<ImageReport>> = Vec::new();
    reports.resize_with(selected.len(), || None);
    for (done, read) in results {
        engine.read.extend(read);
        for (i, report) in done {
            reports[i] = Some(report);
        }
    }
    reports.into_iter().flatten().collect()
}

/// Builds the report of a run: one image → [`Report::Image`] (with the
/// layout-level findings added to it), otherwise [`Report::Layout`].
pub(crate) fn run(
    engine: &mut Engine,
    index: Option<&Map<String, Value>>,
    selector: Option<&Selector>,
    mut layout: Sink,
) -> Report {
    let mut refs = Vec::new();
    let mut artifacts = Vec::new();
    if let Some(obj) = index {
        let items = document::check_index(obj, "index.json", &mut layout);
        // Signature artifacts tagged `sha256-<hex>[.sig|.att|.sbom]` are
        // checked as artifacts, not collected as images.
        let (tagged, items): (Vec<IndexItem>, Vec<IndexItem>) =
            items.into_iter().partition(|item| {
                item.desc
                    .annotations
                    .get(ANNOTATION_REF_NAME)
                    .and_then(Value::as_str)
                    .is_some_and(crate::store::is_artifact_tag)
            });
        for item in &tagged {
            if let (Some(digest), Some(size)) = (&item.desc.digest, item.desc.size) {
                artifacts.push(ImageRef {
                    location: item.location.clone(),
                    media_type: item.desc.media_type.clone(),
                    digest: digest.clone(),
                    size,
                    tag: item
                        .desc
                        .annotations
                        .get(ANNOTATION_REF_NAME)
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
        }
        engine.collect(&items, &mut Vec::new(), &mut layout, &mut refs);
    }
    // Referrer manifests (a `subject`) listed directly are artifacts too.
    let digests: Vec<Digest> = refs.iter().map(|r| r.digest.clone()).collect();
    let (referrers, refs): (Vec<ImageRef>, Vec<ImageRef>) = refs
        .into_iter()
        .partition(|r| engine.is_referrer(r, &digests));
    artifacts.extend(referrers);
    for artifact in &artifacts {
        engine.artifact(artifact, &mut layout);
    }
    let strict = engine.options.strict;
    let selected: Vec<ImageRef> = match selector {
        None | Some(Selector::Only) => refs,
        Some(Selector::Tag(tag)) => refs
            .into_iter()
            .filter(|r| r.tag.as_deref() == Some(tag.as_str()))
            .collect(),
        Some(Selector::Digest(d)) => {
            let mut found: Vec<ImageRef> = refs.into_iter().filter(|r| &r.digest == d).collect();
            found.truncate(1);
            found
        }
    };
    if selected.is_empty()
        && let Some(sel) = selector.filter(|s| **s != Selector::Only)
    {
        layout.add(
            "WI-LAYOUT-010",
            "index.json",
            format!(
                "index.json names no image {}",
                match sel {
                    Selector::Tag(t) => format!("tagged {t:?}"),
                    Selector::Digest(d) => d.to_string(),
                    Selector::Only => String::new(),
                }
            ),
        );
    }
    let images = validate_images(engine, &selected);
    let images = match <[ImageReport; 1]>::try_from(images) {
        Ok([mut image]) => {
            let mut findings = layout.findings;
            findings.append(&mut image.findings);
            image.findings = findings;
            image.valid = !image.findings.iter().any(|f| f.fails(strict));
            return Report::Image(image);
        }
        Err(images) => images,
    };
    let valid = !layout.findings.iter().any(|f| f.fails(strict)) && images.iter().all(|i| i.valid);
    Report::Layout(LayoutReport {
        valid,
        findings: layout.findings,
        images,
    })
}
