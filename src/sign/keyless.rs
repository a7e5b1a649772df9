//! Keyless cosign signatures checked offline: the leaf certificate of a
//! signature layer (`dev.sigstore.cosign/certificate`) must chain to a
//! certificate authority of a Sigstore trusted root file, the Rekor signed
//! entry timestamp (`dev.sigstore.cosign/bundle`) must verify with a
//! transparency log key of that root and describe this signature, the leaf
//! must have been valid at the entry's integrated time, and its identity
//! (SAN) and OIDC issuer must be the ones required.
//!
//! Written on `x509-cert`, `p256` and `p384` rather than the `sigstore`
//! crate: that crate's keyless cosign types cannot be built from local bytes
//! (`CertificateSignature` constructors are crate-private) and it would pull
//! an HTTP stack into the core. Not checked: SCTs, CRLs/OCSP (Sigstore has
//! none), inclusion proofs (the v1 annotation carries only the SET).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::{Decode, Encode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256, Sha384};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::digest::Digest;
use crate::limits::{MAX_CHAIN_LENGTH, MAX_JSON_DEPTH, MAX_TRUSTED_ROOT_BYTES};
use crate::sign::cosign::{BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION};
use crate::sign::key::{PublicKey, parse_pem_blocks};
use crate::sign::verify::{Candidate, decode_signature};

const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_SAN: &str = "2.5.29.17";

/// Why a keyless signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    /// The trusted root file is unusable.
    #[error("trusted root: {0}")]
    TrustedRoot(String),
    /// The certificate is malformed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The certificate does not chain to the trusted root.
    #[error("certificate does not chain to a certificate authority of the trusted root{0}")]
    Untrusted(String),
    /// The certificate was not valid at the log's integrated time.
    #[error(
        "certificate was not valid at the Rekor integrated time {time} (valid {not_before} to {not_after})"
    )]
    Expired {
        /// Integrated time (Unix seconds).
        time: u64,
        /// notBefore (Unix seconds).
        not_before: u64,
        /// notAfter (Unix seconds).
        not_after: u64,
    },
    /// The Rekor bundle is missing, malformed, not signed by a trusted log, or about another signature.
    #[error("Rekor bundle: {0}")]
    Rekor(String),
    /// Identity or issuer mismatch.
    #[error("{0}")]
    Identity(String),
    /// The signature does not verify with the certificate's key.
    #[error("signature: {0}")]
    Signature(String),
}

/// One certificate authority of a trusted root: its chain, leaf-most first.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// DER certificates, issuing CA first, root last.
    pub chain: Vec<Vec<u8>>,
    /// Validity of the CA in the root (Unix seconds), `None` for open.
    pub valid_for: (Option<u64>, Option<u64>),
}

/// One transparency log key.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// SHA-256 of the DER SPKI (the log ID).
    pub log_id: [u8; 32],
    /// The key.
    pub key: PublicKey,
    /// Validity (Unix seconds).
    pub valid_for: (Option<u64>, Option<u64>),
}

/// The parts of a Sigstore trusted root this module uses.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Fulcio certificate authorities.
    pub authorities: Vec<CertificateAuthority>,
    /// Rekor logs.
    pub logs: Vec<LogKey>,
    /// The raw JSON (for the `sigstore` feature's full verifier).
    pub json: Option<Vec<u8>>,
}

fn rfc3339_to_unix(s: &str) -> Option<u64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}

fn valid_for(v: Option<&Value>) -> (Option<u64>, Option<u64>) {
    let get = |k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .and_then(rfc3339_to_unix)
    };
    (get("start"), get("end"))
}

fn within(range: (Option<u64>, Option<u64>), t: u64) -> bool {
    range.0.is_none_or(|s| s <= t) && range.1.is_none_or(|e| t <= e)
}

