//! OCI registries: push, pull and copy Wasm images over the distribution API.
//!
//! [`reference`] (always compiled) parses `HOST[:PORT]/REPO[:TAG|@DIGEST]`.
//! Everything else needs the `registry` cargo feature:
//!
//! - [`client::Client`] speaks the distribution protocol: manifests, blobs,
//!   uploads, tags, with authentication ([`auth`]), retries and timeouts.
//! - [`Registry`] is one reference in a registry seen as an
//!   [`ImageStore`](crate::store::ImageStore): its root index is the
//!   reference's manifest as a one-entry index, and blobs stream from the
//!   registry, so the inspector and validator read remote images unchanged.
//! - [`transfer`] copies an image between any two of layout, archive and
//!   registry, verifying the digest and size of every byte on the way.
//!
//! # Why a blocking `reqwest` and not `oci-client`
//!
//! `oci-client` is the well-kept Rust distribution client, but it does not fit
//! the needs here, so the protocol is spoken with `reqwest` directly:
//! - its blob upload takes the whole blob in memory (`push_blob(&[u8])`) and
//!   its pull APIs hand back whole layers; memory here must not grow with blob
//!   size (chunked uploads from a stream, resumable streaming downloads);
//! - its authentication state is private to it: a client that used it for
//!   manifests and `reqwest` for blobs would run two token flows against the
//!   registry and two credential lookups (and it does not read docker
//!   credential helpers);
//! - it cannot express the quirks a real registry needs (distribution 2.8
//!   answers a single-POST upload with 202 and drops the body; cross-repo
//!   mounts answered with 202; counting uploads for callers).
//!
//! # Why blocking
//!
//! The store traits are synchronous (`std::io::Read`), so a sync facade is the
//! natural shape. `reqwest::blocking` runs its own private runtime thread; the
//! library exposes no async API and callers need no runtime. Small requests
//! have in-memory bodies and are retried as they are; the bytes of a large
//! blob stream through a bounded queue of pieces, in one `PATCH` (or one per
//! [`Options::chunk_size`] bytes), and a broken upload is started again from
//! a freshly opened blob; downloads stream and resume.

pub mod reference;

#[cfg(feature = "registry")]
pub mod auth;
#[cfg(feature = "registry")]
pub mod client;
#[cfg(feature = "registry")]
mod store;
#[cfg(feature = "registry")]
pub mod transfer;

#[cfg(feature = "registry")]
pub use self::auth::Credentials;
#[cfg(feature = "registry")]
pub use self::client::{Client, Stats};
pub use self::reference::{Reference, ReferenceError};
#[cfg(feature = "registry")]
pub use self::store::Registry;

#[cfg(feature = "registry")]
use std::time::Duration;

/// How to reach a registry.
#[cfg(feature = "registry")]
#[derive(Debug, Clone)]
pub struct Options {
    /// Speak plain HTTP instead of HTTPS. Meant for a registry on loopback or
    /// in a test; allowed for any host, so use it knowingly: credentials and
    /// images then travel unencrypted and unauthenticated.
    pub plain_http: bool,
    /// Explicit credentials; when `None`, `~/.docker/config.json` is consulted
    /// (if [`Options::docker_config`]), else the registry is used anonymously.
    pub credentials: Option<Credentials>,
    /// Whether to look up credentials in the docker config file
    /// (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
    pub docker_config: bool,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time to wait for response headers, and for each read of a body: a
    /// stalled server fails after this long instead of hanging.
    pub read_timeout: Duration,
    /// How many times a request is retried after a 5xx, a 429 or a broken
    /// connection (and a download resumed), with exponential backoff.
    pub retries: u32,
    /// The first backoff delay; it doubles on each retry.
    pub retry_delay: Duration,
    /// The most bytes sent in one `PATCH` request of a blob upload. `None`
    /// (the default) streams a blob in one request, as most registries
    /// accept; set it for a registry or proxy that limits the size of a
    /// request. Memory does not depend on it: the bytes are streamed.
    pub chunk_size: Option<u64>,
}

