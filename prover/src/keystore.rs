//! A key directory: one sub-directory per tier holding its keys and manifest.
//!
//! ```text
//! DIR/tier-16/manifest.json        what the keys are, their fingerprints, their origin
//! DIR/tier-16/verifying_key.bin    compressed, validated on every load
//! DIR/tier-16/proving_key.bin      compressed, hash-checked against the manifest
//! DIR/tier-16/proving_key.uncompressed.bin
//!                                  the same key uncompressed: loads in milliseconds
//!                                  instead of minutes (see `KeyManifest::pk_uncompressed_sha256`)
//! ```

use std::{
    fs,
    path::{Path, PathBuf},
};

use ark_bls12_381::Bls12_381;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, Compress, Validate};
use zktx_circuits::{encoding, Tier};

use crate::{
    fingerprint::{sha256_hex, vk_fingerprint},
    fsutil::write_atomically,
    manifest::{KeyManifest, MANIFEST_FORMAT, MANIFEST_VERSION},
    setup::GeneratedKeys,
    ProverError,
};

const MANIFEST: &str = "manifest.json";
const VERIFYING_KEY: &str = "verifying_key.bin";
const PROVING_KEY: &str = "proving_key.bin";
const PROVING_KEY_UNCOMPRESSED: &str = "proving_key.uncompressed.bin";

/// A directory of keys for one or more tiers.
#[derive(Clone, Debug)]
pub struct KeyDir {
    root: PathBuf,
}

impl KeyDir {
    /// A key directory at `root` (it need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The sub-directory of a tier.
    pub fn tier_dir(&self, tier: Tier) -> PathBuf {
        self.root.join(format!("tier-{}", tier.capacity()))
    }

    /// Writes a tier's keys and manifest (the manifest last, so a tier with a
    /// manifest is complete).
    pub fn write(&self, keys: &GeneratedKeys) -> Result<PathBuf, ProverError> {
        let tier = Tier::new(keys.manifest.tier)?;
        let dir = self.tier_dir(tier);
        fs::create_dir_all(&dir).map_err(|e| ProverError::io(&dir, e))?;
        write_atomically(&dir.join(PROVING_KEY), &keys.proving_key_bytes)?;
        write_atomically(
            &dir.join(PROVING_KEY_UNCOMPRESSED),
            &keys.proving_key_uncompressed,
        )?;
        write_atomically(
            &dir.join(VERIFYING_KEY),
            &crate::fingerprint::verifying_key_bytes(&keys.verifying_key),
        )?;
        let manifest = serde_json::to_vec_pretty(&keys.manifest).expect("manifest serialises");
        write_atomically(&dir.join(MANIFEST), &manifest)?;
        Ok(dir)
    }

    /// Refuses with [`ProverError::WouldOverwrite`] when `tier` already has keys
    /// and `force` is not set: replacing keys makes every proof made with them
    /// stop verifying. Call it before the (slow) setup or import.
    pub fn ensure_writable(&self, tier: Tier, force: bool) -> Result<(), ProverError> {
        if self.has_tier(tier) && !force {
            return Err(ProverError::WouldOverwrite {
                path: self.tier_dir(tier).join(MANIFEST),
            });
        }
        Ok(())
    }

    /// Whether the directory has a complete key set for `tier`.
    pub fn has_tier(&self, tier: Tier) -> bool {
        self.tier_dir(tier).join(MANIFEST).is_file()
    }

