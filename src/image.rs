//! One image read from a store: its manifest (raw bytes and strictly
//! parsed), its config, and the module it carries.

use std::io::Read;

use oci_spec::image::ImageManifest;
use serde::Serialize;

use crate::compat::{self, CompatError};
use crate::digest::Digest;
use crate::limits::Limits;
use crate::manifest::{self, IndexEntry, ManifestError};
use crate::media_type as mt;
use crate::store::{self, ImageStore, Selector, StoreError};
use crate::variant::{self, Variant};
use crate::wasm::{InspectOptions, ModuleInfo, StreamingInspector, WasmError};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The store failed or does not hold the image.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The manifest is not a valid image manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The entry is an index, not an image manifest.
    #[error("{0} is an image index; select one of its images")]
    IsIndex(Digest),
    /// The Wasm payload could not be read.
    #[error("module: {0}")]
    Wasm(#[from] WasmError),
    /// The compat layer could not be read.
    #[error("compat layer: {0}")]
    Compat(#[from] CompatError),
    /// No layer of the image carries a module.
    #[error("no layer carries a Wasm module")]
    NoModule,
}

/// An image manifest with its config, read and verified from a store.
#[derive(Debug, Clone)]
pub struct Image {
    /// The root-index entry of the image.
    pub entry: IndexEntry,
    /// The manifest's bytes, as stored.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, strictly parsed.
    pub manifest: ImageManifest,
    /// The config blob's bytes.
    pub config_bytes: Vec<u8>,
    /// The variant named from the media types.
    pub variant: Variant,
}

impl Image {
    /// Reads the image a selector names, verifying manifest and config against their digests.
    pub fn open(
        store: &dyn ImageStore,
        selector: &Selector,
        limits: &Limits,
    ) -> Result<Self, ImageError> {
        let entry = store::resolve(&store.root_index()?, selector, &store.describe())?;
        if entry.media_type == mt::OCI_INDEX || entry.media_type == mt::DOCKER_MANIFEST_LIST {
            return Err(ImageError::IsIndex(entry.digest));
        }
        let manifest_bytes = store::read_blob(
            store,
            &entry.digest,
            Some(entry.size),
            limits.max_manifest_bytes,
        )?;
        let manifest = manifest::parse_manifest(&manifest_bytes)?;
        let config = manifest.config();
        let config_bytes = store::read_blob(
            store,
            &manifest::descriptor_digest(config),
            Some(config.size()),
            limits.max_config_bytes,
        )?;
        let value: serde_json::Value = serde_json::from_slice(&manifest_bytes)
            .map_err(crate::json::JsonError::from)
            .map_err(ManifestError::from)?;
        Ok(Image {
            entry,
            variant: variant::detect(&value),
            manifest_bytes,
            manifest,
            config_bytes,
        })
    }

    /// The index of the layer that carries the module, by the variant's rules.
    pub fn module_layer(&self) -> Option<usize> {
        let layers = self.manifest.layers();
        let types: Vec<String> = layers.iter().map(|l| l.media_type().to_string()).collect();
        let find = |t: &str| types.iter().position(|x| x == t);
        match self.variant {
            Variant::Cncf => find(mt::WASM_LAYER),
            Variant::WasmOci => find(mt::MODULE_WASM_CONTENT_LAYER),
            Variant::WasmContentV1 | Variant::Spin => {
                find(mt::WASM_CONTENT_LAYER_V1).or_else(|| find(mt::WASM_LAYER))
            }
            Variant::Runwasi => find(mt::RUNWASI_COMPONENT_LAYER),
            Variant::CompatOci | Variant::CompatDocker => layers.len().checked_sub(1),
            Variant::Unknown => None,
        }
    }

    /// Streams the module out of its layer and inspects it (with full
    /// validation if `validate`), verifying the layer's digest on the way.
    pub fn inspect_module(
        &self,
        store: &dyn ImageStore,
        limits: &Limits,
        validate: bool,
    ) -> Result<ModuleInfo, ImageError> {
        let index = self.module_layer().ok_or(ImageError::NoModule)?;
        let layer = &self.manifest.layers()[index];
        let digest = manifest::descriptor_digest(layer);
        let size = layer.size();
        if size > limits.max_layer_bytes {
            return Err(StoreError::TooLarge {
                digest,
                size,
                limit: limits.max_layer_bytes,
            }
            .into());
        }
        let mut inspector = StreamingInspector::new(InspectOptions {
            validate,
            ..InspectOptions::default()
        });
        let algorithm = digest
            .algorithm()
            .ok_or_else(|| StoreError::UnsupportedAlgorithm(digest.clone()))?;
        let mut reader =
            crate::digest::HashingReader::new(store.open_blob(&digest)?.take(size + 1), algorithm);
        let compat = matches!(self.variant, Variant::CompatOci | Variant::CompatDocker);
        if compat {
            let mut failure = None;
            compat::read_plugin(&mut reader, limits, &mut |chunk| {
                inspector.push(chunk).map_err(|e| {
                    let text = e.to_string();
                    failure = Some(e);
                    text
                })
            })
            .map_err(|e| match failure.take() {
                Some(w) => ImageError::Wasm(w),
                None => ImageError::Compat(e),
            })?;
            std::io::copy(&mut reader, &mut std::io::sink())
                .map_err(|e| StoreError::io(store.describe(), e))?;
        } else {
            let mut buf = vec![0u8; crate::store::COPY_BUFFER];
            loop {
                let n = reader
                    .read(&mut buf)
                    .map_err(|e| StoreError::io(store.describe(), e))?;
                if n == 0 {
                    break;
                }
                inspector.push(&buf[..n])?;
            }
        }
        let (actual, n) = reader.finish();
        if n != size {
            return Err(StoreError::SizeMismatch {
                digest,
                expected: size,
                actual: n,
            }
            .into());
        }
        if actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest,
                actual,
            }
            .into());
        }
        Ok(inspector.finish()?)
    }
}

/// A summary of an image for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSummary {
    /// The variant.
    pub variant: Variant,
    /// The manifest digest.
    pub manifest_digest: Digest,
    /// The manifest's media type.
    pub media_type: String,
    /// The tag in the store, if any.
    pub tag: Option<String>,
    /// The manifest as JSON.
    pub manifest: serde_json::Value,
    /// The config as JSON (or `null` if it is not JSON).
    pub config: serde_json::Value,
    /// What the module holds.
    pub module: Option<ModuleInfo>,
    /// Why the module could not be read, if it could not.
    pub module_error: Option<String>,
}

/// Reads an image and summarises it.
pub fn summarize(
    store: &dyn ImageStore,
    selector: &Selector,
    limits: &Limits,
) -> Result<ImageSummary, ImageError> {
    let image = Image::open(store, selector, limits)?;
    let (module, module_error) = match image.inspect_module(store, limits, false) {
        Ok(info) => (Some(info), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(ImageSummary {
        variant: image.variant,
        manifest_digest: image.entry.digest.clone(),
        media_type: manifest::manifest_media_type(&image.manifest),
        tag: image.entry.tag.clone(),
        manifest: serde_json::from_slice(&image.manifest_bytes).unwrap_or(serde_json::Value::Null),
        config: serde_json::from_slice(&image.config_bytes).unwrap_or(serde_json::Value::Null),
        module,
        module_error,
    })
}
