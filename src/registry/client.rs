//! The distribution protocol over `reqwest::blocking` (see the module
//! documentation of [`crate::registry`] for why not `oci-client`).
//!
//! Every request goes through [`Client::send`], which adds authentication
//! (preemptively once the registry's scheme is known), answers a `401`
//! challenge once (basic, or a bearer token for the request's scope), and
//! retries with exponential backoff on 5xx, 429 and broken connections, a
//! bounded number of times. Those request bodies are in memory (small), so a
//! retry resends them exactly. The bytes of a large blob are streamed
//! ([`Client::upload_blob`]); an upload that breaks off is started again
//! from the blob opened afresh ([`Client::upload_blob_from`]), which a
//! stream that can be read only once cannot be.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::Url;
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{self, HeaderValue};

use super::auth::{self, Challenge, Credentials};
use super::reference::Reference;
use super::{Options, RegistryError};
use crate::digest::{Digest, HashingReader};
use crate::limits::{
    MAX_ERROR_BODY_BYTES as MAX_ERROR_BODY, MAX_MANIFEST_BYTES, MAX_TAG_LIST_BYTES, MAX_TAG_PAGES,
    MAX_TOKEN_RESPONSE_BYTES,
};
use crate::media_type as mt;
use crate::pipe::{SendFailure, pipe};

/// The manifest types asked for when reading a manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Counters of what a client did, for progress reports and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Blobs uploaded (their bytes sent).
    pub blobs_uploaded: AtomicU64,
    /// Bytes of blobs uploaded.
    pub bytes_uploaded: AtomicU64,
    /// Blobs the registry already had (found with `HEAD`).
    pub blobs_existing: AtomicU64,
    /// Blobs mounted from another repository.
    pub blobs_mounted: AtomicU64,
    /// Manifests put.
    pub manifests_pushed: AtomicU64,
    /// Requests retried (5xx, 429, broken connection) and downloads resumed.
    pub retries: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// See [`Stats::blobs_uploaded`].
    pub blobs_uploaded: u64,
    /// See [`Stats::bytes_uploaded`].
    pub bytes_uploaded: u64,
    /// See [`Stats::blobs_existing`].
    pub blobs_existing: u64,
    /// See [`Stats::blobs_mounted`].
    pub blobs_mounted: u64,
    /// See [`Stats::manifests_pushed`].
    pub manifests_pushed: u64,
    /// See [`Stats::retries`].
    pub retries: u64,
}

impl Stats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            blobs_uploaded: g(&self.blobs_uploaded),
            bytes_uploaded: g(&self.bytes_uploaded),
            blobs_existing: g(&self.blobs_existing),
            blobs_mounted: g(&self.blobs_mounted),
            manifests_pushed: g(&self.manifests_pushed),
            retries: g(&self.retries),
        }
    }
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

/// What the client learnt about the registry's authentication. Holds tokens:
/// no `Debug` that shows them.
#[derive(Default)]
struct AuthState {
    basic: bool,
    bearer: Option<(String, Option<String>)>,
    tokens: HashMap<String, String>,
}

/// The credentials a request carried (requests run on several threads at
/// once, so what was sent, not what is known now, decides a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    Basic,
    Bearer,
}

/// One request, kept so that it can be sent again.
struct Request<'a> {
    method: Method,
    url: Url,
    headers: Vec<(header::HeaderName, String)>,
    /// Shared, so that a retry resends it without a copy.
    body: Option<Bytes>,
    scope: &'a str,
}

/// What pushing a blob did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPush {
    /// The registry had it.
    Existing,
    /// Mounted from another repository.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// Blobs up to this size are uploaded from memory in the closing `PUT`;
/// larger ones are streamed in `PATCH` requests.
pub const SMALL_UPLOAD_BYTES: u64 = 1 << 20;
/// The bytes of a streamed upload go to the request in pieces of this size.
pub const UPLOAD_PIECE: usize = 64 << 10;
/// Pieces that may wait for the request (bounds the memory of an upload).
pub const UPLOAD_QUEUE: usize = 8;
/// The slowest upload tolerated: a streamed `PATCH` of N bytes times out
/// after the read timeout plus N divided by this rate (bytes per second).
pub const MIN_UPLOAD_BYTES_PER_SEC: u64 = 64 << 10;

/// How a streamed `PATCH` failed.
enum Patch {
    /// The source could not be read.
    Read(io::Error),
    /// The source ended early, after this many bytes of the blob.
    Short(u64),
    /// The request failed.
    Failed(RegistryError),
}

/// Opens the bytes of a blob from their start, once per attempt of an
/// upload ([`Client::upload_blob_from`]).
pub type OpenBlob<'o, 's> = dyn FnMut() -> Result<Box<dyn Read + 's>, RegistryError> + 'o;

/// A manifest as the registry served it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Their digest (verified against the reference's digest or the
    /// registry's `Docker-Content-Digest`).
    pub digest: Digest,
    /// The media type (the `Content-Type`, else the document's `mediaType`).
    pub media_type: String,
}

