//! Plan features on the request path: the governance crate's matrix decides
//! ([`zktx_governance::entitlements::decide`]); this counts each decision in
//! metrics, tallies refusals for the audit chain, and answers a refused
//! feature with `PERMISSION_DENIED` naming the plan or the evidence that
//! would allow it.

use zktx_governance::audit::AuditKind;
use zktx_governance::entitlements::{self, Entitlement, Feature, PlanView};
use zktx_proto::rest::{RestEntitlement, RestEntitlements};

use crate::error::ApiError;
use crate::quota::now_ms;
use crate::service::Service;
use crate::tenants::Tenant;

/// The tenant's plan as the matrix sees it.
pub fn plan_view(tenant: &Tenant) -> PlanView<'_> {
    PlanView {
        name: &tenant.plan_name,
        edition: tenant.plan.edition_of(&tenant.plan_name),
        tiers: tenant.plan.tiers.as_deref(),
        max_batch: tenant.plan.max_batch,
        daily_proofs: tenant.plan.daily_proofs,
    }
}

impl Service {
    /// Whether `feature` is on for `tenant` now, and why (counted in metrics).
    pub fn entitlement(&self, tenant: &Tenant, feature: Feature) -> Entitlement {
        let decision = entitlements::decide(&plan_view(tenant), feature, &self.evidence());
        self.metrics()
            .entitlement_decisions
            .with_label_values(&[feature.name(), if decision.enabled { "on" } else { "off" }])
            .inc();
        decision
    }

    /// `Ok` when `feature` is on for `tenant`; otherwise `PERMISSION_DENIED`
    /// with the reason, and the refusal tallied for the audit chain.
    pub fn require(&self, tenant: &Tenant, feature: Feature) -> Result<(), ApiError> {
        let decision = self.entitlement(tenant, feature);
        if decision.enabled {
            return Ok(());
        }
        self.store().tally().record(
            AuditKind::EntitlementDenial,
            &tenant.id,
            &[("feature", feature.name())],
            now_ms(),
        );
        Err(ApiError::PermissionDenied(decision.reason))
    }

    /// Every feature of `tenant`'s plan, with the evidence behind the gated ones.
    pub fn entitlements(&self, tenant: &Tenant) -> RestEntitlements {
        let view = plan_view(tenant);
        let evidence = self.evidence();
        RestEntitlements {
            tenant: tenant.id.clone(),
            plan: tenant.plan_name.clone(),
            edition: view.edition.name().into(),
            price_per_proof_usd: view.edition.price_per_proof_usd().into(),
            ceremony_keys: evidence.ceremony_keys,
            policy_pinned: evidence.policy_pinned,
            policy_sha256: self.admission().gate().bundle().sha256().to_string(),
            features: Feature::ALL
                .into_iter()
                .map(|f| {
                    let e = self.entitlement(tenant, f);
                    RestEntitlement {
                        feature: f.name().into(),
                        enabled: e.enabled,
                        value: e.value,
                        reason: e.reason,
                    }
                })
                .collect(),
        }
    }
}
