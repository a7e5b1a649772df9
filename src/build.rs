//! The encoder: a Wasm module plus metadata becomes an image of any buildable
//! variant, written into a [`WritableStore`].
//!
//! The same inputs give the same bytes on any machine: the creation time is
//! an input (never the clock), JSON is written canonically, and the compat
//! layer's tar and gzip headers are fixed. The module is streamed from its
//! file: it is read once to hash and inspect it, and once more to store it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use oci_spec::image::{ImageManifestBuilder, MediaType};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::compat;
use crate::config::{
    CompatImageConfig, ComponentWorld, EMPTY_CONFIG, OS_WASIP1, OS_WASIP2, RUNTIME_TYPE_ENVOY,
    RootFs, RuntimeConfig, WASM_ARCHITECTURE, WasmConfig,
};
use crate::digest::{Algorithm, Digest, Digester, HashingWriter};
use crate::manifest::{
    self, ANNOTATION_ABI_VERSION, ANNOTATION_RUNTIME_TYPE, ANNOTATION_TITLE,
    ANNOTATION_WASM_VARIANT, ManifestError,
};
use crate::media_type as mt;
use crate::store::{StoreError, WritableStore};
use crate::variant::Variant;
use crate::wasm::{InspectOptions, ModuleInfo, ModuleKind, StreamingInspector, WasmError};

/// Why an image could not be built. Every input error is found before
/// anything is written to the store.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The module file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The module's path.
        path: PathBuf,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The input is not a Wasm module or component.
    #[error("{path} is not a WebAssembly module or component: {source}")]
    NotWasm {
        /// The module's path.
        path: PathBuf,
        /// What the parser found.
        #[source]
        source: WasmError,
    },
    /// The variant cannot hold this input.
    #[error("{0}")]
    Unsupported(String),
    /// The creation time is not RFC 3339 or out of range.
    #[error("creation time {0:?} is not an RFC 3339 date-time")]
    Created(String),
    /// The runtime config is not a JSON runtime config.
    #[error("runtime config: {0}")]
    RuntimeConfig(String),
    /// The file changed between inspection and storing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A descriptor could not be formed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// What was built.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltImage {
    /// The variant built.
    pub variant: Variant,
    /// Why this variant (chosen by the caller, or from the module).
    pub reason: String,
    /// Digest of the manifest: what a deployment pins.
    pub manifest_digest: Digest,
    /// Size of the manifest.
    pub manifest_size: u64,
    /// Media type of the manifest.
    pub manifest_media_type: String,
    /// Digest of the config blob.
    pub config_digest: Digest,
    /// Digests of the layers, in order.
    pub layer_digests: Vec<Digest>,
    /// The tag given to the image in the store.
    pub tag: Option<String>,
    /// What inspection found in the module.
    pub module: ModuleInfo,
}

/// Builds an image from a module file.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    module: PathBuf,
    variant: Option<Variant>,
    created: OffsetDateTime,
    annotations: BTreeMap<String, String>,
    runtime_config: Option<Vec<u8>>,
    title: Option<String>,
    author: Option<String>,
}

/// The creation time used when none is given: the Unix epoch.
pub const DEFAULT_CREATED: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

/// Parses an RFC 3339 creation time.
pub fn parse_created(text: &str) -> Result<OffsetDateTime, BuildError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| BuildError::Created(text.to_owned()))
}

/// The creation time from `SOURCE_DATE_EPOCH` (seconds since the epoch), if set.
pub fn created_from_source_date_epoch(value: &str) -> Result<OffsetDateTime, BuildError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| BuildError::Created(format!("SOURCE_DATE_EPOCH={value}")))
}

