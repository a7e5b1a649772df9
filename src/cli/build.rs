//! `wasm-image build`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wasm_image::build::{self, ImageBuilder};
use wasm_image::store::{Archive, Layout, WritableStore};
use wasm_image::variant::Variant;

use super::{Format, parse_key_value};

/// Arguments of `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The .wasm module or component.
    module: PathBuf,
    /// Output: an OCI layout directory (created, or added to), or with --archive an OCI archive file.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Variant to build: cncf, compat-oci (or compat), compat-docker, wasm-oci, wasm-content-v1.
    /// Default: compat-oci for a proxy-wasm filter, cncf otherwise.
    #[arg(long, value_name = "VARIANT")]
    variant: Option<Variant>,
    /// Tag of the image in the output (org.opencontainers.image.ref.name).
    #[arg(long, default_value = "latest")]
    tag: String,
    /// Write an OCI archive (a tar of a layout) instead of a directory.
    #[arg(long)]
    archive: bool,
    /// Manifest annotation KEY=VALUE (repeatable).
    #[arg(long = "annotation", short = 'a', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    annotations: Vec<(String, String)>,
    /// Creation time (RFC 3339). Default: $SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z.
    #[arg(long, value_name = "RFC3339")]
    created: Option<String>,
    /// runtime-config.json for wasm-oci and compat images.
    #[arg(long, value_name = "FILE")]
    runtime_config: Option<PathBuf>,
    /// Author written into a cncf config.
    #[arg(long)]
    author: Option<String>,
    /// Layer title of raw-module variants (default: the module's file name).
    #[arg(long)]
    title: Option<String>,
    /// Output format: text prints the digest last; json prints one object.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let mut builder = ImageBuilder::new(&args.module);
    if let Some(v) = args.variant {
        builder = builder.variant(v);
    }
    let created = match (&args.created, std::env::var("SOURCE_DATE_EPOCH")) {
        (Some(text), _) => Some(build::parse_created(text)?),
        (None, Ok(epoch)) if !epoch.is_empty() => {
            Some(build::created_from_source_date_epoch(&epoch)?)
        }
        _ => None,
    };
    if let Some(created) = created {
        builder = builder.created(created);
    }
    for (k, v) in &args.annotations {
        builder = builder.annotation(k, v);
    }
    if let Some(path) = &args.runtime_config {
        let bytes = wasm_image::limits::read_file_bounded(
            path,
            wasm_image::limits::MAX_RUNTIME_CONFIG_BYTES,
            "MAX_RUNTIME_CONFIG_BYTES",
        )
        .with_context(|| format!("reading {}", path.display()))?;
        builder = builder.runtime_config(bytes);
    }
    if let Some(author) = &args.author {
        builder = builder.author(author);
    }
    if let Some(title) = &args.title {
        builder = builder.title(title);
    }
    let mut store: Box<dyn WritableStore> = if args.archive {
        Box::new(Archive::open_or_create(&args.output)?)
    } else {
        Box::new(Layout::open_or_create(&args.output)?)
    };
    let built = builder.build(store.as_mut(), Some(&args.tag))?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&built)?),
        Format::Text => {
            eprintln!("variant: {} ({})", built.variant, built.reason);
            eprintln!(
                "wrote {}:{} ({} layer{})",
                args.output.display(),
                args.tag,
                built.layer_digests.len(),
                if built.layer_digests.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            println!("{}", built.manifest_digest);
        }
    }
    Ok(ExitCode::SUCCESS)
}
