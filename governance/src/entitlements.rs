//! Entitlements: one matrix of what each plan includes, and one function
//! ([`decide`]) that says whether a feature is on for a plan, with a reason
//! a partner can act on.
//!
//! | feature | Starter | Pro | Enterprise |
//! |---|---|---|---|
//! | price per verified proof (USD) | 0.01 | 0.005 | 0.0025 |
//! | tiers | 16, 64 | 16, 64, 256 | all |
//! | max batch | 16 | 256 | 1000 |
//! | streaming | – | yes | yes |
//! | daily quota (proofs) | 1,000 | 200,000 | 20,000,000 |
//! | receipt retention | 90 days | 1 year | 7 years |
//! | webhooks | – | yes | yes |
//! | auditor access | – | – | yes, evidence-gated |
//! | evidence downloads | – | yes, evidence-gated | yes, evidence-gated |
//!
//! Tiers, max batch and daily quota are limits: a server's configured plan
//! may set its own (a negotiated contract), and the configured value is what
//! is enforced and reported. The others are on or off by the plan's
//! edition. An *evidence-gated* feature is on only while the server's
//! evidence holds: every verifying key from a setup ceremony, and the policy
//! bundle's hash pinned.

use serde::{Deserialize, Serialize};

/// A column of the matrix: the plan family a configured plan belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    /// Starter.
    Starter,
    /// Pro.
    Pro,
    /// Enterprise.
    Enterprise,
}

impl Edition {
    /// Every edition, cheapest features first.
    pub const ALL: [Edition; 3] = [Edition::Starter, Edition::Pro, Edition::Enterprise];

    /// The display name (`Starter`, `Pro`, `Enterprise`).
    pub fn title(self) -> &'static str {
        match self {
            Edition::Starter => "Starter",
            Edition::Pro => "Pro",
            Edition::Enterprise => "Enterprise",
        }
    }

    /// The configuration name (`starter`, `pro`, `enterprise`).
    pub fn name(self) -> &'static str {
        match self {
            Edition::Starter => "starter",
            Edition::Pro => "pro",
            Edition::Enterprise => "enterprise",
        }
    }

    /// The edition a plan of this name belongs to, when the name is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The price of one verified proof, in USD, as an exact decimal string.
    pub fn price_per_proof_usd(self) -> &'static str {
        match self {
            Edition::Starter => "0.01",
            Edition::Pro => "0.005",
            Edition::Enterprise => "0.0025",
        }
    }

    /// The edition's row of the matrix.
    pub fn row(self) -> &'static EditionRow {
        match self {
            Edition::Starter => &STARTER,
            Edition::Pro => &PRO,
            Edition::Enterprise => &ENTERPRISE,
        }
    }
}

impl std::fmt::Display for Edition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Edition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| "expected starter, pro or enterprise".to_string())
    }
}

/// One edition's defaults and switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditionRow {
    /// Tiers included by default (`None`: all).
    pub tiers: Option<&'static [usize]>,
    /// The largest batch by default.
    pub max_batch: usize,
    /// Proofs per UTC day by default.
    pub daily_proofs: u64,
    /// Requests per second by default.
    pub requests_per_second: u32,
    /// Burst by default.
    pub burst: u32,
    /// `VerifyStream`.
    pub streaming: bool,
    /// How long receipts are kept, in days.
    pub receipt_retention_days: u32,
    /// `invoice.created` webhooks.
    pub webhooks: bool,
    /// Expiring read-only auditor keys (evidence-gated).
    pub auditor_access: bool,
    /// The tenant's audit export and the server's evidence (evidence-gated).
    pub evidence_downloads: bool,
}

const STARTER: EditionRow = EditionRow {
    tiers: Some(&[16, 64]),
    max_batch: 16,
    daily_proofs: 1_000,
    requests_per_second: 5,
    burst: 10,
    streaming: false,
    receipt_retention_days: 90,
    webhooks: false,
    auditor_access: false,
    evidence_downloads: false,
};
const PRO: EditionRow = EditionRow {
    tiers: Some(&[16, 64, 256]),
    max_batch: 256,
    daily_proofs: 200_000,
    requests_per_second: 200,
    burst: 400,
    streaming: true,
    receipt_retention_days: 365,
    webhooks: true,
    auditor_access: false,
    evidence_downloads: true,
};
const ENTERPRISE: EditionRow = EditionRow {
    tiers: None,
    max_batch: 1_000,
    daily_proofs: 20_000_000,
    requests_per_second: 5_000,
    burst: 10_000,
    streaming: true,
    receipt_retention_days: 2_555,
    webhooks: true,
    auditor_access: true,
    evidence_downloads: true,
};

