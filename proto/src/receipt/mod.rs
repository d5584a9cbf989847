//! Signed verification receipts, and checking one offline.
//!
//! A receipt's bytes are a fixed, line-oriented text, so anyone can rebuild
//! them without this code:
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
//! (each line ends with `\n`).
//!
//! The server signs the receipts of one group commit together: their bytes
//! are the leaves, in order, of a Merkle tree ([`merkle`], RFC 9162's), and
//! one Ed25519 signature covers the text
//!
//! ```text
//! zktx-receipt-batch-v1
//! root=<64 hex>
//! size=<decimal>
//! ```
//! Each receipt carries that signature, the group's size, its own index and
//! its inclusion path ([`ReceiptBatch`]), so it checks offline on its own;
//! of the other receipts of its group it shows only their number and, in
//! the path, hashes. One signature per group instead of one per receipt is what
//! keeps signing off the single-proof path's CPU budget (`docs/perf.md`).
//! A receipt without `batch` is one signed alone, over its bytes directly
//! (as servers before batch signing issued them); it still checks.

pub mod merkle;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::v1;

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
    /// Hex Ed25519 signature: over the group's root text when `batch` is
    /// set, else over [`Receipt::signing_bytes`].
    pub signature: String,
    /// Where this receipt sits in the group its signature covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<ReceiptBatch>,
}

/// A receipt's place in the Merkle tree of its group commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBatch {
    /// Receipts in the group (the tree's leaves).
    pub size: u64,
    /// This receipt's leaf index, from 0.
    pub index: u64,
    /// The inclusion path: hex SHA-256 sibling hashes from the leaf up.
    pub path: Vec<String>,
}

impl ReceiptBatch {
    /// A receipt's place from its group's size, its index and its path's
    /// hashes (raw bytes; hex-encoded here).
    pub fn new<H: AsRef<[u8]>>(size: u64, index: u64, path: impl IntoIterator<Item = H>) -> Self {
        Self {
            size,
            index,
            path: path.into_iter().map(hex::encode).collect(),
        }
    }

    /// The path's hashes as bytes; `None` if any is not 64 hex digits.
    pub fn path_hashes(&self) -> Option<Vec<merkle::Hash>> {
        self.path
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| merkle::Hash::try_from(b).ok())
            })
            .collect()
    }
}

/// The text a group's signature covers (see the module docs).
pub fn batch_signing_bytes(root: &merkle::Hash, size: u64) -> Vec<u8> {
    format!(
        "zktx-receipt-batch-v1\nroot={}\nsize={size}\n",
        hex::encode(root)
    )
    .into_bytes()
}

/// Why a receipt does not check out.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The signature is not 64 bytes of hex.
    #[error("signature is not 128 hex digits")]
    MalformedSignature,
    /// The batch path holds something other than 32-byte hex hashes, or
    /// cannot belong to a tree of the stated size at the stated index.
    #[error("batch: the inclusion path does not fit a tree of {size} receipts at index {index}")]
    MalformedPath {
        /// The stated group size.
        size: u64,
        /// The stated index.
        index: u64,
    },
    /// The public key is not 32 bytes of hex, or not a valid Ed25519 point.
    #[error("public key is not a valid Ed25519 key (64 hex digits)")]
    MalformedKey,
    /// The signature does not match the receipt's contents under this key.
    #[error("signature does not match: the receipt was altered or signed by another key")]
    BadSignature,
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

    /// What the signature covers: the group's root text, or for a receipt
    /// signed alone its own bytes.
    pub fn signed_message(&self) -> Result<Vec<u8>, ReceiptError> {
        match (&self.batch, self.group_root()?) {
            (Some(batch), Some(root)) => Ok(batch_signing_bytes(&root, batch.size)),
            _ => Ok(self.signing_bytes()),
        }
    }

    /// The Merkle root of the receipt's group, rebuilt from its inclusion
    /// path (the root the server's audit chain records for the group), or
    /// `None` for a receipt signed alone.
    pub fn group_root(&self) -> Result<Option<merkle::Hash>, ReceiptError> {
        let Some(batch) = &self.batch else {
            return Ok(None);
        };
        let malformed = || ReceiptError::MalformedPath {
            size: batch.size,
            index: batch.index,
        };
        let path = batch.path_hashes().ok_or_else(malformed)?;
        let leaf = merkle::leaf_hash(&self.signing_bytes());
        merkle::root_from_path(leaf, batch.index, batch.size, &path)
            .ok_or_else(malformed)
            .map(Some)
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
        key.verify_strict(&self.signed_message()?, &Signature::from_bytes(&signature))
            .map_err(|_| ReceiptError::BadSignature)
    }
}

