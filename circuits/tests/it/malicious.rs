//! A malicious prover's harness: the circuit is synthesized honestly, then
//! any witness variable of the constraint system's assignment is overwritten
//! (not only the witness struct's fields: also what the gadgets compute for
//! the prover, such as equality flags, inverses, AND outputs, range-check
//! bits and the Poseidon states) and satisfaction is checked again. With it:
//!
//! - single-variable perturbation: every witness variable of tiers 1 and 2,
//!   set to another value (random, +1 and −1) with all others fixed, must
//!   break satisfaction. A variable that can move freely is under-constrained
//!   and the test names its index. The one variable allowed to move is the
//!   inverse the `is_zero` gadget takes for a difference that is zero, which
//!   no constraint reads (`0 · inv = 1 − 1`): the tests count exactly one per
//!   equal neighbour pair in S, and none when S has no equal neighbours;
//! - binding: each public input, changed alone with the witness fixed, breaks
//!   satisfaction, and the in-circuit challenge equals the native one and
//!   changes with S, either commitment, k and the context.

use ark_ff::{AdditiveGroup, Field, UniformRand};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Variable,
};
use rand::SeedableRng;
use zktx_circuits::{
    encoding::{challenge, encode_slot, slot_to_field},
    Fr, OverlapCircuit, OverlapWitness, PublicInputs, SetOpening, Tier,
};

/// An honestly synthesized constraint system whose assignment can be edited.
pub struct Synthesized {
    cs: ConstraintSystemRef<Fr>,
    honest: Vec<Fr>,
}

impl Synthesized {
    /// Synthesizes `public` and `witness` (which must satisfy the circuit).
    pub fn new(tier: Tier, public: PublicInputs, witness: OverlapWitness) -> Self {
        let s = Self::any(tier, public, witness);
        assert!(
            s.satisfied_with(&[], &[]),
            "the honest assignment satisfies"
        );
        s
    }

    /// Synthesizes any assignment, satisfying or not: the gadgets compute
    /// their helper values as an honest prover would, from what they are given.
    pub fn any(tier: Tier, public: PublicInputs, witness: OverlapWitness) -> Self {
        let cs = ConstraintSystem::<Fr>::new_ref();
        OverlapCircuit::with_assignment(tier, public, witness)
            .generate_constraints(cs.clone())
            .unwrap();
        let honest = cs.witness_assignment().unwrap();
        Self { cs, honest }
    }

    /// Witness variables.
    pub fn witnesses(&self) -> usize {
        self.honest.len()
    }

    /// The honest value of witness variable `i`.
    pub fn honest(&self, i: usize) -> Fr {
        self.honest[i]
    }

    /// How many witness variables and linear combinations hold `value` in
    /// the honest assignment (a Poseidon output is a linear combination of
    /// the last round's state).
    pub fn holding(&self, value: Fr) -> usize {
        let cs = self.cs.borrow().unwrap();
        self.honest.iter().filter(|v| **v == value).count()
            + cs.assignments
                .lc_assignment
                .iter()
                .filter(|v| **v == value)
                .count()
    }

    /// Whether the system is satisfied with `witness` changes and `instance`
    /// changes (index 0 is the constant one; public inputs start at 1) applied
    /// to the honest assignment. The assignment is restored afterwards.
    pub fn satisfied_with(&self, witness: &[(usize, Fr)], instance: &[(usize, Fr)]) -> bool {
        self.with_edits(witness, instance, |cs| cs.is_satisfied().unwrap())
    }

    /// How many constraints the edited assignment breaks (as for
    /// [`Self::satisfied_with`]): a targeted lie breaks only its guard.
    pub fn unsatisfied_with(&self, witness: &[(usize, Fr)], instance: &[(usize, Fr)]) -> usize {
        self.with_edits(witness, instance, unsatisfied_constraints)
    }

    fn with_edits<T>(
        &self,
        witness: &[(usize, Fr)],
        instance: &[(usize, Fr)],
        check: impl FnOnce(&ConstraintSystem<Fr>) -> T,
    ) -> T {
        let mut cs = self.cs.borrow_mut().unwrap();
        let saved_instance = cs.assignments.instance_assignment.clone();
        for &(i, v) in witness {
            cs.assignments.witness_assignment[i] = v;
        }
        for &(i, v) in instance {
            cs.assignments.instance_assignment[i] = v;
        }
        recompute_linear_combinations(&mut cs);
        let result = check(&cs);
        cs.assignments.witness_assignment.clone_from(&self.honest);
        cs.assignments.instance_assignment = saved_instance;
        recompute_linear_combinations(&mut cs);
        result
    }
}

