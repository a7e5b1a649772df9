//! `wasm-image verify`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasm_image::limits::{MAX_KEY_FILE_BYTES, MAX_TRUSTED_ROOT_BYTES, read_file_bounded};
use wasm_image::sign::key::PublicKey;
use wasm_image::sign::keyless::{KeylessPolicy, TrustedRoot};
use wasm_image::sign::verify::{VerifyOptions, verify_image};
use wasm_image::target::Target;

use super::remote::RegistryArgs;
use super::{EXIT_FAILED, Format};

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The image: DIR, DIR:TAG, DIR@sha256:HEX, an OCI archive file in place
    /// of DIR, or a registry reference HOST[:PORT]/REPO[:TAG|@sha256:HEX].
    target: String,
    /// Public key (`PUBLIC KEY` PEM) for key-based signatures.
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// Annotation every accepted signature must carry, KEY=VALUE; repeatable.
    #[arg(short = 'a', long = "annotation", value_parser = super::parse_key_value)]
    annotations: Vec<(String, String)>,
    /// Keyless: the certificate identity (SAN email or URI) required, exact.
    #[arg(long, requires_all = ["certificate_oidc_issuer", "trusted_root"])]
    certificate_identity: Option<String>,
    /// Keyless: the OIDC issuer required, exact.
    #[arg(long, requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// Keyless: Sigstore trusted root JSON file (Fulcio CAs, Rekor keys).
    #[arg(long)]
    trusted_root: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    if args.key.is_none() && args.certificate_identity.is_none() {
        bail!(
            "give --key, or --certificate-identity with --certificate-oidc-issuer and --trusted-root"
        );
    }
    let target = Target::parse(&args.target)?;
    let key = match &args.key {
        Some(path) => {
            let pem = read_file_bounded(path, MAX_KEY_FILE_BYTES, "MAX_KEY_FILE_BYTES")
                .with_context(|| format!("reading {}", path.display()))?;
            Some(PublicKey::from_pem(&pem).with_context(|| format!("loading {}", path.display()))?)
        }
        None => None,
    };
    let keyless = match (&args.certificate_identity, &args.trusted_root) {
        (Some(identity), Some(root)) => {
            let bytes = read_file_bounded(root, MAX_TRUSTED_ROOT_BYTES, "MAX_TRUSTED_ROOT_BYTES")
                .with_context(|| format!("reading {}", root.display()))?;
            Some(KeylessPolicy {
                trusted_root: TrustedRoot::from_json(&bytes)?,
                identity: identity.clone(),
                issuer: args.certificate_oidc_issuer.clone(),
            })
        }
        _ => None,
    };
    let store = target.open_with(&args.registry.options()?)?;
    let options = VerifyOptions {
        key,
        keyless,
        annotations: args.annotations.clone(),
    };
    let report = verify_image(store.as_ref(), &target.selector, &options)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            for s in &report.signatures {
                if s.verified {
                    println!(
                        "verified   {} {} ({})",
                        s.kind,
                        s.location,
                        s.signer.as_deref().unwrap_or("")
                    );
                } else {
                    println!(
                        "rejected   {} {}: {}",
                        s.kind,
                        s.location,
                        s.reason.as_deref().unwrap_or("")
                    );
                }
            }
            if report.signatures.is_empty() {
                println!("no signatures found for {}", report.image);
            }
            println!(
                "{}: {}",
                report.image,
                if report.verified {
                    "verified"
                } else {
                    "NOT verified"
                }
            );
        }
    }
    Ok(if report.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}
