//! Integration tests of the overlap circuit on its constraint system.

mod adversarial;
mod completeness;
mod constraints;
mod exhaustive;
mod lies;
mod malicious;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use zktx_circuits::{Fr, OverlapCircuit, OverlapWitness, PublicInputs, Tier};

/// Synthesises the circuit with an assignment and reports whether it is satisfied.
pub fn satisfied(tier: Tier, public: PublicInputs, witness: OverlapWitness) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    OverlapCircuit::with_assignment(tier, public, witness)
        .generate_constraints(cs.clone())
        .expect("synthesis succeeds for any full-length assignment");
    cs.is_satisfied()
        .expect("satisfiability is decidable with a full assignment")
}
