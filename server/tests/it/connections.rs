//! Connections: half-sent and idle sockets are closed, the number open is
//! capped below the open-file limit, and health checks keep answering.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zktx_proto::v1;

use crate::harness::{authed, logs, TestServer};

/// Whether the server has closed `socket` (EOF or a reset) within `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 or other bytes before the close: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_and_idle_connections_are_closed_and_health_keeps_answering() {
    let t = TestServer::start_with(|c| {
        c.limits.header_read_timeout_ms = 500;
        c.limits.idle_timeout_secs = 3;
        c.limits.max_connections = 16;
    })
    .await;
    let (http, grpc) = (t.server().http_addr, t.server().grpc_addr);

    // The soft open-file limit was raised to the hard one.
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    assert_eq!(soft, hard);

    // A request whose headers never finish is closed at the header-read timeout.
    let mut half = TcpStream::connect(http).await.unwrap();
    half.write_all(b"POST /v1/verify HTTP/1.1\r\nHost: zktx\r\nContent-Ty")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut half, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // 40 silent sockets on each listener: more than its cap of 16.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(http).await.unwrap());
        idle.push(TcpStream::connect(grpc).await.unwrap());
    }
    // Health and real calls still get through, on both listeners.
    let started = Instant::now();
    let health = t.get("/healthz", None).await;
    assert_eq!(health.status().as_u16(), 200);
    let mut client = t.grpc().await;
    client
        .list_circuits(authed(v1::ListCircuitsRequest {}, t.key("open")))
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        tonic::transport::Channel::from_shared(format!("http://{grpc}"))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));

    // The cap was reached: counted, and logged as a warning.
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    for listener in ["http", "grpc"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with("zktx_connections_evicted_total")
                    && l.contains(&format!("listener=\"{listener}\""))
            })
            .unwrap_or_else(|| panic!("no eviction count for {listener}"));
        let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(count >= 24.0, "{line}");
    }
    let log = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(log.contains("connection cap reached"));

    // Every silent socket is closed: evicted at the cap, or idle too long.
    for socket in &mut idle {
        assert!(closed_within(socket, Duration::from_secs(8)).await);
    }
    t.shutdown().await;
}
