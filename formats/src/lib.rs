//! What travels between zktx parties and lives on disk.
//!
//! - [`ProofEnvelope`]: the proof file, with its public inputs in hex;
//! - [`KeyDir`], [`KeyManifest`], [`TierKeys`]: key directories, their
//!   manifests and the validated reading of verifying and proving keys;
//! - [`DataDir`]: the layout of a server's or sandbox's data directory;
//! - [`fingerprint`]: SHA-256 fingerprints of keys and files;
//! - [`write_atomically`] / [`write_with_mode`]: how every file is written.
//!
//! # Why a crate of its own
//!
//! The prover writes these files and the verifier reads them; the server and
//! clients pass them along. Were they owned by the prover, a service that only
//! verifies would link the proving side; were they owned by the verifier, the
//! prover would depend on verification code for its file formats. A small
//! crate below both keeps the two siblings: the verifier links neither
//! `zktx-prover` nor `ark-r1cs-std` (it uses `zktx-circuits` without its `r1cs`
//! feature, for tiers, statements and their encoding), and the prover keeps
//! calling the verifier's checks only where it means to.
#![forbid(unsafe_code)]

pub mod datadir;
mod envelope;
mod error;
pub mod fingerprint;
mod fsutil;
pub mod keydir;
mod manifest;
pub mod snarkjs;

pub use datadir::DataDir;
pub use envelope::{EnvelopeInputs, ProofEnvelope, ENVELOPE_FORMAT, ENVELOPE_VERSION};
pub use error::FormatError;
pub use fsutil::{write_atomically, write_with_mode};
pub use keydir::{KeyDir, TierKeys};
pub use manifest::{
    KeyManifest, KeyOrigin, DEV_KEYS_WARNING, MANIFEST_FORMAT, MANIFEST_VERSION,
    SINGLE_PARTY_WARNING,
};
