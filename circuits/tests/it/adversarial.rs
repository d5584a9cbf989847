//! Adversarial suite: a witness whose true overlap exceeds k must never satisfy
//! the constraint system, however S, the flags or k are chosen.

use ark_ff::{Field, PrimeField};
use proptest::prelude::*;
use zktx_circuits::{
    commit_slots,
    encoding::{encode_slot, field_to_u128, slot_to_field},
    Fr, OverlapWitness, PublicInputs, SetOpening, Tier,
};

use crate::satisfied;

const CAPACITY: usize = 8;
/// A = {10..16}, B = {14..20}: the true overlap is {14, 15, 16}, i.e. 3.
const TRUE_OVERLAP: u64 = 3;

struct FalseStatement {
    tier: Tier,
    public: PublicInputs,
    witness: OverlapWitness,
}

/// The statement |A ∩ B| ≤ k for k < 3, with the honest (sorted) witness.
fn false_statement(k: u64) -> FalseStatement {
    let tier = Tier::new(CAPACITY).unwrap();
    let a = SetOpening::new(tier, Fr::from(1111u64), 10..=16).unwrap();
    let b = SetOpening::new(tier, Fr::from(2222u64), 14..=20).unwrap();
    let public = PublicInputs {
        commit_a: a.commitment(),
        commit_b: b.commitment(),
        k: Fr::from(k),
        context: Fr::from(42u64),
    };
    let witness = OverlapWitness::from_slots(a.slots(), b.slots(), a.salt(), b.salt());
    FalseStatement {
        tier,
        public,
        witness,
    }
}

fn member(v: u64) -> Fr {
    slot_to_field(encode_slot(Some(v)))
}

fn resort(s: &mut [Fr]) {
    s.sort_by_key(|x| field_to_u128(x).unwrap_or(u128::MAX));
}

/// Rebuilds S honestly (sorted) from the witness's possibly edited slots.
fn resort_from_slots(w: &mut OverlapWitness) {
    *w = OverlapWitness::from_slots(w.a_slots.clone(), w.b_slots.clone(), w.salt_a, w.salt_b);
}

/// Index of the first copy of each value that occurs twice in S.
fn first_copies(s: &[Fr]) -> Vec<usize> {
    (0..s.len() - 1)
        .filter(|&j| s[j] == s[j + 1] && s[j] != Fr::from(0u64))
        .collect()
}

#[test]
fn the_true_bound_is_satisfiable_so_the_fixture_is_sound() {
    let st = false_statement(TRUE_OVERLAP);
    assert!(satisfied(st.tier, st.public, st.witness));
}

#[test]
fn honest_sort_with_a_false_bound_fails() {
    for k in 0..TRUE_OVERLAP {
        let st = false_statement(k);
        assert!(!satisfied(st.tier, st.public, st.witness), "k = {k}");
    }
}

