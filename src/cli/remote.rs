//! Flags and output shared by the verbs that reach a registry: connection
//! and credential flags, progress bars (on a terminal only).

use std::collections::HashMap;
use std::io::{self, BufRead, IsTerminal};

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use wasm_image::digest::Digest;
use wasm_image::registry::transfer::Observer;
use wasm_image::registry::{Credentials, Options};

/// How to reach registries.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP to the registry instead of HTTPS. For a registry on
    /// loopback or in a test: credentials and images travel unprotected.
    #[arg(long)]
    pub plain_http: bool,
    /// User name for the registry (with --password-stdin). Without it,
    /// credentials come from ~/.docker/config.json, else none are sent.
    #[arg(long, short = 'u', value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the password (or token) from the first line of standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Send each blob upload in PATCH requests of at most BYTES, for a
    /// registry or proxy that limits the size of a request (default: one
    /// streamed request per blob).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_chunk_size: Option<u64>,
}

impl RegistryArgs {
    /// The library options these flags ask for (reads the password from stdin).
    pub fn options(&self) -> anyhow::Result<Options> {
        let mut options = Options {
            plain_http: self.plain_http,
            chunk_size: self.upload_chunk_size,
            ..Options::default()
        };
        if let Some(user) = &self.username {
            let mut line = String::new();
            io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(
                !password.is_empty(),
                "--password-stdin: standard input held no password"
            );
            options.credentials = Some(Credentials::new(user.clone(), password));
        }
        Ok(options)
    }
}

/// Whether `copy`, `push` and `pull` carry an image's signatures along.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignatureArgs {
    /// Also copy the image's signatures (`sha256-<hex>.sig`) and referrers
    /// (Sigstore bundles, indexed by the registry or at `sha256-<hex>`) when
    /// it has any. The default.
    #[arg(long, overrides_with = "no_signatures")]
    pub with_signatures: bool,
    /// Copy the image alone, without its signatures and referrers.
    #[arg(long, overrides_with = "with_signatures")]
    pub no_signatures: bool,
}

impl SignatureArgs {
    /// Whether to carry signatures.
    pub fn carry(&self) -> bool {
        !self.no_signatures
    }
}

/// Copies the signatures and referrers of `image` from `src` to `dst` when
/// asked to, and says what moved on stderr.
pub fn carry_signatures(
    args: &SignatureArgs,
    src: &dyn wasm_image::store::ImageStore,
    image: &Digest,
    dst: &mut dyn wasm_image::store::WritableStore,
) -> anyhow::Result<()> {
    if !args.carry() {
        return Ok(());
    }
    let carried = wasm_image::sign::carry::carry_signatures(src, image, dst)
        .with_context(|| format!("copying the signatures of {image}"))?;
    if !carried.is_empty() {
        eprintln!(
            "copied {} signature(s) at sha256-{}.sig and {} referrer(s)",
            carried.signatures,
            image.encoded(),
            carried.referrers
        );
    }
    Ok(())
}

/// Progress bars for blob transfers (one a blob; several blobs move at
/// once), shown only when stderr is a terminal.
pub struct Progress {
    bars: MultiProgress,
    active: HashMap<Digest, ProgressBar>,
    last: Option<Digest>,
    enabled: bool,
}

impl Progress {
    /// Bars on a terminal, nothing otherwise.
    pub fn new() -> Self {
        Progress {
            bars: MultiProgress::new(),
            active: HashMap::new(),
            last: None,
            enabled: io::stderr().is_terminal(),
        }
    }
}

impl Observer for Progress {
    fn blob_start(&mut self, digest: &Digest, size: u64) {
        if !self.enabled {
            return;
        }
        let bar = self.bars.add(ProgressBar::new(size));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        let short: String = digest.encoded().chars().take(12).collect();
        bar.set_message(short);
        self.active.insert(digest.clone(), bar);
        self.last = Some(digest.clone());
    }

    fn blob_progress(&mut self, bytes: u64) {
        if let Some(bar) = self.last.as_ref().and_then(|d| self.active.get(d)) {
            bar.inc(bytes);
        }
    }

    fn blob_progress_of(&mut self, digest: &Digest, bytes: u64) {
        if let Some(bar) = self.active.get(digest) {
            bar.inc(bytes);
        }
    }

    fn blob_done(&mut self, digest: &Digest, how: &str) {
        if let Some(bar) = self.active.remove(digest) {
            let short: String = digest.encoded().chars().take(12).collect();
            bar.finish_with_message(format!("{short} {how}"));
        }
    }
}
