//! Prometheus metrics, on a registry of the server's own (so two servers in one
//! process, as in tests, never share counters). Labels are methods, status
//! codes and verdicts only: never a tenant's key, a proof or an input.

use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The server's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method and status code.
    pub requests: IntCounterVec,
    /// Request latency by method (seconds).
    pub latency: HistogramVec,
    /// Proofs per verified batch.
    pub batch_size: Histogram,
    /// Proofs queued or being verified.
    pub queue_depth: IntGauge,
    /// The most proofs the queue holds (`batch.queue_capacity`): depth over
    /// capacity is its saturation.
    pub queue_capacity: IntGauge,
    /// Verdict-cache hits and misses in front of the queue.
    pub cache: IntCounterVec,
    /// Batch verification time divided by its proofs (seconds).
    pub verify_per_proof: Histogram,
    /// Receipts issued, by verdict.
    pub receipts: IntCounterVec,
    /// Requests answered with an earlier receipt (not metered).
    pub replays: IntCounter,
    /// Callers shed because the queue was full.
    pub shed: IntCounter,
    /// Open connections by listener (`grpc`, `http`).
    pub connections_open: IntGaugeVec,
    /// Connections closed at the cap to admit new ones, by listener.
    pub connections_evicted: IntCounterVec,
    /// Connections closed after the idle timeout, by listener.
    pub connections_idle_closed: IntCounterVec,
    /// Admission decisions by outcome (`allowed`, `waived`, `denied`,
    /// `failed`) and, for denials, the rule (`-` otherwise).
    pub policy_decisions: IntCounterVec,
    /// Always 1, labelled with the policy bundle's SHA-256 and version and
    /// the server's profile: which policy answers.
    pub policy_info: IntGaugeVec,
    /// Entitlement decisions by feature and outcome (`on`, `off`).
    pub entitlement_decisions: IntCounterVec,
    /// Quota refusals by reason (`rate_limit`, `daily_quota`).
    pub quota_denials: IntCounterVec,
    /// Receipt store group commits: transaction, fsync and signed audit head (seconds).
    pub store_commit_seconds: Histogram,
    /// Always 1 per verifying key loaded, labelled with its tier,
    /// fingerprint and origin (`dev`, `single-party`, `ceremony`).
    pub verifying_key_info: IntGaugeVec,
    /// CPU seconds this process has used, to 10 ms (the process collector's
    /// counter has whole seconds); refreshed on every scrape.
    pub cpu_seconds: prometheus::Gauge,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

