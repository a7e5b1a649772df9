//! `wasm-image pull REF -o OUT`: an image from a registry into a layout or
//! archive, and/or just its module into a file.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasm_image::compat;
use wasm_image::digest::HashingReader;
use wasm_image::image::Image;
use wasm_image::limits::Limits;
use wasm_image::manifest;
use wasm_image::registry::transfer;
use wasm_image::registry::{Reference, Registry};
use wasm_image::store::{Archive, ImageStore, Layout, Selector, StoreError};
use wasm_image::variant::Variant;

use super::remote::{Progress, RegistryArgs, SignatureArgs, carry_signatures};
use super::{EXIT_COULD_NOT_RUN, EXIT_FAILED};

/// Arguments of `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image: HOST[:PORT]/REPO[:TAG|@sha256:HEX].
    reference: String,
    /// A layout directory (created, or added to) to pull into, tagged with
    /// the reference's tag; an OCI archive file with --archive.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        required_unless_present = "wasm"
    )]
    output: Option<PathBuf>,
    /// Write OUT as an OCI archive (a tar of a layout) instead of a directory.
    #[arg(long, requires = "output")]
    archive: bool,
    /// Also (or only) write the module to this file: the Wasm layer, or
    /// `plugin.wasm` from a compat image's tar layer.
    #[arg(long, value_name = "FILE")]
    wasm: Option<PathBuf>,
    #[command(flatten)]
    signatures: SignatureArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(args: PullArgs) -> anyhow::Result<ExitCode> {
    let prepared = (|| -> anyhow::Result<_> {
        let reference = Reference::parse(&args.reference)?;
        let options = args.registry.options()?;
        Ok(Registry::new(reference, &options)?)
    })();
    let src = match prepared {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            return Ok(ExitCode::from(EXIT_COULD_NOT_RUN));
        }
    };
    match pull(&args, &src) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {}", super::describe(&e));
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

fn pull(args: &PullArgs, src: &Registry) -> anyhow::Result<()> {
    let tag = src.reference().tag.clone();
    let mut progress = Progress::new();
    if let Some(out) = &args.output {
        let copied = if args.archive {
            let mut archive = Archive::open_or_create(out)?;
            let copied = transfer::pull(src, &mut archive, tag.as_deref(), &mut progress)
                .with_context(|| format!("pulling {}", src.reference()))?;
            carry_signatures(&args.signatures, src, &copied.digest, &mut archive)?;
            copied
        } else {
            let mut layout = Layout::open_or_create(out)?;
            let copied = transfer::pull(src, &mut layout, tag.as_deref(), &mut progress)
                .with_context(|| format!("pulling {}", src.reference()))?;
            carry_signatures(&args.signatures, src, &copied.digest, &mut layout)?;
            copied
        };
        eprintln!(
            "pulled {} into {} ({} blobs written, {} already there)",
            src.reference().pinned(&copied.digest),
            out.display(),
            copied.blobs_sent,
            copied.blobs_existing
        );
        if let Some(file) = &args.wasm {
            // Read back from the local copy, already verified.
            let store: Box<dyn ImageStore> = if args.archive {
                Box::new(Archive::open(out)?)
            } else {
                Box::new(Layout::open(out)?)
            };
            write_module(store.as_ref(), &Selector::Digest(copied.digest), file)?;
        }
    } else if let Some(file) = &args.wasm {
        write_module(src, &Selector::Only, file)?;
    }
    println!("{}", src.reference().pinned(&src.resolve()?));
    Ok(())
}

/// Writes the image's module to `file` through a temporary file renamed into
/// place, verifying the layer's digest and size before the rename.
pub fn write_module(
    store: &dyn ImageStore,
    selector: &Selector,
    file: &Path,
) -> anyhow::Result<()> {
    let limits = Limits::default();
    let image = Image::open(store, selector, &limits)?;
    let index = image
        .module_layer()
        .with_context(|| format!("no layer of this {} image carries a module", image.variant))?;
    let layer = &image.manifest.layers()[index];
    let digest = manifest::descriptor_digest(layer);
    let size = layer.size();
    let algorithm = digest
        .algorithm()
        .ok_or_else(|| StoreError::UnsupportedAlgorithm(digest.clone()))?;
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".wasm-image-")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut reader = HashingReader::new(store.open_blob(&digest)?.take(size + 1), algorithm);
    if matches!(image.variant, Variant::CompatOci | Variant::CompatDocker) {
        let out = temp.as_file_mut();
        compat::read_plugin(&mut reader, &limits, &mut |chunk| {
            out.write_all(chunk).map_err(|e| e.to_string())
        })?;
        std::io::copy(&mut reader, &mut std::io::sink())?;
    } else {
        std::io::copy(&mut reader, temp.as_file_mut())?;
    }
    let (actual, n) = reader.finish();
    if n != size {
        bail!("layer {digest}: expected {size} bytes, read {n}");
    }
    if actual != digest {
        bail!("layer {digest}: content hashes to {actual}");
    }
    temp.as_file().sync_all()?;
    temp.persist(file)
        .with_context(|| format!("writing {}", file.display()))?;
    eprintln!("wrote the module to {}", file.display());
    let _ = fs::metadata(file);
    Ok(())
}