fn format_created(t: OffsetDateTime) -> String {
    // UTC, `Z`; formatting a valid UTC date-time cannot fail.
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

impl ImageBuilder {
    /// Starts a build of the module at `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        ImageBuilder {
            module: path.as_ref().to_path_buf(),
            variant: None,
            created: DEFAULT_CREATED,
            annotations: BTreeMap::new(),
            runtime_config: None,
            title: None,
            author: None,
        }
    }

    /// Builds this variant instead of the one chosen from the module.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variant = Some(variant);
        self
    }

    /// Sets the creation time written into the config.
    pub fn created(mut self, created: OffsetDateTime) -> Self {
        self.created = created;
        self
    }

    /// Adds a manifest annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Sets the runtime config (`runtime-config.json`) for `wasm-oci` and compat images.
    pub fn runtime_config(mut self, json: Vec<u8>) -> Self {
        self.runtime_config = Some(json);
        self
    }

    /// Sets the layer title of raw-module variants (default: the file name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the `author` of a `cncf` config.
    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }

    fn open_module(&self) -> Result<File, BuildError> {
        File::open(&self.module).map_err(|source| BuildError::Read {
            path: self.module.clone(),
            source,
        })
    }

    /// Inspects the module in one streaming pass: its digest, size and what it holds.
    fn inspect(&self) -> Result<(Digest, u64, ModuleInfo), BuildError> {
        let mut file = self.open_module()?;
        let mut digester = Digester::sha256();
        let mut inspector = StreamingInspector::new(InspectOptions::default());
        let mut buf = vec![0u8; crate::store::COPY_BUFFER];
        let not_wasm = |source| BuildError::NotWasm {
            path: self.module.clone(),
            source,
        };
        loop {
            let n = file.read(&mut buf).map_err(|source| BuildError::Read {
                path: self.module.clone(),
                source,
            })?;
            if n == 0 {
                break;
            }
            digester.update(&buf[..n]);
            inspector.push(&buf[..n]).map_err(not_wasm)?;
        }
        let info = inspector.finish().map_err(not_wasm)?;
        let size = digester.len();
        Ok((digester.finish(), size, info))
    }

    /// The one-pass form of [`ImageBuilder::inspect`] for raw-module
    /// variants: the module is hashed, inspected and written into `store`
    /// as it is read, and published there only when the build will use it
    /// (a raw variant that [`ImageBuilder::check`] accepts). The last value
    /// says whether it was.
    fn inspect_and_store(
        &self,
        store: &mut dyn WritableStore,
    ) -> Result<(Digest, u64, ModuleInfo, bool), BuildError> {
        struct Tee<'a> {
            file: File,
            inspector: &'a RefCell<StreamingInspector>,
            read_error: Option<io::ErrorKind>,
        }
        impl Read for Tee<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.file.read(buf).inspect_err(|e| {
                    self.read_error = Some(e.kind());
                })?;
                self.inspector
                    .borrow_mut()
                    .push(&buf[..n])
                    .map_err(io::Error::other)?;
                Ok(n)
            }
        }
        let inspector = RefCell::new(StreamingInspector::new(InspectOptions::default()));
        let mut tee = Tee {
            file: self.open_module()?,
            inspector: &inspector,
            read_error: None,
        };
        let mut learnt: Option<Result<ModuleInfo, WasmError>> = None;
        let stored = store.put_blob_hashed(Algorithm::Sha256, &mut tee, &mut |_, _| {
            let finished = std::mem::replace(
                &mut *inspector.borrow_mut(),
                StreamingInspector::new(InspectOptions::default()),
            )
            .finish();
            let keep = finished.as_ref().is_ok_and(|info| {
                let variant = self.variant.unwrap_or_else(|| default_variant(info).0);
                is_raw(variant) && self.check(variant, info).is_ok()
            });
            learnt = Some(finished);
            keep
        });
        let not_wasm = |source| BuildError::NotWasm {
            path: self.module.clone(),
            source,
        };
        let read_error = tee.read_error;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) => {
                // The inspector's error, the module file's, or the store's.
                if let Err(wasm) = inspector.into_inner().finish() {
                    return Err(not_wasm(wasm));
                }
                if let Some(kind) = read_error {
                    return Err(BuildError::Read {
                        path: self.module.clone(),
                        source: io::Error::new(kind, e.to_string()),
                    });
                }
                return Err(e.into());
            }
        };
        let info = match learnt {
            Some(Ok(info)) => info,
            Some(Err(e)) => return Err(not_wasm(e)),
            None => return Err(BuildError::Unsupported("the module was not read".into())),
        };
        match stored {
            Some((digest, size)) => Ok((digest, size, info, true)),
            // Not kept: hashed all the same.
            None => {
                let (digest, size, info) = self.inspect()?;
                Ok((digest, size, info, false))
            }
        }
    }

    /// Builds the image into `store`, tags it, and commits the store.
    pub fn build(
        &self,
        store: &mut dyn WritableStore,
        tag: Option<&str>,
    ) -> Result<BuiltImage, BuildError> {
        if let Some(tag) = tag.filter(|t| !crate::validate::document::is_ref_name(t)) {
            return Err(BuildError::Unsupported(format!(
                "tag {tag:?} does not follow the org.opencontainers.image.ref.name grammar \
                 (alphanumeric components joined by one of -._:@+ or --, split by /)"
            )));
        }
        // Raw-module variants store the module itself: one pass hashes,
        // inspects and stores it (published only if the build goes on with
        // a raw variant). Compat variants store a tar of it instead.
        let raw_possible = self.variant.is_none_or(is_raw);
        let (module_digest, module_size, info, stored) = if raw_possible {
            self.inspect_and_store(store)?
        } else {
            let (digest, size, info) = self.inspect()?;
            (digest, size, info, false)
        };
        let (variant, reason) = match self.variant {
            Some(v) => (v, "chosen by the caller".to_owned()),
            None => default_variant(&info),
        };
        self.check(variant, &info)?;
        let runtime_config = self.runtime_config_for(variant, &info)?;
        let created = format_created(self.created);
        let title = self.title.clone().unwrap_or_else(|| {
            self.module
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "module.wasm".to_owned())
        });

        let put_bytes =
            |store: &mut dyn WritableStore, bytes: &[u8]| -> Result<(Digest, u64), BuildError> {
                let digest = Digest::sha256_of(bytes);
                store.put_blob(&digest, bytes.len() as u64, &mut &bytes[..])?;
                Ok((digest, bytes.len() as u64))
            };
        let put_module = |store: &mut dyn WritableStore| -> Result<(), BuildError> {
            if stored {
                return Ok(());
            }
            let mut file = self.open_module()?;
            store.put_blob(&module_digest, module_size, &mut file)?;
            Ok(())
        };
        let os = match info.kind {
            ModuleKind::Component => OS_WASIP2,
            ModuleKind::CoreModule => OS_WASIP1,
        };
        let mut manifest_annotations = self.annotations.clone();

        let (manifest_type, config, layers) = match variant {
            Variant::Cncf => {
                put_module(store)?;
                let component = (info.kind == ModuleKind::Component).then(|| ComponentWorld {
                    exports: info.exports.clone(),
                    imports: info.imports.clone(),
                    target: None,
                    extra: Default::default(),
                });
                let mut config = WasmConfig::new(&created, os, &module_digest, component);
                config.author = self.author.clone().map(Some);
                let config = put_bytes(store, &serde_json::to_vec(&config).map_err(json_err)?)?;
                let layer = manifest::descriptor_with_annotations(
                    mt::WASM_LAYER,
                    &module_digest,
                    module_size,
                    &[(ANNOTATION_TITLE, &title)],
                )?;
                (
                    mt::OCI_MANIFEST,
                    manifest::descriptor(mt::WASM_CONFIG_V0, &config.0, config.1)?,
                    vec![layer],
                )
            }
            Variant::WasmContentV1 => {
                put_module(store)?;
                let config = put_bytes(store, EMPTY_CONFIG)?;
                let layer = manifest::descriptor_with_annotations(
                    mt::WASM_CONTENT_LAYER_V1,
                    &module_digest,
                    module_size,
                    &[(ANNOTATION_TITLE, &title)],
                )?;
                (
                    mt::OCI_MANIFEST,
                    manifest::descriptor(mt::WASM_CONTENT_CONFIG_V1, &config.0, config.1)?,
                    vec![layer],
                )
            }
            Variant::WasmOci => {
                put_module(store)?;
                let runtime = runtime_config.unwrap_or_default();
                let parsed: RuntimeConfig = serde_json::from_slice(&runtime)
                    .map_err(|e| BuildError::RuntimeConfig(e.to_string()))?;
                let config = put_bytes(store, &runtime)?;
                if let Some(versions) = parsed.abi_versions.as_ref().filter(|v| !v.is_empty()) {
                    manifest_annotations.insert(ANNOTATION_ABI_VERSION.into(), versions.join(","));
                }
                manifest_annotations
                    .insert(ANNOTATION_RUNTIME_TYPE.into(), parsed.runtime_type.clone());
                let layers = vec![
                    manifest::descriptor_with_annotations(
                        mt::MODULE_WASM_CONFIG,
                        &config.0,
                        config.1,
                        &[(ANNOTATION_TITLE, compat::RUNTIME_CONFIG_FILE)],
                    )?,
                    manifest::descriptor_with_annotations(
                        mt::MODULE_WASM_CONTENT_LAYER,
                        &module_digest,
                        module_size,
                        &[(ANNOTATION_TITLE, "filter.wasm")],
                    )?,
                ];
                (
                    mt::OCI_MANIFEST,
                    manifest::descriptor(mt::MODULE_WASM_CONFIG, &config.0, config.1)?,
                    layers,
                )
            }
            Variant::CompatOci | Variant::CompatDocker => {
                let docker = variant == Variant::CompatDocker;
                let mtime = self.created.unix_timestamp().max(0) as u64;
                let (layer_digest, layer_size, diff_id) =
                    self.write_compat_layer(store, module_size, runtime_config.as_deref(), mtime)?;
                let config = CompatImageConfig {
                    created: Some(created.clone()),
                    architecture: WASM_ARCHITECTURE.to_owned(),
                    os: os.to_owned(),
                    config: Some(Default::default()),
                    rootfs: RootFs {
                        fs_type: "layers".to_owned(),
                        diff_ids: vec![diff_id.to_string()],
                    },
                    extra: Default::default(),
                };
                let config = put_bytes(store, &serde_json::to_vec(&config).map_err(json_err)?)?;
                let (manifest_type, config_type, layer_type) = if docker {
                    (
                        mt::DOCKER_MANIFEST,
                        mt::DOCKER_CONFIG,
                        mt::DOCKER_LAYER_TAR_GZIP,
                    )
                } else {
                    manifest_annotations.insert(ANNOTATION_WASM_VARIANT.into(), "compat".into());
                    (mt::OCI_MANIFEST, mt::OCI_CONFIG, mt::OCI_LAYER_TAR_GZIP)
                };
                let layer = manifest::descriptor_with_annotations(
                    layer_type,
                    &layer_digest,
                    layer_size,
                    &[(ANNOTATION_TITLE, "plugin.tar.gz")],
                )?;
                (
                    manifest_type,
                    manifest::descriptor(config_type, &config.0, config.1)?,
                    vec![layer],
                )
            }
            Variant::Runwasi | Variant::Spin | Variant::Unknown => {
                return Err(BuildError::Unsupported(format!(
                    "variant {variant} is recognised and validated but not built by wasm-image"
                )));
            }
        };

        let mut manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::from(manifest_type))
            .config(config.clone())
            .layers(layers.clone())
            .build()
            .map_err(ManifestError::from)?;
        if !manifest_annotations.is_empty() {
            manifest.set_annotations(Some(manifest_annotations.into_iter().collect()));
        }
        let manifest_bytes = manifest::encode(&manifest);
        let (manifest_digest, manifest_size) = put_bytes(store, &manifest_bytes)?;
        store.add_manifest(manifest_type, &manifest_digest, manifest_size, tag)?;
        store.commit()?;
        Ok(BuiltImage {
            variant,
            reason,
            manifest_digest,
            manifest_size,
            manifest_media_type: manifest_type.to_owned(),
            config_digest: manifest::descriptor_digest(&config),
            layer_digests: layers.iter().map(manifest::descriptor_digest).collect(),
            tag: tag.map(str::to_owned),
            module: info,
        })
    }

    /// Refuses inputs the variant cannot hold, before anything is written.
    fn check(&self, variant: Variant, info: &ModuleInfo) -> Result<(), BuildError> {
        if !variant.is_buildable() {
            return Err(BuildError::Unsupported(format!(
                "variant {variant} is recognised and validated but not built by wasm-image"
            )));
        }
        if variant == Variant::WasmOci && info.kind == ModuleKind::Component {
            return Err(BuildError::Unsupported(
                "a component cannot be a wasm-oci image: that variant carries proxy-wasm core modules \
                 (use --variant cncf for components)"
                    .into(),
            ));
        }
        if self.runtime_config.is_some()
            && !matches!(
                variant,
                Variant::WasmOci | Variant::CompatOci | Variant::CompatDocker
            )
        {
            return Err(BuildError::Unsupported(format!(
                "a runtime config goes only into wasm-oci and compat images, not {variant}"
            )));
        }
        if variant == Variant::CompatDocker && !self.annotations.is_empty() {
            return Err(BuildError::Unsupported(
                "Docker schema 2 manifests have no annotations; use --variant compat-oci to annotate".into(),
            ));
        }
        if self.author.is_some() && variant != Variant::Cncf {
            return Err(BuildError::Unsupported(format!(
                "an author goes only into cncf configs, not {variant}"
            )));
        }
        Ok(())
    }

    /// The runtime config to store, checked, or the one derived from the module for wasm-oci.
    fn runtime_config_for(
        &self,
        variant: Variant,
        info: &ModuleInfo,
    ) -> Result<Option<Vec<u8>>, BuildError> {
        if let Some(given) = &self.runtime_config {
            let value: serde_json::Value = serde_json::from_slice(given)
                .map_err(|e| BuildError::RuntimeConfig(e.to_string()))?;
            if variant == Variant::WasmOci {
                serde_json::from_value::<RuntimeConfig>(value)
                    .map_err(|e| BuildError::RuntimeConfig(e.to_string()))?;
            }
            return Ok(Some(given.clone()));
        }
        if variant != Variant::WasmOci {
            return Ok(None);
        }
        let config = RuntimeConfig {
            runtime_type: RUNTIME_TYPE_ENVOY.to_owned(),
            abi_versions: Some(
                info.proxy_abi
                    .iter()
                    .map(|abi| abi.version().to_owned())
                    .collect(),
            ),
            abi_version_legacy: None,
            config: None,
            extra: Default::default(),
        };
        Ok(Some(serde_json::to_vec(&config).map_err(json_err)?))
    }

    /// Writes the compat layer to a temporary file, then stores it.
    fn write_compat_layer(
        &self,
        store: &mut dyn WritableStore,
        module_size: u64,
        runtime_config: Option<&[u8]>,
        mtime: u64,
    ) -> Result<(Digest, u64, Digest), BuildError> {
        let temp_err = |source| BuildError::Read {
            path: std::env::temp_dir(),
            source,
        };
        let mut temp = tempfile::tempfile().map_err(temp_err)?;
        let mut module = self.open_module()?;
        let mut hashing = HashingWriter::new(&mut temp, Algorithm::Sha256);
        let diff_id = compat::write_layer(
            &mut module,
            module_size,
            runtime_config,
            mtime,
            &mut hashing,
        )
        .map_err(|source| BuildError::Read {
            path: self.module.clone(),
            source,
        })?;
        let (_, layer_digest, layer_size) = hashing.finish();
        temp.rewind().map_err(temp_err)?;
        store.put_blob(&layer_digest, layer_size, &mut temp)?;
        Ok((layer_digest, layer_size, diff_id))
    }
}

