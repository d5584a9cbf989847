//! The gate: a bundle loaded into the Rego engine, a decision cache, and
//! waivers applied at each decision.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::bundle::{PolicyBundle, DECISION_RULE};
use super::error::PolicyError;
use super::input::{Method, PolicyInput, Transport};
use super::waiver::WaiverUse;
use crate::profile::Profile;

/// Decisions kept: one per distinct input (tenant, plan, tier, k, batch
/// size, transport, method, profile, key origin); the least used go first.
pub const CACHE_ENTRIES: u64 = 100_000;

/// One evaluation may run this long before it is stopped (and denies).
pub const EVALUATION_LIMIT: Duration = Duration::from_millis(200);

/// The rule named by the denial a failed evaluation gives.
pub const FAILURE_RULE: &str = "policy-evaluation-failed";

/// One reason a request is refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denial {
    /// The rule's name (what a waiver names).
    pub rule: String,
    /// A sentence the caller can act on.
    pub reason: String,
}

/// How a decision came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No rule refused.
    Allowed,
    /// Rules refused, and unexpired waivers lifted every one.
    Waived,
    /// At least one rule refused.
    Denied,
    /// The policy could not be evaluated: refused (fail-closed).
    Failed,
}

/// The gate's answer for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// How it came about.
    pub outcome: Outcome,
    /// What refuses the request (empty when allowed).
    pub denials: Vec<Denial>,
    /// Waivers that lifted a denial (to be audited).
    pub waived: Vec<WaiverUse>,
    /// Why evaluation failed, for the operator's log (never sent to the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Decision {
    /// Whether the request may go on.
    pub fn allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allowed | Outcome::Waived)
    }

    /// The reasons the caller receives, one per denial.
    pub fn reasons(&self) -> Vec<String> {
        self.denials.iter().map(|d| d.reason.clone()).collect()
    }

    fn failed(error: &PolicyError) -> Self {
        Self {
            outcome: Outcome::Failed,
            denials: vec![Denial {
                rule: FAILURE_RULE.into(),
                reason: "the admission policy could not be evaluated, so the request is refused \
                         (fail-closed); the operator has been alerted"
                    .into(),
            }],
            waived: Vec::new(),
            failure: Some(error.to_string()),
        }
    }
}

/// The decision rule's value: `{"denials": [{"rule", "reason"}, ...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    denials: Vec<Denial>,
}

/// A bundle loaded into the engine, ready to decide.
pub struct PolicyGate {
    bundle: PolicyBundle,
    engine: Mutex<Engine>,
    cache: moka::sync::Cache<PolicyInput, Arc<[Denial]>>,
    failures: AtomicU64,
}

impl std::fmt::Debug for PolicyGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyGate")
            .field("bundle_sha256", &self.bundle.sha256())
            .field("version", &self.bundle.version())
            .finish_non_exhaustive()
    }
}

impl PolicyGate {
    /// Loads `bundle` into a Rego engine (v1 syntax, builtin errors are
    /// errors, each evaluation bounded by [`EVALUATION_LIMIT`]) and checks it
    /// by deciding a probe input: a policy that does not parse, or whose
    /// decision is not of the documented shape, is refused here, at start.
    pub fn new(bundle: PolicyBundle) -> Result<Self, PolicyError> {
        let mut engine = Engine::new();
        engine.set_strict_builtin_errors(true);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: EVALUATION_LIMIT,
            check_interval: NonZeroU32::new(64).expect("64 is not zero"),
        });
        for (name, source) in bundle.policies() {
            engine
                .add_policy(name.to_string(), source.to_string())
                .map_err(|e| PolicyError::Parse {
                    file: name.to_string(),
                    message: e.to_string(),
                })?;
        }
        let data = Value::from_json_str(&bundle.data().to_string())
            .map_err(|e| PolicyError::data(super::bundle::DATA_FILE, e.to_string()))?;
        engine
            .add_data(data)
            .map_err(|e| PolicyError::data(super::bundle::DATA_FILE, e.to_string()))?;
        let gate = Self {
            bundle,
            engine: Mutex::new(engine),
            cache: moka::sync::Cache::new(CACHE_ENTRIES),
            failures: AtomicU64::new(0),
        };
        gate.evaluate(&probe())?;
        Ok(gate)
    }

    /// The bundle the gate decides with.
    pub fn bundle(&self) -> &PolicyBundle {
        &self.bundle
    }

    /// Evaluations that failed (each denied) since the gate was made.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Decides `input` now.
    pub fn decide(&self, input: &PolicyInput) -> Decision {
        self.decide_at(input, OffsetDateTime::now_utc())
    }

    /// Decides `input` at `now`: the policy's denials (cached per input),
    /// then each lifted by a waiver unexpired at `now`, if one covers it.
    pub fn decide_at(&self, input: &PolicyInput, now: OffsetDateTime) -> Decision {
        let denials = match self.cache.get(input) {
            Some(denials) => denials,
            None => match self.evaluate(input) {
                Ok(denials) => {
                    let denials: Arc<[Denial]> = denials.into();
                    self.cache.insert(input.clone(), denials.clone());
                    denials
                }
                Err(error) => {
                    // Failures are not cached: each is counted and logged.
                    self.failures.fetch_add(1, Ordering::Relaxed);
                    return Decision::failed(&error);
                }
            },
        };
        let mut decision = Decision {
            outcome: Outcome::Allowed,
            denials: Vec::new(),
            waived: Vec::new(),
            failure: None,
        };
        for denial in denials.iter() {
            match self.bundle.waivers().find(denial, input, now) {
                Some(waiver) => decision.waived.push(WaiverUse {
                    waiver: waiver.id.clone(),
                    rule: denial.rule.clone(),
                    owner: waiver.owner.clone(),
                }),
                None => decision.denials.push(denial.clone()),
            }
        }
        decision.outcome = match (decision.denials.is_empty(), decision.waived.is_empty()) {
            (false, _) => Outcome::Denied,
            (true, false) => Outcome::Waived,
            (true, true) => Outcome::Allowed,
        };
        decision
    }

    /// The policy's denials for `input`, before waivers and without the
    /// cache (sorted by rule, then reason).
    pub fn evaluate(&self, input: &PolicyInput) -> Result<Vec<Denial>, PolicyError> {
        let json =
            serde_json::to_string(input).map_err(|e| PolicyError::Evaluation(e.to_string()))?;
        let input =
            Value::from_json_str(&json).map_err(|e| PolicyError::Evaluation(e.to_string()))?;
        let value = {
            let mut engine = self
                .engine
                .lock()
                .map_err(|_| PolicyError::Evaluation("the engine's lock is poisoned".into()))?;
            engine.set_input(input);
            engine
                .eval_rule(DECISION_RULE.to_string())
                .map_err(|e| PolicyError::Evaluation(e.to_string()))?
        };
        if value == Value::Undefined {
            return Err(PolicyError::Shape(format!("{DECISION_RULE} is undefined")));
        }
        let text = value
            .to_json_str()
            .map_err(|e| PolicyError::Shape(e.to_string()))?;
        let raw: RawDecision = serde_json::from_str(&text).map_err(|e| {
            PolicyError::Shape(format!(
                "{DECISION_RULE} must be {{\"denials\": [{{\"rule\": string, \"reason\": string}}]}}: {e}"
            ))
        })?;
        let mut denials = raw.denials;
        denials.sort();
        denials.dedup();
        Ok(denials)
    }
}

