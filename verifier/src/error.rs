//! Typed verification errors: one variant per way a proof can be bad.

use zktx_formats::FormatError;

/// Which of the proof's three points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofPoint {
    /// A, in G1.
    A,
    /// B, in G2.
    B,
    /// C, in G1.
    C,
}

impl std::fmt::Display for ProofPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProofPoint::A => "A (G1)",
            ProofPoint::B => "B (G2)",
            ProofPoint::C => "C (G1)",
        })
    }
}

/// Why a compressed curve point was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// The flag bits are not those of a compressed point.
    #[error("flag bits are not those of a compressed point")]
    BadFlags,
    /// A coordinate is at or above the base field modulus.
    #[error("a coordinate is not a canonical base-field element")]
    NonCanonical,
    /// No point on the curve has this x-coordinate.
    #[error("not on the curve")]
    NotOnCurve,
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("not in the prime-order subgroup")]
    NotInSubgroup,
    /// The point at infinity, which no honest proof contains.
    #[error("the point at infinity")]
    Identity,
}

/// Why proof bytes or public inputs could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The proof is not base64.
    #[error("proof is not valid base64")]
    Base64,
    /// The proof has the wrong length.
    #[error("proof must be {expected} bytes (compressed A ‖ B ‖ C), got {got}")]
    ProofLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// One of the proof's points is invalid.
    #[error("proof point {point}: {error}")]
    Point {
        /// Which point.
        point: ProofPoint,
        /// What is wrong with it.
        error: PointError,
    },
    /// A public input is not a canonical scalar-field element.
    #[error("public input `{name}`: {reason}")]
    PublicInput {
        /// The input's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a proof file does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The file is not a proof envelope (bad JSON, missing or extra fields, wrong types).
    #[error("malformed proof file: {0}")]
    Malformed(String),
    /// The envelope's format or version is not one this verifier reads.
    #[error(
        "unsupported proof format {format:?} version {version} (expected zktx-proof version 1)"
    )]
    UnsupportedFormat {
        /// The format named.
        format: String,
        /// The version named.
        version: u32,
    },
    /// The envelope names a circuit that does not match its tier.
    #[error("proof names circuit {circuit:?}, which is not the circuit of its tier {tier}")]
    CircuitMismatch {
        /// The circuit named.
        circuit: String,
        /// The tier named.
        tier: usize,
    },
    /// The proof was made for a different verifying key than the one held for its tier.
    #[error("proof is for verifying key {proof_key}, but the key for tier {tier} is {held_key}")]
    WrongKey {
        /// Tier of the proof.
        tier: usize,
        /// Fingerprint named in the proof.
        proof_key: String,
        /// Fingerprint of the key held.
        held_key: String,
    },
    /// The keys could not be loaded (missing tier, integrity failure).
    #[error(transparent)]
    Keys(#[from] FormatError),
    /// The proof bytes or public inputs do not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Everything decodes, but the pairing check fails: the proof is not valid
    /// for these public inputs under this key.
    #[error("proof does not verify for these public inputs under this key")]
    Rejected,
}
