//! The zktx bounded-overlap circuit.
//!
//! Proves, for two committed private sets A and B of a tier's capacity, that
//! the number of distinct members in both is at most a public bound `k`:
//! - [`ids`]: identifiers → 64-bit ids (normalised, domain-separated SHA-256);
//! - [`SetOpening`]: a set, its salt and its Poseidon commitment;
//! - [`OverlapCircuit`]: the R1CS circuit, with its soundness argument;
//! - [`reference`]: the native ground truth;
//! - [`honest_instance`]: public inputs and witness for a true statement.
//!
//! The constraint system (`circuit`, `gadgets`, `CircuitInfo`) sits behind the
//! `r1cs` feature, on by default. Without it the crate is its native half:
//! tiers, statements, encoding, Poseidon, commitments and ids. The verifier
//! uses only that half and so never links `ark-r1cs-std`.
#![forbid(unsafe_code)]

#[cfg(feature = "r1cs")]
pub mod circuit;
pub mod encoding;
mod error;
#[cfg(feature = "r1cs")]
pub mod gadgets;
pub mod ids;
#[cfg(feature = "r1cs")]
mod info;
pub mod poseidon;
pub mod reference;
mod set;
mod statement;
mod tier;
#[cfg(feature = "r1cs")]
mod weaken;
mod witness;

#[cfg(feature = "r1cs")]
pub use circuit::OverlapCircuit;
pub use error::CircuitError;
#[cfg(feature = "r1cs")]
pub use info::CircuitInfo;
pub use set::{commit_slots, SetOpening};
pub use statement::{PublicInputs, NUM_PUBLIC_INPUTS, PUBLIC_INPUT_NAMES};
pub use tier::{Tier, MAX_CAPACITY, MIN_CAPACITY, STANDARD_TIERS};
pub use witness::{honest_instance, OverlapWitness};

/// The scalar field of BLS12-381, in which the circuit is expressed.
pub use ark_bls12_381::Fr;
