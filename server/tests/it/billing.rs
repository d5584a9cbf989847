//! Metering to invoices to webhooks through a real server: usage bills
//! exactly against the receipts, closing a month is idempotent, and an
//! `invoice.created` webhook survives failures and a restart and is acted on
//! once.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use rusqlite::Connection;
use rust_decimal::Decimal;
use zktx_formats::DataDir;
use zktx_governance::billing::invoice::{receipts_digest, verify_invoice};
use zktx_governance::billing::webhook::{verify_signature, IDEMPOTENCY_HEADER, SIGNATURE_HEADER};
use zktx_governance::billing::{Period, PeriodError};
use zktx_server::config::WebhookSettings;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::billing::{self, BillingError};

use crate::harness::{authed, config, fixture, verify_request, with_k, TestServer, TestTenant};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_bills_exactly_against_the_receipts_and_closing_is_idempotent() {
    let t = TestServer::start().await;
    let f = fixture();
    let mut client = t.grpc().await;
    // open: 4 valid, 2 invalid, 1 replay (not metered); tier4only: 2 valid.
    for proof in &f.proofs[..4] {
        client
            .verify(authed(verify_request(proof), t.key("open")))
            .await
            .unwrap();
    }
    for k in [2, 3] {
        let lie = with_k(&f.proofs[4], k);
        client
            .verify(authed(verify_request(&lie), t.key("open")))
            .await
            .unwrap();
    }
    client
        .verify(authed(verify_request(&f.proofs[0]), t.key("open")))
        .await
        .unwrap();
    for proof in &f.proofs[5..7] {
        client
            .verify(authed(verify_request(proof), t.key("tier4only")))
            .await
            .unwrap();
    }
    let key = t.server().service().receipt_public_key();
    let data_guard = t.data.clone();
    let data = DataDir::new(t.data.path());
    t.shutdown().await;

    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key()).unwrap();
    let mut conn = billing::open(&data.store()).unwrap();
    let period = Period::containing(now_ms());
    assert!(matches!(
        billing::close(&mut conn, &signer, period, period.end_ms() - 1),
        Err(BillingError::Period(PeriodError::Open(_)))
    ));
    let invoices = billing::close(&mut conn, &signer, period, period.end_ms()).unwrap();
    assert_eq!(invoices.len(), 2, "the tenants with usage");
    let price = Decimal::from_str("0.0025").unwrap();
    for stored in &invoices {
        let tenant = &stored.invoice.tenant;
        let receipts: Vec<(String, String)> = conn
            .prepare("SELECT id, verdict FROM receipts WHERE tenant = ?1")
            .unwrap()
            .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let by_verdict =
            |v: &str| receipts.iter().filter(|(_, verdict)| verdict == v).count() as u64;
        let billed = |v: &str| {
            stored
                .invoice
                .line_items
                .iter()
                .filter(|l| l.verdict == v)
                .map(|l| l.quantity)
                .sum::<u64>()
        };
        assert_eq!(billed("valid"), by_verdict("valid"), "{tenant}");
        assert_eq!(billed("invalid"), by_verdict("invalid"), "{tenant}");
        assert_eq!(stored.invoice.quantity, receipts.len() as u64);
        assert_eq!(
            stored.invoice.total_usd,
            price * Decimal::from(receipts.len() as u64)
        );
        assert_eq!(
            stored.invoice.receipts_sha256,
            receipts_digest(receipts.iter().map(|(id, _)| id.as_str()))
        );
        assert!(verify_invoice(&stored.json, &stored.signature, &key));
    }
    let open = invoices
        .iter()
        .find(|i| i.invoice.tenant == "open")
        .unwrap();
    assert_eq!(
        (open.invoice.quantity, open.invoice.total_usd.to_string()),
        (6, "0.0150".into())
    );

    // Again: nothing new.
    let again = billing::close(&mut conn, &signer, period, period.end_ms() + 1).unwrap();
    assert!(again.iter().all(|i| !i.issued_now));
    assert_eq!(
        again[0].json, invoices[0].json,
        "the stored invoice, byte for byte"
    );
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM invoices"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE kind = 'invoice_issued'"),
        2
    );
    assert!(matches!(
        billing::issue(&mut conn, &signer, "nobody", period, period.end_ms()),
        Err(BillingError::UnknownTenant)
    ));
    drop(conn);
    // The chain still checks with the invoices in it.
    zktx_server::store::audit::verify_data_dir(&data.store(), &key).unwrap();
    drop(data_guard);
}

