//! Verifying an image's signatures, as composable constraints in the style
//! of sigstore-rs (`verify_constraints`): each signature found is checked in
//! order — its blobs against their digests (by the store reads), the signed
//! digest against the image's manifest digest, the signature over the raw
//! signed bytes (never re-serialised) with a key or a certificate, then the
//! required annotations — and the image is verified when at least one
//! signature passes every constraint.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;

use crate::digest::Digest;
use crate::limits::{MAX_SIGNATURE_BYTES, MAX_SIGNATURE_PAYLOAD_BYTES};
use crate::sign::bundle::{self, IN_TOTO_PAYLOAD_TYPE};
use crate::sign::cosign::{self, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, SignError};
use crate::sign::key::PublicKey;
use crate::sign::keyless::{self, KeylessPolicy};
use crate::sign::payload::SimpleSigning;
use crate::store::{self, ImageStore, Selector};

/// One signature as presented for checking.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The image whose signatures are being verified.
    pub image: Digest,
    /// The digest the signed content claims (payload or statement subject).
    pub claimed_digests: Vec<String>,
    /// The exact bytes the signature covers (simple-signing payload or DSSE PAE).
    pub signed_bytes: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The signed annotations (`optional`, or the statement subject's).
    pub annotations: BTreeMap<String, Value>,
    /// Keyless material: the layer annotations of a cosign signature.
    pub layer_annotations: BTreeMap<String, String>,
}

/// A check a signature must pass.
pub trait Constraint {
    /// Ok when the candidate satisfies the constraint, else the reason.
    fn check(&self, candidate: &Candidate) -> Result<Option<String>, String>;
}

/// The signed digest must be the image's manifest digest.
#[derive(Debug, Clone, Copy)]
pub struct DigestMatches;

impl Constraint for DigestMatches {
    fn check(&self, c: &Candidate) -> Result<Option<String>, String> {
        if c.claimed_digests.iter().any(|d| d == c.image.as_str()) {
            Ok(None)
        } else {
            Err(format!(
                "signed digest {} is not the image's manifest digest {}",
                if c.claimed_digests.is_empty() {
                    "(none)".to_owned()
                } else {
                    c.claimed_digests.join(", ")
                },
                c.image
            ))
        }
    }
}

/// The signature must verify with this public key.
#[derive(Debug, Clone)]
pub struct SignedByKey(pub PublicKey);

impl Constraint for SignedByKey {
    fn check(&self, c: &Candidate) -> Result<Option<String>, String> {
        self.0
            .verify(&c.signed_bytes, &c.signature)
            .map(|()| Some(format!("key {}", self.0.algorithm())))
            .map_err(|e| e.to_string())
    }
}

/// The signature must verify with a certificate chaining to the trusted
/// root, logged in Rekor (SET), for this identity and issuer.
pub struct SignedByCertificate<'a>(pub &'a KeylessPolicy);

impl Constraint for SignedByCertificate<'_> {
    fn check(&self, c: &Candidate) -> Result<Option<String>, String> {
        keyless::verify_cosign_keyless(self.0, c)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// These annotations must be signed with these values.
#[derive(Debug, Clone)]
pub struct AnnotationsRequired(pub Vec<(String, String)>);

impl Constraint for AnnotationsRequired {
    fn check(&self, c: &Candidate) -> Result<Option<String>, String> {
        for (k, v) in &self.0 {
            match c.annotations.get(k) {
                Some(Value::String(s)) if s == v => {}
                Some(other) => {
                    return Err(format!("annotation {k:?} is {other}, required {v:?}"));
                }
                None => return Err(format!("annotation {k:?} is not signed")),
            }
        }
        Ok(None)
    }
}

/// What the verifier trusts.
#[derive(Default)]
pub struct VerifyOptions {
    /// Verify key-based signatures with this key.
    pub key: Option<PublicKey>,
    /// Verify keyless signatures with this policy.
    pub keyless: Option<KeylessPolicy>,
    /// Annotations every accepted signature must carry.
    pub annotations: Vec<(String, String)>,
}

/// The verdict on one signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    /// `cosign-simple-signing` or `sigstore-bundle`.
    pub kind: &'static str,
    /// Where it was found.
    pub location: String,
    /// The blob holding it (payload or bundle).
    pub blob: String,
    /// Whether it passed every constraint.
    pub verified: bool,
    /// Who signed, when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Why not, when not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The verdict on an image.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The image's manifest digest.
    pub image: Digest,
    /// Whether at least one signature verified.
    pub verified: bool,
    /// Every signature found.
    pub signatures: Vec<SignatureReport>,
}

/// Decodes a base64 signature, tolerating whitespace (registries may fold
/// it), bounded by [`MAX_SIGNATURE_BYTES`].
pub fn decode_signature(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return Err(format!("signature is over {MAX_SIGNATURE_BYTES} bytes"));
    }
    STANDARD
        .decode(compact)
        .map_err(|_| "signature is not base64".to_owned())
}

/// Runs the constraints in order, stopping at the first failure.
pub fn check_constraints(
    candidate: &Candidate,
    constraints: &[&dyn Constraint],
) -> Result<Option<String>, String> {
    let mut signer = None;
    for constraint in constraints {
        if let Some(s) = constraint.check(candidate)? {
            signer = Some(s);
        }
    }
    Ok(signer)
}

/// Builds the candidate of a cosign signature layer from its payload bytes.
pub fn simple_signing_candidate(
    image: &Digest,
    payload: &[u8],
    layer_annotations: &BTreeMap<String, String>,
) -> Result<Candidate, String> {
    let claims = SimpleSigning::parse(payload).map_err(|e| e.to_string())?;
    let signature = layer_annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or_else(|| format!("layer has no {SIGNATURE_ANNOTATION} annotation"))?;
    let signature = decode_signature(signature)?;
    Ok(Candidate {
        image: image.clone(),
        claimed_digests: vec![claims.manifest_digest],
        signed_bytes: payload.to_vec(),
        signature,
        annotations: claims
            .optional
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
        layer_annotations: layer_annotations.clone(),
    })
}

