//! Supply-chain provenance: an in-toto Statement v1 with an SLSA
//! Provenance v1 predicate about the release's artifacts, in a DSSE
//! envelope signed with Ed25519 ([`dsse`], [`statement`]). Checking it
//! needs the envelope, the signer's public key and the artifacts.

pub mod attestation;
pub mod dsse;
pub mod statement;

pub use statement::{
    file_sha256, open, sign, statement, subjects, verify, BuildFacts, ProvenanceError, Statement,
    Subject, Verified, UNOFFICIAL_BUILDER,
};
