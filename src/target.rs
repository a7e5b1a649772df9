//! Where a command's image is: the TARGET forms every verb accepts.
//!
//! `DIR` (a layout holding one image), `DIR:TAG`, `DIR@sha256:HEX`, and the
//! same with an OCI archive file in place of `DIR`. A string that names an
//! existing path is always that path, so paths containing `:` still work.
//!
//! A string that is not an existing path and reads as a registry reference
//! (`HOST[:PORT]/REPO[:TAG|@DIGEST]`: a `/`, and a first component with a `.`
//! or a `:`, or `localhost`) is a registry target; opening one needs the
//! `registry` feature.

use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::registry::reference::Reference;
use crate::store::archive::is_archive;
use crate::store::{Archive, ImageStore, Layout, Selector, StoreError};

/// A parsed TARGET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The layout directory or archive file.
    pub path: PathBuf,
    /// Which image of it.
    pub selector: Selector,
    /// A registry reference, when the target is one (`path` is then empty
    /// and `selector` is [`Selector::Only`]: the reference names one image).
    pub remote: Option<Reference>,
}

/// A TARGET that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The digest after `@` is malformed.
    #[error("{target}: {source}")]
    Digest {
        /// The target as given.
        target: String,
        /// Why the digest is refused.
        #[source]
        source: crate::digest::DigestError,
    },
    /// Neither a layout nor an archive exists there.
    #[error("{0}: no such OCI layout directory or archive file")]
    Missing(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A registry target, in a build without the `registry` feature.
    #[error("{0}: registry references need wasm-image built with the `registry` feature")]
    NoRegistrySupport(String),
    /// The registry could not be set up.
    #[cfg(feature = "registry")]
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

impl Target {
    /// Parses a TARGET string.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        if Path::new(text).exists() {
            return Ok(Target {
                path: text.into(),
                selector: Selector::Only,
                remote: None,
            });
        }
        if Reference::looks_like_registry(text)
            && let Ok(reference) = Reference::parse(text)
        {
            return Ok(Target {
                path: PathBuf::new(),
                selector: Selector::Only,
                remote: Some(reference),
            });
        }
        if let Some((path, digest)) = text.rsplit_once('@') {
            let digest = Digest::parse(digest).map_err(|source| TargetError::Digest {
                target: text.to_owned(),
                source,
            })?;
            return Ok(Target {
                path: path.into(),
                selector: Selector::Digest(digest),
                remote: None,
            });
        }
        if let Some((path, tag)) = text.rsplit_once(':')
            && !path.is_empty()
            && !tag.is_empty()
            && !tag.contains('/')
        {
            return Ok(Target {
                path: path.into(),
                selector: Selector::Tag(tag.to_owned()),
                remote: None,
            });
        }
        Err(TargetError::Missing(text.to_owned()))
    }

    /// A target for an existing layout or archive path.
    pub fn local(path: impl Into<PathBuf>, selector: Selector) -> Self {
        Target {
            path: path.into(),
            selector,
            remote: None,
        }
    }

    /// Opens the store the target names, for reading (a registry with the
    /// default options: HTTPS, credentials from the docker config).
    pub fn open(&self) -> Result<Box<dyn ImageStore>, TargetError> {
        #[cfg(feature = "registry")]
        {
            self.open_with(&crate::registry::Options::default())
        }
        #[cfg(not(feature = "registry"))]
        {
            self.open_local()
        }
    }

    /// Opens the store, reaching a registry with `options`.
    #[cfg(feature = "registry")]
    pub fn open_with(
        &self,
        options: &crate::registry::Options,
    ) -> Result<Box<dyn ImageStore>, TargetError> {
        match &self.remote {
            Some(reference) => Ok(Box::new(crate::registry::Registry::new(
                reference.clone(),
                options,
            )?)),
            None => self.open_local(),
        }
    }

    fn open_local(&self) -> Result<Box<dyn ImageStore>, TargetError> {
        if let Some(reference) = &self.remote {
            return Err(TargetError::NoRegistrySupport(reference.to_string()));
        }
        if self.path.is_dir() {
            Ok(Box::new(Layout::open(&self.path)?))
        } else if self.path.is_file() && is_archive(&self.path) {
            Ok(Box::new(Archive::open(&self.path)?))
        } else if self.path.is_file() {
            Err(StoreError::NotALayout {
                path: self.path.clone(),
                reason: "not a directory nor a tar archive".into(),
            }
            .into())
        } else {
            Err(TargetError::Missing(self.path.display().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms() {
        let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert_eq!(
            Target::parse(&format!("out@{d}")).unwrap().selector,
            Selector::Digest(Digest::parse(d).unwrap())
        );
        assert_eq!(
            Target::parse("out:v1").unwrap().selector,
            Selector::Tag("v1".into())
        );
        assert!(Target::parse("out@sha256:ABC").is_err());
        assert_eq!(Target::parse("src").unwrap().selector, Selector::Only);
        let t = Target::parse("127.0.0.1:5000/test/solo:1.0").unwrap();
        assert_eq!(t.remote.unwrap().repository, "test/solo");
        assert!(Target::parse("out:v1").unwrap().remote.is_none());
    }
}