#[test]
fn reordering_s_to_separate_equal_members_fails() {
    let mut st = false_statement(0);
    for j in first_copies(&st.witness.sorted) {
        st.witness.sorted.swap(j + 1, j + 2);
    }
    assert!(!satisfied(st.tier, st.public, st.witness.clone()));
    st.witness.sorted.reverse();
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn dropping_shared_members_from_s_fails() {
    let mut st = false_statement(0);
    for j in first_copies(&st.witness.sorted) {
        st.witness.sorted[j] = slot_to_field(encode_slot(None));
    }
    resort(&mut st.witness.sorted);
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn s_with_the_same_sum_but_another_multiset_fails() {
    // The multiset check must compare products: a sum would accept any S with
    // the same total. The shared pair 31, 31 (member 15 in both sets) becomes
    // 30, 32: the same sum, still sorted, no longer an equal active pair, so
    // the count drops to 2 = k while the true overlap stays 3.
    let mut st = false_statement(TRUE_OVERLAP - 1);
    let s = &mut st.witness.sorted;
    let at = s.iter().position(|x| *x == member(15)).unwrap();
    assert_eq!(s[at + 1], member(15));
    let sum_before: Fr = s.iter().sum();
    s[at] = member(15) - Fr::ONE;
    s[at + 1] = member(15) + Fr::ONE;
    assert_eq!(s.iter().sum::<Fr>(), sum_before, "the sum is kept");
    let sorted = s.clone();
    resort(s);
    assert_eq!(*s, sorted, "still sorted");
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn duplicating_other_entries_in_place_of_shared_ones_fails() {
    let mut st = false_statement(0);
    for j in first_copies(&st.witness.sorted) {
        st.witness.sorted[j] = member(10);
    }
    resort(&mut st.witness.sorted);
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn flipping_flags_fails_in_s_and_in_the_committed_slots() {
    let mut st = false_statement(0);
    for j in first_copies(&st.witness.sorted) {
        st.witness.sorted[j] -= Fr::from(1u64); // 2v+1 -> 2v: "inactive"
    }
    resort(&mut st.witness.sorted);
    assert!(!satisfied(st.tier, st.public, st.witness));

    // Flip the flags of A's shared members in its slots (the commitment stays).
    let mut st = false_statement(0);
    for slot in st.witness.a_slots.iter_mut() {
        if *slot == member(14) || *slot == member(15) || *slot == member(16) {
            *slot -= Fr::from(1u64);
        }
    }
    resort_from_slots(&mut st.witness);
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn splitting_equal_members_with_same_value_padding_fails() {
    // A malicious committer puts an inactive slot with value 14 (encoding 28)
    // into A's committed list, hoping to place it between the two 29s.
    let tier = Tier::new(CAPACITY).unwrap();
    let mut a_slots: Vec<Fr> = (10..=16u64).map(member).collect();
    a_slots.push(slot_to_field(encode_slot(Some(14)) - 1));
    let b = SetOpening::new(tier, Fr::from(2222u64), 14..=20).unwrap();
    let salt_a = Fr::from(1111u64);
    let public = PublicInputs {
        commit_a: commit_slots(tier, salt_a, &a_slots),
        commit_b: b.commitment(),
        k: Fr::from(2u64),
        context: Fr::from(42u64),
    };
    let honest = OverlapWitness::from_slots(a_slots, b.slots(), salt_a, b.salt());
    assert!(
        !satisfied(tier, public, honest.clone()),
        "sorted order still counts 3"
    );

    let mut split = honest;
    let pos28 = split
        .sorted
        .iter()
        .position(|x| *x == Fr::from(28u64))
        .unwrap();
    // Sorted order is [.., 28, 29, 29, ..]; move the 28 between the 29s.
    split.sorted.swap(pos28, pos28 + 1);
    assert!(!satisfied(tier, public, split));
}

#[test]
fn huge_negative_or_out_of_range_k_fails() {
    let n = Fr::from(CAPACITY as u64);
    let bits = Tier::new(CAPACITY).unwrap().count_bits();
    let candidates = [
        -Fr::from(1u64),
        -Fr::from(TRUE_OVERLAP),
        Fr::from(u64::MAX),
        Fr::from(2u64).pow([64]),
        n + Fr::from(1u64),
        // count + 2^bits would pass a wrapped range check on k − count alone.
        Fr::from(TRUE_OVERLAP) + Fr::from(1u64 << bits),
        Fr::from(-1i64) * Fr::from(2u64).inverse().unwrap(),
        Fr::from_le_bytes_mod_order(&[0xff; 32]),
    ];
    for k in candidates {
        let mut st = false_statement(0);
        st.public.k = k;
        assert!(!satisfied(st.tier, st.public, st.witness), "k = {k}");
    }
}

#[test]
fn s_entries_are_read_as_their_low_65_bits_only() {
    // An entry given as v + 2^65 is decomposed into 65 bits: the circuit sees
    // v and nothing above. With the true bound, the wide entries are the
    // honest S to the circuit...
    let shift = Fr::from(2u64).pow([65]);
    let widen = |st: &mut FalseStatement| {
        for j in first_copies(&st.witness.sorted) {
            st.witness.sorted[j] += shift;
        }
    };
    let mut st = false_statement(TRUE_OVERLAP);
    widen(&mut st);
    assert!(satisfied(st.tier, st.public, st.witness));
    // ...so a wide entry cannot stand for another value: a false bound stays
    // false with every k below the true overlap...
    for k in 0..TRUE_OVERLAP {
        let mut st = false_statement(k);
        widen(&mut st);
        assert!(!satisfied(st.tier, st.public, st.witness), "k = {k}");
    }
    // ...and one whose low 65 bits are another member breaks the multiset check.
    let mut st = false_statement(TRUE_OVERLAP);
    let j = first_copies(&st.witness.sorted)[0];
    st.witness.sorted[j] = member(30) + shift;
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn a_different_opening_of_the_same_commitment_fails() {
    // Claim A's commitment but open it to a set disjoint from B.
    let mut st = false_statement(0);
    st.witness.a_slots = (30..=36u64).map(member).chain([slot_to_field(0)]).collect();
    resort_from_slots(&mut st.witness);
    assert!(!satisfied(st.tier, st.public, st.witness));
}

#[test]
fn duplicates_within_a_committed_list_only_raise_the_count() {
    let tier = Tier::new(4).unwrap();
    let a_slots = vec![member(5), member(5), member(6), slot_to_field(0)];
    let b = SetOpening::new(tier, Fr::from(3u64), [5]).unwrap();
    let salt_a = Fr::from(9u64);
    let public = |k: u64| PublicInputs {
        commit_a: commit_slots(tier, salt_a, &a_slots),
        commit_b: b.commitment(),
        k: Fr::from(k),
        context: Fr::from(0u64),
    };
    let w = OverlapWitness::from_slots(a_slots.clone(), b.slots(), salt_a, b.salt());
    assert!(!satisfied(tier, public(0), w.clone()));
    assert!(
        !satisfied(tier, public(1), w.clone()),
        "count is 2 with the repeat"
    );
    assert!(satisfied(tier, public(2), w));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random rewrites of S (swaps and substitutions) never rescue a false bound.
    #[test]
    fn random_rewrites_of_s_never_satisfy(
        k in 0u64..TRUE_OVERLAP,
        swaps in proptest::collection::vec((0usize..16, 0usize..16), 0..4),
        subs in proptest::collection::vec((0usize..16, 0u64..40, any::<bool>()), 0..3),
        sort_after in any::<bool>(),
    ) {
        let mut st = false_statement(k);
        for (i, j) in swaps {
            st.witness.sorted.swap(i, j);
        }
        for (i, v, active) in subs {
            st.witness.sorted[i] = slot_to_field(if active { encode_slot(Some(v)) } else { 2 * u128::from(v) });
        }
        if sort_after {
            resort(&mut st.witness.sorted);
        }
        prop_assert!(!satisfied(st.tier, st.public, st.witness));
    }
}