#[cfg(feature = "registry")]
impl Default for Options {
    fn default() -> Self {
        Options {
            plain_http: false,
            credentials: None,
            docker_config: true,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            retries: 4,
            retry_delay: Duration::from_millis(250),
            chunk_size: None,
        }
    }
}

/// Failures talking to a registry.
#[cfg(feature = "registry")]
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The reference is malformed.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// The registry answered with an error status.
    #[error("{method} {url}: HTTP {status}{}{hint}", codes_text(.codes))]
    Status {
        /// The request method.
        method: String,
        /// The request URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's own error codes and messages (`UNAUTHORIZED: authentication required`).
        codes: Vec<(String, String)>,
        /// Advice for the status, or empty.
        hint: &'static str,
    },
    /// The registry could not be reached, or the connection broke.
    #[error("{method} {url}: {}: {source}", if source.is_timeout() { "timed out" } else { "connection failed" })]
    Transport {
        /// The request method.
        method: String,
        /// The request URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Authentication could not be carried out.
    #[error("{registry}: authentication: {reason}")]
    Auth {
        /// The registry.
        registry: String,
        /// What went wrong.
        reason: String,
    },
    /// The registry broke the protocol (missing header, bad JSON...).
    #[error("{registry}: {reason}")]
    Protocol {
        /// The registry.
        registry: String,
        /// What went wrong.
        reason: String,
    },
    /// The registry served a manifest that does not hash to what was asked or announced.
    #[error(
        "{reference}: the registry served a manifest whose digest is {actual}, expected {expected}"
    )]
    ManifestDigest {
        /// The reference.
        reference: String,
        /// The digest asked for or announced.
        expected: crate::digest::Digest,
        /// The digest of the bytes served.
        actual: crate::digest::Digest,
    },
    /// The image cannot be transferred as it is.
    #[error("{0}")]
    Unsupported(String),
    /// A streamed blob upload broke off (connection lost, 5xx, 429, 401 on
    /// its `PATCH`); the session was cancelled. The bytes sent cannot be sent
    /// again from the same stream: start the upload again with the blob
    /// opened afresh ([`Client::upload_blob_from`] does).
    #[error("{url}: upload interrupted: {source}{}", interrupted_hint(source))]
    UploadInterrupted {
        /// The upload URL (without its query).
        url: String,
        /// What broke it off.
        #[source]
        source: Box<RegistryError>,
    },
    /// A local store failed, or bytes did not verify.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Advice for an upload whose connection broke while its bytes were sent.
#[cfg(feature = "registry")]
fn interrupted_hint(source: &RegistryError) -> &'static str {
    match source {
        RegistryError::Transport { .. } => {
            " (the connection broke while the blob was being sent; a proxy that limits the size of a request does this: send smaller requests with Options::chunk_size, --upload-chunk-size on the command line)"
        }
        _ => "",
    }
}

#[cfg(feature = "registry")]
fn codes_text(codes: &[(String, String)]) -> String {
    codes
        .iter()
        .map(|(c, m)| {
            if m.is_empty() {
                format!(": {c}")
            } else {
                format!(": {c}: {m}")
            }
        })
        .collect()
}

#[cfg(feature = "registry")]
impl RegistryError {
    /// The HTTP status, when the registry answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } => Some(*status),
            RegistryError::UploadInterrupted { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether the registry's answer carried this error code (`MANIFEST_UNKNOWN`...).
    pub fn has_code(&self, code: &str) -> bool {
        match self {
            RegistryError::Status { codes, .. } => codes.iter().any(|(c, _)| c == code),
            RegistryError::UploadInterrupted { source, .. } => source.has_code(code),
            _ => false,
        }
    }

    /// As a store error (for the [`ImageStore`](crate::store::ImageStore) impl).
    pub(crate) fn into_store(self, what: &str) -> crate::store::StoreError {
        match self {
            RegistryError::Store(e) => e,
            other => crate::store::StoreError::io(what, std::io::Error::other(other)),
        }
    }
}
