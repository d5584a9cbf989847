//! Both listeners' accept loops, with every socket counted and capped by a
//! [`ConnectionTracker`]: gRPC's as a stream of tracked sockets for tonic,
//! REST's as hyper HTTP/1 connections with a header-read timeout.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use futures_util::Stream;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};

use crate::connections::{ConnectionTracker, TrackedStream};

/// How long to wait after `accept` fails (e.g. out of descriptors) before
/// trying again, so a failing accept does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// The largest request head (request line and headers) a REST connection buffers.
const MAX_REST_HEAD_BYTES: usize = 64 * 1024;

/// Accepts the next socket, with TCP_NODELAY set: with Nagle on, a small
/// response waits for the client's delayed ACK (40 ms).
async fn accept(listener: &TcpListener, name: &str) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                if let Err(error) = tcp.set_nodelay(true) {
                    tracing::warn!(%error, listener = name, "TCP_NODELAY not set");
                }
                return tcp;
            }
            Err(error) => {
                tracing::warn!(%error, listener = name, "accept failed; retrying");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

/// The gRPC listener's sockets, tracked, for `serve_with_incoming_shutdown`.
pub fn tracked_incoming(
    listener: TcpListener,
    tracker: ConnectionTracker,
) -> impl Stream<Item = Result<TrackedStream, std::io::Error>> {
    futures_util::stream::unfold((listener, tracker), |(listener, tracker)| async move {
        let tcp = accept(&listener, "grpc").await;
        let stream = tracker.admit(tcp);
        Some((Ok(stream), (listener, tracker)))
    })
}

/// Serves `router` over HTTP/1 until `stop` resolves, then waits for open
/// requests to finish. A request's head must arrive within
/// `header_read_timeout`, which also closes a keep-alive connection that
/// waits that long for its next request.
pub async fn serve_rest(
    listener: TcpListener,
    tracker: ConnectionTracker,
    router: Router,
    header_read_timeout: Duration,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let tcp = tokio::select! {
            tcp = accept(&listener, "http") => tcp,
            () = &mut stop => break,
        };
        let io = TokioIo::new(tracker.admit(tcp));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .max_buf_size(MAX_REST_HEAD_BYTES)
            .serve_connection(io, TowerToHyperService::new(router.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "REST connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
