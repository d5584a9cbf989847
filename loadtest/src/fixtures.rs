//! Proof fixtures: statements proved once per tier and key, cached on disk
//! beside nothing secret (the sets are synthetic), then re-randomised into as
//! many distinct proofs as a run needs, so a run spends its time on the server.

use std::path::{Path, PathBuf};

use ark_bls12_381::Bls12_381;
use ark_groth16::{Groth16, Proof, VerifyingKey};
use ark_serialize::CanonicalSerialize;
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use zktx_circuits::{SetOpening, Tier};
use zktx_formats::{KeyDir, ProofEnvelope, TierKeys};
use zktx_prover::prove;
use zktx_verifier::{decode, BatchItem};

use crate::LoadError;

/// Two full synthetic sets for `tier` overlapping in a quarter of their
/// members, and that overlap. Deterministic in `seed`.
pub fn full_sets(tier: Tier, seed: u64) -> (SetOpening, SetOpening, u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let n = tier.capacity() as u64;
    let shared = n / 4;
    let mut universe: Vec<u64> = (0..2 * n - shared)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed)
        .collect();
    universe.shuffle(&mut rng);
    let a_ids = universe[..n as usize].to_vec();
    let b_ids = universe[(n - shared) as usize..].to_vec();
    let a = SetOpening::with_random_salt(tier, a_ids, &mut rng).expect("fits the tier");
    let b = SetOpening::with_random_salt(tier, b_ids, &mut rng).expect("fits the tier");
    (a, b, shared)
}

/// `statements` proof files under `keys`: statement `i` is [`full_sets`]`(tier, 100 + i)`
/// with k equal to the true overlap and context `i`.
pub fn prove_statements(keys: &TierKeys, statements: usize) -> Vec<ProofEnvelope> {
    let tier = Tier::new(keys.manifest.tier).expect("a generated tier is valid");
    prove_with(
        tier,
        &keys.manifest.vk_fingerprint,
        &keys.proving_key,
        statements,
    )
}

fn prove_with(
    tier: Tier,
    fingerprint: &str,
    pk: &ark_groth16::ProvingKey<Bls12_381>,
    statements: usize,
) -> Vec<ProofEnvelope> {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    (0..statements as u64)
        .map(|i| {
            let (a, b, shared) = full_sets(tier, 100 + i);
            let context = ark_bls12_381::Fr::from(i);
            let (public, proof) = prove(pk, &a, &b, shared, context, &mut rng).expect("prove");
            ProofEnvelope::new(tier, fingerprint.to_string(), &public, shared, &proof)
        })
        .collect()
}

/// `count` proofs under `keys`: item `i` proves statement `i % statements`
/// (each statement proved once, later items re-randomised, so every item has
/// its own bytes).
pub fn proof_items(keys: &TierKeys, statements: usize, count: usize) -> Vec<BatchItem> {
    let envelopes = prove_statements(keys, statements);
    rerandomised(&keys.verifying_key, &envelopes, count, 7, true)
}

/// `count` items cycling over `envelopes`, each a fresh re-randomisation
/// (in parallel, deterministic in `seed`), except that the first pass keeps
/// the proved bytes when `keep_first_pass`.
pub fn rerandomised(
    vk: &VerifyingKey<Bls12_381>,
    envelopes: &[ProofEnvelope],
    count: usize,
    seed: u64,
    keep_first_pass: bool,
) -> Vec<BatchItem> {
    let originals: Vec<(BatchItem, Proof<Bls12_381>)> = envelopes
        .iter()
        .map(|e| {
            let item = BatchItem::from_envelope(e).expect("a fixture envelope decodes");
            let proof = decode::decode_proof(&item.proof).expect("a fixture proof decodes");
            (item, proof)
        })
        .collect();
    (0..count)
        .into_par_iter()
        .map(|i| {
            let (item, proof) = &originals[i % originals.len()];
            if keep_first_pass && i < originals.len() {
                return item.clone();
            }
            let mut rng = ChaCha20Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
            let fresh = Groth16::<Bls12_381>::rerandomize_proof(vk, proof, &mut rng);
            let mut bytes = Vec::with_capacity(item.proof.len());
            fresh
                .serialize_compressed(&mut bytes)
                .expect("serialising into a Vec cannot fail");
            BatchItem {
                proof: bytes,
                ..item.clone()
            }
        })
        .collect()
}

/// Proved statements for one tier and key, cached in a directory.
pub struct FixtureCache {
    dir: PathBuf,
}

impl FixtureCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `statements` proved statements for `tier` under the keys in `keys`:
    /// read from the cache when it holds them for this key, else proved with
    /// the proving key and cached. Returns them with the verifying key.
    pub fn statements(
        &self,
        keys: &KeyDir,
        tier: Tier,
        statements: usize,
    ) -> Result<(Vec<ProofEnvelope>, VerifyingKey<Bls12_381>), LoadError> {
        let (manifest, vk) = keys.verifying_key(tier)?;
        let path = self.dir.join(format!(
            "tier-{}-{}-{statements}.json",
            tier.capacity(),
            &manifest.vk_fingerprint[..16]
        ));
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(cached) = serde_json::from_slice::<Vec<ProofEnvelope>>(&bytes) {
                if cached.len() == statements
                    && cached
                        .iter()
                        .all(|e| e.vk_fingerprint == manifest.vk_fingerprint)
                {
                    return Ok((cached, vk));
                }
            }
        }
        tracing::info!(
            tier = tier.capacity(),
            statements,
            "proving load-test fixtures (cached afterwards)"
        );
        let (manifest, pk) = keys.proving_key(tier)?;
        let proved = prove_with(tier, &manifest.vk_fingerprint, &pk, statements);
        std::fs::create_dir_all(&self.dir).map_err(|e| LoadError::io(&self.dir, e))?;
        let json = serde_json::to_vec(&proved).expect("envelopes serialise");
        std::fs::write(&path, json).map_err(|e| LoadError::io(&path, e))?;
        Ok((proved, vk))
    }
}
