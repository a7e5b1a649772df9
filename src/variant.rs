//! The Wasm image variants of spec/ and how an image's variant is told from
//! its manifest: by media types alone, read leniently from JSON, so that a
//! manifest with bad fields is still named.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::media_type as mt;

/// A Wasm image variant (spec/README.md lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// CNCF TAG Runtime Wasm artifact (`application/vnd.wasm.config.v0+json`).
    Cncf,
    /// solo.io Wasm artifact image, two layers (`application/vnd.module.wasm.*`).
    WasmOci,
    /// Container image whose last `tar+gzip` layer holds `plugin.wasm`.
    CompatOci,
    /// The same as a Docker schema 2 image.
    CompatDocker,
    /// wasm-to-oci / Krustlet / Kubewarden (`application/vnd.wasm.config.v1+json`).
    WasmContentV1,
    /// runwasi OCI image with Wasm component layers (recognised, not built).
    Runwasi,
    /// Spin application image (recognised, not built).
    Spin,
    /// None of the above.
    Unknown,
}

impl Variant {
    /// Every variant, in spec order.
    pub const ALL: [Variant; 8] = [
        Variant::Cncf,
        Variant::WasmOci,
        Variant::CompatOci,
        Variant::CompatDocker,
        Variant::WasmContentV1,
        Variant::Runwasi,
        Variant::Spin,
        Variant::Unknown,
    ];

    /// The variants this crate builds.
    pub const BUILDABLE: [Variant; 5] = [
        Variant::Cncf,
        Variant::CompatOci,
        Variant::CompatDocker,
        Variant::WasmOci,
        Variant::WasmContentV1,
    ];

    /// The variant's id, as in spec/ and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Variant::Cncf => "cncf",
            Variant::WasmOci => "wasm-oci",
            Variant::CompatOci => "compat-oci",
            Variant::CompatDocker => "compat-docker",
            Variant::WasmContentV1 => "wasm-content-v1",
            Variant::Runwasi => "runwasi",
            Variant::Spin => "spin",
            Variant::Unknown => "unknown",
        }
    }

    /// Whether [`crate::build::ImageBuilder`] can build it.
    pub fn is_buildable(self) -> bool {
        Self::BUILDABLE.contains(&self)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A variant id that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown variant {0:?}: expected one of cncf, compat-oci (or compat), compat-docker, wasm-oci, wasm-content-v1, runwasi, spin"
)]
pub struct UnknownVariant(pub String);

impl FromStr for Variant {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "compat" {
            return Ok(Variant::CompatOci);
        }
        Variant::ALL
            .into_iter()
            .find(|v| v.id() == s && *v != Variant::Unknown)
            .ok_or_else(|| UnknownVariant(s.to_owned()))
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Names the variant of a manifest from its media types, in the order of
/// spec/detection.md. Fields of the wrong type are ignored, so a damaged
/// manifest is still named when its media types are.
pub fn detect(manifest: &Value) -> Variant {
    let manifest_type = str_at(manifest, "mediaType");
    let config_type = manifest.get("config").and_then(|c| str_at(c, "mediaType"));
    let layer_types: Vec<&str> = manifest
        .get("layers")
        .and_then(Value::as_array)
        .map(|layers| {
            layers
                .iter()
                .filter_map(|l| str_at(l, "mediaType"))
                .collect()
        })
        .unwrap_or_default();
    let has_layer = |t: &str| layer_types.contains(&t);

    match config_type {
        Some(mt::WASM_CONFIG_V0) => return Variant::Cncf,
        Some(mt::MODULE_WASM_CONFIG) => return Variant::WasmOci,
        Some(mt::WASM_CONTENT_CONFIG_V1) => return Variant::WasmContentV1,
        Some(mt::SPIN_APPLICATION_CONFIG) => return Variant::Spin,
        _ => {}
    }
    if has_layer(mt::SPIN_APPLICATION_CONFIG) {
        return Variant::Spin;
    }
    if config_type == Some(mt::OCI_CONFIG)
        && (has_layer(mt::RUNWASI_COMPONENT_LAYER) || has_layer(mt::WASM_LAYER))
    {
        return Variant::Runwasi;
    }
    if matches!(
        layer_types.last().copied(),
        Some(mt::OCI_LAYER_TAR_GZIP | mt::OCI_LAYER_TAR | mt::DOCKER_LAYER_TAR_GZIP)
    ) {
        return if manifest_type == Some(mt::DOCKER_MANIFEST) {
            Variant::CompatDocker
        } else {
            Variant::CompatOci
        };
    }
    Variant::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_round_trip() {
        for v in Variant::ALL {
            if v != Variant::Unknown {
                assert_eq!(v.id().parse::<Variant>().unwrap(), v);
            }
        }
        assert_eq!("compat".parse::<Variant>().unwrap(), Variant::CompatOci);
        assert!("unknown".parse::<Variant>().is_err());
    }

    #[test]
    fn detection_by_media_types() {
        let m = |config: &str, layers: &[&str]| {
            json!({"schemaVersion": 2, "config": {"mediaType": config},
                   "layers": layers.iter().map(|l| json!({"mediaType": l})).collect::<Vec<_>>()})
        };
        assert_eq!(
            detect(&m(mt::WASM_CONFIG_V0, &[mt::WASM_LAYER])),
            Variant::Cncf
        );
        assert_eq!(
            detect(&m(
                mt::MODULE_WASM_CONFIG,
                &[mt::MODULE_WASM_CONFIG, mt::MODULE_WASM_CONTENT_LAYER]
            )),
            Variant::WasmOci
        );
        assert_eq!(
            detect(&m(mt::OCI_CONFIG, &[mt::OCI_LAYER_TAR_GZIP])),
            Variant::CompatOci
        );
        let mut docker = m(mt::DOCKER_CONFIG, &[mt::DOCKER_LAYER_TAR_GZIP]);
        docker["mediaType"] = json!(mt::DOCKER_MANIFEST);
        assert_eq!(detect(&docker), Variant::CompatDocker);
        assert_eq!(
            detect(&m(mt::WASM_CONTENT_CONFIG_V1, &[mt::WASM_CONTENT_LAYER_V1])),
            Variant::WasmContentV1
        );
        assert_eq!(
            detect(&m(mt::OCI_CONFIG, &[mt::RUNWASI_COMPONENT_LAYER])),
            Variant::Runwasi
        );
        assert_eq!(
            detect(&m(
                mt::OCI_CONFIG,
                &[mt::WASM_CONTENT_LAYER_V1, mt::SPIN_APPLICATION_CONFIG]
            )),
            Variant::Spin
        );
        assert_eq!(
            detect(&m("application/x-other", &["application/x-thing"])),
            Variant::Unknown
        );
        assert_eq!(
            detect(&json!({"config": 3, "layers": "no"})),
            Variant::Unknown
        );
    }
}
