//! `wasm-image verify-bundle` (feature `sigstore`), with the flags of the
//! sigstore-conformance client.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasm_image::digest::Digest;
use wasm_image::limits::{
    MAX_BUNDLE_BYTES, MAX_KEY_FILE_BYTES, MAX_TRUSTED_ROOT_BYTES, read_file_bounded,
};
use wasm_image::sigstore::{Artifact, Signer, verify_bundle};

use super::EXIT_FAILED;

/// Arguments of `verify-bundle`.
#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON).
    #[arg(long)]
    bundle: std::path::PathBuf,
    /// Managed key (`PUBLIC KEY` PEM).
    #[arg(long, conflicts_with = "certificate_identity")]
    key: Option<std::path::PathBuf>,
    /// Certificate identity (SAN), exact.
    #[arg(long, requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// Certificate OIDC issuer, exact.
    #[arg(long, requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// Trusted root JSON. Required: this build does not fetch the public-good root.
    #[arg(long)]
    trusted_root: Option<std::path::PathBuf>,
    /// The artifact: a file, or `sha256:HEX`.
    artifact: String,
}

pub fn run(args: VerifyBundleArgs) -> anyhow::Result<ExitCode> {
    let read = |p: &std::path::Path, limit: u64, name: &str| {
        read_file_bounded(p, limit, name).with_context(|| format!("reading {}", p.display()))
    };
    let bundle = read(&args.bundle, MAX_BUNDLE_BYTES, "MAX_BUNDLE_BYTES")?;
    let Some(root_path) = &args.trusted_root else {
        bail!("--trusted-root is required (verification is offline)");
    };
    let root = read(root_path, MAX_TRUSTED_ROOT_BYTES, "MAX_TRUSTED_ROOT_BYTES")?;
    let artifact = if args.artifact.starts_with("sha256:")
        && !std::path::Path::new(&args.artifact).exists()
    {
        Artifact::Digest(Digest::parse(&args.artifact)?)
    } else {
        // The artifact itself is what is verified, of any size.
        Artifact::Bytes(
            std::fs::read(&args.artifact).with_context(|| format!("reading {}", args.artifact))?,
        )
    };
    let signer = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(key), _, _) => Signer::Key(
            String::from_utf8_lossy(&read(key, MAX_KEY_FILE_BYTES, "MAX_KEY_FILE_BYTES")?)
                .into_owned(),
        ),
        (None, Some(identity), Some(issuer)) => Signer::Identity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        },
        _ => bail!("give --key, or --certificate-identity and --certificate-oidc-issuer"),
    };
    match verify_bundle(&bundle, &artifact, &signer, &root) {
        Ok(v) => {
            println!("verified ({})", v.signer);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}