/// The constraints `a · b = c` of the system that do not hold.
fn unsatisfied_constraints(cs: &ConstraintSystem<Fr>) -> usize {
    let value = |v: Variable| {
        cs.assigned_value(v).unwrap_or_else(|| {
            cs.get_lc(v)
                .0
                .iter()
                .map(|(coeff, var)| *coeff * cs.assigned_value(*var).expect("assigned"))
                .sum()
        })
    };
    cs.predicate_constraint_systems
        .values()
        .map(|predicate| {
            let args = predicate.get_constraints();
            assert_eq!(args.len(), 3, "an R1CS predicate has three arguments");
            (0..predicate.num_constraints())
                .filter(|&i| value(args[0][i]) * value(args[1][i]) != value(args[2][i]))
                .count()
        })
        .sum()
}

/// The linear combinations' cached values, evaluated again in order (each
/// refers only to variables and earlier combinations).
fn recompute_linear_combinations(cs: &mut ConstraintSystem<Fr>) {
    let n = cs.num_linear_combinations;
    cs.assignments.lc_assignment.resize(n, Fr::ZERO);
    for i in 0..n {
        let lc = cs.get_lc(Variable::symbolic_lc(i));
        let value: Fr =
            lc.0.iter()
                .map(|(coeff, var)| *coeff * cs.assigned_value(*var).expect("assigned"))
                .sum();
        cs.assignments.lc_assignment[i] = value;
    }
}

/// The system as the Groth16 prover sees it (linear combinations inlined
/// into the R1CS matrices A, B, C over z = (1, instance, witness)), indexed by
/// witness variable: changing one variable can only break the constraints
/// whose rows read it, so a single-variable change is checked against those
/// rows alone instead of the whole system (the full check, run for every
/// variable and value, took minutes per tier).
struct Incidence {
    /// ⟨A_j, z⟩, ⟨B_j, z⟩, ⟨C_j, z⟩ for constraint j under the honest assignment.
    honest: Vec<[Fr; 3]>,
    /// For witness variable i, in constraint order: (constraint j, matrix
    /// 0 = A, 1 = B, 2 = C, its coefficient of variable i).
    reads: Vec<Vec<(usize, usize, Fr)>>,
}

impl Incidence {
    fn new(s: &Synthesized) -> Self {
        let mut cs = s.cs.borrow().unwrap().clone();
        cs.finalize();
        let num_input = cs.num_instance_variables();
        let z: Vec<Fr> = cs
            .assignments
            .instance_assignment
            .iter()
            .chain(&s.honest)
            .copied()
            .collect();
        let matrices = cs.to_matrices().unwrap();
        assert_eq!(matrices.len(), 1, "one predicate: R1CS");
        let [a, b, c] = <[_; 3]>::try_from(matrices.into_values().next().unwrap())
            .expect("three matrices: A, B, C");
        let mut honest = Vec::with_capacity(a.len());
        let mut reads = vec![Vec::new(); s.witnesses()];
        for (j, rows) in a.iter().zip(&b).zip(&c).enumerate() {
            let ((ra, rb), rc) = rows;
            let mut values = [Fr::ZERO; 3];
            for (m, row) in [ra, rb, rc].into_iter().enumerate() {
                for &(coeff, index) in row {
                    values[m] += coeff * z[index];
                    if let Some(i) = index.checked_sub(num_input) {
                        reads[i].push((j, m, coeff));
                    }
                }
            }
            assert_eq!(
                values[0] * values[1],
                values[2],
                "the honest assignment satisfies row {j} of the matrices"
            );
            honest.push(values);
        }
        Self { honest, reads }
    }

    /// Whether every constraint still holds with witness variable `i` moved
    /// by `delta` and every other variable honest.
    fn satisfied_moving(&self, i: usize, delta: Fr) -> bool {
        let reads = &self.reads[i];
        let mut at = 0;
        while at < reads.len() {
            let j = reads[at].0;
            let mut values = self.honest[j];
            while at < reads.len() && reads[at].0 == j {
                let (_, m, coeff) = reads[at];
                values[m] += coeff * delta;
                at += 1;
            }
            if values[0] * values[1] != values[2] {
                return false;
            }
        }
        true
    }
}

