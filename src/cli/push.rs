//! `wasm-image push SRC REF`: an image from a layout or archive to a registry.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use wasm_image::registry::transfer;
use wasm_image::registry::{Reference, Registry};
use wasm_image::target::Target;
use wasm_image::variant::{self, Variant};

use super::remote::{Progress, RegistryArgs, SignatureArgs, carry_signatures};
use super::{EXIT_COULD_NOT_RUN, EXIT_FAILED};

/// Deployment documents `push --emit` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// An Istio `WasmPlugin` (extensions.istio.io/v1alpha1).
    Istio,
    /// An Envoy Gateway `EnvoyExtensionPolicy` (gateway.envoyproxy.io/v1alpha1).
    EnvoyGateway,
}

/// Arguments of `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image: DIR (a layout holding one image), DIR:TAG, DIR@sha256:HEX,
    /// or an OCI archive file in place of DIR.
    src: String,
    /// Where to: HOST[:PORT]/REPO[:TAG|@sha256:HEX] (the tag defaults to `latest`).
    reference: String,
    /// Also print a deployment document pinning the image by digest.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    #[command(flatten)]
    signatures: SignatureArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(args: PushArgs) -> anyhow::Result<ExitCode> {
    let prepared = (|| -> anyhow::Result<_> {
        let target = Target::parse(&args.src)?;
        let reference = Reference::parse(&args.reference)?;
        let options = args.registry.options()?;
        let src = target.open_with(&options)?;
        let dst = Registry::new(reference.clone(), &options)?;
        Ok((target, src, reference, dst))
    })();
    let (target, src, reference, dst) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            return Ok(ExitCode::from(EXIT_COULD_NOT_RUN));
        }
    };
    let result = transfer::push(src.as_ref(), &target.selector, &dst, &mut Progress::new())
        .map_err(anyhow::Error::from)
        .and_then(|copied| {
            let mut writer = dst.clone();
            carry_signatures(&args.signatures, src.as_ref(), &copied.digest, &mut writer)?;
            Ok(copied)
        })
        .with_context(|| format!("pushing {} to {reference}", args.src));
    let copied = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let stats = dst.stats();
    eprintln!(
        "pushed {} blobs: {} uploaded ({} bytes), {} already present, {} mounted",
        copied.blobs,
        stats.blobs_uploaded,
        stats.bytes_uploaded,
        stats.blobs_existing,
        stats.blobs_mounted
    );
    let pinned = reference.pinned(&copied.digest);
    println!("{pinned}");
    if let Some(emit) = args.emit {
        let manifest = wasm_image::store::read_blob(
            &dst,
            &copied.digest,
            Some(copied.size),
            wasm_image::limits::MAX_MANIFEST_BYTES,
        )?;
        let detected = serde_json::from_slice(&manifest)
            .map(|v| variant::detect(&v))
            .unwrap_or(Variant::Unknown);
        if !matches!(
            detected,
            Variant::CompatOci | Variant::CompatDocker | Variant::WasmOci
        ) {
            eprintln!(
                "warning: this is a {detected} image; Istio and Envoy Gateway load only compat and wasm-oci images (see docs/registry.md)"
            );
        }
        print!("{}", deployment(emit, &reference, copied.digest.encoded()));
    }
    Ok(ExitCode::SUCCESS)
}

/// A Kubernetes name from the repository's last component.
fn resource_name(reference: &Reference) -> String {
    let last = reference
        .repository
        .rsplit('/')
        .next()
        .unwrap_or("wasm-plugin");
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').chars().take(63).collect();
    if name.is_empty() {
        "wasm-plugin".into()
    } else {
        name
    }
}

/// The WasmPlugin or EnvoyExtensionPolicy pinning the pushed image: the URL
/// keeps the tag for people, `sha256` (the manifest digest's hex, what both
/// fetchers compare against) pins the bytes.
pub fn deployment(emit: Emit, reference: &Reference, manifest_hex: &str) -> String {
    let name = resource_name(reference);
    let url = match &reference.tag {
        Some(tag) => format!("{}:{tag}", reference.name()),
        None => reference.name(),
    };
    match emit {
        Emit::Istio => format!(
            "---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: {name}
spec:
  # Which workloads run the plugin: edit to match yours.
  selector:
    matchLabels:
      app: {name}
  url: oci://{url}
  # The manifest digest: Istio checks the pulled image against it.
  sha256: {manifest_hex}
  imagePullPolicy: IfNotPresent
  phase: AUTHN
"
        ),
        Emit::EnvoyGateway => format!(
            "---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata:
  name: {name}
spec:
  # Which route or gateway runs the plugin: edit to match yours.
  targetRefs:
    - group: gateway.networking.k8s.io
      kind: HTTPRoute
      name: {name}
  wasm:
    - name: {name}
      rootID: {name}
      code:
        type: Image
        image:
          url: {url}
          # The manifest digest: Envoy Gateway checks the pulled image against it.
          sha256: {manifest_hex}
"
        ),
    }
}
