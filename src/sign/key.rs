//! Signing keys: generation, cosign's encrypted private key files, plain
//! PKCS#8 / SEC1 / PKCS#1 private keys, and SPKI public keys.
//!
//! Cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`, legacy
//! `ENCRYPTED COSIGN PRIVATE KEY`) is a PEM block whose body is base64 of a
//! JSON document: scrypt parameters and salt, a NaCl secretbox nonce, and the
//! ciphertext (16-byte Poly1305 tag then the encrypted PKCS#8 DER). No crate
//! reads that JSON wrapper, so it is done here on top of `scrypt` and
//! `crypto_secretbox`. Only the scrypt parameters cosign itself accepts are
//! read (N of 2^15, 2^16 or 2^17, r = 8, p = 1), which bounds the memory and
//! time a hostile key file can cost to what cosign's own keys cost.
//!
//! Nothing here puts key bytes or passwords in an error or a `Debug` output.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use pkcs8::der::Decode;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::limits::MAX_KEY_FILE_BYTES;

/// PEM label cosign writes for encrypted private keys.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// Legacy PEM label cosign still reads.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// scrypt N this crate writes (cosign's default).
pub const SCRYPT_N_WRITTEN: u64 = 65536;
/// scrypt N values accepted on read (go-securesystemslib `CheckParams`).
pub const SCRYPT_N_ACCEPTED: [u64; 3] = [32768, 65536, 131072];

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_P224: &str = "1.3.132.0.33";

/// Why a key could not be read, written or used. The texts never contain key
/// material or passwords.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a PEM block, or a PEM block of an unexpected kind.
    #[error("invalid pem block: {0}")]
    Pem(String),
    /// The key file is larger than [`MAX_KEY_FILE_BYTES`].
    #[error("key file is over the limit of {0} bytes")]
    TooLarge(u64),
    /// An encrypted key needs a password and none was given.
    #[error("the private key is encrypted and no password was given")]
    PasswordRequired,
    /// A password was given for a key that is not encrypted.
    #[error("Unencrypted private key but password provided")]
    PasswordForUnencrypted,
    /// Decryption failed: wrong password or damaged file.
    #[error("decrypting the private key failed: wrong password or damaged key file")]
    Decrypt,
    /// The encrypted key's JSON wrapper is malformed.
    #[error("encrypted key: {0}")]
    Envelope(String),
    /// scrypt parameters outside what cosign accepts.
    #[error(
        "encrypted key: scrypt parameters N={n}, r={r}, p={p} are not accepted (N must be 32768, 65536 or 131072, r 8, p 1)"
    )]
    KdfParams {
        /// N.
        n: u64,
        /// r.
        r: u64,
        /// p.
        p: u64,
    },
    /// The DER inside is not a key of the expected structure.
    #[error("parsing private key: {0}")]
    Parse(String),
    /// A key of an algorithm or curve this crate does not accept.
    #[error("unsupported key: {0}")]
    Unsupported(String),
    /// A key that loads but that this crate cannot sign or verify with.
    #[error("{0} keys can be read but not used to sign or verify; use ECDSA P-256 or Ed25519")]
    CannotUse(KeyAlgorithm),
    /// The signature is not of the form the key's algorithm needs.
    #[error("malformed {algorithm} signature: {reason}")]
    MalformedSignature {
        /// The key's algorithm.
        algorithm: KeyAlgorithm,
        /// What is wrong.
        reason: String,
    },
    /// The signature does not verify with this key.
    #[error("the {0} signature does not verify with the given key")]
    BadSignature(KeyAlgorithm),
    /// Signing failed.
    #[error("signing failed")]
    Sign,
}

