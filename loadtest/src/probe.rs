//! What the server says about itself, sampled from its Prometheus `/metrics`:
//! CPU seconds (for its utilisation over a run), resident memory and queue depth.

use serde::Serialize;

/// One sample of the server's own gauges and counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ServerSample {
    /// CPU seconds (user + system) the server process has used.
    pub cpu_seconds: f64,
    /// Resident memory in bytes.
    pub resident_bytes: f64,
    /// Proofs queued or being verified.
    pub queue_depth: f64,
}

impl ServerSample {
    /// Reads the sample from Prometheus text; a metric that is absent reads as 0.
    pub fn parse(text: &str) -> Self {
        let value = |suffix: &str| {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once(' '))
                .find(|(name, _)| name.ends_with(suffix))
                .and_then(|(_, v)| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Self {
            cpu_seconds: Some(value("server_cpu_seconds"))
                .filter(|v| *v > 0.0)
                .unwrap_or_else(|| value("process_cpu_seconds_total")),
            resident_bytes: value("process_resident_memory_bytes"),
            queue_depth: value("queue_depth_proofs"),
        }
    }
}

/// The server's CPU use between two samples, as a fraction of the machine
/// (1.0 = every core busy throughout); the server is on this machine (loopback).
pub fn cpu_utilisation(before: &ServerSample, after: &ServerSample, wall_seconds: f64) -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if wall_seconds <= 0.0 {
        return 0.0;
    }
    ((after.cpu_seconds - before.cpu_seconds) / wall_seconds / cores).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_process_collector_and_queue_gauge() {
        let text = "# HELP zktx_process_cpu_seconds_total Total user and system CPU time.\n\
                    # TYPE zktx_process_cpu_seconds_total counter\n\
                    zktx_process_cpu_seconds_total 12.5\n\
                    zktx_process_resident_memory_bytes 1.048576e+06\n\
                    zktx_queue_depth_proofs 3\n";
        let s = ServerSample::parse(text);
        assert_eq!(s.cpu_seconds, 12.5);
        assert_eq!(s.resident_bytes, 1_048_576.0);
        assert_eq!(s.queue_depth, 3.0);
        assert_eq!(ServerSample::parse(""), ServerSample::default());
    }

    #[test]
    fn utilisation_is_a_share_of_the_machine() {
        let cores = std::thread::available_parallelism().unwrap().get() as f64;
        let a = ServerSample::default();
        let b = ServerSample {
            cpu_seconds: cores,
            ..a
        };
        assert!((cpu_utilisation(&a, &b, 2.0) - 0.5).abs() < 1e-9);
        assert_eq!(cpu_utilisation(&a, &b, 0.0), 0.0);
    }
}
