//! DSSE envelopes (Dead Simple Signing Envelope, v1), signed with Ed25519.
//!
//! The signature covers the pre-authentication encoding (PAE) of the
//! payload type and the payload, never the JSON around them:
//!
//! ```text
//! "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload
//! ```
//! with lengths in ASCII decimal. The envelope carries the payload in
//! standard base64 (as the DSSE specification and in-toto's tools expect).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The in-toto payload type.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One signature of an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The key's id: the SHA-256 (hex) of its 32 raw public-key bytes.
    #[serde(default)]
    pub keyid: String,
    /// The Ed25519 signature over the PAE, base64.
    pub sig: String,
}

/// A DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// What the payload is.
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// Its signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// Why an envelope does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsseError {
    /// The payload is not base64.
    #[error("payload: not base64")]
    Payload,
    /// The payload type is not the one expected.
    #[error("payloadType: expected {expected}")]
    PayloadType {
        /// The type expected.
        expected: &'static str,
    },
    /// No signature checks with the key.
    #[error("signatures: none checks with key {keyid}")]
    Signature {
        /// The key tried (its id).
        keyid: String,
    },
    /// The public key is not a 32-byte hex Ed25519 key.
    #[error("public key: not a 64-hex Ed25519 public key")]
    Key,
}

/// The pre-authentication encoding of `payload_type` and `payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A key's id in envelopes: the SHA-256 (hex) of its raw public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Signs `payload` of `payload_type` with `key`.
pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Envelope {
    let signature = key.sign(&pae(payload_type, payload));
    Envelope {
        payload_type: payload_type.to_string(),
        payload: STANDARD.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: key_id(&key.verifying_key()),
            sig: STANDARD.encode(signature.to_bytes()),
        }],
    }
}

/// Parses a hex Ed25519 public key.
pub fn public_key(hex_key: &str) -> Result<VerifyingKey, DsseError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut bytes).map_err(|_| DsseError::Key)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| DsseError::Key)
}

/// Checks `envelope` (of `payload_type`) against `key`: some signature must
/// verify over the PAE. Returns the payload's bytes.
pub fn verify(
    envelope: &Envelope,
    payload_type: &'static str,
    key: &VerifyingKey,
) -> Result<Vec<u8>, DsseError> {
    if envelope.payload_type != payload_type {
        return Err(DsseError::PayloadType {
            expected: payload_type,
        });
    }
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|_| DsseError::Payload)?;
    let message = pae(payload_type, &payload);
    let ok = envelope.signatures.iter().any(|s| {
        STANDARD
            .decode(&s.sig)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .is_some_and(|b| {
                key.verify_strict(&message, &Signature::from_bytes(&b))
                    .is_ok()
            })
    });
    if !ok {
        return Err(DsseError::Signature { keyid: key_id(key) });
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_specification_s() {
        // The DSSE specification's test vector.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn an_envelope_checks_only_untouched_and_with_its_key() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let envelope = sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}", &key);
        let public = key.verifying_key();
        assert_eq!(
            verify(&envelope, IN_TOTO_PAYLOAD_TYPE, &public).unwrap(),
            b"{\"a\":1}"
        );
        let mut payload = envelope.clone();
        payload.payload = STANDARD.encode(b"{\"a\":2}");
        assert!(matches!(
            verify(&payload, IN_TOTO_PAYLOAD_TYPE, &public),
            Err(DsseError::Signature { .. })
        ));
        let mut typed = envelope.clone();
        typed.payload_type = "text/plain".into();
        assert!(matches!(
            verify(&typed, IN_TOTO_PAYLOAD_TYPE, &public),
            Err(DsseError::PayloadType { .. })
        ));
        let other = SigningKey::from_bytes(&[2; 32]).verifying_key();
        assert!(verify(&envelope, IN_TOTO_PAYLOAD_TYPE, &other).is_err());
        let mut flipped = envelope;
        let mut sig = STANDARD.decode(&flipped.signatures[0].sig).unwrap();
        sig[0] ^= 1;
        flipped.signatures[0].sig = STANDARD.encode(sig);
        assert!(verify(&flipped, IN_TOTO_PAYLOAD_TYPE, &public).is_err());
    }
}
