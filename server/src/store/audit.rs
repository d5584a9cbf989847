//! The audit chain's rows in the store, and its offline checks.
//!
//! `audit_log` holds one row per entry (its `details` as a JSON object of
//! strings), `audit_head` the head signed at the last commit that appended.
//! SQLite triggers refuse `UPDATE` and `DELETE` on `audit_log`; whoever holds
//! the file can drop them, which is what the chain and its signed head are
//! for: [`verify_data_dir`] names the first broken link.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::receipt::ReceiptSigner;
use zktx_governance::audit::{
    parse_hash, AuditEntry, AuditEvent, AuditKind, ChainBreak, ChainTip, ChainWalker, ExportLine,
    ExportScope, ExportWriter, SignedHead,
};

/// Why a store's audit chain does not check, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// SQLite refused a read.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The chain is broken.
    #[error("{0}")]
    Broken(#[from] ChainBreak),
    /// A row's field cannot be read as an entry.
    #[error("audit entry {seq}: field `{field}` is unreadable")]
    Row {
        /// The entry.
        seq: u64,
        /// The column.
        field: &'static str,
    },
    /// A receipt's group is not in the chain.
    #[error("receipt {id}: its group's root is not in the audit chain")]
    ReceiptNotInChain {
        /// The receipt's id.
        id: String,
    },
    /// The export could not be written.
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// The tenant is not one the store knows.
    #[error("tenant: no such tenant in this store")]
    UnknownTenant,
}

/// What [`verify_data_dir`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries walked.
    pub entries: u64,
    /// The signed head (none for an empty chain).
    pub head: Option<SignedHead>,
    /// Receipt groups in the chain.
    pub groups: u64,
    /// Receipts whose group root was found in the chain.
    pub receipts_in_chain: u64,
    /// Receipts issued before the chain began (by a build without it).
    pub receipts_before_chain: u64,
}

pub(crate) fn insert(tx: &Transaction<'_>, entry: &AuditEntry) -> rusqlite::Result<()> {
    let details = serde_json::to_string(&entry.details).unwrap_or_else(|_| "{}".into());
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at_ms, kind, tenant, policy_sha256, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        entry.seq,
        entry.at_ms,
        entry.kind.as_str(),
        entry.tenant,
        entry.policy_sha256,
        details,
        entry.prev_hash,
        entry.hash
    ])?;
    Ok(())
}

pub(crate) fn write_head(tx: &Transaction<'_>, head: &SignedHead) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash, at_ms, public_key, signature)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
             at_ms = excluded.at_ms, public_key = excluded.public_key, signature = excluded.signature",
    )?
    .execute(params![
        head.seq,
        head.hash,
        head.at_ms,
        head.public_key,
        head.signature
    ])?;
    Ok(())
}

