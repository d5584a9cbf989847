//! The admission policy gate in a running server: denials with their
//! reasons on both front ends, a waiver that stops at its expiry, and the
//! starts that a profile or a bad bundle refuses.

use std::path::Path;
use std::time::Duration;

use zktx_governance::policy::BUILTIN_FILES;
use zktx_governance::{PolicyBundle, Profile};
use zktx_proto::v1;
use zktx_server::start;

use crate::harness::{
    authed, config, fixture, rest_body, rest_post, submission, tenants, verify_request, TestServer,
};

/// The built-in bundle in `dir`, with the `open` plan limited to single
/// verify calls and `waivers` as its waivers file.
fn bundle_dir(dir: &Path, waivers: &str) {
    for (name, text) in BUILTIN_FILES {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let data = r#"{"bundle": {"version": "test-1"}, "plans": {"open": {"methods": ["verify"]}}}"#;
    std::fs::write(dir.join("data.json"), data).unwrap();
    std::fs::write(dir.join("waivers.json"), waivers).unwrap();
}

const REASON: &str =
    "plan open does not include batch calls: use verify, or move to a plan that has them";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_request_gets_the_policy_reasons_on_both_front_ends() {
    let policy = tempfile::tempdir().unwrap();
    bundle_dir(policy.path(), "{\"waivers\": []}");
    let dir = policy.path().to_path_buf();
    let t = TestServer::start_with(move |c| c.policy.dir = Some(dir)).await;
    let f = fixture();
    let mut client = t.grpc().await;

    // A single verify is in the plan.
    let ok = client
        .verify(authed(verify_request(&f.proofs[0]), t.key("open")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.verdict, v1::Verdict::Valid as i32);

    // A batch is not: refused as a whole, with the policy's reason.
    let request = v1::VerifyBatchRequest {
        items: vec![submission(&f.proofs[1])],
    };
    let denied = client
        .verify_batch(authed(request, t.key("open")))
        .await
        .unwrap();
    let result = &denied.into_inner().results[0];
    let Some(v1::item_result::Outcome::Error(error)) = &result.outcome else {
        panic!("expected a refusal, got {result:?}");
    };
    assert_eq!(error.code, "PERMISSION_DENIED");
    assert!(error.message.contains(REASON), "{}", error.message);
    assert!(
        error.message.contains("version test-1"),
        "{}",
        error.message
    );

    let rest = rest_post(
        &t,
        Some(t.key("open")),
        "/v1/verify/batch",
        serde_json::json!({ "items": [rest_body(&f.proofs[2])] }),
    )
    .await;
    let body: serde_json::Value = rest.json().await.unwrap();
    let item = &body["results"][0]["error"];
    assert_eq!(item["code"], "PERMISSION_DENIED", "{body}");
    assert!(item["message"].as_str().unwrap().contains(REASON), "{body}");

    // Another plan is not limited by the policy's data.
    let other = client
        .verify_batch(authed(
            v1::VerifyBatchRequest {
                items: vec![submission(&f.proofs[3])],
            },
            t.key("tier4only"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        other.results[0].outcome,
        Some(v1::item_result::Outcome::Response(_))
    ));

    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    let sha = PolicyBundle::load(policy.path())
        .unwrap()
        .sha256()
        .to_string();
    assert!(
        metrics.contains(&format!(
            "zktx_policy_info{{profile=\"dev\",sha256=\"{sha}\",version=\"test-1\"}} 1"
        )),
        "{metrics}"
    );
    assert!(metrics
        .contains("zktx_policy_decisions_total{outcome=\"denied\",rule=\"method-not-in-plan\"} 2"));
    assert!(metrics.contains("zktx_policy_decisions_total{outcome=\"allowed\",rule=\"-\"}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_stops_working_at_its_expiry_without_a_restart() {
    // Keys and proofs first (made once per test binary, in seconds), so the
    // waiver's few seconds start with the server.
    let f = fixture();
    let expires = time::OffsetDateTime::now_utc() + Duration::from_secs(4);
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let waivers = format!(
        r#"{{"waivers": [{{"id": "W-TEST-1", "rule": "method-not-in-plan", "tenant": "open",
            "reason": "migration window", "owner": "platform", "expires": "{expires}"}}]}}"#
    );
    let policy = tempfile::tempdir().unwrap();
    bundle_dir(policy.path(), &waivers);
    let dir = policy.path().to_path_buf();
    let t = TestServer::start_with(move |c| c.policy.dir = Some(dir)).await;
    let mut client = t.grpc().await;
    let batch = |i: usize| {
        authed(
            v1::VerifyBatchRequest {
                items: vec![submission(&f.proofs[i])],
            },
            t.key("open"),
        )
    };
    let waived = client.verify_batch(batch(4)).await.unwrap().into_inner();
    assert!(
        matches!(
            waived.results[0].outcome,
            Some(v1::item_result::Outcome::Response(_))
        ),
        "{waived:?}"
    );
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("zktx_policy_decisions_total{outcome=\"waived\",rule=\"-\"} 1"));

    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = client.verify_batch(batch(5)).await.unwrap().into_inner();
    let Some(v1::item_result::Outcome::Error(error)) = &after.results[0].outcome else {
        panic!("expected a refusal after the expiry, got {after:?}");
    };
    assert_eq!(error.code, "PERMISSION_DENIED");

    // Both are in the audit chain: the waiver's use (id, rule, owner) and
    // the denial after it (rule), each naming the tenant and the bundle.
    let (data, policy_sha) = (
        t.data.clone(),
        t.server()
            .service()
            .admission()
            .gate()
            .bundle()
            .sha256()
            .to_string(),
    );
    t.shutdown().await;
    let conn = rusqlite::Connection::open(zktx_formats::DataDir::new(data.path()).store()).unwrap();
    let entry = |kind: &str| -> (String, String, String) {
        conn.query_row(
            "SELECT tenant, policy_sha256, details FROM audit_log WHERE kind = ?1",
            [kind],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    let (tenant, bundle, details) = entry("waiver_used");
    assert_eq!(
        (tenant.as_str(), bundle.as_str()),
        ("open", policy_sha.as_str())
    );
    for expected in [
        "\"waiver\":\"W-TEST-1\"",
        "\"rule\":\"method-not-in-plan\"",
        "\"owner\":\"platform\"",
    ] {
        assert!(details.contains(expected), "{details}");
    }
    let (tenant, _, details) = entry("policy_denial");
    assert_eq!(tenant, "open");
    assert!(
        details.contains("\"rule\":\"method-not-in-plan\""),
        "{details}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_refuses_dev_keys_and_a_bad_bundle_refuses_to_start() {
    let data = tempfile::tempdir().unwrap();
    let tenants = tenants();
    let pinned = PolicyBundle::builtin().sha256().to_string();

    let mut prod = config(data.path(), &tenants);
    prod.profile = Profile::Prod;
    prod.policy.pinned_sha256 = Some(pinned.clone());
    let error = start(prod)
        .await
        .err()
        .expect("prod refuses dev keys")
        .to_string();
    assert!(error.contains("refuses development keys"), "{error}");

    let mut missing = config(data.path(), &tenants);
    missing.policy.dir = Some(data.path().join("no-such-policy"));
    let error = start(missing)
        .await
        .err()
        .expect("a missing bundle refuses")
        .to_string();
    assert!(error.contains("admission policy"), "{error}");

    let broken = tempfile::tempdir().unwrap();
    bundle_dir(broken.path(), "{\"waivers\": []}");
    std::fs::write(
        broken.path().join("admission.rego"),
        "package zktx.admission\ndecision := {",
    )
    .unwrap();
    let mut unparsable = config(data.path(), &tenants);
    unparsable.policy.dir = Some(broken.path().to_path_buf());
    let error = start(unparsable)
        .await
        .err()
        .expect("a broken bundle refuses")
        .to_string();
    assert!(error.contains("admission.rego"), "{error}");

    // A pin that does not match refuses in every profile.
    let mut mismatch = config(data.path(), &tenants);
    mismatch.policy.pinned_sha256 = Some("00".repeat(32));
    let error = start(mismatch)
        .await
        .err()
        .expect("a wrong pin refuses")
        .to_string();
    assert!(error.contains("differs from the pinned"), "{error}");
}
