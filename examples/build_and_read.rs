//! Builds an image from a module into a layout, then reads it back.
//!
//! `cargo run --example build_and_read -- testdata/modules/hello.wasm target/example-layout`

use std::error::Error;

use wasm_image::build::ImageBuilder;
use wasm_image::image::Image;
use wasm_image::limits::Limits;
use wasm_image::store::{Layout, Selector};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let module = args
        .next()
        .unwrap_or_else(|| "testdata/modules/hello.wasm".into());
    let out = args
        .next()
        .unwrap_or_else(|| "target/example-layout".into());

    // Build: the variant is chosen from the module unless `.variant(...)` is called.
    let mut layout = Layout::open_or_create(&out)?;
    let built = ImageBuilder::new(&module)
        .annotation(
            "org.opencontainers.image.source",
            "https://example.com/hello",
        )
        .build(&mut layout, Some("v1"))?;
    println!(
        "built {} as {} ({})",
        built.manifest_digest, built.variant, built.reason
    );

    // Read: open the layout, select the image by tag, inspect its module.
    let layout = Layout::open(&out)?;
    let limits = Limits::default();
    let image = Image::open(&layout, &Selector::Tag("v1".into()), &limits)?;
    let module = image.inspect_module(&layout, &limits, true)?;
    println!(
        "{} image, {} layer(s), {:?} of {} bytes exporting {:?}",
        image.variant,
        image.manifest.layers().len(),
        module.kind,
        module.size,
        module.exports
    );
    Ok(())
}
