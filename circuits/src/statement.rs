//! The public statement: commitments, the bound k and the context.

use ark_bls12_381::Fr;

/// Public inputs of the overlap circuit, in the order the verifying key expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInputs {
    /// Commitment to set A.
    pub commit_a: Fr,
    /// Commitment to set B.
    pub commit_b: Fr,
    /// The bound: |A ∩ B| ≤ k. A field element so adversarial tests can try any value.
    pub k: Fr,
    /// A value the verifier chooses (nonce, session, partner id) binding the proof to one use.
    pub context: Fr,
}

/// Number of public inputs.
pub const NUM_PUBLIC_INPUTS: usize = 4;

/// Names of the public inputs, in circuit order.
pub const PUBLIC_INPUT_NAMES: [&str; NUM_PUBLIC_INPUTS] = ["commit_a", "commit_b", "k", "context"];

impl PublicInputs {
    /// The inputs as field elements, in circuit order.
    pub fn to_vec(&self) -> Vec<Fr> {
        vec![self.commit_a, self.commit_b, self.k, self.context]
    }
}
