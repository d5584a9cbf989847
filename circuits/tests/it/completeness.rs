//! Completeness against the native reference on random sets.

use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{commit_slots, honest_instance, reference, CircuitError, Fr, SetOpening, Tier};

use crate::satisfied;

fn random_set(rng: &mut ChaCha20Rng, universe: u64, size: usize) -> Vec<u64> {
    let mut all: Vec<u64> = (0..universe)
        .map(|x| x.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    all.shuffle(rng);
    all.truncate(size);
    all
}

/// Proves every true bound k ∈ {overlap, overlap+1, N} and refuses k = overlap − 1.
fn check_pair(tier: Tier, a_ids: Vec<u64>, b_ids: Vec<u64>, rng: &mut ChaCha20Rng) {
    let a = SetOpening::with_random_salt(tier, a_ids, rng).unwrap();
    let b = SetOpening::with_random_salt(tier, b_ids, rng).unwrap();
    let overlap = reference::overlap(a.members(), b.members()) as u64;
    let context = Fr::from(rng.gen::<u64>());
    let n = tier.capacity() as u64;
    for k in [overlap, (overlap + 1).min(n), n] {
        let (public, witness) = honest_instance(&a, &b, k, context).unwrap();
        assert!(
            satisfied(tier, public, witness),
            "k = {k}, overlap = {overlap}"
        );
    }
    if overlap > 0 {
        assert_eq!(
            honest_instance(&a, &b, overlap - 1, context).unwrap_err(),
            CircuitError::OverlapExceedsK { k: overlap - 1 }
        );
    }
}

#[test]
fn random_sets_agree_with_reference() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    for tier in [Tier::new(4).unwrap(), Tier::new(16).unwrap()] {
        let n = tier.capacity();
        for _ in 0..6 {
            let (sa, sb) = (rng.gen_range(0..=n), rng.gen_range(0..=n));
            // A small universe forces overlaps of every size.
            let universe = (n as u64 * 3 / 2).max(sa.max(sb) as u64);
            let a = random_set(&mut rng, universe, sa);
            let b = random_set(&mut rng, universe, sb);
            check_pair(tier, a, b, &mut rng);
        }
    }
}

#[test]
fn edge_cases_empty_full_and_k_zero() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let tier = Tier::new(8).unwrap();
    let full: Vec<u64> = (100..108).collect();
    check_pair(tier, vec![], vec![], &mut rng);
    check_pair(tier, vec![], full.clone(), &mut rng);
    // Full and identical: overlap = N.
    check_pair(tier, full.clone(), full.clone(), &mut rng);
    // Full and disjoint: k = 0 holds.
    check_pair(tier, full, (200..208).collect(), &mut rng);
    // Extreme ids, including 0 and u64::MAX.
    check_pair(tier, vec![0, u64::MAX, 1], vec![u64::MAX, 0], &mut rng);
}

#[test]
fn native_and_circuit_commitments_agree() {
    // The circuit enforces the native commitment: an honest instance is
    // satisfied only if both computations agree (checked above); here also the
    // explicit slot form used by the circuit.
    let tier = Tier::new(5).unwrap();
    let a = SetOpening::new(tier, Fr::from(77u64), [3, 1, 2]).unwrap();
    assert_eq!(a.commitment(), commit_slots(tier, a.salt(), &a.slots()));
    let other_salt = SetOpening::new(tier, Fr::from(78u64), [1, 2, 3]).unwrap();
    assert_ne!(a.commitment(), other_salt.commitment());
}
