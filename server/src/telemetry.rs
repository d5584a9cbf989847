//! Logging, tracing and per-request accounting shared by both front ends.
//!
//! - **Logs**: JSON lines through `tracing`, one per request, carrying the
//!   request id and the trace id. A line holds the method, status, tenant id,
//!   item count and latency: never a proof, an input, a set member or an API key.
//! - **Traces**: with `[telemetry] otlp_endpoint` set, every request is a
//!   span (`request`, with the request id, method, status, tenant and item
//!   count) made by OpenTelemetry through `tracing-opentelemetry` and exported
//!   over OTLP/gRPC, batched off the request path. A caller's W3C
//!   `traceparent` makes it a child of the caller's trace; otherwise it starts
//!   a trace of its own. Without an endpoint (the default) no span is made (it
//!   would cost about 1.9 µs a request for nothing: `docs/perf.md`), and each
//!   log line carries the caller's trace id, or a fresh one.

use std::time::Instant;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use serde::{Deserialize, Serialize};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use tracing_appender::non_blocking::WorkerGuard;

use crate::metrics::Metrics;

/// The default log filter: our crates at `info`, everything else at `warn`.
/// (arkworks traces every constraint at `info` and below: enabling that costs
/// minutes per key generation.)
pub const DEFAULT_FILTER: &str =
    "warn,zktx=info,zktx_server=info,zktx_prover=info,zktx_formats=info,zktx_verifier=info";

/// `[telemetry]`: where request spans go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// An OpenTelemetry collector's OTLP/gRPC endpoint (`http://collector:4317`);
    /// absent (the default): spans are not exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// `service.name` on exported spans.
    pub service_name: String,
    /// Share of traces started here that are exported, 0.0 to 1.0 (a caller's
    /// sampling decision in `traceparent` is followed).
    pub sample_ratio: f64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "zktx".into(),
            sample_ratio: 1.0,
        }
    }
}

impl TelemetrySettings {
    /// Refuses a ratio outside 0..=1 or an endpoint that is not http(s).
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err("telemetry.sample_ratio: must be between 0.0 and 1.0".into());
        }
        if let Some(endpoint) = &self.otlp_endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(
                    "telemetry.otlp_endpoint: must be an http:// or https:// URL (OTLP/gRPC)"
                        .into(),
                );
            }
        }
        if self.service_name.is_empty() {
            return Err("telemetry.service_name: must not be empty".into());
        }
        Ok(())
    }
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The settings are not usable.
    #[error("{0}")]
    Settings(String),
    /// The OTLP exporter could not be built.
    #[error("telemetry: the OTLP exporter: {0}")]
    Exporter(String),
    /// A global subscriber is already installed.
    #[error("telemetry: a log subscriber is already installed: {0}")]
    AlreadyInstalled(String),
}

/// Logging and tracing for the process; keep it until exit, then
/// [`Telemetry::shutdown`] to flush queued spans and log lines.
pub struct Telemetry {
    _log: WorkerGuard,
    provider: SdkTracerProvider,
    exporting: bool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("exporting", &self.exporting)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// Exports the spans still queued (blocking, bounded by the exporter's
    /// timeout), then flushes the log writer.
    pub fn shutdown(self) {
        if self.exporting {
            if let Err(error) = self.provider.shutdown() {
                eprintln!("zktx: telemetry: flushing spans: {error}");
            }
        }
    }
}

