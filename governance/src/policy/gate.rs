//! The gate: a bundle loaded into the Rego engine, a decision cache, and
//! waivers applied at each decision.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regorus::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::bundle::{PolicyBundle, DECISION_RULE};
use super::error::PolicyError;
use super::input::{Method, PolicyInput, Transport};
use super::waiver::{Waiver, WaiverUse};
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
        Self::failed_because(
            "the admission policy could not be evaluated, so the request is refused \
             (fail-closed); the operator has been alerted",
            error,
        )
    }

    /// The decision when evaluation failed: one [`FAILURE_RULE`] denial
    /// with `reason`, and the error kept for the operator.
    pub(crate) fn failed_because(reason: &str, error: &PolicyError) -> Self {
        Self {
            outcome: Outcome::Failed,
            denials: vec![Denial {
                rule: FAILURE_RULE.into(),
                reason: reason.into(),
            }],
            waived: Vec::new(),
            failure: Some(error.to_string()),
        }
    }

    /// The decision from a policy's `denials`, each lifted by the waiver
    /// `waiver_for` finds for it, if any.
    pub(crate) fn sift<'w>(
        denials: impl IntoIterator<Item = Denial>,
        waiver_for: impl Fn(&Denial) -> Option<&'w Waiver>,
    ) -> Self {
        let mut decision = Self {
            outcome: Outcome::Allowed,
            denials: Vec::new(),
            waived: Vec::new(),
            failure: None,
        };
        for denial in denials {
            match waiver_for(&denial) {
                Some(waiver) => decision.waived.push(WaiverUse {
                    waiver: waiver.id.clone(),
                    rule: denial.rule,
                    owner: waiver.owner.clone(),
                }),
                None => decision.denials.push(denial),
            }
        }
        decision.outcome = match (decision.denials.is_empty(), decision.waived.is_empty()) {
            (false, _) => Outcome::Denied,
            (true, false) => Outcome::Waived,
            (true, true) => Outcome::Allowed,
        };
        decision
    }
}

/// A bundle loaded into the engine, ready to decide.
pub struct PolicyGate {
    bundle: PolicyBundle,
    engine: Mutex<Engine>,
    relevant: Relevant,
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
        let engine = super::engine::load(&bundle, EVALUATION_LIMIT)?;
        let relevant = Relevant::of(bundle.policies().map(|(_, source)| source));
        let gate = Self {
            bundle,
            engine: Mutex::new(engine),
            relevant,
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

    /// Decides `input` at `now`: the policy's denials (cached per
    /// decision-relevant input, see [`Relevant`]), then each lifted by a
    /// waiver unexpired at `now`, if one covers it.
    pub fn decide_at(&self, input: &PolicyInput, now: OffsetDateTime) -> Decision {
        let key = self.relevant.key(input);
        let denials = match self.cache.get(&key) {
            Some(denials) => denials,
            None => match self.evaluate(input) {
                Ok(denials) => {
                    let denials: Arc<[Denial]> = denials.into();
                    self.cache.insert(key, denials.clone());
                    denials
                }
                Err(error) => {
                    // Failures are not cached: each is counted and logged.
                    self.failures.fetch_add(1, Ordering::Relaxed);
                    return Decision::failed(&error);
                }
            },
        };
        Decision::sift(denials.iter().cloned(), |denial| {
            self.bundle.waivers().find(denial, input, now)
        })
    }

    /// The policy's denials for `input`, before waivers and without the
    /// cache (sorted by rule, then reason).
    pub fn evaluate(&self, input: &PolicyInput) -> Result<Vec<Denial>, PolicyError> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| PolicyError::Evaluation("the engine's lock is poisoned".into()))?;
        super::engine::denials(&mut engine, DECISION_RULE, input)
    }
}

/// Which input fields the bundle's policies read: a field whose
/// `input.<name>` appears in no `.rego` file cannot change a decision, so
/// the cache key leaves it out (requests from many tenants then share one
/// evaluation when no rule names the tenant). A policy that reads `input`
/// any other way (`input[...]`, `input` as a whole) makes every field
/// relevant. The scan is textual (comments left out, strings kept): a
/// mention in a string can only make the cache finer, never share a
/// decision it should not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Relevant {
    tenant: bool,
    plan: bool,
    circuit: bool,
    tier: bool,
    k: bool,
    batch_size: bool,
    transport: bool,
    method: bool,
    profile: bool,
    key_origin: bool,
}

