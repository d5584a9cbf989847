//! Appending to the chain, walking it, and its signed head.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::entry::{link_hash, parse_hash, AuditEntry, AuditEvent, Hash, GENESIS};

/// Where a chain ends: the last entry's position and hash (0 and
/// [`GENESIS`] for an empty chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTip {
    /// The last entry's `seq`.
    pub seq: u64,
    /// The last entry's hash.
    pub hash: Hash,
}

impl ChainTip {
    /// The tip of an empty chain.
    pub const EMPTY: ChainTip = ChainTip {
        seq: 0,
        hash: GENESIS,
    };

    /// Places `event` after this tip (under policy bundle `policy_sha256`)
    /// and moves the tip to it.
    pub fn append(&mut self, event: AuditEvent, policy_sha256: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: self.seq + 1,
            at_ms: event.at_ms,
            kind: event.kind,
            tenant: event.tenant,
            policy_sha256: policy_sha256.to_string(),
            details: event.details,
            prev_hash: hex::encode(self.hash),
            hash: String::new(),
        };
        let hash = link_hash(&self.hash, &entry.content_digest());
        entry.hash = hex::encode(hash);
        *self = ChainTip {
            seq: entry.seq,
            hash,
        };
        entry
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry is not where the chain expects the next one.
    #[error("audit entry {found}: expected entry {expected} next (an entry was deleted, inserted or moved)")]
    Sequence {
        /// The position expected.
        expected: u64,
        /// The position found.
        found: u64,
    },
    /// An entry's `prev_hash` is not the hash of the entry before it.
    #[error("audit entry {seq}: its previous hash does not match entry {prev} (an entry before it was changed, removed or reordered)", prev = seq - 1)]
    PrevMismatch {
        /// The entry.
        seq: u64,
    },
    /// An entry's stored hash is not the hash of its content.
    #[error("audit entry {seq}: its hash does not match its content (the entry was edited)")]
    HashMismatch {
        /// The entry.
        seq: u64,
    },
    /// A hash field is not 64 hex digits.
    #[error("audit entry {seq}: field `{field}` is not a 64-hex hash")]
    Malformed {
        /// The entry.
        seq: u64,
        /// The field.
        field: &'static str,
    },
    /// The chain ends somewhere other than where its signed head says.
    #[error("the signed head names entry {head_seq} but the chain ends at entry {chain_seq} (entries were removed from or added to the end)")]
    HeadMismatch {
        /// The head's position.
        head_seq: u64,
        /// The chain's last position.
        chain_seq: u64,
    },
    /// The head's signature does not check with the key.
    #[error("the signed head's signature does not check with key {public_key}")]
    BadHeadSignature {
        /// The key tried (hex).
        public_key: String,
    },
    /// There is no signed head although the chain has entries.
    #[error("the chain has {entries} entries but no signed head")]
    NoHead {
        /// How many entries.
        entries: u64,
    },
}

/// Walks a chain entry by entry, from a known starting tip.
#[derive(Debug, Clone)]
pub struct ChainWalker {
    tip: ChainTip,
}

impl ChainWalker {
    /// A walker expecting the entry after `start`.
    pub fn new(start: ChainTip) -> Self {
        Self { tip: start }
    }

    /// The tip reached so far.
    pub fn tip(&self) -> ChainTip {
        self.tip
    }

    /// Checks one full entry: its position, its link to the previous one and
    /// its hash over its content.
    pub fn next_entry(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let digest = entry.content_digest();
        self.next_link(entry.seq, Some(&entry.prev_hash), &digest)?;
        let stored = parse_hash(&entry.hash).ok_or(ChainBreak::Malformed {
            seq: entry.seq,
            field: "hash",
        })?;
        if stored != self.tip.hash {
            return Err(ChainBreak::HashMismatch { seq: entry.seq });
        }
        Ok(())
    }

    /// Checks one entry shown only by its content digest (an export's
    /// entry of another tenant), and, when given, its stated previous hash.
    pub fn next_link(
        &mut self,
        seq: u64,
        prev_hash: Option<&str>,
        content_digest: &Hash,
    ) -> Result<(), ChainBreak> {
        if seq != self.tip.seq + 1 {
            return Err(ChainBreak::Sequence {
                expected: self.tip.seq + 1,
                found: seq,
            });
        }
        if let Some(prev) = prev_hash {
            let prev = parse_hash(prev).ok_or(ChainBreak::Malformed {
                seq,
                field: "prev_hash",
            })?;
            if prev != self.tip.hash {
                return Err(ChainBreak::PrevMismatch { seq });
            }
        }
        self.tip = ChainTip {
            seq,
            hash: link_hash(&self.tip.hash, content_digest),
        };
        Ok(())
    }

    /// Checks that the walk ended where `head` says, and `head`'s signature
    /// with `public_key` (hex).
    pub fn finish(&self, head: &SignedHead, public_key: &str) -> Result<(), ChainBreak> {
        head.verify(public_key)?;
        if head.seq != self.tip.seq || head.hash != hex::encode(self.tip.hash) {
            return Err(ChainBreak::HeadMismatch {
                head_seq: head.seq,
                chain_seq: self.tip.seq,
            });
        }
        Ok(())
    }
}

