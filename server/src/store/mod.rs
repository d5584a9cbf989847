//! The embedded store (SQLite in WAL mode): tenants, receipts and usage events.
//!
//! Writes go through one writer thread that commits whatever has queued up in
//! one transaction (group commit) with `synchronous = FULL`, waiting briefly
//! for more while rows keep arriving (`GROUP_COMMIT_GAP`); a caller's
//! [`Store::commit`] resolves only after its rows are on disk, so a receipt is
//! durable before its response is sent. The writer also signs each group's
//! receipts, as one Merkle tree under one signature
//! ([`ReceiptSigner::seal`]), so a group costs one signature however many
//! callers it serves. Reads use their own connection.

pub mod audit;
pub mod auditors;
pub mod backup;
pub mod billing;
mod migrations;
mod valid_index;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use zktx_governance::audit::{AuditEvent, AuditKind, SignedHead, Tally};

use crate::quota::now_ms;
use crate::receipt::{Receipt, ReceiptBatch, ReceiptSigner, ReceiptVerdict};

pub use migrations::SCHEMA_VERSION;
use valid_index::ValidIndex;

/// The most rows one group commit takes.
const GROUP_COMMIT_MAX: usize = 4096;
/// A group commit waits for more rows while they keep arriving within this
/// gap: the callers of one micro-batch hand in their receipts over a
/// millisecond or so, and one transaction for all of them writes each
/// index page once and wakes the callers together.
const GROUP_COMMIT_GAP: Duration = Duration::from_micros(250);
/// The longest a group commit waits for more rows after its first.
const GROUP_COMMIT_LINGER: Duration = Duration::from_millis(2);
/// How often tallied audit events (denials, waiver uses) are written when
/// no receipts are being committed.
const TALLY_FLUSH: Duration = Duration::from_secs(1);

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread is gone (the store was closed).
    #[error("store is closed")]
    Closed,
    /// The audit chain could not be read.
    #[error("audit chain: {0}")]
    Audit(#[from] audit::AuditCheckError),
}

/// How the store keeps the audit chain.
#[derive(Clone)]
pub struct AuditSetup {
    /// The policy bundle's SHA-256, written in every entry.
    pub policy_sha256: String,
    /// Denials and waiver uses counted on the request path, written at
    /// each commit.
    pub tally: Arc<Tally>,
    /// Receipt groups are not chained and the head is not signed for them:
    /// only the service bench's comparison run (never deserialized).
    pub bypass_for_benchmarks: bool,
}

impl AuditSetup {
    /// Chaining under policy bundle `policy_sha256`, with a default tally.
    pub fn new(policy_sha256: &str) -> Self {
        Self {
            policy_sha256: policy_sha256.to_string(),
            tally: Arc::new(Tally::default()),
            bypass_for_benchmarks: false,
        }
    }
}

/// A configured tenant as the store records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRow {
    /// The tenant id.
    pub id: String,
    /// Its plan's name.
    pub plan: String,
    /// Its plan's edition (`starter`, `pro`, `enterprise`).
    pub edition: String,
    /// Where its `invoice.created` webhooks go, when configured.
    pub webhook_url: Option<String>,
}

/// One receipt to persist, and whether it is metered (one usage event).
#[derive(Clone, Debug)]
pub struct ReceiptRecord {
    /// The receipt; the writer signs it.
    pub receipt: Receipt,
    /// Whether a usage event is recorded with it.
    pub metered: bool,
}

/// Called by the writer thread after each group commit with the usage events
/// it made durable: (tenant, UTC day, count).
pub type UsageHook = Box<dyn Fn(&str, i64, u64) + Send>;

enum WriteJob {
    Receipts {
        records: Vec<ReceiptRecord>,
        done: tokio::sync::oneshot::Sender<Result<Vec<Receipt>, String>>,
    },
    Events {
        events: Vec<AuditEvent>,
        state: Vec<(String, String)>,
        done: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
}

impl WriteJob {
    fn rows(&self) -> usize {
        match self {
            WriteJob::Receipts { records, .. } => records.len(),
            WriteJob::Events { events, .. } => events.len(),
        }
    }

