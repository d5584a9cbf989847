//! "What answered me": the document a server signs at start about itself
//! (the running binary's digest, the provenance it was released with, the
//! policy bundle, its verifying keys, its profile), and the checks that tie
//! a release's signed provenance to a running binary and its keys.
//!
//! It is a **software attestation with no hardware root**: the server
//! signs with its receipt key what it computed about itself, so it shows
//! what a server holding that key claims to run, not what a compromised
//! host really runs.

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::dsse::{self, Envelope};
use super::statement::{Classify, Verified};
use super::ProvenanceError;

/// The document's `_type`.
pub const ATTESTATION_TYPE: &str = "https://zktx.dev/attestation/v1";
/// The DSSE payload type of an attestation.
pub const ATTESTATION_PAYLOAD_TYPE: &str = "application/vnd.zktx.attestation+json";
/// What kind of attestation it is, in every document.
pub const LABEL: &str = "software attestation, no hardware root";

/// One verifying key the server loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestedKey {
    /// Slots per side.
    pub tier: usize,
    /// The key's fingerprint: the SHA-256 (hex) of its `verifying_key.bin`.
    pub fingerprint: String,
    /// Where it came from (`ceremony`, `single-party`, `dev-seed`).
    pub origin: String,
}

/// What the server says about itself at start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// [`ATTESTATION_TYPE`].
    #[serde(rename = "_type")]
    pub doc_type: String,
    /// [`LABEL`].
    pub label: String,
    /// The zktx version.
    pub version: String,
    /// The SHA-256 (hex) of the running executable, read at start.
    pub binary_sha256: String,
    /// The SHA-256 (hex) of the provenance envelope the server was
    /// configured with, if any.
    pub provenance_sha256: Option<String>,
    /// Whether that provenance was checked at start (signature, official
    /// key, the binary and every key among its subjects).
    pub provenance_verified: bool,
    /// The admission policy bundle's SHA-256 (hex).
    pub policy_sha256: String,
    /// `dev`, `staging` or `prod`.
    pub profile: String,
    /// The verifying keys loaded.
    pub keys: Vec<AttestedKey>,
    /// The receipt public key (hex), which signs this document.
    pub receipt_public_key: String,
    /// When the server started (RFC 3339).
    pub started_at: String,
}

impl Attestation {
    /// Signs the document with `key` in a DSSE envelope (JSON).
    pub fn sign(&self, key: &SigningKey) -> String {
        let payload = serde_json::to_vec(self).expect("an attestation serialises");
        let envelope = dsse::sign(ATTESTATION_PAYLOAD_TYPE, &payload, key);
        serde_json::to_string(&envelope).expect("an envelope serialises")
    }

    /// Opens a signed attestation: the envelope, its signature with `key`,
    /// the document's type and label, and that `key` is the document's own
    /// receipt key.
    pub fn open(envelope_json: &str, key: &VerifyingKey) -> Result<Self, ProvenanceError> {
        let envelope: Envelope = serde_json::from_str(envelope_json)
            .map_err(|e| ProvenanceError::Envelope(e.classify_name()))?;
        let payload = dsse::verify(&envelope, ATTESTATION_PAYLOAD_TYPE, key)?;
        let doc: Attestation = serde_json::from_slice(&payload)
            .map_err(|e| ProvenanceError::Attestation(e.classify_name()))?;
        if doc.doc_type != ATTESTATION_TYPE || doc.label != LABEL {
            return Err(ProvenanceError::Attestation("_type or label".into()));
        }
        if !doc
            .receipt_public_key
            .eq_ignore_ascii_case(&hex::encode(key.as_bytes()))
        {
            return Err(ProvenanceError::Attestation(
                "receipt_public_key is not the key that signed it".into(),
            ));
        }
        Ok(doc)
    }

    /// The document's own key, for a caller that has not pinned one (it then
    /// shows only that the document is intact, not who signed it).
    pub fn claimed_key(envelope_json: &str) -> Result<VerifyingKey, ProvenanceError> {
        let envelope: Envelope = serde_json::from_str(envelope_json)
            .map_err(|e| ProvenanceError::Envelope(e.classify_name()))?;
        let payload = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &envelope.payload,
        )
        .map_err(|_| ProvenanceError::Dsse(dsse::DsseError::Payload))?;
        let doc: Attestation = serde_json::from_slice(&payload)
            .map_err(|e| ProvenanceError::Attestation(e.classify_name()))?;
        Ok(dsse::public_key(&doc.receipt_public_key)?)
    }
}