/// A plan feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// The circuit tiers the plan may verify.
    Tiers,
    /// The most proofs in one batch call.
    MaxBatch,
    /// `VerifyStream`.
    Streaming,
    /// Proofs per UTC day.
    DailyQuota,
    /// How long receipts are kept.
    ReceiptRetention,
    /// `invoice.created` webhooks.
    Webhooks,
    /// Expiring read-only auditor keys.
    AuditorAccess,
    /// The tenant's audit export and the server's evidence.
    EvidenceDownloads,
}

impl Feature {
    /// Every feature, in the matrix's order.
    pub const ALL: [Feature; 8] = [
        Feature::Tiers,
        Feature::MaxBatch,
        Feature::Streaming,
        Feature::DailyQuota,
        Feature::ReceiptRetention,
        Feature::Webhooks,
        Feature::AuditorAccess,
        Feature::EvidenceDownloads,
    ];

    /// The feature's name (as in metrics, audit entries and the API).
    pub fn name(self) -> &'static str {
        match self {
            Feature::Tiers => "tiers",
            Feature::MaxBatch => "max_batch",
            Feature::Streaming => "streaming",
            Feature::DailyQuota => "daily_quota",
            Feature::ReceiptRetention => "receipt_retention",
            Feature::Webhooks => "webhooks",
            Feature::AuditorAccess => "auditor_access",
            Feature::EvidenceDownloads => "evidence_downloads",
        }
    }

    /// Whether the feature is on only while the server's evidence holds.
    pub fn evidence_gated(self) -> bool {
        matches!(self, Feature::AuditorAccess | Feature::EvidenceDownloads)
    }

    fn switch(self, row: &EditionRow) -> bool {
        match self {
            Feature::Streaming => row.streaming,
            Feature::Webhooks => row.webhooks,
            Feature::AuditorAccess => row.auditor_access,
            Feature::EvidenceDownloads => row.evidence_downloads,
            Feature::Tiers
            | Feature::MaxBatch
            | Feature::DailyQuota
            | Feature::ReceiptRetention => true,
        }
    }
}

/// What the server can show for itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Every verifying key it serves came from a setup ceremony.
    pub ceremony_keys: bool,
    /// Its policy bundle's hash is pinned (and matched at start).
    pub policy_pinned: bool,
}

impl Evidence {
    /// Whether all of it holds.
    pub fn holds(&self) -> bool {
        self.ceremony_keys && self.policy_pinned
    }

    /// What is missing, in words.
    fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.ceremony_keys {
            missing.push("every verifying key imported from a setup ceremony (`zktx keys import`)");
        }
        if !self.policy_pinned {
            missing.push("the policy bundle's hash pinned (`[policy] pinned_sha256`)");
        }
        missing
    }
}

/// A configured plan, as entitlements see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanView<'a> {
    /// The plan's configured name.
    pub name: &'a str,
    /// Its edition (its column of the matrix).
    pub edition: Edition,
    /// Configured tiers (`None`: all).
    pub tiers: Option<&'a [usize]>,
    /// Configured max batch.
    pub max_batch: usize,
    /// Configured daily quota.
    pub daily_proofs: u64,
}

/// One feature's decision for one plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    /// The feature.
    pub feature: Feature,
    /// Whether it is on.
    pub enabled: bool,
    /// Its value when it is a limit (`"16, 64"`, `"256"`, `"90 days"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why it is on or off, and what would turn it on.
    pub reason: String,
}

/// The cheapest edition that includes `feature`.
fn cheapest_with(feature: Feature) -> Option<Edition> {
    Edition::ALL.into_iter().find(|e| feature.switch(e.row()))
}

