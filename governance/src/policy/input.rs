//! The admission policy's input document.

use serde::{Deserialize, Serialize};
use zktx_formats::KeyOrigin;

use crate::profile::Profile;

/// How a request reached the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// gRPC (HTTP/2).
    Grpc,
    /// REST (JSON over HTTP/1.1).
    Rest,
}

/// Which kind of call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// One proof.
    Verify,
    /// A batch of proofs in one call.
    Batch,
    /// Proofs on a bidirectional stream.
    Stream,
}

impl Method {
    /// The name the policy sees.
    pub fn name(self) -> &'static str {
        match self {
            Method::Verify => "verify",
            Method::Batch => "batch",
            Method::Stream => "stream",
        }
    }
}

/// What the policy decides on: one request's shape, never its proof or its
/// commitments. Two requests with equal inputs get the same decision, which
/// is what lets the gate cache it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// The tenant's id.
    pub tenant: String,
    /// The tenant's plan.
    pub plan: String,
    /// The circuit id (e.g. `zktx/overlap/v1/capacity-16`).
    pub circuit: String,
    /// Slots per side of the circuit the proof is for.
    pub tier: usize,
    /// The claimed bound on the overlap.
    pub k: u64,
    /// Proofs in the call (1 for a single verify or a stream message).
    pub batch_size: usize,
    /// gRPC or REST.
    pub transport: Transport,
    /// Verify, batch or stream.
    pub method: Method,
    /// The server's deployment profile.
    pub profile: Profile,
    /// Where the verifying key came from (`dev-seed`, `single-party`, `ceremony`).
    pub key_origin: KeyOrigin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_document_uses_the_documented_names() {
        let input = PolicyInput {
            tenant: "acme".into(),
            plan: "pro".into(),
            circuit: "zktx/overlap/v1/capacity-64".into(),
            tier: 64,
            k: 3,
            batch_size: 1,
            transport: Transport::Grpc,
            method: Method::Verify,
            profile: Profile::Prod,
            key_origin: KeyOrigin::Ceremony,
        };
        let json = serde_json::to_value(&input).unwrap();
        assert_eq!(json["transport"], "grpc");
        assert_eq!(json["method"], "verify");
        assert_eq!(json["profile"], "prod");
        assert_eq!(json["key_origin"], "ceremony");
        let back: PolicyInput = serde_json::from_value(json).unwrap();
        assert_eq!(back, input);
    }
}
