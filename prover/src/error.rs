//! Errors of the prover crate.

use std::path::PathBuf;

use zktx_circuits::{encoding::FieldHexError, CircuitError};

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
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file did not parse or had the wrong shape.
    #[error("{path}: not a valid {what} file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The kind of file expected.
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A file parsed but its content is inconsistent.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A field element in a file is not canonical hex.
    #[error("{path}: field `{field}`: {source}")]
    FieldHex {
        /// The file.
        path: PathBuf,
        /// The field name.
        field: &'static str,
        /// The decoding error.
        source: FieldHexError,
    },
    /// No keys for a tier in a key directory.
    #[error("no keys for tier {tier} in {dir}: run `zktx setup --tier {tier} --out {dir}`")]
    KeysMissing {
        /// The key directory.
        dir: PathBuf,
        /// The tier's capacity.
        tier: usize,
    },
    /// A key file does not match its manifest.
    #[error("{path}: {reason}; regenerate or re-import the keys")]
    KeyIntegrity {
        /// The key file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// An output file exists and overwriting was not asked for.
    #[error("{path} already exists; pass --force to overwrite it")]
    WouldOverwrite {
        /// The existing file.
        path: PathBuf,
    },
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

impl ProverError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
