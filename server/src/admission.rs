//! The admission policy gate on the request path: one decision per proof,
//! after authentication and the plan's tier check, before any quota or
//! verification work. Denials answer `PERMISSION_DENIED` with the policy's
//! reasons; an evaluation failure denies too (fail-closed) and is logged and
//! counted; a waiver's use is logged with its id and owner. Denials and
//! waiver uses are tallied for the audit chain (one entry per tenant and
//! rule per commit, with a count).

use std::collections::HashMap;
use std::sync::Arc;

use zktx_formats::KeyOrigin;
use zktx_governance::audit::{AuditKind, Tally};
use zktx_governance::policy::Outcome;
use zktx_governance::{Method, PolicyGate, PolicyInput, Profile, Transport};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::quota::now_ms;
use crate::tenants::Tenant;

/// How a call reached the service, as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// gRPC or REST.
    pub transport: Transport,
    /// Verify, batch or stream.
    pub method: Method,
    /// Proofs in the call (1 for a verify or a stream message).
    pub size: usize,
}

impl Route {
    /// One proof over `transport` (a verify call, or a stream message).
    pub fn single(transport: Transport, method: Method) -> Self {
        Self {
            transport,
            method,
            size: 1,
        }
    }
}

/// The gate, the profile, and where each verifying key came from.
pub struct Admission {
    gate: Arc<PolicyGate>,
    /// Decide nothing (the service bench's "without" phase only).
    bypass: bool,
    profile: Profile,
    origins: HashMap<String, KeyOrigin>,
    /// Where denials and waiver uses are counted for the audit chain.
    tally: Arc<Tally>,
}

impl Admission {
    /// The gate for a server in `profile` whose keys (by hex fingerprint)
    /// came from `origins`.
    pub fn new(
        gate: Arc<PolicyGate>,
        profile: Profile,
        origins: HashMap<String, KeyOrigin>,
        tally: Arc<Tally>,
    ) -> Self {
        Self {
            gate,
            bypass: false,
            profile,
            origins,
            tally,
        }
    }

    /// The same, deciding nothing: every proof is admitted. Only the service
    /// bench uses it, to measure the gate against the same run without it.
    pub fn bypassed_for_benchmarks(mut self) -> Self {
        self.bypass = true;
        self
    }

    /// The gate.
    pub fn gate(&self) -> &PolicyGate {
        &self.gate
    }

    /// The deployment profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Decides one proof for `tenant` against the key `fingerprint` (hex)
    /// of `tier` slots with bound `k`, arriving by `route`.
    #[allow(clippy::too_many_arguments)]
    pub fn admit(
        &self,
        metrics: &Metrics,
        tenant: &Tenant,
        fingerprint: &str,
        circuit: &str,
        tier: usize,
        k: u64,
        route: Route,
    ) -> Result<(), ApiError> {
        if self.bypass {
            return Ok(());
        }
        // A key the server loaded always has a manifest; a missing origin is
        // treated as the least trusted one.
        let key_origin = self
            .origins
            .get(fingerprint)
            .copied()
            .unwrap_or(KeyOrigin::DevSeed);
        let input = PolicyInput {
            tenant: tenant.id.clone(),
            plan: tenant.plan_name.clone(),
            circuit: circuit.to_string(),
            tier,
            k,
            batch_size: route.size,
            transport: route.transport,
            method: route.method,
            profile: self.profile,
            key_origin,
        };
        let decision = self.gate.decide(&input);
        match decision.outcome {
            Outcome::Allowed => {
                metrics
                    .policy_decisions
                    .with_label_values(&["allowed", "-"])
                    .inc();
                return Ok(());
            }
            Outcome::Waived => {
                metrics
                    .policy_decisions
                    .with_label_values(&["waived", "-"])
                    .inc();
                for used in &decision.waived {
                    self.tally.record(
                        AuditKind::WaiverUsed,
                        &tenant.id,
                        &[
                            ("waiver", &used.waiver),
                            ("rule", &used.rule),
                            ("owner", &used.owner),
                        ],
                        now_ms(),
                    );
                    tracing::warn!(
                        tenant = %tenant.id,
                        waiver = %used.waiver,
                        rule = %used.rule,
                        owner = %used.owner,
                        "admission policy: a waiver lifted a denial"
                    );
                }
                return Ok(());
            }
            Outcome::Denied => {
                for denial in &decision.denials {
                    metrics
                        .policy_decisions
                        .with_label_values(&["denied", &denial.rule])
                        .inc();
                    self.tally.record(
                        AuditKind::PolicyDenial,
                        &tenant.id,
                        &[("rule", &denial.rule)],
                        now_ms(),
                    );
                }
            }
            Outcome::Failed => {
                metrics
                    .policy_decisions
                    .with_label_values(&["failed", "-"])
                    .inc();
                self.tally.record(
                    AuditKind::PolicyDenial,
                    &tenant.id,
                    &[("rule", "evaluation-failed")],
                    now_ms(),
                );
                tracing::error!(
                    tenant = %tenant.id,
                    policy = %self.gate.bundle().sha256(),
                    failure = decision.failure.as_deref().unwrap_or(""),
                    "admission policy evaluation failed: the request is refused (fail-closed)"
                );
            }
        }
        Err(ApiError::PermissionDenied(format!(
            "refused by the admission policy (bundle {}, version {}): {}",
            &self.gate.bundle().sha256()[..12],
            self.gate.bundle().version(),
            decision.reasons().join("; ")
        )))
    }
}
