//! Targeted lies in the helper values the gadgets compute for the prover:
//! equality flags and their inverses, the AND outputs that count shared
//! values, and the bits of the range checks (sortedness, `k − count`,
//! `N − k`). Each lie changes several variables so that every relation but
//! the one meant to catch it still holds (a flag and the count it feeds, a
//! bit vector and the value it packs to), and the system must be unsatisfied.
//!
//! The variables are found by the circuit's layout at its tail, which
//! [`Layout::of`] derives from the tier and then checks against the honest
//! assignment, value by value: a change in the circuit's layout fails here
//! rather than editing the wrong variables.

use std::ops::Range;

use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField, UniformRand};
use rand::SeedableRng;
use zktx_circuits::{encoding::DIFF_BITS, Fr, OverlapWitness, PublicInputs, Tier};

use crate::malicious::{instance, Synthesized};

/// The witness variables of one adjacent pair `(s_j, s_{j+1})` of S.
struct Pair {
    /// The bits of `s_{j+1} − s_j` (the sortedness range check).
    diff_bits: Range<usize>,
    /// `is_neq`'s output: 1 when the pair differs.
    not_equal: usize,
    /// `is_neq`'s multiplier: the inverse of `0 − diff` (is_zero compares the
    /// constant 0 with the difference), 1 when the difference is zero.
    inverse: usize,
    /// `equal AND bit0(s_j)`: 1 when the pair is a shared active value.
    shared: usize,
}

/// Where the helper values sit: after the Poseidon and product witnesses,
/// one [`Pair`] per adjacent pair of S, then the bits of `k − count`, then the
/// bits of `N − k`, which end the assignment.
struct Layout {
    pairs: Vec<Pair>,
    k_minus_count: Range<usize>,
    n_minus_k: Range<usize>,
}

fn bits_of(x: Fr, n: usize) -> Vec<Fr> {
    let bigint = x.into_bigint();
    (0..n).map(|i| Fr::from(bigint.get_bit(i))).collect()
}

fn flag(b: bool) -> Fr {
    Fr::from(b)
}

impl Layout {
    /// The layout for `tier`, checked against the honest values of `s`,
    /// synthesized from `public` and `witness`.
    fn of(tier: Tier, s: &Synthesized, public: &PublicInputs, witness: &OverlapWitness) -> Self {
        let n = tier.capacity();
        let bits = tier.count_bits();
        let end = s.witnesses();
        let n_minus_k = end - bits..end;
        let k_minus_count = end - 2 * bits..end - bits;
        let per_pair = DIFF_BITS + 3;
        let first = k_minus_count.start - (2 * n - 1) * per_pair;
        let pairs: Vec<Pair> = (0..2 * n - 1)
            .map(|j| {
                let at = first + j * per_pair;
                Pair {
                    diff_bits: at..at + DIFF_BITS,
                    not_equal: at + DIFF_BITS,
                    inverse: at + DIFF_BITS + 1,
                    shared: at + DIFF_BITS + 2,
                }
            })
            .collect();
        let layout = Self {
            pairs,
            k_minus_count,
            n_minus_k,
        };
        // The honest values say whether each index is what it is named.
        let sorted = &witness.sorted;
        let mut count = 0u64;
        for (j, pair) in layout.pairs.iter().enumerate() {
            let diff = sorted[j + 1] - sorted[j];
            let equal = diff == Fr::ZERO;
            let active = sorted[j].into_bigint().get_bit(0);
            assert_eq!(
                layout.values(s, pair.diff_bits.clone()),
                bits_of(diff, DIFF_BITS),
                "pair {j}: diff bits"
            );
            assert_eq!(
                s.honest(pair.not_equal),
                flag(!equal),
                "pair {j}: not-equal flag"
            );
            assert_eq!(
                s.honest(pair.inverse),
                (-diff).inverse().unwrap_or(Fr::ONE),
                "pair {j}: inverse"
            );
            assert_eq!(
                s.honest(pair.shared),
                flag(equal && active),
                "pair {j}: shared flag"
            );
            count += u64::from(equal && active);
        }
        let k_minus_count = public.k - Fr::from(count);
        assert_eq!(
            layout.values(s, layout.k_minus_count.clone()),
            bits_of(k_minus_count, bits),
            "bits of k − count"
        );
        let n_minus_k = Fr::from(n as u64) - public.k;
        assert_eq!(
            layout.values(s, layout.n_minus_k.clone()),
            bits_of(n_minus_k, bits),
            "bits of N − k"
        );
        layout
    }

