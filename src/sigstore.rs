//! Sigstore bundle verification (feature `sigstore`), offline: a bundle
//! (v0.1 to v0.3; message signature or DSSE) against an artifact (its bytes
//! or its `sha256:` digest), a key or a certificate identity and issuer, and
//! a trusted root file.
//!
//! # Why `sigstore-verify` and not the `sigstore` crate
//!
//! Both are the Sigstore organisation's. `sigstore` (sigstore-rs 0.15) rejects
//! managed-key bundles (`publicKey.hint`) in offline bundle verification,
//! requires one Rekor v1 entry with its SET, has no Rekor v2 checkpoints nor
//! RFC 3161 timestamp checks, and its smallest building feature set pulls
//! reqwest, hyper, openidconnect and oci-client (256+ crates, plus aws-lc-sys
//! or OpenSSL; about 3 minutes of clean `cargo check` on 2 cores). It would
//! fail the `managed-key-*`, `rekor2-*` and timestamp conformance cases.
//! `sigstore-verify` (sigstore-rust 0.15) is bundle-centric and written
//! against the conformance suite: certificate chains, SCTs, Rekor v1 SETs and
//! inclusion proofs, Rekor v2 checkpoints, RFC 3161 timestamps, managed keys.
//! Built without default features it has no HTTP stack and no C code: 71
//! crates, about 30 s of clean build. Its cryptography is pluggable
//! ([`sigstore_verify::crypto::CryptoProvider`]); its default provider is
//! aws-lc-rs (a C build), so this module supplies a provider on the RustCrypto
//! crates the core already uses (p256, p384, ed25519-dalek, sha2, plus rsa).

use std::sync::Once;

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::Digest as _;
use sigstore_verify::crypto::{
    CryptoProvider, Error as CryptoError, HashContext, Result as CryptoResult, SigningScheme,
};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::digest::Digest;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_TRUSTED_ROOT_BYTES};

/// What was signed.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// The artifact's bytes.
    Bytes(Vec<u8>),
    /// Only its digest (`sha256:`).
    Digest(Digest),
}

/// Whom to trust.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A managed key (`PUBLIC KEY` PEM text).
    Key(String),
    /// A Fulcio certificate identity (SAN, exact) and OIDC issuer (exact).
    Identity {
        /// The identity.
        identity: String,
        /// The issuer.
        issuer: String,
    },
}

/// A verified bundle.
#[derive(Debug, Clone)]
pub struct BundleVerified {
    /// Who signed (identity and issuer, or "key").
    pub signer: String,
}

/// Why a bundle did not verify, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// An input is too large.
    #[error("{0} is over the limit of {1} bytes")]
    TooLarge(&'static str, u64),
    /// An input is malformed.
    #[error("{0}")]
    Input(String),
    /// Verification failed.
    #[error("bundle did not verify: {0}")]
    Verify(String),
}

#[derive(Debug)]
struct RustCrypto;

static PROVIDER: RustCrypto = RustCrypto;
static INSTALL: Once = Once::new();

/// Installs the RustCrypto provider as `sigstore-crypto`'s default (once).
pub fn install_provider() {
    INSTALL.call_once(|| {
        let _ = sigstore_verify::crypto::provider::install_default_provider(&PROVIDER);
    });
}

enum Hasher {
    S256(sha2::Sha256),
    S384(sha2::Sha384),
    S512(sha2::Sha512),
}

impl HashContext for Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::S256(h) => h.update(data),
            Hasher::S384(h) => h.update(data),
            Hasher::S512(h) => h.update(data),
        }
    }
    fn finalize(self: Box<Self>) -> Vec<u8> {
        match *self {
            Hasher::S256(h) => h.finalize().to_vec(),
            Hasher::S384(h) => h.finalize().to_vec(),
            Hasher::S512(h) => h.finalize().to_vec(),
        }
    }
}

fn fail(what: &str) -> CryptoError {
    CryptoError::Verification(what.to_owned())
}

fn hash_of(alg: Option<HashAlgorithm>, data: &[u8]) -> CryptoResult<Vec<u8>> {
    Ok(match alg {
        Some(HashAlgorithm::Sha2256) => sha2::Sha256::digest(data).to_vec(),
        Some(HashAlgorithm::Sha2384) => sha2::Sha384::digest(data).to_vec(),
        Some(HashAlgorithm::Sha2512) => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(CryptoError::UnsupportedAlgorithm("hash".into())),
    })
}

fn verify_digest(scheme: SigningScheme, key: &[u8], digest: &[u8], sig: &[u8]) -> CryptoResult<()> {
    use SigningScheme as S;
    match scheme {
        S::EcdsaP256Sha256 | S::EcdsaP256Sha384 => {
            let k =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| fail("P-256 key"))?;
            let s = p256::ecdsa::Signature::from_der(sig)
                .map_err(|_| fail("ECDSA signature is not DER"))?;
            k.verify_prehash(digest, &s)
                .map_err(|_| fail("ECDSA P-256 signature"))
        }
        S::EcdsaP384Sha256 | S::EcdsaP384Sha384 => {
            let k =
                p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| fail("P-384 key"))?;
            let s = p384::ecdsa::Signature::from_der(sig)
                .map_err(|_| fail("ECDSA signature is not DER"))?;
            k.verify_prehash(digest, &s)
                .map_err(|_| fail("ECDSA P-384 signature"))
        }
        S::RsaPkcs1Sha256
        | S::RsaPkcs1Sha384
        | S::RsaPkcs1Sha512
        | S::RsaPssSha256
        | S::RsaPssSha384
        | S::RsaPssSha512 => rsa_verify(scheme, key, digest, sig),
        _ => Err(CryptoError::UnsupportedAlgorithm(format!("{scheme:?}"))),
    }
}

