//! Test harness: a real distribution registry (Debian's `docker-registry`)
//! on 127.0.0.1, plain, with htpasswd basic auth, or with bearer tokens from
//! a small token server here (ES256 JWTs, x5c self-signed certificate); and a
//! fault-injecting HTTP proxy between client and registry. Everything binds
//! to 127.0.0.1, every server stops on Drop, every loop is bounded.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

pub const USER: &str = "testuser";
pub const PASS: &str = "testpass";

/// The `docker-registry` binary, or `None` (skip) when missing outside CI.
pub fn registry_bin() -> Option<PathBuf> {
    which("docker-registry").or_else(|| {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("docker-registry is required in CI (scripts/test.sh installs it)");
        }
        eprintln!(
            "SKIPPED: docker-registry not installed; `apt-get install -y docker-registry apache2-utils` to run the registry tests"
        );
        None
    })
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// A port free at the time of asking, on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How the registry authenticates.
pub enum Auth {
    None,
    Basic,
    Bearer,
}

/// A running registry, stopped on Drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub token: Option<TokenServer>,
}

impl Registry {
    pub fn start(bin: &Path, auth: Auth) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let data = dir.path().join("data");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: not-a-secret-local-test-only\n",
            data.display()
        );
        let mut token = None;
        match auth {
            Auth::None => {}
            Auth::Basic => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", USER, PASS])
                    .output()
                    .expect("htpasswd (apache2-utils) must be installed");
                assert!(out.status.success(), "htpasswd failed");
                let path = dir.path().join("htpasswd");
                fs::write(&path, &out.stdout).expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                    path.display()
                ));
            }
            Auth::Bearer => {
                let server = TokenServer::start();
                let cert = dir.path().join("cert.pem");
                fs::write(&cert, &server.cert_pem).expect("write cert");
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: local-registry\n    issuer: local-token-issuer\n    rootcertbundle: {}\n",
                    server.port,
                    cert.display()
                ));
                token = Some(server);
            }
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).expect("write config");
        let log = fs::File::create(dir.path().join("registry.log")).expect("log file");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child,
            port,
            dir,
            token,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(
                    b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                );
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "docker-registry did not answer on 127.0.0.1:{}: {}",
            self.port,
            self.log()
        );
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accept loop on 127.0.0.1 with a stop flag; each connection in its own thread.
struct Acceptor {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    fn start(handler: Arc<dyn Fn(TcpStream) + Send + Sync>) -> Acceptor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let h = Arc::clone(&handler);
                    std::thread::spawn(move || h(stream));
                }
            }
        });
        Acceptor {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP/1.1 request as read off a socket.
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request (head and a Content-Length body), bounded.
pub fn read_request(stream: &mut TcpStream) -> Option<RawRequest> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(RawRequest {
        method,
        path,
        headers,
        body,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// The bearer token server of registry.md §2.3.
pub struct TokenServer {
    pub port: u16,
    pub cert_pem: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    _acceptor: Acceptor,
}

impl TokenServer {
    pub fn start() -> TokenServer {
        use p256::pkcs8::DecodePrivateKey;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "local-token-issuer");
        params.distinguished_name = dn;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("self-signed cert");
        let der = cert.der().to_vec();
        let signing =
            p256::ecdsa::SigningKey::from_pkcs8_der(&key.serialize_der()).expect("p256 key");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        let x5c = STANDARD.encode(&der);
        let handler = Arc::new(move |mut stream: TcpStream| {
            let Some(req) = read_request(&mut stream) else {
                return;
            };
            let query = req.path.split_once('?').map(|(_, q)| q).unwrap_or("");
            let mut service = String::new();
            let mut scopes = Vec::new();
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = percent_decode(v);
                match k {
                    "service" => service = v,
                    "scope" => scopes.extend(v.split(' ').map(str::to_owned)),
                    _ => {}
                }
            }
            log.lock().unwrap().push(scopes.join(" "));
            let user = match req.header("authorization") {
                None => Some(String::new()),
                Some(v) => v
                    .strip_prefix("Basic ")
                    .and_then(|b| STANDARD.decode(b).ok())
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|s| s == &format!("{USER}:{PASS}"))
                    .map(|_| USER.to_owned()),
            };
            let Some(user) = user else {
                respond(
                    &mut stream,
                    "401 Unauthorized",
                    "application/json",
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
                );
                return;
            };
            let access: Vec<serde_json::Value> = scopes
                .iter()
                .filter_map(|s| {
                    let mut parts = s.splitn(3, ':');
                    let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                    let actions: Vec<&str> = if user.is_empty() {
                        Vec::new()
                    } else {
                        actions.split(',').collect()
                    };
                    Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
                })
                .collect();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [x5c]});
            let claims = serde_json::json!({
                "iss": "local-token-issuer",
                "aud": service,
                "sub": user,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": format!("{now}-{}", rand_id()),
                "access": access,
            });
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            use p256::ecdsa::signature::Signer;
            let sig: p256::ecdsa::Signature = signing.sign(input.as_bytes());
            let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
            let body = serde_json::json!({
                "token": jwt, "access_token": jwt, "expires_in": 300,
                "issued_at": "2025-01-01T00:00:00Z",
            });
            respond(
                &mut stream,
                "200 OK",
                "application/json",
                body.to_string().as_bytes(),
            );
        });
        let acceptor = Acceptor::start(handler);
        TokenServer {
            port: acceptor.port,
            cert_pem: cert.pem(),
            requests,
            _acceptor: acceptor,
        }
    }
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the fault proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward untouched.
    Pass,
    /// Answer 500 without forwarding.
    Status500,
    /// Forward, then flip the body's first byte (same length).
    WrongBody,
    /// Forward, then send half the body with a Content-Length saying so.
    Truncate,
    /// Forward, then send the headers and half the body and close.
    CloseMid,
    /// Forward, then send the headers and half the body and stall (bounded);
    /// for a request other than `GET`, take it and never answer (bounded).
    Stall,
    /// Read the request, then close the connection without an answer.
    Drop,
}

