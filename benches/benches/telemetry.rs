//! What a request's telemetry costs, in one run: `RequestLog::start` +
//! `finish` (metrics, the span, the JSON log line with its trace id, written
//! to a sink) with no subscriber; with the JSON log layer only (the default
//! service: no exporter, so no OpenTelemetry span, a caller's or fresh trace
//! id); and with the OpenTelemetry layer too (the service exporting over
//! OTLP: a span per request; the exporter's batching is off this path), then
//! with a caller's `traceparent` to continue. The unary cache-hit phase of
//! the service bench gives the whole request's cost to compare with.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use zktx_server::metrics::Metrics;
use zktx_server::telemetry::{RequestLog, DEFAULT_FILTER};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn request(metrics: &Metrics, traceparent: Option<&str>) {
    let mut log = RequestLog::start(
        metrics,
        "grpc.Verify",
        "0123456789abcdef".into(),
        traceparent,
        None,
    );
    log.tenant = Some("acme".into());
    log.items = 1;
    log.finish("OK", None);
}

fn json_log<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(std::io::sink)
}

fn telemetry(c: &mut Criterion) {
    let metrics = Metrics::new();
    let mut group = c.benchmark_group("telemetry/request");
    group.bench_function("no subscriber", |b| b.iter(|| request(&metrics, None)));
    let logs = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
        .with(json_log());
    tracing::subscriber::with_default(logs, || {
        group.bench_function("json log (default)", |b| b.iter(|| request(&metrics, None)));
        group.bench_function("json log (default), caller's traceparent", |b| {
            b.iter(|| request(&metrics, Some(TRACEPARENT)))
        });
    });
    let provider = SdkTracerProvider::builder().build();
    let traced = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
        .with(json_log())
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    tracing::subscriber::with_default(traced, || {
        group.bench_function("json log + exported span", |b| {
            b.iter(|| request(&metrics, None))
        });
        group.bench_function("json log + exported span, caller's traceparent", |b| {
            b.iter(|| request(&metrics, Some(TRACEPARENT)))
        });
    });
    group.finish();
}

criterion_group!(benches, telemetry);
criterion_main!(benches);
