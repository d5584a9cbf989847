//! Proving: check the statement natively, prove it, and self-verify before anything is written.

use ark_bls12_381::Bls12_381;
use ark_groth16::{prepare_verifying_key, Groth16, Proof, ProvingKey};
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore};
use zktx_circuits::{
    honest_instance, Fr, OverlapCircuit, OverlapWitness, PublicInputs, SetOpening, Tier,
};

use zktx_formats::{KeyDir, ProofEnvelope};

use crate::ProverError;

/// Proves |A ∩ B| ≤ k for the two openings, bound to `context`.
///
/// Refuses with [`zktx_circuits::CircuitError::OverlapExceedsK`] when the
/// statement is false, and with [`ProverError::SelfCheckFailed`] if the proof
/// would not verify: it never returns a proof that does not verify.
pub fn prove<R: RngCore + CryptoRng>(
    pk: &ProvingKey<Bls12_381>,
    a: &SetOpening,
    b: &SetOpening,
    k: u64,
    context: Fr,
    rng: &mut R,
) -> Result<(PublicInputs, Proof<Bls12_381>), ProverError> {
    let (public, witness) = honest_instance(a, b, k, context)?;
    let proof = prove_instance(pk, a.tier(), public, witness, rng)?;
    Ok((public, proof))
}

/// Proves an instance already checked by [`honest_instance`], and verifies the proof.
fn prove_instance<R: RngCore + CryptoRng>(
    pk: &ProvingKey<Bls12_381>,
    tier: Tier,
    public: PublicInputs,
    witness: OverlapWitness,
    rng: &mut R,
) -> Result<Proof<Bls12_381>, ProverError> {
    let circuit = OverlapCircuit::with_assignment(tier, public, witness);
    let proof = Groth16::<Bls12_381>::prove(pk, circuit, rng)?;
    let pvk = prepare_verifying_key(&pk.vk);
    if !Groth16::<Bls12_381>::verify_proof(&pvk, &proof, &public.to_vec())? {
        return Err(ProverError::SelfCheckFailed);
    }
    Ok(proof)
}

/// Loads the tier's proving key from `keys` and proves into an envelope.
pub fn prove_envelope<R: RngCore + CryptoRng>(
    keys: &KeyDir,
    a: &SetOpening,
    b: &SetOpening,
    k: u64,
    context: Fr,
    rng: &mut R,
) -> Result<ProofEnvelope, ProverError> {
    // Refuse a false statement before the (possibly large) key is loaded.
    let (public, witness) = honest_instance(a, b, k, context)?;
    // The manifest's fingerprint is the key's: `KeyDir` checked it on load.
    let (manifest, pk) = keys.proving_key(a.tier())?;
    let proof = prove_instance(&pk, a.tier(), public, witness, rng)?;
    Ok(ProofEnvelope::new(
        a.tier(),
        manifest.vk_fingerprint,
        &public,
        k,
        &proof,
    ))
}
