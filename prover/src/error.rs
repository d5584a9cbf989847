//! Errors of the prover crate.

use std::path::PathBuf;

use zktx_circuits::CircuitError;
use zktx_formats::FormatError;

/// What can go wrong reading set files, handling keys, or proving.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The statement or the sets are not acceptable (includes a false statement).
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// A line of an identifier file could not be used.
    #[error("{path}: line {line}: {reason}")]
    IdentifierLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why the line was refused.
        reason: String,
    },
    /// A file (key directory, set file, proof) could not be read or written.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// ark-serialize failed on a key or proof.
    #[error("serialization: {0}")]
    Serialization(#[from] ark_serialize::SerializationError),
    /// Constraint synthesis or Groth16 failed.
    #[error("proving system: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
    /// Keys offered for import failed validation.
    #[error("keys refused: {reason}")]
    ImportRejected {
        /// Why.
        reason: String,
    },
    /// A freshly made proof did not verify: the proving key does not fit the verifying key.
    #[error("the new proof does not verify under the verifying key; the proving key is corrupt or mismatched, nothing was written")]
    SelfCheckFailed,
}
