//! zktx prover side: set files, Groth16 keys and proving for the overlap circuit.
//!
//! - [`setfiles`]: identifier lists → set commitments (public) and openings (private);
//! - [`generate_keys`] and [`import_keys`]: setup and ceremony import, as
//!   `zktx_formats::TierKeys` to write into a `zktx_formats::KeyDir`;
//! - [`prove`] / [`prove_envelope`]: proofs, self-verified before they are returned.
//!
//! The files it writes (proof envelopes, key directories, manifests) are
//! `zktx-formats`' types, shared with the verifier, which never links this crate.
#![forbid(unsafe_code)]

mod error;
mod import;
mod prove;
pub mod setfiles;
mod setup;

pub use error::ProverError;
pub use import::import_keys;
pub use prove::{prove, prove_envelope};
pub use setup::{generate_keys, KeySource};
