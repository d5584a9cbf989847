//! The REST (JSON) bodies of the v1 API, and how request bodies are read.
//!
//! Requests are JSON objects with exactly their fields, each once (see
//! [`object_only!`](crate::object_only)); responses may gain fields in later
//! versions, so clients read them leniently. Field elements are 64 hex digits,
//! proofs base64 of the 192-byte compressed encoding, as in a proof file.
//! Every call but `GET /v1/receipt-key` carries `Authorization: Bearer <API key>`;
//! a deadline rides in [`TIMEOUT_HEADER`](crate::status::TIMEOUT_HEADER).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::receipt::{Receipt, ReceiptVerdict};

/// The most bytes one JSON proof submission needs: an honest one is about
/// 560 (a 64-digit fingerprint, four public inputs, 256 base64 digits of
/// proof); the bound leaves room for `0x` prefixes and pretty-printing.
pub const MAX_JSON_SUBMISSION_BYTES: usize = 2048;

/// The largest body a call of `items` submissions needs.
pub fn max_body_bytes(items: usize) -> usize {
    items.saturating_mul(MAX_JSON_SUBMISSION_BYTES) + 4096
}

/// Writes a `Deserialize` for a struct that accepts a JSON object with
/// exactly its fields (each once), and nothing else: not an array (serde's
/// derive would take `[fingerprint, [a, b, k, context], proof]`). A struct
/// that borrows from the input is written `Name<'de>`. The crate using it
/// needs `serde` as a dependency.
#[macro_export]
macro_rules! object_only {
    ($name:ident $(<$lt:lifetime>)? { $($field:ident : $ty:ty),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name $(<$lt>)? {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const FIELDS: &[&str] = &[$(stringify!($field)),*];
                struct ObjectVisitor<'v>(std::marker::PhantomData<&'v ()>);
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor<'de> {
                    type Value = $name $(<$lt>)?;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "an object with fields {}", $crate::rest::field_list(FIELDS))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        use serde::de::Error;
                        $(let mut $field: Option<$ty> = None;)*
                        while let Some(index) = map.next_key_seed($crate::rest::FieldSeed(FIELDS))? {
                            let name = FIELDS.get(index).copied();
                            $(
                                if name == Some(stringify!($field)) {
                                    if $field.is_some() {
                                        return Err(A::Error::duplicate_field(stringify!($field)));
                                    }
                                    $field = Some(map.next_value()?);
                                    continue;
                                }
                            )*
                            return Err(A::Error::custom(format_args!(
                                "unknown field: expected only {}",
                                $crate::rest::field_list(FIELDS)
                            )));
                        }
                        $(let $field = $field.ok_or_else(|| A::Error::missing_field(stringify!($field)))?;)*
                        Ok($name { $($field),* })
                    }
                }
                deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            }
        }
    };
}

/// `a`, `b` and `c`: a struct's field names, for messages.
pub fn field_list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads an object key as the index of a known field (or `usize::MAX`),
/// without allocating and without keeping the caller's text.
pub struct FieldSeed(pub &'static [&'static str]);

impl<'de> serde::de::DeserializeSeed<'de> for FieldSeed {
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl serde::de::Visitor<'_> for FieldSeed {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<usize, E> {
        Ok(self.0.iter().position(|f| *f == name).unwrap_or(usize::MAX))
    }
}

/// The statement's public inputs (field elements as 64 hex digits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestInputs {
    /// Commitment to set A.
    pub commit_a: String,
    /// Commitment to set B.
    pub commit_b: String,
    /// The bound k.
    pub k: u64,
    /// The context the proof is bound to.
    pub context: String,
}

/// One proof and what it claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestSubmission {
    /// Hex fingerprint of the verifying key (a proof file's `vk_fingerprint`).
    pub key_fingerprint: String,
    /// The public inputs.
    pub public_inputs: RestInputs,
    /// Base64 of the 192-byte compressed proof.
    pub proof: String,
}

/// Many proofs in one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestBatchRequest {
    /// The proofs; at most the plan's `max_batch`.
    pub items: Vec<RestSubmission>,
}

// Request bodies are JSON objects with exactly these fields (serde's derive
// would also take arrays): see [`object_only!`](crate::object_only).
crate::object_only!(RestInputs {
    commit_a: String,
    commit_b: String,
    k: u64,
    context: String,
});
crate::object_only!(RestSubmission {
    key_fingerprint: String,
    public_inputs: RestInputs,
    proof: String,
});
crate::object_only!(RestBatchRequest {
    items: Vec<RestSubmission>
});

/// The answer for one proof.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestVerifyResponse {
    /// `valid` or `invalid`.
    pub verdict: ReceiptVerdict,
    /// Why the proof is invalid; empty when valid.
    pub reason: String,
    /// The signed receipt.
    pub receipt: Receipt,
    /// True when an earlier receipt for the same valid statement was returned (not metered).
    pub replayed: bool,
}