/// Builds the candidate of a DSSE bundle.
pub fn bundle_candidate(image: &Digest, bundle_bytes: &[u8]) -> Result<Candidate, String> {
    let dsse = bundle::read_dsse(bundle_bytes)?;
    if dsse.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "DSSE payloadType {:?} is not {IN_TOTO_PAYLOAD_TYPE:?}",
            dsse.payload_type
        ));
    }
    let subjects = bundle::statement_subjects(&dsse.payload)?;
    let annotations = subjects
        .iter()
        .find(|(d, _)| d == image.as_str())
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    Ok(Candidate {
        image: image.clone(),
        claimed_digests: subjects.into_iter().map(|(d, _)| d).collect(),
        signed_bytes: bundle::pae(&dsse.payload_type, &dsse.payload),
        signature: dsse.signature,
        annotations,
        layer_annotations: BTreeMap::new(),
    })
}

/// Finds and checks every signature of an image: the cosign `.sig` manifest
/// and the Sigstore bundles among its referrers. `Err` only when the image
/// itself cannot be read; a bad signature is a report entry.
pub fn verify_image(
    store: &dyn ImageStore,
    selector: &Selector,
    options: &VerifyOptions,
) -> Result<VerifyReport, SignError> {
    let entry = cosign::resolve_subject(store, selector)?;
    let image = entry.digest;
    let mut reports = Vec::new();

    let key_constraint = options.key.clone().map(SignedByKey);
    let cert_constraint = options.keyless.as_ref().map(SignedByCertificate);
    let annotations = AnnotationsRequired(options.annotations.clone());

    match cosign::read_signature_manifest(store, &image) {
        Err(e) => reports.push(SignatureReport {
            kind: "cosign-simple-signing",
            location: store::signature_tag(&image),
            blob: String::new(),
            verified: false,
            signer: None,
            reason: Some(e.to_string()),
        }),
        Ok(None) => {}
        Ok(Some(manifest)) => {
            for layer in &manifest.layers {
                let location = format!("{} layer {}", store::signature_tag(&image), layer.index);
                let outcome = (|| {
                    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
                        return Err(format!(
                            "layer media type {:?} is not {SIMPLE_SIGNING_MEDIA_TYPE:?}",
                            layer.media_type
                        ));
                    }
                    let payload = store::read_blob(
                        store,
                        &layer.digest,
                        Some(layer.size),
                        MAX_SIGNATURE_PAYLOAD_BYTES,
                    )
                    .map_err(|e| format!("payload blob: {e}"))?;
                    let candidate = simple_signing_candidate(&image, &payload, &layer.annotations)?;
                    let keyless = layer
                        .annotations
                        .contains_key(cosign::CERTIFICATE_ANNOTATION);
                    let signer: &dyn Constraint = match (&key_constraint, &cert_constraint, keyless)
                    {
                        (_, Some(c), true) => c,
                        (Some(k), _, _) => k,
                        (None, Some(c), false) => c,
                        (None, None, _) => {
                            return Err("no key or certificate identity given".into());
                        }
                    };
                    check_constraints(&candidate, &[&DigestMatches, signer, &annotations])
                })();
                reports.push(report(
                    "cosign-simple-signing",
                    location,
                    &layer.digest,
                    outcome,
                ));
            }
        }
    }

    match bundle::find_bundles(store, &image) {
        Err(e) => reports.push(SignatureReport {
            kind: "sigstore-bundle",
            location: store::referrers_tag(&image),
            blob: String::new(),
            verified: false,
            signer: None,
            reason: Some(e.to_string()),
        }),
        Ok(found) => {
            for b in found {
                let location = format!("referrer {}", b.manifest);
                let outcome = b.bytes.and_then(|bytes| {
                    verify_bundle_for_image(&image, &bytes, options, &annotations)
                });
                reports.push(report("sigstore-bundle", location, &b.layer, outcome));
            }
        }
    }

    Ok(VerifyReport {
        image,
        verified: reports.iter().any(|r| r.verified),
        signatures: reports,
    })
}

fn verify_bundle_for_image(
    image: &Digest,
    bytes: &[u8],
    options: &VerifyOptions,
    annotations: &AnnotationsRequired,
) -> Result<Option<String>, String> {
    let candidate = bundle_candidate(image, bytes)?;
    let has_certificate = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("verificationMaterial").cloned())
        .is_some_and(|m| m.get("certificate").is_some() || m.get("x509CertificateChain").is_some());
    DigestMatches.check(&candidate)?;
    let signer = match (&options.key, &options.keyless, has_certificate) {
        (_, Some(policy), true) => keyless::verify_bundle_keyless(policy, image, bytes)?,
        (Some(key), _, _) => SignedByKey(key.clone()).check(&candidate)?,
        (None, _, false) => return Err("key-signed bundle and no key given".into()),
        (None, None, true) => return Err("keyless bundle and no certificate identity given".into()),
    };
    annotations.check(&candidate)?;
    Ok(signer)
}

fn report(
    kind: &'static str,
    location: String,
    blob: &Digest,
    outcome: Result<Option<String>, String>,
) -> SignatureReport {
    match outcome {
        Ok(signer) => SignatureReport {
            kind,
            location,
            blob: blob.to_string(),
            verified: true,
            signer,
            reason: None,
        },
        Err(reason) => SignatureReport {
            kind,
            location,
            blob: blob.to_string(),
            verified: false,
            signer: None,
            reason: Some(reason),
        },
    }
}