impl Relevant {
    fn of<'a>(sources: impl Iterator<Item = &'a str>) -> Self {
        let sources: Vec<String> = sources.map(without_comments).collect();
        let whole = sources.iter().any(|s| reads_input_whole(s));
        let reads = |field: &str| {
            whole
                || sources.iter().any(|s| {
                    s.match_indices(&format!("input.{field}")).any(|(at, m)| {
                        // `input.k` must not match `input.key_origin`.
                        !s[at + m.len()..]
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
                })
        };
        Self {
            tenant: reads("tenant"),
            plan: reads("plan"),
            circuit: reads("circuit"),
            tier: reads("tier"),
            k: reads("k"),
            batch_size: reads("batch_size"),
            transport: reads("transport"),
            method: reads("method"),
            profile: reads("profile"),
            key_origin: reads("key_origin"),
        }
    }

    /// `input` with the fields no policy reads set to a fixed value.
    fn key(&self, input: &PolicyInput) -> PolicyInput {
        let text = |relevant: bool, value: &String| {
            if relevant {
                value.clone()
            } else {
                String::new()
            }
        };
        PolicyInput {
            tenant: text(self.tenant, &input.tenant),
            plan: text(self.plan, &input.plan),
            circuit: text(self.circuit, &input.circuit),
            tier: if self.tier { input.tier } else { 0 },
            k: if self.k { input.k } else { 0 },
            batch_size: if self.batch_size { input.batch_size } else { 0 },
            transport: if self.transport {
                input.transport
            } else {
                Transport::Grpc
            },
            method: if self.method {
                input.method
            } else {
                Method::Verify
            },
            profile: if self.profile {
                input.profile
            } else {
                Profile::Dev
            },
            key_origin: if self.key_origin {
                input.key_origin
            } else {
                zktx_formats::KeyOrigin::DevSeed
            },
        }
    }
}

/// `source` without its `#` comments (a `#` inside a string is kept).
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let (mut quoted, mut raw, mut escaped) = (false, false, false);
        for c in line.chars() {
            match c {
                '#' if !quoted && !raw => break,
                '"' if !raw && !escaped => quoted = !quoted,
                '`' if !quoted => raw = !raw,
                _ => {}
            }
            escaped = quoted && c == '\\' && !escaped;
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// Whether `source` reads the input document other than field by field
/// (`input[...]`, or `input` alone).
fn reads_input_whole(source: &str) -> bool {
    source.match_indices("input").any(|(at, m)| {
        let before = source[..at].chars().next_back();
        let after = source[at + m.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(before) && !word(after) && after != Some('.')
    })
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
    fn the_cache_key_keeps_only_the_fields_a_policy_reads() {
        let shipped = Relevant::of(PolicyBundle::builtin().policies().map(|(_, s)| s));
        assert!(!shipped.tenant && !shipped.circuit && !shipped.batch_size && !shipped.transport);
        assert!(shipped.plan && shipped.tier && shipped.k && shipped.method);
        assert!(shipped.profile && shipped.key_origin);
        let mut a = probe();
        let mut b = probe();
        a.tenant = "acme".into();
        b.tenant = "globex".into();
        assert_eq!(shipped.key(&a), shipped.key(&b));
        b.k = 2;
        assert_ne!(shipped.key(&a), shipped.key(&b));

        let by_tenant = Relevant::of(["x if input.tenant == \"a\""].into_iter());
        assert!(by_tenant.tenant && !by_tenant.k);
        // `input.key_origin` is not `input.k`.
        assert!(!Relevant::of(["input.key_origin"].into_iter()).k);
        for whole in ["x := input", "input[\"k\"] > 1", "f(input)"] {
            let all = Relevant::of([whole].into_iter());
            assert!(all.tenant && all.k && all.batch_size, "{whole}");
        }
        assert!(!reads_input_whole("inputs.k + my_input.x + input.tier"));
        // Comments do not count; a `#` in a string does not start one.
        let commented = Relevant::of(
            ["# the input schema\nx := \"#\" # input.tenant\ny if input.k"].into_iter(),
        );
        assert!(!commented.tenant && commented.k);
        assert!(Relevant::of(["x := \"#\"; y := input"].into_iter()).tenant);
    }

    #[test]
    fn a_policy_that_reads_the_tenant_decides_per_tenant() {
        let gate = gate_with(
            "package zktx.admission\n\
             deny contains {\"rule\": \"blocked\", \"reason\": \"blocked tenant\"} if input.tenant == \"globex\"\n\
             decision := {\"denials\": deny}\n",
        )
        .unwrap();
        let mut acme = probe();
        acme.tenant = "acme".into();
        let mut globex = probe();
        globex.tenant = "globex".into();
        assert!(gate.decide(&acme).allowed());
        assert!(!gate.decide(&globex).allowed());
        assert!(gate.decide(&acme).allowed());
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
