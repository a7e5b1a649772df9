//! wasm-image: build, read and check WebAssembly OCI images.
//!
//! The crate models the Wasm image variants of spec/ ([`variant`], [`config`],
//! [`manifest`]), builds images ([`build`]), and keeps them in stores
//! ([`store`]): OCI layout directories and OCI archives.

pub mod build;
pub mod compat;
pub mod config;
pub mod conformance;
pub mod digest;
pub mod image;
pub mod json;
pub mod limits;
pub mod manifest;
pub mod media_type;
pub(crate) mod pipe;
pub mod registry;
pub mod rules;
pub mod sign;
#[cfg(feature = "sigstore")]
pub mod sigstore;
pub mod store;
pub mod target;
pub mod validate;
pub mod variant;
pub mod wasm;
