//! The proof file: a versioned JSON envelope around a compressed Groth16 proof.
//!
//! ```json
//! { "format": "zktx-proof", "version": 1,
//!   "circuit": "zktx/overlap/v1/capacity-16", "tier": 16,
//!   "vk_fingerprint": "<hex SHA-256 of the compressed verifying key>",
//!   "public_inputs": { "commit_a": "<64 hex>", "commit_b": "<64 hex>", "k": 3, "context": "<64 hex>" },
//!   "proof": "<base64 of the 192-byte compressed proof: A (G1) ‖ B (G2) ‖ C (G1)>" }
//! ```
//! Field elements are 64 hex digits, big-endian, canonical (below r).
//! This module writes envelopes; the verifier decodes them with full validation.

use ark_bls12_381::Bls12_381;
use ark_groth16::Proof;
use ark_serialize::CanonicalSerialize;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zktx_circuits::{encoding, PublicInputs, Tier};

/// Envelope format identifier.
pub const ENVELOPE_FORMAT: &str = "zktx-proof";
/// Envelope format version.
pub const ENVELOPE_VERSION: u32 = 1;

/// The public inputs as they appear in the envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeInputs {
    /// Commitment to set A (64 hex digits).
    pub commit_a: String,
    /// Commitment to set B (64 hex digits).
    pub commit_b: String,
    /// The bound k.
    pub k: u64,
    /// The context (64 hex digits).
    pub context: String,
}

/// A proof file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofEnvelope {
    /// Always [`ENVELOPE_FORMAT`].
    pub format: String,
    /// Always [`ENVELOPE_VERSION`].
    pub version: u32,
    /// The circuit identifier, tier included.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// Fingerprint of the verifying key the proof is for.
    pub vk_fingerprint: String,
    /// The statement's public inputs.
    pub public_inputs: EnvelopeInputs,
    /// Base64 of the compressed proof.
    pub proof: String,
}

impl ProofEnvelope {
    /// Wraps a proof for `tier` under the key `vk_fingerprint`; `k` is the
    /// integer bound the statement was built with.
    pub fn new(
        tier: Tier,
        vk_fingerprint: String,
        public: &PublicInputs,
        k: u64,
        proof: &Proof<Bls12_381>,
    ) -> Self {
        let mut bytes = Vec::with_capacity(proof.compressed_size());
        proof
            .serialize_compressed(&mut bytes)
            .expect("serialising into a Vec cannot fail");
        Self {
            format: ENVELOPE_FORMAT.into(),
            version: ENVELOPE_VERSION,
            circuit: encoding::circuit_id(tier),
            tier: tier.capacity(),
            vk_fingerprint,
            public_inputs: EnvelopeInputs {
                commit_a: encoding::fr_to_hex(&public.commit_a),
                commit_b: encoding::fr_to_hex(&public.commit_b),
                k,
                context: encoding::fr_to_hex(&public.context),
            },
            proof: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The envelope as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("envelope serialises")
    }
}
