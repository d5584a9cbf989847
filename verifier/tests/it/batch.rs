//! The batch verifier: verdicts equal single verification's, for every backend.

use std::sync::{Arc, OnceLock};

use ark_bls12_381::Bls12_381;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::Groth16;
use base64::Engine as _;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{Fr, SetOpening, Tier};
use zktx_formats::KeyDir;
use zktx_prover::{generate_keys, prove_envelope, KeySource};
use zktx_verifier::{
    decode, verify_item, verify_single, BatchConfig, BatchItem, BatchVerifier, Invalid,
    KeyFingerprint, PairingBackend, PreparedKey, PreparedKeyRegistry, StatementDigest, Verdict,
    VerdictCache, VerdictKey,
};

use crate::points::{compressed, off_curve_x, off_subgroup_g1, off_subgroup_g2};

/// Tiers with keys in the fixture: three, so batches span several keys.
const TIERS: [usize; 3] = [1, 2, 4];

struct Fixture {
    _dir: tempfile::TempDir,
    registry: Arc<PreparedKeyRegistry>,
    /// Valid items, several per tier.
    valid: Vec<BatchItem>,
    /// Fingerprint of a second tier-4 key, also in the registry.
    other_key: String,
    /// A valid proof under the second key.
    other_valid: BatchItem,
    off_g1: Vec<u8>,
    off_g2: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path().join("keys"));
        let other = KeyDir::new(dir.path().join("other"));
        for capacity in TIERS {
            let tier = Tier::new(capacity).unwrap();
            keys.write(&generate_keys(tier, &KeySource::DevSeed("batch-it".into())).unwrap())
                .unwrap();
        }
        let tier4 = Tier::new(4).unwrap();
        other
            .write(&generate_keys(tier4, &KeySource::DevSeed("batch-other".into())).unwrap())
            .unwrap();
        let mut registry = PreparedKeyRegistry::load(&keys).unwrap();
        let other_key = registry
            .insert(PreparedKey::load(&other, tier4).unwrap())
            .key()
            .fingerprint()
            .to_owned();
        assert_eq!(registry.len(), 4);

        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let mut prove = |keys: &KeyDir, capacity: usize, k: u64, context: u64| {
            let tier = Tier::new(capacity).unwrap();
            let a = SetOpening::with_random_salt(tier, [7u64], &mut rng).unwrap();
            let b = SetOpening::with_random_salt(tier, [7u64], &mut rng).unwrap();
            let envelope = prove_envelope(keys, &a, &b, k, Fr::from(context), &mut rng).unwrap();
            BatchItem::from_envelope(&envelope).unwrap()
        };
        let mut valid = Vec::new();
        for capacity in TIERS {
            for context in 0..3 {
                valid.push(prove(
                    &keys,
                    capacity,
                    1 + context % capacity as u64,
                    context,
                ));
            }
        }
        let other_valid = prove(&other, 4, 2, 99);
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        Fixture {
            _dir: dir,
            registry: Arc::new(registry),
            valid,
            other_key,
            other_valid,
            off_g1: compressed(&off_subgroup_g1(&mut rng)),
            off_g2: compressed(&off_subgroup_g2(&mut rng)),
        }
    })
}

fn verifier(backend: PairingBackend) -> BatchVerifier {
    BatchVerifier::new(
        fixture().registry.clone(),
        BatchConfig {
            threads: 2,
            backend,
        },
    )
    .unwrap()
}

fn verdicts(verifier: &BatchVerifier, items: &[BatchItem]) -> Vec<Verdict> {
    let report = verifier.verify(items);
    assert_eq!(report.outcomes.len(), items.len());
    report.outcomes.into_iter().map(|o| o.verdict).collect()
}

fn reference(items: &[BatchItem]) -> Vec<Verdict> {
    items
        .iter()
        .map(|item| verify_item(&fixture().registry, item))
        .collect()
}

/// A valid proof of the same statement with other bytes.
fn rerandomised(item: &BatchItem, seed: u64) -> BatchItem {
    let fingerprint = KeyFingerprint::parse(&item.key).unwrap();
    let key = fixture().registry.get(&fingerprint).unwrap();
    let proof = decode::decode_proof(&item.proof).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let fresh = Groth16::<Bls12_381>::rerandomize_proof(&key.key().prepared().vk, &proof, &mut rng);
    BatchItem {
        proof: compressed(&fresh),
        ..item.clone()
    }
}

fn splice(item: &BatchItem, at: usize, with: &[u8]) -> BatchItem {
    let mut proof = item.proof.clone();
    proof[at..at + with.len()].copy_from_slice(with);
    BatchItem {
        proof,
        ..item.clone()
    }
}

