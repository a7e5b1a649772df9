//! wasm-image: build, read and check WebAssembly OCI images.

pub mod rules;
pub mod wasm;
