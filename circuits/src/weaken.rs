//! The holes the `weaken-*` features cut, for the mutation check only
//! (`scripts/mutants.sh`): each is a one-line switch in `circuit.rs`, and the
//! one that needs code of its own lives here, outside the files cargo-mutants
//! mutates (a mutant of code that never runs in the tested build could not be
//! caught). Without its feature, each function is the honest gadget.

use ark_bls12_381::Fr;
use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, GR1CSVar};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// A slot's active flag: bit 0 of the slot's own decomposition. Under
/// `weaken-active-flag`, a free witness that merely starts with that value.
pub(crate) fn active_flag(
    cs: &ConstraintSystemRef<Fr>,
    bit0: &Boolean<Fr>,
) -> Result<Boolean<Fr>, SynthesisError> {
    if cfg!(feature = "weaken-active-flag") {
        return Boolean::new_witness(cs.clone(), || bit0.value());
    }
    Ok(bit0.clone())
}
