//! `validate_path` of a layout holding one image of a few MiB (full Wasm
//! validation; half code, half custom section), and of a layout holding
//! 1,000 small images (validated on every core).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wasm_image::build::ImageBuilder;
use wasm_image::store::Layout;
use wasm_image::validate::{Options, validate_path};
use wasm_image::variant::Variant;

fn validate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let module = common::module(8 << 20, 50);
    let root = common::layout_with(dir.path(), &module, Variant::Cncf);
    let options = Options::default();
    let mut group = c.benchmark_group("validate");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(module.len() as u64));
    group.bench_function("cncf_8MiB", |b| {
        b.iter(|| {
            let report = validate_path(&root, None, &options).expect("validate");
            assert!(report.valid());
        })
    });

    // 1,000 images of 16 KiB modules, each different.
    let many = dir.path().join("many");
    let mut layout = Layout::open_or_create(&many).expect("layout");
    let mut total = 0u64;
    for i in 0..1000u32 {
        let mut m = common::module(16 << 10, 50);
        // A custom section named after the image, so that every module differs.
        m.extend_from_slice(&[0x00, 0x05, 0x04]);
        m.extend_from_slice(format!("{i:04}").as_bytes());
        total += m.len() as u64;
        let wasm = dir.path().join("small.wasm");
        std::fs::write(&wasm, &m).expect("write module");
        ImageBuilder::new(&wasm)
            .variant(Variant::Cncf)
            .build(&mut layout, Some(&format!("v{i}")))
            .expect("build");
    }
    group.throughput(Throughput::Bytes(total));
    group.sample_size(10);
    group.bench_function("layout_1000_images", |b| {
        b.iter(|| {
            let report = validate_path(&many, None, &options).expect("validate");
            assert!(report.valid());
        })
    });
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
