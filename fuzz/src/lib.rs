//! Input decoders shared by the fuzz targets and by `tests/fuzz_regressions.rs`
//! (which includes this file by path), so a crashing input replays the same
//! way in the normal suite. Depends only on crates the main crate has.

use std::fs;
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// Separates the files of a layout input: `oci-layout`, `index.json`, then blobs.
pub const SEPARATOR: &[u8] = b"\n~~~~\n";

/// Most sections read from one input.
pub const MAX_SECTIONS: usize = 10;

/// Splits an input at [`SEPARATOR`] (at most [`MAX_SECTIONS`] pieces; the last keeps the rest).
pub fn sections(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < MAX_SECTIONS {
        match find(rest, SEPARATOR) {
            Some(at) => {
                out.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Replaces the placeholders `@@N` (by `sha256:<hex>` of blob N) and `##N`
/// (by the size of blob N) for every `N` in `refs`, so that the fuzzer can
/// write documents that name other blobs of the same input correctly.
pub fn substitute(
    bytes: &[u8],
    blobs: &[(String, usize)],
    refs: std::ops::Range<usize>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 2 < bytes.len()
            && (bytes[i..i + 2] == *b"@@" || bytes[i..i + 2] == *b"##")
            && bytes[i + 2].is_ascii_digit()
        {
            let n = usize::from(bytes[i + 2] - b'0');
            if refs.contains(&n) && n < blobs.len() {
                let (digest, size) = &blobs[n];
                if bytes[i] == b'@' {
                    out.extend_from_slice(digest.as_bytes());
                } else {
                    out.extend_from_slice(size.to_string().as_bytes());
                }
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The files of a layout input: `(oci-layout, index.json, blobs)`. Blobs are
/// resolved last to first, so blob `i` may name any blob after it and
/// `index.json` may name any blob. An empty `oci-layout` or `index.json`
/// section means the file is absent.
pub struct LayoutFiles {
    /// `oci-layout`, if present.
    pub header: Option<Vec<u8>>,
    /// `index.json`, if present.
    pub index: Option<Vec<u8>>,
    /// `(digest, bytes)` of each blob.
    pub blobs: Vec<(String, Vec<u8>)>,
}

/// Decodes a layout input.
pub fn layout_files(data: &[u8]) -> LayoutFiles {
    let parts = sections(data);
    let header = parts.first().filter(|p| !p.is_empty()).map(|p| p.to_vec());
    let raw_blobs: Vec<&[u8]> = parts.iter().skip(2).copied().collect();
    let n = raw_blobs.len();
    let mut resolved: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut names: Vec<(String, usize)> = vec![(String::new(), 0); n];
    for i in (0..n).rev() {
        let bytes = substitute(raw_blobs[i], &names, i + 1..n);
        names[i] = (
            format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
            bytes.len(),
        );
        resolved[i] = bytes;
    }
    let index = parts
        .get(1)
        .filter(|p| !p.is_empty())
        .map(|p| substitute(p, &names, 0..n));
    let blobs = names.into_iter().map(|(d, _)| d).zip(resolved).collect();
    LayoutFiles {
        header,
        index,
        blobs,
    }
}

/// Writes a layout input as a layout directory at `root` (which must exist).
pub fn write_layout(root: &Path, data: &[u8]) -> std::io::Result<()> {
    let files = layout_files(data);
    if let Some(h) = &files.header {
        fs::write(root.join("oci-layout"), h)?;
    }
    if let Some(i) = &files.index {
        fs::write(root.join("index.json"), i)?;
    }
    let dir = root.join("blobs").join("sha256");
    fs::create_dir_all(&dir)?;
    for (digest, bytes) in &files.blobs {
        let hex = digest.trim_start_matches("sha256:");
        fs::write(dir.join(hex), bytes)?;
    }
    Ok(())
}

/// A temporary directory on a RAM disk when there is one (faster fuzzing).
pub fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
}

/// The compat-layer input: the first byte picks raw mode (the rest is the
/// layer as is, gzip and all) or tar mode (the rest is a tar, gzipped here
/// so that the fuzzer reaches the tar reader).
pub fn compat_layer_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match data.split_first() {
        None => Vec::new(),
        Some((mode, rest)) if mode & 1 == 0 => rest.to_vec(),
        Some((_, rest)) => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = gz.write_all(rest);
            gz.finish().unwrap_or_default()
        }
    }
}

/// Chunk sizes for the streaming Wasm inspector, derived from the input
/// itself (a tiny xorshift seeded by its length and first bytes), so the
/// corpus stays plain `.wasm` files and every run splits the same way.
pub fn chunk_sizes(data: &[u8]) -> impl Iterator<Item = usize> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ data.len() as u64;
    for &b in data.iter().rev().take(8) {
        state = state.rotate_left(8) ^ u64::from(b);
    }
    state |= 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 4 {
            0 => 1,
            1 => 1 + (state >> 8) as usize % 8,
            2 => 1 + (state >> 8) as usize % 64,
            _ => 1 + (state >> 8) as usize % 4096,
        }
    })
}

/// The body of each fuzz target, one module per target (`run` takes one input).
pub mod targets {
    /// Manifest, index and config parsing: the strict readers, the typed configs, and the validator's lenient document checks for every DocumentKind.
    pub mod documents {
        use wasm_image::config::{CompatImageConfig, RuntimeConfig, WasmConfig};
        use wasm_image::limits::MAX_INDEX_BYTES;
        use wasm_image::manifest::{self, RootIndex};
        use wasm_image::validate::{self, DocumentKind, Options};

        fn round_trip<
            T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        >(
            data: &[u8],
        ) {
            if let Ok(value) = serde_json::from_slice::<T>(data) {
                let text = serde_json::to_vec(&value).expect("a parsed config serialises");
                let again: T = serde_json::from_slice(&text).expect("a written config parses");
                assert_eq!(value, again);
            }
        }

        /// One input.
        pub fn run(data: &[u8]) {
            if let Ok(m) = manifest::parse_manifest(data) {
                let _ = manifest::manifest_media_type(&m);
                let _ = manifest::encode(&m);
            }
            if let Ok(mut index) = RootIndex::parse(data, MAX_INDEX_BYTES) {
                let entries = index.entries().expect("parse checked the entries");
                let bytes = index.to_bytes();
                let again = RootIndex::parse(&bytes, u64::MAX).expect("written index parses");
                assert_eq!(again.entries().expect("entries").len(), entries.len());
                if let Some(e) = entries.first() {
                    index.add(&e.media_type, &e.digest, e.size, Some("fuzz"));
                    let _ = index.entries();
                }
            }
            round_trip::<WasmConfig>(data);
            round_trip::<RuntimeConfig>(data);
            round_trip::<CompatImageConfig>(data);
            let _ = wasm_image::store::layout::check_header(data);
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
                let _ = wasm_image::variant::detect(&value);
            }
            let options = Options::default();
            for kind in [
                DocumentKind::Descriptor,
                DocumentKind::Manifest,
                DocumentKind::Index,
                DocumentKind::Layout,
                DocumentKind::Config,
            ] {
                let _ = validate::validate_document(kind, data, &options);
            }
        }
    }

    /// Layout opening: the input is split into `oci-layout`, `index.json` and blobs (see `wasm_image_fuzz::layout_files`), written as a layout directory, then validated leniently (`validate_path`), opened strictly (`Layout::open`) and its signatures looked up (`verify_image`).
    pub mod layout {
        use wasm_image::image::Image;
        use wasm_image::limits::Limits;
        use wasm_image::sign::verify;
        use wasm_image::store::{ImageStore, Layout, Selector};
        use wasm_image::validate::{self, Options};

        /// One input.
        pub fn run(data: &[u8]) {
            let Ok(dir) = super::super::scratch_dir() else {
                return;
            };
            if super::super::write_layout(dir.path(), data).is_err() {
                return;
            }
            let options = Options::default();
            let _ = validate::validate_path(dir.path(), None, &options);
            if let Ok(layout) = Layout::open(dir.path()) {
                let _ = validate::validate(&layout, None, &options);
                let limits = Limits::default();
                let entries = layout
                    .root_index()
                    .and_then(|i| i.entries().map_err(Into::into))
                    .unwrap_or_default();
                // The first images (a signed layout also lists its `.sig` manifest).
                for entry in entries.iter().take(2) {
                    let selector = Selector::Digest(entry.digest.clone());
                    if let Ok(image) = Image::open(&layout, &selector, &limits) {
                        let _ = image.inspect_module(&layout, &limits, true);
                    }
                    // Signature manifests (`sha256-<hex>.sig`) and referrer bundles.
                    let _ =
                        verify::verify_image(&layout, &selector, &verify::VerifyOptions::default());
                }
            }
        }
    }

    /// Archive reading: the input is an OCI archive (a tar file), opened with `Archive::open`, validated leniently with `validate_path`, and its signatures looked up (`verify_image`).
    pub mod archive {
        use wasm_image::image::Image;
        use wasm_image::limits::Limits;
        use wasm_image::sign::verify;
        use wasm_image::store::{Archive, ImageStore, Selector};
        use wasm_image::validate::{self, Options};

        /// One input.
        pub fn run(data: &[u8]) {
            let Ok(dir) = super::super::scratch_dir() else {
                return;
            };
            let path = dir.path().join("image.tar");
            if std::fs::write(&path, data).is_err() {
                return;
            }
            let options = Options::default();
            let _ = validate::validate_path(&path, None, &options);
            if let Ok(archive) = Archive::open(&path) {
                let _ = validate::validate(&archive, None, &options);
                let limits = Limits::default();
                let entries = archive
                    .root_index()
                    .and_then(|i| i.entries().map_err(Into::into))
                    .unwrap_or_default();
                // The first images (a signed layout also lists its `.sig` manifest).
                for entry in entries.iter().take(2) {
                    let selector = Selector::Digest(entry.digest.clone());
                    if let Ok(image) = Image::open(&archive, &selector, &limits) {
                        let _ = image.inspect_module(&archive, &limits, true);
                    }
                    // Signature manifests (`sha256-<hex>.sig`) and referrer bundles.
                    let _ = verify::verify_image(
                        &archive,
                        &selector,
                        &verify::VerifyOptions::default(),
                    );
                }
            }
        }
    }

    /// Compat layer extraction: `compat::read_plugin` with small limits, the plugin bytes streamed into the Wasm inspector. The first input byte picks raw mode (gzip as given) or tar mode (the rest is gzipped first).
    pub mod compat_layer {
        use wasm_image::compat;
        use wasm_image::limits::Limits;
        use wasm_image::wasm::{InspectOptions, StreamingInspector};

        /// One input.
        pub fn run(data: &[u8]) {
            let layer = super::super::compat_layer_bytes(data);
            let limits = Limits {
                max_tar_entries: 16,
                max_decompressed_bytes: 1 << 20,
                max_decompression_ratio: 50,
                ratio_free_bytes: 64 << 10,
                max_wasm_section_bytes: 64 << 10,
                ..Limits::default()
            };
            let mut inspector = StreamingInspector::new(InspectOptions {
                validate: true,
                max_section_size: limits.max_wasm_section_bytes,
            });
            let mut seen = 0u64;
            let result = compat::read_plugin(&mut &layer[..], &limits, &mut |chunk| {
                seen += chunk.len() as u64;
                inspector.push(chunk).map_err(|e| e.to_string())
            });
            if let Ok((_, size)) = result {
                assert_eq!(seen, size, "the sink got every byte of plugin.wasm");
                assert!(seen <= limits.max_decompressed_bytes);
                let _ = inspector.finish();
            }
        }
    }

    /// Wasm inspection: `inspect`, `validate`, and the streaming inspector fed in random chunks, which must agree with the slice form exactly.
    pub mod wasm {
        use wasm_image::wasm::{self, InspectOptions, ModuleInfo, StreamingInspector, WasmError};

        fn streamed(data: &[u8], options: InspectOptions) -> Result<ModuleInfo, WasmError> {
            let mut inspector = StreamingInspector::new(options);
            let mut rest = data;
            for size in super::super::chunk_sizes(data) {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at(size.min(rest.len()));
                rest = tail;
                if inspector.push(chunk).is_err() {
                    break;
                }
            }
            inspector.finish()
        }

        fn same(a: &Result<ModuleInfo, WasmError>, b: &Result<ModuleInfo, WasmError>) {
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("slice and streaming forms disagree: {a:?} vs {b:?}"),
            }
        }

        /// One input.
        pub fn run(data: &[u8]) {
            let inspected = wasm::inspect(data);
            let validated = wasm::validate(data);
            if let (Ok(v), Ok(i)) = (&validated, &inspected) {
                assert_eq!(v, i, "validate returns what inspect returns");
            }
            if validated.is_ok() {
                assert!(inspected.is_ok(), "a valid binary inspects: {inspected:?}");
            }
            for validate in [false, true] {
                let slice = if validate { &validated } else { &inspected };
                same(
                    slice,
                    &streamed(
                        data,
                        InspectOptions {
                            validate,
                            ..InspectOptions::default()
                        },
                    ),
                );
                let small = InspectOptions {
                    validate,
                    max_section_size: 64,
                };
                same(
                    &wasm::inspect_with(data, small.clone()),
                    &streamed(data, small),
                );
            }
        }
    }

    /// Registry reference parsing (and the TARGET and digest grammars around it): a parsed reference written back as `REGISTRY/REPO[:TAG][@DIGEST]` parses to itself.
    pub mod reference {
        use wasm_image::digest::Digest;
        use wasm_image::registry::Reference;

        /// One input.
        pub fn run(data: &[u8]) {
            let Ok(text) = std::str::from_utf8(data) else {
                return;
            };
            if let Ok(d) = Digest::parse(text) {
                assert_eq!(Digest::parse(d.as_str()).expect("reparses"), d);
                let _ = d.layout_path();
            }
            let _ = Reference::looks_like_registry(text);
            if let Ok(r) = Reference::parse(text) {
                let mut again = r.name();
                if let Some(t) = &r.tag {
                    again = format!("{again}:{t}");
                }
                if let Some(d) = &r.digest {
                    again = format!("{again}@{d}");
                }
                let reparsed = Reference::parse(&again)
                    .unwrap_or_else(|e| panic!("{again:?} (from {text:?}) does not reparse: {e}"));
                assert_eq!(reparsed, r, "{again:?} from {text:?}");
                let _ = (r.api_host(), r.manifest_reference(), r.is_loopback());
            }
            // Not a path on this machine (it would be opened), only the grammar.
            if !text.starts_with('/')
                && !text.starts_with('.')
                && !std::path::Path::new(text).exists()
            {
                let _ = wasm_image::target::Target::parse(text);
            }
        }
    }

    /// Key parsing: PEM blocks, private keys (plain and cosign's encrypted format), public keys (PEM and SPKI DER); a parsed public key never accepts a signature made of the fuzz input.
    pub mod sign_key {
        use wasm_image::sign::key::{self, PrivateKey, PublicKey};

        /// One input.
        pub fn run(data: &[u8]) {
            let _ = key::parse_pem_blocks(data);
            let _ = key::is_encrypted_pem(data);
            let _ = PrivateKey::from_pem(data, None);
            if key::is_encrypted_pem(data) {
                // The empty password, as `cosign generate-key-pair` allows.
                let _ = PrivateKey::from_pem(data, Some(b""));
            }
            for public in [PublicKey::from_pem(data), PublicKey::from_spki_der(data)] {
                let Ok(public) = public else { continue };
                let _ = public.hint();
                if let Ok(pem) = public.to_pem() {
                    let again =
                        PublicKey::from_pem(pem.as_bytes()).expect("a written key reads back");
                    assert_eq!(again.spki_der().ok(), public.spki_der().ok());
                }
                let (message, signature) = data.split_at(data.len() / 2);
                assert!(
                    public.verify(message, signature).is_err(),
                    "a signature made of the key's own bytes verified"
                );
            }
        }
    }

    /// Signature and bundle parsing: simple-signing payloads, base64 signatures, Sigstore bundles (DSSE envelope, in-toto statement), the verification candidates built from them, and trusted roots.
    pub mod sign_bundle {
        use std::collections::BTreeMap;

        use wasm_image::digest::Digest;
        use wasm_image::sign::cosign::SIGNATURE_ANNOTATION;
        use wasm_image::sign::{bundle, keyless, payload, verify};

        /// One input.
        pub fn run(data: &[u8]) {
            let image = Digest::sha256_of(b"image");
            let _ = payload::SimpleSigning::parse(data);
            let _ = bundle::read_dsse(data);
            let _ = bundle::statement_subjects(data);
            let _ = verify::bundle_candidate(&image, data);
            let _ = keyless::TrustedRoot::from_json(data);
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = verify::decode_signature(text);
                let _ = payload::docker_reference(text);
                let mut annotations = BTreeMap::new();
                annotations.insert(SIGNATURE_ANNOTATION.to_owned(), text.to_owned());
                let _ = verify::simple_signing_candidate(&image, data, &annotations);
            }
        }
    }
}
