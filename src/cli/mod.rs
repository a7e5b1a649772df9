//! Command-line parsing and the verbs. Each verb parses its flags, calls the
//! library, and prints; no image logic lives here.

mod build;
mod inspect;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code of a verb that failed (for `validate`: the image is invalid).
pub const EXIT_FAILED: u8 = 1;
/// Exit code when a verb could not run at all (usage, I/O).
pub const EXIT_COULD_NOT_RUN: u8 = 2;

/// Build, inspect and check WebAssembly OCI images.
#[derive(Debug, Parser)]
#[command(name = "wasm-image", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an OCI image from a .wasm module or component.
    Build(build::BuildArgs),
    /// Show an image's variant, manifest, config, layers and module.
    Inspect(inspect::InspectArgs),
}

/// Output formats shared by the verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a person.
    Text,
    /// For a program.
    Json,
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build(args) => build::run(args),
        Command::Inspect(args) => inspect::run(args),
    }
}

/// An error and its causes on one line, leaving out a cause whose text the
/// message before it already includes (library errors name their source).
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}
