//! Each error code on both transports, what is retried and what is not,
//! and deadlines.

use std::time::Duration;

use zktx_client::{Client, Protocol, Reason, RetryPolicy, StatusCode};

use crate::{api_key, config, proof, TestServer, PROTOCOLS};

fn method(protocol: Protocol, grpc: &'static str, rest: &'static str) -> &'static str {
    match protocol {
        Protocol::Grpc => grpc,
        Protocol::Rest => rest,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_has_its_code_and_field() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        let open = t.client(protocol, "open").await;

        let mut short = proof(0);
        short.proof.truncate(10);
        let error = open.verify(&short).await.unwrap_err();
        assert_eq!(error.code, StatusCode::InvalidArgument, "{protocol:?}");
        assert_eq!(error.field.as_deref(), Some("proof"), "{protocol:?}");

        let nobody = open.with_api_key("zk_nobody");
        let error = nobody.verify(&proof(0)).await.unwrap_err();
        assert_eq!(error.code, StatusCode::Unauthenticated, "{protocol:?}");

        let narrow = t.client(protocol, "narrow").await;
        let error = narrow.verify(&proof(0)).await.unwrap_err();
        assert_eq!(error.code, StatusCode::PermissionDenied, "{protocol:?}");

        let mut unknown_key = proof(0);
        unknown_key.key_fingerprint = "00".repeat(32);
        let error = open.verify(&unknown_key).await.unwrap_err();
        assert_eq!(error.code, StatusCode::NotFound, "{protocol:?}");
        let error = open.receipt(&"0".repeat(32)).await.unwrap_err();
        assert_eq!(error.code, StatusCode::NotFound, "{protocol:?}");

        // One call larger than any plan's batch can need (the default plans
        // included, whose largest batch is 1,000): refused before it is read.
        let huge = Client::builder(t.address(protocol), api_key("open"))
            .protocol(protocol)
            .max_batch(5000)
            .connect()
            .await
            .unwrap();
        let many: Vec<_> = (0..2500).map(|i| proof(i % crate::PROOFS)).collect();
        // A client for another tenant keeps the builder's batch size.
        let error = huge
            .with_api_key(api_key("open"))
            .verify_batch(&many)
            .await
            .unwrap_err();
        assert_eq!(error.code, StatusCode::OutOfRange, "{protocol:?}");
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_is_not_retried_and_a_rate_limit_is() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        // The default policy retries, but not a spent daily quota: one call.
        let capped = Client::builder(t.address(protocol), t.capped_key())
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let verify = method(protocol, "grpc.Verify", "rest.verify");
        let before = t.requests(verify, "RESOURCE_EXHAUSTED").await;
        let error = capped.verify(&proof(1)).await.unwrap_err();
        assert_eq!(error.code, StatusCode::ResourceExhausted, "{protocol:?}");
        assert_eq!(error.reason, Some(Reason::QuotaExhausted));
        assert!(error.retry_after.is_some());
        assert_eq!(t.requests(verify, "RESOURCE_EXHAUSTED").await, before + 1);

        // One request a second: the second and third calls are refused for
        // the rate, wait the server's retry-after, and then succeed.
        let slow = Client::builder(t.address(protocol), api_key("slow"))
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let usage = method(protocol, "grpc.GetUsage", "rest.usage");
        let refused = t.requests(usage, "RESOURCE_EXHAUSTED").await;
        for _ in 0..3 {
            assert_eq!(slow.usage().await.unwrap().tenant, "slow", "{protocol:?}");
        }
        assert!(t.requests(usage, "RESOURCE_EXHAUSTED").await > refused);

        // Without retries the rate limit comes back, saying when to return.
        let impatient = Client::builder(t.address(protocol), api_key("slow"))
            .protocol(protocol)
            .retry(RetryPolicy::none())
            .connect()
            .await
            .unwrap();
        let _ = impatient.usage().await;
        let error = impatient.usage().await.unwrap_err();
        assert_eq!(error.reason, Some(Reason::RateLimited), "{protocol:?}");
        assert!(error.is_retryable() && error.retry_after.is_some());
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_that_passes_is_deadline_exceeded() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        let client = Client::builder(t.address(protocol), api_key("open"))
            .protocol(protocol)
            .timeout(Duration::from_nanos(1))
            .connect()
            .await
            .unwrap();
        let error = client.verify(&proof(2)).await.unwrap_err();
        assert_eq!(error.code, StatusCode::DeadlineExceeded, "{protocol:?}");
        assert!(!error.is_retryable());
    }
    t.shutdown().await;
}

/// Two free loopback ports (taken and released).
fn free_ports() -> (std::net::SocketAddr, std::net::SocketAddr) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (a.local_addr().unwrap(), b.local_addr().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_server_is_retried_until_it_answers() {
    crate::fixture();
    let (grpc, http) = free_ports();
    let data = tempfile::tempdir().unwrap();
    let policy = RetryPolicy {
        max_attempts: 40,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
    };
    let address = |protocol| match protocol {
        Protocol::Grpc => format!("http://{grpc}"),
        Protocol::Rest => format!("http://{http}"),
    };
    // Nothing listens yet: without retries, UNAVAILABLE at once.
    for protocol in PROTOCOLS {
        let client = Client::builder(address(protocol), api_key("open"))
            .protocol(protocol)
            .retry(RetryPolicy::none())
            .connect()
            .await
            .unwrap();
        let error = client.usage().await.unwrap_err();
        assert_eq!(error.code, StatusCode::Unavailable, "{protocol:?}");
        assert!(error.is_retryable());
    }
    // With retries, the calls outlive the outage: the server starts meanwhile.
    let mut calls = Vec::new();
    for protocol in PROTOCOLS {
        let client = Client::builder(address(protocol), api_key("open"))
            .protocol(protocol)
            .retry(policy)
            .connect()
            .await
            .unwrap();
        calls.push(tokio::spawn(async move { client.verify(&proof(3)).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = zktx_server::start(config(data.path(), grpc, http))
        .await
        .unwrap();
    for call in calls {
        let answer = call.await.unwrap().unwrap();
        assert_eq!(answer.verdict, zktx_client::ReceiptVerdict::Valid);
    }
    server.shutdown().await;
}
