//! Invoices and the webhook outbox in the store.
//!
//! Issuing an invoice is one immediate transaction: rate the tenant's
//! metered verifications of the month (from `usage_events` and their
//! receipts), store the invoice's JSON with its SHA-256 and signature,
//! append `invoice_issued` to the audit chain, and, when the tenant's plan
//! has webhooks and one is configured, queue an `invoice.created` delivery
//! in the outbox. One invoice per tenant and month: issuing again returns
//! the stored one and changes nothing. A running server delivers the outbox
//! (`crate::webhooks`); this works on the file, so the `zktx billing`
//! commands use it while the server runs.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use zktx_governance::audit::{AuditEvent, AuditKind};
use zktx_governance::billing::invoice::{invoice_sha256, receipts_digest, sign_invoice};
use zktx_governance::billing::{rate, Invoice, InvoiceInputs, Period, PeriodError, UsageLine};
use zktx_governance::entitlements::Edition;

use super::{audit, migrations, open_connection, StoreError};
use crate::receipt::ReceiptSigner;

/// The webhook event an invoice queues.
pub const INVOICE_CREATED: &str = "invoice.created";

/// Why billing refused.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The period is malformed or not over.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// The tenant is not in the store.
    #[error("tenant: no such tenant in this store")]
    UnknownTenant,
    /// No outbox entry has this id.
    #[error("id: no webhook delivery with this id")]
    UnknownDelivery,
}

impl From<rusqlite::Error> for BillingError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::from(e))
    }
}

/// An invoice as stored.
#[derive(Clone, Debug)]
pub struct StoredInvoice {
    /// The document.
    pub invoice: Invoice,
    /// Its bytes (what the SHA-256 and signature cover).
    pub json: Vec<u8>,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// The receipt key's signature over its id and SHA-256 (hex).
    pub signature: String,
    /// Whether this call issued it (false: it existed already).
    pub issued_now: bool,
}

/// One webhook delivery in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// The event's id: its idempotency key.
    pub id: String,
    /// The tenant it goes to.
    pub tenant: String,
    /// The event type.
    pub event: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Deliveries tried.
    pub attempts: u32,
    /// When the next is due (Unix milliseconds).
    pub next_attempt_ms: i64,
    /// Why the last one failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_ms: i64,
    /// When it was delivered.
    pub delivered_ms: Option<i64>,
    /// The body (JSON).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Opens the store at `path` for an offline command (migrated, WAL).
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = open_connection(path)?;
    migrations::migrate(&mut conn)?;
    Ok(conn)
}

impl StoredInvoice {
    /// An invoice from its stored columns (`None` if the JSON does not parse).
    fn from_columns(json: Vec<u8>, sha256: String, signature: String) -> Option<Self> {
        let invoice = serde_json::from_slice(&json).ok()?;
        Some(Self {
            invoice,
            json,
            sha256,
            signature,
            issued_now: false,
        })
    }
}

fn stored(
    tx: &Connection,
    tenant: &str,
    period: Period,
) -> rusqlite::Result<Option<StoredInvoice>> {
    let row = tx
        .query_row(
            "SELECT json, sha256, signature FROM invoices WHERE tenant = ?1 AND period = ?2",
            params![tenant, period.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row
        .and_then(|(json, sha256, signature)| StoredInvoice::from_columns(json, sha256, signature)))
}

/// `tenant`'s invoices, newest period first.
pub fn list(conn: &Connection, tenant: &str) -> Result<Vec<StoredInvoice>, StoreError> {
    let rows: Vec<(Vec<u8>, String, String)> = conn
        .prepare(
            "SELECT json, sha256, signature FROM invoices WHERE tenant = ?1 ORDER BY period DESC",
        )?
        .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(json, sha256, signature)| {
            StoredInvoice::from_columns(json, sha256, signature)
        })
        .collect())
}

/// Issues (or returns the already issued) invoice of `tenant` for `period`,
/// which must have ended by `now_ms`.
pub fn issue(
    conn: &mut Connection,
    signer: &ReceiptSigner,
    tenant: &str,
    period: Period,
    now_ms: i64,
) -> Result<StoredInvoice, BillingError> {
    period.ended_by(now_ms)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let issued = issue_in(&tx, signer, tenant, period, now_ms)?;
    tx.commit()?;
    Ok(issued)
}