/// Key algorithms that load. Only [`KeyAlgorithm::Ed25519`] and
/// [`KeyAlgorithm::EcdsaP256`] sign; P-384 also verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyAlgorithm {
    /// Pure Ed25519 (RFC 8032), not Ed25519ph.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, ASN.1 DER signatures (cosign's default).
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// ECDSA on P-521 (loads only).
    EcdsaP521,
    /// RSA (loads only), with its modulus size in bits.
    Rsa(usize),
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyAlgorithm::EcdsaP521 => f.write_str("ECDSA P-521"),
            KeyAlgorithm::Rsa(bits) => write!(f, "RSA-{bits}"),
        }
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(KeyAlgorithm::Ed25519),
            "ecdsa-p256" | "ecdsa" | "p256" | "p-256" => Ok(KeyAlgorithm::EcdsaP256),
            other => Err(KeyError::Unsupported(format!(
                "algorithm {other:?}: choose ed25519 or ecdsa-p256"
            ))),
        }
    }
}

enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    /// Loaded but not usable for signing: the algorithm, and its PKCS#8 DER if any.
    Other(KeyAlgorithm),
}

/// A private key. `Debug` shows the algorithm only.
pub struct PrivateKey {
    secret: Secret,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, redacted)", self.algorithm())
    }
}

/// A public key.
#[derive(Clone)]
pub enum PublicKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA P-256.
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// ECDSA P-384.
    EcdsaP384(p384::ecdsa::VerifyingKey),
    /// A key that parses but that this crate does not verify with.
    Other(KeyAlgorithm, Vec<u8>),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der().ok() == other.spki_der().ok()
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[allow(non_snake_case)]
struct KdfParams {
    N: u64,
    r: u64,
    p: u64,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// One PEM block: its label and decoded body.
pub struct PemBlock {
    /// The label between `BEGIN ` and the dashes.
    pub label: String,
    /// The decoded body.
    pub body: Zeroizing<Vec<u8>>,
}

/// Reads every PEM block of a text, tolerating blank lines, CRLF and text
/// between blocks (PEM headers such as `Proc-Type` are refused).
pub fn parse_pem_blocks(text: &[u8]) -> Result<Vec<PemBlock>, KeyError> {
    let text = std::str::from_utf8(text).map_err(|_| KeyError::Pem("not UTF-8 text".into()))?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.contains(':') {
                return Err(KeyError::Pem(format!(
                    "{label}: PEM headers are not supported"
                )));
            }
            body.push_str(line);
        }
        if !closed {
            return Err(KeyError::Pem(format!("{label}: no END line")));
        }
        let body = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| KeyError::Pem(format!("{label}: body is not base64")))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            body: Zeroizing::new(body),
        });
    }
    Ok(blocks)
}

fn single_block(text: &[u8]) -> Result<PemBlock, KeyError> {
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge(MAX_KEY_FILE_BYTES));
    }
    let mut blocks = parse_pem_blocks(text)?;
    match blocks.len() {
        0 => Err(KeyError::Pem("no PEM block found".into())),
        1 => Ok(blocks.remove(0)),
        n => Err(KeyError::Pem(format!("{n} PEM blocks, expected one"))),
    }
}

/// Whether a private key file is in cosign's encrypted format (and so needs a password).
pub fn is_encrypted_pem(text: &[u8]) -> bool {
    parse_pem_blocks(text)
        .ok()
        .and_then(|b| b.into_iter().next())
        .is_some_and(|b| {
            b.label == SIGSTORE_PRIVATE_KEY_LABEL || b.label == COSIGN_PRIVATE_KEY_LABEL
        })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn scrypt_key(password: &[u8], salt: &[u8], n: u64) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let log_n = n.trailing_zeros() as u8;
    let params =
        scrypt::Params::new(log_n, 8, 1, 32).map_err(|_| KeyError::KdfParams { n, r: 8, p: 1 })?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, key.as_mut()).map_err(|_| KeyError::KdfParams {
        n,
        r: 8,
        p: 1,
    })?;
    Ok(key)
}