    fn values(&self, s: &Synthesized, range: Range<usize>) -> Vec<Fr> {
        range.map(|i| s.honest(i)).collect()
    }

    /// The index of the first pair whose shared flag is `shared` and whose
    /// equality is `equal`.
    fn pair(&self, s: &Synthesized, equal: bool, shared: bool) -> &Pair {
        self.pairs
            .iter()
            .find(|p| s.honest(p.not_equal) == flag(!equal) && s.honest(p.shared) == flag(shared))
            .expect("the instance has such a pair")
    }
}

/// Edits that write `bits` into `range`.
fn write(range: Range<usize>, bits: Vec<Fr>) -> Vec<(usize, Fr)> {
    range.zip(bits).collect()
}

/// A bit vector packing to `value` over `n` bits, but with a non-boolean
/// entry: `value` itself in bit 0 and zeros above (a "bit" outside {0, 1}).
fn packing_lie(value: Fr, n: usize) -> Vec<Fr> {
    let mut bits = vec![Fr::ZERO; n];
    bits[0] = value;
    bits
}

/// Asserts that `lie` breaks exactly `guards` constraints of `s`: the ones
/// meant to catch it, and none of the relations the lie was built to keep.
#[track_caller]
fn assert_caught(s: &Synthesized, lie: &[(usize, Fr)], guards: usize, what: &str) {
    assert_eq!(s.unsatisfied_with(lie, &[]), guards, "{what}");
    assert!(!s.satisfied_with(lie, &[]), "{what}");
}

/// The statement's `k − count` with a claimed count.
fn k_minus(public: &PublicInputs, count: u64) -> Fr {
    public.k - Fr::from(count)
}

#[test]
fn a_shared_pair_claimed_unequal_is_caught() {
    // A = {5, 9}, B = {5, 12}: one shared value, k = 1. The lie hides the
    // shared pair: not-equal flag 1 with any inverse, shared flag 0, and
    // `k − count` bits for a count of 0, so the count no longer sees it.
    let (tier, public, witness) = instance(2, &[5, 9], &[5, 12], 1, 21);
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    let pair = layout.pair(&s, true, true);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(22);
    for inverse in [Fr::ZERO, Fr::ONE, Fr::rand(&mut rng)] {
        let mut lie = vec![
            (pair.not_equal, Fr::ONE),
            (pair.inverse, inverse),
            (pair.shared, Fr::ZERO),
        ];
        lie.extend(write(
            layout.k_minus_count.clone(),
            bits_of(k_minus(&public, 0), tier.count_bits()),
        ));
        assert_caught(&s, &lie, 1, "a shared pair hidden behind a not-equal flag");
    }
}

#[test]
fn a_shared_flag_dropped_on_an_equal_active_pair_is_caught() {
    // The equality is told honestly, but the AND output says "not shared"
    // and the count drops with it.
    let (tier, public, witness) = instance(2, &[5, 9], &[5, 12], 1, 23);
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    let pair = layout.pair(&s, true, true);
    let mut lie = vec![(pair.shared, Fr::ZERO)];
    lie.extend(write(
        layout.k_minus_count.clone(),
        bits_of(k_minus(&public, 0), tier.count_bits()),
    ));
    assert_caught(&s, &lie, 1, "a shared pair's AND output set to 0");
    // A non-boolean AND output, −1, that makes the count "negative" so that
    // k − count = 2 packs honestly.
    let mut lie = vec![(pair.shared, -Fr::ONE)];
    lie.extend(write(
        layout.k_minus_count.clone(),
        bits_of(public.k + Fr::ONE, tier.count_bits()),
    ));
    assert_caught(&s, &lie, 1, "a shared pair's AND output set to −1");
}

