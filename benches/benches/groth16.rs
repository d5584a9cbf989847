//! Setup, prove and verify per tier, and Groth16 on a plain multiplication chain
//! of the same size, all in one run (ratios are only meaningful within a run).
//!
//! `RAYON_NUM_THREADS` sets the thread count; `ZKTX_BENCH_TIERS=64,256` picks tiers.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::time::Duration;

use ark_bls12_381::{Bls12_381, Fr};
use ark_groth16::{prepare_verifying_key, Groth16};
use ark_snark::SNARK;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zktx_benches::{bench_tiers, full_sets, MultiplicationChain};
use zktx_circuits::{honest_instance, CircuitInfo, OverlapCircuit};
use zktx_formats::ProofEnvelope;
use zktx_prover::{generate_keys, KeySource};
use zktx_verifier::{verify_envelope, PreparedKey};

fn per_tier(c: &mut Criterion) {
    for tier in bench_tiers() {
        let info = CircuitInfo::measure(tier);
        eprintln!(
            "tier {}: {} constraints ({:.1} per slot), {} witness variables",
            tier.capacity(),
            info.constraints,
            info.constraints_per_slot(),
            info.witness_variables
        );
        let mut group = c.benchmark_group(format!("tier-{}", tier.capacity()));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(5));

        group.bench_function("setup", |b| {
            b.iter(|| generate_keys(tier, &KeySource::DevSeed("bench".into())).expect("setup"))
        });
        let keys = generate_keys(tier, &KeySource::DevSeed("bench".into())).expect("setup");
        let (a, bset, shared) = full_sets(tier, 7);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let context = Fr::from(99u64);

        // Witness generation (native check, slots, sort) is inside the timing.
        group.bench_function("prove", |b| {
            b.iter(|| {
                let (public, witness) =
                    honest_instance(&a, &bset, shared, context).expect("true statement");
                let circuit = OverlapCircuit::with_assignment(tier, public, witness);
                Groth16::<Bls12_381>::prove(&keys.proving_key, circuit, &mut rng).expect("prove")
            })
        });

        let chain = MultiplicationChain {
            constraints: info.constraints,
            start: Some(Fr::from(3u64)),
        };
        let (chain_pk, _) = Groth16::<Bls12_381>::circuit_specific_setup(
            MultiplicationChain {
                start: None,
                ..chain.clone()
            },
            &mut rng,
        )
        .expect("baseline setup");
        group.bench_function(BenchmarkId::new("baseline-prove", info.constraints), |b| {
            b.iter(|| {
                Groth16::<Bls12_381>::prove(&chain_pk, chain.clone(), &mut rng)
                    .expect("baseline prove")
            })
        });

        // Single-proof verification from the envelope: validated decode + pairing check.
        let (public, proof) =
            zktx_prover::prove(&keys.proving_key, &a, &bset, shared, context, &mut rng)
                .expect("prove");
        let envelope = ProofEnvelope::new(
            tier,
            keys.manifest.vk_fingerprint.clone(),
            &public,
            shared,
            &proof,
        );
        let key = PreparedKey::new(tier, &keys.verifying_key, true);
        group.bench_function("verify", |b| {
            b.iter(|| verify_envelope(&key, &envelope).expect("valid"))
        });
        let pvk = prepare_verifying_key(&keys.verifying_key);
        group.bench_function("verify-pairing-only", |b| {
            b.iter(|| {
                Groth16::<Bls12_381>::verify_proof(&pvk, &proof, &public.to_vec()).expect("verify")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, per_tier);
criterion_main!(benches);
