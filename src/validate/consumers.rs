//! Which consumers load an image, and why not (from `shared/notes/consumers.md`
//! and spec/README.md), and the command that converts it.

use serde_json::Value;

use super::ConsumerVerdict;
use super::finding::Finding;
use crate::media_type as mt;
use crate::rules::Severity;
use crate::variant::Variant;
use crate::wasm::{ModuleInfo, ModuleKind};

/// What the consumers look at.
pub(crate) struct Facts<'a> {
    pub(crate) manifest: &'a Value,
    pub(crate) config: Option<&'a Value>,
    /// The payload of the first Wasm layer, when it was read.
    pub(crate) module: Option<&'a ModuleInfo>,
    pub(crate) variant: Variant,
}

impl Facts<'_> {
    fn manifest_type(&self) -> Option<&str> {
        self.manifest.get("mediaType").and_then(Value::as_str)
    }

    fn config_type(&self) -> Option<&str> {
        self.manifest
            .get("config")
            .and_then(|c| c.get("mediaType"))
            .and_then(Value::as_str)
    }

    fn layer_types(&self) -> Vec<&str> {
        self.manifest
            .get("layers")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        l.get("mediaType")
                            .and_then(Value::as_str)
                            .unwrap_or("(none)")
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn architecture(&self) -> Option<&str> {
        self.config?.get("architecture")?.as_str()
    }
}

/// Istio's and Envoy Gateway's fetcher (istio/istio `pkg/wasm/imagefetcher.go`).
fn proxy_fetcher(f: &Facts, who: &str) -> Result<String, String> {
    let layers = f.layer_types();
    if f.manifest_type() == Some(mt::DOCKER_MANIFEST) {
        let Some(last) = layers.last() else {
            return Err(format!(
                "{who} reads a Docker manifest as the compat variant: number of layers must be greater than zero"
            ));
        };
        if *last != mt::DOCKER_LAYER_TAR_GZIP {
            return Err(format!(
                "{who} reads a Docker manifest as the compat variant: invalid media type {last} (expect {})",
                mt::DOCKER_LAYER_TAR_GZIP
            ));
        }
        return Ok(format!(
            "{who} reads the compat variant (Docker): plugin.wasm from the last layer"
        ));
    }
    let compat_err = match layers.last() {
        None => "number of layers must be greater than zero".to_owned(),
        Some(&last) if last == mt::OCI_LAYER_TAR_GZIP => {
            return Ok(format!(
                "{who} reads the compat variant: plugin.wasm from the last tar+gzip layer"
            ));
        }
        Some(last) => format!(
            "invalid media type {last} (expect {})",
            mt::OCI_LAYER_TAR_GZIP
        ),
    };
    let oci_err = if layers.len() != 2 {
        format!("number of layers must be 2 but got {}", layers.len())
    } else if !layers.contains(&mt::MODULE_WASM_CONTENT_LAYER) {
        format!(
            "could not find the layer of type {}",
            mt::MODULE_WASM_CONTENT_LAYER
        )
    } else {
        return Ok(format!(
            "{who} reads the oci variant: the {} layer",
            mt::MODULE_WASM_CONTENT_LAYER
        ));
    };
    Err(format!(
        "{who} reads only compat (last layer tar+gzip) and wasm-oci (2 layers) images: could not parse as compat variant: {compat_err}; could not parse as oci variant: {oci_err}"
    ))
}

/// oci-wasm's pull, as wkg uses it (bytecodealliance/rust-oci-wasm `src/client.rs`).
fn wkg(f: &Facts) -> Result<String, String> {
    let layers = f.layer_types();
    if let Some(bad) = layers.iter().find(|t| **t != mt::WASM_LAYER) {
        return Err(format!(
            "wkg (oci-wasm) pulls only application/wasm layers: Incompatible layer media type: {bad}"
        ));
    }
    if layers.len() != 1 {
        return Err("wkg (oci-wasm): Wasm components must have exactly one layer".into());
    }
    if f.config_type() != Some(mt::WASM_CONFIG_V0) {
        return Err(format!(
            "wkg (oci-wasm): Wasm components must have a config of type {}",
            mt::WASM_CONFIG_V0
        ));
    }
    if f.manifest_type() != Some(mt::OCI_MANIFEST) {
        return Err(format!(
            "wkg (oci-wasm): Wasm components must have a manifest of type {}",
            mt::OCI_MANIFEST
        ));
    }
    Ok("wkg (oci-wasm) loads the cncf layout: one application/wasm layer and the application/vnd.wasm.config.v0+json config".into())
}

/// The wasmCloud v2 host (wasmCloud/wasmCloud `crates/wash-runtime/src/oci.rs`).
fn wasmcloud(f: &Facts) -> Result<String, String> {
    let layers = f.layer_types();
    if let Some(bad) = layers
        .iter()
        .find(|t| **t != mt::WASM_LAYER && **t != mt::MODULE_WASM_CONTENT_LAYER)
    {
        return Err(format!(
            "wasmCloud pulls only application/wasm (and the deprecated {}) layers: Incompatible layer media type: {bad}",
            mt::MODULE_WASM_CONTENT_LAYER
        ));
    }
    if layers.is_empty() {
        return Err("wasmCloud: the image has no layers".into());
    }
    if f.module.is_some_and(|m| m.kind == ModuleKind::CoreModule) {
        return Err(
            "wasmCloud decodes the first layer as a component, and this payload is a core module"
                .into(),
        );
    }
    Ok("wasmCloud loads the first application/wasm layer as a component".into())
}

