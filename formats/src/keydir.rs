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
    FormatError,
};

/// A tier's complete key set: what a key directory's tier holds, in memory.
#[derive(Clone, Debug)]
pub struct TierKeys {
    /// The manifest describing the keys.
    pub manifest: KeyManifest,
    /// The proving key.
    pub proving_key: ProvingKey<Bls12_381>,
    /// The verifying key.
    pub verifying_key: VerifyingKey<Bls12_381>,
    /// The compressed encoding of the proving key (`proving_key.bin`).
    pub proving_key_bytes: Vec<u8>,
    /// The uncompressed encoding of the proving key (the fast-loading copy).
    pub proving_key_uncompressed: Vec<u8>,
}

/// A tier's manifest, in its tier directory.
pub const MANIFEST: &str = "manifest.json";
/// A tier's compressed verifying key, in its tier directory.
pub const VERIFYING_KEY: &str = "verifying_key.bin";
/// A tier's compressed proving key, in its tier directory.
pub const PROVING_KEY: &str = "proving_key.bin";
/// A tier's uncompressed proving key (the fast-loading copy), in its tier directory.
pub const PROVING_KEY_UNCOMPRESSED: &str = "proving_key.uncompressed.bin";

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
    pub fn write(&self, keys: &TierKeys) -> Result<PathBuf, FormatError> {
        let tier = Tier::new(keys.manifest.tier)?;
        let dir = self.tier_dir(tier);
        fs::create_dir_all(&dir).map_err(|e| FormatError::io(&dir, e))?;
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

    /// Refuses with [`FormatError::WouldOverwrite`] when `tier` already has keys
    /// and `force` is not set: replacing keys makes every proof made with them
    /// stop verifying. Call it before the (slow) setup or import.
    pub fn ensure_writable(&self, tier: Tier, force: bool) -> Result<(), FormatError> {
        if self.has_tier(tier) && !force {
            return Err(FormatError::WouldOverwrite {
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
    pub fn tiers(&self) -> Result<Vec<Tier>, FormatError> {
        let entries = fs::read_dir(&self.root).map_err(|e| FormatError::io(&self.root, e))?;
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
    pub fn manifest(&self, tier: Tier) -> Result<KeyManifest, FormatError> {
        let path = self.tier_dir(tier).join(MANIFEST);
        if !path.is_file() {
            return Err(FormatError::KeysMissing {
                dir: self.root.clone(),
                tier: tier.capacity(),
            });
        }
        let bytes = fs::read(&path).map_err(|e| FormatError::io(&path, e))?;
        let manifest: KeyManifest =
            serde_json::from_slice(&bytes).map_err(|source| FormatError::Json {
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
            return Err(FormatError::BadFile {
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
    ) -> Result<(KeyManifest, VerifyingKey<Bls12_381>), FormatError> {
        let manifest = self.manifest(tier)?;
        let path = self.tier_dir(tier).join(VERIFYING_KEY);
        let bytes = fs::read(&path).map_err(|e| FormatError::io(&path, e))?;
        let vk = VerifyingKey::<Bls12_381>::deserialize_with_mode(
            bytes.as_slice(),
            Compress::Yes,
            Validate::Yes,
        )
        .map_err(|e| FormatError::KeyIntegrity {
            path: path.clone(),
            reason: format!("not a valid compressed verifying key ({e})"),
        })?;
        let fingerprint = sha256_hex(&bytes);
        if fingerprint != manifest.vk_fingerprint || vk_fingerprint(&vk) != fingerprint {
            return Err(FormatError::KeyIntegrity {
                path,
                reason: format!(
                    "verifying key fingerprint {fingerprint} differs from the manifest's {}",
                    manifest.vk_fingerprint
                ),
            });
        }
        if vk.gamma_abc_g1.len() != manifest.public_inputs + 1 {
            return Err(FormatError::KeyIntegrity {
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
    ) -> Result<(KeyManifest, ProvingKey<Bls12_381>), FormatError> {
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
        let bytes = fs::read(&path).map_err(|e| FormatError::io(&path, e))?;
        if sha256_hex(&bytes) != expected {
            return Err(FormatError::KeyIntegrity {
                path,
                reason: "proving key's SHA-256 differs from the manifest".into(),
            });
        }
        let pk = ProvingKey::<Bls12_381>::deserialize_with_mode(
            bytes.as_slice(),
            compress,
            Validate::No,
        )
        .map_err(|e| FormatError::KeyIntegrity {
            path: path.clone(),
            reason: format!("not a valid proving key encoding ({e})"),
        })?;
        if pk.vk != vk {
            return Err(FormatError::KeyIntegrity {
                path,
                reason: "proving key embeds a different verifying key".into(),
            });
        }
        Ok((manifest, pk))
    }
}
