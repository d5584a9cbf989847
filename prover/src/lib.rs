//! zktx prover side: set files, Groth16 keys and proving for the overlap circuit.
//!
//! - [`setfiles`]: identifier lists → set commitments (public) and openings (private);
//! - [`generate_keys`], [`import_keys`] and [`KeyDir`]: setup, ceremony import, key storage, fingerprints;
//! - [`prove`] / [`prove_envelope`]: proofs, self-verified before they are returned;
//! - [`ProofEnvelope`]: the proof file format.
#![forbid(unsafe_code)]

mod envelope;
mod error;
pub mod fingerprint;
mod fsutil;
mod import;
mod keystore;
mod manifest;
mod prove;
pub mod setfiles;
mod setup;

pub use envelope::{EnvelopeInputs, ProofEnvelope, ENVELOPE_FORMAT, ENVELOPE_VERSION};
pub use error::ProverError;
pub use fsutil::{write_atomically, write_with_mode};
pub use import::import_keys;
pub use keystore::KeyDir;
pub use manifest::{KeyManifest, KeyOrigin, DEV_KEYS_WARNING, SINGLE_PARTY_WARNING};
pub use prove::{prove, prove_envelope};
pub use setup::{generate_keys, GeneratedKeys, KeySource};
