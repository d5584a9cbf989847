//! Digests that name a key, a statement and a submitted proof.
//!
//! Groth16 proofs are malleable: anyone holding the verifying key can turn a
//! valid proof into another valid proof of the same statement, with different
//! bytes. So two digests are kept apart:
//!
//! - [`StatementDigest`] (key fingerprint + public inputs) names *what* was
//!   proven. Metering, deduplication and replay checks must use it: a
//!   re-randomised proof has the same statement digest.
//! - [`VerdictKey`] (key fingerprint + public inputs + proof bytes) names one
//!   exact submission. It keys the verdict cache, where only the bytes that were
//!   checked may reuse a verdict.

use ark_ff::{BigInteger, PrimeField};
use sha2::{Digest, Sha256};
use zktx_circuits::PublicInputs;

/// Domain tag of [`StatementDigest`].
const STATEMENT_TAG: &[u8] = b"zktx/statement/v1\0";
/// Domain tag of [`VerdictKey`].
const VERDICT_TAG: &[u8] = b"zktx/verdict/v1\0";

/// The SHA-256 fingerprint of a compressed verifying key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyFingerprint(pub [u8; 32]);

/// A key fingerprint that is not 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a key fingerprint is 64 lowercase hex digits (SHA-256 of the compressed verifying key)")]
pub struct FingerprintError;

impl KeyFingerprint {
    /// Parses the hex form (64 lowercase hex digits, as written in manifests and proof files).
    pub fn parse(text: &str) -> Result<Self, FingerprintError> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(FingerprintError);
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| FingerprintError)?;
        Ok(Self(bytes))
    }
}

impl std::fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The canonical bytes of the public inputs: each a 32-byte big-endian scalar.
fn input_bytes(public: &PublicInputs) -> impl Iterator<Item = Vec<u8>> {
    public
        .to_vec()
        .into_iter()
        .map(|x| x.into_bigint().to_bytes_be())
}

/// What a proof proves: SHA-256 over the key fingerprint and the public inputs.
///
/// Use this, not the proof bytes, to meter, deduplicate or refuse replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatementDigest(pub [u8; 32]);

impl StatementDigest {
    /// The digest of `public` under the key `key`.
    pub fn new(key: &KeyFingerprint, public: &PublicInputs) -> Self {
        let mut hash = Sha256::new();
        hash.update(STATEMENT_TAG);
        hash.update(key.0);
        input_bytes(public).for_each(|bytes| hash.update(bytes));
        Self(hash.finalize().into())
    }
}

impl std::fmt::Display for StatementDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// One exact submission: SHA-256 over the key fingerprint, the public inputs and
/// the proof bytes. The key of the verdict cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerdictKey(pub [u8; 32]);

impl VerdictKey {
    /// The key of `proof` for `public` under `key`.
    pub fn new(key: &KeyFingerprint, public: &PublicInputs, proof: &[u8]) -> Self {
        let mut hash = Sha256::new();
        hash.update(VERDICT_TAG);
        hash.update(key.0);
        input_bytes(public).for_each(|bytes| hash.update(bytes));
        hash.update(proof);
        Self(hash.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zktx_circuits::Fr;

    fn inputs(k: u64) -> PublicInputs {
        PublicInputs {
            commit_a: Fr::from(1u64),
            commit_b: Fr::from(2u64),
            k: Fr::from(k),
            context: Fr::from(3u64),
        }
    }

    #[test]
    fn fingerprints_parse_only_in_canonical_hex() {
        let hex = "ab".repeat(32);
        let fp = KeyFingerprint::parse(&hex).unwrap();
        assert_eq!(fp.to_string(), hex);
        assert!(KeyFingerprint::parse(&"AB".repeat(32)).is_err());
        assert!(KeyFingerprint::parse(&"ab".repeat(31)).is_err());
        assert!(KeyFingerprint::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn statement_ignores_the_proof_and_verdict_key_does_not() {
        let key = KeyFingerprint([7; 32]);
        let other_key = KeyFingerprint([8; 32]);
        assert_eq!(
            StatementDigest::new(&key, &inputs(1)),
            StatementDigest::new(&key, &inputs(1))
        );
        assert_ne!(
            StatementDigest::new(&key, &inputs(1)),
            StatementDigest::new(&key, &inputs(2))
        );
        assert_ne!(
            StatementDigest::new(&key, &inputs(1)),
            StatementDigest::new(&other_key, &inputs(1))
        );
        assert_ne!(
            VerdictKey::new(&key, &inputs(1), &[1, 2]),
            VerdictKey::new(&key, &inputs(1), &[1, 3])
        );
        // The two digests are domain-separated even over the same bytes.
        assert_ne!(
            StatementDigest::new(&key, &inputs(1)).0,
            VerdictKey::new(&key, &inputs(1), &[]).0
        );
    }
}