fn issue_in(
    tx: &Transaction<'_>,
    signer: &ReceiptSigner,
    tenant: &str,
    period: Period,
    now_ms: i64,
) -> Result<StoredInvoice, BillingError> {
    if let Some(existing) = stored(tx, tenant, period)? {
        return Ok(existing);
    }
    let (plan, edition, webhook_url): (String, String, Option<String>) = tx
        .query_row(
            "SELECT plan, edition, webhook_url FROM tenants WHERE id = ?1",
            [tenant],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(BillingError::UnknownTenant)?;
    let edition = Edition::from_name(&edition).unwrap_or(Edition::Enterprise);
    let (start, end) = (period.start_ms(), period.end_ms());
    let usage: Vec<UsageLine> = tx
        .prepare(
            "SELECT r.circuit, r.verdict, COUNT(*) FROM usage_events u JOIN receipts r ON r.id = u.receipt_id
             WHERE u.tenant = ?1 AND u.at_ms >= ?2 AND u.at_ms < ?3 GROUP BY r.circuit, r.verdict",
        )?
        .query_map(params![tenant, start, end], |r| {
            Ok(UsageLine {
                circuit: r.get(0)?,
                verdict: r.get(1)?,
                quantity: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let ids: Vec<String> = tx
        .prepare(
            "SELECT receipt_id FROM usage_events WHERE tenant = ?1 AND at_ms >= ?2 AND at_ms < ?3",
        )?
        .query_map(params![tenant, start, end], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let invoice = rate(InvoiceInputs {
        tenant: tenant.to_string(),
        plan,
        edition,
        period,
        issued_at_ms: now_ms,
        usage,
        receipts_sha256: receipts_digest(ids.iter().map(String::as_str)),
    });
    let json = invoice.to_json();
    let sha256 = invoice_sha256(&json);
    let signature = sign_invoice(&invoice.id, &sha256, signer.key());
    tx.execute(
        "INSERT INTO invoices (id, tenant, period, issued_ms, json, sha256, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![invoice.id, tenant, invoice.period, now_ms, json, sha256, signature],
    )?;
    let event = AuditEvent::new(now_ms, AuditKind::InvoiceIssued, Some(tenant))
        .with("invoice_id", &invoice.id)
        .with("period", &invoice.period)
        .with("quantity", invoice.quantity)
        .with("total_usd", invoice.total_usd)
        .with("sha256", &sha256);
    audit::append(tx, vec![event], None, signer).map_err(StoreError::from)?;
    if edition.row().webhooks && webhook_url.is_some() {
        let event_id = format!("evt-{}", invoice.id);
        let body = serde_json::to_vec(&serde_json::json!({
            "id": event_id,
            "type": INVOICE_CREATED,
            "created_ms": now_ms,
            "data": {
                "invoice_id": invoice.id,
                "tenant": tenant,
                "period": invoice.period,
                "quantity": invoice.quantity,
                "total_usd": invoice.total_usd,
                "amount_due_usd": invoice.amount_due_usd,
                "currency": invoice.currency,
                "sha256": sha256,
                "signature": signature,
            }
        }))
        .expect("a JSON body");
        // Due at once by the wall clock (`now_ms` dates the invoice).
        tx.execute(
            "INSERT INTO webhook_outbox (id, tenant, event, body, state, attempts, next_attempt_ms, created_ms)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)",
            params![event_id, tenant, INVOICE_CREATED, body, crate::quota::now_ms()],
        )?;
    }
    Ok(StoredInvoice {
        invoice,
        json,
        sha256,
        signature,
        issued_now: true,
    })
}

/// Issues every tenant's invoice for `period` (tenants with metered usage
/// in it); an invoice already issued is returned, not issued again.
pub fn close(
    conn: &mut Connection,
    signer: &ReceiptSigner,
    period: Period,
    now_ms: i64,
) -> Result<Vec<StoredInvoice>, BillingError> {
    period.ended_by(now_ms)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenants: Vec<String> = tx
        .prepare(
            "SELECT DISTINCT tenant FROM usage_events WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY tenant",
        )?
        .query_map(params![period.start_ms(), period.end_ms()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut issued = Vec::new();
    for tenant in tenants {
        issued.push(issue_in(&tx, signer, &tenant, period, now_ms)?);
    }
    tx.commit()?;
    Ok(issued)
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        id: r.get(0)?,
        tenant: r.get(1)?,
        event: r.get(2)?,
        state: r.get(3)?,
        attempts: r.get(4)?,
        next_attempt_ms: r.get(5)?,
        last_error: r.get(6)?,
        created_ms: r.get(7)?,
        delivered_ms: r.get(8)?,
        body: r.get(9)?,
    })
}

const OUTBOX_COLUMNS: &str =
    "id, tenant, event, state, attempts, next_attempt_ms, last_error, created_ms, delivered_ms, body";

/// Every outbox entry, newest first.
pub fn outbox(conn: &Connection) -> Result<Vec<OutboxEntry>, StoreError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM webhook_outbox ORDER BY created_ms DESC, id"
        ))?
        .query_map([], row_to_entry)?
        .collect::<Result<_, _>>()?)
}

/// Pending entries due at `now_ms`, oldest first, at most `limit`.
pub fn due(conn: &Connection, now_ms: i64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM webhook_outbox WHERE state = 'pending' AND next_attempt_ms <= ?1
             ORDER BY next_attempt_ms LIMIT ?2"
        ))?
        .query_map(params![now_ms, limit as i64], row_to_entry)?
        .collect::<Result<_, _>>()?)
}

/// Records a delivery's outcome: delivered, or failed with `error` and
/// either the next attempt's time or, past the last attempt, dead.
pub fn record_attempt(
    conn: &Connection,
    id: &str,
    outcome: Result<(), (&str, Option<i64>)>,
    now_ms: i64,
) -> Result<(), StoreError> {
    match outcome {
        Ok(()) => conn.execute(
            "UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, delivered_ms = ?2, last_error = NULL
             WHERE id = ?1",
            params![id, now_ms],
        )?,
        Err((error, Some(next))) => conn.execute(
            "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 WHERE id = ?1",
            params![id, error, next],
        )?,
        Err((error, None)) => conn.execute(
            "UPDATE webhook_outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?,
    };
    Ok(())
}

/// Puts a delivery back in the queue, due now, with its attempts reset (a
/// dead-lettered one after the receiver is fixed, or a delivered one again).
pub fn replay(conn: &Connection, id: &str, now_ms: i64) -> Result<(), BillingError> {
    let changed = conn.execute(
        "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2 WHERE id = ?1",
        params![id, now_ms],
    )?;
    if changed == 0 {
        return Err(BillingError::UnknownDelivery);
    }
    Ok(())
}
