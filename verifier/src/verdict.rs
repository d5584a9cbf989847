//! The verdict on one submitted proof.

use crate::DecodeError;

/// What verification says of one item: valid, or invalid and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The proof verifies for its public inputs under its key.
    Valid,
    /// The proof does not verify.
    Invalid(Invalid),
}

impl Verdict {
    /// Whether the verdict is [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Valid => f.write_str("valid"),
            Verdict::Invalid(why) => write!(f, "invalid: {why}"),
        }
    }
}

/// Why an item is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// The key fingerprint is not 64 lowercase hex digits.
    #[error("malformed verifying-key fingerprint (expected 64 lowercase hex digits)")]
    MalformedKey,
    /// No key with this fingerprint is loaded.
    #[error("unknown verifying key {0}")]
    UnknownKey(String),
    /// The proof bytes or the public inputs do not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Everything decodes, but the pairing check fails.
    #[error("proof does not verify for these public inputs under this key")]
    Rejected,
}
