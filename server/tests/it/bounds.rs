//! Everything a caller can grow is bounded before work is done: items per
//! call, message and body sizes, streams per connection.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tonic::Code;
use zktx_proto::v1;

use crate::harness::{
    authed, error_body, fixture, rest_body, rest_post, submission, verify_request, TestServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_counts_against_the_plan_before_any_is_looked_at() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("small"); // max_batch 8
    let proof = &fixture().proofs[0];

    // 8 good items and one malformed one: 9 items; then 5,000 empty items,
    // refused as a count, not answered item by item.
    let mut nine: Vec<_> = (0..8).map(|_| submission(proof)).collect();
    nine.push(v1::ProofSubmission::default());
    let empty = vec![v1::ProofSubmission::default(); 5_000];
    for (items, count) in [(nine, "9 proofs"), (empty, "5000 proofs")] {
        let status = client
            .verify_batch(authed(v1::VerifyBatchRequest { items }, key))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.metadata().get("x-zktx-field").unwrap(), "items");
        assert!(status.message().contains(count), "{}", status.message());
    }

    // REST: the same two cases.
    let mut nine: Vec<_> = (0..8).map(|_| rest_body(proof)).collect();
    nine.push(serde_json::json!({"proof": "x"}));
    let empty = vec![serde_json::json!({}); 5_000];
    for items in [nine, empty] {
        let body = serde_json::json!({ "items": items });
        let (http, json) =
            error_body(rest_post(&t, Some(key), "/v1/verify/batch", body).await).await;
        assert_eq!((http, json["field"].as_str()), (400, Some("items")));
    }
    // Nothing was metered.
    assert_eq!(t.server().service().quotas().usage("small").0, 0);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_and_bodies_are_refused_at_once() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let proof = &fixture().proofs[0];

    // The message: 2,090,000 empty items in about 4 MiB. The server's
    // limit is what the largest plan's batch (1000) needs: OUT_OF_RANGE.
    let items = vec![v1::ProofSubmission::default(); 2_090_000];
    let started = Instant::now();
    let status = client
        .verify_batch(authed(v1::VerifyBatchRequest { items }, key))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // One proof in a message far larger than one proof needs.
    let mut s = submission(proof);
    s.proof = vec![7u8; 8 * 1024];
    let status = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(s),
            },
            key,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    // The connection still serves.
    client
        .verify(authed(verify_request(proof), key))
        .await
        .unwrap();

    // REST: a body over what the plan's largest batch needs is 413, refused
    // from its Content-Length before it is read...
    let huge = "x".repeat(300 * 1024); // plan `open`: 64 items, about 135 KB
    let body = serde_json::json!({ "items": [], "padding": huge });
    let (http, json) = error_body(rest_post(&t, Some(key), "/v1/verify/batch", body).await).await;
    assert_eq!((http, json["code"].as_str()), (413, Some("OUT_OF_RANGE")));
    // ...or, sent without a length, as soon as it passes the limit: 8 KiB of
    // a chunked body where one proof needs at most 6 KiB, and then nothing.
    let mut socket = TcpStream::connect(t.server().http_addr).await.unwrap();
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nhost: zktx\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..8 {
        socket.write_all(b"400\r\n").await.unwrap();
        socket.write_all(&[b' '; 1024]).await.unwrap();
        socket.write_all(b"\r\n").await.unwrap();
    }
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("answered without waiting for the rest")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A single proof's body is bounded by one proof's needs, not a batch's.
    let mut body = rest_body(proof);
    body["context"] = "y".repeat(8 * 1024).into();
    let (http, _) = error_body(rest_post(&t, Some(key), "/v1/verify", body).await).await;
    assert_eq!(http, 413);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_per_connection_are_capped() {
    let t = TestServer::start_with(|c| c.limits.max_streams_per_connection = 4).await;
    // One connection: every stream below shares it.
    let client = t.grpc().await;
    let key = t.key("open");
    let mut open = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = tokio::sync::mpsc::channel::<v1::VerifyStreamRequest>(1);
        let mut c = client.clone();
        let request = authed(tokio_stream::wrappers::ReceiverStream::new(rx), key);
        let responses = tokio::time::timeout(Duration::from_secs(5), c.verify_stream(request))
            .await
            .expect("a stream within the limit opens")
            .unwrap();
        open.push((tx, responses));
    }
    // The fifth waits for a free stream (SETTINGS_MAX_CONCURRENT_STREAMS = 4).
    let (tx, rx) = tokio::sync::mpsc::channel::<v1::VerifyStreamRequest>(1);
    let mut c = client.clone();
    let request = authed(tokio_stream::wrappers::ReceiverStream::new(rx), key);
    let mut fifth = tokio::spawn(async move { c.verify_stream(request).await.map(|_| tx) });
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut fifth)
            .await
            .is_err(),
        "a fifth concurrent stream on one connection must wait"
    );
    // Closing one lets it through.
    drop(open.pop());
    let fifth = tokio::time::timeout(Duration::from_secs(5), fifth)
        .await
        .expect("the fifth stream opens once one closes")
        .unwrap()
        .unwrap();
    drop((open, fifth));
    t.shutdown().await;
}