/// The witness variables that can take another value alone: each is tried
/// at honest + 1, honest − 1 and a random value. The matrices' verdict is
/// checked against the whole constraint system's for every free variable
/// and one variable in 16 (so a fault in either path fails the test).
fn free_variables(s: &Synthesized, seed: u64) -> Vec<usize> {
    let incidence = Incidence::new(s);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut free = Vec::new();
    for i in 0..s.witnesses() {
        let honest = s.honest(i);
        let tries = [honest + Fr::ONE, honest - Fr::ONE, Fr::rand(&mut rng)];
        let verdicts: Vec<bool> = tries
            .iter()
            .map(|&v| v != honest && incidence.satisfied_moving(i, v - honest))
            .collect();
        let moves = verdicts.contains(&true);
        if moves || i % 16 == 0 {
            for (&v, &fast) in tries.iter().zip(&verdicts) {
                assert_eq!(
                    fast,
                    v != honest && s.satisfied_with(&[(i, v)], &[]),
                    "witness variable {i}: the matrices and the constraint system disagree"
                );
            }
        }
        if moves {
            free.push(i);
        }
    }
    free
}

pub(crate) fn member(v: u64) -> Fr {
    slot_to_field(encode_slot(Some(v)))
}

/// A true statement at `tier` over the given members, with a random
/// non-zero k within the tier and a random context.
pub(crate) fn instance(
    tier: usize,
    a: &[u64],
    b: &[u64],
    k: u64,
    seed: u64,
) -> (Tier, PublicInputs, OverlapWitness) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let tier = Tier::new(tier).unwrap();
    let a = SetOpening::new(tier, Fr::rand(&mut rng), a.iter().copied()).unwrap();
    let b = SetOpening::new(tier, Fr::rand(&mut rng), b.iter().copied()).unwrap();
    let (public, witness) = zktx_circuits::honest_instance(&a, &b, k, Fr::rand(&mut rng)).unwrap();
    (tier, public, witness)
}

fn equal_neighbours(w: &OverlapWitness) -> usize {
    w.sorted.windows(2).filter(|p| p[0] == p[1]).count()
}

#[test]
fn every_witness_variable_is_pinned_when_s_has_no_equal_neighbours() {
    // Full, disjoint sets: no padding, no shared member, so every difference
    // in S is non-zero and every helper value has exactly one honest choice.
    for (tier, a, b, k) in [(1, vec![7], vec![9], 1), (2, vec![3, 8], vec![5, 11], 2)] {
        let (tier, public, witness) = instance(tier, &a, &b, k, 1);
        assert_eq!(equal_neighbours(&witness), 0);
        let s = Synthesized::new(tier, public, witness);
        let free = free_variables(&s, 2);
        assert!(
            free.is_empty(),
            "tier {}: under-constrained witness variables (index into the assignment): {free:?}",
            tier.capacity()
        );
    }
}

#[test]
fn only_the_inverse_of_each_zero_difference_moves_when_s_has_equal_neighbours() {
    // Tier 2 with a shared member and padding: S = [0, 0, 2·5+1, 2·5+1] has
    // two equal neighbour pairs, a padding pair and a shared pair.
    let (tier, public, witness) = instance(2, &[5], &[5], 1, 3);
    let pairs = equal_neighbours(&witness);
    assert_eq!(pairs, 2);
    let s = Synthesized::new(tier, public, witness);
    let free = free_variables(&s, 4);
    assert_eq!(free.len(), pairs, "free: {free:?}");
    for &i in &free {
        // Moving it changes nothing the statement depends on: any value works.
        assert!(s.satisfied_with(&[(i, Fr::from(123_456u64))], &[]));
        assert!(s.satisfied_with(&[(i, Fr::ZERO)], &[]));
    }
    // Tier 1, A = B = {4}: one shared pair.
    let (tier, public, witness) = instance(1, &[4], &[4], 1, 5);
    let s = Synthesized::new(tier, public, witness.clone());
    assert_eq!(free_variables(&s, 6).len(), equal_neighbours(&witness));
}

#[test]
fn each_public_input_changed_alone_breaks_satisfaction() {
    let (tier, public, witness) = instance(2, &[3, 8], &[8, 11], 1, 7);
    let s = Synthesized::new(tier, public, witness);
    // Instance variables: 0 is the constant one, then commit_a, commit_b, k, context.
    let values = public.to_vec();
    assert_eq!(values.len(), 4);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    for (i, name) in ["commit_a", "commit_b", "k", "context"].iter().enumerate() {
        for other in [values[i] + Fr::ONE, values[i] - Fr::ONE, Fr::rand(&mut rng)] {
            assert!(
                !s.satisfied_with(&[], &[(i + 1, other)]),
                "{name} changed alone still satisfies"
            );
        }
    }
    // k = 2 is also true here, but the witness was made for k = 1: the
    // challenge binds k, so the same witness does not carry over.
    assert!(!s.satisfied_with(&[], &[(3, Fr::from(2u64))]));
}