#[test]
fn a_padding_pair_counted_as_shared_is_caught() {
    // A = B = {5} at tier 2: S = [pad, pad, 2·5+1, 2·5+1]; the padding pair is
    // equal but inactive. k = 2 leaves room for the count to go up by one.
    let (tier, public, witness) = instance(2, &[5], &[5], 2, 25);
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    let pair = layout.pair(&s, true, false);
    let mut lie = vec![(pair.shared, Fr::ONE)];
    lie.extend(write(
        layout.k_minus_count.clone(),
        bits_of(k_minus(&public, 2), tier.count_bits()),
    ));
    assert_caught(&s, &lie, 1, "an inactive equal pair counted");
}

#[test]
fn an_unequal_pair_claimed_equal_is_caught() {
    // A = {3, 8}, B = {5, 11}: no pair is equal. The lie says a differing
    // pair is equal (not-equal flag 0, inverse 0 so the first is_neq
    // constraint holds) and counts it as shared when its low slot is active.
    let (tier, public, witness) = instance(2, &[3, 8], &[5, 11], 2, 27);
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    for (j, pair) in layout.pairs.iter().enumerate() {
        let active = witness.sorted[j].into_bigint().get_bit(0);
        let mut lie = vec![
            (pair.not_equal, Fr::ZERO),
            (pair.inverse, Fr::ZERO),
            (pair.shared, flag(active)),
        ];
        lie.extend(write(
            layout.k_minus_count.clone(),
            bits_of(k_minus(&public, u64::from(active)), tier.count_bits()),
        ));
        assert_caught(
            &s,
            &lie,
            1,
            &format!("pair {j}: an unequal pair claimed equal"),
        );
        // The honest flag with a wrong inverse.
        assert_caught(
            &s,
            &[(pair.inverse, s.honest(pair.inverse) + Fr::ONE)],
            1,
            &format!("pair {j}: a wrong inverse"),
        );
    }
}

#[test]
fn sortedness_bits_that_pack_to_a_negative_difference_are_caught() {
    // S out of order: the range check's bits cannot be honest bits of the
    // "negative" difference, so the lie packs them with a non-boolean bit.
    let (tier, public, witness) = instance(2, &[3, 8], &[5, 11], 2, 29);
    let mut unsorted = witness.clone();
    unsorted.sorted.swap(1, 2);
    let s = Synthesized::any(tier, public, unsorted.clone());
    assert_caught(
        &s,
        &[],
        1,
        "the gadgets' own bits do not pack to a negative difference",
    );
    let layout = Layout::of(tier, &s, &public, &unsorted);
    let negative = |&j: &usize| {
        let diff = unsorted.sorted[j + 1] - unsorted.sorted[j];
        diff.into_bigint().num_bits() as usize > DIFF_BITS
    };
    let out_of_order: Vec<usize> = (0..layout.pairs.len()).filter(negative).collect();
    assert_eq!(out_of_order, [1], "the swap puts one pair out of order");
    for j in out_of_order {
        let pair = &layout.pairs[j];
        let diff = unsorted.sorted[j + 1] - unsorted.sorted[j];
        let lie = write(pair.diff_bits.clone(), packing_lie(diff, DIFF_BITS));
        assert_caught(
            &s,
            &lie,
            1,
            &format!("pair {j}: non-boolean sortedness bits"),
        );
    }
    // The same lie on the sorted S: the bits still pack to the difference,
    // and the booleanity constraint alone refuses them.
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    for (j, pair) in layout.pairs.iter().enumerate() {
        let diff = witness.sorted[j + 1] - witness.sorted[j];
        if diff == Fr::ZERO || diff == Fr::ONE {
            continue;
        }
        let lie = write(pair.diff_bits.clone(), packing_lie(diff, DIFF_BITS));
        assert_caught(
            &s,
            &lie,
            1,
            &format!("pair {j}: non-boolean bits of a true difference"),
        );
    }
}

