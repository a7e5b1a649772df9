//! `wasm-image sign`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wasm_image::limits::{MAX_KEY_FILE_BYTES, read_file_bounded};
use wasm_image::registry::Registry;
use wasm_image::sign::bundle::sign_image_bundle;
use wasm_image::sign::cosign::{SignOptions, sign_image};
use wasm_image::sign::key::{PrivateKey, is_encrypted_pem};
use wasm_image::sign::payload::docker_reference;
use wasm_image::store::archive::is_archive;
use wasm_image::store::{Archive, Layout, WritableStore};
use wasm_image::target::Target;

use super::password::read_password;
use super::remote::RegistryArgs;

/// Arguments of `sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image: DIR, DIR:TAG, DIR@sha256:HEX, an OCI archive file in place
    /// of DIR, or a registry reference HOST[:PORT]/REPO[:TAG|@sha256:HEX]
    /// (the signature is pushed to the same repository).
    target: String,
    /// Private key file (cosign's encrypted format, PKCS#8 or SEC1 PEM).
    #[arg(long)]
    key: std::path::PathBuf,
    /// Annotation to sign (into the payload's `optional`), KEY=VALUE; repeatable.
    #[arg(short = 'a', long = "annotation", value_parser = super::parse_key_value)]
    annotations: Vec<(String, String)>,
    /// Store a Sigstore bundle v0.3 as an OCI 1.1 referrer instead of a `.sig` signature.
    #[arg(long)]
    bundle: bool,
    /// `docker-reference` written in the payload (repository; informative).
    #[arg(long)]
    reference: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Opens the store of a target for writing: a layout, an archive, or a
/// registry repository (with `options`).
pub fn open_writable(
    target: &Target,
    options: &wasm_image::registry::Options,
) -> anyhow::Result<Box<dyn WritableStore>> {
    if let Some(reference) = &target.remote {
        return Ok(Box::new(Registry::new(reference.clone(), options)?));
    }
    Ok(if target.path.is_file() && is_archive(&target.path) {
        Box::new(Archive::open(&target.path)?)
    } else {
        Box::new(Layout::open(&target.path)?)
    })
}

pub fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.target)?;
    let pem = read_file_bounded(&args.key, MAX_KEY_FILE_BYTES, "MAX_KEY_FILE_BYTES")
        .with_context(|| format!("reading the key {}", args.key.display()))?;
    let key = if is_encrypted_pem(&pem) {
        let password = read_password(false)?;
        PrivateKey::from_pem(&pem, Some(password.as_bytes()))
    } else {
        PrivateKey::from_pem(&pem, None)
    }
    .with_context(|| format!("loading the key {}", args.key.display()))?;
    let options = args.registry.options()?;
    let mut store = open_writable(&target, &options)?;
    let signed = if args.bundle {
        sign_image_bundle(store.as_mut(), &target.selector, &key, &args.annotations)?
    } else {
        let default = match &target.remote {
            Some(remote) => remote.name(),
            None => {
                let name = target
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "image".into());
                format!("localhost/{name}")
            }
        };
        let reference = args
            .reference
            .clone()
            .unwrap_or_else(|| docker_reference(&default));
        let options = SignOptions {
            docker_reference: reference,
            annotations: args.annotations.clone(),
        };
        sign_image(store.as_mut(), &target.selector, &key, &options)?
    };
    println!(
        "signed {} with {}: {}",
        signed.image,
        key.algorithm(),
        signed.location
    );
    Ok(ExitCode::SUCCESS)
}
