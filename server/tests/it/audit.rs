//! The audit chain in a running server: receipt groups, quota denials,
//! starts and key loads are chained, every receipt's group is in the chain,
//! a tenant's export checks without the database, and every tamper of the
//! stored rows (edit, delete, insert, reorder, truncate, a forged receipt)
//! is named by the walk.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use zktx_governance::audit::{
    verify_export, AuditEvent, AuditKind, ChainBreak, ChainTip, ExportScope,
};
use zktx_server::store::audit::{export, verify_data_dir, AuditCheckError};

use crate::harness::{authed, fixture, verify_request, TestServer};

/// A copy of the store at `db` in a fresh directory, without the
/// append-only triggers (what someone holding the file can do).
fn tampered_copy(db: &Path, tamper: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("zktx.db");
    std::fs::copy(db, &copy).unwrap();
    let conn = Connection::open(&copy).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute_batch(tamper).unwrap();
    drop(conn);
    (dir, copy)
}

fn broken(db: &Path, key: &str) -> ChainBreak {
    match verify_data_dir(db, key) {
        Err(AuditCheckError::Broken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_holds_every_group_and_names_every_tamper() {
    let t = TestServer::start().await;
    let f = fixture();
    let mut client = t.grpc().await;
    for proof in &f.proofs[..3] {
        client
            .verify(authed(verify_request(proof), t.key("open")))
            .await
            .unwrap();
    }
    // `tight` has a burst of 2: the third call is rate-limited (a quota denial).
    let mut codes = Vec::new();
    for proof in &f.proofs[3..6] {
        codes.push(
            client
                .verify(authed(verify_request(proof), t.key("tight")))
                .await
                .map(|_| tonic::Code::Ok)
                .unwrap_or_else(|s| s.code()),
        );
    }
    assert!(codes.contains(&tonic::Code::ResourceExhausted), "{codes:?}");
    let key = t.server().service().receipt_public_key();
    let receipts = t.server().service().store().receipt_count().unwrap();
    // A restart: the denial tally is flushed at the close, a second start is chained.
    let t = t.restart().await;
    let (data, db) = (t.data.clone(), t_data(&t));
    let keys: Vec<String> = t.tenants.iter().map(|t| t.key.clone()).collect();
    t.shutdown().await;

    let report = verify_data_dir(&db, &key).unwrap();
    assert_eq!(report.receipts_in_chain, receipts);
    assert_eq!(report.receipts_before_chain, 0);
    assert!(report.groups >= 1);
    let kinds: Vec<(String, Option<String>)> = Connection::open(&db)
        .unwrap()
        .prepare("SELECT kind, tenant FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let count = |kind: &str| kinds.iter().filter(|(k, _)| k == kind).count();
    assert_eq!(kinds[0].0, "chain_started");
    assert_eq!(count("server_started"), 2);
    assert_eq!(count("key_loaded"), 4, "two tiers, two starts");
    assert_eq!(
        count("api_key_added"),
        4,
        "one key per tenant, the first start only"
    );
    assert!(kinds.contains(&("quota_denial".into(), Some("tight".into()))));
    // Nothing in the chain is a key, a proof or a public input.
    let everything: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT group_concat(details, '') FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    for key in &keys {
        assert!(!everything.contains(key));
    }

    // `tight`'s export: its denial in full, `open`'s entries not at all.
    let mut out = Vec::new();
    export(
        &db,
        ExportScope {
            tenant: "tight".into(),
            from_ms: None,
            to_ms: None,
        },
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("\"tenant\":\"open\""));
    let summary = verify_export(&text, Some(&key)).unwrap();
    assert!(summary
        .entries
        .iter()
        .any(|e| e.kind == AuditKind::QuotaDenial && e.details["reason"] == "rate_limit"));
    assert!(summary.links >= 1, "other tenants' key entries are links");
    assert!(matches!(
        export(
            &db,
            ExportScope {
                tenant: "nobody".into(),
                from_ms: None,
                to_ms: None
            },
            &mut Vec::new()
        ),
        Err(AuditCheckError::UnknownTenant)
    ));

    let last: u64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT MAX(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    // Edited.
    let (_d, edited) = tampered_copy(
        &db,
        "UPDATE audit_log SET tenant = 'open' WHERE kind = 'quota_denial'",
    );
    assert!(matches!(
        broken(&edited, &key),
        ChainBreak::HashMismatch { .. }
    ));
    // Deleted.
    let (_d, deleted) = tampered_copy(&db, "DELETE FROM audit_log WHERE seq = 3");
    assert_eq!(
        broken(&deleted, &key),
        ChainBreak::Sequence {
            expected: 3,
            found: 4
        }
    );
    // Reordered: two entries' contents swapped in place.
    let (_d, reordered) = tampered_copy(
        &db,
        "UPDATE audit_log SET seq = -2 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = -2;",
    );
    assert!(matches!(
        broken(&reordered, &key),
        ChainBreak::HashMismatch { seq: 2 } | ChainBreak::PrevMismatch { seq: 2 }
    ));
    // Truncated: the last two entries gone.
    let (_d, truncated) = tampered_copy(
        &db,
        &format!("DELETE FROM audit_log WHERE seq > {}", last - 2),
    );
    assert_eq!(
        broken(&truncated, &key),
        ChainBreak::HeadMismatch {
            head_seq: last,
            chain_seq: last - 2
        }
    );
    // Inserted: a well-formed entry linked to the tip, without the key to sign a head.
    let tip_hash: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [last], |r| {
            r.get(0)
        })
        .unwrap();
    let mut tip = ChainTip {
        seq: last,
        hash: zktx_governance::audit::parse_hash(&tip_hash).unwrap(),
    };
    let forged = tip.append(
        AuditEvent::new(1, AuditKind::ConfigChanged, None),
        &"00".repeat(32),
    );
    let (_d, inserted) = tampered_copy(
        &db,
        &format!(
            "INSERT INTO audit_log VALUES ({}, 1, 'config_changed', NULL, '{}', '{{}}', '{}', '{}')",
            forged.seq, forged.policy_sha256, forged.prev_hash, forged.hash
        ),
    );
    assert_eq!(
        broken(&inserted, &key),
        ChainBreak::HeadMismatch {
            head_seq: last,
            chain_seq: last + 1
        }
    );
    // A receipt added behind the chain's back.
    let (_d, forged_receipt) = tampered_copy(
        &db,
        "INSERT INTO receipts SELECT 'ff' || substr(id, 3), tenant, circuit, key_fingerprint,
             statement_digest, 'valid', issued_at_ms, signature, batch_size, batch_index, batch_path
         FROM receipts WHERE verdict = 'invalid' OR verdict = 'valid' LIMIT 1",
    );
    assert!(matches!(
        verify_data_dir(&forged_receipt, &key),
        Err(AuditCheckError::ReceiptNotInChain { .. })
    ));
    // Another key.
    let other = zktx_server::receipt::ReceiptSigner::from_seed([9; 32]).public_key_hex();
    assert!(matches!(
        broken(&db, &other),
        ChainBreak::BadHeadSignature { .. }
    ));
    drop(data);
}

fn t_data(t: &TestServer) -> PathBuf {
    zktx_formats::DataDir::new(t.data.path()).store()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_refuses_updates_and_deletes() {
    let t = TestServer::start().await;
    let db = t_data(&t);
    let conn = Connection::open(&db).unwrap();
    let update = conn.execute("UPDATE audit_log SET tenant = 'x' WHERE seq = 1", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit_log WHERE seq = 1", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    drop(conn);
    t.shutdown().await;
}
