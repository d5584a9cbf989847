//! Fixtures for the zktx benches: random sets for a tier, and the baseline circuit.
#![forbid(unsafe_code)]

use ark_bls12_381::Fr;
use ark_ff::Field;
use ark_relations::{
    gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError},
    lc,
};
use std::sync::Arc;

use ark_bls12_381::Bls12_381;
use ark_groth16::Groth16;
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{SetOpening, Tier};
use zktx_prover::{generate_keys, prove, GeneratedKeys, KeySource, ProofEnvelope};
use zktx_verifier::{BatchItem, PreparedKey, PreparedKeyRegistry};

/// The tiers to bench: `ZKTX_BENCH_TIERS` (comma-separated) or 64, 256, 1024.
pub fn bench_tiers() -> Vec<Tier> {
    let spec = std::env::var("ZKTX_BENCH_TIERS").unwrap_or_else(|_| "64,256,1024".into());
    spec.split(',')
        .filter_map(|t| t.trim().parse().ok())
        .filter_map(|n| Tier::new(n).ok())
        .collect()
}

/// Two full sets for `tier` that overlap in a quarter of their members, and that overlap.
pub fn full_sets(tier: Tier, seed: u64) -> (SetOpening, SetOpening, u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let n = tier.capacity() as u64;
    let shared = n / 4;
    let mut universe: Vec<u64> = (0..2 * n - shared)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed)
        .collect();
    universe.shuffle(&mut rng);
    let a_ids = universe[..n as usize].to_vec();
    let b_ids = universe[(n - shared) as usize..].to_vec();
    let a = SetOpening::with_random_salt(tier, a_ids, &mut rng).expect("fits the tier");
    let b = SetOpening::with_random_salt(tier, b_ids, &mut rng).expect("fits the tier");
    (a, b, shared)
}

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

/// `count` proofs under `keys`: item `i` proves statement `i % statements`
/// (each statement proved once, later items re-randomised, so every item has
/// its own bytes).
pub fn proof_items(keys: &GeneratedKeys, statements: usize, count: usize) -> Vec<BatchItem> {
    let tier = keys.manifest.tier;
    let tier = Tier::new(tier).expect("a generated tier is valid");
    let fingerprint = keys.manifest.vk_fingerprint.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let proofs: Vec<_> = (0..statements as u64)
        .map(|i| {
            let (a, b, shared) = full_sets(tier, 100 + i);
            let context = ark_bls12_381::Fr::from(i);
            let (public, proof) =
                prove(&keys.proving_key, &a, &b, shared, context, &mut rng).expect("prove");
            (public, shared, proof)
        })
        .collect();
    (0..count)
        .map(|i| {
            let (public, k, proof) = &proofs[i % statements];
            let proof = if i < statements {
                proof.clone()
            } else {
                Groth16::<Bls12_381>::rerandomize_proof(&keys.verifying_key, proof, &mut rng)
            };
            let envelope = ProofEnvelope::new(tier, fingerprint.clone(), public, *k, &proof);
            BatchItem::from_envelope(&envelope).expect("a fresh envelope decodes")
        })
        .collect()
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
