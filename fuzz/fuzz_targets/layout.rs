//! Layout opening: the input is split into `oci-layout`, `index.json` and
//! blobs (see `wasm_image_fuzz::layout_files`), written as a layout directory,
//! then validated leniently (`validate_path`), opened strictly (`Layout::open`)
//! and its signatures looked up (`verify_image`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::image::Image;
use wasm_image::limits::Limits;
use wasm_image::sign::verify;
use wasm_image::store::{ImageStore, Layout, Selector};
use wasm_image::validate::{self, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = wasm_image_fuzz::scratch_dir() else {
        return;
    };
    if wasm_image_fuzz::write_layout(dir.path(), data).is_err() {
        return;
    }
    let options = Options::default();
    let _ = validate::validate_path(dir.path(), None, &options);
    if let Ok(layout) = Layout::open(dir.path()) {
        let _ = validate::validate(&layout, None, &options);
        let limits = Limits::default();
        if let Ok(index) = layout.root_index() {
            let _ = index.entries();
        }
        if let Ok(image) = Image::open(&layout, &Selector::Only, &limits) {
            let _ = image.inspect_module(&layout, &limits, true);
        }
        // Signature manifests (`sha256-<hex>.sig`) and referrer bundles.
        let _ = verify::verify_image(&layout, &Selector::Only, &verify::VerifyOptions::default());
    }
});
