//! zktx verifier: validated decoding and Groth16 verification of overlap proofs.
//!
//! Every failure is a typed [`VerifyError`]; a proof that decodes but fails the
//! pairing check is [`VerifyError::Rejected`], distinct from decoding errors.
#![forbid(unsafe_code)]

pub mod decode;
mod error;
mod key;
mod verify;

pub use error::{DecodeError, PointError, ProofPoint, VerifyError};
pub use key::PreparedKey;
pub use verify::{parse_envelope, verify_envelope, verify_file_bytes, verify_proof, Verified};
