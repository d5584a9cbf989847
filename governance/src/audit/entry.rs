//! One audit entry: what happened, when, to which tenant, under which policy
//! bundle, with a few named details; and its place in the chain.
//!
//! An entry's bytes are a line-oriented text anyone can rebuild:
//!
//! ```text
//! zktx-audit-v1
//! seq=<decimal, from 1>
//! at_ms=<decimal, Unix milliseconds>
//! kind=<kind>
//! tenant=<tenant id, or empty>
//! policy_sha256=<64 hex>
//! <detail key>=<detail value>      (one line each, keys sorted)
//! ```
//! Values are escaped (`\` → `\\`, newline → `\n`, carriage return → `\r`),
//! so each line is one field. The entry's *content digest* is the SHA-256 of
//! that text; its *hash* is `SHA-256("zktx-audit-link-v1\n" ‖ previous hash ‖
//! content digest)` (32-byte values), the first entry's previous hash being
//! 32 zero bytes. An export can so show another tenant's entry by its content
//! digest alone and still let the chain be walked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 value.
pub type Hash = [u8; 32];

/// The previous hash of the first entry.
pub const GENESIS: Hash = [0; 32];

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// The chain began (details: how many receipts the store held before).
    ChainStarted,
    /// A server started (details: profile, version, configuration digest).
    ServerStarted,
    /// A group of receipts was committed (details: Merkle root, size).
    ReceiptGroup,
    /// Requests the admission policy denied (a tally: rule, count, first and last time).
    PolicyDenial,
    /// Requests refused because the plan or the evidence lacks a feature (a tally).
    EntitlementDenial,
    /// Requests refused for a spent quota or a rate limit (a tally).
    QuotaDenial,
    /// A verifying key was loaded (details: circuit, fingerprint, origin).
    KeyLoaded,
    /// The server's configuration differs from the previous start's (old and new digests).
    ConfigChanged,
    /// An API key was added to a tenant (details: the first 16 hex of its SHA-256).
    ApiKeyAdded,
    /// An API key was removed from a tenant.
    ApiKeyRevoked,
    /// A waiver lifted a denial (a tally: waiver, rule, owner, count).
    WaiverUsed,
    /// An invoice was issued (details: invoice id, period, total, its SHA-256).
    InvoiceIssued,
    /// An auditor key was granted (details: key id, expiry).
    AuditorGranted,
    /// An auditor read something (details: key id, what).
    AuditorAccess,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [AuditKind; 14] = [
        AuditKind::ChainStarted,
        AuditKind::ServerStarted,
        AuditKind::ReceiptGroup,
        AuditKind::PolicyDenial,
        AuditKind::EntitlementDenial,
        AuditKind::QuotaDenial,
        AuditKind::KeyLoaded,
        AuditKind::ConfigChanged,
        AuditKind::ApiKeyAdded,
        AuditKind::ApiKeyRevoked,
        AuditKind::WaiverUsed,
        AuditKind::InvoiceIssued,
        AuditKind::AuditorGranted,
        AuditKind::AuditorAccess,
    ];

    /// The kind's name, as written in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ChainStarted => "chain_started",
            AuditKind::ServerStarted => "server_started",
            AuditKind::ReceiptGroup => "receipt_group",
            AuditKind::PolicyDenial => "policy_denial",
            AuditKind::EntitlementDenial => "entitlement_denial",
            AuditKind::QuotaDenial => "quota_denial",
            AuditKind::KeyLoaded => "key_loaded",
            AuditKind::ConfigChanged => "config_changed",
            AuditKind::ApiKeyAdded => "api_key_added",
            AuditKind::ApiKeyRevoked => "api_key_revoked",
            AuditKind::WaiverUsed => "waiver_used",
            AuditKind::InvoiceIssued => "invoice_issued",
            AuditKind::AuditorGranted => "auditor_granted",
            AuditKind::AuditorAccess => "auditor_access",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something to record, before it has a place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened (Unix milliseconds).
    pub at_ms: i64,
    /// What happened.
    pub kind: AuditKind,
    /// The tenant it concerns, if one.
    pub tenant: Option<String>,
    /// Named details: tenants, ids, hashes, counts; never set members,
    /// public inputs or keys.
    pub details: BTreeMap<String, String>,
}

impl AuditEvent {
    /// An event with no details.
    pub fn new(at_ms: i64, kind: AuditKind, tenant: Option<&str>) -> Self {
        Self {
            at_ms,
            kind,
            tenant: tenant.map(str::to_string),
            details: BTreeMap::new(),
        }
    }

    /// The event with one more detail.
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.details.insert(key.to_string(), value.to_string());
        self
    }
}

/// An entry of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Its position, from 1, without gaps.
    pub seq: u64,
    /// When it happened (Unix milliseconds).
    pub at_ms: i64,
    /// What happened.
    pub kind: AuditKind,
    /// The tenant it concerns, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The SHA-256 of the policy bundle in force (hex).
    pub policy_sha256: String,
    /// Named details.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The text an entry's content digest is taken over (see the module docs).
pub fn content_text(
    seq: u64,
    at_ms: i64,
    kind: AuditKind,
    tenant: Option<&str>,
    policy_sha256: &str,
    details: &BTreeMap<String, String>,
) -> String {
    let mut text = format!("zktx-audit-v1\nseq={seq}\nat_ms={at_ms}\nkind={kind}\ntenant=");
    escape(tenant.unwrap_or(""), &mut text);
    text.push_str("\npolicy_sha256=");
    escape(policy_sha256, &mut text);
    text.push('\n');
    for (key, value) in details {
        escape(key, &mut text);
        text.push('=');
        escape(value, &mut text);
        text.push('\n');
    }
    text
}

/// The hash linking an entry to the one before it.
pub fn link_hash(prev: &Hash, content_digest: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(b"zktx-audit-link-v1\n");
    hasher.update(prev);
    hasher.update(content_digest);
    hasher.finalize().into()
}

impl AuditEntry {
    /// The SHA-256 of the entry's content text.
    pub fn content_digest(&self) -> Hash {
        Sha256::digest(
            content_text(
                self.seq,
                self.at_ms,
                self.kind,
                self.tenant.as_deref(),
                &self.policy_sha256,
                &self.details,
            )
            .as_bytes(),
        )
        .into()
    }
}

/// Decodes a 64-hex hash.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).ok()?;
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_its_name() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!(AuditKind::parse("nope"), None);
    }

    #[test]
    fn the_content_text_is_one_field_per_line_with_sorted_details() {
        let event = AuditEvent::new(5, AuditKind::PolicyDenial, Some("acme"))
            .with("rule", "trivial-bound")
            .with("count", 3)
            .with("reason", "two\nlines \\ here");
        let text = content_text(
            7,
            event.at_ms,
            event.kind,
            event.tenant.as_deref(),
            &"ab".repeat(32),
            &event.details,
        );
        assert_eq!(
            text,
            format!(
                "zktx-audit-v1\nseq=7\nat_ms=5\nkind=policy_denial\ntenant=acme\npolicy_sha256={}\n\
                 count=3\nreason=two\\nlines \\\\ here\nrule=trivial-bound\n",
                "ab".repeat(32)
            )
        );
        // A value cannot forge another line.
        let forged = content_text(
            7,
            5,
            AuditKind::PolicyDenial,
            Some("acme\nkind=receipt_group"),
            "",
            &BTreeMap::new(),
        );
        assert_eq!(forged.lines().count(), 6);
    }
}
