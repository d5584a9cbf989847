//! The named scenarios, each runnable with one flag (`zktx load --scenario NAME`).

use std::time::Duration;

use crate::client::Transport;
use crate::driver::{Limits, Pace, RampPlan};
use crate::material::Shape;
use crate::mix::Mix;
use crate::report::Objectives;

/// Calls per batch size in the `batch` scenario.
const BATCH_CALLS: u64 = 24;

/// A named scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// 300 proofs/s for 60 s of unary calls with the chaos mix; objectives:
    /// server CPU below 70% of the machine, error rate below 0.2%; p95 reported.
    Pilot,
    /// Closed-loop `VerifyBatch` calls of 100, 200 and 500 valid proofs; p95 per batch.
    Batch,
    /// An open-loop ramp of unary calls (1000 calls/s, x1.25 every 4 s) that
    /// reports the knee in proofs/s.
    Max,
}

impl std::str::FromStr for Scenario {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "pilot" => Ok(Self::Pilot),
            "batch" => Ok(Self::Batch),
            "max" => Ok(Self::Max),
            _ => Err(format!("scenario `{text}`: expected pilot, batch or max")),
        }
    }
}

/// One part of a scenario.
#[derive(Clone, Debug)]
pub enum Step {
    /// A run with objectives.
    Run {
        /// The run's name in reports.
        name: String,
        /// How calls reach the server.
        transport: Transport,
        /// The traffic mix.
        mix: Mix,
        /// Open or closed loop.
        pace: Pace,
        /// Bounds.
        limits: Limits,
        /// What the run must meet.
        objectives: Objectives,
    },
    /// A ramp of open-loop unary steps of valid proofs until one does not hold.
    Ramp(RampPlan),
}

impl Scenario {
    /// The scenario's parts; `scale` (0 to 1] shortens every duration (for
    /// smoke tests and short pilots).
    pub fn steps(self, scale: f64) -> Vec<Step> {
        let scale = scale.clamp(0.001, 1.0);
        let secs = |s: f64| Duration::from_secs_f64(s * scale);
        match self {
            Scenario::Pilot => vec![Step::Run {
                name: "pilot: 300 proofs/s, unary, chaos mix".into(),
                transport: Transport::Unary,
                mix: Mix::chaos(),
                pace: Pace::Open { rate: 300.0 },
                limits: Limits {
                    duration: secs(60.0),
                    max_calls: (300.0 * 60.0 * scale).ceil() as u64,
                    call_timeout: Duration::from_secs(30),
                },
                objectives: Objectives {
                    max_cpu: Some(0.70),
                    max_error_rate: Some(0.002),
                    ..Objectives::default()
                },
            }],
            Scenario::Batch => [100, 200, 500]
                .into_iter()
                .map(|size| Step::Run {
                    name: format!("batch: VerifyBatch of {size}, 2 callers"),
                    transport: Transport::Batch(size),
                    mix: Mix::valid_only(),
                    pace: Pace::Closed { callers: 2 },
                    limits: Limits {
                        duration: secs(20.0),
                        max_calls: (BATCH_CALLS as f64 * scale).ceil() as u64,
                        call_timeout: Duration::from_secs(60),
                    },
                    objectives: Objectives {
                        max_error_rate: Some(0.0),
                        ..Objectives::default()
                    },
                })
                .collect(),
            Scenario::Max => vec![Step::Ramp(RampPlan {
                start: 1000.0,
                factor: 1.25,
                max_steps: 8,
                step: secs(4.0),
                p99_ms: 50.0,
                max_error_rate: 0.0,
            })],
        }
    }

    /// The material the scenario needs at `scale` for its proofs to be fresh work.
    pub fn shape(self, statements: usize, scale: f64) -> Shape {
        let scale = scale.clamp(0.001, 1.0);
        let scaled = |n: f64| (n * scale).ceil() as usize;
        match self {
            Scenario::Pilot => Shape::for_proofs(scaled(18_000.0), statements),
            Scenario::Batch => Shape::for_batches(3 * scaled(BATCH_CALLS as f64), 500),
            // Eight 4 s steps from 1000 calls/s, x1.25 each: about 64,000 calls.
            Scenario::Max => Shape::for_proofs(scaled(64_000.0), statements),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_parse_and_scale() {
        assert_eq!("pilot".parse(), Ok(Scenario::Pilot));
        assert!("soak".parse::<Scenario>().is_err());
        let Step::Run {
            limits, objectives, ..
        } = &Scenario::Pilot.steps(1.0)[0]
        else {
            panic!("the pilot is one run");
        };
        assert_eq!(limits.max_calls, 18_000);
        assert_eq!(limits.duration, Duration::from_secs(60));
        assert_eq!(objectives.max_cpu, Some(0.70));
        let Step::Run { limits, .. } = &Scenario::Pilot.steps(0.1)[0] else {
            panic!("the pilot is one run");
        };
        assert_eq!(limits.max_calls, 1_800);
        assert_eq!(Scenario::Batch.steps(1.0).len(), 3);
    }
}