/// Appends `events` after the chain's stored tip and signs the new head,
/// inside `tx` (which should hold the write lock: an immediate
/// transaction). Entries carry `policy_sha256`, or when `None` (an offline
/// command) the policy of the chain's last entry. Returns the new tip.
pub fn append(
    tx: &Transaction<'_>,
    events: Vec<AuditEvent>,
    policy_sha256: Option<&str>,
    signer: &ReceiptSigner,
) -> Result<ChainTip, AuditCheckError> {
    let mut tip = load_tip(tx)?;
    if events.is_empty() {
        return Ok(tip);
    }
    let policy = match policy_sha256 {
        Some(policy) => policy.to_string(),
        None => tx
            .query_row(
                "SELECT policy_sha256 FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or_default(),
    };
    for event in events {
        insert(tx, &tip.append(event, &policy))?;
    }
    write_head(tx, &signer.sign_audit_head(tip, crate::quota::now_ms()))?;
    Ok(tip)
}

/// The chain's tip as stored (its last row).
pub fn load_tip(conn: &Connection) -> Result<ChainTip, AuditCheckError> {
    let last: Option<(u64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match last {
        None => Ok(ChainTip::EMPTY),
        Some((seq, hash)) => Ok(ChainTip {
            seq,
            hash: parse_hash(&hash).ok_or(AuditCheckError::Row { seq, field: "hash" })?,
        }),
    }
}

/// The signed head, if any.
pub fn read_head(conn: &Connection) -> Result<Option<SignedHead>, AuditCheckError> {
    Ok(conn
        .query_row(
            "SELECT seq, hash, at_ms, public_key, signature FROM audit_head WHERE id = 1",
            [],
            |row| {
                Ok(SignedHead {
                    seq: row.get(0)?,
                    hash: row.get(1)?,
                    at_ms: row.get(2)?,
                    public_key: row.get(3)?,
                    signature: row.get(4)?,
                })
            },
        )
        .optional()?)
}

/// A stored state value (the previous start's configuration digest, a
/// tenant's key list), if any.
pub(crate) fn state(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT value FROM audit_state WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()
}

/// Sets a state value.
pub(crate) fn set_state(tx: &Transaction<'_>, name: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit_state (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Calls `each` with every entry from position `from_seq` on, in order.
pub fn for_each_entry(
    conn: &Connection,
    from_seq: u64,
    mut each: impl FnMut(AuditEntry) -> Result<(), AuditCheckError>,
) -> Result<(), AuditCheckError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at_ms, kind, tenant, policy_sha256, details, prev_hash, hash
         FROM audit_log WHERE seq >= ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([from_seq])?;
    while let Some(row) = rows.next()? {
        let seq: u64 = row.get(0)?;
        let kind: String = row.get(2)?;
        let details: String = row.get(5)?;
        let entry = AuditEntry {
            seq,
            at_ms: row.get(1)?,
            kind: AuditKind::parse(&kind).ok_or(AuditCheckError::Row { seq, field: "kind" })?,
            tenant: row.get(3)?,
            policy_sha256: row.get(4)?,
            details: serde_json::from_str::<BTreeMap<String, String>>(&details).map_err(|_| {
                AuditCheckError::Row {
                    seq,
                    field: "details",
                }
            })?,
            prev_hash: row.get(6)?,
            hash: row.get(7)?,
        };
        each(entry)?;
    }
    Ok(())
}

/// Opens a store's database for reading only (a running server may hold it).
pub fn open_read_only(path: &Path) -> Result<Connection, AuditCheckError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Walks the chain of the store at `path`, checks its signed head with
/// `public_key` (hex; the receipt key), and checks that every receipt's
/// group root is in the chain (receipts issued before the chain began are
/// counted, not checked). Names the first broken link.
pub fn verify_data_dir(path: &Path, public_key: &str) -> Result<AuditReport, AuditCheckError> {
    let conn = open_read_only(path)?;
    // One read transaction: the chain, its head and the receipts as of one moment.
    conn.execute_batch("BEGIN")?;
    let mut walker = ChainWalker::new(ChainTip::EMPTY);
    let mut roots = HashSet::new();
    let (mut groups, mut receipts_before_chain) = (0, 0);
    for_each_entry(&conn, 0, |entry| {
        walker.next_entry(&entry)?;
        match entry.kind {
            AuditKind::ReceiptGroup => {
                groups += 1;
                if let Some(root) = entry.details.get("root").and_then(|r| parse_hash(r)) {
                    roots.insert(root);
                }
            }
            AuditKind::ChainStarted => {
                receipts_before_chain = entry
                    .details
                    .get("receipts_before")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
            _ => {}
        }
        Ok(())
    })?;
    let head = read_head(&conn)?;
    match &head {
        Some(head) => walker.finish(head, public_key)?,
        None if walker.tip().seq == 0 => {}
        None => {
            return Err(ChainBreak::NoHead {
                entries: walker.tip().seq,
            }
            .into())
        }
    }
    let mut receipts_in_chain = 0;
    let mut outside = 0;
    let mut stmt = conn.prepare(
        "SELECT id, tenant, circuit, key_fingerprint, statement_digest, verdict, issued_at_ms, signature,
                batch_size, batch_index, batch_path
         FROM receipts ORDER BY rowid",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let receipt = super::row_to_receipt(row)?;
        let root = receipt.group_root().ok().flatten();
        if root.is_some_and(|r| roots.contains(&r)) {
            receipts_in_chain += 1;
        } else if outside < receipts_before_chain {
            outside += 1;
        } else {
            return Err(AuditCheckError::ReceiptNotInChain { id: receipt.id });
        }
    }
    drop(rows);
    drop(stmt);
    conn.execute_batch("COMMIT")?;
    Ok(AuditReport {
        entries: walker.tip().seq,
        head,
        groups,
        receipts_in_chain,
        receipts_before_chain,
    })
}

/// Writes `scope`'s export of the store at `path` to `out` (see
/// `zktx_governance::audit::export`); returns the lines written.
pub fn export(
    path: &Path,
    scope: ExportScope,
    out: &mut impl Write,
) -> Result<u64, AuditCheckError> {
    let conn = open_read_only(path)?;
    conn.execute_batch("BEGIN")?;
    let known: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?1)
             OR EXISTS (SELECT 1 FROM audit_log WHERE tenant = ?1)",
        [&scope.tenant],
        |row| row.get(0),
    )?;
    if !known {
        return Err(AuditCheckError::UnknownTenant);
    }
    let head = read_head(&conn)?;
    let start: u64 = match scope.from_ms {
        Some(from) => conn
            .query_row(
                "SELECT MIN(seq) FROM audit_log WHERE at_ms >= ?1",
                [from],
                |row| row.get::<_, Option<u64>>(0),
            )?
            .unwrap_or(u64::MAX),
        None => 1,
    };
    let Some(head) = head else {
        return Err(ChainBreak::NoHead { entries: 0 }.into());
    };
    let mut writer = ExportWriter::new(scope);
    let mut lines = 0u64;
    let mut write = |line: &ExportLine, out: &mut dyn Write| -> Result<(), AuditCheckError> {
        serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        lines += 1;
        Ok(())
    };
    if start != u64::MAX {
        for_each_entry(&conn, start, |entry| {
            if entry.seq <= head.seq {
                for line in writer.lines_for(&entry) {
                    write(&line, out)?;
                }
            }
            Ok(())
        })?;
    }
    // Where the export starts when no entry follows `from` (the writer
    // ignores it otherwise).
    let tip = ChainTip {
        seq: head.seq,
        hash: parse_hash(&head.hash).ok_or(AuditCheckError::Row {
            seq: head.seq,
            field: "hash",
        })?,
    };
    for line in writer.finish(tip, head) {
        write(&line, out)?;
    }
    out.flush()?;
    conn.execute_batch("COMMIT")?;
    Ok(lines)
}
