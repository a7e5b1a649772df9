//! Passwords for encrypted keys: `WASM_IMAGE_PASSWORD`, else a prompt on the
//! terminal. Never printed or logged.

use std::io::IsTerminal;

use anyhow::bail;
use zeroize::Zeroizing;

/// Environment variable holding the key password (may be empty).
pub const PASSWORD_ENV: &str = "WASM_IMAGE_PASSWORD";

/// Reads the password; `confirm` asks twice on a terminal.
pub fn read_password(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set {PASSWORD_ENV} (it may be empty) or run on a terminal");
    }
    let first = Zeroizing::new(rpassword::prompt_password(
        "Enter password for private key: ",
    )?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password(
            "Enter password for private key again: ",
        )?);
        if first != second {
            bail!("the passwords do not match");
        }
    }
    Ok(first)
}