/// A client of one registry host.
pub struct Client {
    http: Http,
    base: Url,
    registry: String,
    credentials: Option<Credentials>,
    auth: Mutex<AuthState>,
    retries: u32,
    retry_delay: Duration,
    read_timeout: Duration,
    chunk_size: Option<u64>,
    stats: Stats,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the registry a reference names.
    pub fn new(reference: &Reference, options: &Options) -> Result<Self, RegistryError> {
        let registry = reference.registry.clone();
        let proto = |reason: String| RegistryError::Protocol {
            registry: registry.clone(),
            reason,
        };
        let scheme = if options.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", reference.api_host()))
            .map_err(|e| proto(format!("not a usable host: {e}")))?;
        let mut builder = Http::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.read_timeout)
            .user_agent(concat!("wasm-image/", env!("CARGO_PKG_VERSION")))
            // Redirects to blob storage must not carry the registry's credentials:
            // reqwest drops Authorization on cross-host redirects.
            .redirect(reqwest::redirect::Policy::limited(5));
        if reference.is_loopback() {
            // A proxy from the environment must never see loopback traffic.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| proto(format!("cannot set up HTTP: {e}")))?;
        let credentials = match &options.credentials {
            Some(c) => Some(c.clone()),
            None if options.docker_config => match auth::docker_config_path() {
                Some(path) => {
                    auth::from_docker_config(&path, &reference.registry).map_err(|e| {
                        RegistryError::Auth {
                            registry: registry.clone(),
                            reason: e.to_string(),
                        }
                    })?
                }
                None => None,
            },
            None => None,
        };
        Ok(Client {
            http,
            base,
            registry,
            credentials,
            auth: Mutex::new(AuthState::default()),
            retries: options.retries,
            retry_delay: options.retry_delay,
            read_timeout: options.read_timeout,
            chunk_size: options.chunk_size,
            stats: Stats::default(),
        })
    }