    fn records(&self) -> &[ReceiptRecord] {
        match self {
            WriteJob::Receipts { records, .. } => records,
            WriteJob::Events { .. } => &[],
        }
    }
}

/// The embedded store.
pub struct Store {
    writer: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    reader: Mutex<Connection>,
    valid: Arc<ValidIndex>,
    tally: Arc<Tally>,
    path: std::path::PathBuf,
    commit_seconds: Arc<OnceLock<prometheus::Histogram>>,
}

pub(crate) fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// The UTC day number (days since the Unix epoch) of a time in milliseconds.
pub fn utc_day(at_ms: i64) -> i64 {
    at_ms.div_euclid(86_400_000)
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `path`.
    /// `signer` signs the receipts of each group commit and the audit
    /// chain's head; `usage_hook` hears of every usage event once it is
    /// durable; `audit` says how the chain is kept. A chain that has no
    /// entry yet begins with one counting the receipts already stored.
    pub fn open(
        path: &Path,
        signer: ReceiptSigner,
        usage_hook: UsageHook,
        audit: AuditSetup,
    ) -> Result<Self, StoreError> {
        let mut writer_conn = open_connection(path)?;
        migrations::migrate(&mut writer_conn)?;
        if audit::load_tip(&writer_conn)?.seq == 0 {
            let tx = writer_conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if audit::load_tip(&tx)?.seq == 0 {
                let before: u64 =
                    tx.query_row("SELECT COUNT(*) FROM receipts", [], |row| row.get(0))?;
                let started = AuditEvent::new(now_ms(), AuditKind::ChainStarted, None)
                    .with("receipts_before", before);
                audit::append(&tx, vec![started], Some(&audit.policy_sha256), &signer)?;
            }
            tx.commit()?;
        }
        let reader = open_connection(path)?;
        let valid = Arc::new(ValidIndex::new());
        {
            let mut stmt = reader
                .prepare("SELECT tenant, statement_digest FROM receipts WHERE verdict = 'valid'")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let (tenant, statement): (String, String) = (row.get(0)?, row.get(1)?);
                valid.insert(&tenant, &statement);
            }
        }
        let writer_valid = valid.clone();
        let (tx, rx) = mpsc::channel::<WriteJob>();
        let tally = audit.tally.clone();
        let commit_seconds = Arc::new(OnceLock::new());
        let writer = Writer {
            conn: writer_conn,
            signer,
            valid: writer_valid,
            usage_hook,
            audit,
            pending: Vec::new(),
            commit_seconds: commit_seconds.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("zktx-store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| {
                StoreError::Sqlite(rusqlite::Error::InvalidParameterName(e.to_string()))
            })?;
        Ok(Self {
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            reader: Mutex::new(reader),
            valid,
            tally,
            path: path.to_path_buf(),
            commit_seconds,
        })
    }

    /// Times every group commit from here on (the transaction, its fsync
    /// and the audit head's signature) into `histogram`. Set once; a second
    /// call is ignored.
    pub fn time_commits(&self, histogram: prometheus::Histogram) {
        let _ = self.commit_seconds.set(histogram);
    }

