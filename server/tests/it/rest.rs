//! REST mirrors gRPC: verdicts, batches, receipts, circuits, probes, metrics.

use zktx_proto::receipt::Receipt;

use crate::harness::{fixture, rest_body, with_k, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_verifies_batches_and_serves_receipts() {
    let t = TestServer::start().await;
    let http = reqwest::Client::new();
    let key = t.key("open");
    let proofs = &fixture().proofs;

    let response: serde_json::Value = http
        .post(t.url("/v1/verify"))
        .bearer_auth(key)
        .header("x-request-id", "rest-test-1")
        .json(&rest_body(&proofs[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["verdict"], "valid");
    let receipt: Receipt = serde_json::from_value(response["receipt"].clone()).unwrap();
    let server_key: serde_json::Value = t.get_json("/v1/receipt-key", None).await;
    receipt
        .verify(server_key["public_key"].as_str().unwrap())
        .unwrap();

    let fetched: Receipt = t
        .get_json(&format!("/v1/receipts/{}", receipt.id), Some(key))
        .await;
    assert_eq!(fetched, receipt);
    let missing = t
        .get(&format!("/v1/receipts/{}", "0".repeat(32)), Some(key))
        .await;
    assert_eq!(missing.status().as_u16(), 404);

    let mut malformed = rest_body(&proofs[1]);
    malformed["proof"] = "AAAA".into();
    let batch = serde_json::json!({ "items": [rest_body(&proofs[1]), rest_body(&with_k(&proofs[2], 0)), malformed] });
    let response = http
        .post(t.url("/v1/verify/batch"))
        .bearer_auth(key)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["response"]["verdict"], "valid");
    assert_eq!(results[1]["response"]["verdict"], "invalid");
    assert_eq!(results[2]["error"]["code"], "INVALID_ARGUMENT");
    assert_eq!(results[2]["error"]["field"], "items[2].proof");
    // The two verified items' receipts: one group, each checks alone, and
    // each names its place in the group.
    for (i, result) in results[..2].iter().enumerate() {
        let receipt: Receipt =
            serde_json::from_value(result["response"]["receipt"].clone()).unwrap();
        receipt
            .verify(server_key["public_key"].as_str().unwrap())
            .unwrap();
        assert_eq!(result["response"]["receipt"]["batch"]["size"], 2);
        assert_eq!(result["response"]["receipt"]["batch"]["index"], i);
    }

    let circuits: serde_json::Value = t.get_json("/v1/circuits", Some(key)).await;
    assert_eq!(circuits.as_array().unwrap().len(), 2);

    assert_eq!(t.get("/healthz", None).await.status().as_u16(), 200);
    assert_eq!(t.get("/readyz", None).await.status().as_u16(), 200);
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    for name in [
        "zktx_requests_total{code=\"OK\",method=\"rest.verify\"}",
        "zktx_request_duration_seconds_bucket",
        "zktx_batch_size_proofs_count",
        "zktx_queue_depth_proofs 0",
        "zktx_verdict_cache_total",
        "zktx_verify_seconds_per_proof_count",
        "zktx_receipts_total{verdict=\"valid\"}",
    ] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
    t.shutdown().await;
}
