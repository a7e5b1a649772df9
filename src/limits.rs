//! Named bounds on everything read from input. A document, blob or archive
//! beyond a bound is refused with an error that names the bound, before the
//! bytes are read, so hostile input costs neither unbounded memory nor time.

/// Largest manifest or index document read (4 MiB, as registries commonly enforce).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest config blob read.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// Largest index document, `index.json` of a layout included.
pub const MAX_INDEX_BYTES: u64 = 4 << 20;
/// Largest `oci-layout` header.
pub const MAX_LAYOUT_HEADER_BYTES: u64 = 64 << 10;
/// Deepest JSON nesting accepted in any document.
pub const MAX_JSON_DEPTH: usize = 64;
/// Most entries read from one tar layer.
pub const MAX_TAR_ENTRIES: u64 = 10_000;
/// Largest total decompressed size of one compressed layer.
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 << 20;
/// Largest ratio of decompressed to compressed bytes, applied past [`RATIO_FREE_BYTES`].
pub const MAX_DECOMPRESSION_RATIO: u64 = 100;
/// Output that may be produced before the decompression ratio is enforced.
pub const RATIO_FREE_BYTES: u64 = 1 << 20;
/// Largest Wasm module the proxy consumers load (Istio and Envoy Gateway: 256 MiB).
pub const CONSUMER_MAX_MODULE_BYTES: u64 = 256 << 20;
/// Largest layer a descriptor may declare before it is refused unread.
pub const MAX_LAYER_BYTES: u64 = 512 << 20;
/// Most entries in one OCI archive.
pub const MAX_ARCHIVE_ENTRIES: u64 = 100_000;
/// Largest Wasm section (or, when validating, function body) held in memory
/// to be decoded: 64 MiB, the inspector's default ([`crate::wasm::DEFAULT_MAX_SECTION_SIZE`]).
pub const MAX_WASM_SECTION_BYTES: u64 = crate::wasm::DEFAULT_MAX_SECTION_SIZE;

/// Largest key file (PEM private or public key) read.
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;
/// Largest signature payload (simple-signing blob) read from a store.
pub const MAX_SIGNATURE_PAYLOAD_BYTES: u64 = 64 << 10;
/// Largest decoded signature accepted (bytes).
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// Most signature layers or referrers examined for one image.
pub const MAX_SIGNATURES: usize = 256;
/// Largest Sigstore bundle read (file or blob).
pub const MAX_BUNDLE_BYTES: u64 = 1 << 20;
/// Largest trusted root file read.
pub const MAX_TRUSTED_ROOT_BYTES: u64 = 4 << 20;
/// Longest certificate chain followed in a keyless signature.
pub const MAX_CHAIN_LENGTH: usize = 8;
/// Largest token-server answer read (`{"token": ...}`; JWTs are a few KiB).
pub const MAX_TOKEN_RESPONSE_BYTES: u64 = 64 << 10;
/// Largest page of a registry's tag list read.
pub const MAX_TAG_LIST_BYTES: u64 = 4 << 20;
/// Largest registry error body read for its error codes (the rest is ignored).
pub const MAX_ERROR_BODY_BYTES: u64 = 64 << 10;
/// Most pages of a registry's tag list followed.
pub const MAX_TAG_PAGES: usize = 1000;
/// Largest docker `config.json` (credentials) read.
pub const MAX_DOCKER_CONFIG_BYTES: u64 = 4 << 20;
/// Largest runtime config file given to `build` (the same bound as a config blob).
pub const MAX_RUNTIME_CONFIG_BYTES: u64 = MAX_CONFIG_BYTES;

/// Reads a whole file of at most `limit` bytes; a larger one is refused
/// after reading `limit + 1` bytes, with an [`std::io::ErrorKind::InvalidData`]
/// error naming the bound (`name`, e.g. `MAX_KEY_FILE_BYTES`).
pub fn read_file_bounded(
    path: &std::path::Path,
    limit: u64,
    name: &str,
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is over the limit of {limit} bytes ({name})",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// The bounds in force for one operation; every field defaults to the constant of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_MANIFEST_BYTES`].
    pub max_manifest_bytes: u64,
    /// See [`MAX_CONFIG_BYTES`].
    pub max_config_bytes: u64,
    /// See [`MAX_INDEX_BYTES`].
    pub max_index_bytes: u64,
    /// See [`MAX_JSON_DEPTH`].
    pub max_json_depth: usize,
    /// See [`MAX_TAR_ENTRIES`].
    pub max_tar_entries: u64,
    /// See [`MAX_DECOMPRESSED_BYTES`].
    pub max_decompressed_bytes: u64,
    /// See [`MAX_DECOMPRESSION_RATIO`].
    pub max_decompression_ratio: u64,
    /// See [`MAX_LAYER_BYTES`].
    pub max_layer_bytes: u64,
    /// See [`MAX_LAYOUT_HEADER_BYTES`].
    pub max_layout_header_bytes: u64,
    /// See [`MAX_ARCHIVE_ENTRIES`].
    pub max_archive_entries: u64,
    /// See [`RATIO_FREE_BYTES`].
    pub ratio_free_bytes: u64,
    /// See [`CONSUMER_MAX_MODULE_BYTES`].
    pub consumer_max_module_bytes: u64,
    /// See [`MAX_WASM_SECTION_BYTES`].
    pub max_wasm_section_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: MAX_MANIFEST_BYTES,
            max_config_bytes: MAX_CONFIG_BYTES,
            max_index_bytes: MAX_INDEX_BYTES,
            max_json_depth: MAX_JSON_DEPTH,
            max_tar_entries: MAX_TAR_ENTRIES,
            max_decompressed_bytes: MAX_DECOMPRESSED_BYTES,
            max_decompression_ratio: MAX_DECOMPRESSION_RATIO,
            max_layer_bytes: MAX_LAYER_BYTES,
            max_layout_header_bytes: MAX_LAYOUT_HEADER_BYTES,
            max_archive_entries: MAX_ARCHIVE_ENTRIES,
            ratio_free_bytes: RATIO_FREE_BYTES,
            consumer_max_module_bytes: CONSUMER_MAX_MODULE_BYTES,
            max_wasm_section_bytes: MAX_WASM_SECTION_BYTES,
        }
    }
}
