//! `wasm-image copy SRC DST`: an image between any two of layout, archive
//! and registry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wasm_image::registry::transfer::{self, RegistrySink, StoreSink};
use wasm_image::registry::{Reference, Registry};
use wasm_image::store::archive::is_archive;
use wasm_image::store::{self, Archive, Layout};
use wasm_image::target::Target;

use super::remote::{Progress, RegistryArgs, SignatureArgs, carry_signatures};
use super::{EXIT_COULD_NOT_RUN, EXIT_FAILED};

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// From: a registry reference HOST[:PORT]/REPO[:TAG|@sha256:HEX], or
    /// DIR, DIR:TAG, DIR@sha256:HEX, or an OCI archive in place of DIR.
    src: String,
    /// To: a registry reference, or DIR[:TAG] (a layout, created or added
    /// to), or FILE.tar[:TAG] (an OCI archive). The tag defaults to the source's.
    dst: String,
    /// Write a local destination as an OCI archive even without a .tar name.
    #[arg(long)]
    archive: bool,
    #[command(flatten)]
    signatures: SignatureArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

enum Dst {
    Registry(Registry),
    Local { path: PathBuf, tag: Option<String> },
}

pub fn run(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let prepared = (|| -> anyhow::Result<_> {
        let options = args.registry.options()?;
        let target = Target::parse(&args.src)?;
        let src = target.open_with(&options)?;
        let dst = if !Path::new(&args.dst).exists() && Reference::looks_like_registry(&args.dst) {
            Dst::Registry(Registry::parse(&args.dst, &options)?)
        } else {
            let (path, tag) = split_tag(&args.dst);
            Dst::Local { path, tag }
        };
        Ok((target, src, dst))
    })();
    let (target, src, dst) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            return Ok(ExitCode::from(EXIT_COULD_NOT_RUN));
        }
    };
    let result = (|| -> anyhow::Result<_> {
        let entry = store::resolve(&src.root_index()?, &target.selector, &src.describe())?;
        let mut progress = Progress::new();
        let copied = match &dst {
            Dst::Registry(registry) => {
                let reference = registry.reference();
                let tag = match (&reference.digest, &reference.tag) {
                    (Some(_), _) => None,
                    (None, tag) => tag.clone(),
                };
                // Same registry: mount blobs from the source repository.
                let mount = target
                    .remote
                    .as_ref()
                    .filter(|r| r.registry == reference.registry)
                    .map(|r| r.repository.clone());
                let mut sink = RegistrySink::new(registry).mount_from(mount);
                let copied = transfer::copy_image(
                    src.as_ref(),
                    &target.selector,
                    &mut sink,
                    tag.as_deref(),
                    &mut progress,
                )?;
                let mut writer = registry.clone();
                carry_signatures(&args.signatures, src.as_ref(), &copied.digest, &mut writer)?;
                copied
            }
            Dst::Local { path, tag } => {
                let tag = tag.clone().or(entry.tag.clone());
                let archive = args.archive
                    || (path.is_file() && is_archive(path))
                    || path.extension().is_some_and(|e| e == "tar");
                if archive {
                    let mut a = Archive::open_or_create(path)?;
                    let copied = transfer::copy_image(
                        src.as_ref(),
                        &target.selector,
                        &mut StoreSink(&mut a),
                        tag.as_deref(),
                        &mut progress,
                    )?;
                    carry_signatures(&args.signatures, src.as_ref(), &copied.digest, &mut a)?;
                    copied
                } else {
                    let mut l = Layout::open_or_create(path)?;
                    let copied = transfer::copy_image(
                        src.as_ref(),
                        &target.selector,
                        &mut StoreSink(&mut l),
                        tag.as_deref(),
                        &mut progress,
                    )?;
                    carry_signatures(&args.signatures, src.as_ref(), &copied.digest, &mut l)?;
                    copied
                }
            }
        };
        Ok(copied)
    })()
    .with_context(|| format!("copying {} to {}", args.src, args.dst));
    match result {
        Ok(copied) => {
            eprintln!(
                "copied {} ({} blobs: {} sent, {} already there, {} mounted)",
                copied.digest,
                copied.blobs,
                copied.blobs_sent,
                copied.blobs_existing,
                copied.blobs_mounted
            );
            match &dst {
                Dst::Registry(r) => println!("{}", r.reference().pinned(&copied.digest)),
                Dst::Local { path, .. } => println!("{}@{}", path.display(), copied.digest),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

/// `DIR:TAG` → (DIR, TAG), unless the whole string is an existing path.
fn split_tag(text: &str) -> (PathBuf, Option<String>) {
    if !Path::new(text).exists()
        && let Some((path, tag)) = text.rsplit_once(':')
        && !path.is_empty()
        && !tag.is_empty()
        && !tag.contains('/')
    {
        return (PathBuf::from(path), Some(tag.to_owned()));
    }
    (PathBuf::from(text), None)
}
