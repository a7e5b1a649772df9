//! Signing and verifying images: keys ([`key`]), cosign's simple-signing
//! payload ([`payload`]), cosign signature manifests at `sha256-<hex>.sig`
//! ([`cosign`]), Sigstore bundles stored as OCI 1.1 referrers ([`bundle`]),
//! keyless certificate checks against a trusted root ([`keyless`]), and the
//! verification constraints ([`verify`]).

pub mod bundle;
pub mod carry;
pub mod cosign;
pub mod key;
pub mod keyless;
pub mod payload;
pub mod verify;