/// The runwasi platform gate (containerd/runwasi `crates/containerd-shim-wasm/src/containerd/client.rs`).
fn wasm_platform_gate(f: &Facts, who: &str) -> Result<(), String> {
    if f.architecture() != Some("wasm") {
        return Err(format!(
            "{who}: manifest is not in WASM OCI image format (the image config's architecture must be exactly \"wasm\", found {})",
            f.architecture()
                .map(|a| format!("{a:?}"))
                .unwrap_or_else(|| "none".into())
        ));
    }
    Ok(())
}

fn runwasi(f: &Facts) -> Result<String, String> {
    wasm_platform_gate(f, "runwasi")?;
    let wasm: Vec<&str> = f
        .layer_types()
        .into_iter()
        .filter(|t| *t == mt::RUNWASI_COMPONENT_LAYER || *t == mt::WASM_LAYER)
        .collect();
    match wasm.len() {
        0 => Err(format!(
            "runwasi finds no layer of type {} or application/wasm, and would run args[0] from a root filesystem this image does not provide",
            mt::RUNWASI_COMPONENT_LAYER
        )),
        1 => Ok(format!("runwasi runs the single {} layer", wasm[0])),
        n => Err(format!(
            "runwasi: only a single module is supported when using images with OCI layers ({n} Wasm layers)"
        )),
    }
}

fn spin(f: &Facts) -> Result<String, String> {
    wasm_platform_gate(f, "containerd-shim-spin")?;
    let layers = f.layer_types();
    if f.config_type() == Some(mt::SPIN_APPLICATION_CONFIG)
        || layers.contains(&mt::SPIN_APPLICATION_CONFIG)
    {
        return Ok("containerd-shim-spin loads the Spin locked app and its layers".into());
    }
    let wasm = layers.iter().filter(|t| **t == mt::WASM_LAYER).count();
    match wasm {
        0 => Err("containerd-shim-spin needs a Spin locked app or a single application/wasm layer; the image has neither".into()),
        1 if f.module.is_some_and(|m| m.kind == ModuleKind::CoreModule) => Err(
            "containerd-shim-spin runs a single application/wasm layer as a component, and this payload is a core module (unverified)".into(),
        ),
        1 => Ok("containerd-shim-spin runs the single application/wasm layer as a component".into()),
        _ => Err("containerd-shim-spin: more than one application/wasm layer without a Spin locked app".into()),
    }
}

/// Kubewarden's policy fetcher (kubewarden/policy-fetcher `src/registry/mod.rs`).
fn kubewarden(f: &Facts) -> Result<String, String> {
    let layers = f.layer_types();
    if let Some(bad) = layers.iter().find(|t| **t != mt::WASM_CONTENT_LAYER_V1) {
        return Err(format!(
            "Kubewarden pulls only {} layers: Incompatible layer media type: {bad}",
            mt::WASM_CONTENT_LAYER_V1
        ));
    }
    if layers.is_empty() {
        return Err("Kubewarden: the image has no layers".into());
    }
    Ok(format!(
        "Kubewarden loads the first {} layer",
        mt::WASM_CONTENT_LAYER_V1
    ))
}

/// The verdict of every consumer. An error finding marks every consumer that
/// would otherwise load the image as not loading it; a payload over the size
/// limit of Istio and Envoy Gateway marks those two.
pub(crate) fn verdicts(f: &Facts, findings: &[Finding]) -> Vec<ConsumerVerdict> {
    let error = findings.iter().find(|x| x.severity == Severity::Error);
    let too_big = findings.iter().find(|x| x.code == "WI-WASM-007");
    let checks: [(&'static str, Result<String, String>, bool); 7] = [
        ("istio", proxy_fetcher(f, "Istio"), true),
        (
            "envoy-gateway",
            proxy_fetcher(f, "Envoy Gateway (a copy of Istio's fetcher)"),
            true,
        ),
        ("wkg", wkg(f), false),
        ("wasmcloud", wasmcloud(f), false),
        ("runwasi", runwasi(f), false),
        ("spin", spin(f), false),
        ("kubewarden", kubewarden(f), false),
    ];
    checks
        .into_iter()
        .map(|(consumer, result, proxy)| {
            let (loads, reason) = match result {
                Err(reason) => (false, reason),
                Ok(how) => match (error, too_big) {
                    (Some(e), _) => (
                        false,
                        format!(
                            "{how}, but the image breaks {} ({}): {}",
                            e.code, e.location, e.message
                        ),
                    ),
                    (None, Some(big)) if proxy => (false, format!("{how}, but {}", big.message)),
                    _ => (true, how),
                },
            };
            ConsumerVerdict {
                consumer,
                loads,
                reason,
            }
        })
        .collect()
}

/// The command that converts the image for the consumers that do not load it.
pub(crate) fn convert(
    f: &Facts,
    findings: &[Finding],
    verdicts: &[ConsumerVerdict],
    module_name: &str,
) -> Option<String> {
    let module = f.module?;
    let payload_broken = findings
        .iter()
        .any(|x| x.severity == Severity::Error && x.code.starts_with("WI-WASM-"));
    if payload_broken {
        return None;
    }
    let (target, _) = crate::build::default_variant(module);
    let has_error = findings.iter().any(|x| x.severity == Severity::Error);
    let target_loaders: &[&str] = match target {
        Variant::CompatOci => &["istio", "envoy-gateway"],
        _ if module.kind == ModuleKind::Component => &["wkg", "wasmcloud"],
        _ => &["wkg", "runwasi"],
    };
    let served = verdicts
        .iter()
        .filter(|v| target_loaders.contains(&v.consumer))
        .all(|v| v.loads);
    if !has_error && served {
        return None;
    }
    if f.variant == target && !has_error {
        return None;
    }
    Some(format!(
        "wasm-image build {module_name} --variant {} -o OUT",
        target.id()
    ))
}
