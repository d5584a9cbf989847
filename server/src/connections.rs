//! Open connections per listener: counted, capped, and closed when silent.
//!
//! Every accepted socket is wrapped in a [`TrackedStream`] that notes when a
//! byte last arrived from the caller. A listener holds at most
//! `max_connections`: at the cap, the connection that has been silent longest
//! is closed to admit the new one (a warning is logged, at most every ten
//! seconds, and `zktx_connections_evicted_total` counts it), so idle or
//! half-sent sockets cannot lock out health checks and real callers. A
//! reaper closes connections silent for longer than the idle timeout. The
//! cap stays below the process's open-file limit ([`raise_open_file_limit`]),
//! so `accept` never fails for want of descriptors.
//!
//! Closing works from outside the connection's own task: the stream's next
//! read or write fails, which ends hyper's (and tonic's) connection.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::metrics::Metrics;

/// Descriptors kept back from the connection caps for the store, keys,
/// logs and the process's own needs.
const RESERVED_FILES: u64 = 256;

/// How often a warning about the cap may be logged.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Raises the soft open-file limit to the hard limit; returns the limit now
/// in force (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
        }
    }
}

/// The per-listener cap: the configured one, lowered so that `listeners`
/// listeners at their caps stay below the open-file limit.
pub fn connection_cap(configured: usize, open_files: Option<u64>, listeners: u64) -> usize {
    match open_files {
        Some(limit) => {
            let fit = limit.saturating_sub(RESERVED_FILES) / listeners.max(1);
            configured.min(fit.max(1) as usize)
        }
        None => configured,
    }
}

struct ConnState {
    /// Milliseconds since the tracker's epoch when a byte last arrived.
    last_read_ms: AtomicU64,
    closed: AtomicBool,
    waker: AtomicWaker,
}

impl ConnState {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

struct TrackerInner {
    listener: &'static str,
    max: usize,
    idle_timeout: Duration,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    last_warning: Mutex<Option<Instant>>,
    metrics: Metrics,
}

impl TrackerInner {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// The connections of one listener.
#[derive(Clone)]
pub struct ConnectionTracker {
    inner: Arc<TrackerInner>,
}

impl ConnectionTracker {
    /// A tracker for `listener` (`grpc` or `http`, a metric label) holding at
    /// most `max` connections, closing those silent for `idle_timeout`. Its
    /// reaper runs on the current tokio runtime while the tracker lives.
    pub fn new(
        listener: &'static str,
        max: usize,
        idle_timeout: Duration,
        metrics: Metrics,
    ) -> Self {
        let inner = Arc::new(TrackerInner {
            listener,
            max: max.max(1),
            idle_timeout,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            last_warning: Mutex::new(None),
            metrics,
        });
        tokio::spawn(reap(Arc::downgrade(&inner)));
        Self { inner }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.inner.open.lock().expect("connections lock").len()
    }

