//! Auditor keys: expiring, read-only keys scoped to one tenant
//! (`zktx auditor grant`). The store keeps each key's SHA-256, never the key;
//! granting one writes an `auditor_granted` audit entry in the same
//! transaction.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use zktx_governance::audit::{AuditEvent, AuditKind};

use super::{audit, migrations, open_connection, StoreError};
use crate::receipt::ReceiptSigner;

/// The prefix of every auditor key (tenant keys start `zktx_` and a hex digit).
pub const AUDITOR_KEY_PREFIX: &str = "zktx_aud_";

/// The longest grant, in days.
pub const MAX_GRANT_DAYS: u32 = 90;

/// An auditor key as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditorKey {
    /// Its public id (`aud-` and 12 hex digits), named in audit entries.
    pub id: String,
    /// The one tenant it reads.
    pub tenant: String,
    /// When it was made (Unix milliseconds).
    pub created_ms: i64,
    /// When it stops working (Unix milliseconds).
    pub expires_ms: i64,
}

/// A granted key: the secret (shown once) and its record.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The key to hand to the auditor.
    pub secret: String,
    /// What the store keeps.
    pub key: AuditorKey,
}

/// Why a grant was refused.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `days` is out of range.
    #[error("days: must be between 1 and {MAX_GRANT_DAYS}")]
    Days,
    /// The tenant is not in the store.
    #[error("tenant: no such tenant in this store (a tenant is recorded when a server starts with it configured)")]
    UnknownTenant,
}

fn key_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Makes an auditor key for `tenant` valid for `days` from `now_ms`, in the
/// store at `path` (a server may be running on it), and audits the grant.
pub fn grant(
    path: &Path,
    signer: &ReceiptSigner,
    tenant: &str,
    days: u32,
    now_ms: i64,
) -> Result<Grant, GrantError> {
    if days == 0 || days > MAX_GRANT_DAYS {
        return Err(GrantError::Days);
    }
    let mut conn = open_connection(path).map_err(StoreError::from)?;
    migrations::migrate(&mut conn).map_err(StoreError::from)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    let known: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?1)",
            [tenant],
            |r| r.get(0),
        )
        .map_err(StoreError::from)?;
    if !known {
        return Err(GrantError::UnknownTenant);
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = format!("{AUDITOR_KEY_PREFIX}{}", hex::encode(bytes));
    let hash = key_hash(&secret);
    let key = AuditorKey {
        id: format!("aud-{}", &hash[..12]),
        tenant: tenant.to_string(),
        created_ms: now_ms,
        expires_ms: now_ms + i64::from(days) * 86_400_000,
    };
    tx.execute(
        "INSERT INTO auditor_keys (id, tenant, key_sha256, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.id, key.tenant, hash, key.created_ms, key.expires_ms],
    )
    .map_err(StoreError::from)?;
    let event = AuditEvent::new(now_ms, AuditKind::AuditorGranted, Some(tenant))
        .with("key_id", &key.id)
        .with("expires_at_ms", key.expires_ms)
        .with("days", days);
    audit::append(&tx, vec![event], None, signer).map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(Grant { secret, key })
}

/// The auditor key `secret` names, if the store has it (expired or not).
pub fn find(conn: &Connection, secret: &str) -> Result<Option<AuditorKey>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, tenant, created_ms, expires_ms FROM auditor_keys WHERE key_sha256 = ?1",
            [key_hash(secret)],
            |r| {
                Ok(AuditorKey {
                    id: r.get(0)?,
                    tenant: r.get(1)?,
                    created_ms: r.get(2)?,
                    expires_ms: r.get(3)?,
                })
            },
        )
        .optional()?)
}
