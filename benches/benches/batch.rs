//! Batch verification against the single path, in one run so ratios hold:
//! for N proofs, the single path per backend (validated decode + verification
//! with a prepared key, one thread), the batch on 1 and 2 threads per backend,
//! the batch with one invalid proof, and the cache-hit path.
//!
//! `ZKTX_BENCH_BATCH_SIZES=1,10,100` picks the sizes (default 1,10,100,200,500).

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::{sync::Arc, time::Duration};

use criterion::{
    criterion_group, criterion_main, measurement::WallTime, BenchmarkGroup, BenchmarkId, Criterion,
    SamplingMode, Throughput,
};
use rayon::{ThreadPool, ThreadPoolBuilder};
use zktx_benches::batch_fixture;
use zktx_verifier::{
    per_proof_floor, verify_item, verify_single, BatchConfig, BatchItem, BatchVerifier,
    PairingBackend, Verdict, VerdictCache,
};

fn sizes() -> Vec<usize> {
    std::env::var("ZKTX_BENCH_BATCH_SIZES")
        .unwrap_or_else(|_| "1,10,100,200,500".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|n| (1..=500).contains(n))
        .collect()
}

/// Times verifying `items` one by one on `pool` with `verify`.
fn bench_single(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    items: &[BatchItem],
    pool: &ThreadPool,
    verify: impl Fn(&BatchItem) -> Verdict + Sync,
) {
    group.bench_with_input(BenchmarkId::new(name, items.len()), items, |b, items| {
        b.iter(|| pool.install(|| items.iter().filter(|item| verify(item).is_valid()).count()))
    });
}

fn batch(c: &mut Criterion) {
    let fixture = batch_fixture(20, 500);
    let registry = fixture.registry.clone();
    let one_thread = ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let verifier = |threads, backend| {
        BatchVerifier::new(registry.clone(), BatchConfig { threads, backend }).expect("pool")
    };

    let mut group = c.benchmark_group("batch");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in sizes() {
        let items = &fixture.items[..n];
        let mut one_invalid: Vec<BatchItem> = items.to_vec();
        one_invalid[n / 2].inputs.k += 1;
        group.throughput(Throughput::Elements(n as u64));

        // The single path, one proof after another on one thread.
        let reference = |item: &BatchItem| verify_item(&registry, item);
        bench_single(
            &mut group,
            "single/ark-groth16".into(),
            items,
            &one_thread,
            reference,
        );
        for backend in PairingBackend::ALL {
            let single = |item: &BatchItem| verify_single(&registry, item, backend);
            bench_single(
                &mut group,
                format!("single/{backend}"),
                items,
                &one_thread,
                single,
            );
            // Decode + 128-bit scaling + one Miller pair per proof: the batch's floor.
            let proofs: Vec<&[u8]> = items.iter().map(|item| item.proof.as_slice()).collect();
            group.bench_with_input(
                BenchmarkId::new(format!("floor/{backend}/t1"), n),
                &proofs,
                |b, proofs| b.iter(|| one_thread.install(|| per_proof_floor(backend, proofs))),
            );
            for threads in [1, 2] {
                let v = verifier(threads, backend);
                group.bench_with_input(
                    BenchmarkId::new(format!("batch/{backend}/t{threads}"), n),
                    items,
                    |b, items| b.iter(|| assert!(v.verify(items).all_valid())),
                );
            }
            let v = verifier(2, backend);
            group.bench_with_input(
                BenchmarkId::new(format!("one-invalid/{backend}/t2"), n),
                &one_invalid,
                |b, items| b.iter(|| assert!(!v.verify(items).all_valid())),
            );
        }
        let cached =
            verifier(2, PairingBackend::default()).with_cache(Arc::new(VerdictCache::default()));
        assert!(cached.verify(items).all_valid());
        group.bench_with_input(BenchmarkId::new("cache-hit/t2", n), items, |b, items| {
            b.iter(|| {
                let report = cached.verify(items);
                assert_eq!(report.stats.cache_hits, items.len());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