/// Installs the process's JSON log subscriber and its OpenTelemetry tracing
/// layer (binaries only; filter from `ZKTX_LOG`, default [`DEFAULT_FILTER`]).
/// With an OTLP endpoint it must run inside a Tokio runtime (the exporter's
/// gRPC client lives there).
///
/// Lines go to standard error through a writer thread, so the request path
/// only formats its line and does not `write`. The writer buffers what has
/// queued up and flushes when the queue is empty. It never drops a line: a
/// request waits only once the writer is 128,000 lines behind (a reader of the
/// pipe that has stalled for that long). A `kill -9` loses the lines still
/// queued, at most the last few milliseconds' worth; receipts and usage live
/// in the store, not the log. Exported spans are batched (at most 2,048
/// queued; beyond that new spans are dropped, never the request).
pub fn init(settings: &TelemetrySettings) -> Result<Telemetry, TelemetryError> {
    settings.validate().map_err(TelemetryError::Settings)?;
    let mut provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sample_ratio,
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        );
    if let Some(endpoint) = &settings.otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        provider = provider.with_batch_exporter(exporter);
    }
    let provider = provider.build();
    let tracer = provider.tracer("zktx");
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("zktx-log-writer")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_env("ZKTX_LOG")
                .unwrap_or_else(|_| DEFAULT_FILTER.into()),
        )
        // Spans are made only when they are exported: without an endpoint,
        // log lines get their trace ids without them (see `RequestLog`).
        .with(
            settings
                .otlp_endpoint
                .is_some()
                .then(|| tracing_opentelemetry::layer().with_tracer(tracer)),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(writer),
        )
        .try_init()
        .map_err(|e| TelemetryError::AlreadyInstalled(e.to_string()))?;
    Ok(Telemetry {
        _log: guard,
        provider,
        exporting: settings.otlp_endpoint.is_some(),
    })
}

/// The caller's `traceparent` (and `tracestate`) as an extraction carrier.
struct CallerContext<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for CallerContext<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The caller's W3C trace context, when `traceparent` holds a valid one (one
/// that does not is ignored).
pub fn caller_context(
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) -> Option<opentelemetry::Context> {
    if !well_formed(traceparent?) {
        return None;
    }
    // Over an empty context: whatever is current on this thread is not the caller's.
    let context = TraceContextPropagator::new().extract_with_context(
        &opentelemetry::Context::new(),
        &CallerContext {
            traceparent,
            tracestate,
        },
    );
    let valid = context.span().span_context().is_valid();
    valid.then_some(context)
}

/// Whether `traceparent` has the W3C shape: `vv-<32 hex>-<16 hex>-ff`,
/// lower-case (the propagator alone takes a shorter trace id).
fn well_formed(traceparent: &str) -> bool {
    let lower_hex = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let parts: Vec<&str> = traceparent.split('-').collect();
    parts.len() >= 4
        && lower_hex(parts[0], 2)
        && lower_hex(parts[1], 32)
        && lower_hex(parts[2], 16)
        && lower_hex(parts[3], 2)
}

/// The request's span: a child of the caller's trace when there is one, a
/// new trace otherwise (with an OpenTelemetry layer installed).
pub fn request_span(
    method: &'static str,
    request_id: &str,
    parent: Option<&opentelemetry::Context>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = method,
        otel.kind = "server",
        request_id = %request_id,
        method,
        code = tracing::field::Empty,
        tenant = tracing::field::Empty,
        items = tracing::field::Empty,
    );
    if let Some(parent) = parent {
        let _ = span.set_parent(parent.clone());
    }
    span
}

/// A fresh W3C trace id (32 hex digits, not all zero).
fn fresh_trace_id() -> String {
    let mut bytes = [0u8; 16];
    while bytes == [0u8; 16] {
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    }
    hex::encode(bytes)
}

/// The span's trace id as 32 hex digits, or `None` without a tracing layer.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
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
    span: tracing::Span,
    /// The caller's trace id, when it sent a valid `traceparent`.
    caller_trace: Option<String>,
}

impl<'a> RequestLog<'a> {
    /// Starts timing a request, in a span that continues the caller's
    /// trace when `traceparent` carries one.
    pub fn start(
        metrics: &'a Metrics,
        method: &'static str,
        request_id: String,
        traceparent: Option<&str>,
        tracestate: Option<&str>,
    ) -> Self {
        let parent = caller_context(traceparent, tracestate);
        let span = request_span(method, &request_id, parent.as_ref());
        let caller_trace = parent.map(|c| c.span().span_context().trace_id().to_string());
        Self {
            metrics,
            method,
            request_id,
            tenant: None,
            items: 0,
            started: Instant::now(),
            span,
            caller_trace,
        }
    }

