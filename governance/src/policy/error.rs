//! What can go wrong with a policy bundle or its evaluation.

use std::path::PathBuf;

/// A bundle that cannot be used, or an evaluation that failed.
///
/// Messages name the file and the field; they never contain request inputs.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A file or directory of the bundle could not be read.
    #[error("policy bundle {path}: {message}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// The bundle has no `.rego` file.
    #[error("policy bundle {0}: no .rego file (a missing policy refuses to start)")]
    NoPolicy(PathBuf),
    /// A `.rego` file does not parse.
    #[error("policy file {file}: {message}")]
    Parse {
        /// The file's name in the bundle.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// `data.json` or `waivers.json` is not what the bundle format says.
    #[error("policy file {file}: {message}")]
    Data {
        /// The file's name in the bundle.
        file: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The engine failed while evaluating (a builtin error, a timeout, a conflict).
    #[error("policy evaluation failed: {0}")]
    Evaluation(String),
    /// The decision rule is undefined or not `{"denials": [{"rule", "reason"}]}`.
    #[error("policy decision has the wrong shape: {0}")]
    Shape(String),
}

impl PolicyError {
    pub(crate) fn read(path: impl Into<PathBuf>, error: impl std::fmt::Display) -> Self {
        Self::Read {
            path: path.into(),
            message: error.to_string(),
        }
    }

    pub(crate) fn data(file: &str, message: impl Into<String>) -> Self {
        Self::Data {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
