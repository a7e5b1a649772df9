//! Image references: `HOST[:PORT]/REPO[:TAG|@DIGEST]`, read by docker's rules.
//!
//! - The first `/`-separated component is the registry host when it contains
//!   a `.` or a `:`, or is `localhost`; otherwise the registry is Docker Hub
//!   (`docker.io`) and a one-component repository gets the `library/` prefix.
//! - The repository is lowercase path components
//!   `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by `/`.
//! - A tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a digest follows `@`.
//!   With neither, the tag is `latest`. With both (`repo:tag@digest`) the
//!   digest decides and the tag is kept for display only.
//!
//! This module is pure parsing: it is compiled without the `registry` feature
//! so that [`crate::target`] can recognise registry references.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// The tag used when a reference names none.
pub const DEFAULT_TAG: &str = "latest";

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Empty input.
    #[error("empty image reference")]
    Empty,
    /// The registry host part is malformed.
    #[error("{reference}: invalid registry host {host:?}")]
    Host {
        /// The reference as given.
        reference: String,
        /// The host part.
        host: String,
    },
    /// The repository breaks the grammar.
    #[error(
        "{reference}: invalid repository {repository:?} (lowercase letters, digits and separators . _ __ - between them, components joined by /)"
    )]
    Repository {
        /// The reference as given.
        reference: String,
        /// The repository part.
        repository: String,
    },
    /// The tag breaks the grammar.
    #[error("{reference}: invalid tag {tag:?} (1-128 of [A-Za-z0-9_.-], not starting with . or -)")]
    Tag {
        /// The reference as given.
        reference: String,
        /// The tag part.
        tag: String,
    },
    /// The digest after `@` is malformed.
    #[error("{reference}: {source}")]
    Digest {
        /// The reference as given.
        reference: String,
        /// Why.
        #[source]
        source: DigestError,
    },
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The registry as written (`docker.io` when none was), with any port.
    pub registry: String,
    /// The repository path, e.g. `library/nginx` or `team/filter`.
    pub repository: String,
    /// The tag, if one was given (or `latest` when neither tag nor digest was).
    pub tag: Option<String>,
    /// The manifest digest, if one was given.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference by docker's rules (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, d)) => {
                let digest = Digest::parse(d).map_err(|source| ReferenceError::Digest {
                    reference: text.to_owned(),
                    source,
                })?;
                (rest, Some(digest))
            }
            None => (text, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(&rest[at + 1..]))
            }
            None => (rest, None),
        };
        let (registry, repository) = split_host(name);
        if !host_is_valid(&registry) {
            return Err(ReferenceError::Host {
                reference: text.to_owned(),
                host: registry,
            });
        }
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        if !repository_is_valid(&repository) {
            return Err(ReferenceError::Repository {
                reference: text.to_owned(),
                repository,
            });
        }
        if let Some(tag) = tag
            && !tag_is_valid(tag)
        {
            return Err(ReferenceError::Tag {
                reference: text.to_owned(),
                tag: tag.to_owned(),
            });
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, None) => Some(DEFAULT_TAG.to_owned()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Whether `text` looks like a registry reference rather than a path:
    /// it has a `/` and its first component is a host (has a `.` or `:`,
    /// or is `localhost`), and it parses.
    pub fn looks_like_registry(text: &str) -> bool {
        let Some((first, _)) = text.split_once('/') else {
            return false;
        };
        (first.contains('.') || first.contains(':') || first == "localhost")
            && !first.starts_with('.')
            && Reference::parse(text).is_ok()
    }

    /// The host (and port) the registry API is served from.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB || self.registry == "index.docker.io" {
            DOCKER_HUB_API_HOST
        } else {
            &self.registry
        }
    }

    /// What to ask the registry for: the digest if known, else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }

    /// `REGISTRY/REPO` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository pinned to a digest: `REGISTRY/REPO@DIGEST`.
    pub fn pinned(&self, digest: &Digest) -> String {
        format!("{}@{digest}", self.name())
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }

    /// Whether the registry is on this machine (`localhost`, 127.0.0.0/8, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = host_without_port(&self.registry);
        host == "localhost"
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

fn host_without_port(registry: &str) -> &str {
    if let Some(end) = registry.strip_prefix('[').and_then(|r| r.find(']')) {
        return &registry[..end + 2];
    }
    registry.split(':').next().unwrap_or(registry)
}

fn split_host(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_owned(), rest)
        }
        _ => (DOCKER_HUB.to_owned(), name),
    }
}

fn host_is_valid(host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        // IPv6 literal: [addr] or [addr]:port.
        match rest.split_once(']') {
            Some((addr, tail)) => {
                if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
                    return false;
                }
                return tail.is_empty()
                    || tail
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            }
            None => return false,
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    name_ok && port_ok
}

fn repository_is_valid(repository: &str) -> bool {
    !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(component_is_valid)
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn component_is_valid(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn tag_is_valid(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn docker_rules() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/nginx")
        );
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.api_host(), DOCKER_HUB_API_HOST);
        let r = Reference::parse("team/filter:v1").unwrap();
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "team/filter");
        let r = Reference::parse("127.0.0.1:5000/test/solo:1.0").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "test/solo");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert!(r.is_loopback());
        let r = Reference::parse(&format!("localhost/a/b@{D}")).unwrap();
        assert_eq!(r.registry, "localhost");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_reference(), D);
        let r = Reference::parse(&format!("ghcr.io/a/b:v2@{D}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v2"));
        assert_eq!(r.digest.as_ref().map(Digest::as_str), Some(D));
        assert_eq!(r.to_string(), format!("ghcr.io/a/b:v2@{D}"));
        assert_eq!(
            r.pinned(r.digest.as_ref().unwrap()),
            format!("ghcr.io/a/b@{D}")
        );
        let r = Reference::parse("[::1]:5000/x").unwrap();
        assert!(r.is_loopback());
        assert_eq!(r.registry, "[::1]:5000");
    }

    #[test]
    fn refusals() {
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse("Host.io/UPPER").is_err());
        assert!(Reference::parse("host.io/a//b").is_err());
        assert!(Reference::parse("host.io/a-/b").is_err());
        assert!(Reference::parse("host.io/a:-bad").is_err());
        assert!(Reference::parse("host.io/a@sha256:abc").is_err());
        assert!(Reference::parse("host.io:abc/a").is_err());
        assert!(Reference::parse("host.io/a__b/c-d--e/f.g").is_ok());
        assert!(Reference::parse("host.io/a___b").is_err());
    }

    #[test]
    fn registry_or_path() {
        assert!(Reference::looks_like_registry("127.0.0.1:5000/repo:tag"));
        assert!(Reference::looks_like_registry("localhost/repo"));
        assert!(!Reference::looks_like_registry("ghcr.io/org/repo@"));
        assert!(!Reference::looks_like_registry("out:v1"));
        assert!(!Reference::looks_like_registry("./out"));
        assert!(!Reference::looks_like_registry("dir/sub"));
        assert!(!Reference::looks_like_registry("../x.y/z"));
    }
}