impl TrustedRoot {
    /// Reads a trusted root JSON file (`application/vnd.dev.sigstore.trustedroot+json`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeylessError> {
        let bad = |m: String| KeylessError::TrustedRoot(m);
        let value: Value =
            crate::json::parse_bounded(bytes, MAX_TRUSTED_ROOT_BYTES, MAX_JSON_DEPTH)
                .map_err(|e| bad(e.to_string()))?;
        let mut root = TrustedRoot {
            json: Some(bytes.to_vec()),
            ..Default::default()
        };
        for ca in value
            .get("certificateAuthorities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let chain = ca
                .pointer("/certChain/certificates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("rawBytes").and_then(Value::as_str))
                .map(|b| {
                    STANDARD
                        .decode(b)
                        .map_err(|_| bad("certificate is not base64".into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !chain.is_empty() {
                root.authorities.push(CertificateAuthority {
                    chain,
                    valid_for: valid_for(ca.get("validFor")),
                });
            }
        }
        for log in value
            .get("tlogs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(raw) = log.pointer("/publicKey/rawBytes").and_then(Value::as_str) else {
                continue;
            };
            let der = STANDARD
                .decode(raw)
                .map_err(|_| bad("log key is not base64".into()))?;
            let Ok(key) = PublicKey::from_spki_der(&der) else {
                continue;
            };
            root.logs.push(LogKey {
                log_id: Sha256::digest(&der).into(),
                key,
                valid_for: valid_for(log.pointer("/publicKey/validFor")),
            });
        }
        Ok(root)
    }

    /// A root from PEM CA chains (each issuing-CA-first, root last; a single
    /// certificate is a chain of one) and PEM Rekor keys, with no validity limits.
    pub fn from_pem(
        ca_chains_pem: &[&[u8]],
        rekor_keys_pem: &[&[u8]],
    ) -> Result<Self, KeylessError> {
        let mut root = TrustedRoot::default();
        for pem in ca_chains_pem {
            let blocks =
                parse_pem_blocks(pem).map_err(|e| KeylessError::TrustedRoot(e.to_string()))?;
            let chain: Vec<Vec<u8>> = blocks
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.body.to_vec())
                .collect();
            root.authorities.push(CertificateAuthority {
                chain,
                valid_for: (None, None),
            });
        }
        for pem in rekor_keys_pem {
            let key =
                PublicKey::from_pem(pem).map_err(|e| KeylessError::TrustedRoot(e.to_string()))?;
            let der = key
                .spki_der()
                .map_err(|e| KeylessError::TrustedRoot(e.to_string()))?;
            root.logs.push(LogKey {
                log_id: Sha256::digest(&der).into(),
                key,
                valid_for: (None, None),
            });
        }
        Ok(root)
    }
}

/// What a keyless signature must satisfy.
#[derive(Debug, Clone)]
pub struct KeylessPolicy {
    /// The trusted root.
    pub trusted_root: TrustedRoot,
    /// Required certificate identity (SAN email or URI), exact.
    pub identity: String,
    /// Required OIDC issuer, exact. `None` skips the issuer check (library
    /// use for old certificates without the issuer extension; the CLI always sets it).
    pub issuer: Option<String>,
}

fn unix(t: x509_cert::time::Time) -> u64 {
    t.to_unix_duration().as_secs()
}

/// Verifies `cert`'s signature with `issuer`'s key.
fn check_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let key = PublicKey::from_spki_der(&spki).map_err(|e| e.to_string())?;
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let sig = cert.signature.raw_bytes();
    let digest: Vec<u8> = match cert.signature_algorithm.oid.to_string().as_str() {
        OID_ECDSA_SHA256 => Sha256::digest(&tbs).to_vec(),
        OID_ECDSA_SHA384 => Sha384::digest(&tbs).to_vec(),
        other => return Err(format!("signature algorithm {other} is not supported")),
    };
    use signature::hazmat::PrehashVerifier;
    let ok = match &key {
        PublicKey::EcdsaP256(k) => p256::ecdsa::Signature::from_der(sig)
            .ok()
            .is_some_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        PublicKey::EcdsaP384(k) => p384::ecdsa::Signature::from_der(sig)
            .ok()
            .is_some_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("certificate signature does not verify with its issuer's key".into())
    }
}

/// Checks that `leaf` chains to one of the root's authorities at `time`.
pub fn check_chain(root: &TrustedRoot, leaf: &Certificate, time: u64) -> Result<(), KeylessError> {
    let mut last = String::new();
    for ca in &root.authorities {
        if ca.chain.len() > MAX_CHAIN_LENGTH {
            last = format!(
                ": a CA chain is longer than {MAX_CHAIN_LENGTH} certificates (MAX_CHAIN_LENGTH)"
            );
            continue;
        }
        if !within(ca.valid_for, time) {
            continue;
        }
        let chain: Result<Vec<Certificate>, _> =
            ca.chain.iter().map(|d| Certificate::from_der(d)).collect();
        let Ok(chain) = chain else { continue };
        let mut child = leaf;
        let mut ok = true;
        for issuer in &chain {
            let v = &issuer.tbs_certificate.validity;
            if !(unix(v.not_before) <= time && time <= unix(v.not_after)) {
                ok = false;
                last = ": a CA certificate was not valid at the signing time".into();
                break;
            }
            if let Err(e) = check_issued_by(child, issuer) {
                ok = false;
                last = format!(" ({e})");
                break;
            }
            child = issuer;
        }
        if ok {
            return Ok(());
        }
    }
    Err(KeylessError::Untrusted(last))
}

/// The identity (SAN email or URI) and OIDC issuer of a Fulcio certificate.
pub fn certificate_identity(cert: &Certificate) -> (Vec<String>, Option<String>) {
    let mut identities = Vec::new();
    let mut issuer = None;
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_SAN => {
                if let Ok(san) = SubjectAltName::from_der(value) {
                    for name in san.0 {
                        match name {
                            GeneralName::Rfc822Name(s) => identities.push(s.to_string()),
                            GeneralName::UniformResourceIdentifier(s) => {
                                identities.push(s.to_string())
                            }
                            _ => {}
                        }
                    }
                }
            }
            OID_ISSUER_V2 => {
                if let Ok(s) = der::asn1::Utf8StringRef::from_der(value) {
                    issuer = Some(s.as_str().to_owned());
                }
            }
            OID_ISSUER_V1 if issuer.is_none() => {
                issuer = std::str::from_utf8(value).ok().map(str::to_owned);
            }
            _ => {}
        }
    }
    (identities, issuer)
}