/// The input a new gate is checked with.
fn probe() -> PolicyInput {
    PolicyInput {
        tenant: "probe".into(),
        plan: "sandbox".into(),
        circuit: "zktx/overlap/v1/capacity-16".into(),
        tier: 16,
        k: 1,
        batch_size: 1,
        transport: Transport::Grpc,
        method: Method::Verify,
        profile: Profile::Dev,
        key_origin: zktx_formats::KeyOrigin::DevSeed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate_with(policy: &str) -> Result<PolicyGate, PolicyError> {
        PolicyGate::new(PolicyBundle::from_files(vec![
            ("p.rego".into(), policy.into()),
            (
                "data.json".into(),
                "{\"bundle\": {\"version\": \"t\"}}".into(),
            ),
        ])?)
    }

    #[test]
    fn the_builtin_bundle_allows_a_sandbox_request() {
        let gate = PolicyGate::new(PolicyBundle::builtin()).unwrap();
        let decision = gate.decide(&probe());
        assert_eq!(decision.outcome, Outcome::Allowed, "{decision:?}");
    }

    #[test]
    fn a_policy_that_does_not_parse_or_has_the_wrong_shape_is_refused_at_start() {
        let error = gate_with("package zktx.admission\n decision := {").unwrap_err();
        assert!(
            matches!(error, PolicyError::Parse { ref file, .. } if file == "p.rego"),
            "{error}"
        );
        // No decision rule at all: the engine refuses the rule's path.
        let error = gate_with("package zktx.admission\n").unwrap_err();
        assert!(
            matches!(error, PolicyError::Shape(_) | PolicyError::Evaluation(_)),
            "{error}"
        );
        for policy in [
            "package zktx.admission\ndecision := true\n",
            "package zktx.admission\ndecision := {\"denials\": [1]}\n",
            "package zktx.admission\ndecision := {\"denials\": [], \"allow\": true}\n",
        ] {
            let error = gate_with(policy).unwrap_err();
            assert!(matches!(error, PolicyError::Shape(_)), "{policy}: {error}");
        }
    }

    #[test]
    fn an_evaluation_error_denies_and_is_counted() {
        // Defined for the probe (tier 16), a division by zero for tier 0.
        let gate = gate_with(
            "package zktx.admission\n\
             decision := {\"denials\": d} if { d := [x | x := {\"rule\": \"r\", \"reason\": sprintf(\"%v\", [1 / input.tier])}; false] }\n",
        )
        .unwrap();
        let mut input = probe();
        input.tier = 0;
        let decision = gate.decide(&input);
        assert_eq!(decision.outcome, Outcome::Failed);
        assert!(!decision.allowed());
        assert_eq!(decision.denials[0].rule, FAILURE_RULE);
        assert_eq!(gate.failures(), 1);
        // Not cached: the next one is evaluated (and counted) again.
        assert!(!gate.decide(&input).allowed());
        assert_eq!(gate.failures(), 2);
    }
}
