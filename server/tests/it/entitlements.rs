//! Entitlements and auditor access in a running server: the matrix shown on
//! both front ends, a refused feature naming the plan or the evidence that
//! would allow it, auditor keys that read (audited) but never verify, are
//! off while the evidence does not hold, and expire.

use std::sync::OnceLock;

use rusqlite::Connection;
use zktx_circuits::Tier;
use zktx_formats::{DataDir, KeyDir};
use zktx_governance::audit::verify_export;
use zktx_governance::PolicyBundle;
use zktx_proto::v1;
use zktx_server::config::TenantConfig;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::auditors::grant;
use zktx_server::tenants::{hash_api_key, new_api_key};

use crate::harness::{authed, fixture, rest_body, rest_post, verify_request, TestServer};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The fixture's tier-4 keys, imported as a ceremony's (the import checks
/// them and records their origin), so the server's evidence can hold.
pub(crate) fn ceremony_keys() -> &'static KeyDir {
    static KEYS: OnceLock<(tempfile::TempDir, KeyDir)> = OnceLock::new();
    &KEYS
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let keys = KeyDir::new(dir.path().join("keys"));
            let tier = Tier::new(4).unwrap();
            let source = fixture().keys.tier_dir(tier);
            let vk = std::fs::read(source.join(zktx_formats::keydir::VERIFYING_KEY)).unwrap();
            let pk = std::fs::read(source.join(zktx_formats::keydir::PROVING_KEY)).unwrap();
            keys.write(&zktx_prover::import_keys(tier, &vk, &pk).unwrap())
                .unwrap();
            (dir, keys)
        })
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entitlements_are_shown_and_a_refused_feature_names_what_allows_it() {
    let starter_key = new_api_key();
    let key = starter_key.clone();
    let t = TestServer::start_with(move |c| {
        c.tenants.push(TenantConfig {
            id: "fledgling".into(),
            plan: "starter".into(),
            api_key_sha256: vec![hex::encode(hash_api_key(&key))],
        })
    })
    .await;
    let policy = PolicyBundle::builtin().sha256().to_string();

    let starter: serde_json::Value = t.get_json("/v1/entitlements", Some(&starter_key)).await;
    assert_eq!(starter["edition"], "starter");
    assert_eq!(starter["price_per_proof_usd"], "0.01");
    assert_eq!(starter["policy_sha256"], policy.as_str());
    let feature = |body: &serde_json::Value, name: &str| {
        body["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == name)
            .unwrap()
            .clone()
    };
    let streaming = feature(&starter, "streaming");
    assert_eq!(streaming["enabled"], false);
    assert!(streaming["reason"]
        .as_str()
        .unwrap()
        .contains("available from the Pro edition"));
    assert_eq!(feature(&starter, "tiers")["value"], "16, 64");

    // gRPC: a plan without an edition of its name is enterprise; the gated
    // features are off on dev keys and say what would turn them on.
    let mut client = t.grpc().await;
    let open = client
        .get_entitlements(authed(v1::GetEntitlementsRequest {}, t.key("open")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.edition, "enterprise");
    assert!(!open.ceremony_keys && !open.policy_pinned);
    let auditor = open
        .features
        .iter()
        .find(|f| f.feature == "auditor_access")
        .unwrap();
    assert!(!auditor.enabled);
    assert!(
        auditor.reason.contains("setup ceremony"),
        "{}",
        auditor.reason
    );
    assert!(
        auditor.reason.contains("pinned_sha256"),
        "{}",
        auditor.reason
    );
    let circuits = client
        .list_circuits(authed(v1::ListCircuitsRequest {}, t.key("open")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(circuits.policy_sha256, policy);
    let rest = t.get("/v1/circuits", Some(t.key("open"))).await;
    assert_eq!(rest.headers()["x-zktx-policy-sha256"], policy.as_str());

    // Streaming on a Starter plan: refused before any proof, naming the plan.
    let stream = tokio_stream::iter(vec![v1::VerifyStreamRequest {
        submission: Some(crate::harness::submission(&fixture().proofs[0])),
        ..Default::default()
    }]);
    let refused = client
        .verify_stream(authed(stream, &starter_key))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(
        refused.message().contains("Pro edition"),
        "{}",
        refused.message()
    );
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("zktx_entitlement_decisions_total{feature=\"streaming\",outcome=\"off\"}")
    );

    let data = t.data.clone();
    t.shutdown().await;
    let denials: i64 = Connection::open(DataDir::new(data.path()).store())
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE kind = 'entitlement_denial' AND tenant = 'fledgling'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(denials, 1, "the refusal is in the audit chain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_key_reads_audited_never_verifies_and_expires() {
    let policy = PolicyBundle::builtin().sha256().to_string();
    let keys = ceremony_keys().root().to_path_buf();
    let t = TestServer::start_with(move |c| {
        c.keys_dir = Some(keys);
        c.policy.pinned_sha256 = Some(policy);
    })
    .await;
    let f = fixture();
    let mut client = t.grpc().await;
    let receipt = client
        .verify(authed(verify_request(&f.proofs[0]), t.key("open")))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    let data = DataDir::new(t.data.path());
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key()).unwrap();
    let made = grant(&data.store(), &signer, "open", 7, now_ms()).unwrap();
    let auditor = made.secret.as_str();

    // Reads: usage, a receipt, entitlements, the audit export.
    let usage: serde_json::Value = t.get_json("/v1/usage", Some(auditor)).await;
    assert_eq!(usage["tenant"], "open");
    assert_eq!(usage["proofs_today"], 1);
    let fetched = t
        .get(&format!("/v1/receipts/{}", receipt.id), Some(auditor))
        .await;
    assert_eq!(fetched.status(), 200);
    let export = t
        .get("/v1/audit/export?from=2020-01-01", Some(auditor))
        .await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let text = export.text().await.unwrap();
    let key = t.server().service().receipt_public_key();
    let summary = verify_export(&text, Some(&key)).unwrap();
    assert!(summary
        .entries
        .iter()
        .any(|e| e.details.get("key_id") == Some(&made.key.id)));
    // Invoices: one issued for this month (dated at its end), read by the auditor.
    let period = zktx_governance::billing::Period::containing(now_ms());
    let mut conn = zktx_server::store::billing::open(&data.store()).unwrap();
    zktx_server::store::billing::close(&mut conn, &signer, period, period.end_ms()).unwrap();
    let listed: serde_json::Value = t.get_json("/v1/invoices", Some(auditor)).await;
    assert_eq!(listed[0]["id"], format!("inv-{period}-open"));
    assert_eq!(listed[0]["quantity"], 1);
    let one = t
        .get(&format!("/v1/invoices/inv-{period}-open"), Some(auditor))
        .await;
    assert_eq!(one.status(), 200);
    let signature = one.headers()["x-zktx-invoice-signature"]
        .to_str()
        .unwrap()
        .to_string();
    let json = one.bytes().await.unwrap();
    assert!(zktx_governance::billing::invoice::verify_invoice(
        &json, &signature, &key
    ));
    let missing = t.get("/v1/invoices/inv-1999-01-open", Some(auditor)).await;
    assert_eq!(missing.status(), 404);
    let bad = t
        .get("/v1/audit/export?from=yesterday", Some(auditor))
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("from"));

    // Never verifies, on either front end, and spends nothing.
    let denied = rest_post(&t, Some(auditor), "/v1/verify", rest_body(&f.proofs[1])).await;
    assert_eq!(denied.status(), 403);
    assert!(denied.text().await.unwrap().contains("read-only"));
    let denied = client
        .verify(authed(verify_request(&f.proofs[1]), auditor))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let usage: serde_json::Value = t.get_json("/v1/usage", Some(t.key("open"))).await;
    assert_eq!(usage["proofs_today"], 1);

    // Expired: unauthenticated.
    let old = grant(&data.store(), &signer, "open", 1, now_ms() - 2 * 86_400_000).unwrap();
    let expired = t.get("/v1/usage", Some(&old.secret)).await;
    assert_eq!(expired.status(), 401);
    assert!(expired.text().await.unwrap().contains("expired"));
    // Bad grants change nothing.
    assert!(grant(&data.store(), &signer, "nobody", 7, now_ms())
        .unwrap_err()
        .to_string()
        .starts_with("tenant:"));
    assert!(grant(&data.store(), &signer, "open", 0, now_ms())
        .unwrap_err()
        .to_string()
        .starts_with("days:"));

    let store = data.store();
    let data_guard = t.data.clone();
    t.shutdown().await;
    let conn = Connection::open(&store).unwrap();
    let reads: Vec<String> = conn
        .prepare("SELECT details FROM audit_log WHERE kind = 'auditor_access' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        reads.len(),
        6,
        "usage, receipt, export, invoices, an invoice, the missing one: {reads:?}"
    );
    assert!(reads.iter().all(|r| r.contains(&made.key.id)));
    assert!(
        !reads.iter().any(|r| r.contains(auditor)),
        "the key itself is never written"
    );
    let granted: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE kind = 'auditor_granted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(granted, 2);
    drop(conn);
    drop(data_guard);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_key_is_refused_while_the_evidence_does_not_hold() {
    let t = TestServer::start().await;
    let data = DataDir::new(t.data.path());
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key()).unwrap();
    let made = grant(&data.store(), &signer, "open", 7, now_ms()).unwrap();
    let refused = t.get("/v1/usage", Some(&made.secret)).await;
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("setup ceremony") && body.contains("pinned_sha256"),
        "{body}"
    );
    t.shutdown().await;
}