/// A loopback receiver that refuses until told to accept, checks every
/// signature, and acts once per idempotency key.
#[derive(Default)]
struct Receiver {
    accept: AtomicBool,
    attempts: AtomicU32,
    acted: Mutex<HashSet<String>>,
    keys: Mutex<Vec<String>>,
    bad_signatures: AtomicU32,
}

async fn receiver(secret: &'static str) -> (Arc<Receiver>, String) {
    let state = Arc::new(Receiver::default());
    let shared = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = shared.clone();
            async move {
                state.attempts.fetch_add(1, Ordering::SeqCst);
                let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
                if verify_signature(secret.as_bytes(), signature, &body, now_ms() / 1000, 300)
                    .is_err()
                {
                    state.bad_signatures.fetch_add(1, Ordering::SeqCst);
                    return StatusCode::UNAUTHORIZED;
                }
                let key = headers[IDEMPOTENCY_HEADER].to_str().unwrap().to_string();
                state.keys.lock().unwrap().push(key.clone());
                if !state.accept.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                state.acted.lock().unwrap().insert(key);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, url)
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_webhook_survives_failures_and_a_restart_and_is_acted_on_once() {
    const SECRET: &str = "whsec-test-0123456789";
    let variable = "ZKTX_TEST_WEBHOOK_SECRET_BILLING";
    std::env::set_var(variable, SECRET);
    let (rx, url) = receiver(SECRET).await;
    let hook = WebhookSettings {
        url,
        secret_env: variable.into(),
    };
    let tweak_hook = hook.clone();
    let t = TestServer::start_with(move |c| {
        c.webhooks.insert("open".into(), tweak_hook);
    })
    .await;
    let mut client = t.grpc().await;
    client
        .verify(authed(verify_request(&fixture().proofs[0]), t.key("open")))
        .await
        .unwrap();
    let data = DataDir::new(t.data.path());
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key()).unwrap();
    let period = Period::containing(now_ms());
    let mut conn = billing::open(&data.store()).unwrap();
    let invoices = billing::close(&mut conn, &signer, period, period.end_ms()).unwrap();
    assert_eq!(invoices.len(), 1, "only open has usage");
    let event = format!("evt-{}", invoices[0].invoice.id);

    // The receiver refuses: the server retries.
    wait_for("a first failed delivery", || {
        rx.attempts.load(Ordering::SeqCst) >= 1
    })
    .await;
    // A restart mid-retry (graceful; the outbox is in the store).
    let data_dir = t.data.clone();
    let tenants: Vec<TestTenant> = t
        .tenants
        .iter()
        .map(|x| TestTenant {
            id: x.id,
            plan: x.plan,
            key: x.key.clone(),
        })
        .collect();
    let mut t = t;
    t.server.take().unwrap().shutdown().await;
    drop(t);
    let pending: String = conn
        .query_row(
            "SELECT state FROM webhook_outbox WHERE id = ?1",
            [&event],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pending, "pending");
    let mut restarted = config(data_dir.path(), &tenants);
    restarted.webhooks.insert("open".into(), hook);
    let server = zktx_server::start(restarted).await.unwrap();
    rx.accept.store(true, Ordering::SeqCst);
    wait_for("the delivery", || rx.acted.lock().unwrap().len() == 1).await;
    let delivered = |conn: &Connection| -> (String, u32) {
        conn.query_row(
            "SELECT state, attempts FROM webhook_outbox WHERE id = ?1",
            [&event],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    wait_for("the outbox to record it", || {
        delivered(&conn).0 == "delivered"
    })
    .await;
    let (_, attempts) = delivered(&conn);
    assert!(
        attempts >= 2,
        "failed at least once, then delivered: {attempts}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        rx.attempts.load(Ordering::SeqCst),
        attempts,
        "nothing after the success"
    );
    assert_eq!(rx.bad_signatures.load(Ordering::SeqCst), 0);
    assert!(
        rx.keys.lock().unwrap().iter().all(|k| *k == event),
        "one idempotency key throughout"
    );

    // A replay delivers again with the same key: the receiver does not act twice.
    billing::replay(&conn, &event, now_ms()).unwrap();
    wait_for("the replay", || {
        rx.attempts.load(Ordering::SeqCst) > attempts
    })
    .await;
    assert_eq!(rx.acted.lock().unwrap().len(), 1);
    assert!(matches!(
        billing::replay(&conn, "evt-nope", now_ms()),
        Err(BillingError::UnknownDelivery)
    ));
    server.shutdown().await;
}