impl Metrics {
    /// Fresh metrics on their own registry.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("zktx".into()), None).expect("valid prefix");
        // CPU seconds, memory and file descriptors of this process (Linux):
        // what a load run samples to report the server's CPU utilisation.
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("registered once per registry");
        let requests = register(
            &registry,
            IntCounterVec::new(
                Opts::new("requests_total", "Requests by method and status code."),
                &["method", "code"],
            )
            .expect("valid metric"),
        );
        let latency = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new("request_duration_seconds", "Request latency by method.")
                    .buckets(exponential_buckets(0.0005, 2.0, 16).expect("valid buckets")),
                &["method"],
            )
            .expect("valid metric"),
        );
        let batch_size = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new("batch_size_proofs", "Proofs per verified batch.")
                    .buckets(exponential_buckets(1.0, 2.0, 12).expect("valid buckets")),
            )
            .expect("valid metric"),
        );
        let queue_depth = register(
            &registry,
            IntGauge::new("queue_depth_proofs", "Proofs queued or being verified.")
                .expect("valid metric"),
        );
        let queue_capacity = register(
            &registry,
            IntGauge::new(
                "queue_capacity_proofs",
                "The most proofs the queue holds; beyond it callers are shed.",
            )
            .expect("valid metric"),
        );
        let cache = register(
            &registry,
            IntCounterVec::new(
                Opts::new("verdict_cache_total", "Verdict-cache lookups by result."),
                &["result"],
            )
            .expect("valid metric"),
        );
        let verify_per_proof = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new(
                    "verify_seconds_per_proof",
                    "Batch verification time per proof.",
                )
                .buckets(exponential_buckets(0.00005, 1.5, 16).expect("valid buckets")),
            )
            .expect("valid metric"),
        );
        let receipts = register(
            &registry,
            IntCounterVec::new(
                Opts::new("receipts_total", "Receipts issued by verdict."),
                &["verdict"],
            )
            .expect("valid metric"),
        );
        let replays = register(
            &registry,
            IntCounter::new(
                "replays_total",
                "Requests answered with an earlier valid receipt.",
            )
            .expect("valid metric"),
        );
        let shed = register(
            &registry,
            IntCounter::new("shed_total", "Requests shed because the queue was full.")
                .expect("valid metric"),
        );
        let cpu_seconds = register(
            &registry,
            prometheus::Gauge::new(
                "server_cpu_seconds",
                "CPU seconds (user + system) used by the server process, to 10 ms.",
            )
            .expect("valid metric"),
        );
        let listener_counter = |name: &str, help: &str| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), &["listener"]).expect("valid metric"),
            )
        };
        let connections_evicted = listener_counter(
            "connections_evicted_total",
            "Connections closed at the connection cap to admit new ones.",
        );
        let connections_idle_closed = listener_counter(
            "connections_idle_closed_total",
            "Connections closed after the idle timeout.",
        );
        let connections_open = register(
            &registry,
            IntGaugeVec::new(
                Opts::new("connections_open", "Open connections by listener."),
                &["listener"],
            )
            .expect("valid metric"),
        );
        let policy_decisions = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "policy_decisions_total",
                    "Admission policy decisions by outcome and (for denials) rule.",
                ),
                &["outcome", "rule"],
            )
            .expect("valid metric"),
        );
        let policy_info = register(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "policy_info",
                    "The admission policy bundle in force (always 1).",
                ),
                &["sha256", "version", "profile"],
            )
            .expect("valid metric"),
        );
        let entitlement_decisions = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "entitlement_decisions_total",
                    "Plan feature decisions by feature and outcome (on, off).",
                ),
                &["feature", "outcome"],
            )
            .expect("valid metric"),
        );
        let quota_denials = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "quota_denials_total",
                    "Calls refused by a tenant's rate limit or daily quota, by reason.",
                ),
                &["reason"],
            )
            .expect("valid metric"),
        );
        let store_commit_seconds = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new(
                    "store_commit_seconds",
                    "Receipt store group commit time (transaction, fsync, signed audit head).",
                )
                .buckets(exponential_buckets(0.0001, 2.0, 16).expect("valid buckets")),
            )
            .expect("valid metric"),
        );
        let verifying_key_info = register(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "verifying_key_info",
                    "Verifying keys loaded (always 1), by tier, fingerprint and origin.",
                ),
                &["tier", "fingerprint", "origin"],
            )
            .expect("valid metric"),
        );
        // Series whose label values are known up front start at zero, so
        // rates and alerts over them work before the first event.
        for reason in ["rate_limit", "daily_quota"] {
            quota_denials.with_label_values(&[reason]);
        }
        for result in ["hit", "miss"] {
            cache.with_label_values(&[result]);
        }
        for listener in ["grpc", "http"] {
            connections_open.with_label_values(&[listener]);
            connections_evicted.with_label_values(&[listener]);
            connections_idle_closed.with_label_values(&[listener]);
        }
        for feature in zktx_governance::entitlements::Feature::ALL {
            for outcome in ["on", "off"] {
                entitlement_decisions.with_label_values(&[feature.name(), outcome]);
            }
        }
        Self {
            quota_denials,
            store_commit_seconds,
            verifying_key_info,
            policy_decisions,
            policy_info,
            entitlement_decisions,
            cpu_seconds,
            connections_open,
            connections_evicted,
            connections_idle_closed,
            registry,
            requests,
            latency,
            batch_size,
            queue_depth,
            queue_capacity,
            cache,
            verify_per_proof,
            receipts,
            replays,
            shed,
        }
    }

    /// Counts one finished request.
    pub fn observe(&self, method: &str, code: &str, seconds: f64) {
        self.requests.with_label_values(&[method, code]).inc();
        self.latency.with_label_values(&[method]).observe(seconds);
    }

    /// Counts one finished item of a stream (its latency is the stream's, not timed here).
    pub fn count(&self, method: &str, code: &str) {
        self.requests.with_label_values(&[method, code]).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        if let Some(seconds) = process_cpu_seconds() {
            self.cpu_seconds.set(seconds);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("text exposition is UTF-8")
    }
}

/// User + system CPU seconds of this process, from `/proc/self/stat` (Linux;
/// clock ticks of 10 ms).
pub fn process_cpu_seconds() -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// User + system CPU seconds in the text of a `/proc/<pid>/stat` (or
/// `/proc/<pid>/task/<tid>/stat`) file.
pub fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    // Fields after the parenthesised command name; utime and stime are 12 and 13.
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.observe("Verify", "OK", 0.002);
        m.batch_size.observe(7.0);
        let text = m.render();
        assert!(
            text.contains("zktx_requests_total{code=\"OK\",method=\"Verify\"} 1"),
            "{text}"
        );
        assert!(text.contains("zktx_batch_size_proofs_bucket"));
    }
}