/// Verifies the Rekor bundle annotation of a cosign signature: the SET with
/// a trusted log key, and that the logged entry is this signature, payload
/// and certificate. Returns the integrated time.
pub fn check_rekor_bundle(
    root: &TrustedRoot,
    bundle: &str,
    payload: &[u8],
    signature: &[u8],
    cert_der: &[u8],
) -> Result<u64, KeylessError> {
    let bad = |m: &str| KeylessError::Rekor(m.to_owned());
    let value: Value = crate::json::parse_bounded(bundle.as_bytes(), 1 << 20, MAX_JSON_DEPTH)
        .map_err(|e| KeylessError::Rekor(e.to_string()))?;
    let set = value
        .get("SignedEntryTimestamp")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no SignedEntryTimestamp"))?;
    let set = decode_signature(set).map_err(KeylessError::Rekor)?;
    let p = value.get("Payload").ok_or_else(|| bad("no Payload"))?;
    let body = p
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no body"))?;
    let integrated = p
        .get("integratedTime")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no integratedTime"))?;
    let log_index = p
        .get("logIndex")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no logIndex"))?;
    let log_id = p
        .get("logID")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no logID"))?;
    let canonical = crate::json::to_canonical_vec(&json!({
        "body": body,
        "integratedTime": integrated,
        "logID": log_id,
        "logIndex": log_index,
    }))
    .map_err(|e| KeylessError::Rekor(e.to_string()))?;
    let log = root
        .logs
        .iter()
        .find(|l| hex::encode(l.log_id) == log_id)
        .ok_or_else(|| bad("the entry's log is not in the trusted root"))?;
    if !within(log.valid_for, integrated) {
        return Err(bad("the log key was not valid at the integrated time"));
    }
    log.key
        .verify(&canonical, &set)
        .map_err(|_| bad("the signed entry timestamp does not verify with the log's key"))?;
    // The entry must be about this signature.
    let body = STANDARD
        .decode(body)
        .map_err(|_| bad("body is not base64"))?;
    let body: Value = crate::json::parse_bounded(&body, 1 << 20, MAX_JSON_DEPTH)
        .map_err(|e| KeylessError::Rekor(e.to_string()))?;
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != "hashedrekord" && kind != "rekord" {
        return Err(KeylessError::Rekor(format!(
            "entry kind {kind:?} is not rekord or hashedrekord"
        )));
    }
    let hash = body
        .pointer("/spec/data/hash/value")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("entry has no data hash"))?;
    if hash != hex::encode(Sha256::digest(payload)) {
        return Err(bad("the logged data hash is not the payload's"));
    }
    let logged_sig = body
        .pointer("/spec/signature/content")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("entry has no signature"))?;
    if decode_signature(logged_sig).ok().as_deref() != Some(signature) {
        return Err(bad("the logged signature is not this signature"));
    }
    let logged_key = body
        .pointer("/spec/signature/publicKey/content")
        .and_then(Value::as_str)
        .and_then(|k| STANDARD.decode(k).ok())
        .ok_or_else(|| bad("entry has no public key"))?;
    let logged_der = parse_pem_blocks(&logged_key)
        .ok()
        .and_then(|b| b.into_iter().next())
        .map(|b| b.body.to_vec());
    if logged_der.as_deref() != Some(cert_der) {
        return Err(bad("the logged certificate is not this certificate"));
    }
    Ok(integrated)
}

