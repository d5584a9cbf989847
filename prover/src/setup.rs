//! Circuit-specific Groth16 setup for a tier.

use std::time::{SystemTime, UNIX_EPOCH};

use ark_bls12_381::Bls12_381;
use ark_groth16::{Groth16, ProvingKey, VerifyingKey};
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use rand::{rngs::OsRng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use zktx_circuits::{encoding, CircuitInfo, OverlapCircuit, Tier};

use zktx_formats::{
    fingerprint::{sha256_hex, vk_fingerprint},
    KeyManifest, KeyOrigin, TierKeys, DEV_KEYS_WARNING, MANIFEST_FORMAT, MANIFEST_VERSION,
    SINGLE_PARTY_WARNING,
};

use crate::ProverError;

/// Where the setup's randomness comes from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A seed string, for reproducible development keys (insecure).
    DevSeed(String),
    /// The operating system's CSPRNG (single-party setup).
    OsRandom,
}

fn dev_rng(seed: &str) -> ChaCha20Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"zktx/dev-seed/v1\0");
    hasher.update(seed.as_bytes());
    ChaCha20Rng::from_seed(hasher.finalize().into())
}

/// Runs the Groth16 setup for `tier`.
pub fn generate_keys(tier: Tier, source: &KeySource) -> Result<TierKeys, ProverError> {
    let circuit = OverlapCircuit::for_setup(tier);
    let (proving_key, verifying_key) = match source {
        KeySource::DevSeed(seed) => {
            Groth16::<Bls12_381>::circuit_specific_setup(circuit, &mut dev_rng(seed))?
        }
        KeySource::OsRandom => Groth16::<Bls12_381>::circuit_specific_setup(circuit, &mut OsRng)?,
    };
    let (origin, warning) = match source {
        KeySource::DevSeed(_) => (KeyOrigin::DevSeed, Some(DEV_KEYS_WARNING)),
        KeySource::OsRandom => (KeyOrigin::SingleParty, Some(SINGLE_PARTY_WARNING)),
    };
    let info = CircuitInfo::measure(tier);
    package_keys(&info, proving_key, verifying_key, origin, warning)
}

/// Encodes a key pair for the measured circuit `info` and writes its manifest
/// (shared by setup and import, which each measure the circuit once).
pub(crate) fn package_keys(
    info: &CircuitInfo,
    proving_key: ProvingKey<Bls12_381>,
    verifying_key: VerifyingKey<Bls12_381>,
    origin: KeyOrigin,
    warning: Option<&str>,
) -> Result<TierKeys, ProverError> {
    let mut proving_key_bytes = Vec::with_capacity(proving_key.compressed_size());
    proving_key.serialize_compressed(&mut proving_key_bytes)?;
    let mut proving_key_uncompressed = Vec::with_capacity(proving_key.uncompressed_size());
    proving_key.serialize_uncompressed(&mut proving_key_uncompressed)?;
    let manifest = KeyManifest {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        circuit: encoding::CIRCUIT_NAME.into(),
        circuit_version: encoding::CIRCUIT_VERSION,
        circuit_id: info.circuit_id.clone(),
        tier: info.tier.capacity(),
        constraints: info.constraints,
        public_inputs: info.public_inputs,
        vk_fingerprint: vk_fingerprint(&verifying_key),
        pk_sha256: sha256_hex(&proving_key_bytes),
        pk_uncompressed_sha256: Some(sha256_hex(&proving_key_uncompressed)),
        dev_keys: origin == KeyOrigin::DevSeed,
        origin,
        warning: warning.map(str::to_owned),
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    Ok(TierKeys {
        manifest,
        proving_key,
        verifying_key,
        proving_key_bytes,
        proving_key_uncompressed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_seed_is_reproducible_and_marked() {
        let tier = Tier::new(2).unwrap();
        let a = generate_keys(tier, &KeySource::DevSeed("s".into())).unwrap();
        let b = generate_keys(tier, &KeySource::DevSeed("s".into())).unwrap();
        let c = generate_keys(tier, &KeySource::DevSeed("t".into())).unwrap();
        assert_eq!(a.manifest.vk_fingerprint, b.manifest.vk_fingerprint);
        assert_ne!(a.manifest.vk_fingerprint, c.manifest.vk_fingerprint);
        assert!(a.manifest.dev_keys);
        assert_eq!(a.manifest.origin, KeyOrigin::DevSeed);
        assert_eq!(a.manifest.public_inputs, 4);
    }

    #[test]
    fn os_random_keys_are_not_dev_keys() {
        let keys = generate_keys(Tier::new(2).unwrap(), &KeySource::OsRandom).unwrap();
        assert!(!keys.manifest.dev_keys);
        assert_eq!(keys.manifest.origin, KeyOrigin::SingleParty);
    }
}