#[test]
fn the_in_circuit_challenge_is_the_native_one_and_moves_with_every_input() {
    let (tier, public, witness) = instance(2, &[3, 8], &[8, 11], 1, 9);
    let gamma = challenge(tier, &public, &witness.sorted);
    let s = Synthesized::new(tier, public, witness.clone());
    assert!(
        s.holding(gamma) >= 1,
        "the circuit's challenge is the native challenge over the tag, the public inputs and S"
    );
    let mut changed = Vec::new();
    let mut p = public;
    p.commit_a += Fr::ONE;
    changed.push(("commit_a", challenge(tier, &p, &witness.sorted)));
    let mut p = public;
    p.commit_b += Fr::ONE;
    changed.push(("commit_b", challenge(tier, &p, &witness.sorted)));
    let mut p = public;
    p.k += Fr::ONE;
    changed.push(("k", challenge(tier, &p, &witness.sorted)));
    let mut p = public;
    p.context += Fr::ONE;
    changed.push(("context", challenge(tier, &p, &witness.sorted)));
    let mut sorted = witness.sorted.clone();
    sorted[0] += Fr::ONE;
    changed.push(("S", challenge(tier, &public, &sorted)));
    for (name, other) in changed {
        assert_ne!(other, gamma, "the challenge does not depend on {name}");
    }
}

#[test]
fn the_multiset_products_are_the_native_ones() {
    // Both sides of the multiset check are ∏(γ − x) with the native challenge:
    // over S, and over A and B. Another form (γ + x, a quotient) would be as
    // sound but would not be the documented argument.
    let (tier, public, witness) = instance(2, &[3, 8], &[8, 11], 1, 13);
    let gamma = challenge(tier, &public, &witness.sorted);
    let product: Fr = witness.sorted.iter().map(|s| gamma - s).product();
    let slots: Fr = witness
        .a_slots
        .iter()
        .chain(&witness.b_slots)
        .map(|s| gamma - s)
        .product();
    assert_eq!(product, slots);
    let s = Synthesized::new(tier, public, witness);
    assert!(
        s.holding(product) >= 2,
        "the circuit's two products are ∏(γ − s) over S and over A ∪ B"
    );
}

#[test]
fn b_mirrors_a_opening_flags_and_duplicates() {
    // A = {10, 11}, B = {11, 12}: the true overlap is 1; k = 0 is false.
    let (tier, public, witness) = instance(2, &[10, 11], &[11, 12], 1, 11);
    let mut false_public = public;
    false_public.k = Fr::ZERO;
    // Open commit_b to another list (disjoint from A), S rebuilt honestly.
    let other_b = vec![member(20), member(21)];
    let w = OverlapWitness::from_slots(
        witness.a_slots.clone(),
        other_b,
        witness.salt_a,
        witness.salt_b,
    );
    assert!(!crate::satisfied(tier, false_public, w));
    // Flip the flag of B's shared member (2v+1 -> 2v), in B and in S.
    let mut flipped_b = witness.b_slots.clone();
    for slot in flipped_b.iter_mut().filter(|s| **s == member(11)) {
        *slot -= Fr::ONE;
    }
    let w = OverlapWitness::from_slots(
        witness.a_slots.clone(),
        flipped_b,
        witness.salt_a,
        witness.salt_b,
    );
    assert!(!crate::satisfied(tier, false_public, w));
    // Another salt for B.
    let mut w = witness.clone();
    w.salt_b += Fr::ONE;
    assert!(!crate::satisfied(tier, public, w));
    // A duplicate in B's committed list only raises the count.
    let dup_tier = Tier::new(2).unwrap();
    let salt_b = Fr::from(77u64);
    let b_slots = vec![member(5), member(5)];
    let a = SetOpening::new(dup_tier, Fr::from(66u64), [5, 6]).unwrap();
    let dup_public = |k: u64| PublicInputs {
        commit_a: a.commitment(),
        commit_b: zktx_circuits::commit_slots(dup_tier, salt_b, &b_slots),
        k: Fr::from(k),
        context: Fr::from(1u64),
    };
    let w = OverlapWitness::from_slots(a.slots(), b_slots.clone(), a.salt(), salt_b);
    assert!(
        !crate::satisfied(dup_tier, dup_public(1), w.clone()),
        "the duplicate counts twice"
    );
    assert!(crate::satisfied(dup_tier, dup_public(2), w));
}
