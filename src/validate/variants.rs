//! The rules of each variant (spec/variant-*.md) and the conflicting-marks
//! rules of spec/detection.md, on the manifest, the config and the payload.

use serde_json::{Map, Value};

use super::document::{Desc, ManifestFacts, is_rfc3339, json_type};
use super::finding::{Sink, show, show_json};
use crate::digest::Digest;
use crate::manifest::{ANNOTATION_ABI_VERSION, ANNOTATION_RUNTIME_TYPE, ANNOTATION_WASM_VARIANT};
use crate::media_type as mt;
use crate::variant::Variant;
use crate::wasm::{ModuleInfo, ModuleKind};

/// Everything the variant rules look at.
pub(crate) struct ImageFacts<'a> {
    pub(crate) variant: Variant,
    pub(crate) manifest: &'a ManifestFacts,
    /// The manifest's raw `mediaType` string, if any.
    pub(crate) manifest_type: Option<&'a str>,
    /// The config blob, when it was read and verified.
    pub(crate) config_bytes: Option<&'a [u8]>,
    /// The config parsed as a JSON object, when it is one.
    pub(crate) config: Option<&'a Map<String, Value>>,
    /// The payload of each Wasm layer that was read: (layer index, info).
    pub(crate) payloads: &'a [(usize, ModuleInfo)],
    /// The uncompressed digest of each layer, where known.
    pub(crate) diff_ids: &'a [Option<Digest>],
    /// The Spin locked app, when read: whether it is a JSON object.
    pub(crate) locked_app: Option<(Digest, bool)>,
}

impl ImageFacts<'_> {
    fn layer_types(&self) -> Vec<Option<&str>> {
        self.manifest
            .layers
            .iter()
            .map(|l| l.media_type.as_deref())
            .collect()
    }

    fn annotation(&self, key: &str) -> Option<&Value> {
        self.manifest.annotations.get(key)
    }

    fn config_digest(&self) -> Option<&Digest> {
        self.manifest
            .config
            .as_ref()
            .and_then(|c| c.digest.as_ref())
    }
}

/// Runs the rules of the detected variant and the conflicting-marks rules.
pub(crate) fn check(f: &ImageFacts, sink: &mut Sink) {
    marks(f, sink);
    match f.variant {
        Variant::Cncf => cncf(f, sink),
        Variant::WasmOci => wasm_oci(f, sink),
        Variant::CompatOci | Variant::CompatDocker => compat(f, sink),
        Variant::WasmContentV1 => w2o(f, sink),
        Variant::Runwasi => runwasi(f, sink),
        Variant::Spin => spin(f, sink),
        Variant::Unknown => unknown(f, sink),
    }
}

fn marks(f: &ImageFacts, sink: &mut Sink) {
    let compat = matches!(f.variant, Variant::CompatOci | Variant::CompatDocker);
    if !compat && f.annotation(ANNOTATION_WASM_VARIANT).is_some() {
        sink.add(
            "WI-VARIANT-002",
            format!("manifest.annotations.{ANNOTATION_WASM_VARIANT}"),
            format!(
                "the compat annotation {ANNOTATION_WASM_VARIANT} is on a {} image",
                f.variant
            ),
        );
    }
    if f.variant != Variant::WasmOci {
        for key in [ANNOTATION_ABI_VERSION, ANNOTATION_RUNTIME_TYPE] {
            if f.annotation(key).is_some() {
                sink.add(
                    "WI-VARIANT-002",
                    format!("manifest.annotations.{key}"),
                    format!("the wasm-oci annotation {key} is on a {} image", f.variant),
                );
            }
        }
    }
    if f.manifest_type == Some(mt::DOCKER_MANIFEST) && f.variant != Variant::CompatDocker {
        sink.add(
            "WI-VARIANT-002",
            "manifest.mediaType",
            format!("a Docker schema 2 manifest type on a {} image", f.variant),
        );
    }
}

