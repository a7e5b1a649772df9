//! `ImageBuilder::build` of a module of a few MiB, as cncf (one pass: hash,
//! inspect and store) and as compat-oci (gzip tar layer).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wasm_image::build::ImageBuilder;
use wasm_image::store::Layout;
use wasm_image::variant::Variant;

fn build(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let module = common::module(4 << 20, 50);
    let wasm = dir.path().join("module.wasm");
    std::fs::write(&wasm, &module).expect("write module");
    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(module.len() as u64));
    for variant in [Variant::Cncf, Variant::CompatOci] {
        group.bench_function(format!("{variant}_4MiB"), |b| {
            b.iter_batched(
                || tempfile::tempdir().expect("temp dir"),
                |out| {
                    let mut layout = Layout::open_or_create(out.path().join("l")).expect("layout");
                    ImageBuilder::new(&wasm)
                        .variant(variant)
                        .build(&mut layout, Some("latest"))
                        .expect("build")
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