    /// The registry, as written in references.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Counters of what the client did.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn url(&self, path: &str) -> Result<Url, RegistryError> {
        self.base
            .join(path)
            .map_err(|e| self.protocol(format!("bad URL {path}: {e}")))
    }

    fn protocol(&self, reason: String) -> RegistryError {
        RegistryError::Protocol {
            registry: self.registry.clone(),
            reason,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(6);
        self.retry_delay.saturating_mul(factor)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AuthState> {
        // A panic elsewhere while holding the lock leaves plain data: keep going.
        self.auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The Authorization header to send for a scope, fetching a token if the
    /// registry is known to want one.
    fn authorization(&self, scope: &str) -> Result<Option<String>, RegistryError> {
        let (basic, bearer, token) = {
            let state = self.lock();
            (
                state.basic,
                state.bearer.clone(),
                state.tokens.get(scope).cloned(),
            )
        };
        if let Some(token) = token {
            return Ok(Some(format!("Bearer {token}")));
        }
        if let Some((realm, service)) = bearer {
            let token = self.fetch_token(&realm, service.as_deref(), scope)?;
            self.lock().tokens.insert(scope.to_owned(), token.clone());
            return Ok(Some(format!("Bearer {token}")));
        }
        if basic {
            return Ok(self.credentials.as_ref().map(Credentials::basic_header));
        }
        Ok(None)
    }

    /// Learns from a 401 challenge. Returns whether a retry may succeed.
    fn on_challenge(
        &self,
        response: &Response,
        scope: &str,
        sent: Sent,
    ) -> Result<bool, RegistryError> {
        let Some(challenge) = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge)
        else {
            return Ok(false);
        };
        match challenge {
            Challenge::Basic => {
                let mut state = self.lock();
                if self.credentials.is_none() || sent == Sent::Basic {
                    return Ok(false);
                }
                // Sent without credentials: retry with them (another
                // thread may have learnt the scheme meanwhile).
                state.basic = true;
                Ok(true)
            }
            Challenge::Bearer {
                realm,
                service,
                scope: asked,
            } => {
                let mut state = self.lock();
                // A token sent and refused is dropped; one fetched by another
                // thread since this request left is kept.
                let had = sent == Sent::Bearer;
                if had {
                    state.tokens.remove(scope);
                }
                let known = state.bearer.is_some();
                state.bearer = Some((realm, service));
                drop(state);
                // A token we just got and that was refused will not do better.
                let _ = asked;
                Ok(!(had && known))
            }
        }
    }

    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, RegistryError> {
        let auth_err = |reason: String| RegistryError::Auth {
            registry: self.registry.clone(),
            reason,
        };
        let mut url = Url::parse(realm)
            .map_err(|e| auth_err(format!("token realm {realm:?} is not a URL: {e}")))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(auth_err(format!("token realm {realm:?} is not http(s)")));
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            for s in scope.split(' ').filter(|s| !s.is_empty()) {
                q.append_pair("scope", s);
            }
        }
        let mut attempt = 0;
        let response = loop {
            let mut rb = self.http.get(url.clone());
            if let Some(c) = &self.credentials {
                rb = rb.header(header::AUTHORIZATION, sensitive(&c.basic_header())?);
            }
            match rb.send() {
                Ok(r) if retryable_status(r.status().as_u16()) && attempt < self.retries => {}
                Ok(r) => break r,
                Err(e) if attempt < self.retries && retryable_error(&e) => {}
                Err(source) => {
                    return Err(RegistryError::Transport {
                        method: "GET".into(),
                        url: strip_query(&url),
                        source,
                    });
                }
            }
            std::thread::sleep(self.backoff(attempt));
            bump(&self.stats.retries, 1);
            attempt += 1;
        };
        let response = check(response, "GET", &strip_query(&url))?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let mut body = Vec::new();
        response
            .take(MAX_TOKEN_RESPONSE_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| auth_err(format!("reading the token answer: {e}")))?;
        if body.len() as u64 > MAX_TOKEN_RESPONSE_BYTES {
            return Err(auth_err(format!(
                "the token server's answer is over the limit of {MAX_TOKEN_RESPONSE_BYTES} bytes (MAX_TOKEN_RESPONSE_BYTES)"
            )));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| auth_err("the token server's answer is not JSON".into()))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| auth_err("the token server's answer holds no token".into()))
    }

    /// Sends a request with authentication and retries; returns the response
    /// of whatever status (the caller checks it with [`check`]).
    fn send(&self, req: &Request<'_>) -> Result<Response, RegistryError> {
        let mut attempt = 0;
        let mut challenged = false;
        loop {
            let mut rb = self.http.request(req.method.clone(), req.url.clone());
            for (name, value) in &req.headers {
                rb = rb.header(name, value);
            }
            let mut sent = Sent::Nothing;
            if let Some(value) = self.authorization(req.scope)? {
                sent = if value.starts_with("Bearer ") {
                    Sent::Bearer
                } else {
                    Sent::Basic
                };
                rb = rb.header(header::AUTHORIZATION, sensitive(&value)?);
            }
            if let Some(body) = &req.body {
                rb = rb.body(body.clone());
            }
            match rb.send() {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if status == 401 && !challenged {
                        challenged = true;
                        if self.on_challenge(&response, req.scope, sent)? {
                            continue;
                        }
                        return Ok(response);
                    }
                    if retryable_status(status) && attempt < self.retries {
                        let delay = retry_after(&response)
                            .unwrap_or_else(|| self.backoff(attempt))
                            .min(Duration::from_secs(30));
                        std::thread::sleep(delay);
                        bump(&self.stats.retries, 1);
                        attempt += 1;
                        continue;
                    }
                    return Ok(response);
                }
                Err(e) if attempt < self.retries && retryable_error(&e) => {
                    std::thread::sleep(self.backoff(attempt));
                    bump(&self.stats.retries, 1);
                    attempt += 1;
                }
                Err(source) => {
                    return Err(RegistryError::Transport {
                        method: req.method.to_string(),
                        url: strip_query(&req.url),
                        source,
                    });
                }
            }
        }
    }

    fn request<'a>(&self, method: Method, url: Url, scope: &'a str) -> Request<'a> {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: None,
            scope,
        }
    }

    /// Checks that `/v2/` answers (with authentication).
    pub fn ping(&self, repository: &str) -> Result<(), RegistryError> {
        let scope = pull_scope(repository);
        let req = self.request(Method::GET, self.url("v2/")?, &scope);
        let url = req.url.to_string();
        check(self.send(&req)?, "GET", &url).map(drop)
    }

    /// Reads a manifest by tag or digest, bounded and verified.
    pub fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
        expected: Option<&Digest>,
    ) -> Result<FetchedManifest, RegistryError> {
        let scope = pull_scope(repository);
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let mut req = self.request(Method::GET, url, &scope);
        req.headers
            .push((header::ACCEPT, MANIFEST_ACCEPT.to_owned()));
        let shown = req.url.to_string();
        let response = check(self.send(&req)?, "GET", &shown)?;
        let announced = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok());
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        if let Some(len) = response.content_length()
            && len > MAX_MANIFEST_BYTES
        {
            return Err(self.protocol(format!(
                "manifest {reference} is {len} bytes, over the limit of {MAX_MANIFEST_BYTES} (MAX_MANIFEST_BYTES)"
            )));
        }
        let bytes = self.read_bounded(
            response,
            MAX_MANIFEST_BYTES,
            "MAX_MANIFEST_BYTES",
            &format!("manifest {reference}"),
        )?;
        let wanted = expected.cloned().or(announced);
        let algorithm = wanted
            .as_ref()
            .and_then(Digest::algorithm)
            .unwrap_or(crate::digest::Algorithm::Sha256);
        let digest = Digest::of(algorithm, &bytes);
        if let Some(wanted) = wanted
            && wanted != digest
        {
            return Err(RegistryError::ManifestDigest {
                reference: format!("{}/{repository}:{reference}", self.registry),
                expected: wanted,
                actual: digest,
            });
        }
        let media_type = content_type
            .filter(|t| is_manifest_type(t))
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
            })
            .unwrap_or_else(|| mt::OCI_MANIFEST.to_owned());
        Ok(FetchedManifest {
            bytes,
            digest,
            media_type,
        })
    }

    /// The size of a blob, or `None` if the registry does not have it.
    pub fn head_blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<u64>, RegistryError> {
        let scope = pull_scope(repository);
        self.head_blob_scoped(repository, digest, &scope)
    }

    fn head_blob_scoped(
        &self,
        repository: &str,
        digest: &Digest,
        scope: &str,
    ) -> Result<Option<u64>, RegistryError> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"))?;
        let req = self.request(Method::HEAD, url, scope);
        let shown = req.url.to_string();
        let response = self.send(&req)?;
        if response.status().as_u16() == 404 {
            return Ok(None);
        }
        let response = check(response, "HEAD", &shown)?;
        Ok(response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    /// Opens a blob for streaming. The stream resumes with a `Range` request
    /// after a broken connection or a short body (when `size` is known), up
    /// to the retry count. The bytes are not verified here: the caller hashes them.
    pub fn open_blob<'a>(
        &'a self,
        repository: &str,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<BlobReader<'a>, RegistryError> {
        let mut reader = BlobReader {
            client: self,
            url: self.url(&format!("v2/{repository}/blobs/{digest}"))?,
            scope: pull_scope(repository),
            size,
            offset: 0,
            response: None,
            resumes: 0,
        };
        reader.open()?;
        Ok(reader)
    }

    /// Pushes a blob: nothing if the registry has it, a cross-repository
    /// mount if `mount_from` names a repository of the same registry that
    /// has it, else an upload ([`Client::upload_blob_from`], from `open`).
    pub fn push_blob<'s>(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        mount_from: Option<&str>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<BlobPush, RegistryError> {
        if self.head_blob_for_push(repository, digest)? == Some(size) {
            progress(size);
            return Ok(BlobPush::Existing);
        }
        if let Some(from) = mount_from
            && self.mount_blob(repository, digest, from)?
        {
            progress(size);
            return Ok(BlobPush::Mounted);
        }
        self.upload_blob_from(repository, digest, size, open, progress)?;
        Ok(BlobPush::Uploaded)
    }

    /// [`Client::upload_blob`] of the bytes `open` gives, started again
    /// with the bytes opened afresh when the upload is interrupted
    /// ([`RegistryError::UploadInterrupted`]), up to
    /// [`Options::retries`](super::Options) times with backoff (each counted
    /// in [`Stats::retries`]). `progress` never goes back nor counts a byte
    /// twice. When `open` fails on a new start, the interruption is
    /// returned (a caller that wants no new start makes `open` fail).
    pub fn upload_blob_from<'s>(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        open: &mut OpenBlob<'_, 's>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        let mut reported = 0u64;
        let mut content = open()?;
        let mut attempt = 0;
        loop {
            let mut this_attempt = 0u64;
            let mut report = |n: u64| {
                this_attempt += n;
                if this_attempt > reported {
                    progress(this_attempt - reported);
                    reported = this_attempt;
                }
            };
            match self.upload_blob(repository, digest, size, &mut content, &mut report) {
                Err(e @ RegistryError::UploadInterrupted { .. }) if attempt < self.retries => {
                    bump(&self.stats.retries, 1);
                    std::thread::sleep(self.backoff(attempt));
                    attempt += 1;
                    content = match open() {
                        Ok(c) => c,
                        Err(_) => return Err(e),
                    };
                }
                other => return other,
            }
        }
    }

    /// `HEAD` of a blob with the push scope (so a bearer token fetched for
    /// it serves the upload too); counts a found blob as existing.
    pub fn head_blob_for_push(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<u64>, RegistryError> {
        let found = self.head_blob_scoped(repository, digest, &push_scope(repository))?;
        if found.is_some() {
            bump(&self.stats.blobs_existing, 1);
        }
        Ok(found)
    }

    /// Mounts a blob from another repository of the registry. `false` when
    /// the registry could not (it then opens an upload, which is abandoned).
    pub fn mount_blob(
        &self,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<bool, RegistryError> {
        if from == repository {
            return Ok(false);
        }
        let scope = format!("{} repository:{from}:pull", push_scope(repository));
        let mut url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        url.query_pairs_mut()
            .append_pair("mount", digest.as_str())
            .append_pair("from", from);
        let req = Request {
            body: Some(Bytes::new()),
            ..self.request(Method::POST, url, &scope)
        };
        let shown = strip_query(&req.url);
        let response = check(self.send(&req)?, "POST", &shown)?;
        if response.status().as_u16() == 201 {
            bump(&self.stats.blobs_mounted, 1);
            return Ok(true);
        }
        if let Ok(location) = self.location(&response) {
            self.cancel(&location, &scope);
        }
        Ok(false)
    }

    /// Uploads a blob. `POST` opens a session; a blob of up to
    /// [`SMALL_UPLOAD_BYTES`] (and the chunk size) is then read into memory,
    /// checked, and sent with the closing `PUT` (both requests retried as
    /// they are). A larger blob is streamed from `content` in `PATCH`
    /// requests (one, or one per [`Options::chunk_size`](super::Options)
    /// bytes), read, hashed and sent at the same time, with at most
    /// [`UPLOAD_QUEUE`] pieces of [`UPLOAD_PIECE`] bytes in memory; the
    /// closing `PUT` is sent only if the bytes matched `digest` and `size`,
    /// else the session is cancelled. (Distribution 2.8 answers a
    /// single-`POST` monolithic upload with 202 and drops its body, so the
    /// bytes never go with the `POST`.)
    ///
    /// Bytes already streamed cannot be sent again from `content`: when a
    /// `PATCH` breaks off (connection lost, 5xx, 429, 401, or silence for
    /// the read timeout) the error is [`RegistryError::UploadInterrupted`];
    /// [`Client::upload_blob_from`] starts again with the blob opened afresh.
    pub fn upload_blob(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        content: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), RegistryError> {
        let scope = push_scope(repository);
        let algorithm = digest
            .algorithm()
            .ok_or_else(|| crate::store::StoreError::UnsupportedAlgorithm(digest.clone()))?;
        let url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        let req = Request {
            body: Some(Bytes::new()),
            ..self.request(Method::POST, url, &scope)
        };
        let shown = req.url.to_string();
        let response = check(self.send(&req)?, "POST", &shown)?;
        let location = self.location(&response)?;
        drop(response);
        let reading = |e: io::Error| {
            RegistryError::Store(crate::store::StoreError::io(
                format!("reading blob {digest}"),
                e,
            ))
        };
        let mut reader = HashingReader::new(content.take(size.saturating_add(1)), algorithm);
        let chunk = self.chunk_size.unwrap_or(u64::MAX).max(1);
        let streamed = size > SMALL_UPLOAD_BYTES.min(chunk);
        let mut last = Bytes::new();
        let mut location = location;
        if streamed {
            let mut sent = 0u64;
            while sent < size {
                let len = chunk.min(size - sent);
                match self.patch_streamed(&location, &scope, &mut reader, sent, len, progress) {
                    Ok(next) => location = next,
                    Err(e) => {
                        self.cancel(&location, &scope);
                        return Err(match e {
                            Patch::Read(e) => reading(e),
                            Patch::Short(n) => crate::store::StoreError::SizeMismatch {
                                digest: digest.clone(),
                                expected: size,
                                actual: n,
                            }
                            .into(),
                            Patch::Failed(e) => e,
                        });
                    }
                }
                sent += len;
            }
            // One byte more than `size` means the source is longer.
            if let Err(e) = io::copy(&mut reader, &mut io::sink()) {
                self.cancel(&location, &scope);
                return Err(reading(e));
            }
        } else {
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
            if let Err(e) = reader.read_to_end(&mut buf) {
                self.cancel(&location, &scope);
                return Err(reading(e));
            }
            last = Bytes::from(buf);
        }
        let (actual, n) = reader.finish();
        if n != size {
            self.cancel(&location, &scope);
            return Err(crate::store::StoreError::SizeMismatch {
                digest: digest.clone(),
                expected: size,
                actual: n,
            }
            .into());
        }
        if &actual != digest {
            self.cancel(&location, &scope);
            return Err(crate::store::StoreError::DigestMismatch {
                expected: digest.clone(),
                actual,
            }
            .into());
        }
        let mut url = location;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let req = Request {
            headers: vec![(header::CONTENT_TYPE, "application/octet-stream".to_owned())],
            body: Some(last.clone()),
            ..self.request(Method::PUT, url, &scope)
        };
        let shown = strip_query(&req.url);
        check(self.send(&req)?, "PUT", &shown)?;
        progress(last.len() as u64);
        bump(&self.stats.blobs_uploaded, 1);
        bump(&self.stats.bytes_uploaded, size);
        Ok(())
    }

    /// Streams `len` bytes of `reader` (the blob's bytes from `start`) in one
    /// `PATCH`: this thread reads them and hands them, in pieces through a
    /// bounded channel, to the request running on a second thread. Returns
    /// the session's next location.
    fn patch_streamed(
        &self,
        location: &Url,
        scope: &str,
        reader: &mut dyn Read,
        start: u64,
        len: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Url, Patch> {
        let shown = strip_query(location);
        let interrupted = |cause: RegistryError| {
            Patch::Failed(RegistryError::UploadInterrupted {
                url: shown.clone(),
                source: Box::new(cause),
            })
        };
        let (writer, body) = pipe(UPLOAD_QUEUE);
        let mut rb = self
            .http
            .request(Method::PATCH, location.clone())
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(
                header::CONTENT_RANGE,
                format!("{start}-{}", start + len - 1),
            )
            .timeout(
                self.read_timeout
                    .saturating_add(Duration::from_secs(len / MIN_UPLOAD_BYTES_PER_SEC)),
            )
            .body(reqwest::blocking::Body::sized(body, len));
        if let Some(value) = self.authorization(scope).map_err(Patch::Failed)? {
            rb = rb.header(
                header::AUTHORIZATION,
                sensitive(&value).map_err(Patch::Failed)?,
            );
        }
        // The request runs on its own thread, which owns everything it uses
        // (not scoped): if the registry stops taking bytes, this thread
        // notices (no piece taken for the read timeout), gives up on it and
        // returns; the request thread ends at its own deadline.
        let (answer_tx, answer) = mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let _ = answer_tx.send(rb.send());
        });
        let stall = self.read_timeout;
        let stalled = |what: &str| {
            interrupted(self.protocol(format!(
                "PATCH {shown}: the registry {what} for {} s",
                stall.as_secs()
            )))
        };
        let mut left = len;
        let mut source_ended = false;
        while left > 0 {
            let mut piece =
                writer.buffer(UPLOAD_PIECE.min(usize::try_from(left).unwrap_or(UPLOAD_PIECE)));
            match reader.read(&mut piece) {
                Ok(0) => {
                    source_ended = true;
                    break;
                }
                Ok(n) => {
                    piece.truncate(n);
                    left -= n as u64;
                    progress(n as u64);
                    match writer.send_timeout(piece, stall) {
                        Ok(()) => {}
                        // The request ended early; its answer says why.
                        Err(SendFailure::Gone) => break,
                        Err(SendFailure::Stalled) => return Err(stalled("took no bytes")),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // The request fails on it; the caller hears of the read error.
                    writer.fail(io::Error::new(e.kind(), e.to_string()));
                    return Err(Patch::Read(e));
                }
            }
        }
        // The end of the body: short if the source ended early, which makes
        // the request fail rather than complete.
        let watcher = writer.watcher();
        drop(writer);
        if source_ended {
            return Err(Patch::Short(start + len - left));
        }
        // The answer comes once the queued pieces are sent and the registry
        // has taken them: a read timeout in which no piece is taken, or
        // after the last one no answer comes, is a stall.
        let mut seen = watcher.taken();
        let outcome = loop {
            match answer.recv_timeout(stall) {
                Ok(outcome) => break outcome,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Patch::Failed(self.protocol(format!(
                        "PATCH {shown}: the request stopped unexpectedly"
                    ))));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let now = watcher.taken();
                    if now != seen {
                        seen = now;
                        continue;
                    }
                    return Err(stalled(if watcher.queued() > 0 {
                        "took no bytes"
                    } else {
                        "did not answer"
                    }));
                }
            }
        };
        match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                if retryable_status(status) || status == 401 {
                    if status == 401 {
                        // A token that expired: the new start fetches another.
                        self.lock().tokens.remove(scope);
                    }
                    return Err(interrupted(
                        check(response, "PATCH", &shown).err().unwrap_or_else(|| {
                            self.protocol(format!("PATCH {shown}: HTTP {status}"))
                        }),
                    ));
                }
                let response = check(response, "PATCH", &shown).map_err(Patch::Failed)?;
                self.location(&response).map_err(Patch::Failed)
            }
            Err(source) if retryable_error(&source) => Err(interrupted(RegistryError::Transport {
                method: "PATCH".into(),
                url: shown.clone(),
                source,
            })),
            Err(source) => Err(Patch::Failed(RegistryError::Transport {
                method: "PATCH".into(),
                url: shown.clone(),
                source,
            })),
        }
    }

    /// Abandons an upload session (best effort).
    fn cancel(&self, location: &Url, scope: &str) {
        let req = self.request(Method::DELETE, location.clone(), scope);
        let _ = self.send(&req);
    }

    fn location(&self, response: &Response) -> Result<Url, RegistryError> {
        let value = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.protocol("upload answer has no Location header".into()))?;
        self.base
            .join(value)
            .map_err(|e| self.protocol(format!("upload Location {value:?}: {e}")))
    }

    /// Puts a manifest under a tag or its digest (`reference`), with its
    /// media type as `Content-Type`. Checks the digest the registry announces.
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        self.put_manifest_answer(repository, reference, media_type, bytes, digest)
            .map(drop)
    }

    /// [`Client::put_manifest`], answering whether the registry sent an
    /// `OCI-Subject` header: it then indexes the manifest's `subject` in its
    /// referrers API itself (OCI distribution 1.1), and the referrers tag
    /// schema must not be maintained.
    pub fn put_manifest_answer(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let scope = push_scope(repository);
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let req = Request {
            headers: vec![(header::CONTENT_TYPE, media_type.to_owned())],
            body: Some(Bytes::copy_from_slice(bytes)),
            ..self.request(Method::PUT, url, &scope)
        };
        let shown = req.url.to_string();
        let response = check(self.send(&req)?, "PUT", &shown)?;
        if let Some(announced) = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok())
            && &announced != digest
        {
            return Err(RegistryError::ManifestDigest {
                reference: format!("{}/{repository}:{reference}", self.registry),
                expected: digest.clone(),
                actual: announced,
            });
        }
        let indexed = response.headers().contains_key("oci-subject");
        bump(&self.stats.manifests_pushed, 1);
        Ok(indexed)
    }

    /// Whether a manifest exists under a tag or digest: `GET` it (bounded and
    /// verified as [`Client::get_manifest`]), `None` on 404.
    pub fn find_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<FetchedManifest>, RegistryError> {
        match self.get_manifest(repository, reference, None) {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The OCI 1.1 referrers API, `GET /v2/<name>/referrers/<digest>`: the
    /// descriptors of the manifests whose `subject` is `digest`, or `None`
    /// when the registry does not have the API (404, or an answer that is not
    /// an image index, as distribution 2.8 gives). Follows `Link` pages (bounded).
    pub fn get_referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<Vec<serde_json::Value>>, RegistryError> {
        let scope = pull_scope(repository);
        let mut url = self.url(&format!("v2/{repository}/referrers/{digest}"))?;
        let mut out = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let mut req = self.request(Method::GET, url.clone(), &scope);
            req.headers.push((header::ACCEPT, mt::OCI_INDEX.to_owned()));
            let shown = strip_query(&req.url);
            let response = match check(self.send(&req)?, "GET", &shown) {
                Ok(r) => r,
                Err(e) if matches!(e.status(), Some(404 | 400 | 405)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let is_index = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(mt::OCI_INDEX));
            let (body, next) = self.page(
                response,
                MAX_MANIFEST_BYTES,
                "MAX_MANIFEST_BYTES",
                &format!("a page of the referrers of {digest}"),
            )?;
            let Ok(document) = serde_json::from_slice::<serde_json::Value>(&body) else {
                return Ok(None);
            };
            let manifests = match document.get("manifests").and_then(|m| m.as_array()) {
                Some(m)
                    if is_index
                        || document.get("mediaType").and_then(|t| t.as_str())
                            == Some(mt::OCI_INDEX) =>
                {
                    m
                }
                _ => return Ok(None),
            };
            out.extend(manifests.iter().cloned());
            match next {
                Some(link) => {
                    url = self
                        .base
                        .join(&link)
                        .map_err(|e| self.protocol(format!("referrers Link {link:?}: {e}")))?;
                }
                None => return Ok(Some(out)),
            }
        }
        Err(self.protocol(format!(
            "the referrers of {digest} have more than {MAX_TAG_PAGES} pages"
        )))
    }

    /// One page of a paginated answer: its body, read up to `limit` bytes
    /// (more is an error naming `limit_name`), and the `Link` to the next page.
    fn page(
        &self,
        response: Response,
        limit: u64,
        limit_name: &str,
        what: &str,
    ) -> Result<(Vec<u8>, Option<String>), RegistryError> {
        let next = response
            .headers()
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        Ok((self.read_bounded(response, limit, limit_name, what)?, next))
    }

    /// A response body, read up to `limit` bytes; more is an error naming
    /// `limit_name`.
    fn read_bounded(
        &self,
        response: Response,
        limit: u64,
        limit_name: &str,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut body = Vec::new();
        response
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| self.protocol(format!("reading {what}: {e}")))?;
        if body.len() as u64 > limit {
            return Err(self.protocol(format!(
                "{what} is over the limit of {limit} bytes ({limit_name})"
            )));
        }
        Ok(body)
    }

    /// The repository's tags, following `Link` pagination (bounded).
    pub fn list_tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        let scope = pull_scope(repository);
        let mut url = self.url(&format!("v2/{repository}/tags/list"))?;
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let req = self.request(Method::GET, url.clone(), &scope);
            let shown = strip_query(&req.url);
            let response = check(self.send(&req)?, "GET", &shown)?;
            let (body, next) = self.page(
                response,
                MAX_TAG_LIST_BYTES,
                "MAX_TAG_LIST_BYTES",
                "a tag list page",
            )?;
            #[derive(serde::Deserialize)]
            struct TagList {
                tags: Option<Vec<String>>,
            }
            let page: TagList = serde_json::from_slice(&body)
                .map_err(|e| self.protocol(format!("tag list is not JSON: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(link) => {
                    url = self
                        .base
                        .join(&link)
                        .map_err(|e| self.protocol(format!("tag list Link {link:?}: {e}")))?;
                }
                None => return Ok(tags),
            }
        }
        Err(self.protocol(format!("tag list has more than {MAX_TAG_PAGES} pages")))
    }
}