/// A rule: requests whose method is `method` and whose path contains
/// `path_contains` get `fault`, the first `times` times (`u32::MAX`: always).
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: &'static str,
    pub path_contains: String,
    pub fault: Fault,
    pub times: u32,
}

/// A rule for requests of `method` to blob upload sessions.
pub fn on_uploads(method: &'static str, fault: Fault, times: u32) -> Rule {
    Rule {
        method,
        path_contains: "/blobs/uploads/".into(),
        fault,
        times,
    }
}

/// A fault-injecting proxy on 127.0.0.1 in front of a registry.
pub struct FaultProxy {
    pub port: u16,
    pub rules: Arc<Mutex<Vec<Rule>>>,
    pub hits: Arc<Mutex<HashMap<String, u32>>>,
    _acceptor: Acceptor,
}

/// How long a stalling proxy holds the connection before closing it.
pub const STALL: Duration = Duration::from_secs(5);

impl FaultProxy {
    pub fn start(upstream: u16) -> FaultProxy {
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let (r, h) = (Arc::clone(&rules), Arc::clone(&hits));
        let handler = Arc::new(move |mut client: TcpStream| {
            // One request per connection (the answer says Connection: close),
            // so clients reconnect and each request is seen here.
            let Some(req) = read_request(&mut client) else {
                return;
            };
            let fault = {
                let mut rules = r.lock().unwrap();
                let mut chosen = Fault::Pass;
                for rule in rules.iter_mut() {
                    if rule.times > 0
                        && rule.method == req.method
                        && req.path.contains(&rule.path_contains)
                    {
                        if rule.times != u32::MAX {
                            rule.times -= 1;
                        }
                        chosen = rule.fault;
                        break;
                    }
                }
                chosen
            };
            *h.lock()
                .unwrap()
                .entry(format!("{} {:?}", req.method, fault))
                .or_insert(0) += 1;
            if fault == Fault::Stall && req.method != "GET" {
                // Take the request, never answer (bounded), then close.
                std::thread::sleep(STALL);
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            if fault == Fault::Drop {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            if fault == Fault::Status500 {
                respond(
                    &mut client,
                    "500 Internal Server Error",
                    "application/json",
                    br#"{"errors":[{"code":"UNKNOWN","message":"injected"}]}"#,
                );
                return;
            }
            let Some(response) = forward(upstream, &req) else {
                let _ = client.shutdown(Shutdown::Both);
                return;
            };
            let Some(split) = find(&response, b"\r\n\r\n") else {
                let _ = client.write_all(&response);
                return;
            };
            let head = String::from_utf8_lossy(&response[..split]).to_string();
            let body = &response[split + 4..];
            let ok = (head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.1 206"))
                && req.method == "GET";
            let half = body.len() / 2;
            match fault {
                Fault::WrongBody if ok && !body.is_empty() => {
                    let mut b = body.to_vec();
                    b[0] ^= 0xff;
                    let _ = client.write_all(&response[..split + 4]);
                    let _ = client.write_all(&b);
                }
                Fault::Truncate if ok => {
                    let head = replace_length(&head, half);
                    let _ = client.write_all(head.as_bytes());
                    let _ = client.write_all(b"\r\n\r\n");
                    let _ = client.write_all(&body[..half]);
                }
                Fault::CloseMid if ok => {
                    let _ = client.write_all(&response[..split + 4]);
                    let _ = client.write_all(&body[..half]);
                }
                Fault::Stall if ok => {
                    let _ = client.write_all(&response[..split + 4]);
                    let _ = client.write_all(&body[..half]);
                    let _ = client.flush();
                    std::thread::sleep(STALL);
                }
                _ => {
                    let _ = client.write_all(&response);
                }
            }
            let _ = client.flush();
            let _ = client.shutdown(Shutdown::Both);
        });
        let acceptor = Acceptor::start(handler);
        FaultProxy {
            port: acceptor.port,
            rules,
            hits,
            _acceptor: acceptor,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn set(&self, rules: Vec<Rule>) {
        *self.rules.lock().unwrap() = rules;
    }
}

fn replace_length(head: &str, len: usize) -> String {
    head.split("\r\n")
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {len}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Sends a request upstream with `Connection: close` and reads the whole answer.
fn forward(upstream: u16, req: &RawRequest) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(&req.body).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(out)
}
