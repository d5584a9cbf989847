//! zktx verifier: validated decoding, single and batch Groth16 verification of
//! overlap proofs.
//!
//! - [`verify_file_bytes`] / [`verify_envelope`]: one proof file, with a typed
//!   [`VerifyError`] for each way it can be bad.
//! - [`BatchVerifier`]: many proofs, for many keys, in one pairing product on a
//!   rayon pool, one [`Verdict`] per item; [`PreparedKeyRegistry`] holds the keys.
//! - [`VerdictCache`] remembers verdicts on exact submissions.
//!
//! # Proofs are malleable: count statements, not proofs
//!
//! Anyone holding a Groth16 verifying key can re-randomise a valid proof into
//! another valid proof of the same statement, with different bytes. So proof
//! bytes identify nothing: the [`StatementDigest`] (key fingerprint + public
//! inputs) is what metering, deduplication and replay checks must use. The
//! [`VerdictKey`] (which also covers the proof bytes) only keys the verdict
//! cache, and a re-randomised proof misses it.
#![forbid(unsafe_code)]

mod backend;
mod batch;
mod cache;
pub mod decode;
mod digest;
mod error;
mod key;
mod registry;
mod verdict;
mod verify;

pub use backend::PairingBackend;
pub use batch::{
    per_proof_floor, verify_single, BatchConfig, BatchItem, BatchReport, BatchStats, BatchVerifier,
    ItemOutcome, PoolError,
};
pub use cache::{CacheConfig, CacheStats, VerdictCache};
pub use digest::{FingerprintError, KeyFingerprint, StatementDigest, VerdictKey};
pub use error::{DecodeError, PointError, ProofPoint, VerifyError};
pub use key::PreparedKey;
pub use registry::{PreparedKeyRegistry, RegisteredKey};
pub use verdict::{Invalid, Verdict};
pub use verify::{
    parse_envelope, verify_envelope, verify_file_bytes, verify_item, verify_proof, Verified,
};