/// A streaming blob download that resumes after a broken connection.
pub struct BlobReader<'a> {
    client: &'a Client,
    url: Url,
    scope: String,
    size: Option<u64>,
    offset: u64,
    response: Option<Response>,
    resumes: u32,
}

impl BlobReader<'_> {
    fn open(&mut self) -> Result<(), RegistryError> {
        let mut req = self
            .client
            .request(Method::GET, self.url.clone(), &self.scope);
        if self.offset > 0 {
            req.headers
                .push((header::RANGE, format!("bytes={}-", self.offset)));
        }
        let shown = self.url.to_string();
        let mut response = check(self.client.send(&req)?, "GET", &shown)?;
        if self.size.is_none() && self.offset == 0 {
            self.size = response.content_length();
        }
        if self.offset > 0 && response.status().as_u16() != 206 {
            // The registry ignored the range: skip what was already read.
            io::copy(&mut (&mut response).take(self.offset), &mut io::sink()).map_err(|e| {
                self.client
                    .protocol(format!("resuming {}: {e}", strip_query(&self.url)))
            })?;
        }
        self.response = Some(response);
        Ok(())
    }

    fn resume(&mut self, why: io::Error) -> io::Result<()> {
        if self.resumes >= self.client.retries {
            return Err(why);
        }
        std::thread::sleep(self.client.backoff(self.resumes));
        self.resumes += 1;
        bump(&self.client.stats.retries, 1);
        self.response = None;
        self.open().map_err(io::Error::other)
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(response) = self.response.as_mut() else {
                return Ok(0);
            };
            match response.read(buf) {
                Ok(0) => {
                    if self.size.is_some_and(|s| self.offset < s) {
                        let short = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!(
                                "{}: body ended after {} of {} bytes",
                                strip_query(&self.url),
                                self.offset,
                                self.size.unwrap_or_default()
                            ),
                        );
                        match self.resume(short) {
                            Ok(()) => continue,
                            // Report the short body as a short read: the caller's
                            // size check then names the blob and both sizes.
                            Err(_) => return Ok(0),
                        }
                    }
                    return Ok(0);
                }
                Ok(n) => {
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = io::Error::new(
                        e.kind(),
                        format!(
                            "{}: {}",
                            strip_query(&self.url),
                            describe_io(&e, self.client.read_timeout)
                        ),
                    );
                    self.resume(e)?;
                }
            }
        }
    }
}

