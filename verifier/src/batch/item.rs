//! What goes into a batch and what comes out.

use std::sync::Arc;

use base64::Engine as _;
use zktx_circuits::Fr;
use zktx_formats::{EnvelopeInputs, ProofEnvelope};

use crate::{
    decode, DecodeError, Invalid, KeyFingerprint, PreparedKeyRegistry, RegisteredKey,
    StatementDigest, Verdict, VerdictKey,
};

/// One proof to verify: the key it is for, its bytes and its public inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchItem {
    /// Hex fingerprint of the verifying key the proof is for.
    pub key: String,
    /// The compressed proof, A ‖ B ‖ C (192 bytes).
    pub proof: Vec<u8>,
    /// The public inputs as submitted (canonical hex scalars and k).
    pub inputs: EnvelopeInputs,
}

impl BatchItem {
    /// The item a proof file describes.
    pub fn from_envelope(envelope: &ProofEnvelope) -> Result<Self, DecodeError> {
        Ok(Self {
            key: envelope.vk_fingerprint.clone(),
            proof: base64::engine::general_purpose::STANDARD
                .decode(&envelope.proof)
                .map_err(|_| DecodeError::Base64)?,
            inputs: envelope.public_inputs.clone(),
        })
    }
}

/// The verdict on one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemOutcome {
    /// Valid, or invalid and why.
    pub verdict: Verdict,
    /// What the item claims (key + public inputs), when its key and inputs decode.
    /// Meter, deduplicate and refuse replays by this, never by proof bytes.
    pub statement: Option<StatementDigest>,
    /// Whether the verdict came from the verdict cache.
    pub cached: bool,
}

/// What the batch verifier did, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Items submitted.
    pub items: usize,
    /// Items answered from the verdict cache.
    pub cache_hits: usize,
    /// Items that repeat an earlier item of the same batch byte for byte.
    pub duplicates: usize,
    /// Items whose proof decoded and went into the batch equation.
    pub decoded: usize,
    /// Evaluations of the (sub-)batch equation, one final exponentiation each.
    pub batch_checks: usize,
    /// Items verified alone while locating invalid ones.
    pub single_checks: usize,
}

/// One verdict per item, in order, and what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchReport {
    /// One outcome per item, in the order given.
    pub outcomes: Vec<ItemOutcome>,
    /// Counters for this batch.
    pub stats: BatchStats,
}

impl BatchReport {
    /// Whether every item is valid.
    pub fn all_valid(&self) -> bool {
        self.outcomes.iter().all(|o| o.verdict.is_valid())
    }
}

/// An item whose key is known and whose public inputs decode.
pub(crate) struct Resolved {
    pub key: Arc<RegisteredKey>,
    pub inputs: Vec<Fr>,
    pub statement: StatementDigest,
    pub verdict_key: VerdictKey,
}

/// Finds an item's key and decodes its public inputs.
pub(crate) fn resolve(
    registry: &PreparedKeyRegistry,
    item: &BatchItem,
) -> Result<Resolved, Invalid> {
    let fingerprint = KeyFingerprint::parse(&item.key).map_err(|_| Invalid::MalformedKey)?;
    let key = registry
        .get(&fingerprint)
        .ok_or_else(|| Invalid::UnknownKey(fingerprint.to_string()))?
        .clone();
    let public = decode::decode_public_inputs(&item.inputs)?;
    Ok(Resolved {
        key,
        inputs: public.to_vec(),
        statement: StatementDigest::new(&fingerprint, &public),
        verdict_key: VerdictKey::new(&fingerprint, &public, &item.proof),
    })
}