/// An error: the gRPC code name, the offending field and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct ErrorBody {
    /// e.g. `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`.
    pub code: String,
    /// The offending field, for `INVALID_ARGUMENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A message a partner can act on.
    pub message: String,
    /// Seconds to wait before retrying, when retrying helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Why a `RESOURCE_EXHAUSTED` or `UNAVAILABLE` was answered
    /// (`RATE_LIMITED`, `QUOTA_EXHAUSTED`, `OVERLOADED`, `SHUTTING_DOWN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One item of a batch: a response or an error.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestItemResult {
    /// Present when the item was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RestVerifyResponse>,
    /// Present when the item was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// One result per item, in order.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestBatchResponse {
    /// The results.
    pub results: Vec<RestItemResult>,
}

/// A circuit this server verifies.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestCircuit {
    /// The circuit identifier.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// The verifying key's fingerprint.
    pub key_fingerprint: String,
    /// R1CS constraints.
    pub constraints: u64,
    /// Keys from a development seed: not for production.
    pub dev_keys: bool,
    /// Whether the caller's plan allows it.
    pub allowed: bool,
}

/// The receipt-signing key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestReceiptKey {
    /// Always `ed25519`.
    pub algorithm: String,
    /// 32 bytes, hex.
    pub public_key: String,
}

/// One signature of a DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestEnvelopeSignature {
    /// The SHA-256 (hex) of the signing public key.
    pub keyid: String,
    /// The Ed25519 signature over the DSSE pre-authentication encoding, base64.
    pub sig: String,
}

/// The server's signed attestation (`GET /v1/attestation`): a DSSE envelope
/// whose payload (base64) is the attestation document
/// (`docs/supply-chain.md`), signed with the receipt key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestAttestationEnvelope {
    /// `application/vnd.zktx.attestation+json`.
    pub payload_type: String,
    /// The document, base64.
    pub payload: String,
    /// One signature, by the receipt key.
    pub signatures: Vec<RestEnvelopeSignature>,
}

/// The caller's plan and today's metered proofs (`GET /v1/usage`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct UsageReport {
    /// The tenant.
    pub tenant: String,
    /// The plan's name.
    pub plan: String,
    /// Days since the Unix epoch (UTC).
    pub utc_day: i64,
    /// Proofs metered today (durable usage events).
    pub proofs_today: u64,
    /// The plan's daily proof quota.
    pub daily_quota: u64,
    /// The largest batch per call.
    pub max_batch: usize,
    /// Sustained requests per second.
    pub requests_per_second: u32,
}

/// One plan feature and why it is on or off.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestEntitlement {
    /// `tiers`, `max_batch`, `streaming`, `daily_quota`, `receipt_retention`,
    /// `webhooks`, `auditor_access` or `evidence_downloads`.
    pub feature: String,
    /// Whether it is on.
    pub enabled: bool,
    /// The limit, for features that are one (`"16, 64"`, `"256"`, `"90 days"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why, naming the plan or the evidence that would turn it on.
    pub reason: String,
}

/// The caller's plan features (`GET /v1/entitlements`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestEntitlements {
    /// The tenant.
    pub tenant: String,
    /// The plan's name.
    pub plan: String,
    /// `starter`, `pro` or `enterprise`: the plan's column of the matrix.
    pub edition: String,
    /// Price of one verified proof, USD, exact decimal.
    pub price_per_proof_usd: String,
    /// Evidence: every verifying key is from a setup ceremony.
    pub ceremony_keys: bool,
    /// Evidence: the policy bundle's hash is pinned.
    pub policy_pinned: bool,
    /// The SHA-256 (hex) of the admission policy bundle in force.
    pub policy_sha256: String,
    /// Every feature, in the matrix's order.
    pub features: Vec<RestEntitlement>,
}

impl From<RestEntitlements> for crate::v1::Entitlements {
    fn from(e: RestEntitlements) -> Self {
        Self {
            tenant: e.tenant,
            plan: e.plan,
            edition: e.edition,
            price_per_proof_usd: e.price_per_proof_usd,
            ceremony_keys: e.ceremony_keys,
            policy_pinned: e.policy_pinned,
            policy_sha256: e.policy_sha256,
            features: e
                .features
                .into_iter()
                .map(|f| crate::v1::Entitlement {
                    feature: f.feature,
                    enabled: f.enabled,
                    value: f.value.unwrap_or_default(),
                    reason: f.reason,
                })
                .collect(),
        }
    }
}

/// One issued invoice (`GET /v1/invoices`); `GET /v1/invoices/{id}` answers
/// its signed JSON, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RestInvoice {
    /// `inv-<YYYY-MM>-<tenant>`.
    pub id: String,
    /// The month, `YYYY-MM`.
    pub period: String,
    /// Verifications billed.
    pub quantity: u64,
    /// The exact total, USD.
    pub total_usd: String,
    /// What is due, USD (cents).
    pub amount_due_usd: String,
    /// The SHA-256 (hex) of the invoice's JSON bytes.
    pub sha256: String,
    /// The receipt key's Ed25519 signature (hex) over
    /// `zktx-invoice-v1\nid=<id>\nsha256=<sha256>\n`.
    pub signature: String,
}
