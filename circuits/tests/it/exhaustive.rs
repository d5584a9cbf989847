//! Exhaustive small tiers: at tiers 1 and 2, every pair of slot lists over
//! the encodings 0..=5 (members 0, 1, 2 active as `2v + 1`, inactive as
//! `2v`; so duplicates within a list, same-id padding and inactive
//! collisions with active members all occur), committed honestly with S
//! sorted, and every k from 0 to N + 1: the circuit is satisfied exactly when
//! the count of equal active neighbours in S is at most k and k is at most N,
//! and that count is never below the true overlap of the active members.
//!
//! The sweep runs on rayon's pool, one list A per task: arkworks' own
//! parallel loops (the `parallel` feature the prover enables) then run on the
//! worker that calls them, instead of each of the 20,000 syntheses handing
//! its work to the pool from the test's thread and sleeping until it is
//! done, which cost minutes on 2 cores in wake-ups alone.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use zktx_circuits::{
    commit_slots, encoding::slot_to_field, Fr, OverlapWitness, PublicInputs, Tier,
};

use crate::satisfied;

const ENCODINGS: u128 = 6;

/// Every list of `n` slots over the encodings.
fn lists(n: usize) -> Vec<Vec<u128>> {
    (0..ENCODINGS.pow(n as u32))
        .map(|mut code| {
            (0..n)
                .map(|_| {
                    let e = code % ENCODINGS;
                    code /= ENCODINGS;
                    e
                })
                .collect()
        })
        .collect()
}

/// What the circuit counts: for each active encoding, its copies in A and B
/// together, less one.
fn counted(a: &[u128], b: &[u128]) -> u64 {
    let mut copies: BTreeMap<u128, u64> = BTreeMap::new();
    for e in a.iter().chain(b).filter(|e| *e % 2 == 1) {
        *copies.entry(*e).or_default() += 1;
    }
    copies.values().map(|c| c - 1).sum()
}

/// The true overlap of the members active in A and in B.
fn overlap(a: &[u128], b: &[u128]) -> u64 {
    let active = |l: &[u128]| {
        l.iter()
            .filter(|e| *e % 2 == 1)
            .copied()
            .collect::<BTreeSet<_>>()
    };
    active(a).intersection(&active(b)).count() as u64
}

fn sweep(capacity: usize) -> usize {
    let tier = Tier::new(capacity).unwrap();
    let (salt_a, salt_b) = (Fr::from(17u64), Fr::from(23u64));
    let every = lists(capacity);
    every
        .par_iter()
        .map(|a| {
            let a_slots: Vec<Fr> = a.iter().map(|e| slot_to_field(*e)).collect();
            let commit_a = commit_slots(tier, salt_a, &a_slots);
            let mut checked = 0;
            for b in &every {
                let b_slots: Vec<Fr> = b.iter().map(|e| slot_to_field(*e)).collect();
                let commit_b = commit_slots(tier, salt_b, &b_slots);
                let witness = OverlapWitness::from_slots(a_slots.clone(), b_slots, salt_a, salt_b);
                let count = counted(a, b);
                assert!(
                    count >= overlap(a, b),
                    "{a:?} {b:?}: the count misses a shared member"
                );
                for k in 0..=capacity as u64 + 1 {
                    let public = PublicInputs {
                        commit_a,
                        commit_b,
                        k: Fr::from(k),
                        context: Fr::from(5u64),
                    };
                    let expected = count <= k && k <= capacity as u64;
                    assert_eq!(
                        satisfied(tier, public, witness.clone()),
                        expected,
                        "tier {capacity}, A {a:?}, B {b:?}, k {k} (count {count})"
                    );
                    checked += 1;
                }
            }
            checked
        })
        .sum()
}

#[test]
fn tier_1_every_pair_of_lists_and_every_k() {
    assert_eq!(sweep(1), 6 * 6 * 3);
}

#[test]
fn tier_2_every_pair_of_lists_and_every_k() {
    assert_eq!(sweep(2), 36 * 36 * 4);
}
