//! Store backups and restores (the restore runbook's commands, as library
//! calls): a backup taken while the server serves holds every receipt
//! committed before it and checks; a restore puts it back, refusing to
//! replace a store without `force` and refusing a backup whose chain is broken.

use rusqlite::Connection;
use zktx_formats::DataDir;
use zktx_proto::receipt;
use zktx_proto::v1;
use zktx_server::store::backup::{backup, restore, BackupError};
use zktx_server::{config::ServerConfig, start};

use crate::harness::{authed, config, fixture, submission, with_k, TestServer};

async fn verify(t: &TestServer, envelope: &zktx_formats::ProofEnvelope) -> receipt::Receipt {
    let mut client = t.grpc().await;
    let response = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(submission(envelope)),
            },
            t.key("open"),
        ))
        .await
        .unwrap()
        .into_inner();
    receipt::from_message(response.receipt.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_every_receipt_it_holds() {
    let mut t = TestServer::start().await;
    let proofs = &fixture().proofs;
    let before = vec![
        verify(&t, &proofs[0]).await,
        verify(&t, &with_k(&proofs[1], 0)).await,
    ];
    let data = DataDir::new(t.data.path());
    let public_key = t.server().service().receipt_public_key();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("zktx-backup.db");

    // Taken while the server runs; its chain checks.
    let report = backup(&data.store(), &out, &public_key).unwrap();
    assert!(report.receipts_in_chain >= 2, "{report:?}");
    assert!(!out_dir.path().join("zktx-backup.db.partial").exists());
    // Never over an existing file; never from a missing store.
    assert!(matches!(
        backup(&data.store(), &out, &public_key),
        Err(BackupError::Exists { field: "out", .. })
    ));
    assert!(matches!(
        backup(
            &out_dir.path().join("absent.db"),
            &out_dir.path().join("x.db"),
            &public_key
        ),
        Err(BackupError::Missing { .. })
    ));
    // Another key does not check the copy, and nothing is kept.
    let other = hex::encode([7u8; 32]);
    let refused = out_dir.path().join("other-key.db");
    assert!(matches!(
        backup(&data.store(), &refused, &other),
        Err(BackupError::Check { .. })
    ));
    assert!(!refused.exists());

    let after = verify(&t, &proofs[2]).await;
    t.server.take().unwrap().shutdown().await;

    // An existing store is not replaced without force.
    assert!(matches!(
        restore(&out, &data.store(), &public_key, false),
        Err(BackupError::Exists {
            field: "data-dir",
            ..
        })
    ));
    let report = restore(&out, &data.store(), &public_key, true).unwrap();
    assert!(report.receipts_in_chain >= 2);
    for stale in ["zktx.db-wal", "zktx.db-shm"] {
        assert!(!t.data.path().join(stale).exists(), "{stale} left behind");
    }

    let config: ServerConfig = config(t.data.path(), &t.tenants);
    t.server = Some(start(config).await.unwrap());
    let mut client = t.grpc().await;
    for receipt in &before {
        let fetched = client
            .get_receipt(authed(
                v1::GetReceiptRequest {
                    id: receipt.id.clone(),
                },
                t.key("open"),
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&receipt::from_message(fetched), receipt);
    }
    // What came after the backup is not in it.
    let missing = client
        .get_receipt(authed(
            v1::GetReceiptRequest {
                id: after.id.clone(),
            },
            t.key("open"),
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_with_a_broken_chain_replaces_nothing() {
    let t = TestServer::start().await;
    verify(&t, &fixture().proofs[0]).await;
    let data = DataDir::new(t.data.path());
    let public_key = t.server().service().receipt_public_key();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    backup(&data.store(), &good, &public_key).unwrap();
    let bad = dir.path().join("bad.db");
    std::fs::copy(&good, &bad).unwrap();
    let conn = Connection::open(&bad).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET details = '{}' WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);

    let target = tempfile::tempdir().unwrap();
    let store = target.path().join("zktx.db");
    let error = restore(&bad, &store, &public_key, true).unwrap_err();
    assert!(
        matches!(
            error,
            BackupError::Check {
                which: "backup",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("entry 1"), "{error}");
    assert!(!store.exists(), "nothing was put in place");
    // The good one restores into an empty directory without force.
    restore(&good, &store, &public_key, false).unwrap();
    t.shutdown().await;
}