/// One item of each kind the property test mixes, chosen by `kind` and `pick`.
fn item_of_kind(kind: u8, pick: usize) -> BatchItem {
    let f = fixture();
    let base = &f.valid[pick % f.valid.len()];
    match kind {
        0..=2 => base.clone(),
        3 => {
            // One flipped bit anywhere in the proof.
            let bit = pick % (8 * decode::PROOF_COMPRESSED);
            let mut proof = base.proof.clone();
            proof[bit / 8] ^= 1 << (bit % 8);
            BatchItem {
                proof,
                ..base.clone()
            }
        }
        4 => {
            let mut item = base.clone();
            if pick.is_multiple_of(2) {
                item.inputs.k += 1;
            } else {
                item.inputs.context = zktx_circuits::encoding::fr_to_hex(&Fr::from(1234u64));
            }
            item
        }
        // A proof made under one key, submitted under the other tier-4 key.
        5 if pick.is_multiple_of(2) => BatchItem {
            key: f.other_key.clone(),
            ..f.valid[f.valid.len() - 1].clone()
        },
        5 => f.other_valid.clone(),
        6 => match pick % 3 {
            0 => splice(base, 0, &compressed(&ark_bls12_381::G1Affine::default())),
            1 => splice(base, 48, &compressed(&ark_bls12_381::G2Affine::default())),
            _ => splice(base, 144, &compressed(&ark_bls12_381::G1Affine::default())),
        },
        7 => match pick % 3 {
            0 => splice(base, 0, &f.off_g1),
            1 => splice(base, 48, &f.off_g2),
            _ => splice(base, 144, &f.off_g1),
        },
        8 => match pick % 3 {
            0 => splice(base, 144, &off_curve_x()),
            1 => BatchItem {
                proof: base.proof[..pick % 192].to_vec(),
                ..base.clone()
            },
            _ => BatchItem {
                proof: vec![0xff; 192],
                ..base.clone()
            },
        },
        9 => BatchItem {
            key: if pick.is_multiple_of(2) {
                "00".repeat(32)
            } else {
                "not a fingerprint".into()
            },
            ..base.clone()
        },
        10 => {
            let mut item = base.clone();
            item.inputs.commit_b = hex::encode(Fr::MODULUS.to_bytes_be());
            item
        }
        _ => rerandomised(base, pick as u64),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random mixes of valid, tampered, re-keyed and undecodable proofs: every
    /// backend gives each item exactly the verdict single verification gives.
    #[test]
    fn batch_verdicts_equal_single_verdicts(
        mix in proptest::collection::vec((0u8..12, any::<usize>()), 0..24)
    ) {
        let items: Vec<BatchItem> = mix.iter().map(|(kind, pick)| item_of_kind(*kind, *pick)).collect();
        let expected = reference(&items);
        for backend in PairingBackend::ALL {
            prop_assert_eq!(&verdicts(&verifier(backend), &items), &expected, "backend {}", backend);
            let single: Vec<Verdict> = items
                .iter()
                .map(|item| verify_single(&fixture().registry, item, backend))
                .collect();
            prop_assert_eq!(&single, &expected, "single path on {}", backend);
        }
    }
}

#[test]
fn every_kind_of_item_gets_the_reference_verdict() {
    // Each kind at least once, so no kind depends on the property test's luck.
    let items: Vec<BatchItem> = (0u8..12)
        .flat_map(|kind| (0..3).map(move |pick| item_of_kind(kind, pick)))
        .collect();
    let expected = reference(&items);
    assert!(expected.iter().any(Verdict::is_valid));
    assert!(expected.contains(&Verdict::Invalid(Invalid::Rejected)));
    for backend in PairingBackend::ALL {
        assert_eq!(verdicts(&verifier(backend), &items), expected, "{backend}");
    }
}

#[test]
fn empty_batch_and_batch_of_one() {
    for backend in PairingBackend::ALL {
        let v = verifier(backend);
        let report = v.verify(&[]);
        assert!(report.outcomes.is_empty() && report.all_valid());
        let good = fixture().valid[0].clone();
        assert_eq!(verdicts(&v, std::slice::from_ref(&good)), [Verdict::Valid]);
        let mut bad = good;
        bad.inputs.k += 1;
        assert_eq!(verdicts(&v, &[bad]), [Verdict::Invalid(Invalid::Rejected)]);
    }
}

#[test]
fn batch_across_three_tiers_finds_one_bad_proof_in_each() {
    let f = fixture();
    let mut items = f.valid.clone();
    items.push(f.other_valid.clone());
    for backend in PairingBackend::ALL {
        let report = verifier(backend).verify(&items);
        assert!(report.all_valid(), "{backend}");
        assert_eq!(report.stats.batch_checks, 1, "one equation for every tier");
    }
    // One altered item per tier: exactly those three are rejected.
    let mut mixed = items.clone();
    for i in [0, 4, 8] {
        mixed[i].inputs.k += 1;
    }
    for backend in PairingBackend::ALL {
        let got = verdicts(&verifier(backend), &mixed);
        for (i, verdict) in got.iter().enumerate() {
            let expected = if [0, 4, 8].contains(&i) {
                Verdict::Invalid(Invalid::Rejected)
            } else {
                Verdict::Valid
            };
            assert_eq!(verdict, &expected, "{backend} item {i}");
        }
    }
}

#[test]
fn the_same_proof_twice_is_verified_once() {
    let item = fixture().valid[1].clone();
    let report = verifier(PairingBackend::default()).verify(&[item.clone(), item]);
    assert!(report.all_valid());
    assert_eq!(report.stats.duplicates, 1);
    assert_eq!(report.stats.decoded, 1);
    assert_eq!(report.outcomes[0], report.outcomes[1]);
}

#[test]
fn a_rerandomised_proof_is_a_new_submission_of_the_same_statement() {
    let original = fixture().valid[2].clone();
    let copy = rerandomised(&original, 7);
    assert_ne!(copy.proof, original.proof);
    let fingerprint = KeyFingerprint::parse(&original.key).unwrap();
    let inputs = decode::decode_public_inputs(&original.inputs).unwrap();
    assert_ne!(
        VerdictKey::new(&fingerprint, &inputs, &original.proof),
        VerdictKey::new(&fingerprint, &inputs, &copy.proof)
    );

    let cache = Arc::new(VerdictCache::default());
    let v = verifier(PairingBackend::default()).with_cache(cache.clone());
    let first = v.verify(std::slice::from_ref(&original));
    assert!(first.all_valid() && !first.outcomes[0].cached);
    // The re-randomised proof misses the cache but names the same statement.
    let second = v.verify(std::slice::from_ref(&copy));
    assert!(second.all_valid() && !second.outcomes[0].cached);
    let statement = StatementDigest::new(&fingerprint, &inputs);
    assert_eq!(first.outcomes[0].statement, Some(statement));
    assert_eq!(second.outcomes[0].statement, Some(statement));
    // The exact resubmission is answered from the cache.
    let third = v.verify(&[original]);
    assert!(third.all_valid() && third.outcomes[0].cached);
    assert_eq!(third.stats.cache_hits, 1);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (1, 2));
}