    /// The tiers with a manifest, ascending.
    pub fn tiers(&self) -> Result<Vec<Tier>, ProverError> {
        let entries = fs::read_dir(&self.root).map_err(|e| ProverError::io(&self.root, e))?;
        let mut tiers: Vec<Tier> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("tier-")?.parse().ok())
            .filter_map(|n: usize| Tier::new(n).ok())
            .filter(|t| self.has_tier(*t))
            .collect();
        tiers.sort();
        Ok(tiers)
    }

    /// Reads and checks a tier's manifest.
    pub fn manifest(&self, tier: Tier) -> Result<KeyManifest, ProverError> {
        let path = self.tier_dir(tier).join(MANIFEST);
        if !path.is_file() {
            return Err(ProverError::KeysMissing {
                dir: self.root.clone(),
                tier: tier.capacity(),
            });
        }
        let bytes = fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
        let manifest: KeyManifest =
            serde_json::from_slice(&bytes).map_err(|source| ProverError::Json {
                path: path.clone(),
                what: "key manifest",
                source,
            })?;
        let expected_id = encoding::circuit_id(tier);
        if manifest.format != MANIFEST_FORMAT
            || manifest.version != MANIFEST_VERSION
            || manifest.tier != tier.capacity()
            || manifest.circuit_id != expected_id
        {
            return Err(ProverError::BadFile {
                path,
                reason: format!("manifest is not a {MANIFEST_FORMAT} v{MANIFEST_VERSION} manifest for {expected_id}"),
            });
        }
        Ok(manifest)
    }

    /// Loads a tier's verifying key, fully validated, and checks its fingerprint.
    pub fn verifying_key(
        &self,
        tier: Tier,
    ) -> Result<(KeyManifest, VerifyingKey<Bls12_381>), ProverError> {
        let manifest = self.manifest(tier)?;
        let path = self.tier_dir(tier).join(VERIFYING_KEY);
        let bytes = fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
        let vk = VerifyingKey::<Bls12_381>::deserialize_with_mode(
            bytes.as_slice(),
            Compress::Yes,
            Validate::Yes,
        )
        .map_err(|e| ProverError::KeyIntegrity {
            path: path.clone(),
            reason: format!("not a valid compressed verifying key ({e})"),
        })?;
        let fingerprint = sha256_hex(&bytes);
        if fingerprint != manifest.vk_fingerprint || vk_fingerprint(&vk) != fingerprint {
            return Err(ProverError::KeyIntegrity {
                path,
                reason: format!(
                    "verifying key fingerprint {fingerprint} differs from the manifest's {}",
                    manifest.vk_fingerprint
                ),
            });
        }
        if vk.gamma_abc_g1.len() != manifest.public_inputs + 1 {
            return Err(ProverError::KeyIntegrity {
                path,
                reason: "verifying key has the wrong number of public inputs".into(),
            });
        }
        Ok((manifest, vk))
    }

    /// Loads a tier's proving key after checking the file's SHA-256 against the manifest.
    ///
    /// The uncompressed copy is preferred when the manifest pins it; otherwise
    /// the compressed key is decompressed (slow at large tiers). Points are not
    /// re-validated (that costs as much as decompression): the hash ties the
    /// file to what setup wrote, and every proof is verified against the
    /// validated verifying key before it is written, so a corrupt proving key
    /// can only produce a refusal, never a bad proof.
    pub fn proving_key(
        &self,
        tier: Tier,
    ) -> Result<(KeyManifest, ProvingKey<Bls12_381>), ProverError> {
        let (manifest, vk) = self.verifying_key(tier)?;
        let dir = self.tier_dir(tier);
        let uncompressed = dir.join(PROVING_KEY_UNCOMPRESSED);
        let (path, expected, compress) = match &manifest.pk_uncompressed_sha256 {
            Some(hash) if uncompressed.is_file() => (uncompressed, hash.clone(), Compress::No),
            _ => {
                tracing::warn!(
                    tier = tier.capacity(),
                    "no uncompressed proving key: decompressing, which is slow at large tiers"
                );
                (
                    dir.join(PROVING_KEY),
                    manifest.pk_sha256.clone(),
                    Compress::Yes,
                )
            }
        };
        let bytes = fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
        if sha256_hex(&bytes) != expected {
            return Err(ProverError::KeyIntegrity {
                path,
                reason: "proving key's SHA-256 differs from the manifest".into(),
            });
        }
        let pk = ProvingKey::<Bls12_381>::deserialize_with_mode(
            bytes.as_slice(),
            compress,
            Validate::No,
        )
        .map_err(|e| ProverError::KeyIntegrity {
            path: path.clone(),
            reason: format!("not a valid proving key encoding ({e})"),
        })?;
        if pk.vk != vk {
            return Err(ProverError::KeyIntegrity {
                path,
                reason: "proving key embeds a different verifying key".into(),
            });
        }
        Ok((manifest, pk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::{generate_keys, KeySource};

    #[test]
    fn round_trip_and_integrity_checks() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyDir::new(dir.path());
        let tier = Tier::new(2).unwrap();
        assert!(matches!(
            store.manifest(tier),
            Err(ProverError::KeysMissing { .. })
        ));
        let keys = generate_keys(tier, &KeySource::DevSeed("x".into())).unwrap();
        assert!(store.ensure_writable(tier, false).is_ok());
        store.write(&keys).unwrap();
        assert!(matches!(
            store.ensure_writable(tier, false),
            Err(ProverError::WouldOverwrite { .. })
        ));
        assert!(store.ensure_writable(tier, true).is_ok());
        assert_eq!(store.tiers().unwrap(), vec![tier]);
        let (manifest, vk) = store.verifying_key(tier).unwrap();
        assert_eq!(vk, keys.verifying_key);
        assert_eq!(manifest, keys.manifest);
        let (_, pk) = store.proving_key(tier).unwrap();
        assert_eq!(pk.vk, keys.verifying_key);

        // Without the uncompressed copy the compressed key is used.
        let fast_path = store.tier_dir(tier).join(PROVING_KEY_UNCOMPRESSED);
        let fast = fs::read(&fast_path).unwrap();
        fs::remove_file(&fast_path).unwrap();
        assert_eq!(store.proving_key(tier).unwrap().1.vk, keys.verifying_key);

        // A flipped byte in either proving key file is caught by its hash.
        let mut tampered = fast.clone();
        tampered[100] ^= 1;
        fs::write(&fast_path, &tampered).unwrap();
        assert!(matches!(
            store.proving_key(tier),
            Err(ProverError::KeyIntegrity { .. })
        ));
        fs::remove_file(&fast_path).unwrap();
        let pk_path = store.tier_dir(tier).join(PROVING_KEY);
        let mut bytes = fs::read(&pk_path).unwrap();
        bytes[100] ^= 1;
        fs::write(&pk_path, &bytes).unwrap();
        assert!(matches!(
            store.proving_key(tier),
            Err(ProverError::KeyIntegrity { .. })
        ));

        // A different (valid) verifying key is caught by its fingerprint.
        let other = generate_keys(tier, &KeySource::DevSeed("y".into())).unwrap();
        fs::write(
            store.tier_dir(tier).join(VERIFYING_KEY),
            crate::fingerprint::verifying_key_bytes(&other.verifying_key),
        )
        .unwrap();
        assert!(matches!(
            store.verifying_key(tier),
            Err(ProverError::KeyIntegrity { .. })
        ));
    }
}