/// Whether `feature` is on for `plan` given the server's `evidence`, and why.
pub fn decide(plan: &PlanView<'_>, feature: Feature, evidence: &Evidence) -> Entitlement {
    let row = plan.edition.row();
    let value = match feature {
        Feature::Tiers => Some(match plan.tiers {
            Some(tiers) => tiers
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            None => "all".to_string(),
        }),
        Feature::MaxBatch => Some(plan.max_batch.to_string()),
        Feature::DailyQuota => Some(plan.daily_proofs.to_string()),
        Feature::ReceiptRetention => Some(format!("{} days", row.receipt_retention_days)),
        _ => None,
    };
    let of_plan = format!("the {} plan ({} edition)", plan.name, plan.edition.title());
    if !feature.switch(row) {
        let upgrade = cheapest_with(feature)
            .map(|e| format!("available from the {} edition", e.title()))
            .unwrap_or_else(|| "not offered".into());
        return Entitlement {
            feature,
            enabled: false,
            value,
            reason: format!("{} is not in {of_plan}: {upgrade}", feature.name()),
        };
    }
    if feature.evidence_gated() && !evidence.holds() {
        return Entitlement {
            feature,
            enabled: false,
            value,
            reason: format!(
                "{} is in {of_plan} but off while this server's evidence does not hold; it needs {}",
                feature.name(),
                evidence.missing().join(" and ")
            ),
        };
    }
    Entitlement {
        feature,
        enabled: true,
        value,
        reason: if feature.evidence_gated() {
            format!(
                "included in {of_plan}; on because this server's keys come from a ceremony and its policy hash is pinned"
            )
        } else {
            format!("included in {of_plan}")
        },
    }
}

/// Every feature's decision for `plan`.
pub fn all(plan: &PlanView<'_>, evidence: &Evidence) -> Vec<Entitlement> {
    Feature::ALL
        .into_iter()
        .map(|f| decide(plan, f, evidence))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(edition: Edition) -> PlanView<'static> {
        let row = edition.row();
        PlanView {
            name: edition.name(),
            edition,
            tiers: row.tiers,
            max_batch: row.max_batch,
            daily_proofs: row.daily_proofs,
        }
    }

    const FULL: Evidence = Evidence {
        ceremony_keys: true,
        policy_pinned: true,
    };

    #[test]
    fn the_matrix_as_documented() {
        let on = |e, f| decide(&view(e), f, &FULL).enabled;
        use Edition::*;
        use Feature::*;
        for (feature, expected) in [
            (Streaming, [false, true, true]),
            (Webhooks, [false, true, true]),
            (AuditorAccess, [false, false, true]),
            (EvidenceDownloads, [false, true, true]),
            (Tiers, [true, true, true]),
            (ReceiptRetention, [true, true, true]),
        ] {
            let got = [
                on(Starter, feature),
                on(Pro, feature),
                on(Enterprise, feature),
            ];
            assert_eq!(got, expected, "{feature:?}");
        }
        assert_eq!(
            decide(&view(Starter), Tiers, &FULL).value.as_deref(),
            Some("16, 64")
        );
        assert_eq!(
            decide(&view(Enterprise), Tiers, &FULL).value.as_deref(),
            Some("all")
        );
        assert_eq!(
            decide(&view(Pro), MaxBatch, &FULL).value.as_deref(),
            Some("256")
        );
        assert_eq!(
            decide(&view(Starter), ReceiptRetention, &FULL)
                .value
                .as_deref(),
            Some("90 days")
        );
        let prices: Vec<&str> = Edition::ALL
            .iter()
            .map(|e| e.price_per_proof_usd())
            .collect();
        assert_eq!(prices, ["0.01", "0.005", "0.0025"]);
    }

    #[test]
    fn a_refusal_names_the_plan_or_the_evidence_that_would_allow_it() {
        let starter = decide(&view(Edition::Starter), Feature::Streaming, &FULL);
        assert_eq!(
            starter.reason,
            "streaming is not in the starter plan (Starter edition): available from the Pro edition"
        );
        let pro = decide(&view(Edition::Pro), Feature::AuditorAccess, &FULL);
        assert!(
            pro.reason.contains("available from the Enterprise edition"),
            "{}",
            pro.reason
        );
        let gated = decide(
            &view(Edition::Enterprise),
            Feature::AuditorAccess,
            &Evidence {
                ceremony_keys: false,
                policy_pinned: true,
            },
        );
        assert!(!gated.enabled);
        assert!(gated.reason.contains("setup ceremony"), "{}", gated.reason);
        assert!(!gated.reason.contains("pinned_sha256"), "{}", gated.reason);
        let none = decide(
            &view(Edition::Enterprise),
            Feature::EvidenceDownloads,
            &Evidence::default(),
        );
        assert!(none.reason.contains("setup ceremony") && none.reason.contains("pinned_sha256"));
        // Evidence never turns off what is not gated.
        assert!(
            decide(
                &view(Edition::Pro),
                Feature::Streaming,
                &Evidence::default()
            )
            .enabled
        );
        assert_eq!(all(&view(Edition::Pro), &FULL).len(), Feature::ALL.len());
    }
}