fn decrypt_envelope(body: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let envelope: Envelope = crate::json::parse_bounded(body, MAX_KEY_FILE_BYTES, 8)
        .map_err(|e| KeyError::Envelope(format!("not the JSON cosign writes ({e})")))?;
    if envelope.kdf.name != "scrypt" {
        return Err(KeyError::Envelope(format!(
            "key derivation {:?} is not scrypt",
            envelope.kdf.name
        )));
    }
    let KdfParams { N: n, r, p } = envelope.kdf.params;
    if !SCRYPT_N_ACCEPTED.contains(&n) || r != 8 || p != 1 {
        return Err(KeyError::KdfParams { n, r, p });
    }
    if envelope.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Envelope(format!(
            "cipher {:?} is not nacl/secretbox",
            envelope.cipher.name
        )));
    }
    let b64 = |what: &str, s: &str| {
        STANDARD
            .decode(s)
            .map_err(|_| KeyError::Envelope(format!("{what} is not base64")))
    };
    let salt = b64("salt", &envelope.kdf.salt)?;
    let nonce = b64("nonce", &envelope.cipher.nonce)?;
    let ciphertext = b64("ciphertext", &envelope.ciphertext)?;
    if nonce.len() != 24 {
        return Err(KeyError::Envelope("nonce is not 24 bytes".into()));
    }
    let key = scrypt_key(password, &salt, n)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let plaintext = cipher
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map_err(|_| KeyError::Decrypt)?;
    Ok(Zeroizing::new(plaintext))
}

fn encrypt_envelope(plaintext: &[u8], password: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = scrypt_key(password, &salt, SCRYPT_N_WRITTEN)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let ciphertext = cipher
        .encrypt((&nonce).into(), plaintext)
        .map_err(|_| KeyError::Sign)?;
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                N: SCRYPT_N_WRITTEN,
                r: 8,
                p: 1,
            },
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    serde_json::to_vec(&envelope).map_err(|e| KeyError::Envelope(e.to_string()))
}

fn curve_algorithm(oid: &str) -> Result<KeyAlgorithm, KeyError> {
    match oid {
        OID_P256 => Ok(KeyAlgorithm::EcdsaP256),
        OID_P384 => Ok(KeyAlgorithm::EcdsaP384),
        OID_P521 => Ok(KeyAlgorithm::EcdsaP521),
        OID_P224 => Err(KeyError::Unsupported(
            "ECDSA curve P-224 not allowed".into(),
        )),
        other => Err(KeyError::Unsupported(format!("ECDSA curve {other}"))),
    }
}

fn check_rsa_bits(bits: usize) -> Result<KeyAlgorithm, KeyError> {
    if (2048..=4096).contains(&bits) {
        Ok(KeyAlgorithm::Rsa(bits))
    } else {
        Err(KeyError::Unsupported(format!(
            "error validating rsa key: key size not supported: {bits}"
        )))
    }
}

fn rsa_bits(modulus: &[u8]) -> usize {
    let m = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    m.len() * 8 - m[0].leading_zeros() as usize
}

fn from_pkcs8_der(der: &[u8]) -> Result<Secret, KeyError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der)
        .map_err(|e| KeyError::Parse(format!("not PKCS#8 ({e})")))?;
    match info.algorithm.oid.to_string().as_str() {
        OID_ED25519 => {
            let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map_err(|e| KeyError::Parse(format!("Ed25519 PKCS#8: {e}")))?;
            Ok(Secret::Ed25519(key))
        }
        OID_EC_PUBLIC_KEY => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::Parse("EC key without a named curve".into()))?;
            match curve_algorithm(&curve.to_string())? {
                KeyAlgorithm::EcdsaP256 => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                    .map(Secret::P256)
                    .map_err(|e| KeyError::Parse(format!("P-256 PKCS#8: {e}"))),
                other => {
                    sec1::EcPrivateKey::from_der(info.private_key)
                        .map_err(|e| KeyError::Parse(format!("EC private key: {e}")))?;
                    Ok(Secret::Other(other))
                }
            }
        }
        OID_RSA => {
            let rsa = pkcs1::RsaPrivateKey::from_der(info.private_key)
                .map_err(|e| KeyError::Parse(format!("RSA private key: {e}")))?;
            Ok(Secret::Other(check_rsa_bits(rsa_bits(
                rsa.modulus.as_bytes(),
            ))?))
        }
        other => Err(KeyError::Unsupported(format!("key algorithm {other}"))),
    }
}

