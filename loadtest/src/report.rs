//! What a run measured: latency from an HDR histogram, throughput, answers by
//! kind and status, errors (wrong answers and server faults), the server's
//! CPU; printed as a table and written as JSON; checked against objectives.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::mix::{Answer, Kind};
use crate::probe::{cpu_utilisation, ServerSample};

/// Collects answers and latencies while a run goes on (shared by its tasks).
pub struct Recorder {
    inner: Mutex<Tally>,
}

struct Tally {
    latency_us: Histogram<u64>,
    answers: BTreeMap<(Kind, Answer), u64>,
    calls: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Tally {
                // 1 µs to 10 minutes at 3 significant digits.
                latency_us: Histogram::new_with_bounds(1, 600_000_000, 3)
                    .expect("valid histogram bounds"),
                answers: BTreeMap::new(),
                calls: 0,
            }),
        }
    }
}

impl Recorder {
    /// Records one answered call of `kind` that took `latency` (measured from
    /// its scheduled time in an open loop), with one answer per proof.
    /// Disconnected calls record their answers but no latency.
    pub fn record(&self, kind: Kind, latency: Duration, answers: &[Answer]) {
        let mut tally = self.inner.lock().expect("recorder lock");
        tally.calls += 1;
        if kind != Kind::Disconnect {
            let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            tally.latency_us.saturating_record(us.max(1));
        }
        for answer in answers {
            *tally.answers.entry((kind, *answer)).or_default() += 1;
        }
    }

    /// Calls recorded so far.
    pub fn calls(&self) -> u64 {
        self.inner.lock().expect("recorder lock").calls
    }