/// The chain's head, signed with the server's receipt key at every commit
/// that appends. Its signature covers the text
///
/// ```text
/// zktx-audit-head-v1
/// seq=<decimal>
/// hash=<64 hex>
/// at_ms=<decimal>
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    /// The last entry's position.
    pub seq: u64,
    /// The last entry's hash (hex).
    pub hash: String,
    /// When it was signed (Unix milliseconds).
    pub at_ms: i64,
    /// The signing key (hex Ed25519 public key; the receipt key).
    pub public_key: String,
    /// Hex Ed25519 signature over the head text.
    pub signature: String,
}

impl SignedHead {
    fn text(seq: u64, hash: &str, at_ms: i64) -> String {
        format!("zktx-audit-head-v1\nseq={seq}\nhash={hash}\nat_ms={at_ms}\n")
    }

    /// Signs `tip` at `at_ms` with `key`.
    pub fn sign(tip: ChainTip, at_ms: i64, key: &SigningKey) -> Self {
        let hash = hex::encode(tip.hash);
        let signature = key.sign(Self::text(tip.seq, &hash, at_ms).as_bytes());
        Self {
            seq: tip.seq,
            hash,
            at_ms,
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature with `public_key` (hex), whatever key the head names.
    pub fn verify(&self, public_key: &str) -> Result<(), ChainBreak> {
        let bad = || ChainBreak::BadHeadSignature {
            public_key: public_key.to_string(),
        };
        let mut key = [0u8; 32];
        hex::decode_to_slice(public_key, &mut key).map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad())?;
        let mut signature = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut signature).map_err(|_| bad())?;
        key.verify_strict(
            Self::text(self.seq, &self.hash, self.at_ms).as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| bad())
    }
}

/// Walks `entries` (in the order given) from the empty chain and checks
/// them against `head` signed by `public_key`; names the first broken link.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: Option<&SignedHead>,
    public_key: &str,
) -> Result<ChainTip, ChainBreak> {
    let mut walker = ChainWalker::new(ChainTip::EMPTY);
    for entry in entries {
        walker.next_entry(entry)?;
    }
    match head {
        Some(head) => walker.finish(head, public_key)?,
        None if walker.tip().seq == 0 => {}
        None => {
            return Err(ChainBreak::NoHead {
                entries: walker.tip().seq,
            })
        }
    }
    Ok(walker.tip())
}

#[cfg(test)]
mod tests {
    use super::super::entry::AuditKind;
    use super::*;

    fn chain(n: usize) -> (Vec<AuditEntry>, SignedHead, SigningKey) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut tip = ChainTip::EMPTY;
        let entries: Vec<AuditEntry> = (0..n)
            .map(|i| {
                tip.append(
                    AuditEvent::new(i as i64, AuditKind::ReceiptGroup, None)
                        .with("root", format!("{i:064x}")),
                    &"cd".repeat(32),
                )
            })
            .collect();
        let head = SignedHead::sign(tip, 99, &key);
        (entries, head, key)
    }

    fn public(key: &SigningKey) -> String {
        hex::encode(key.verifying_key().to_bytes())
    }

    #[test]
    fn an_intact_chain_verifies_and_every_tamper_is_named() {
        let (entries, head, key) = chain(6);
        let pk = public(&key);
        assert_eq!(verify_chain(&entries, Some(&head), &pk).unwrap().seq, 6);

        let mut edited = entries.clone();
        edited[2].details.insert("root".into(), "00".repeat(32));
        assert_eq!(
            verify_chain(&edited, Some(&head), &pk),
            Err(ChainBreak::HashMismatch { seq: 3 })
        );

        let mut deleted = entries.clone();
        deleted.remove(3);
        assert_eq!(
            verify_chain(&deleted, Some(&head), &pk),
            Err(ChainBreak::Sequence {
                expected: 4,
                found: 5
            })
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify_chain(&reordered, Some(&head), &pk),
            Err(ChainBreak::Sequence { expected: 2, .. })
        ));
        // Renumbered after the swap: the links break instead.
        for (i, e) in reordered.iter_mut().enumerate() {
            e.seq = i as u64 + 1;
        }
        assert!(matches!(
            verify_chain(&reordered, Some(&head), &pk),
            Err(ChainBreak::PrevMismatch { seq: 2 })
        ));

        let truncated = &entries[..4];
        assert_eq!(
            verify_chain(truncated, Some(&head), &pk),
            Err(ChainBreak::HeadMismatch {
                head_seq: 6,
                chain_seq: 4
            })
        );
        // Rehashing everything after an edit still ends at another head.
        let mut rewritten = entries.clone();
        let mut tip = ChainTip::EMPTY;
        for e in rewritten.iter_mut() {
            e.details.insert("root".into(), "11".repeat(32));
            *e = tip.append(
                AuditEvent {
                    at_ms: e.at_ms,
                    kind: e.kind,
                    tenant: e.tenant.clone(),
                    details: e.details.clone(),
                },
                &e.policy_sha256,
            );
        }
        assert!(matches!(
            verify_chain(&rewritten, Some(&head), &pk),
            Err(ChainBreak::HeadMismatch { .. })
        ));
        assert_eq!(
            verify_chain(&entries, None, &pk),
            Err(ChainBreak::NoHead { entries: 6 })
        );
    }

    #[test]
    fn a_head_checks_only_with_its_key_and_text() {
        let (entries, head, key) = chain(2);
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(
            verify_chain(&entries, Some(&head), &public(&other)),
            Err(ChainBreak::BadHeadSignature { .. })
        ));
        let mut moved = head.clone();
        moved.at_ms += 1;
        assert!(moved.verify(&public(&key)).is_err());
        assert!(head.verify("not hex").is_err());
    }
}
