//! Typed config documents of each Wasm image variant (see spec/).
//!
//! Every type keeps fields it does not know in `extra` and tells an explicit
//! `null` apart from an absent field, so a document in the field order of its
//! variant (the order this crate and the reference tools write) serialises
//! back to the same bytes.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `architecture` of every Wasm config.
pub const WASM_ARCHITECTURE: &str = "wasm";
/// `os` of a core module (a WASI preview 1 target).
pub const OS_WASIP1: &str = "wasip1";
/// `os` of a component (a WASI preview 2 target).
pub const OS_WASIP2: &str = "wasip2";

/// The config of the `cncf` variant (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author; `Some(None)` is an explicit `null`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub author: Option<Option<String>>,
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip1` for a core module, `wasip2` for a component.
    pub os: String,
    /// The manifest's layer digests, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_digests: Option<Vec<String>>,
    /// The component's world, present for components.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub component: Option<Option<ComponentWorld>>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `component` object of a [`WasmConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentWorld {
    /// Top-level export names of the component.
    pub exports: Vec<String>,
    /// Top-level import names of the component.
    pub imports: Vec<String>,
    /// The world the component targets; `Some(None)` is an explicit `null`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub target: Option<Option<String>>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The runtime config of the `wasm-oci` variant (`application/vnd.module.wasm.config.v1+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeConfig {
    /// The runtime that loads the module; `envoy_proxy` for proxy-wasm filters.
    #[serde(rename = "type")]
    pub runtime_type: String,
    /// ABI versions the module implements, e.g. `v0.2.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi_versions: Option<Vec<String>>,
    /// The singular `abi_version` spelling of the solo.io spec's example; read, never written.
    #[serde(
        default,
        rename = "abi_version",
        skip_serializing_if = "Option::is_none"
    )]
    pub abi_version_legacy: Option<String>,
    /// Runtime-specific settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<EnvoyConfig>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Runtime type of a proxy-wasm filter.
pub const RUNTIME_TYPE_ENVOY: &str = "envoy_proxy";

/// The `config` object of a [`RuntimeConfig`] for Envoy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyConfig {
    /// Root context ids the filter registers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_ids: Option<Vec<String>>,
    /// The `root_ids` spelling of the solo.io spec's example; read, never written.
    #[serde(default, rename = "root_ids", skip_serializing_if = "Option::is_none")]
    pub root_ids_legacy: Option<Vec<String>>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The image config written for `compat-oci` and `compat-docker` images
/// (`application/vnd.oci.image.config.v1+json` or the Docker equivalent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompatImageConfig {
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// CPU architecture; this crate writes `wasm`.
    pub architecture: String,
    /// Operating system; this crate writes `wasip1` or `wasip2`.
    pub os: String,
    /// Execution parameters; this crate writes `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
    /// The layers' uncompressed digests.
    pub rootfs: RootFs,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `rootfs` object of an image config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub fs_type: String,
    /// Digests of the uncompressed layer tars, in order.
    pub diff_ids: Vec<String>,
}

/// The config blob of the `wasm-content-v1` variant: exactly `{}`.
pub const EMPTY_CONFIG: &[u8] = b"{}";

impl WasmConfig {
    /// The config this crate writes for a module or component.
    pub fn new(created: &str, os: &str, layer: &Digest, component: Option<ComponentWorld>) -> Self {
        WasmConfig {
            created: Some(created.to_owned()),
            author: None,
            architecture: WASM_ARCHITECTURE.to_owned(),
            os: os.to_owned(),
            layer_digests: Some(vec![layer.to_string()]),
            component: component.map(Some),
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(text: &str) {
        let parsed: T = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }

    #[test]
    fn wkg_config_round_trips_exactly() {
        // The config wkg 0.16.1 wrote for a component (../shared/notes/formats.md §3.3).
        round_trip::<WasmConfig>(
            r#"{"created":"2026-11-23T19:28:22.555342741Z","author":null,"architecture":"wasm","os":"wasip2","layerDigests":["sha256:95951227e08c9e07b7064c3d44dca7979fa6073e804bab951ce93854e69d9317"],"component":{"exports":["add"],"imports":[],"target":null}}"#,
        );
        round_trip::<WasmConfig>(
            r#"{"created":"1970-01-01T00:00:00Z","architecture":"wasm","os":"wasip1","layerDigests":[],"x-extra":{"k":[1,2]}}"#,
        );
    }

    #[test]
    fn runtime_configs_round_trip_exactly() {
        round_trip::<RuntimeConfig>(
            r#"{"type":"envoy_proxy","abiVersions":["v0-541b2c1155fffb15ccde92b8324f3e38f7339ba6","v0.2.1"],"config":{"rootIds":["add_header_root_id"]}}"#,
        );
        // The spelling of the solo.io spec example is kept as unknown fields.
        round_trip::<RuntimeConfig>(
            r#"{"type":"envoy_proxy","abi_version":"v0-541b2c1155fffb15ccde92b8324f3e38f7339ba6","config":{"root_ids":["add_header_root_id"]}}"#,
        );
    }

    #[test]
    fn compat_config_round_trips_exactly() {
        round_trip::<CompatImageConfig>(
            r#"{"created":"1970-01-01T00:00:00Z","architecture":"wasm","os":"wasip1","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"]}}"#,
        );
    }
}
