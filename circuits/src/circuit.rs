//! The bounded-overlap circuit: commitments open to A and B, and |A ∩ B| ≤ k.
//!
//! Soundness argument (see `../shared/design/overlap-circuit.md` for the design,
//! and `docs/soundness.md` for the argument with what each test class rules out):
//! 1. Every slot of A and B is a 65-bit witness built from its bits, so the
//!    packing into field elements is injective and `commit_a`, `commit_b`
//!    (Poseidon, enforced equal to the public inputs) bind the exact slot lists.
//! 2. S is a list of 2N 65-bit witnesses. The challenge γ is Poseidon over a
//!    domain tag, every public input and the packed S, so S (and, through the
//!    commitments, A and B) are fixed before γ is known. The check
//!    `∏(γ − s) = ∏(γ − a)·∏(γ − b)` then shows S is a permutation of A ∪ B except
//!    with probability ≤ 2N/r (Schwartz–Zippel), times the prover's hash queries.
//! 3. Each `s_{j+1} − s_j` is range-checked to 65 bits, which for 65-bit values
//!    means integer order: S is sorted, so equal encodings sit next to each other.
//! 4. `count = Σ [s_j = s_{j+1}] · bit0(s_j)`, with bit0 from S's own bit
//!    decomposition. A value active in both sets appears as `2v+1` at least twice
//!    in S, hence at least one adjacent odd equal pair: count ≥ |A ∩ B|.
//!    Padding (`2v`) is even, sorts before `2v+1` and never splits a pair.
//! 5. `k − count` and `N − k` are range-checked to ⌈log2(N+1)⌉+1 bits: count ≤ k ≤ N
//!    as integers, so a huge or "negative" field element k is rejected.
//!
//! Every public input enters a constraint: the commitments through (1), k
//! through (5) and the challenge, the context through the challenge.
//!
//! The `weaken-*` features each remove one of these checks, for the mutation
//! check only (`scripts/mutants.sh`): the test suite must fail under each.
//! They are never enabled in a build that proves or verifies.

use ark_bls12_381::Fr;
use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, fields::fp::FpVar, fields::FieldVar};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use crate::{
    encoding::{challenge_tag, commit_tag, DIFF_BITS, SLOT_BITS},
    gadgets::{enforce_range, pack_slots, poseidon_hash, range_checked_witness, sum_bits},
    weaken, OverlapWitness, PublicInputs, Tier,
};

/// The overlap circuit for one tier, with or without an assignment.
#[derive(Clone, Debug)]
pub struct OverlapCircuit {
    tier: Tier,
    public: Option<PublicInputs>,
    witness: Option<OverlapWitness>,
}

impl OverlapCircuit {
    /// The circuit shape only, for key generation and constraint counting.
    pub fn for_setup(tier: Tier) -> Self {
        Self {
            tier,
            public: None,
            witness: None,
        }
    }

    /// The circuit with a full assignment, for proving (or for adversarial tests).
    pub fn with_assignment(tier: Tier, public: PublicInputs, witness: OverlapWitness) -> Self {
        Self {
            tier,
            public: Some(public),
            witness: Some(witness),
        }
    }

    /// The tier this circuit is built for.
    pub fn tier(&self) -> Tier {
        self.tier
    }
}

fn missing() -> SynthesisError {
    SynthesisError::AssignmentMissing
}

impl ConstraintSynthesizer<Fr> for OverlapCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let n = self.tier.capacity();
        let public = self.public;
        let w = self.witness.as_ref();
        let input = |f: fn(&PublicInputs) -> Fr| {
            FpVar::new_input(cs.clone(), || public.as_ref().map(f).ok_or_else(missing))
        };
        // Public inputs, in the order of `PublicInputs::to_vec`.
        let commit_a = input(|p| p.commit_a)?;
        let commit_b = input(|p| p.commit_b)?;
        let k = input(|p| p.k)?;
        let context = input(|p| p.context)?;

        let slot = |list: fn(&OverlapWitness) -> &Vec<Fr>, i: usize| {
            w.and_then(|w| list(w).get(i).copied()).ok_or_else(missing)
        };
        let slots_of = |list: fn(&OverlapWitness) -> &Vec<Fr>, len: usize| {
            (0..len)
                .map(|i| range_checked_witness(&cs, slot(list, i), SLOT_BITS))
                .collect::<Result<Vec<_>, _>>()
        };

        // (1) Both commitments open to range-checked slots.
        let a: Vec<FpVar<Fr>> = slots_of(|w| &w.a_slots, n)?
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        let b: Vec<FpVar<Fr>> = slots_of(|w| &w.b_slots, n)?
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        let salt_a = FpVar::new_witness(cs.clone(), || w.map(|w| w.salt_a).ok_or_else(missing))?;
        let salt_b = FpVar::new_witness(cs.clone(), || w.map(|w| w.salt_b).ok_or_else(missing))?;
        let tag = FpVar::constant(commit_tag(self.tier));
        for (salt, slots, commitment) in [(&salt_a, &a, &commit_a), (&salt_b, &b, &commit_b)] {
            let mut preimage = vec![tag.clone(), salt.clone()];
            preimage.extend(pack_slots(slots));
            let opened = poseidon_hash(&cs, &preimage)?;
            if cfg!(feature = "weaken-commit-b") && std::ptr::eq(commitment, &commit_b) {
                continue;
            }
            opened.enforce_equal(commitment)?;
        }

        // (2) S, then the challenge over everything S and the statement fix.
        let sorted = slots_of(|w| &w.sorted, 2 * n)?;
        let s: Vec<FpVar<Fr>> = sorted.iter().map(|(v, _)| v.clone()).collect();
        let mut transcript = vec![
            FpVar::constant(challenge_tag(self.tier)),
            commit_a,
            commit_b,
            k.clone(),
        ];
        if !cfg!(feature = "weaken-context-challenge") {
            transcript.push(context);
        }
        if !cfg!(feature = "weaken-s-challenge") {
            transcript.extend(pack_slots(&s));
        }
        let gamma = poseidon_hash(&cs, &transcript)?;

        let product = |values: &mut dyn Iterator<Item = &FpVar<Fr>>| {
            values.fold(FpVar::one(), |acc, v| acc * (&gamma - v))
        };
        let lhs = product(&mut s.iter());
        let rhs = product(&mut a.iter().chain(b.iter()));
        lhs.enforce_equal(&rhs)?;

        // (3) + (4) Sortedness and the count of shared active values.
        let mut shared = Vec::with_capacity(2 * n - 1);
        for j in 0..2 * n - 1 {
            let diff = &s[j + 1] - &s[j];
            if !cfg!(feature = "weaken-sortedness") {
                enforce_range(&cs, &diff, DIFF_BITS)?;
            }
            let equal = diff.is_zero()?;
            let active = weaken::active_flag(&cs, &sorted[j].1[0])?;
            shared.push(equal & &active);
        }
        let count = sum_bits(&cs, &shared)?;

        // (5) count ≤ k ≤ N as small integers.
        let bits = self.tier.count_bits();
        enforce_range(&cs, &(&k - &count), bits)?;
        if !cfg!(feature = "weaken-n-minus-k") {
            enforce_range(&cs, &(FpVar::constant(Fr::from(n as u64)) - &k), bits)?;
        }
        Ok(())
    }
}