/// Whether a variant's layer is the module itself.
fn is_raw(variant: Variant) -> bool {
    matches!(
        variant,
        Variant::Cncf | Variant::WasmContentV1 | Variant::WasmOci
    )
}

fn json_err(e: serde_json::Error) -> BuildError {
    BuildError::RuntimeConfig(e.to_string())
}

/// The variant chosen for a module when none is asked for, and why.
pub fn default_variant(info: &ModuleInfo) -> (Variant, String) {
    match (info.kind, info.proxy_abi) {
        (ModuleKind::CoreModule, Some(abi)) => (
            Variant::CompatOci,
            format!(
                "the module exports {}: a proxy-wasm filter, built as compat-oci, the variant Istio and Envoy Gateway load",
                abi.marker()
            ),
        ),
        (ModuleKind::Component, _) => (
            Variant::Cncf,
            "the input is a component: built as cncf with os wasip2, the variant wkg and wasmCloud load".into(),
        ),
        (ModuleKind::CoreModule, None) => (
            Variant::Cncf,
            "the input is a core module without proxy-wasm ABI markers: built as cncf with os wasip1".into(),
        ),
    }
}

/// Inspects a module file without building (the same pass the builder makes).
pub fn inspect_module(path: impl AsRef<Path>) -> Result<(Digest, u64, ModuleInfo), BuildError> {
    ImageBuilder::new(path).inspect()
}