fn proxy_payload(f: &ImageFacts, component_code: &'static str, sink: &mut Sink) {
    for (i, info) in f.payloads {
        let at = format!("manifest.layers[{i}]");
        match info.kind {
            ModuleKind::Component => sink.add(
                component_code,
                &at,
                "the payload is a component; proxy-wasm hosts load core modules only",
            ),
            ModuleKind::CoreModule if info.proxy_abi.is_none() => sink.add(
                "WI-ABI-005",
                &at,
                format!(
                    "the core module exports no proxy-wasm ABI marker (proxy_abi_version_0_2_1, _0_2_0 or _0_1_0); Envoy fails with \"Missing or unknown Proxy-Wasm ABI version\" (exports: {})",
                    if info.exports.is_empty() { "none".to_owned() } else { info.exports.join(", ") }
                ),
            ),
            ModuleKind::CoreModule => {}
        }
    }
}

fn title_missing(d: &Desc) -> bool {
    d.title().is_none()
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn cncf(f: &ImageFacts, sink: &mut Sink) {
    if f.manifest_type != Some(mt::OCI_MANIFEST) {
        sink.add(
            "WI-CNCF-001",
            "manifest.mediaType",
            format!(
                "the manifest mediaType is {}; oci-wasm requires {}",
                f.manifest_type.map(show).unwrap_or_else(|| "absent".into()),
                mt::OCI_MANIFEST
            ),
        );
    }
    let layers = &f.manifest.layers;
    if layers.len() != 1 {
        sink.add(
            "WI-CNCF-002",
            "manifest.layers",
            format!(
                "the manifest has {} layers; oci-wasm requires exactly one",
                layers.len()
            ),
        );
    }
    for (i, l) in layers.iter().enumerate() {
        if let Some(t) = &l.media_type
            && t != mt::WASM_LAYER
        {
            sink.add(
                "WI-CNCF-003",
                format!("manifest.layers[{i}].mediaType"),
                format!("the layer media type is {}, not application/wasm", show(t)),
            );
        }
        if title_missing(l) {
            sink.add(
                "WI-CNCF-004",
                format!("manifest.layers[{i}].annotations"),
                "the layer has no org.opencontainers.image.title annotation",
            );
        }
    }
    let Some(config) = f.config else {
        if f.config_bytes.is_some() {
            // parse_json reported why (WI-CNCF-005 or a limit).
        }
        return;
    };
    let bad_type = |sink: &mut Sink, key: &str, v: &Value, want: &str| {
        sink.add(
            "WI-CNCF-005",
            format!("config.{key}"),
            format!(
                "{key} is the JSON {} {}, must be {want}",
                json_type(v),
                show_json(v)
            ),
        )
    };
    match config.get("created") {
        Some(Value::String(s)) if is_rfc3339(s) => {}
        Some(v) => sink.add(
            "WI-CNCF-007",
            "config.created",
            format!("created {} is not an RFC 3339 date-time", show_json(v)),
        ),
        None => sink.add("WI-CNCF-007", "config", "the config has no created"),
    }
    match config.get("author") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(v) => bad_type(sink, "author", v, "a string"),
    }
    match config.get("architecture") {
        Some(Value::String(a)) if a == "wasm" => {}
        Some(v @ Value::String(_)) => sink.add(
            "WI-CNCF-006",
            "config.architecture",
            format!("architecture is {}, not \"wasm\"", show_json(v)),
        ),
        Some(v) => bad_type(sink, "architecture", v, "a string"),
        None => sink.add("WI-CNCF-006", "config", "the config has no architecture"),
    }
    let os = match config.get("os") {
        Some(Value::String(o)) if o == "wasip1" || o == "wasip2" => Some(o.as_str()),
        Some(v @ Value::String(_)) => {
            sink.add(
                "WI-CNCF-006",
                "config.os",
                format!("os is {}, not \"wasip1\" or \"wasip2\"", show_json(v)),
            );
            None
        }
        Some(v) => {
            bad_type(sink, "os", v, "a string");
            None
        }
        None => {
            sink.add("WI-CNCF-006", "config", "the config has no os");
            None
        }
    };
    match config.get("layerDigests") {
        None => sink.add("WI-CNCF-008", "config", "the config has no layerDigests"),
        Some(v) => match string_list(v) {
            None => bad_type(sink, "layerDigests", v, "an array of strings"),
            Some(list) => {
                let layers: Vec<String> = f
                    .manifest
                    .layers
                    .iter()
                    .map(|l| l.digest.as_ref().map(|d| d.to_string()).unwrap_or_default())
                    .collect();
                if list != layers {
                    sink.add(
                        "WI-CNCF-008",
                        "config.layerDigests",
                        format!(
                            "layerDigests [{}] differ from the manifest's layers [{}]",
                            list.join(", "),
                            layers.join(", ")
                        ),
                    );
                }
            }
        },
    }
    let component = match config.get("component") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => {
            let mut lists = (None, None);
            for key in ["exports", "imports"] {
                match c.get(key) {
                    None => sink.add(
                        "WI-CNCF-005",
                        "config.component",
                        format!("component has no {key}"),
                    ),
                    Some(v) => match string_list(v) {
                        Some(l) => {
                            if key == "exports" {
                                lists.0 = Some(l);
                            } else {
                                lists.1 = Some(l);
                            }
                        }
                        None => {
                            bad_type(sink, &format!("component.{key}"), v, "an array of strings")
                        }
                    },
                }
            }
            match c.get("target") {
                None | Some(Value::Null | Value::String(_)) => {}
                Some(v) => bad_type(sink, "component.target", v, "a string"),
            }
            Some(lists)
        }
        Some(v) => {
            bad_type(sink, "component", v, "an object");
            None
        }
    };
    for (_, info) in f.payloads {
        match info.kind {
            ModuleKind::Component => {
                match &component {
                    None => sink.add(
                        "WI-CNCF-009",
                        "config",
                        "the payload is a component but the config has no component object",
                    ),
                    Some((exports, imports)) => {
                        let same = |declared: &Option<Vec<String>>, real: &[String]| {
                            declared.as_ref().is_none_or(|d| {
                                let mut a: Vec<&String> = d.iter().collect();
                                let mut b: Vec<&String> = real.iter().collect();
                                a.sort();
                                a.dedup();
                                b.sort();
                                b.dedup();
                                a == b
                            })
                        };
                        if !same(exports, &info.exports) || !same(imports, &info.imports) {
                            sink.add(
                                "WI-CNCF-012",
                                "config.component",
                                format!(
                                    "the config lists exports [{}] and imports [{}]; the component declares exports [{}] and imports [{}]",
                                    exports.as_deref().unwrap_or_default().join(", "),
                                    imports.as_deref().unwrap_or_default().join(", "),
                                    info.exports.join(", "),
                                    info.imports.join(", ")
                                ),
                            );
                        }
                    }
                }
                if os == Some("wasip1") {
                    sink.add(
                        "WI-CNCF-010",
                        "config.os",
                        "the payload is a component but os is \"wasip1\"",
                    );
                }
            }
            ModuleKind::CoreModule => {
                if os == Some("wasip2") || component.is_some() {
                    sink.add(
                        "WI-CNCF-011",
                        "config",
                        format!(
                            "the payload is a core module but the config {}",
                            match (os == Some("wasip2"), component.is_some()) {
                                (true, true) => "says \"wasip2\" and has a component object",
                                (true, false) => "says \"wasip2\"",
                                _ => "has a component object",
                            }
                        ),
                    );
                }
            }
        }
    }
}

