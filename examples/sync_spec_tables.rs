//! Regenerates the rules tables of `spec/*.md` (between `<!-- rules:AREA -->`
//! and `<!-- /rules -->`) from the catalogue in `src/rules.rs`.
//!
//! `cargo run --example sync_spec_tables` (tests/spec_tables.rs fails when a table drifts).

use std::fs;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = fs::read_to_string(&path)?;
        let (synced, _) = wasm_image::rules::sync_spec_tables(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if synced != text {
            fs::write(&path, synced)?;
            println!("updated {}", path.display());
        }
    }
    Ok(())
}
