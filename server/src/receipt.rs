//! The server's receipt-signing key. The receipt format, group sealing and
//! the offline check are the API's (`zktx_proto::receipt`); this is only the
//! key: kept in the data directory (mode 0600), made on first start.

use std::path::Path;

use ed25519_dalek::SigningKey;
use zktx_governance::audit::{ChainTip, SignedHead};
pub use zktx_proto::receipt::{Receipt, ReceiptBatch, ReceiptVerdict};

/// The signing key file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("receipt signing key {path}: {source}")]
pub struct SignerError {
    /// The key file.
    pub path: String,
    /// The underlying failure.
    pub source: std::io::Error,
}

/// The server's receipt-signing key.
#[derive(Clone)]
pub struct ReceiptSigner {
    key: SigningKey,
}

impl ReceiptSigner {
    /// Loads the key at `path`, or creates one (mode 0600) if there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, SignerError> {
        let key_error = |source| SignerError {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                    key_error(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "expected 32 bytes",
                    ))
                })?;
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate(&mut rand::rngs::OsRng);
                zktx_formats::write_with_mode(path, &key.to_bytes(), 0o600)
                    .map_err(|e| key_error(std::io::Error::other(e.to_string())))?;
                Ok(Self { key })
            }
            Err(e) => Err(key_error(e)),
        }
    }

    /// The key at `path`, which must exist: for offline commands on a data
    /// directory, which must not make one.
    pub fn load_existing(path: &Path) -> Result<Self, SignerError> {
        let bytes = std::fs::read(path).map_err(|source| SignerError {
            path: path.display().to_string(),
            source,
        })?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| SignerError {
            path: path.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "expected 32 bytes"),
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The public key (hex) of the key at `path`, which must exist.
    pub fn public_key_of(path: &Path) -> Result<String, SignerError> {
        Ok(Self::load_existing(path)?.public_key_hex())
    }

    /// A signer for a given key (tests).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The signing key (for signatures the governance crate defines:
    /// audit heads, invoices).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key, hex.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Signs `receipts` as one group (see `zktx_proto::receipt::seal`);
    /// returns the group's Merkle root (`None` for no receipts).
    pub fn seal(&self, receipts: &mut [&mut Receipt]) -> Option<[u8; 32]> {
        zktx_proto::receipt::seal(&self.key, receipts)
    }

    /// Signs the audit chain's head (the same key signs receipts and heads,
    /// so one published key checks both).
    pub fn sign_audit_head(&self, tip: ChainTip, at_ms: i64) -> SignedHead {
        SignedHead::sign(tip, at_ms, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_survives_a_reload_and_seals_checkable_receipts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.key");
        let first = ReceiptSigner::load_or_create(&path).unwrap();
        let again = ReceiptSigner::load_or_create(&path).unwrap();
        assert_eq!(first.public_key_hex(), again.public_key_hex());
        let mut receipt = Receipt {
            id: "00".repeat(16),
            tenant: "acme".into(),
            circuit: "zktx/overlap/v1/capacity-4".into(),
            key_fingerprint: "11".repeat(32),
            statement_digest: "22".repeat(32),
            verdict: ReceiptVerdict::Valid,
            issued_at_ms: 1_700_000_000_000,
            signature: String::new(),
            batch: None,
        };
        first.seal(&mut [&mut receipt]);
        receipt.verify(&again.public_key_hex()).unwrap();
        std::fs::write(&path, [1u8; 5]).unwrap();
        assert!(ReceiptSigner::load_or_create(&path).is_err());
    }
}