    /// The request's span.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The trace id the log line carries: the span's when spans are made
    /// (exported), else the caller's, else a fresh one.
    pub fn trace_id(&self) -> String {
        trace_id(&self.span)
            .or_else(|| self.caller_trace.clone())
            .unwrap_or_else(fresh_trace_id)
    }

    /// Records the outcome: `code` is the gRPC code name (`OK`, `INVALID_ARGUMENT`...).
    pub fn finish(self, code: &str, error: Option<&str>) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.metrics.observe(self.method, code, seconds);
        let tenant = self.tenant.as_deref().unwrap_or("-");
        self.span.record("code", code);
        self.span.record("tenant", tenant);
        self.span.record("items", self.items);
        let trace_id = self.trace_id();
        let _entered = self.span.enter();
        tracing::info!(
            request_id = %self.request_id,
            trace_id = %trace_id,
            method = self.method,
            code,
            tenant,
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

    /// Runs `f` under a subscriber with the OpenTelemetry layer (no exporter).
    fn traced<T>(f: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    #[test]
    fn a_callers_trace_context_is_continued_and_a_bad_one_ignored() {
        let caller = "4bf92f3577b34da6a3ce929d0e0e4736";
        traced(|| {
            let tp = format!("00-{caller}-00f067aa0ba902b7-01");
            let span = request_span(
                "rest.verify",
                "r1",
                caller_context(Some(&tp), None).as_ref(),
            );
            assert_eq!(trace_id(&span).as_deref(), Some(caller));
            for bad in [
                "garbage",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            ] {
                assert!(caller_context(Some(bad), None).is_none(), "{bad}");
                let span = request_span(
                    "rest.verify",
                    "r2",
                    caller_context(Some(bad), None).as_ref(),
                );
                let id = trace_id(&span).expect("a fresh trace");
                assert_eq!(id.len(), 32);
                assert_ne!(id, caller);
            }
            let a = trace_id(&request_span("grpc.Verify", "r3", None)).unwrap();
            let b = trace_id(&request_span("grpc.Verify", "r4", None)).unwrap();
            assert_ne!(a, b, "each request without a context starts its own trace");
        });
        // Without the layer (no exporter) there is no span to ask; the log
        // line still carries the caller's trace id, or a fresh one.
        let span = request_span("rest.verify", "r5", None);
        assert_eq!(trace_id(&span), None);
        let metrics = Metrics::new();
        let tp = format!("00-{caller}-00f067aa0ba902b7-01");
        let log = RequestLog::start(&metrics, "rest.verify", "r6".into(), Some(&tp), None);
        assert_eq!(log.trace_id(), caller);
        let log = RequestLog::start(&metrics, "rest.verify", "r7".into(), Some("junk"), None);
        let fresh = log.trace_id();
        assert!(fresh.len() == 32 && fresh != caller && fresh != "0".repeat(32));
    }

    #[test]
    fn telemetry_settings_are_checked() {
        assert!(TelemetrySettings::default().validate().is_ok());
        let bad_ratio = TelemetrySettings {
            sample_ratio: 1.5,
            ..TelemetrySettings::default()
        };
        assert!(bad_ratio.validate().unwrap_err().contains("sample_ratio"));
        let bad_endpoint = TelemetrySettings {
            otlp_endpoint: Some("collector:4317".into()),
            ..TelemetrySettings::default()
        };
        assert!(bad_endpoint
            .validate()
            .unwrap_err()
            .contains("otlp_endpoint"));
    }

    #[test]
    fn request_ids_are_kept_only_when_harmless() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        assert_eq!(request_id(Some("has space")).len(), 16);
        assert_eq!(request_id(None).len(), 16);
    }
}