/// A read error with its causes, saying "timed out" for a stalled body.
fn describe_io(e: &io::Error, timeout: Duration) -> String {
    let timed_out = e.kind() == io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|i| i.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if timed_out {
        return format!(
            "timed out: no data for {}s (the registry stalled)",
            timeout.as_secs_f32()
        );
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn sensitive(value: &str) -> Result<HeaderValue, RegistryError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| RegistryError::Auth {
        registry: String::new(),
        reason: "credentials hold characters not allowed in an HTTP header".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && !matches!(status, 501 | 505)
}

fn retryable_error(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The URL without its query (queries may hold upload state; never credentials).
fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// `repository:NAME:pull`.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// `repository:NAME:pull,push`.
pub fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

fn is_manifest_type(t: &str) -> bool {
    matches!(
        t,
        mt::OCI_MANIFEST | mt::OCI_INDEX | mt::DOCKER_MANIFEST | mt::DOCKER_MANIFEST_LIST
    )
}

/// The target of a `Link: <...>; rel="next"` header.
fn next_link(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// Turns an error status into [`RegistryError::Status`], with the registry's
/// error codes from the JSON body and advice for 401, 403, 404 and 429.
pub(crate) fn check(
    response: Response,
    method: &str,
    url: &str,
) -> Result<Response, RegistryError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let code = status.as_u16();
    let mut body = Vec::new();
    let _ = response.take(MAX_ERROR_BODY).read_to_end(&mut body);
    let codes = error_codes(&body);
    let hint = match code {
        401 => {
            " (not authenticated: check the credentials, --username/--password-stdin or ~/.docker/config.json)"
        }
        403 => " (denied: the credentials lack the permission)",
        404 => " (not found: check the repository, tag or digest)",
        429 => " (rate limited by the registry, retries exhausted: try again later)",
        _ => "",
    };
    Err(RegistryError::Status {
        method: method.to_owned(),
        url: url.to_owned(),
        status: code,
        codes,
        hint,
    })
}

/// `{"errors":[{"code":"...","message":"..."}]}`, or the status text.
fn error_codes(body: &[u8]) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(e) => e
            .errors
            .into_iter()
            .map(|e| (e.code.unwrap_or_default(), e.message.unwrap_or_default()))
            .collect(),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let line = text.lines().next().unwrap_or("").trim();
            if line.is_empty() {
                Vec::new()
            } else {
                vec![(line.chars().take(200).collect(), String::new())]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_codes() {
        assert_eq!(
            next_link(r#"</v2/x/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?last=b&n=2")
        );
        assert_eq!(
            error_codes(br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#),
            vec![("UNAUTHORIZED".to_owned(), "authentication required".to_owned())]
        );
        assert!(retryable_status(500) && retryable_status(429) && !retryable_status(501));
        assert!(!retryable_status(404));
    }
}