fn is_legacy_abi(v: &str) -> bool {
    v.strip_prefix("v0-").is_some_and(|h| {
        h.len() == 40
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn wasm_oci(f: &ImageFacts, sink: &mut Sink) {
    let types = f.layer_types();
    if types.len() != 2 {
        sink.add(
            "WI-WASMOCI-001",
            "manifest.layers",
            format!("the manifest has {} layers; Istio and Envoy Gateway require exactly 2 (number of layers must be 2 but got {})", types.len(), types.len()),
        );
    }
    let content = types
        .iter()
        .filter(|t| **t == Some(mt::MODULE_WASM_CONTENT_LAYER))
        .count();
    if content != 1 {
        sink.add(
            "WI-WASMOCI-002",
            "manifest.layers",
            format!(
                "the manifest has {content} layers of type {}; exactly one is required",
                mt::MODULE_WASM_CONTENT_LAYER
            ),
        );
    }
    match types
        .iter()
        .position(|t| *t == Some(mt::MODULE_WASM_CONFIG))
    {
        None => sink.add(
            "WI-WASMOCI-003",
            "manifest.layers",
            format!("no layer has type {}", mt::MODULE_WASM_CONFIG),
        ),
        Some(i) => {
            let layer = f.manifest.layers[i].digest.as_ref();
            if layer.is_some() && layer != f.config_digest() {
                sink.add(
                    "WI-WASMOCI-004",
                    format!("manifest.layers[{i}].digest"),
                    format!(
                        "the runtime-config layer is {}, the config descriptor {}",
                        layer.map(|d| d.to_string()).unwrap_or_default(),
                        f.config_digest().map(|d| d.to_string()).unwrap_or_default()
                    ),
                );
            }
        }
    }
    proxy_payload(f, "WI-WASMOCI-011", sink);
    let Some(config) = f.config else {
        return;
    };
    let runtime_type = match config.get("type") {
        Some(Value::String(t)) => {
            if t != "envoy_proxy" {
                sink.add(
                    "WI-WASMOCI-006",
                    "config.type",
                    format!("type is {}, not \"envoy_proxy\"", show(t)),
                );
            }
            Some(t.as_str())
        }
        Some(v) => {
            sink.add(
                "WI-WASMOCI-005",
                "config.type",
                format!("type is the JSON {}, not a string", json_type(v)),
            );
            None
        }
        None => {
            sink.add("WI-WASMOCI-005", "config", "the runtime config has no type");
            None
        }
    };
    let versions = match config.get("abiVersions") {
        None => None,
        Some(v) => match string_list(v) {
            Some(l) => Some(l),
            None => {
                sink.add(
                    "WI-WASMOCI-005",
                    "config.abiVersions",
                    format!(
                        "abiVersions is the JSON {} {}, not an array of strings",
                        json_type(v),
                        show_json(v)
                    ),
                );
                None
            }
        },
    };
    match config.get("config") {
        None => {}
        Some(Value::Object(c)) => {
            if let Some(r) = c.get("rootIds")
                && string_list(r).is_none()
            {
                sink.add(
                    "WI-WASMOCI-005",
                    "config.config.rootIds",
                    format!(
                        "rootIds is the JSON {}, not an array of strings",
                        json_type(r)
                    ),
                );
            }
            if c.contains_key("root_ids") {
                sink.add(
                    "WI-WASMOCI-007",
                    "config.config.root_ids",
                    "the runtime config spells root_ids; wasme reads rootIds",
                );
            }
        }
        Some(v) => sink.add(
            "WI-WASMOCI-005",
            "config.config",
            format!("config is the JSON {}, not an object", json_type(v)),
        ),
    }
    for key in ["abi_version", "abiVersion"] {
        if config.contains_key(key) {
            sink.add(
                "WI-WASMOCI-007",
                format!("config.{key}"),
                format!("the runtime config spells {key}; wasme reads abiVersions"),
            );
        }
    }
    if let Some(list) = &versions {
        for (i, v) in list.iter().enumerate() {
            if is_legacy_abi(v) {
                sink.add(
                    "WI-WASMOCI-008",
                    format!("config.abiVersions[{i}]"),
                    format!("abiVersions holds the legacy value {}", show(v)),
                );
            }
        }
        let current: Vec<&String> = list.iter().filter(|v| !is_legacy_abi(v)).collect();
        for (i, info) in f.payloads {
            if let Some(abi) = info.proxy_abi
                && !current.is_empty()
                && !current.iter().any(|v| v.as_str() == abi.version())
            {
                sink.add(
                        "WI-WASMOCI-009",
                        "config.abiVersions",
                        format!(
                            "abiVersions [{}] does not name {}, the ABI of the marker {} that the module (layer {i}) exports",
                            list.join(", "),
                            abi.version(),
                            abi.marker()
                        ),
                    );
            }
        }
    }
    let expected_abi = versions
        .as_ref()
        .filter(|l| !l.is_empty())
        .map(|l| l.join(","));
    let annotation = |key: &str| f.annotation(key).and_then(Value::as_str);
    if annotation(ANNOTATION_ABI_VERSION) != expected_abi.as_deref() {
        sink.add(
            "WI-WASMOCI-010",
            format!("manifest.annotations.{ANNOTATION_ABI_VERSION}"),
            format!(
                "{ANNOTATION_ABI_VERSION} is {}, the runtime config says {}",
                annotation(ANNOTATION_ABI_VERSION)
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
                expected_abi
                    .as_deref()
                    .map(show)
                    .unwrap_or_else(|| "nothing".into())
            ),
        );
    }
    if let Some(t) = runtime_type
        && annotation(ANNOTATION_RUNTIME_TYPE) != Some(t)
    {
        sink.add(
            "WI-WASMOCI-010",
            format!("manifest.annotations.{ANNOTATION_RUNTIME_TYPE}"),
            format!(
                "{ANNOTATION_RUNTIME_TYPE} is {}, the runtime config's type is {}",
                annotation(ANNOTATION_RUNTIME_TYPE)
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
                show(t)
            ),
        );
    }
}

fn compat(f: &ImageFacts, sink: &mut Sink) {
    let types = f.layer_types();
    let docker = f.manifest_type == Some(mt::DOCKER_MANIFEST);
    let expected = if docker {
        mt::DOCKER_LAYER_TAR_GZIP
    } else {
        mt::OCI_LAYER_TAR_GZIP
    };
    if let Some(Some(last)) = types.last() {
        let i = types.len() - 1;
        if *last == mt::OCI_LAYER_TAR {
            sink.add(
                "WI-COMPAT-002",
                format!("manifest.layers[{i}].mediaType"),
                format!("the last layer is an uncompressed tar ({last}); Istio and Envoy Gateway require {expected}"),
            );
        } else if *last != expected {
            sink.add(
                "WI-COMPAT-001",
                format!("manifest.layers[{i}].mediaType"),
                format!("the last layer's media type is {last}, not {expected}"),
            );
        }
    }
    if let Some(v) = f.annotation(ANNOTATION_WASM_VARIANT)
        && v.as_str() != Some("compat")
    {
        sink.add(
            "WI-COMPAT-011",
            format!("manifest.annotations.{ANNOTATION_WASM_VARIANT}"),
            format!(
                "{ANNOTATION_WASM_VARIANT} is {}, not \"compat\"",
                show_json(v)
            ),
        );
    }
    proxy_payload(f, "WI-COMPAT-012", sink);
    let Some(config) = f.config else {
        return;
    };
    let config_type = f
        .manifest
        .config
        .as_ref()
        .and_then(|c| c.media_type.as_deref());
    if !matches!(config_type, Some(mt::OCI_CONFIG | mt::DOCKER_CONFIG)) {
        return;
    }
    let Some(Value::Object(rootfs)) = config.get("rootfs") else {
        return;
    };
    let declared = rootfs.get("diff_ids").and_then(string_list);
    let Some(declared) = declared else {
        sink.add(
            "WI-COMPAT-013",
            "config.rootfs.diff_ids",
            "rootfs.diff_ids is missing or not an array of strings",
        );
        return;
    };
    let wrong_len = declared.len() != f.diff_ids.len();
    let mismatch = f
        .diff_ids
        .iter()
        .zip(&declared)
        .enumerate()
        .find(|(_, (real, d))| real.as_ref().is_some_and(|r| r.as_str() != d.as_str()));
    if wrong_len {
        sink.add(
            "WI-COMPAT-013",
            "config.rootfs.diff_ids",
            format!(
                "rootfs.diff_ids lists {} digests for {} layers",
                declared.len(),
                f.diff_ids.len()
            ),
        );
    } else if let Some((i, (real, d))) = mismatch {
        sink.add(
            "WI-COMPAT-013",
            format!("config.rootfs.diff_ids[{i}]"),
            format!(
                "diff_id {} differs from the sha256 of the uncompressed layer, {}",
                show(d),
                real.as_ref().map(|r| r.to_string()).unwrap_or_default()
            ),
        );
    }
}

fn w2o(f: &ImageFacts, sink: &mut Sink) {
    let layers = &f.manifest.layers;
    if layers.len() != 1 {
        sink.add(
            "WI-W2O-001",
            "manifest.layers",
            format!(
                "the manifest has {} layers; exactly one is required",
                layers.len()
            ),
        );
    }
    for (i, l) in layers.iter().enumerate() {
        if let Some(t) = &l.media_type
            && t != mt::WASM_CONTENT_LAYER_V1
        {
            sink.add(
                "WI-W2O-002",
                format!("manifest.layers[{i}].mediaType"),
                format!(
                    "the layer media type is {}, not {}",
                    show(t),
                    mt::WASM_CONTENT_LAYER_V1
                ),
            );
        }
        if title_missing(l) {
            sink.add(
                "WI-W2O-004",
                format!("manifest.layers[{i}].annotations"),
                "the layer has no org.opencontainers.image.title annotation",
            );
        }
    }
    if let Some(bytes) = f.config_bytes
        && bytes != b"{}"
    {
        sink.add(
            "WI-W2O-003",
            "config",
            format!(
                "the config blob is {} bytes, not the two bytes {{}}",
                bytes.len()
            ),
        );
    }
    for (i, info) in f.payloads {
        if info.kind == ModuleKind::CoreModule
            && !info
                .custom_sections
                .iter()
                .any(|s| s == "io.kubewarden.metadata")
        {
            sink.add(
                "WI-W2O-005",
                format!("manifest.layers[{i}]"),
                "the core module has no io.kubewarden.metadata custom section",
            );
        }
    }
}

fn architecture_is_wasm(f: &ImageFacts) -> Result<(), String> {
    match f.config.map(|c| c.get("architecture")) {
        Some(Some(Value::String(a))) if a == "wasm" => Ok(()),
        Some(Some(v)) => Err(format!("architecture is {}, not \"wasm\"", show_json(v))),
        Some(None) => Err("the image config has no architecture".into()),
        None => Err("the image config is not a JSON object".into()),
    }
}

fn runwasi(f: &ImageFacts, sink: &mut Sink) {
    if f.config_bytes.is_some()
        && let Err(why) = architecture_is_wasm(f)
    {
        sink.add("WI-RUNWASI-001", "config.architecture", why);
    }
    let wasm = f
        .layer_types()
        .into_iter()
        .filter(|t| matches!(t, Some(mt::RUNWASI_COMPONENT_LAYER | mt::WASM_LAYER)))
        .count();
    if wasm > 1 {
        sink.add(
            "WI-RUNWASI-002",
            "manifest.layers",
            format!("the image has {wasm} Wasm layers; runwasi runs a single module"),
        );
    }
    if let Some(config) = f.config {
        let entry = config
            .get("config")
            .and_then(|c| c.get("Entrypoint"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str);
        if !entry.is_some_and(|e| e.ends_with(".wasm")) {
            sink.add(
                "WI-RUNWASI-003",
                "config.config.Entrypoint",
                format!(
                    "config.Entrypoint's first element is {}, not a .wasm file",
                    entry.map(show).unwrap_or_else(|| "missing".into())
                ),
            );
        }
    }
    sink.add(
        "WI-RUNWASI-004",
        "manifest.layers",
        "the Wasm layers are outside the rootfs; containerd 1.6.25, 1.7.7, 2.0 or later is needed",
    );
}

fn spin(f: &ImageFacts, sink: &mut Sink) {
    let config_type = f
        .manifest
        .config
        .as_ref()
        .and_then(|c| c.media_type.as_deref());
    let last_is_app =
        f.layer_types().last().copied().flatten() == Some(mt::SPIN_APPLICATION_CONFIG);
    if !last_is_app && config_type != Some(mt::SPIN_APPLICATION_CONFIG) {
        sink.add(
            "WI-SPIN-001",
            "manifest.layers",
            "neither the last layer nor the config is a Spin locked app",
        );
    }
    if let Some((_, false)) = f.locked_app {
        sink.add(
            "WI-SPIN-002",
            "manifest.layers",
            "the locked app is not a JSON object",
        );
    }
    if f.manifest.layers.len() > 500 {
        sink.add(
            "WI-SPIN-004",
            "manifest.layers",
            format!(
                "the manifest has {} layers, more than the 500 some registries accept",
                f.manifest.layers.len()
            ),
        );
    }
    if config_type == Some(mt::SPIN_APPLICATION_CONFIG) {
        return;
    }
    let Some(config) = f.config else {
        return;
    };
    if let Err(why) = architecture_is_wasm(f) {
        sink.add("WI-SPIN-006", "config.architecture", why);
    }
    if let Some(Value::String(os)) = config.get("os")
        && os.to_lowercase() != *os
    {
        sink.add(
            "WI-SPIN-005",
            "config.os",
            format!("os is {}, not lowercase", show(os)),
        );
    }
    if let Some((digest, _)) = &f.locked_app {
        let label = config
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| l.get("com.fermyon.spin.lockedAppDigest"))
            .and_then(Value::as_str);
        if label != Some(digest.as_str()) {
            sink.add(
                "WI-SPIN-003",
                "config.config.Labels.com.fermyon.spin.lockedAppDigest",
                format!(
                    "the label is {}, the locked-app layer is {digest}",
                    label.map(show).unwrap_or_else(|| "missing".into())
                ),
            );
        }
    }
}

fn unknown(f: &ImageFacts, sink: &mut Sink) {
    let config_type = f
        .manifest
        .config
        .as_ref()
        .and_then(|c| c.media_type.as_deref());
    let known_outside = matches!(
        config_type,
        Some(
            "application/vnd.wasmcloud.actor.archive.config"
                | "application/vnd.wasmcloud.provider.archive.config"
        )
    ) || f.config.is_some_and(|c| {
        matches!(
            c.get("architecture").and_then(Value::as_str),
            Some("wasm" | "wasm32")
        ) || c.get("os").and_then(Value::as_str) == Some("wasi")
    });
    if known_outside {
        sink.add(
            "WI-VARIANT-003",
            "manifest",
            format!(
                "the image follows a known layout outside this spec (config type {})",
                config_type.unwrap_or("absent")
            ),
        );
    } else {
        sink.add(
            "WI-VARIANT-001",
            "manifest",
            format!(
                "the image matches no variant (config type {}, layer types [{}])",
                config_type.unwrap_or("absent"),
                f.layer_types()
                    .iter()
                    .map(|t| t.unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}
