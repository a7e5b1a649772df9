//! SHA-256 throughput of `Digester` (sha2 with the CPU's SHA extensions when
//! present), against which the other costs are measured.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wasm_image::digest::Digester;

fn digest(c: &mut Criterion) {
    let data = vec![0x5au8; 16 << 20];
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("sha256_16MiB", |b| {
        b.iter(|| {
            let mut d = Digester::sha256();
            for chunk in data.chunks(256 << 10) {
                d.update(chunk);
            }
            d.finish()
        })
    });
    group.finish();
}

criterion_group!(benches, digest);
criterion_main!(benches);
