//! Credentials and authentication challenges.
//!
//! Credentials come from the caller (`--username` + `--password-stdin`) or
//! from the docker config file: `auths.<host>.auth` (base64 `user:password`),
//! `credHelpers.<host>` or `credsStore`, which name a
//! `docker-credential-<name>` program run as `docker-credential-<name> get`
//! with the server on standard input. Without any, requests are anonymous.
//!
//! Secrets never reach a message or a log: [`Credentials`] implements `Debug`
//! by hand, and errors name the registry, never a password or a token.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A user name and password (or a registry token used as one).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The password. Do not print it.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The `Authorization: Basic` value.
    pub(crate) fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!("Basic {}", STANDARD.encode(raw))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why credentials could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The config file is unreadable or not JSON.
    #[error("{path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A credential helper failed.
    #[error("docker-credential-{helper}: {reason}")]
    Helper {
        /// The helper's name.
        helper: String,
        /// What went wrong (never its output, which may hold a secret).
        reason: String,
    },
}

/// The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

#[derive(serde::Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The keys a registry may be filed under in `auths`.
fn config_keys(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ];
    if registry == "docker.io"
        || registry == "registry-1.docker.io"
        || registry == "index.docker.io"
    {
        keys.insert(0, "https://index.docker.io/v1/".to_owned());
        keys.push("index.docker.io".to_owned());
    }
    keys
}

/// Looks credentials for `registry` (as written in references, with port) up
/// in the docker config file at `path`. A missing file means none.
pub fn from_docker_config(
    path: &std::path::Path,
    registry: &str,
) -> Result<Option<Credentials>, CredentialError> {
    let bytes = match crate::limits::read_file_bounded(
        path,
        crate::limits::MAX_DOCKER_CONFIG_BYTES,
        "MAX_DOCKER_CONFIG_BYTES",
    ) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialError::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    let config: DockerConfig =
        serde_json::from_slice(&bytes).map_err(|e| CredentialError::Config {
            path: path.to_path_buf(),
            reason: format!("not a docker config file: {e}"),
        })?;
    let keys = config_keys(registry);
    for key in &keys {
        if let Some(helper) = config.cred_helpers.get(key) {
            return run_helper(helper, key);
        }
    }
    for key in &keys {
        if let Some(entry) = config.auths.get(key) {
            if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
                let decoded = STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| CredentialError::Config {
                        path: path.to_path_buf(),
                        reason: format!("auths.{key:?}.auth is not base64 of user:password"),
                    })?;
                let (user, pass) =
                    decoded
                        .split_once(':')
                        .ok_or_else(|| CredentialError::Config {
                            path: path.to_path_buf(),
                            reason: format!("auths.{key:?}.auth has no ':' after decoding"),
                        })?;
                return Ok(Some(Credentials::new(user, pass)));
            }
            if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
                return Ok(Some(Credentials::new(u.clone(), p.clone())));
            }
        }
    }
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        return run_helper(store, registry);
    }
    Ok(None)
}

#[derive(serde::Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>, CredentialError> {
    let fail = |reason: String| CredentialError::Helper {
        helper: helper.to_owned(),
        reason,
    };
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(fail(
            "helper name has characters outside [A-Za-z0-9._-]".into(),
        ));
    }
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| fail(format!("cannot write to it: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read its answer: {e}")))?;
    if !out.status.success() {
        // "credentials not found in native keychain" is the helpers' way to say none.
        let stderr = String::from_utf8_lossy(&out.stdout).to_lowercase()
            + &String::from_utf8_lossy(&out.stderr).to_lowercase();
        if stderr.contains("not found") {
            return Ok(None);
        }
        return Err(fail(format!("exited with {}", out.status)));
    }
    let parsed: HelperOutput = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail("answer is not the expected JSON".into()))?;
    if parsed.username == "<token>" {
        return Err(fail(
            "returned an identity token, which is not supported; use --username and --password-stdin".into(),
        ));
    }
    Ok(Some(Credentials::new(parsed.username, parsed.secret)))
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=...`.
    Basic,
    /// `Bearer realm=...,service=...,scope=...`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter, if any.
        service: Option<String>,
        /// The `scope` the registry asked for, if any.
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value (the first challenge it holds).
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// `key="value", key=value` pairs (quoted values may hold commas).
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                val.push(*c);
                chars.next();
            }
            val = val.trim().to_owned();
        }
        out.insert(key, val);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="http://127.0.0.1:5003/token",service="local-registry",scope="repository:test/solo:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:5003/token".into(),
                service: Some("local-registry".into()),
                scope: Some("repository:test/solo:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::new("me", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn docker_config_auths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = STANDARD.encode("u:p:w");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://reg.example:5000":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let c = from_docker_config(&path, "reg.example:5000")
            .unwrap()
            .unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("u", "p:w"));
        assert_eq!(from_docker_config(&path, "other.example").unwrap(), None);
        assert_eq!(
            from_docker_config(&dir.path().join("missing.json"), "x").unwrap(),
            None
        );
    }
}