    /// The report of everything recorded, over `wall` seconds.
    pub fn report(&self, name: &str, wall: Duration, offered: Option<f64>) -> Report {
        let tally = self.inner.lock().expect("recorder lock");
        let h = &tally.latency_us;
        let ms = |us: u64| us as f64 / 1e3;
        let mut by_kind: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let (mut proofs, mut answered_ok, mut replays, mut wrong, mut faults) = (0, 0, 0, 0, 0);
        for ((kind, answer), count) in &tally.answers {
            *by_kind
                .entry(kind.name().into())
                .or_default()
                .entry(answer.label().into())
                .or_default() += count;
            proofs += count;
            if answer.satisfies(kind.expected()) {
                match answer {
                    Answer::Valid | Answer::Invalid => answered_ok += count,
                    Answer::Replayed => replays += count,
                    _ => {}
                }
            } else if answer.is_server_fault() {
                faults += count;
            } else if *kind != Kind::Disconnect {
                wrong += count;
            }
        }
        let seconds = wall.as_secs_f64().max(1e-9);
        Report {
            name: name.to_string(),
            offered_per_sec: offered,
            seconds,
            calls: tally.calls,
            proofs,
            verdicts_per_sec: answered_ok as f64 / seconds,
            replays,
            latency_ms: Latency {
                p50: ms(h.value_at_quantile(0.50)),
                p95: ms(h.value_at_quantile(0.95)),
                p99: ms(h.value_at_quantile(0.99)),
                max: ms(h.max()),
                mean: h.mean() / 1e3,
            },
            answers: by_kind,
            wrong_answers: wrong,
            server_faults: faults,
            error_rate: (wrong + faults) as f64 / proofs.max(1) as f64,
            server_cpu: None,
            server_cpu_us_per_proof: None,
            client_cpu_us_per_call: None,
            direct_proofs_per_sec: None,
            ratio_to_direct: None,
            server_before: None,
            server_after: None,
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// The result of one run (or one step of a ramp).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What ran.
    pub name: String,
    /// The open-loop rate in calls per second, if there was one.
    pub offered_per_sec: Option<f64>,
    /// Wall time.
    pub seconds: f64,
    /// Calls made.
    pub calls: u64,
    /// Proofs sent (a batch call sends many).
    pub proofs: u64,
    /// Proofs freshly verified with the verdict they should get, per second
    /// (replays not counted).
    pub verdicts_per_sec: f64,
    /// Valid answers that were replays of a statement the tenant already had
    /// verified (no verification done): a run's fresh proofs ran out, or the
    /// mix asked for repeats.
    pub replays: u64,
    /// Latency per call.
    pub latency_ms: Latency,
    /// Answers (per proof) by kind of request, then by verdict or status.
    pub answers: BTreeMap<String, BTreeMap<String, u64>>,
    /// Proofs that got a verdict or status other than their kind must get
    /// (a wrong verdict, or a refusal the mix did not ask for).
    pub wrong_answers: u64,
    /// Proofs the server failed on (internal errors, shedding, deadlines).
    pub server_faults: u64,
    /// (wrong answers + server faults) / proofs.
    pub error_rate: f64,
    /// The server's CPU use over the run, as a share of the machine.
    pub server_cpu: Option<f64>,
    /// The server's CPU time per proof sent, in core-microseconds.
    pub server_cpu_us_per_proof: Option<f64>,
    /// The load generator's own CPU time per call, in core-microseconds.
    pub client_cpu_us_per_call: Option<f64>,
    /// The direct batch verifier's rate on this machine, measured in the same run.
    pub direct_proofs_per_sec: Option<f64>,
    /// `verdicts_per_sec` over `direct_proofs_per_sec`.
    pub ratio_to_direct: Option<f64>,
    /// The server's gauges before the run.
    pub server_before: Option<ServerSample>,
    /// The server's gauges after the run (and after the queue drained).
    pub server_after: Option<ServerSample>,
}

impl Report {
    /// Adds what needs more than the answers: the server's CPU between two
    /// samples of it, the generator's own CPU seconds over the run, and the
    /// direct batch rate measured on this machine.
    pub fn add_costs(
        &mut self,
        server: Option<(&ServerSample, &ServerSample)>,
        client_cpu_seconds: Option<f64>,
        direct_proofs_per_sec: Option<f64>,
    ) {
        if let Some((before, after)) = server {
            self.server_cpu = Some(cpu_utilisation(before, after, self.seconds));
            let spent = (after.cpu_seconds - before.cpu_seconds).max(0.0);
            self.server_cpu_us_per_proof =
                (self.proofs > 0).then(|| spent * 1e6 / self.proofs as f64);
        }
        self.client_cpu_us_per_call = client_cpu_seconds
            .filter(|_| self.calls > 0)
            .map(|s| s.max(0.0) * 1e6 / self.calls as f64);
        self.direct_proofs_per_sec = direct_proofs_per_sec.filter(|d| *d > 0.0);
        self.ratio_to_direct = self
            .direct_proofs_per_sec
            .map(|d| self.verdicts_per_sec / d);
    }

    /// Prints the report as a short table.
    pub fn print(&self) {
        println!("\n{}", self.name);
        let offered = self
            .offered_per_sec
            .map_or(String::new(), |r| format!(" (offered {r:.0} calls/s)"));
        println!(
            "  {} calls, {} proofs in {:.1} s{offered}; {:.0} correct fresh verdicts/s, {} replays",
            self.calls, self.proofs, self.seconds, self.verdicts_per_sec, self.replays
        );
        let l = &self.latency_ms;
        println!(
            "  latency ms  p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}  mean {:.1}",
            l.p50, l.p95, l.p99, l.max, l.mean
        );
        for (kind, answers) in &self.answers {
            let parts: Vec<String> = answers.iter().map(|(a, n)| format!("{a} {n}")).collect();
            println!("  {kind:<11} {}", parts.join(", "));
        }
        println!(
            "  errors      {} wrong answers, {} server faults: rate {:.4}%",
            self.wrong_answers,
            self.server_faults,
            self.error_rate * 100.0
        );
        if let Some(cpu) = self.server_cpu {
            println!("  server CPU  {:.1}% of the machine", cpu * 100.0);
        }
        if let (Some(ratio), Some(direct)) = (self.ratio_to_direct, self.direct_proofs_per_sec) {
            println!(
                "  vs direct   {ratio:.2} of the direct batch verifier ({direct:.0} proofs/s on this machine, same run)"
            );
        }
        let per = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        if self.client_cpu_us_per_call.is_some() || self.server_cpu_us_per_proof.is_some() {
            println!(
                "  CPU cost    client {} core-µs per call, server {} core-µs per proof",
                per(self.client_cpu_us_per_call),
                per(self.server_cpu_us_per_proof)
            );
        }
        if let (Some(before), Some(after)) = (&self.server_before, &self.server_after) {
            println!(
                "  server      queue {} -> {} proofs, resident memory {:.0} -> {:.0} MiB",
                before.queue_depth,
                after.queue_depth,
                before.resident_bytes / 1048576.0,
                after.resident_bytes / 1048576.0
            );
        }
    }
}

/// Objectives a run must meet; each unset one is not checked.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Objectives {
    /// Largest p95 latency, ms.
    pub p95_ms: Option<f64>,
    /// Largest p99 latency, ms.
    pub p99_ms: Option<f64>,
    /// Largest error rate (0 to 1).
    pub max_error_rate: Option<f64>,
    /// Largest server CPU share of the machine (0 to 1).
    pub max_cpu: Option<f64>,
}

impl Objectives {
    /// The objectives `report` misses, each as a sentence.
    pub fn missed(&self, report: &Report) -> Vec<String> {
        let mut missed = Vec::new();
        if let Some(limit) = self.p95_ms.filter(|l| report.latency_ms.p95 > *l) {
            missed.push(format!(
                "p95 latency {:.1} ms is over {limit} ms",
                report.latency_ms.p95
            ));
        }
        if let Some(limit) = self.p99_ms.filter(|l| report.latency_ms.p99 > *l) {
            missed.push(format!(
                "p99 latency {:.1} ms is over {limit} ms",
                report.latency_ms.p99
            ));
        }
        if let Some(limit) = self.max_error_rate.filter(|l| report.error_rate > *l) {
            missed.push(format!(
                "error rate {:.4}% is over {:.4}%",
                report.error_rate * 100.0,
                limit * 100.0
            ));
        }
        match (self.max_cpu, report.server_cpu) {
            (Some(limit), Some(cpu)) if cpu > limit => missed.push(format!(
                "server CPU {:.1}% is over {:.1}%",
                cpu * 100.0,
                limit * 100.0
            )),
            (Some(_), None) => missed.push("server CPU was not measured".into()),
            _ => {}
        }
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_wrong_answers_and_faults_but_not_asked_for_refusals() {
        let r = Recorder::default();
        let ms = Duration::from_millis;
        r.record(Kind::Valid, ms(10), &[Answer::Valid, Answer::Valid]);
        r.record(
            Kind::Malformed,
            ms(1),
            &[Answer::Status("INVALID_ARGUMENT")],
        );
        r.record(
            Kind::OverQuota,
            ms(1),
            &[Answer::Status("RESOURCE_EXHAUSTED")],
        );
        r.record(Kind::Invalid, ms(20), &[Answer::Valid]); // a wrong verdict
        r.record(Kind::Valid, ms(30), &[Answer::Status("UNAVAILABLE")]); // a fault
        r.record(Kind::Disconnect, ms(900), &[Answer::Gone]);
        r.record(Kind::Repeated, ms(2), &[Answer::Replayed]);
        let report = r.report("t", Duration::from_secs(1), None);
        assert_eq!(report.calls, 7);
        assert_eq!(report.proofs, 8);
        assert_eq!(report.replays, 1);
        assert_eq!(report.wrong_answers, 1);
        assert_eq!(report.server_faults, 1);
        assert!((report.error_rate - 2.0 / 8.0).abs() < 1e-12);
        assert_eq!(report.verdicts_per_sec, 2.0);
        // The disconnect's 900 ms is not a latency.
        assert!(report.latency_ms.max < 31.0, "{}", report.latency_ms.max);
        assert_eq!(report.answers["valid"]["valid"], 2);
    }

    #[test]
    fn costs_are_per_call_per_proof_and_against_the_direct_rate() {
        let r = Recorder::default();
        for _ in 0..4 {
            r.record(
                Kind::Valid,
                Duration::from_millis(1),
                &[Answer::Valid, Answer::Valid],
            );
        }
        let mut report = r.report("t", Duration::from_secs(2), None);
        let before = ServerSample::default();
        let after = ServerSample {
            cpu_seconds: 0.004,
            ..before
        };
        report.add_costs(Some((&before, &after)), Some(0.0001), Some(16.0));
        assert!((report.server_cpu_us_per_proof.unwrap() - 500.0).abs() < 1e-9);
        assert!((report.client_cpu_us_per_call.unwrap() - 25.0).abs() < 1e-9);
        assert!((report.ratio_to_direct.unwrap() - 0.25).abs() < 1e-12);
        report.add_costs(None, None, None);
        assert_eq!(report.ratio_to_direct, None);
    }

    #[test]
    fn objectives_name_what_was_missed() {
        let r = Recorder::default();
        r.record(Kind::Valid, Duration::from_millis(80), &[Answer::Valid]);
        let mut report = r.report("t", Duration::from_secs(1), None);
        let objectives = Objectives {
            p95_ms: Some(50.0),
            p99_ms: Some(100.0),
            max_error_rate: Some(0.0),
            max_cpu: Some(0.7),
        };
        let missed = objectives.missed(&report);
        assert_eq!(missed.len(), 2, "{missed:?}"); // p95, and CPU not measured
        report.server_cpu = Some(0.9);
        assert!(objectives.missed(&report)[1].contains("CPU 90.0%"));
        assert!(Objectives::default().missed(&report).is_empty());
    }
}
