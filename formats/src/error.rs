//! Errors of reading and writing zktx files.

use std::path::PathBuf;

use zktx_circuits::{encoding::FieldHexError, CircuitError};

/// Why a zktx file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A tier outside the supported range.
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not the JSON it should be.
    #[error("{path}: not a valid {what} file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the file should have been.
        what: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The file parses but its content is wrong.
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
        /// The field.
        field: &'static str,
        /// Why the hex was refused.
        source: FieldHexError,
    },
    /// The key directory has no keys for the tier.
    #[error("no keys for tier {tier} in {dir}: run `zktx setup --tier {tier} --out {dir}`")]
    KeysMissing {
        /// The key directory.
        dir: PathBuf,
        /// The tier asked for.
        tier: usize,
    },
    /// A key file does not match its manifest or is not a valid key.
    #[error("{path}: {reason}; regenerate or re-import the keys")]
    KeyIntegrity {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Writing would overwrite an existing file.
    #[error("{path} already exists; pass --force to overwrite it")]
    WouldOverwrite {
        /// The existing file.
        path: PathBuf,
    },
}

impl FormatError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