fn from_sec1_der(der: &[u8]) -> Result<Secret, KeyError> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|_| KeyError::Parse("error parsing ecdsa private key".into()))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or_else(|| KeyError::Parse("EC key without a named curve".into()))?;
    match curve_algorithm(&curve.to_string()).map_err(|e| match e {
        KeyError::Unsupported(m) if m.contains("P-224") => {
            KeyError::Unsupported(format!("error validating ecdsa key: {m}"))
        }
        _ => KeyError::Parse("error parsing ecdsa private key".into()),
    })? {
        KeyAlgorithm::EcdsaP256 => p256::SecretKey::from_sec1_der(der)
            .map(|k| Secret::P256(k.into()))
            .map_err(|_| KeyError::Parse("error parsing ecdsa private key".into())),
        other => Ok(Secret::Other(other)),
    }
}

impl PrivateKey {
    /// Generates a key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let secret = match algorithm {
            KeyAlgorithm::Ed25519 => {
                Secret::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
            }
            KeyAlgorithm::EcdsaP256 => Secret::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            other => return Err(KeyError::CannotUse(other)),
        };
        Ok(PrivateKey { secret })
    }

    /// Reads a private key file. `password` is for cosign's encrypted format:
    /// required there (the empty password is a password), and refused (unless
    /// empty) for an unencrypted key.
    pub fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let block = single_block(text)?;
        let secret = match block.label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                let password = password.ok_or(KeyError::PasswordRequired)?;
                let der = decrypt_envelope(&block.body, password)?;
                from_pkcs8_der(&der)?
            }
            label => {
                if password.is_some_and(|p| !p.is_empty()) {
                    return Err(KeyError::PasswordForUnencrypted);
                }
                match label {
                    "PRIVATE KEY" => from_pkcs8_der(&block.body)?,
                    "EC PRIVATE KEY" => from_sec1_der(&block.body)?,
                    "RSA PRIVATE KEY" => {
                        let rsa = pkcs1::RsaPrivateKey::from_der(&block.body)
                            .map_err(|e| KeyError::Parse(format!("RSA private key: {e}")))?;
                        Secret::Other(check_rsa_bits(rsa_bits(rsa.modulus.as_bytes()))?)
                    }
                    "PUBLIC KEY" => {
                        return Err(KeyError::Unsupported(
                            "unsupported private key: this is a public key".into(),
                        ));
                    }
                    other => return Err(KeyError::Pem(format!("unexpected PEM label {other:?}"))),
                }
            }
        };
        Ok(PrivateKey { secret })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.secret {
            Secret::Ed25519(_) => KeyAlgorithm::Ed25519,
            Secret::P256(_) => KeyAlgorithm::EcdsaP256,
            Secret::Other(a) => *a,
        }
    }

    /// The public half.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        match &self.secret {
            Secret::Ed25519(k) => Ok(PublicKey::Ed25519(k.verifying_key())),
            Secret::P256(k) => Ok(PublicKey::EcdsaP256(*k.verifying_key())),
            Secret::Other(a) => Err(KeyError::CannotUse(*a)),
        }
    }

    /// Signs a message: ECDSA P-256 over SHA-256 (ASN.1 DER), or pure Ed25519.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use signature::Signer;
        match &self.secret {
            Secret::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.try_sign(message).map_err(|_| KeyError::Sign)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Secret::Other(a) => Err(KeyError::CannotUse(*a)),
        }
    }

    fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match &self.secret {
            Secret::Ed25519(k) => k.to_pkcs8_der(),
            Secret::P256(k) => k.to_pkcs8_der(),
            Secret::Other(a) => return Err(KeyError::CannotUse(*a)),
        }
        .map_err(|e| KeyError::Parse(e.to_string()))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The key in cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`,
    /// scrypt N=65536, r=8, p=1, NaCl secretbox). The empty password still encrypts.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pkcs8_der()?;
        let json = encrypt_envelope(&der, password)?;
        Ok(Zeroizing::new(pem_encode(
            SIGSTORE_PRIVATE_KEY_LABEL,
            &json,
        )))
    }
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` (SPKI) PEM.
    pub fn from_pem(text: &[u8]) -> Result<Self, KeyError> {
        let block = single_block(text)?;
        if block.label != "PUBLIC KEY" {
            return Err(KeyError::Pem(format!(
                "expected a PUBLIC KEY block, found {:?}",
                block.label
            )));
        }
        Self::from_spki_der(&block.body)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        use spki::DecodePublicKey;
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::Parse(format!("not a SubjectPublicKeyInfo ({e})")))?;
        let parse = |e: spki::Error| KeyError::Parse(format!("public key: {e}"));
        match info.algorithm.oid.to_string().as_str() {
            OID_ED25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::Ed25519)
                .map_err(parse),
            OID_EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| KeyError::Parse("EC key without a named curve".into()))?;
                match curve_algorithm(&curve.to_string())? {
                    KeyAlgorithm::EcdsaP256 => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map(PublicKey::EcdsaP256)
                        .map_err(parse),
                    KeyAlgorithm::EcdsaP384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map(PublicKey::EcdsaP384)
                        .map_err(parse),
                    other => Ok(PublicKey::Other(other, der.to_vec())),
                }
            }
            OID_RSA => {
                let rsa = pkcs1::RsaPublicKey::from_der(info.subject_public_key.raw_bytes())
                    .map_err(|e| KeyError::Parse(format!("RSA public key: {e}")))?;
                Ok(PublicKey::Other(
                    check_rsa_bits(rsa_bits(rsa.modulus.as_bytes()))?,
                    der.to_vec(),
                ))
            }
            other => Err(KeyError::Unsupported(format!("key algorithm {other}"))),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PublicKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            PublicKey::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
            PublicKey::EcdsaP384(_) => KeyAlgorithm::EcdsaP384,
            PublicKey::Other(a, _) => *a,
        }
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::EcdsaP256(k) => k.to_public_key_der(),
            PublicKey::EcdsaP384(k) => k.to_public_key_der(),
            PublicKey::Other(_, der) => return Ok(der.clone()),
        }
        .map_err(|e| KeyError::Parse(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// The `PUBLIC KEY` PEM text.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        Ok(pem_encode("PUBLIC KEY", &self.spki_der()?))
    }

    /// base64(SHA-256(DER SPKI)): the `publicKey.hint` of a Sigstore bundle.
    pub fn hint(&self) -> Result<String, KeyError> {
        Ok(STANDARD.encode(Sha256::digest(self.spki_der()?)))
    }

    /// Verifies a signature over `message`: ECDSA (DER, SHA-256 for P-256,
    /// SHA-384 for P-384) or pure Ed25519 (64 bytes).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        use signature::Verifier;
        let algorithm = self.algorithm();
        let malformed = |reason: &str| KeyError::MalformedSignature {
            algorithm,
            reason: reason.to_owned(),
        };
        match self {
            PublicKey::Ed25519(k) => {
                let bytes: [u8; 64] = signature
                    .try_into()
                    .map_err(|_| malformed(&format!("{} bytes, expected 64", signature.len())))?;
                k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                    .map_err(|_| KeyError::BadSignature(algorithm))
            }
            PublicKey::EcdsaP256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| malformed("not an ASN.1 DER ECDSA signature"))?;
                k.verify(message, &sig)
                    .map_err(|_| KeyError::BadSignature(algorithm))
            }
            PublicKey::EcdsaP384(k) => {
                let sig = p384::ecdsa::Signature::from_der(signature)
                    .map_err(|_| malformed("not an ASN.1 DER ECDSA signature"))?;
                k.verify(message, &sig)
                    .map_err(|_| KeyError::BadSignature(algorithm))
            }
            PublicKey::Other(a, _) => Err(KeyError::CannotUse(*a)),
        }
    }
}
