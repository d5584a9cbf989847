//! Every error status, on gRPC and REST, with what a partner needs to act on it.

use std::time::Duration;

use tonic::Code;
use zktx_proto::v1;

use crate::harness::{
    authed, error_body, fixture, rest_body, rest_post, submission, verify_request, TestServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_without_or_with_an_unknown_key() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let status = client
        .verify(tonic::Request::new(verify_request(&fixture().proofs[0])))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("authorization: Bearer"));
    let status = client
        .verify(authed(verify_request(&fixture().proofs[0]), "zktx_wrong"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let (http, body) =
        error_body(rest_post(&t, None, "/v1/verify", rest_body(&fixture().proofs[0])).await).await;
    assert_eq!(
        (http, body["code"].as_str().unwrap()),
        (401, "UNAUTHENTICATED")
    );
    let (http, _) = error_body(
        rest_post(
            &t,
            Some("zktx_wrong"),
            "/v1/verify",
            rest_body(&fixture().proofs[0]),
        )
        .await,
    )
    .await;
    assert_eq!(http, 401);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_denied_for_a_tier_outside_the_plan() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let tier8 = &fixture().tier8_proof;
    let status = client
        .verify(authed(verify_request(tier8), t.key("tier4only")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("tier 8"), "{}", status.message());
    let (http, body) =
        error_body(rest_post(&t, Some(t.key("tier4only")), "/v1/verify", rest_body(tier8)).await)
            .await;
    assert_eq!(
        (http, body["code"].as_str().unwrap()),
        (403, "PERMISSION_DENIED")
    );
    // The open plan may use it.
    let ok = client
        .verify(authed(verify_request(tier8), t.key("open")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.verdict, v1::Verdict::Valid as i32);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_argument_names_the_field_and_not_found_names_the_key() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let proof = &fixture().proofs[0];
    let cases: Vec<(v1::ProofSubmission, Code, &str)> = vec![
        (
            v1::ProofSubmission {
                key_fingerprint: "xyz".into(),
                ..submission(proof)
            },
            Code::InvalidArgument,
            "key_fingerprint",
        ),
        (
            v1::ProofSubmission {
                proof: vec![1, 2, 3],
                ..submission(proof)
            },
            Code::InvalidArgument,
            "proof",
        ),
        (
            v1::ProofSubmission {
                public_inputs: None,
                ..submission(proof)
            },
            Code::InvalidArgument,
            "submission.public_inputs",
        ),
        (
            {
                let mut s = submission(proof);
                s.public_inputs.as_mut().unwrap().commit_a = "ff".repeat(32);
                s
            },
            Code::InvalidArgument,
            "public_inputs.commit_a",
        ),
        (
            v1::ProofSubmission {
                key_fingerprint: "cd".repeat(32),
                ..submission(proof)
            },
            Code::NotFound,
            "",
        ),
    ];
    for (s, code, field) in cases {
        let status = client
            .verify(authed(
                v1::VerifyRequest {
                    submission: Some(s),
                },
                key,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        let got = status
            .metadata()
            .get("x-zktx-field")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.unwrap_or_default(), field, "{status:?}");
    }

    let mut body = rest_body(proof);
    body["proof"] = "not base64!".into();
    let (http, json) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
    assert_eq!((http, json["field"].as_str().unwrap()), (400, "proof"));
    let mut body = rest_body(proof);
    body["public_inputs"]["k"] = "three".into();
    let (http, json) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
    assert_eq!(
        (http, json["field"].as_str().unwrap()),
        (400, "public_inputs.k")
    );
    let mut body = rest_body(proof);
    body["key_fingerprint"] = "cd".repeat(32).into();
    let (http, _) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
    assert_eq!(http, 404);
    // A batch larger than the plan allows.
    let items: Vec<_> = (0..9).map(|_| rest_body(proof)).collect();
    let (http, json) = error_body(
        rest_post(
            &t,
            Some(t.key("small")),
            "/v1/verify/batch",
            serde_json::json!({ "items": items }),
        )
        .await,
    )
    .await;
    assert_eq!((http, json["field"].as_str().unwrap()), (400, "items"));
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_rate_is_limited_with_a_retry_after_and_refills() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("tight");
    let request = || authed(v1::ListCircuitsRequest {}, key);
    // Every authenticated method takes from the rate. Burst 2, 5 per second.
    let proofs = &fixture().proofs;
    client
        .verify(authed(verify_request(&proofs[0]), key))
        .await
        .unwrap();
    client
        .verify(authed(verify_request(&proofs[1]), key))
        .await
        .unwrap();
    let status = client
        .verify(authed(verify_request(&proofs[2]), key))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status.metadata().get("retry-after").unwrap(), "1");
    let response = rest_post(&t, Some(key), "/v1/verify", rest_body(&proofs[2])).await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let status = client.list_circuits(request()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    // The bucket refills at 5 per second.
    tokio::time::sleep(Duration::from_millis(450)).await;
    client
        .verify(authed(verify_request(&proofs[2]), key))
        .await
        .unwrap();
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_is_exhausted_and_replays_stay_free() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("small");
    let proofs = &fixture().proofs;
    for proof in &proofs[..4] {
        client
            .verify(authed(verify_request(proof), key))
            .await
            .unwrap();
    }
    let status = client
        .verify(authed(verify_request(&proofs[4]), key))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("daily quota of 4"),
        "{}",
        status.message()
    );
    let wait: u64 = status
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait));
    let (http, body) =
        error_body(rest_post(&t, Some(key), "/v1/verify", rest_body(&proofs[4])).await).await;
    assert_eq!(
        (http, body["code"].as_str().unwrap()),
        (429, "RESOURCE_EXHAUSTED")
    );
    // Already-verified valid statements are still answered.
    let replay = client
        .verify(authed(verify_request(&proofs[0]), key))
        .await
        .unwrap()
        .into_inner();
    assert!(replay.replayed);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_sheds_at_once_and_deadlines_are_honoured() {
    // Batches close only after 1.5 s, and the queue holds 4 proofs.
    let t = TestServer::start_with(|c| {
        c.batch.max_age_ms = 1_500;
        c.batch.max_size = 64;
        c.batch.queue_capacity = 4;
        for plan in c.plans.values_mut() {
            plan.max_batch = plan.max_batch.min(4);
        }
    })
    .await;
    let key = t.key("open").to_string();
    let proofs = &fixture().proofs;
    let items: Vec<_> = proofs[..4].iter().map(submission).collect();
    let mut first_client = t.grpc().await;
    let first = tokio::spawn(async move {
        first_client
            .verify_batch(authed(v1::VerifyBatchRequest { items }, &key))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut client = t.grpc().await;
    let started = std::time::Instant::now();
    let shed = client
        .verify(authed(verify_request(&proofs[5]), t.key("open")))
        .await
        .unwrap_err();
    assert_eq!(shed.code(), Code::Unavailable, "{shed:?}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "shed at once"
    );
    assert!(shed.metadata().get("retry-after").is_some());
    let response = rest_post(
        &t,
        Some(t.key("open")),
        "/v1/verify",
        crate::harness::rest_body(&proofs[5]),
    )
    .await;
    assert_eq!(response.status().as_u16(), 503);
    let results = first.await.unwrap().unwrap().into_inner().results;
    assert_eq!(results.len(), 4);

    // A deadline shorter than the batch age: DEADLINE_EXCEEDED (not CANCELLED).
    let mut request = authed(verify_request(&proofs[6]), t.key("open"));
    request.set_timeout(Duration::from_millis(200));
    let late = client.verify(request).await.unwrap_err();
    assert_eq!(late.code(), Code::DeadlineExceeded, "{late:?}");
    let response = reqwest::Client::new()
        .post(t.url("/v1/verify"))
        .bearer_auth(t.key("open"))
        .header("x-zktx-timeout-ms", "200")
        .json(&rest_body(&proofs[7]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 504);
    // Expired work is dropped and nothing is metered for it; the queue empties.
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    let service = t.server().service();
    assert_eq!(service.quotas().usage("open"), (4, 0));
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_answers_unavailable_and_finishes_queued_work() {
    let t = TestServer::start_with(|c| c.batch.max_age_ms = 500).await;
    let key = t.key("open").to_string();
    let mut client = t.grpc().await;
    let proof = fixture().proofs[8].clone();
    let queued =
        tokio::spawn(async move { client.verify(authed(verify_request(&proof), &key)).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let service = t.server().service().clone();
    t.shutdown().await;
    // The queued proof was still verified and answered.
    let answer = queued.await.unwrap().unwrap().into_inner();
    assert_eq!(answer.verdict, v1::Verdict::Valid as i32);
    assert!(!service.ready());
    let tenant = zktx_server::tenants::Tenant {
        id: "open".into(),
        plan_name: "open".into(),
        plan: crate::harness::plans()[0].1.clone(),
    };
    let envelope = &fixture().proofs[9];
    let submission = zktx_server::service::Submission {
        key_fingerprint: envelope.vk_fingerprint.clone(),
        inputs: envelope.public_inputs.clone(),
        proof: crate::harness::proof_bytes(envelope),
    };
    let refused = service
        .verify_one(
            &tenant,
            submission,
            None,
            zktx_server::admission::Route::single(
                zktx_governance::Transport::Grpc,
                zktx_governance::Method::Verify,
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.grpc_code(), Code::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authenticated_method_counts_against_the_rate() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("tight"); // burst 2, 5 per second
                              // 30 calls at once: at most the burst and a refill or two get through.
    let calls = (0..30).map(|_| {
        let mut client = client.clone();
        async move { client.get_usage(authed(v1::GetUsageRequest {}, key)).await }
    });
    let mut limited = 0;
    for answer in futures_util::future::join_all(calls).await {
        if let Err(status) = answer {
            assert_eq!(status.code(), Code::ResourceExhausted);
            assert!(status.metadata().get("retry-after").is_some());
            limited += 1;
        }
    }
    assert!(limited >= 25, "{limited} of 30 GetUsage calls limited");
    let status = client
        .get_receipt(authed(v1::GetReceiptRequest { id: "0".repeat(32) }, key))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    for path in ["/v1/usage", "/v1/circuits"] {
        let response = t.get(path, Some(key)).await;
        assert_eq!(response.status().as_u16(), 429, "{path}");
        assert!(response.headers().contains_key("retry-after"));
    }
    // The receipt key needs no API key and is not a tenant's call.
    assert_eq!(t.get("/v1/receipt-key", None).await.status().as_u16(), 200);
    t.shutdown().await;
}