/// Signs `receipts` with `key` as one group: one signature over their
/// Merkle root, and each receipt's `signature` and `batch` filled in. Nothing
/// to do for an empty group. This is how a server issues receipts; checking
/// one needs only [`Receipt::verify`]. Returns the group's root (`None` for
/// an empty group).
pub fn seal(key: &SigningKey, receipts: &mut [&mut Receipt]) -> Option<merkle::Hash> {
    if receipts.is_empty() {
        return None;
    }
    let leaves: Vec<merkle::Hash> = receipts
        .iter()
        .map(|r| merkle::leaf_hash(&r.signing_bytes()))
        .collect();
    let (root, paths) = merkle::root_and_paths(&leaves);
    let size = receipts.len() as u64;
    let signature = hex::encode(key.sign(&batch_signing_bytes(&root, size)).to_bytes());
    for ((index, receipt), path) in receipts.iter_mut().enumerate().zip(paths) {
        receipt.signature = signature.clone();
        receipt.batch = Some(ReceiptBatch::new(size, index as u64, path));
    }
    Some(root)
}

/// A receipt as its gRPC message (the signature and path as raw bytes).
pub fn to_message(r: Receipt) -> v1::Receipt {
    v1::Receipt {
        id: r.id,
        tenant: r.tenant,
        circuit: r.circuit,
        key_fingerprint: r.key_fingerprint,
        statement_digest: r.statement_digest,
        verdict: verdict_message(r.verdict) as i32,
        issued_at_ms: r.issued_at_ms,
        signature: hex::decode(&r.signature).unwrap_or_default(),
        batch: r.batch.map(|b| v1::ReceiptBatch {
            size: b.size,
            index: b.index,
            path: b
                .path_hashes()
                .unwrap_or_default()
                .iter()
                .map(|h| h.to_vec())
                .collect(),
        }),
    }
}

/// A receipt's gRPC message back as a receipt, to check it offline. A
/// verdict other than `VALID` reads as invalid, so an unknown value can never
/// pass for a valid verdict.
pub fn from_message(m: v1::Receipt) -> Receipt {
    Receipt {
        id: m.id,
        tenant: m.tenant,
        circuit: m.circuit,
        key_fingerprint: m.key_fingerprint,
        statement_digest: m.statement_digest,
        verdict: if m.verdict == v1::Verdict::Valid as i32 {
            ReceiptVerdict::Valid
        } else {
            ReceiptVerdict::Invalid
        },
        issued_at_ms: m.issued_at_ms,
        signature: hex::encode(m.signature),
        batch: m.batch.map(|b| ReceiptBatch::new(b.size, b.index, b.path)),
    }
}

