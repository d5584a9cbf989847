//! Single-proof verification of a decoded statement or a proof file.

use ark_bls12_381::Bls12_381;
use ark_groth16::{Groth16, Proof};
use zktx_circuits::{encoding, PublicInputs, Tier};
use zktx_formats::{KeyDir, ProofEnvelope, ENVELOPE_FORMAT, ENVELOPE_VERSION};

use crate::{
    decode, BatchItem, Invalid, KeyFingerprint, PreparedKey, PreparedKeyRegistry, Verdict,
    VerifyError,
};

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The tier of the proof.
    pub tier: Tier,
    /// The proven bound: |A ∩ B| ≤ k.
    pub k: u64,
    /// Fingerprint of the key that verified it.
    pub vk_fingerprint: String,
    /// Whether that key is a development key.
    pub dev_keys: bool,
}

/// Verifies a decoded proof for `public` under `key` (the pairing check).
pub fn verify_proof(
    key: &PreparedKey,
    proof: &Proof<Bls12_381>,
    public: &PublicInputs,
) -> Result<(), VerifyError> {
    let inputs = public.to_vec();
    if !key.fits_inputs(inputs.len()) {
        return Err(VerifyError::Rejected);
    }
    match Groth16::<Bls12_381>::verify_proof(key.prepared(), proof, &inputs) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::Rejected),
    }
}

/// Parses a proof file's JSON and checks its format, version and circuit.
pub fn parse_envelope(json: &[u8]) -> Result<(ProofEnvelope, Tier), VerifyError> {
    let envelope: ProofEnvelope =
        serde_json::from_slice(json).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if envelope.format != ENVELOPE_FORMAT || envelope.version != ENVELOPE_VERSION {
        return Err(VerifyError::UnsupportedFormat {
            format: envelope.format,
            version: envelope.version,
        });
    }
    let tier = Tier::new(envelope.tier).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if envelope.circuit != encoding::circuit_id(tier) {
        return Err(VerifyError::CircuitMismatch {
            circuit: envelope.circuit,
            tier: envelope.tier,
        });
    }
    Ok((envelope, tier))
}

/// Verifies a parsed envelope under `key`: the key must be the one the proof names.
pub fn verify_envelope(
    key: &PreparedKey,
    envelope: &ProofEnvelope,
) -> Result<Verified, VerifyError> {
    if envelope.vk_fingerprint != key.fingerprint() || envelope.tier != key.tier().capacity() {
        return Err(VerifyError::WrongKey {
            tier: envelope.tier,
            proof_key: envelope.vk_fingerprint.clone(),
            held_key: key.fingerprint().to_owned(),
        });
    }
    let proof = decode::decode_proof_base64(&envelope.proof)?;
    let public = decode::decode_public_inputs(&envelope.public_inputs)?;
    verify_proof(key, &proof, &public)?;
    Ok(Verified {
        tier: key.tier(),
        k: envelope.public_inputs.k,
        vk_fingerprint: key.fingerprint().to_owned(),
        dev_keys: key.dev_keys(),
    })
}

/// Verifies a proof file's bytes against the keys in `keys` for the tier it names.
pub fn verify_file_bytes(keys: &KeyDir, json: &[u8]) -> Result<Verified, VerifyError> {
    let (envelope, tier) = parse_envelope(json)?;
    let key = PreparedKey::load(keys, tier)?;
    verify_envelope(&key, &envelope)
}

/// Verifies one batch item alone, with ark-groth16's own verifier: the
/// reference that [`crate::BatchVerifier`]'s verdicts must equal.
pub fn verify_item(registry: &PreparedKeyRegistry, item: &BatchItem) -> Verdict {
    // Deliberately shares nothing with the batch path beyond decoding: it is the
    // oracle the batch verifier's verdicts are tested against.
    let verdict = || -> Result<(), Invalid> {
        let fingerprint = KeyFingerprint::parse(&item.key).map_err(|_| Invalid::MalformedKey)?;
        let key = registry
            .get(&fingerprint)
            .ok_or_else(|| Invalid::UnknownKey(fingerprint.to_string()))?;
        let public = decode::decode_public_inputs(&item.inputs)?;
        let proof = decode::decode_proof(&item.proof)?;
        verify_proof(key.key(), &proof, &public).map_err(|_| Invalid::Rejected)
    };
    match verdict() {
        Ok(()) => Verdict::Valid,
        Err(why) => Verdict::Invalid(why),
    }
}
