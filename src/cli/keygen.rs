//! `wasm-image keygen`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasm_image::sign::key::{KeyAlgorithm, PrivateKey};

use super::password::read_password;

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key algorithm: ecdsa-p256 (cosign's default, for interop) or ed25519.
    #[arg(long, default_value = "ecdsa-p256")]
    algorithm: String,
    /// Output prefix: writes PREFIX.key (encrypted, mode 0600) and PREFIX.pub.
    #[arg(short = 'o', long, default_value = "cosign")]
    output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes through a temporary file renamed into place; refuses to replace
/// an existing file unless `force`.
fn write_file(path: &Path, bytes: &[u8], private: bool, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!("{} exists; use --force to overwrite it", path.display());
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".wasm-image-key-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private { 0o600 } else { 0o644 };
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    if force {
        temp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", path.display()))?;
    } else {
        temp.persist_noclobber(path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

pub fn run(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let algorithm: KeyAlgorithm = args.algorithm.parse()?;
    let key_path = with_suffix(&args.output, ".key");
    let pub_path = with_suffix(&args.output, ".pub");
    for p in [&key_path, &pub_path] {
        if p.exists() && !args.force {
            bail!("{} exists; use --force to overwrite it", p.display());
        }
    }
    let password = read_password(true)?;
    let key = PrivateKey::generate(algorithm)?;
    let pem = key.to_encrypted_pem(password.as_bytes())?;
    let public = key.public_key()?.to_pem()?;
    write_file(&key_path, pem.as_bytes(), true, args.force)?;
    write_file(&pub_path, public.as_bytes(), false, args.force)?;
    eprintln!(
        "wrote {} ({algorithm}, encrypted) and {}",
        key_path.display(),
        pub_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
