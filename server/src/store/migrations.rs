//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.
//! Each entry is one step; released steps are never edited, only appended to.

use rusqlite::Connection;

/// The migration steps; step `i` moves the schema from version `i` to `i + 1`.
const STEPS: &[&str] = &[
    // 1: tenants, receipts, usage events.
    "CREATE TABLE tenants (
         id          TEXT PRIMARY KEY,
         plan        TEXT NOT NULL,
         updated_ms  INTEGER NOT NULL
     );
     CREATE TABLE receipts (
         id               TEXT PRIMARY KEY,
         tenant           TEXT NOT NULL,
         circuit          TEXT NOT NULL,
         key_fingerprint  TEXT NOT NULL,
         statement_digest TEXT NOT NULL,
         verdict          TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid')),
         issued_at_ms     INTEGER NOT NULL,
         signature        TEXT NOT NULL
     );
     CREATE INDEX receipts_valid_statement ON receipts (tenant, statement_digest)
         WHERE verdict = 'valid';
     CREATE TABLE usage_events (
         seq          INTEGER PRIMARY KEY AUTOINCREMENT,
         tenant       TEXT NOT NULL,
         utc_day      INTEGER NOT NULL,
         receipt_id   TEXT NOT NULL REFERENCES receipts (id),
         at_ms        INTEGER NOT NULL
     );
     CREATE INDEX usage_by_day ON usage_events (utc_day, tenant);",
    // 2: receipts signed as a group: the group's size, the receipt's index and
    // its inclusion path (32-byte hashes, concatenated); size 0 for a receipt
    // signed alone.
    "ALTER TABLE receipts ADD COLUMN batch_size INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE receipts ADD COLUMN batch_index INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE receipts ADD COLUMN batch_path BLOB NOT NULL DEFAULT x'';",
    // 3: the audit chain (see `store::audit`), its signed head, and the
    // state compared at each start (configuration digest, API keys).
    "CREATE TABLE audit_log (
         seq            INTEGER PRIMARY KEY,
         at_ms          INTEGER NOT NULL,
         kind           TEXT NOT NULL,
         tenant         TEXT,
         policy_sha256  TEXT NOT NULL,
         details        TEXT NOT NULL,
         prev_hash      TEXT NOT NULL,
         hash           TEXT NOT NULL
     );
     CREATE INDEX audit_by_time ON audit_log (at_ms);
     CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TABLE audit_head (
         id          INTEGER PRIMARY KEY CHECK (id = 1),
         seq         INTEGER NOT NULL,
         hash        TEXT NOT NULL,
         at_ms       INTEGER NOT NULL,
         public_key  TEXT NOT NULL,
         signature   TEXT NOT NULL
     );
     CREATE TABLE audit_state (
         name   TEXT PRIMARY KEY,
         value  TEXT NOT NULL
     );",
    // 4: auditor keys (`zktx auditor grant`): read-only, one tenant, expiring;
    // only the key's SHA-256 is kept.
    "CREATE TABLE auditor_keys (
         id          TEXT PRIMARY KEY,
         tenant      TEXT NOT NULL,
         key_sha256  TEXT NOT NULL UNIQUE,
         created_ms  INTEGER NOT NULL,
         expires_ms  INTEGER NOT NULL
     );",
    // 5: billing: each tenant's edition and webhook (recorded at start, for
    // offline rating), invoices (their JSON, its SHA-256 and signature), and
    // the webhook outbox (durable deliveries, retried, dead-lettered).
    "ALTER TABLE tenants ADD COLUMN edition TEXT NOT NULL DEFAULT 'enterprise';
     ALTER TABLE tenants ADD COLUMN webhook_url TEXT;
     CREATE TABLE invoices (
         id          TEXT PRIMARY KEY,
         tenant      TEXT NOT NULL,
         period      TEXT NOT NULL,
         issued_ms   INTEGER NOT NULL,
         json        BLOB NOT NULL,
         sha256      TEXT NOT NULL,
         signature   TEXT NOT NULL,
         UNIQUE (tenant, period)
     );
     CREATE INDEX usage_by_tenant_time ON usage_events (tenant, at_ms);
     CREATE TABLE webhook_outbox (
         id               TEXT PRIMARY KEY,
         tenant           TEXT NOT NULL,
         event            TEXT NOT NULL,
         body             BLOB NOT NULL,
         state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
         attempts         INTEGER NOT NULL DEFAULT 0,
         next_attempt_ms  INTEGER NOT NULL,
         last_error       TEXT,
         created_ms       INTEGER NOT NULL,
         delivered_ms     INTEGER
     );
     CREATE INDEX outbox_due ON webhook_outbox (state, next_attempt_ms);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = STEPS.len();

/// Applies the steps the database has not seen, each in its own transaction.
/// Refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > STEPS.len() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "database schema version {current} is newer than this build's {}",
            STEPS.len()
        )));
    }
    for (version, step) in STEPS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(STEPS.len() - current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), 0);
    }

    #[test]
    fn receipts_from_before_batch_signing_read_as_signed_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(STEPS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO receipts VALUES ('r', 't', 'c', 'k', 's', 'valid', 1, 'sig')",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION - 1);
        let (size, path): (u64, Vec<u8>) = conn
            .query_row(
                "SELECT batch_size, batch_path FROM receipts WHERE id = 'r'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((size, path.len()), (0, 0));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(migrate(&mut conn).is_err());
    }
}