fn rsa_verify(scheme: SigningScheme, key: &[u8], digest: &[u8], sig: &[u8]) -> CryptoResult<()> {
    use SigningScheme as S;
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
    let k = RsaPublicKey::from_pkcs1_der(key).map_err(|_| fail("RSA key"))?;
    let padding_ok = match scheme {
        S::RsaPkcs1Sha256 => k.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), digest, sig),
        S::RsaPkcs1Sha384 => k.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), digest, sig),
        S::RsaPkcs1Sha512 => k.verify(Pkcs1v15Sign::new::<sha2::Sha512>(), digest, sig),
        S::RsaPssSha256 => k.verify(Pss::new::<sha2::Sha256>(), digest, sig),
        S::RsaPssSha384 => k.verify(Pss::new::<sha2::Sha384>(), digest, sig),
        S::RsaPssSha512 => k.verify(Pss::new::<sha2::Sha512>(), digest, sig),
        _ => return Err(CryptoError::UnsupportedAlgorithm(format!("{scheme:?}"))),
    };
    padding_ok.map_err(|_| fail("RSA signature"))
}

impl CryptoProvider for RustCrypto {
    fn hash(&self, algorithm: HashAlgorithm) -> CryptoResult<Box<dyn HashContext>> {
        Ok(Box::new(match algorithm {
            HashAlgorithm::Sha2256 => Hasher::S256(sha2::Sha256::new()),
            HashAlgorithm::Sha2384 => Hasher::S384(sha2::Sha384::new()),
            HashAlgorithm::Sha2512 => Hasher::S512(sha2::Sha512::new()),
            #[allow(unreachable_patterns)]
            _ => return Err(CryptoError::UnsupportedAlgorithm("hash".into())),
        }))
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> CryptoResult<()> {
        if scheme == SigningScheme::Ed25519 {
            let key: [u8; 32] = key.try_into().map_err(|_| fail("Ed25519 key"))?;
            let k =
                ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| fail("Ed25519 key"))?;
            let s = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| fail("Ed25519 signature"))?;
            return k.verify(data, &s).map_err(|_| fail("Ed25519 signature"));
        }
        let digest = hash_of(scheme.hash_algorithm(), data)?;
        verify_digest(scheme, key, &digest, signature)
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> CryptoResult<()> {
        verify_digest(scheme, key, digest, signature)
    }
}

/// Verifies a bundle offline. `trusted_root` is a trusted root JSON document.
pub fn verify_bundle(
    bundle: &[u8],
    artifact: &Artifact,
    signer: &Signer,
    trusted_root: &[u8],
) -> Result<BundleVerified, BundleError> {
    install_provider();
    if bundle.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge("bundle", MAX_BUNDLE_BYTES));
    }
    if trusted_root.len() as u64 > MAX_TRUSTED_ROOT_BYTES {
        return Err(BundleError::TooLarge(
            "trusted root",
            MAX_TRUSTED_ROOT_BYTES,
        ));
    }
    crate::json::check_depth(bundle, crate::limits::MAX_JSON_DEPTH)
        .map_err(|e| BundleError::Input(format!("bundle: {e}")))?;
    let text = std::str::from_utf8(bundle)
        .map_err(|_| BundleError::Input("bundle is not UTF-8".into()))?;
    let bundle = Bundle::from_json(text).map_err(|e| BundleError::Input(format!("bundle: {e}")))?;
    let root_text = std::str::from_utf8(trusted_root)
        .map_err(|_| BundleError::Input("trusted root is not UTF-8".into()))?;
    let root = TrustedRoot::from_json(root_text)
        .map_err(|e| BundleError::Input(format!("trusted root: {e}")))?;
    let verifier =
        Verifier::new(&root).map_err(|e| BundleError::Input(format!("trusted root: {e}")))?;
    let digest_artifact;
    let artifact = match artifact {
        Artifact::Bytes(b) => sigstore_verify::types::Artifact::from_blob(b),
        Artifact::Digest(d) => {
            if d.algorithm_name() != "sha256" {
                return Err(BundleError::Input(format!(
                    "{d}: only sha256 digests are supported"
                )));
            }
            let hash = Sha256Hash::from_hex(d.encoded())
                .map_err(|e| BundleError::Input(format!("{d}: {e}")))?;
            digest_artifact = ArtifactDigest::sha256(hash);
            sigstore_verify::types::Artifact::from_digest(digest_artifact.clone())
        }
    };
    match signer {
        Signer::Key(pem) => {
            let key =
                DerPublicKey::from_pem(pem).map_err(|e| BundleError::Input(format!("key: {e}")))?;
            verifier
                .verify(artifact, &bundle, &PublicKeyVerificationPolicy::new(key))
                .map_err(|e| BundleError::Verify(e.to_string()))?;
            Ok(BundleVerified {
                signer: "key".into(),
            })
        }
        Signer::Identity { identity, issuer } => {
            let policy = VerificationPolicy::new(identity.as_str(), issuer.as_str());
            verifier
                .verify(artifact, &bundle, &policy)
                .map_err(|e| BundleError::Verify(e.to_string()))?;
            Ok(BundleVerified {
                signer: format!("{identity} ({issuer})"),
            })
        }
    }
}