    /// Takes an accepted socket into account, closing the longest-silent
    /// connection first if the listener is at its cap.
    pub fn admit(&self, io: TcpStream) -> TrackedStream {
        let inner = &self.inner;
        let state = Arc::new(ConnState {
            last_read_ms: AtomicU64::new(inner.now_ms()),
            closed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let evicted = {
            let mut open = inner.open.lock().expect("connections lock");
            let mut evicted = 0;
            while open.len() >= inner.max {
                let Some(oldest) = open
                    .iter()
                    .min_by_key(|(_, c)| c.last_read_ms.load(Ordering::Relaxed))
                    .map(|(id, _)| *id)
                else {
                    break;
                };
                if let Some(conn) = open.remove(&oldest) {
                    conn.close();
                    evicted += 1;
                }
            }
            open.insert(id, state.clone());
            inner
                .metrics
                .connections_open
                .with_label_values(&[inner.listener])
                .set(open.len() as i64);
            evicted
        };
        if evicted > 0 {
            inner
                .metrics
                .connections_evicted
                .with_label_values(&[inner.listener])
                .inc_by(evicted);
            self.warn_at_cap();
        }
        TrackedStream {
            io,
            state,
            id,
            tracker: self.inner.clone(),
        }
    }

    fn warn_at_cap(&self) {
        let mut last = self.inner.last_warning.lock().expect("connections lock");
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(
                listener = self.inner.listener,
                max_connections = self.inner.max,
                "connection cap reached: closing the longest-silent connections to admit new ones"
            );
        }
    }
}

/// Closes connections silent for longer than the idle timeout, until the
/// tracker is gone.
async fn reap(tracker: Weak<TrackerInner>) {
    let period = match tracker.upgrade() {
        Some(inner) => {
            (inner.idle_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(5))
        }
        None => return,
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = tracker.upgrade() else {
            return;
        };
        let cutoff = inner
            .now_ms()
            .saturating_sub(inner.idle_timeout.as_millis() as u64);
        let mut closed = 0;
        for conn in inner.open.lock().expect("connections lock").values() {
            if conn.last_read_ms.load(Ordering::Relaxed) < cutoff
                && !conn.closed.load(Ordering::Relaxed)
            {
                conn.close();
                closed += 1;
            }
        }
        if closed > 0 {
            inner
                .metrics
                .connections_idle_closed
                .with_label_values(&[inner.listener])
                .inc_by(closed);
        }
    }
}

/// An accepted socket that a [`ConnectionTracker`] counts and can close.
pub struct TrackedStream {
    io: TcpStream,
    state: Arc<ConnState>,
    id: u64,
    tracker: Arc<TrackerInner>,
}

impl TrackedStream {
    fn closed_error() -> io::Error {
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "closed by the server (idle, or the connection cap)",
        )
    }
}

impl Drop for TrackedStream {
    fn drop(&mut self) {
        let inner = &self.tracker;
        let mut open = inner.open.lock().expect("connections lock");
        open.remove(&self.id);
        inner
            .metrics
            .connections_open
            .with_label_values(&[inner.listener])
            .set(open.len() as i64);
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.state.waker.register(cx.waker());
        if self.state.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(Self::closed_error()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let now = self.tracker.now_ms();
            self.state.last_read_ms.store(now, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.state.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(Self::closed_error()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.state.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(Self::closed_error()));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for TrackedStream {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(connection_cap(4096, Some(1024), 2), 384);
        assert_eq!(connection_cap(100, Some(1_048_576), 2), 100);
        assert_eq!(connection_cap(100, None, 2), 100);
        assert_eq!(connection_cap(100, Some(10), 2), 1);
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_silent_connection_is_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tracker = ConnectionTracker::new("test", 2, Duration::from_secs(60), Metrics::new());
        let (mut quiet_client, quiet) = pair(&listener).await;
        let mut quiet = tracker.admit(quiet);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (mut busy_client, busy) = pair(&listener).await;
        let mut busy = tracker.admit(busy);
        busy_client.write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        busy.read_exact(&mut byte).await.unwrap();
        assert_eq!(tracker.open(), 2);

        let (_third_client, third) = pair(&listener).await;
        let _third = tracker.admit(third);
        assert_eq!(tracker.open(), 2);
        // The quiet one is closed: its pending read fails, and its peer sees EOF.
        let error = quiet.read(&mut byte).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
        drop(quiet);
        assert_eq!(quiet_client.read(&mut byte).await.unwrap(), 0);
        // The busy one still works.
        busy_client.write_all(b"y").await.unwrap();
        busy.read_exact(&mut byte).await.unwrap();
        assert_eq!(&byte, b"y");
    }

    #[tokio::test]
    async fn silent_connections_are_reaped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tracker = ConnectionTracker::new("test", 8, Duration::from_millis(200), Metrics::new());
        let (_client, accepted) = pair(&listener).await;
        let mut conn = tracker.admit(accepted);
        let mut byte = [0u8; 1];
        let result = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut byte)).await;
        assert_eq!(
            result.expect("reaped well before 5 s").unwrap_err().kind(),
            io::ErrorKind::ConnectionAborted
        );
        drop(conn);
        assert_eq!(tracker.open(), 0);
    }
}