#[test]
fn cached_rejections_stay_rejections() {
    let mut bad = fixture().valid[3].clone();
    bad.inputs.k += 1;
    let v = verifier(PairingBackend::default()).with_cache(Arc::new(VerdictCache::default()));
    let rejected = [Verdict::Invalid(Invalid::Rejected)];
    assert_eq!(verdicts(&v, std::slice::from_ref(&bad)), rejected);
    let again = v.verify(&[bad]);
    assert!(again.outcomes[0].cached);
    assert_eq!(again.outcomes[0].verdict, rejected[0]);
}

#[test]
fn a_base64_proof_file_maps_to_its_item() {
    let item = &fixture().valid[0];
    let text = base64::engine::general_purpose::STANDARD.encode(&item.proof);
    assert_eq!(
        decode::decode_proof_base64(&text)
            .map(|p| compressed(&p))
            .unwrap(),
        item.proof
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Arbitrary bytes under a known key never panic the batch verifier, and
    /// get the reference verdict.
    #[test]
    fn arbitrary_bytes_never_panic_the_batch(
        proofs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
        k in any::<u64>(),
    ) {
        let base = &fixture().valid[0];
        let items: Vec<BatchItem> = proofs
            .into_iter()
            .map(|proof| {
                let mut item = BatchItem { proof, ..base.clone() };
                item.inputs.k = k;
                item
            })
            .collect();
        let expected = reference(&items);
        for backend in PairingBackend::ALL {
            prop_assert_eq!(&verdicts(&verifier(backend), &items), &expected);
        }
    }
}

#[test]
fn a_key_of_the_wrong_shape_verifies_nothing_and_panics_nothing() {
    let f = fixture();
    let item = f.valid[0].clone();
    let held = f
        .registry
        .get(&KeyFingerprint::parse(&item.key).unwrap())
        .unwrap();
    for extra in [false, true] {
        let mut vk = held.key().prepared().vk.clone();
        if extra {
            vk.gamma_abc_g1.push(vk.gamma_abc_g1[1]);
        } else {
            vk.gamma_abc_g1.pop();
        }
        let mut registry = PreparedKeyRegistry::new();
        let odd = registry.insert(PreparedKey::new(held.key().tier(), &vk, true));
        let registry = Arc::new(registry);
        // Three distinct proofs of the key's tier, so the batch equation runs.
        let items: Vec<BatchItem> = f.valid[..3]
            .iter()
            .map(|i| BatchItem {
                key: odd.key().fingerprint().to_owned(),
                ..i.clone()
            })
            .collect();
        let expected: Vec<Verdict> = items.iter().map(|i| verify_item(&registry, i)).collect();
        assert_eq!(expected[0], Verdict::Invalid(Invalid::Rejected));
        for backend in PairingBackend::ALL {
            let v = BatchVerifier::new(
                registry.clone(),
                BatchConfig {
                    threads: 2,
                    backend,
                },
            )
            .unwrap();
            assert_eq!(verdicts(&v, &items), expected, "{backend}");
            assert_eq!(verdicts(&v, &items[..1]), expected[..1], "{backend}");
        }
    }
}

#[test]
fn the_bench_floor_counts_what_decodes() {
    let good = &fixture().valid[0].proof;
    let proofs: Vec<&[u8]> = vec![good, &[1, 2, 3], good];
    for backend in PairingBackend::ALL {
        assert_eq!(zktx_verifier::per_proof_floor(backend, &proofs), 2);
    }
}
