//! Command-line parsing and the verbs. Each verb parses its flags, calls the
//! library, and prints; no image logic lives here.

mod build;
mod conformance;
mod copy;
mod inspect;
mod keygen;
mod password;
mod pull;
mod push;
mod remote;
mod rules;
mod sign;
mod validate;
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
    /// Check an image (or a whole layout) against every rule of the spec.
    Validate(validate::ValidateArgs),
    /// Print the catalogue of rules and their finding codes.
    Rules(rules::RulesArgs),
    /// Run the conformance suite of golden images.
    Conformance(conformance::ConformanceArgs),
    /// Push an image from a layout or archive to a registry; print the pinned reference.
    Push(push::PushArgs),
    /// Pull an image from a registry into a layout or archive, or just its module.
    Pull(pull::PullArgs),
    /// Copy an image between any two of layout, archive and registry.
    Copy(copy::CopyArgs),
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
        Command::Validate(args) => validate::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Push(args) => push::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Copy(args) => copy::run(args),
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

/// Whether to colour output written to stdout: only on a terminal, and only
/// when `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// ANSI styles, or nothing when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colour when `on`.
    pub fn new(on: bool) -> Self {
        Style { on }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold red.
    pub fn red(self, text: &str) -> String {
        self.wrap("1;31", text)
    }
    /// Yellow.
    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }
    /// Cyan.
    pub fn cyan(self, text: &str) -> String {
        self.wrap("36", text)
    }
    /// Green.
    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }
    /// Dim.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// One command-line flag per field of [`wasm_image::limits::Limits`]; each
/// defaults to the named constant of the same name.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Limits (defaults: the constants of src/limits.rs)")]
pub struct LimitArgs {
    /// Largest manifest read, in bytes [default: 4194304].
    #[arg(long, value_name = "N")]
    pub max_manifest_bytes: Option<u64>,
    /// Largest config read, in bytes [default: 4194304].
    #[arg(long, value_name = "N")]
    pub max_config_bytes: Option<u64>,
    /// Largest index (index.json included) read, in bytes [default: 4194304].
    #[arg(long, value_name = "N")]
    pub max_index_bytes: Option<u64>,
    /// Deepest JSON nesting accepted [default: 64].
    #[arg(long, value_name = "N")]
    pub max_json_depth: Option<usize>,
    /// Most entries read from one tar layer [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_tar_entries: Option<u64>,
    /// Largest decompressed size of one layer, in bytes [default: 536870912].
    #[arg(long, value_name = "N")]
    pub max_decompressed_bytes: Option<u64>,
    /// Largest decompressed:compressed ratio, past --ratio-free-bytes [default: 100].
    #[arg(long, value_name = "N")]
    pub max_decompression_ratio: Option<u64>,
    /// Largest layer a descriptor may declare, in bytes [default: 536870912].
    #[arg(long, value_name = "N")]
    pub max_layer_bytes: Option<u64>,
    /// Largest oci-layout header read, in bytes [default: 65536].
    #[arg(long, value_name = "N")]
    pub max_layout_header_bytes: Option<u64>,
    /// Most entries in one OCI archive [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_archive_entries: Option<u64>,
    /// Output allowed before the ratio is enforced, in bytes [default: 1048576].
    #[arg(long, value_name = "N")]
    pub ratio_free_bytes: Option<u64>,
    /// Largest module the proxy consumers load, in bytes (a warning above) [default: 268435456].
    #[arg(long, value_name = "N")]
    pub consumer_max_module_bytes: Option<u64>,
    /// Largest Wasm section (or function body, when validating) held in memory to be decoded,
    /// in bytes [default: 67108864].
    #[arg(long, value_name = "N")]
    pub max_wasm_section_bytes: Option<u64>,
}

impl LimitArgs {
    /// The default limits with the flags given applied.
    pub fn limits(&self) -> wasm_image::limits::Limits {
        let mut l = wasm_image::limits::Limits::default();
        let set = |field: &mut u64, flag: Option<u64>| {
            if let Some(v) = flag {
                *field = v;
            }
        };
        set(&mut l.max_manifest_bytes, self.max_manifest_bytes);
        set(&mut l.max_config_bytes, self.max_config_bytes);
        set(&mut l.max_index_bytes, self.max_index_bytes);
        if let Some(v) = self.max_json_depth {
            l.max_json_depth = v;
        }
        set(&mut l.max_tar_entries, self.max_tar_entries);
        set(&mut l.max_decompressed_bytes, self.max_decompressed_bytes);
        set(&mut l.max_decompression_ratio, self.max_decompression_ratio);
        set(&mut l.max_layer_bytes, self.max_layer_bytes);
        set(&mut l.max_layout_header_bytes, self.max_layout_header_bytes);
        set(&mut l.max_archive_entries, self.max_archive_entries);
        set(&mut l.ratio_free_bytes, self.ratio_free_bytes);
        set(
            &mut l.consumer_max_module_bytes,
            self.consumer_max_module_bytes,
        );
        set(&mut l.max_wasm_section_bytes, self.max_wasm_section_bytes);
        l
    }
}
