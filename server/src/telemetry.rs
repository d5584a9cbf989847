//! Logging and per-request accounting shared by both front ends: JSON lines
//! through `tracing`, one per request, carrying a request id. A line holds the
//! method, status, tenant id, item count and latency: never a proof, an input,
//! a set member or an API key.

use std::time::Instant;

pub use tracing_appender::non_blocking::WorkerGuard;

use crate::metrics::Metrics;

/// The default log filter: our crates at `info`, everything else at `warn`.
/// (arkworks traces every constraint at `info` and below: enabling that costs
/// minutes per key generation.)
pub const DEFAULT_FILTER: &str =
    "warn,zktx=info,zktx_server=info,zktx_prover=info,zktx_formats=info,zktx_verifier=info";

/// Installs the process's JSON log subscriber (binaries only; filter from
/// `ZKTX_LOG`, default [`DEFAULT_FILTER`]). Returns an error if one is already installed.
///
/// Lines go to standard error through a writer thread, so the request path
/// only formats its line and does not `write`. The writer buffers what has
/// queued up and flushes when the queue is empty. It never drops a line: a
/// request waits only once the writer is 128,000 lines behind (a reader of the
/// pipe that has stalled for that long). Keep the returned guard until exit: dropping it flushes.
/// A `kill -9` loses the lines still queued, at most the last few
/// milliseconds' worth; receipts and usage live in the store, not the log.
pub fn init_json_logs() -> Result<WorkerGuard, Box<dyn std::error::Error + Send + Sync>> {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("zktx-log-writer")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(writer)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZKTX_LOG")
                .unwrap_or_else(|_| DEFAULT_FILTER.into()),
        )
        .try_init()?;
    Ok(guard)
}

/// A fresh request id (16 hex digits), unless the caller sent a usable one.
pub fn request_id(from_caller: Option<&str>) -> String {
    match from_caller {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            id.to_string()
        }
        _ => {
            let mut bytes = [0u8; 8];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
            hex::encode(bytes)
        }
    }
}

/// One request in flight: logs and counts it when finished.
pub struct RequestLog<'a> {
    metrics: &'a Metrics,
    /// The transport and method, e.g. `grpc.Verify` or `rest.verify`.
    pub method: &'static str,
    /// The request id.
    pub request_id: String,
    /// The tenant, once authenticated.
    pub tenant: Option<String>,
    /// Proofs in the request.
    pub items: usize,
    started: Instant,
}

impl<'a> RequestLog<'a> {
    /// Starts timing a request.
    pub fn start(metrics: &'a Metrics, method: &'static str, request_id: String) -> Self {
        Self {
            metrics,
            method,
            request_id,
            tenant: None,
            items: 0,
            started: Instant::now(),
        }
    }

    /// Records the outcome: `code` is the gRPC code name (`OK`, `INVALID_ARGUMENT`...).
    pub fn finish(self, code: &str, error: Option<&str>) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.metrics.observe(self.method, code, seconds);
        tracing::info!(
            request_id = %self.request_id,
            method = self.method,
            code,
            tenant = self.tenant.as_deref().unwrap_or("-"),
            items = self.items,
            latency_ms = seconds * 1e3,
            error = error.unwrap_or(""),
            "request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_harmless() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        assert_eq!(request_id(Some("has space")).len(), 16);
        assert_eq!(request_id(None).len(), 16);
    }
}