/// Ties checked provenance to a binary and its keys: the binary's SHA-256
/// must be a subject's, and so must every key's fingerprint (the SHA-256 of
/// its `verifying_key.bin`): the release's signature then covers both.
/// `require_official` also refuses provenance signed with a throwaway key.
pub fn binds(
    provenance: &Verified,
    binary_sha256: &str,
    keys: &[AttestedKey],
    require_official: bool,
) -> Result<(), ProvenanceError> {
    if require_official && !provenance.official {
        return Err(ProvenanceError::Unofficial);
    }
    if provenance.subject_with(binary_sha256).is_none() {
        return Err(ProvenanceError::NotReleased {
            what: "the running binary".into(),
        });
    }
    for key in keys {
        if provenance.subject_with(&key.fingerprint).is_none() {
            return Err(ProvenanceError::NotReleased {
                what: format!(
                    "the verifying key of tier {} ({})",
                    key.tier, key.fingerprint
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::{sign, statement, BuildFacts, Subject};
    use std::collections::BTreeMap;

    fn doc(key: &SigningKey) -> Attestation {
        Attestation {
            doc_type: ATTESTATION_TYPE.into(),
            label: LABEL.into(),
            version: "0.1.0".into(),
            binary_sha256: "aa".repeat(32),
            provenance_sha256: Some("bb".repeat(32)),
            provenance_verified: true,
            policy_sha256: "cc".repeat(32),
            profile: "prod".into(),
            keys: vec![AttestedKey {
                tier: 16,
                fingerprint: "dd".repeat(32),
                origin: "ceremony".into(),
            }],
            receipt_public_key: hex::encode(key.verifying_key().as_bytes()),
            started_at: "2026-12-02T00:00:00Z".into(),
        }
    }

    #[test]
    fn an_attestation_opens_with_its_key_and_not_another_or_edited() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let envelope = doc(&key).sign(&key);
        let opened = Attestation::open(&envelope, &key.verifying_key()).unwrap();
        assert_eq!(opened, doc(&key));
        assert_eq!(
            Attestation::claimed_key(&envelope).unwrap(),
            key.verifying_key()
        );
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(Attestation::open(&envelope, &other.verifying_key()).is_err());
        // Signed by a key other than the one it names: refused.
        let mut lying = doc(&key);
        lying.receipt_public_key = hex::encode(other.verifying_key().as_bytes());
        assert!(Attestation::open(&lying.sign(&key), &key.verifying_key()).is_err());
        // An edited payload no longer verifies.
        let mut value: serde_json::Value = serde_json::from_str(&envelope).unwrap();
        let payload = value["payload"].as_str().unwrap().to_string();
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, payload).unwrap();
        bytes[20] ^= 1;
        value["payload"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes).into();
        assert!(Attestation::open(&value.to_string(), &key.verifying_key()).is_err());
    }

    fn provenance(official: bool, digests: &[&str]) -> Verified {
        let subjects = digests
            .iter()
            .enumerate()
            .map(|(i, d)| Subject {
                name: format!("s{i}"),
                digest: BTreeMap::from([("sha256".to_string(), d.to_string())]),
            })
            .collect();
        let facts = BuildFacts {
            source_uri: "git+https://example.invalid/zktx".into(),
            commit: "ab".repeat(20),
            cargo_lock_sha256: "00".repeat(32),
            builder_id: "b".into(),
            official,
            cargo_profile: "release".into(),
            invocation_id: "1".into(),
            started_on: "2026-12-02T00:00:00Z".into(),
            finished_on: "2026-12-02T00:01:00Z".into(),
        };
        let key = SigningKey::from_bytes(&[9; 32]);
        let envelope = sign(&statement(subjects, &facts), &key);
        crate::provenance::open(&envelope, &hex::encode(key.verifying_key().as_bytes())).unwrap()
    }

    #[test]
    fn provenance_binds_the_binary_and_every_key() {
        let binary = "aa".repeat(32);
        let key = "dd".repeat(32);
        let keys = [AttestedKey {
            tier: 16,
            fingerprint: key.clone(),
            origin: "ceremony".into(),
        }];
        binds(&provenance(true, &[&binary, &key]), &binary, &keys, true).unwrap();
        assert!(matches!(
            binds(&provenance(false, &[&binary, &key]), &binary, &keys, true),
            Err(ProvenanceError::Unofficial)
        ));
        binds(&provenance(false, &[&binary, &key]), &binary, &keys, false).unwrap();
        let error = binds(&provenance(true, &[&key]), &binary, &keys, true).unwrap_err();
        assert!(error.to_string().contains("running binary"), "{error}");
        let error = binds(&provenance(true, &[&binary]), &binary, &keys, true).unwrap_err();
        assert!(error.to_string().contains("tier 16"), "{error}");
    }
}
