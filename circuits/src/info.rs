//! Size of a tier's circuit: constraints, public inputs and witness variables.

use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};

use crate::{encoding, Fr, OverlapCircuit, Tier};

/// The measured shape of a tier's circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitInfo {
    /// The tier.
    pub tier: Tier,
    /// The circuit identifier (name, version, capacity).
    pub circuit_id: String,
    /// R1CS constraints.
    pub constraints: usize,
    /// Public inputs (not counting the constant one).
    pub public_inputs: usize,
    /// Private witness variables.
    pub witness_variables: usize,
}

impl CircuitInfo {
    /// Synthesises the tier's circuit shape (no assignment) and measures it.
    pub fn measure(tier: Tier) -> Self {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        OverlapCircuit::for_setup(tier)
            .generate_constraints(cs.clone())
            .expect("the circuit shape synthesises without an assignment");
        Self {
            tier,
            circuit_id: encoding::circuit_id(tier),
            constraints: cs.num_constraints(),
            public_inputs: cs.num_instance_variables() - 1,
            witness_variables: cs.num_witness_variables(),
        }
    }

    /// Constraints per set slot (N + M slots).
    pub fn constraints_per_slot(&self) -> f64 {
        self.constraints as f64 / self.tier.total_slots() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NUM_PUBLIC_INPUTS;

    #[test]
    fn small_tier_shape() {
        let info = CircuitInfo::measure(Tier::new(4).unwrap());
        assert_eq!(info.public_inputs, NUM_PUBLIC_INPUTS);
        assert!(info.constraints > 0 && info.witness_variables > 0);
        assert_eq!(info.circuit_id, "zktx/overlap/v1/capacity-4");
    }
}
