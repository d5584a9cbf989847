//! Small R1CS gadgets: bit witnesses, packing, range checks, Poseidon.

use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::{
    constraints::CryptographicSpongeVar, poseidon::constraints::PoseidonSpongeVar,
};
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::Boolean,
    eq::EqGadget,
    fields::fp::{AllocatedFp, FpVar},
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError};

use crate::poseidon;

/// Allocates the low `nbits` bits of `value` as boolean witnesses (one constraint each).
pub fn witness_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: Result<Fr, SynthesisError>,
    nbits: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let bigint = value.map(|v| v.into_bigint());
    (0..nbits)
        .map(|i| Boolean::new_witness(cs.clone(), || bigint.map(|b| b.get_bit(i))))
        .collect()
}

/// `Σ 2^i · bits[i]` as one linear combination (no constraint).
pub fn pack_bits(
    cs: &ConstraintSystemRef<Fr>,
    bits: &[Boolean<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut power = Fr::from(1u64);
    let mut terms = Vec::with_capacity(bits.len());
    let mut value = Some(Fr::from(0u64));
    for bit in bits {
        terms.push((power, bit.variable()));
        value = match (value, bit.value()) {
            (Some(acc), Ok(b)) => Some(if b { acc + power } else { acc }),
            _ => None,
        };
        power.double_in_place();
    }
    let variable = cs.new_lc(|| LinearCombination::from_sum_coeff_vars(&terms))?;
    Ok(FpVar::Var(AllocatedFp::new(value, variable, cs.clone())))
}

/// A fresh witness proven to lie in `[0, 2^nbits)`; returns it and its bits.
pub fn range_checked_witness(
    cs: &ConstraintSystemRef<Fr>,
    value: Result<Fr, SynthesisError>,
    nbits: usize,
) -> Result<(FpVar<Fr>, Vec<Boolean<Fr>>), SynthesisError> {
    let bits = witness_bits(cs, value, nbits)?;
    // A value at or above 2^nbits is truncated to its low bits here, so the
    // slot the circuit sees differs from the one the prover claimed and the
    // commitment or multiset equalities fail.
    Ok((pack_bits(cs, &bits)?, bits))
}

/// Enforces `x ∈ [0, 2^nbits)` (nbits + 1 constraints); returns the bits of `x`.
pub fn enforce_range(
    cs: &ConstraintSystemRef<Fr>,
    x: &FpVar<Fr>,
    nbits: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let bits = witness_bits(cs, x.value(), nbits)?;
    pack_bits(cs, &bits)?.enforce_equal(x)?;
    Ok(bits)
}

/// `Σ bits` as one linear combination (no constraint).
pub fn sum_bits(
    cs: &ConstraintSystemRef<Fr>,
    bits: &[Boolean<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let terms: Vec<(Fr, _)> = bits
        .iter()
        .map(|b| (Fr::from(1u64), b.variable()))
        .collect();
    let value = bits
        .iter()
        .try_fold(0u64, |acc, b| b.value().map(|v| acc + u64::from(v)))
        .ok()
        .map(Fr::from);
    let variable = cs.new_lc(|| LinearCombination::from_sum_coeff_vars(&terms))?;
    Ok(FpVar::Var(AllocatedFp::new(value, variable, cs.clone())))
}

/// Poseidon over a fixed-length input, squeezing one element; matches [`poseidon::hash`].
pub fn poseidon_hash(
    cs: &ConstraintSystemRef<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut sponge = PoseidonSpongeVar::new(cs.clone(), poseidon::config());
    sponge.absorb(&inputs.to_vec())?;
    Ok(sponge.squeeze_field_elements(1)?.remove(0))
}

/// Packs range-checked slot variables three to an element, as [`crate::encoding::pack`] does.
pub fn pack_slots(slots: &[FpVar<Fr>]) -> Vec<FpVar<Fr>> {
    slots
        .chunks(crate::encoding::SLOTS_PER_ELEMENT)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, s)| s * crate::encoding::packing_coefficient(i))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;

    #[test]
    fn range_check_accepts_in_range_and_rejects_out_of_range() {
        for (value, ok) in [(0u128, true), ((1 << 65) - 1, true), (1 << 65, false)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(value))).unwrap();
            enforce_range(&cs, &x, 65).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), ok, "value {value}");
        }
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = FpVar::new_witness(cs.clone(), || Ok(-Fr::from(1u64))).unwrap();
        enforce_range(&cs, &x, 65).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "-1 is not a small integer");
    }

    #[test]
    fn poseidon_gadget_matches_native() {
        let mut rng = ark_std::test_rng();
        for len in [1usize, 7, 8, 9, 20] {
            let inputs: Vec<Fr> = (0..len).map(|_| Fr::rand(&mut rng)).collect();
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<FpVar<Fr>> = inputs
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let out = poseidon_hash(&cs, &vars).unwrap();
            assert_eq!(out.value().unwrap(), poseidon::hash(&inputs));
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn packing_matches_native() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let slots: Vec<Fr> = (1..=5u64).map(|v| Fr::from(2 * v + 1)).collect();
        let vars: Vec<FpVar<Fr>> = slots
            .iter()
            .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
            .collect();
        let packed: Vec<Fr> = pack_slots(&vars)
            .iter()
            .map(|v| v.value().unwrap())
            .collect();
        assert_eq!(packed, crate::encoding::pack(&slots));
    }
}
