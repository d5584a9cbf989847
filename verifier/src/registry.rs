//! Prepared verifying keys, by fingerprint.

use std::{collections::BTreeMap, sync::Arc};

use zktx_formats::KeyDir;

use crate::{backend::BackendKeys, KeyFingerprint, PreparedKey, VerifyError};

/// One verifying key, prepared once for single verification and for every
/// pairing backend of the batch verifier.
pub struct RegisteredKey {
    fingerprint: KeyFingerprint,
    key: PreparedKey,
    backends: BackendKeys,
}

impl RegisteredKey {
    /// Prepares `key` for every backend.
    pub fn new(key: PreparedKey) -> Self {
        let fingerprint = KeyFingerprint::parse(key.fingerprint())
            .expect("a fingerprint computed by vk_fingerprint is canonical hex");
        let backends = BackendKeys::new(&key.prepared().vk);
        Self {
            fingerprint,
            key,
            backends,
        }
    }

    /// The key's fingerprint.
    pub fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    /// The key, prepared for single verification.
    pub fn key(&self) -> &PreparedKey {
        &self.key
    }

    /// The key in each backend's own types.
    pub(crate) fn backends(&self) -> &BackendKeys {
        &self.backends
    }
}

impl std::fmt::Debug for RegisteredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredKey")
            .field("tier", &self.key.tier().capacity())
            .field("fingerprint", &self.key.fingerprint())
            .field("dev_keys", &self.key.dev_keys())
            .finish()
    }
}

/// The verifying keys a verifier accepts proofs for, keyed by fingerprint.
///
/// Several tiers, and several keys for one tier (a rotation), can be held at once:
/// a proof names its key by fingerprint.
#[derive(Debug, Default)]
pub struct PreparedKeyRegistry {
    keys: BTreeMap<KeyFingerprint, Arc<RegisteredKey>>,
}

impl PreparedKeyRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads and prepares the verifying key of every tier in a key directory
    /// (each validated and checked against its manifest's fingerprint).
    pub fn load(dir: &KeyDir) -> Result<Self, VerifyError> {
        let mut registry = Self::new();
        for tier in dir.tiers()? {
            registry.insert(PreparedKey::load(dir, tier)?);
        }
        Ok(registry)
    }

    /// Adds a key (replacing one with the same fingerprint) and returns its entry.
    pub fn insert(&mut self, key: PreparedKey) -> Arc<RegisteredKey> {
        let entry = Arc::new(RegisteredKey::new(key));
        self.keys.insert(entry.fingerprint(), entry.clone());
        entry
    }

    /// The key with this fingerprint.
    pub fn get(&self, fingerprint: &KeyFingerprint) -> Option<&Arc<RegisteredKey>> {
        self.keys.get(fingerprint)
    }

    /// Every key, by tier then fingerprint.
    pub fn keys(&self) -> Vec<&Arc<RegisteredKey>> {
        let mut keys: Vec<_> = self.keys.values().collect();
        keys.sort_by_key(|k| (k.key().tier().capacity(), k.fingerprint()));
        keys
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
