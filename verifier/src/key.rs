//! A prepared verifying key for one tier.

use ark_bls12_381::Bls12_381;
use ark_groth16::{prepare_verifying_key, PreparedVerifyingKey, VerifyingKey};
use zktx_circuits::Tier;
use zktx_formats::{fingerprint::vk_fingerprint, KeyDir};

use crate::VerifyError;

/// A verifying key prepared for pairing checks, with its identity.
#[derive(Clone, Debug)]
pub struct PreparedKey {
    tier: Tier,
    fingerprint: String,
    dev_keys: bool,
    pvk: PreparedVerifyingKey<Bls12_381>,
}

impl PreparedKey {
    /// Prepares `vk` for `tier`.
    pub fn new(tier: Tier, vk: &VerifyingKey<Bls12_381>, dev_keys: bool) -> Self {
        Self {
            tier,
            fingerprint: vk_fingerprint(vk),
            dev_keys,
            pvk: prepare_verifying_key(vk),
        }
    }

    /// Loads and prepares the key of `tier` from a key directory (validated, fingerprint-checked).
    pub fn load(keys: &KeyDir, tier: Tier) -> Result<Self, VerifyError> {
        let (manifest, vk) = keys.verifying_key(tier)?;
        Ok(Self::new(tier, &vk, manifest.dev_keys))
    }

    /// The tier the key verifies.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// Hex SHA-256 of the compressed verifying key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether these are development keys (anyone with the seed can forge).
    pub fn dev_keys(&self) -> bool {
        self.dev_keys
    }

    /// Whether the key takes `count` public inputs (it has `count + 1` input points).
    ///
    /// ark-groth16 0.6 zips inputs with the key's input points without checking
    /// their counts, so a key with too few points would silently ignore inputs:
    /// every verification path checks this first.
    pub fn fits_inputs(&self, count: usize) -> bool {
        self.pvk.vk.gamma_abc_g1.len() == count + 1
    }

    /// The prepared key.
    pub fn prepared(&self) -> &PreparedVerifyingKey<Bls12_381> {
        &self.pvk
    }
}