#[test]
fn k_below_the_count_is_caught_whatever_the_bits_of_k_minus_count() {
    // A = {5, 9}, B = {5, 9}: the count is 2. With k = 1, `k − count` is −1 in
    // the field: no 3-bit vector of bits packs to it.
    let (tier, honest_public, witness) = instance(2, &[5, 9], &[5, 9], 2, 31);
    let public = PublicInputs {
        k: Fr::ONE,
        ..honest_public
    };
    let s = Synthesized::any(tier, public, witness.clone());
    assert_caught(&s, &[], 1, "k below the count, the gadgets' own bits");
    let layout = Layout::of(tier, &s, &public, &witness);
    let bits = tier.count_bits();
    let lie = write(layout.k_minus_count.clone(), packing_lie(-Fr::ONE, bits));
    assert_caught(&s, &lie, 1, "k − count = −1 packed with a non-boolean bit");
    // Hiding one shared pair instead brings k − count to 0, honestly packed:
    // the lie moves to the equality gadget, which catches it.
    let pair = layout.pair(&s, true, true);
    let mut lie = vec![
        (pair.not_equal, Fr::ONE),
        (pair.inverse, Fr::ONE),
        (pair.shared, Fr::ZERO),
    ];
    lie.extend(write(layout.k_minus_count.clone(), bits_of(Fr::ZERO, bits)));
    assert_caught(&s, &lie, 1, "k below the count, a shared pair hidden");
}

#[test]
fn k_above_the_tier_is_caught_whatever_the_bits_of_n_minus_k() {
    // k = N + 1 with no overlap: k − count fits its bits, N − k = −1 does not.
    let (tier, honest_public, witness) = instance(2, &[3, 8], &[5, 11], 2, 33);
    let n = tier.capacity() as u64;
    let public = PublicInputs {
        k: Fr::from(n + 1),
        ..honest_public
    };
    let s = Synthesized::any(tier, public, witness.clone());
    assert_caught(&s, &[], 1, "k above N, the gadgets' own bits");
    let layout = Layout::of(tier, &s, &public, &witness);
    let bits = tier.count_bits();
    let lie = write(layout.n_minus_k.clone(), packing_lie(-Fr::ONE, bits));
    assert_caught(&s, &lie, 1, "N − k = −1 packed with a non-boolean bit");
    // The bits of N with bit 0 lowered by N + 1: they pack to −1 too.
    let mut wrapped = bits_of(Fr::from(n), bits);
    wrapped[0] -= Fr::from(n + 1);
    let lie = write(layout.n_minus_k.clone(), wrapped);
    assert_caught(&s, &lie, 1, "k above N, the bits of N with bit 0 lowered");
}

#[test]
fn range_bits_with_the_same_sum_but_a_non_boolean_entry_are_caught() {
    // True statements, the bits rewritten to pack to the same value with a
    // non-boolean entry: only booleanity stands in the way.
    let (tier, public, witness) = instance(2, &[3, 8], &[5, 11], 2, 35);
    let s = Synthesized::new(tier, public, witness.clone());
    let layout = Layout::of(tier, &s, &public, &witness);
    let bits = tier.count_bits();
    // k − count = 2, N − k = 0.
    for (name, range, value) in [
        (
            "k − count",
            layout.k_minus_count.clone(),
            k_minus(&public, 0),
        ),
        (
            "N − k",
            layout.n_minus_k.clone(),
            Fr::from(tier.capacity() as u64) - public.k,
        ),
    ] {
        let mut lie = packing_lie(value, bits);
        // Also a vector of 0/1 and one −1 / 2 pair that packs to the same value.
        lie[0] += Fr::from(2u64);
        lie[1] -= Fr::ONE;
        assert_caught(
            &s,
            &write(range.clone(), lie),
            2,
            &format!("{name}: bits 0 and 1 moved"),
        );
        if value != Fr::ZERO && value != Fr::ONE {
            assert_caught(
                &s,
                &write(range, packing_lie(value, bits)),
                1,
                &format!("{name}: value in bit 0"),
            );
        }
    }
}
