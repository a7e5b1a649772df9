//! Command-line parsing and the verbs. Each verb parses its flags, calls the
//! library, and prints; no image logic lives here.

mod build;
mod inspect;
mod keygen;
mod password;
mod sign;
mod verify;
#[cfg(feature = "sigstore")]
mod verify_bundle;

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
    /// Generate a key pair: PREFIX.key (cosign's encrypted format) and PREFIX.pub.
    Keygen(keygen::KeygenArgs),
    /// Sign an image (cosign simple signing at sha256-<hex>.sig, or --bundle as a referrer).
    Sign(sign::SignArgs),
    /// Verify an image's signatures (exit 0 verified, 1 not, 2 could not run).
    Verify(verify::VerifyArgs),
    /// Verify a Sigstore bundle against an artifact, offline (exit 0 verified, 1 not).
    #[cfg(feature = "sigstore")]
    VerifyBundle(verify_bundle::VerifyBundleArgs),
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
        Command::Keygen(args) => keygen::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => could_not_run(verify::run(args)),
        #[cfg(feature = "sigstore")]
        Command::VerifyBundle(args) => could_not_run(verify_bundle::run(args)),
    }
}

/// For the verifying verbs, whose exit 1 means "not verified": an error that
/// kept the verb from running exits 2.
fn could_not_run(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    result.or_else(|e| {
        eprintln!("error: {}", describe(&e));
        Ok(ExitCode::from(EXIT_COULD_NOT_RUN))
    })
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