    /// Where denials and waiver uses are counted until the next commit
    /// writes them to the audit chain.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Appends `events` to the audit chain and sets `state` values, in one
    /// transaction; resolves once they are on disk and the head is signed.
    pub fn record(
        &self,
        events: Vec<AuditEvent>,
        state: Vec<(String, String)>,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send + 'static {
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = match &*self.writer.lock().expect("store lock") {
            Some(writer) => writer
                .send(WriteJob::Events {
                    events,
                    state,
                    done,
                })
                .is_ok(),
            None => false,
        };
        async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            match wait.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreError::Sqlite(rusqlite::Error::InvalidParameterName(
                    message,
                ))),
                Err(_) => Err(StoreError::Closed),
            }
        }
    }

    /// A value the audit state holds (what the previous start recorded).
    pub fn audit_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(audit::state(
            &self.reader.lock().expect("store lock"),
            name,
        )?)
    }

    /// The auditor key `secret` names, if any (expired or not).
    pub fn auditor_key(&self, secret: &str) -> Result<Option<auditors::AuditorKey>, StoreError> {
        auditors::find(&self.reader.lock().expect("store lock"), secret)
    }

    /// `tenant`'s invoices, newest first.
    pub fn invoices(&self, tenant: &str) -> Result<Vec<billing::StoredInvoice>, StoreError> {
        billing::list(&self.reader.lock().expect("store lock"), tenant)
    }

    /// The database file (for read-only work off the store's connections,
    /// such as an audit export).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The audit chain's signed head.
    pub fn audit_head(&self) -> Result<Option<SignedHead>, StoreError> {
        Ok(audit::read_head(&self.reader.lock().expect("store lock"))?)
    }

    /// Signs and persists `records`; resolves, once they are committed to
    /// disk, to their receipts as signed, in order. The rows are handed to
    /// the writer before this returns a future, so they are committed even if
    /// the caller stops waiting.
    pub fn commit(
        &self,
        records: Vec<ReceiptRecord>,
    ) -> impl std::future::Future<Output = Result<Vec<Receipt>, StoreError>> + Send + 'static {
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = match &*self.writer.lock().expect("store lock") {
            Some(writer) => writer.send(WriteJob::Receipts { records, done }).is_ok(),
            None => false,
        };
        async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            match wait.await {
                Ok(Ok(receipts)) => Ok(receipts),
                Ok(Err(message)) => Err(StoreError::Sqlite(rusqlite::Error::InvalidParameterName(
                    message,
                ))),
                Err(_) => Err(StoreError::Closed),
            }
        }
    }

    /// Records the configured tenants: plan, edition and webhook URL (what
    /// offline billing needs of the configuration).
    pub fn sync_tenants(&self, tenants: &[TenantRow], now_ms: i64) -> Result<(), StoreError> {
        let mut conn = self.reader.lock().expect("store lock");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for t in tenants {
            tx.execute(
                "INSERT INTO tenants (id, plan, updated_ms, edition, webhook_url) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, updated_ms = excluded.updated_ms,
                     edition = excluded.edition, webhook_url = excluded.webhook_url",
                params![t.id, t.plan, now_ms, t.edition, t.webhook_url],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A receipt by id.
    pub fn receipt(&self, id: &str) -> Result<Option<Receipt>, StoreError> {
        let conn = self.reader.lock().expect("store lock");
        Ok(conn
            .query_row(
                "SELECT id, tenant, circuit, key_fingerprint, statement_digest, verdict, issued_at_ms, signature,
                        batch_size, batch_index, batch_path
                 FROM receipts WHERE id = ?1",
                [id],
                row_to_receipt,
            )
            .optional()?)
    }

    /// The earliest valid receipt `tenant` holds for `statement_digest`.
    /// A statement the in-memory index has never seen valid is answered
    /// without a query.
    pub fn valid_receipt_for(
        &self,
        tenant: &str,
        statement_digest: &str,
    ) -> Result<Option<Receipt>, StoreError> {
        if !self.valid.may_contain(tenant, statement_digest) {
            return Ok(None);
        }
        let conn = self.reader.lock().expect("store lock");
        let mut stmt = conn.prepare_cached(
            "SELECT id, tenant, circuit, key_fingerprint, statement_digest, verdict, issued_at_ms, signature,
                        batch_size, batch_index, batch_path
             FROM receipts WHERE tenant = ?1 AND statement_digest = ?2 AND verdict = 'valid'
             ORDER BY issued_at_ms LIMIT 1",
        )?;
        Ok(stmt
            .query_row([tenant, statement_digest], row_to_receipt)
            .optional()?)
    }

    /// Usage events per tenant on `utc_day`.
    pub fn usage_on(&self, utc_day: i64) -> Result<HashMap<String, u64>, StoreError> {
        let conn = self.reader.lock().expect("store lock");
        let mut stmt = conn.prepare(
            "SELECT tenant, COUNT(*) FROM usage_events WHERE utc_day = ?1 GROUP BY tenant",
        )?;
        let rows = stmt.query_map([utc_day], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of receipts stored.
    pub fn receipt_count(&self) -> Result<u64, StoreError> {
        let conn = self.reader.lock().expect("store lock");
        Ok(conn.query_row("SELECT COUNT(*) FROM receipts", [], |row| row.get(0))?)
    }

    /// A cheap read, for readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        let conn = self.reader.lock().expect("store lock");
        conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Stops the writer after it has committed everything queued, and
    /// checkpoints the WAL. Later commits fail with [`StoreError::Closed`].
    pub fn close(&self) {
        drop(self.writer.lock().expect("store lock").take());
        if let Some(thread) = self.writer_thread.lock().expect("store lock").take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

pub(crate) fn row_to_receipt(row: &rusqlite::Row<'_>) -> rusqlite::Result<Receipt> {
    let verdict: String = row.get(5)?;
    Ok(Receipt {
        id: row.get(0)?,
        tenant: row.get(1)?,
        circuit: row.get(2)?,
        key_fingerprint: row.get(3)?,
        statement_digest: row.get(4)?,
        verdict: ReceiptVerdict::parse(&verdict).unwrap_or(ReceiptVerdict::Invalid),
        issued_at_ms: row.get(6)?,
        signature: row.get(7)?,
        batch: match row.get::<_, u64>(8)? {
            0 => None,
            size => Some(ReceiptBatch::new(
                size,
                row.get(9)?,
                row.get::<_, Vec<u8>>(10)?.chunks(32),
            )),
        },
    })
}

/// A receipt's inclusion path as stored: its hashes, concatenated.
fn path_blob(batch: &ReceiptBatch) -> Vec<u8> {
    batch.path_hashes().unwrap_or_default().concat()
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    signer: ReceiptSigner,
    valid: Arc<ValidIndex>,
    usage_hook: UsageHook,
    audit: AuditSetup,
    /// Tallied events drained but not yet committed (kept across a failed commit).
    pending: Vec<AuditEvent>,
    /// Where each group commit's duration goes, once the server sets it.
    commit_seconds: Arc<OnceLock<prometheus::Histogram>>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<WriteJob>) {
        loop {
            let first = match rx.recv_timeout(TALLY_FLUSH) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut jobs = Vec::new();
            if let Some(first) = first {
                let linger_until = Instant::now() + GROUP_COMMIT_LINGER;
                let mut rows = first.rows();
                jobs.push(first);
                while rows < GROUP_COMMIT_MAX {
                    let wait = GROUP_COMMIT_GAP
                        .min(linger_until.saturating_duration_since(Instant::now()));
                    match rx.recv_timeout(wait) {
                        Ok(job) => {
                            rows += job.rows();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
            }
            self.commit(jobs);
        }
        // Closing: what the tally still holds.
        self.commit(Vec::new());
        let _ = self.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    }

    /// Seals, writes and answers one group of jobs, with the audit entries
    /// they and the tally bring.
    fn commit(&mut self, mut jobs: Vec<WriteJob>) {
        self.pending.extend(self.audit.tally.drain(now_ms()));
        if jobs.is_empty() && self.pending.is_empty() {
            return;
        }
        let root = self.signer.seal(
            &mut jobs
                .iter_mut()
                .flat_map(|j| match j {
                    WriteJob::Receipts { records, .. } => records.as_mut_slice(),
                    WriteJob::Events { .. } => &mut [],
                })
                .map(|r| &mut r.receipt)
                .collect::<Vec<_>>(),
        );
        let mut events = Vec::new();
        if let (Some(root), false) = (root, self.audit.bypass_for_benchmarks) {
            let size = jobs.iter().map(|j| j.records().len()).sum::<usize>();
            events.push(
                AuditEvent::new(now_ms(), AuditKind::ReceiptGroup, None)
                    .with("root", hex::encode(root))
                    .with("size", size),
            );
        }
        for job in &jobs {
            if let WriteJob::Events { events: e, .. } = job {
                events.extend(e.iter().cloned());
            }
        }
        events.extend(self.pending.iter().cloned());
        let started = Instant::now();
        let result = self.write_group(&jobs, events).map_err(|e| e.to_string());
        if let Some(histogram) = self.commit_seconds.get() {
            histogram.observe(started.elapsed().as_secs_f64());
        }
        match &result {
            Ok(()) => {
                self.pending.clear();
                self.after_commit(&jobs);
            }
            Err(error) => tracing::error!(%error, "group commit failed"),
        }
        for job in jobs {
            match job {
                WriteJob::Receipts { records, done } => {
                    let receipts = records.into_iter().map(|r| r.receipt).collect();
                    let _ = done.send(result.clone().map(|()| receipts));
                }
                WriteJob::Events { done, .. } => {
                    let _ = done.send(result.clone());
                }
            }
        }
    }

    /// What a durable group makes known: valid statements (before any
    /// caller hears of its receipt, see `valid_index`) and usage.
    fn after_commit(&self, jobs: &[WriteJob]) {
        let records = || jobs.iter().flat_map(|j| j.records());
        for r in records().map(|r| &r.receipt) {
            if r.verdict == ReceiptVerdict::Valid {
                self.valid.insert(&r.tenant, &r.statement_digest);
            }
        }
        let mut usage: HashMap<(&str, i64), u64> = HashMap::new();
        for record in records().filter(|r| r.metered) {
            let day = utc_day(record.receipt.issued_at_ms);
            *usage
                .entry((record.receipt.tenant.as_str(), day))
                .or_default() += 1;
        }
        for ((tenant, day), count) in usage {
            (self.usage_hook)(tenant, day, count);
        }
    }

    fn write_group(
        &mut self,
        jobs: &[WriteJob],
        events: Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        // Immediate: the write lock first, so an offline command appending
        // to the chain at the same time (`zktx auditor grant`) waits its turn
        // and each sees the other's tip.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut receipt = tx.prepare_cached(
                "INSERT INTO receipts (id, tenant, circuit, key_fingerprint, statement_digest, verdict, issued_at_ms, signature,
                                       batch_size, batch_index, batch_path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut usage = tx.prepare_cached(
                "INSERT INTO usage_events (tenant, utc_day, receipt_id, at_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for record in jobs.iter().flat_map(|j| j.records()) {
                let r = &record.receipt;
                receipt.execute(params![
                    r.id,
                    r.tenant,
                    r.circuit,
                    r.key_fingerprint,
                    r.statement_digest,
                    r.verdict.as_str(),
                    r.issued_at_ms,
                    r.signature,
                    r.batch.as_ref().map_or(0, |b| b.size),
                    r.batch.as_ref().map_or(0, |b| b.index),
                    r.batch.as_ref().map(path_blob).unwrap_or_default()
                ])?;
                if record.metered {
                    usage.execute(params![
                        r.tenant,
                        utc_day(r.issued_at_ms),
                        r.id,
                        r.issued_at_ms
                    ])?;
                }
            }
        }
        for job in jobs {
            if let WriteJob::Events { state, .. } = job {
                for (name, value) in state {
                    audit::set_state(&tx, name, value)?;
                }
            }
        }
        audit::append(&tx, events, Some(&self.audit.policy_sha256), &self.signer)?;
        Ok(tx.commit()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn receipt(id: u8, verdict: ReceiptVerdict, at_ms: i64) -> Receipt {
        Receipt {
            id: format!("{id:032x}"),
            tenant: "acme".into(),
            circuit: "c".into(),
            key_fingerprint: "11".repeat(32),
            statement_digest: format!("{:064x}", id / 2),
            verdict,
            issued_at_ms: at_ms,
            signature: String::new(),
            batch: None,
        }
    }

    #[tokio::test]
    async fn committed_receipts_and_usage_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zktx.db");
        let heard = Arc::new(AtomicU64::new(0));
        let hook_count = heard.clone();
        let signer = ReceiptSigner::from_seed([5; 32]);
        let key = signer.public_key_hex();
        let store = Store::open(
            &path,
            signer.clone(),
            Box::new(move |_, _, n| {
                hook_count.fetch_add(n, Ordering::SeqCst);
            }),
            AuditSetup::new(&"ab".repeat(32)),
        )
        .unwrap();
        let day_ms = 20_000 * 86_400_000;
        let signed = store
            .commit(vec![
                ReceiptRecord {
                    receipt: receipt(2, ReceiptVerdict::Invalid, day_ms + 1),
                    metered: true,
                },
                ReceiptRecord {
                    receipt: receipt(3, ReceiptVerdict::Valid, day_ms + 2),
                    metered: true,
                },
            ])
            .await
            .unwrap();
        assert_eq!(signed.len(), 2);
        assert_eq!(signed[1].id, format!("{:032x}", 3));
        for receipt in &signed {
            receipt.verify(&key).unwrap();
            assert_eq!(receipt.batch.as_ref().unwrap().size, 2);
        }
        assert_eq!(heard.load(Ordering::SeqCst), 2);
        // The replay lookup sees a valid receipt as soon as its commit returns,
        // and never an invalid one.
        let statement = format!("{:064x}", 1);
        assert_eq!(
            store
                .valid_receipt_for("acme", &statement)
                .unwrap()
                .unwrap()
                .id,
            format!("{:032x}", 3)
        );
        assert!(store
            .valid_receipt_for("acme", &format!("{:064x}", 9))
            .unwrap()
            .is_none());
        store.close();
        assert!(matches!(
            store.commit(vec![]).await,
            Err(StoreError::Closed)
        ));
        drop(store);

        let store = Store::open(
            &path,
            signer,
            Box::new(|_, _, _| {}),
            AuditSetup::new(&"ab".repeat(32)),
        )
        .unwrap();
        assert_eq!(store.receipt_count().unwrap(), 2);
        // As stored, each receipt is the one its caller got, and checks alone.
        for receipt in &signed {
            let stored = store.receipt(&receipt.id).unwrap().unwrap();
            assert_eq!(&stored, receipt);
            stored.verify(&key).unwrap();
        }
        assert_eq!(store.usage_on(20_000).unwrap()["acme"], 2);
        assert_eq!(
            store
                .receipt(&format!("{:032x}", 3))
                .unwrap()
                .unwrap()
                .verdict,
            ReceiptVerdict::Valid
        );
        // Statement 1 has an invalid (id 2) and a valid (id 3) receipt: only the valid one replays.
        let replay = store
            .valid_receipt_for("acme", &format!("{:064x}", 1))
            .unwrap()
            .unwrap();
        assert_eq!(replay.id, format!("{:032x}", 3));
        assert!(store
            .valid_receipt_for("other", &format!("{:064x}", 1))
            .unwrap()
            .is_none());
    }
}