fn check_identity(policy: &KeylessPolicy, cert: &Certificate) -> Result<String, KeylessError> {
    let (identities, issuer) = certificate_identity(cert);
    if !identities.contains(&policy.identity) {
        return Err(KeylessError::Identity(format!(
            "certificate identity {} is not {:?}",
            if identities.is_empty() {
                "(none)".to_owned()
            } else {
                identities.join(", ")
            },
            policy.identity
        )));
    }
    if let Some(required) = &policy.issuer
        && issuer.as_deref() != Some(required.as_str())
    {
        return Err(KeylessError::Identity(format!(
            "certificate OIDC issuer {:?} is not {required:?}",
            issuer.unwrap_or_default(),
        )));
    }
    Ok(format!(
        "{} ({})",
        policy.identity,
        issuer.unwrap_or_else(|| "no issuer extension".into())
    ))
}

/// Verifies a keyless cosign signature layer offline.
pub fn verify_cosign_keyless(
    policy: &KeylessPolicy,
    c: &Candidate,
) -> Result<String, KeylessError> {
    verify_keyless_parts(policy, &c.layer_annotations, &c.signed_bytes, &c.signature)
}

/// Verifies keyless material given as cosign layer annotations.
pub fn verify_keyless_parts(
    policy: &KeylessPolicy,
    annotations: &BTreeMap<String, String>,
    payload: &[u8],
    signature: &[u8],
) -> Result<String, KeylessError> {
    let pem = annotations.get(CERTIFICATE_ANNOTATION).ok_or_else(|| {
        KeylessError::Certificate(format!("no {CERTIFICATE_ANNOTATION} annotation"))
    })?;
    let block = parse_pem_blocks(pem.as_bytes())
        .map_err(|e| KeylessError::Certificate(e.to_string()))?
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .ok_or_else(|| KeylessError::Certificate("no CERTIFICATE block".into()))?;
    let cert_der = block.body.to_vec();
    let cert =
        Certificate::from_der(&cert_der).map_err(|e| KeylessError::Certificate(e.to_string()))?;
    let bundle = annotations.get(BUNDLE_ANNOTATION).ok_or_else(|| {
        KeylessError::Rekor(format!(
            "no {BUNDLE_ANNOTATION} annotation: without a log entry the signing time cannot be established offline"
        ))
    })?;
    let time = check_rekor_bundle(&policy.trusted_root, bundle, payload, signature, &cert_der)?;
    let v = &cert.tbs_certificate.validity;
    let (nb, na) = (unix(v.not_before), unix(v.not_after));
    if !(nb <= time && time <= na) {
        return Err(KeylessError::Expired {
            time,
            not_before: nb,
            not_after: na,
        });
    }
    check_chain(&policy.trusted_root, &cert, time)?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| KeylessError::Certificate(e.to_string()))?;
    let key =
        PublicKey::from_spki_der(&spki).map_err(|e| KeylessError::Certificate(e.to_string()))?;
    key.verify(payload, signature)
        .map_err(|e| KeylessError::Signature(e.to_string()))?;
    check_identity(policy, &cert)
}

/// Verifies a keyless Sigstore bundle about an image (DSSE over an in-toto
/// statement) with the full Sigstore verifier. Needs the `sigstore` feature.
pub fn verify_bundle_keyless(
    policy: &KeylessPolicy,
    image: &Digest,
    bundle: &[u8],
) -> Result<Option<String>, String> {
    #[cfg(feature = "sigstore")]
    {
        let root = policy
            .trusted_root
            .json
            .as_deref()
            .ok_or("keyless bundles need a trusted root JSON file")?;
        let issuer = policy
            .issuer
            .clone()
            .ok_or("keyless bundles need a certificate OIDC issuer")?;
        crate::sigstore::verify_bundle(
            bundle,
            &crate::sigstore::Artifact::Digest(image.clone()),
            &crate::sigstore::Signer::Identity {
                identity: policy.identity.clone(),
                issuer,
            },
            root,
        )
        .map(|s| Some(s.signer))
        .map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "sigstore"))]
    {
        let _ = (policy, image, bundle);
        Err("keyless Sigstore bundles are verified only when wasm-image is built with the `sigstore` feature".into())
    }
}
