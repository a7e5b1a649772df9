//! Placeholder: Wasm module inspection (being written).
