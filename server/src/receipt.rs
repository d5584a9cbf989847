//! Signed verification receipts, and checking one offline.
//!
//! A receipt's signing bytes are a fixed, line-oriented text, so anyone can
//! rebuild them without this code:
//!
//! ```text
//! zktx-receipt-v1
//! id=<32 hex>
//! tenant=<tenant id>
//! circuit=<circuit id>
//! key_fingerprint=<64 hex>
//! statement_digest=<64 hex>
//! verdict=valid|invalid
//! issued_at_ms=<decimal>
//! ```
//! (each line ends with `\n`). The signature is Ed25519 over those bytes.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The outcome a receipt records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptVerdict {
    /// The proof verified.
    Valid,
    /// The proof decoded but did not verify.
    Invalid,
}

impl ReceiptVerdict {
    /// `valid` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
        }
    }

    /// Parses [`ReceiptVerdict::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "valid" => Some(Self::Valid),
            "invalid" => Some(Self::Invalid),
            _ => None,
        }
    }
}

/// A signed record of one verification. It names the statement by digest:
/// no public input, proof byte or set member is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// 32 hex digits, unique.
    pub id: String,
    /// The tenant the verification was done for.
    pub tenant: String,
    /// The circuit identifier, tier included.
    pub circuit: String,
    /// Hex fingerprint of the verifying key.
    pub key_fingerprint: String,
    /// Hex SHA-256 over the key fingerprint and the canonical public inputs.
    pub statement_digest: String,
    /// The verdict.
    pub verdict: ReceiptVerdict,
    /// Milliseconds since the Unix epoch.
    pub issued_at_ms: i64,
    /// Hex Ed25519 signature over [`Receipt::signing_bytes`].
    pub signature: String,
}

/// Why a receipt does not check out.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The signature is not 64 bytes of hex.
    #[error("signature is not 128 hex digits")]
    MalformedSignature,
    /// The public key is not 32 bytes of hex, or not a valid Ed25519 point.
    #[error("public key is not a valid Ed25519 key (64 hex digits)")]
    MalformedKey,
    /// The signature does not match the receipt's contents under this key.
    #[error("signature does not match: the receipt was altered or signed by another key")]
    BadSignature,
    /// The signing key file could not be read or written.
    #[error("receipt signing key {path}: {source}")]
    KeyFile {
        /// The key file.
        path: String,
        /// The underlying failure.
        source: std::io::Error,
    },
}

impl Receipt {
    /// The exact bytes the signature covers (see the module docs).
    pub fn signing_bytes(&self) -> Vec<u8> {
        format!(
            "zktx-receipt-v1\nid={}\ntenant={}\ncircuit={}\nkey_fingerprint={}\nstatement_digest={}\nverdict={}\nissued_at_ms={}\n",
            self.id,
            self.tenant,
            self.circuit,
            self.key_fingerprint,
            self.statement_digest,
            self.verdict.as_str(),
            self.issued_at_ms
        )
        .into_bytes()
    }

    /// Checks the signature against `public_key` (hex).
    pub fn verify(&self, public_key: &str) -> Result<(), ReceiptError> {
        let key: [u8; 32] = hex::decode(public_key.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ReceiptError::MalformedKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| ReceiptError::MalformedKey)?;
        let signature: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ReceiptError::MalformedSignature)?;
        key.verify_strict(&self.signing_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| ReceiptError::BadSignature)
    }
}

/// The server's receipt-signing key.
pub struct ReceiptSigner {
    key: SigningKey,
}

impl ReceiptSigner {
    /// Loads the key at `path`, or creates one (mode 0600) if there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, ReceiptError> {
        let key_error = |source| ReceiptError::KeyFile {
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
                zktx_prover::write_with_mode(path, &key.to_bytes(), 0o600)
                    .map_err(|e| key_error(std::io::Error::other(e.to_string())))?;
                Ok(Self { key })
            }
            Err(e) => Err(key_error(e)),
        }
    }

    /// A signer for a given key (tests).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key, hex.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Fills in `receipt.signature`.
    pub fn sign(&self, receipt: &mut Receipt) {
        receipt.signature = hex::encode(self.key.sign(&receipt.signing_bytes()).to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            id: "00".repeat(16),
            tenant: "acme".into(),
            circuit: "zktx/overlap/v1/capacity-4".into(),
            key_fingerprint: "11".repeat(32),
            statement_digest: "22".repeat(32),
            verdict: ReceiptVerdict::Valid,
            issued_at_ms: 1_700_000_000_000,
            signature: String::new(),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_and_any_change_breaks_it() {
        let signer = ReceiptSigner::from_seed([7; 32]);
        let mut r = receipt();
        signer.sign(&mut r);
        r.verify(&signer.public_key_hex()).unwrap();

        let mut flipped = r.clone();
        flipped.verdict = ReceiptVerdict::Invalid;
        assert!(matches!(
            flipped.verify(&signer.public_key_hex()),
            Err(ReceiptError::BadSignature)
        ));
        let mut other_tenant = r.clone();
        other_tenant.tenant = "acme2".into();
        assert!(other_tenant.verify(&signer.public_key_hex()).is_err());
        let other = ReceiptSigner::from_seed([8; 32]);
        assert!(r.verify(&other.public_key_hex()).is_err());
        assert!(matches!(r.verify("zz"), Err(ReceiptError::MalformedKey)));
    }

    #[test]
    fn the_key_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.key");
        let first = ReceiptSigner::load_or_create(&path).unwrap();
        let again = ReceiptSigner::load_or_create(&path).unwrap();
        assert_eq!(first.public_key_hex(), again.public_key_hex());
    }
}
