//! Prover integration: keys → prove → Groth16 verification, and every public input is bound.

use ark_bls12_381::Bls12_381;
use ark_groth16::{prepare_verifying_key, Groth16};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{CircuitError, Fr, PublicInputs, SetOpening, Tier};
use zktx_formats::{FormatError, KeyDir};
use zktx_prover::{generate_keys, prove, prove_envelope, KeySource, ProverError};

mod keydir;

fn sets(tier: Tier) -> (SetOpening, SetOpening) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let a = SetOpening::with_random_salt(tier, [1, 2, 3, 4], &mut rng).unwrap();
    let b = SetOpening::with_random_salt(tier, [3, 4, 5], &mut rng).unwrap();
    (a, b)
}

#[test]
fn proofs_verify_and_bind_every_public_input() {
    let tier = Tier::new(4).unwrap();
    let keys = generate_keys(tier, &KeySource::DevSeed("it".into())).unwrap();
    let (a, b) = sets(tier);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (public, proof) = prove(&keys.proving_key, &a, &b, 2, Fr::from(77u64), &mut rng).unwrap();
    let pvk = prepare_verifying_key(&keys.verifying_key);
    let verify =
        |p: PublicInputs| Groth16::<Bls12_381>::verify_proof(&pvk, &proof, &p.to_vec()).unwrap();
    assert!(verify(public));
    // A public input that appeared in no constraint would leave this proof valid.
    let altered = [
        PublicInputs {
            commit_a: public.commit_a + Fr::from(1u64),
            ..public
        },
        PublicInputs {
            commit_b: public.commit_b + Fr::from(1u64),
            ..public
        },
        PublicInputs {
            k: Fr::from(3u64),
            ..public
        },
        PublicInputs {
            context: Fr::from(78u64),
            ..public
        },
    ];
    for p in altered {
        assert!(!verify(p), "altered input {p:?} still verifies");
    }
}

#[test]
fn false_statements_are_refused_before_proving() {
    let tier = Tier::new(4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyDir::new(dir.path());
    let (a, b) = sets(tier);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    // Refused even without keys: the statement is checked first.
    let err = prove_envelope(&keys, &a, &b, 1, Fr::from(0u64), &mut rng).unwrap_err();
    assert!(matches!(
        err,
        ProverError::Circuit(CircuitError::OverlapExceedsK { k: 1 })
    ));
    let err = prove_envelope(&keys, &a, &b, 2, Fr::from(0u64), &mut rng).unwrap_err();
    assert!(
        matches!(
            err,
            ProverError::Format(FormatError::KeysMissing { tier: 4, .. })
        ),
        "{err}"
    );
    keys.write(&generate_keys(tier, &KeySource::DevSeed("it".into())).unwrap())
        .unwrap();
    let envelope = prove_envelope(&keys, &a, &b, 2, Fr::from(0u64), &mut rng).unwrap();
    assert_eq!(envelope.tier, 4);
    assert_eq!(envelope.public_inputs.k, 2);
}

#[test]
fn a_mismatched_proving_key_is_caught_by_the_self_check() {
    let tier = Tier::new(4).unwrap();
    let mut keys = generate_keys(tier, &KeySource::DevSeed("one".into())).unwrap();
    let other = generate_keys(tier, &KeySource::DevSeed("two".into())).unwrap();
    keys.proving_key.vk = other.verifying_key;
    let (a, b) = sets(tier);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let err = prove(&keys.proving_key, &a, &b, 2, Fr::from(0u64), &mut rng).unwrap_err();
    assert!(matches!(err, ProverError::SelfCheckFailed));
}
