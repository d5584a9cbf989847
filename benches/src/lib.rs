//! Fixtures for the zktx benches: random sets for a tier, and the baseline circuit.
#![forbid(unsafe_code)]

use ark_bls12_381::Fr;
use ark_ff::Field;
use ark_relations::{
    gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError},
    lc,
};
use std::sync::Arc;

use zktx_circuits::Tier;
use zktx_prover::{generate_keys, KeySource};
use zktx_verifier::{BatchItem, PreparedKey, PreparedKeyRegistry};

/// The tiers to bench: `ZKTX_BENCH_TIERS` (comma-separated) or 64, 256, 1024.
pub fn bench_tiers() -> Vec<Tier> {
    let spec = std::env::var("ZKTX_BENCH_TIERS").unwrap_or_else(|_| "64,256,1024".into());
    spec.split(',')
        .filter_map(|t| t.trim().parse().ok())
        .filter_map(|n| Tier::new(n).ok())
        .collect()
}

pub use zktx_loadtest::fixtures::{full_sets, proof_items};

/// Proofs to verify in bulk, all valid, and the registry holding their key.
pub struct BatchFixture {
    /// The key of the proofs (tier 16, development seed).
    pub registry: Arc<PreparedKeyRegistry>,
    /// Distinct valid proofs: `statements` statements, each re-randomised
    /// into several proofs with different bytes.
    pub items: Vec<BatchItem>,
}

/// `count` distinct valid proofs over `statements` distinct statements at tier 16.
///
/// Verification cost does not depend on the tier (every tier has four public
/// inputs), so the smallest standard tier keeps the fixture quick to build.
pub fn batch_fixture(statements: usize, count: usize) -> BatchFixture {
    let tier = Tier::new(16).expect("16 is a tier");
    let keys = generate_keys(tier, &KeySource::DevSeed("bench-batch".into())).expect("setup");
    let mut registry = PreparedKeyRegistry::new();
    registry.insert(PreparedKey::new(tier, &keys.verifying_key, true));
    BatchFixture {
        registry: Arc::new(registry),
        items: proof_items(&keys, statements, count),
    }
}

/// The baseline: a plain multiplication chain `x_{i+1} = x_i · x_i` with
/// `constraints` constraints and one public input (the last value), so that
/// Groth16's cost for a circuit of that size can be compared with ours.
#[derive(Clone)]
pub struct MultiplicationChain {
    /// Number of constraints.
    pub constraints: usize,
    /// The starting value (None for setup).
    pub start: Option<Fr>,
}

impl MultiplicationChain {
    /// The value the chain ends with.
    pub fn output(&self) -> Option<Fr> {
        self.start
            .map(|x| (0..self.constraints).fold(x, |acc, _| acc.square()))
    }
}

impl ConstraintSynthesizer<Fr> for MultiplicationChain {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let output = self.output();
        let out = cs.new_input_variable(|| output.ok_or(SynthesisError::AssignmentMissing))?;
        let mut value = self.start;
        let mut var = cs.new_witness_variable(|| value.ok_or(SynthesisError::AssignmentMissing))?;
        for i in 0..self.constraints {
            let next_value = value.map(|x| x.square());
            let next = if i + 1 == self.constraints {
                out
            } else {
                cs.new_witness_variable(|| next_value.ok_or(SynthesisError::AssignmentMissing))?
            };
            cs.enforce_r1cs_constraint(|| lc!() + var, || lc!() + var, || lc!() + next)?;
            var = next;
            value = next_value;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn chain_has_the_asked_size_and_is_satisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        MultiplicationChain {
            constraints: 50,
            start: Some(Fr::from(3u64)),
        }
        .generate_constraints(cs.clone())
        .unwrap();
        assert_eq!(cs.num_constraints(), 50);
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn fixture_sets_overlap_as_stated() {
        let tier = Tier::new(16).unwrap();
        let (a, b, shared) = full_sets(tier, 1);
        assert_eq!(a.members().len(), 16);
        assert_eq!(
            zktx_circuits::reference::overlap(a.members(), b.members()) as u64,
            shared
        );
    }
}
