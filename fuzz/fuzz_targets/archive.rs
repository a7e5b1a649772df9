//! Archive reading: the input is an OCI archive (a tar file), opened with
//! `Archive::open` and validated leniently with `validate_path`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_image::image::Image;
use wasm_image::limits::Limits;
use wasm_image::store::{Archive, Selector};
use wasm_image::validate::{self, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = wasm_image_fuzz::scratch_dir() else {
        return;
    };
    let path = dir.path().join("image.tar");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let options = Options::default();
    let _ = validate::validate_path(&path, None, &options);
    if let Ok(archive) = Archive::open(&path) {
        let _ = validate::validate(&archive, None, &options);
        let limits = Limits::default();
        if let Ok(image) = Image::open(&archive, &Selector::Only, &limits) {
            let _ = image.inspect_module(&archive, &limits, true);
        }
    }
});