/// A verdict as its gRPC enum.
pub fn verdict_message(v: ReceiptVerdict) -> v1::Verdict {
    match v {
        ReceiptVerdict::Valid => v1::Verdict::Valid,
        ReceiptVerdict::Invalid => v1::Verdict::Invalid,
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
            batch: None,
        }
    }

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public_hex(key: &SigningKey) -> String {
        hex::encode(key.verifying_key().to_bytes())
    }

    /// `n` receipts sealed as one group.
    fn sealed(signer: &SigningKey, n: usize) -> Vec<Receipt> {
        let mut receipts: Vec<Receipt> = (0..n)
            .map(|i| Receipt {
                id: format!("{i:032x}"),
                ..receipt()
            })
            .collect();
        seal(signer, &mut receipts.iter_mut().collect::<Vec<_>>());
        receipts
    }

    #[test]
    fn a_signed_receipt_verifies_and_any_change_breaks_it() {
        let signer = signing_key(7);
        let r = sealed(&signer, 1).remove(0);
        r.verify(&public_hex(&signer)).unwrap();

        let mut flipped = r.clone();
        flipped.verdict = ReceiptVerdict::Invalid;
        assert!(matches!(
            flipped.verify(&public_hex(&signer)),
            Err(ReceiptError::BadSignature)
        ));
        let mut other_tenant = r.clone();
        other_tenant.tenant = "acme2".into();
        assert!(other_tenant.verify(&public_hex(&signer)).is_err());
        let other = signing_key(8);
        assert!(r.verify(&public_hex(&other)).is_err());
        assert!(matches!(r.verify("zz"), Err(ReceiptError::MalformedKey)));
    }

    #[test]
    fn every_receipt_of_a_group_verifies_alone_and_none_can_be_moved_or_altered() {
        let signer = signing_key(7);
        let key = public_hex(&signer);
        for n in [1usize, 2, 3, 7, 64, 100] {
            let group = sealed(&signer, n);
            let signature = &group[0].signature;
            for r in &group {
                r.verify(&key).unwrap();
                assert_eq!(&r.signature, signature, "one signature per group");
                // JSON round trip, as `zktx receipt verify` reads it.
                let back: Receipt =
                    serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap();
                back.verify(&key).unwrap();
            }
            for (i, r) in group.iter().enumerate() {
                let mut altered = r.clone();
                altered.verdict = ReceiptVerdict::Invalid;
                assert!(
                    altered.verify(&key).is_err(),
                    "size {n}, receipt {i}: verdict"
                );
                let mut altered = r.clone();
                altered.issued_at_ms += 1;
                assert!(altered.verify(&key).is_err(), "size {n}, receipt {i}: time");
                // Another receipt's place in the tree.
                let mut moved = r.clone();
                moved.batch.as_mut().unwrap().index = (i as u64 + 1) % n as u64;
                if n > 1 {
                    assert!(moved.verify(&key).is_err(), "size {n}, receipt {i}: index");
                }
                // A larger or smaller group.
                for size in [n as u64 + 1, n as u64 - 1] {
                    let mut resized = r.clone();
                    resized.batch.as_mut().unwrap().size = size;
                    assert!(resized.verify(&key).is_err(), "size {n}, receipt {i}: size");
                }
                // Without its batch it is not a receipt signed alone.
                let mut unbatched = r.clone();
                unbatched.batch = None;
                assert!(unbatched.verify(&key).is_err());
                // A path hash that is not 32 bytes.
                if n > 1 {
                    let mut garbled = r.clone();
                    garbled.batch.as_mut().unwrap().path[0].push_str("00");
                    assert!(matches!(
                        garbled.verify(&key),
                        Err(ReceiptError::MalformedPath { .. })
                    ));
                }
            }
        }
    }

    #[test]
    fn a_receipt_signed_alone_still_verifies() {
        let signer = signing_key(7);
        let mut r = receipt();
        r.signature = hex::encode(signer.sign(&r.signing_bytes()).to_bytes());
        r.verify(&public_hex(&signer)).unwrap();
        // Its JSON has no `batch`, as such receipts were issued.
        assert!(!serde_json::to_string(&r).unwrap().contains("batch"));
        let mut altered = r.clone();
        altered.tenant = "other".into();
        assert!(altered.verify(&public_hex(&signer)).is_err());
        // A group's signature does not pass as a lone receipt's.
        let grouped = sealed(&signer, 1).remove(0);
        let mut lone = r.clone();
        lone.signature = grouped.signature;
        assert!(lone.verify(&public_hex(&signer)).is_err());
    }
}
