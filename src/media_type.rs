//! Media types of OCI documents and of every Wasm image variant, and the
//! RFC 6838 grammar check that the image spec's schema applies to them.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image configuration.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layout header (`oci-layout`).
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// OCI empty descriptor (`{}`).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Uncompressed tar layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// Gzip-compressed tar layer.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Zstd-compressed tar layer.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image configuration.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip-compressed rootfs layer.
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// CNCF TAG Runtime Wasm artifact config.
pub const WASM_CONFIG_V0: &str = "application/vnd.wasm.config.v0+json";
/// CNCF TAG Runtime Wasm artifact layer (raw module or component).
pub const WASM_LAYER: &str = "application/wasm";

/// solo.io `wasm-oci` runtime config (used as config and as first layer).
pub const MODULE_WASM_CONFIG: &str = "application/vnd.module.wasm.config.v1+json";
/// solo.io `wasm-oci` content layer.
pub const MODULE_WASM_CONTENT_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// An earlier, misspelt form of the solo.io config type.
pub const MODULE_WASM_CONFIG_TYPO: &str = "application/vnd.io.wasm.module.config.v1+json";

/// wasm-to-oci / Krustlet / Kubewarden config (blob `{}`).
pub const WASM_CONTENT_CONFIG_V1: &str = "application/vnd.wasm.config.v1+json";
/// wasm-to-oci / Krustlet / Kubewarden / Spin content layer.
pub const WASM_CONTENT_LAYER_V1: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// Spin static file layer.
pub const WASM_CONTENT_DATA_V1: &str = "application/vnd.wasm.content.layer.v1+data";
/// Spin per-component archive layer.
pub const WASM_CONTENT_BUNDLE_V1: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";
/// Spin locked application (last layer; the config before Spin 2.0).
pub const SPIN_APPLICATION_CONFIG: &str = "application/vnd.fermyon.spin.application.v1+config";

/// runwasi component layer.
pub const RUNWASI_COMPONENT_LAYER: &str =
    "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm";

/// Whether `value` follows the RFC 6838 grammar as the image spec's v1.1.1
/// schema states it: `^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`.
pub fn is_valid(value: &str) -> bool {
    fn name_ok(part: &str) -> bool {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 127
            && bytes[0].is_ascii_alphanumeric()
            && bytes[1..].iter().all(|&b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#' | b'$' | b'&' | b'^' | b'_' | b'.' | b'+' | b'-'
                    )
            })
    }
    match value.split_once('/') {
        Some((ty, sub)) => name_ok(ty) && name_ok(sub),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_matches_the_schema() {
        let long = "a".repeat(127);
        assert!(is_valid(OCI_MANIFEST));
        assert!(is_valid(&format!("{long}/{long}")));
        for bad in [
            "application",
            ".foo/bar",
            "foo/.bar",
            "a/b/c",
            "",
            "foo/",
            "/bar",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert!(!is_valid(&format!("{long}a/b")));
        assert!(!is_valid(&format!("a/{long}a")));
    }
}
