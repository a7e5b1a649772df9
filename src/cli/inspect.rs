//! `wasm-image inspect`.

use std::process::ExitCode;

use clap::Args;
use wasm_image::image::{self, ImageSummary};
use wasm_image::limits::Limits;
use wasm_image::target::Target;

use super::Format;

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image: DIR, DIR:TAG, DIR@sha256:HEX, or an OCI archive file in place of DIR,
    /// or a registry reference HOST[:PORT]/REPO[:TAG|@sha256:HEX].
    target: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    registry: super::remote::RegistryArgs,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.target)?;
    let store = target.open_with(&args.registry.options()?)?;
    let summary = image::summarize(store.as_ref(), &target.selector, &Limits::default())?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Format::Text => print!("{}", render(&summary)),
    }
    Ok(ExitCode::SUCCESS)
}

fn field<'a>(v: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    v.get(key).unwrap_or(&serde_json::Value::Null)
}

fn render(s: &ImageSummary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "variant:   {}", s.variant);
    let _ = writeln!(out, "manifest:  {} ({})", s.manifest_digest, s.media_type);
    if let Some(tag) = &s.tag {
        let _ = writeln!(out, "tag:       {tag}");
    }
    let config = field(&s.manifest, "config");
    let _ = writeln!(
        out,
        "config:    {} ({}, {} bytes)",
        field(config, "digest").as_str().unwrap_or("?"),
        field(config, "mediaType").as_str().unwrap_or("?"),
        field(config, "size")
    );
    if !s.config.is_null() {
        let pretty = serde_json::to_string_pretty(&s.config).unwrap_or_default();
        for line in pretty.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out, "layers:");
    for (i, layer) in field(&s.manifest, "layers")
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let title = field(
            field(layer, "annotations"),
            "org.opencontainers.image.title",
        );
        let _ = writeln!(
            out,
            "  {i}: {} {} ({} bytes){}",
            field(layer, "digest").as_str().unwrap_or("?"),
            field(layer, "mediaType").as_str().unwrap_or("?"),
            field(layer, "size"),
            title.as_str().map(|t| format!(" {t}")).unwrap_or_default()
        );
    }
    if let Some(annotations) = field(&s.manifest, "annotations").as_object() {
        let _ = writeln!(out, "annotations:");
        for (k, v) in annotations {
            let _ = writeln!(out, "  {k}={}", v.as_str().unwrap_or_default());
        }
    }
    match (&s.module, &s.module_error) {
        (Some(m), _) => {
            let kind = match m.kind {
                wasm_image::wasm::ModuleKind::Component => "component",
                wasm_image::wasm::ModuleKind::CoreModule => "core module",
            };
            let _ = writeln!(out, "module:    {kind}, {} bytes", m.size);
            if let Some(abi) = m.proxy_abi {
                let _ = writeln!(
                    out,
                    "  proxy-wasm ABI: {} ({})",
                    abi.version(),
                    abi.marker()
                );
            }
            let _ = writeln!(out, "  exports: {}", list(&m.exports));
            let _ = writeln!(out, "  imports: {}", list(&m.imports));
        }
        (None, Some(e)) => {
            let _ = writeln!(out, "module:    unreadable: {e}");
        }
        (None, None) => {}
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}
