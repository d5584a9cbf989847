//! What the client sends: one proof and the statement it claims.

use base64::Engine as _;
use zktx_formats::{EnvelopeInputs, ProofEnvelope};
use zktx_proto::rest::{RestInputs, RestSubmission};
use zktx_proto::status::Code;
use zktx_proto::v1;

use crate::Error;

/// One proof and what it claims, as the service takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Hex fingerprint of the verifying key (a proof file's `vk_fingerprint`).
    pub key_fingerprint: String,
    /// The public inputs, field elements as 64 hex digits.
    pub public_inputs: EnvelopeInputs,
    /// The 192-byte compressed Groth16 proof.
    pub proof: Vec<u8>,
}

impl Proof {
    /// The proof in a proof file (`zktx prove`'s output). Nothing is checked
    /// here but the base64; the server validates the rest.
    pub fn from_envelope(envelope: &ProofEnvelope) -> Result<Self, Error> {
        let proof = base64::engine::general_purpose::STANDARD
            .decode(envelope.proof.trim())
            .map_err(|_| Error {
                field: Some("proof".into()),
                ..Error::new(
                    Code::InvalidArgument,
                    "the proof file's proof is not base64",
                )
            })?;
        Ok(Self {
            key_fingerprint: envelope.vk_fingerprint.clone(),
            public_inputs: envelope.public_inputs.clone(),
            proof,
        })
    }

    /// The proof in a proof file's JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let envelope: ProofEnvelope = serde_json::from_str(text).map_err(|e| Error {
            field: Some("proof file".into()),
            ..Error::new(
                Code::InvalidArgument,
                format!(
                    "not a zktx proof file (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Self::from_envelope(&envelope)
    }

    /// The gRPC form.
    pub fn to_message(&self) -> v1::ProofSubmission {
        v1::ProofSubmission {
            key_fingerprint: self.key_fingerprint.clone(),
            public_inputs: Some(inputs_message(&self.public_inputs)),
            proof: self.proof.clone(),
        }
    }

    /// The REST form.
    pub fn to_rest(&self) -> RestSubmission {
        let inputs = &self.public_inputs;
        RestSubmission {
            key_fingerprint: self.key_fingerprint.clone(),
            public_inputs: RestInputs {
                commit_a: inputs.commit_a.clone(),
                commit_b: inputs.commit_b.clone(),
                k: inputs.k,
                context: inputs.context.clone(),
            },
            proof: base64::engine::general_purpose::STANDARD.encode(&self.proof),
        }
    }
}

/// A proof file's public inputs as the gRPC message carries them.
pub fn inputs_message(inputs: &EnvelopeInputs) -> v1::PublicInputs {
    v1::PublicInputs {
        commit_a: inputs.commit_a.clone(),
        commit_b: inputs.commit_b.clone(),
        k: inputs.k,
        context: inputs.context.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof() -> Proof {
        Proof {
            key_fingerprint: "ab".repeat(32),
            public_inputs: EnvelopeInputs {
                commit_a: "01".repeat(32),
                commit_b: "02".repeat(32),
                k: 3,
                context: "03".repeat(32),
            },
            proof: vec![7; 192],
        }
    }

    #[test]
    fn both_wire_forms_carry_the_same_proof() {
        let p = proof();
        let message = p.to_message();
        assert_eq!(message.proof, p.proof);
        assert_eq!(message.public_inputs.unwrap().k, 3);
        let rest = p.to_rest();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&rest.proof)
            .unwrap();
        assert_eq!(decoded, p.proof);
        assert_eq!(rest.public_inputs.commit_b, p.public_inputs.commit_b);
    }

    #[test]
    fn a_proof_file_with_bad_base64_names_the_field_without_the_value() {
        let text = format!(
            r#"{{"format":"zktx-proof","version":1,"circuit":"c","tier":16,"vk_fingerprint":"{}",
            "public_inputs":{{"commit_a":"{}","commit_b":"{}","k":3,"context":"{}"}},"proof":"SECRET!!"}}"#,
            "ab".repeat(32),
            "01".repeat(32),
            "02".repeat(32),
            "03".repeat(32)
        );
        let error = Proof::from_json(&text).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("proof"));
        assert!(!error.message.contains("SECRET"));
        let error = Proof::from_json("[1, 2]").unwrap_err();
        assert_eq!(error.code, Code::InvalidArgument);
    }
}
