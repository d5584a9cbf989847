//! Replays: a verdict is always about the submitted proof, and a statement is
//! metered once per tenant whatever the path and timing.

use std::collections::HashSet;

use base64::Engine;
use tokio_stream::StreamExt;
use zktx_proto::v1;
use zktx_proto::v1::item_result::Outcome;

use crate::harness::{
    authed, error_body, fixture, proof_bytes, rest_body, rest_post, submission, verify_request,
    TestServer,
};

/// Proof bytes that are not the proof: all zeros (no compression flag), the
/// identity in every point, and the valid proof with A negated (every point
/// decodes; the equation fails).
fn forgeries(proof: &[u8]) -> Vec<(&'static str, Vec<u8>, bool)> {
    let mut identity = vec![0u8; 192];
    for start in [0, 48, 144] {
        identity[start] = 0xc0;
    }
    let mut minus_a = proof.to_vec();
    minus_a[0] ^= 0x20;
    vec![
        ("zeros", vec![0u8; 192], false),
        ("identity", identity, false),
        ("minus A", minus_a, true),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_valid_proof_other_bytes_for_the_same_statement_are_verified() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let proof = &fixture().proofs[5];
    let first = client
        .verify(authed(verify_request(proof), key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.verdict, v1::Verdict::Valid as i32);
    let usage = || t.server().service().quotas().usage("open").0;
    assert_eq!(usage(), 1);

    for (name, bytes, decodes) in forgeries(&proof_bytes(proof)) {
        // gRPC.
        let mut s = submission(proof);
        s.proof = bytes.clone();
        let answer = client
            .verify(authed(
                v1::VerifyRequest {
                    submission: Some(s),
                },
                key,
            ))
            .await;
        if decodes {
            let answer = answer.unwrap().into_inner();
            assert_eq!(answer.verdict, v1::Verdict::Invalid as i32, "{name}");
            assert!(!answer.replayed, "{name}");
        } else {
            let status = answer.unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{name}");
            assert_eq!(status.metadata().get("x-zktx-field").unwrap(), "proof");
        }
        // REST.
        let mut body = rest_body(proof);
        body["proof"] = base64::engine::general_purpose::STANDARD
            .encode(&bytes)
            .into();
        let (http, json) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
        if decodes {
            assert_eq!(http, 200, "{name}: {json}");
            assert_eq!(json["verdict"], "invalid", "{name}");
            assert_eq!(json["replayed"], false, "{name}");
        } else {
            assert_eq!(
                (http, json["field"].as_str()),
                (400, Some("proof")),
                "{name}"
            );
        }
    }
    // The invalid proofs were fresh work (metered); nothing was a replay.
    assert_eq!(usage(), 3);
    // The issue's own case: any 192 bytes as base64 `A…A` (all zeros).
    let mut body = rest_body(proof);
    body["proof"] = "A".repeat(256).into();
    let (http, json) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
    assert_eq!(
        (http, json["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );

    // The real proof again is still a replay of the first receipt.
    let again = client
        .verify(authed(verify_request(proof), key))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.receipt.unwrap().id, first.receipt.unwrap().id);
    assert_eq!(usage(), 3);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_statement_twice_in_a_batch_or_a_stream_is_metered_once() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let proofs = &fixture().proofs;
    let usage = || t.server().service().quotas().usage("open").0;

    // A batch: proof 6 three times, proof 7 once.
    let items = vec![
        submission(&proofs[6]),
        submission(&proofs[7]),
        submission(&proofs[6]),
        submission(&proofs[6]),
    ];
    let results = client
        .verify_batch(authed(v1::VerifyBatchRequest { items }, key))
        .await
        .unwrap()
        .into_inner()
        .results;
    let answers: Vec<v1::VerifyResponse> = results
        .into_iter()
        .map(|r| match r.outcome.unwrap() {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("{e:?}"),
        })
        .collect();
    let replayed: Vec<bool> = answers.iter().map(|a| a.replayed).collect();
    assert_eq!(replayed, [false, false, true, true]);
    let id = |a: &v1::VerifyResponse| a.receipt.as_ref().unwrap().id.clone();
    assert_eq!(id(&answers[2]), id(&answers[0]));
    assert_eq!(id(&answers[3]), id(&answers[0]));
    assert_eq!(usage(), 2);

    // A stream: proof 8 four times.
    let messages: Vec<_> = (0..4)
        .map(|sequence| v1::VerifyStreamRequest {
            sequence,
            submission: Some(submission(&proofs[8])),
        })
        .collect();
    let request = authed(tokio_stream::iter(messages), key);
    let mut responses = client.verify_stream(request).await.unwrap().into_inner();
    let (mut fresh, mut ids) = (0, HashSet::new());
    while let Some(message) = responses.next().await {
        let Some(Outcome::Response(r)) = message.unwrap().result.unwrap().outcome else {
            panic!("every stream item verifies");
        };
        assert_eq!(r.verdict, v1::Verdict::Valid as i32);
        fresh += usize::from(!r.replayed);
        ids.insert(r.receipt.unwrap().id);
    }
    assert_eq!((fresh, ids.len()), (1, 1));
    assert_eq!(usage(), 3);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_calls_get_one_receipt_and_one_usage_event() {
    let t = TestServer::start().await;
    let key = t.key("open").to_string();
    let proof = &fixture().proofs[9];
    let receipts_before = t.server().service().store().receipt_count().unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = t.grpc().await;
        let request = authed(verify_request(proof), &key);
        calls.spawn(async move { client.verify(request).await.unwrap().into_inner() });
    }
    // And over REST at the same time.
    let rest: Vec<_> = (0..4)
        .map(|_| rest_post(&t, Some(&key), "/v1/verify", rest_body(proof)))
        .collect();
    let rest = futures_util::future::join_all(rest).await;
    let mut answers = Vec::new();
    while let Some(answer) = calls.join_next().await {
        let answer = answer.unwrap();
        answers.push((answer.replayed, answer.receipt.unwrap().id));
    }
    for response in rest {
        let json: serde_json::Value = response.json().await.unwrap();
        answers.push((
            json["replayed"].as_bool().unwrap(),
            json["receipt"]["id"].as_str().unwrap().to_string(),
        ));
    }
    let fresh = answers.iter().filter(|(replayed, _)| !replayed).count();
    let ids: HashSet<_> = answers.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!((fresh, ids.len()), (1, 1), "{answers:?}");
    assert_eq!(t.server().service().quotas().usage("open").0, 1);
    assert_eq!(
        t.server().service().store().receipt_count().unwrap(),
        receipts_before + 1
    );
    t.shutdown().await;
}
