//! Identifier normalisation and hashing to 64-bit ids.
//!
//! An identifier (an e-mail, a phone number, a customer key) is normalised
//! — Unicode NFKC, surrounding white space trimmed, lower-cased — and hashed as
//! `id = u64::from_be_bytes(SHA-256("zktx/id/v1\0" || normalised)[0..8])`.
//! Both partners must use this same function for their overlap to be counted.
//!
//! Collisions: with `n` ids in play the chance that any two distinct
//! identifiers share an id is about `n² / 2^65`. At the largest standard tier
//! (1024 per side, n = 2048) that is 2^22 / 2^65 ≈ 1.1 × 10⁻¹³. A collision can
//! only make two different identifiers look equal, which raises the counted
//! overlap: it can make an honest prover refuse, never make a false bound hold
//! for the underlying identifiers.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::CircuitError;

/// Domain separator of the identifier hash (version 1).
pub const ID_HASH_DOMAIN: &[u8] = b"zktx/id/v1\0";

/// Normalises one identifier: NFKC, trimmed, lower-cased.
///
/// Returns an error when nothing is left.
pub fn normalise(raw: &str) -> Result<String, CircuitError> {
    let normalised: String = raw.nfkc().collect::<String>().trim().to_lowercase();
    if normalised.is_empty() {
        return Err(CircuitError::EmptyIdentifier);
    }
    Ok(normalised)
}

/// Hashes an already-normalised identifier to its 64-bit id.
pub fn hash_normalised(normalised: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(ID_HASH_DOMAIN);
    hasher.update(normalised.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Normalises and hashes one raw identifier.
pub fn identifier_to_id(raw: &str) -> Result<u64, CircuitError> {
    Ok(hash_normalised(&normalise(raw)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_folds_case_space_and_compatibility_forms() {
        assert_eq!(
            identifier_to_id("  Alice@Example.COM ").unwrap(),
            identifier_to_id("alice@example.com").unwrap()
        );
        // Fullwidth letters fold to ASCII under NFKC.
        assert_eq!(
            identifier_to_id("ＡＢＣ").unwrap(),
            identifier_to_id("abc").unwrap()
        );
        assert_ne!(
            identifier_to_id("alice@example.com").unwrap(),
            identifier_to_id("bob@example.com").unwrap()
        );
    }

    #[test]
    fn empty_identifiers_are_refused() {
        assert!(matches!(
            normalise("   "),
            Err(CircuitError::EmptyIdentifier)
        ));
        assert!(matches!(normalise(""), Err(CircuitError::EmptyIdentifier)));
    }

    #[test]
    fn hash_is_pinned() {
        // A stored vector: changing the hash would silently break every
        // partner's existing commitments.
        assert_eq!(hash_normalised("alice@example.com"), 0xe80f_9d90_fafe_27c7);
    }
}
