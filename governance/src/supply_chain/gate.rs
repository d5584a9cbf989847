//! The release gate: the supply-chain Rego bundle (`governance/supply-chain/`)
//! evaluated over the SBOM's components and the scan's findings, with
//! waivers that name one finding each. Fail-closed: a bundle that does not
//! load refuses to make a gate, and an evaluation that fails blocks.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::sbom::{Component, Sbom};
use super::scan::{Advisory, Problem, Scan};
use crate::policy::{engine, Decision, PolicyBundle, PolicyError};

/// The rule the gate evaluates.
pub const DECISION_RULE: &str = "data.zktx.supply_chain.decision";

/// One evaluation may run this long (a release's SBOM has hundreds of components).
pub const EVALUATION_LIMIT: Duration = Duration::from_secs(5);

/// The bundle shipped with zktx (`governance/supply-chain/`): file name and contents.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "supply_chain.rego",
        include_str!("../../supply-chain/supply_chain.rego"),
    ),
    ("data.json", include_str!("../../supply-chain/data.json")),
    (
        "waivers.json",
        include_str!("../../supply-chain/waivers.json"),
    ),
];

/// What the policy sees.
#[derive(Serialize)]
struct GateInput<'a> {
    components: &'a [Component],
    advisories: &'a [Advisory],
    problems: &'a [Problem],
}

/// The gate's answer for one release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GateReport {
    /// The supply-chain bundle's SHA-256.
    pub policy_sha256: String,
    /// Its `bundle.version`.
    pub policy_version: String,
    /// Allowed, waived, denied or failed; what blocks; the waivers used.
    #[serde(flatten)]
    pub decision: Decision,
}

impl GateReport {
    /// Whether the release may ship.
    pub fn passed(&self) -> bool {
        self.decision.allowed()
    }

    /// The rules of the findings that block, in order.
    pub fn blocking_rules(&self) -> Vec<&str> {
        self.decision
            .denials
            .iter()
            .map(|d| d.rule.as_str())
            .collect()
    }
}

/// The supply-chain bundle loaded into the Rego engine.
pub struct SupplyChainGate {
    bundle: PolicyBundle,
    engine: regorus::Engine,
}

impl std::fmt::Debug for SupplyChainGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplyChainGate")
            .field("bundle_sha256", &self.bundle.sha256())
            .finish_non_exhaustive()
    }
}

impl SupplyChainGate {
    /// The gate with the shipped bundle.
    pub fn builtin() -> Result<Self, PolicyError> {
        let files = BUILTIN_FILES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        Self::new(PolicyBundle::from_files(files)?)
    }

    /// The gate with the bundle in `dir` (`*.rego`, `data.json`, `waivers.json`).
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        Self::new(PolicyBundle::load(dir)?)
    }

    /// Loads `bundle`; its waivers must not name a tenant (a release has none).
    pub fn new(bundle: PolicyBundle) -> Result<Self, PolicyError> {
        if let Some((i, _)) = bundle
            .waivers()
            .waivers
            .iter()
            .enumerate()
            .find(|(_, w)| w.tenant.is_some())
        {
            return Err(PolicyError::Data {
                file: "waivers.json".into(),
                message: format!(
                    "waivers[{i}].tenant: a release waiver covers no tenant; leave it out"
                ),
            });
        }
        let engine = engine::load(&bundle, EVALUATION_LIMIT)?;
        Ok(Self { bundle, engine })
    }

    /// The bundle.
    pub fn bundle(&self) -> &PolicyBundle {
        &self.bundle
    }

    /// Decides whether a release with `sbom` and `scan` may ship at `now`.
    pub fn check(&mut self, sbom: &Sbom, scan: &Scan, now: OffsetDateTime) -> GateReport {
        let input = GateInput {
            components: &sbom.components,
            advisories: &scan.advisories,
            problems: &scan.problems,
        };
        let decision = match engine::denials(&mut self.engine, DECISION_RULE, &input) {
            Ok(denials) => Decision::sift(denials, |denial| {
                self.bundle
                    .waivers()
                    .waivers
                    .iter()
                    .find(|w| w.rule == denial.rule && now < w.expires)
            }),
            Err(error) => Decision::failed_because(
                "the supply-chain policy could not be evaluated, so the release is blocked \
                 (fail-closed)",
                &error,
            ),
        };
        GateReport {
            policy_sha256: self.bundle.sha256().to_string(),
            policy_version: self.bundle.version().to_string(),
            decision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Outcome;
    use crate::supply_chain::scan::tests::REPORT;

    const SBOM: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
      "metadata": {"component": {"name": "zktx", "version": "0.1.0",
         "licenses": [{"expression": "Apache-2.0"}]}},
      "components": [
        {"name": "serde", "version": "1.0.0", "licenses": [{"expression": "MIT OR Apache-2.0"}]},
        {"name": "icu", "version": "2.0.0", "licenses": [{"expression": "(MIT OR Apache-2.0) AND Unicode-3.0"}]}
      ]}"#;

    /// The shipped bundle with `waivers` as its waivers file.
    fn gate(waivers: &str) -> SupplyChainGate {
        let files = BUILTIN_FILES
            .iter()
            .map(|(name, text)| {
                let text = if *name == "waivers.json" {
                    waivers.to_string()
                } else {
                    text.to_string()
                };
                (name.to_string(), text)
            })
            .collect();
        SupplyChainGate::new(PolicyBundle::from_files(files).unwrap()).unwrap()
    }

    fn clean_scan() -> Scan {
        Scan::parse(r#"{"fields":{},"type":"summary"}"#).unwrap()
    }

    fn at(date: &str) -> OffsetDateTime {
        OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn waiver(id: &str, rule: &str, expires: &str) -> String {
        format!(
            r#"{{"id": "{id}", "rule": "{rule}", "reason": "not reachable from the binary",
              "owner": "security", "expires": "{expires}"}}"#
        )
    }

    #[test]
    fn a_clean_release_passes() {
        let report = SupplyChainGate::builtin().unwrap().check(
            &Sbom::parse(SBOM.as_bytes()).unwrap(),
            &clean_scan(),
            at("2026-12-02T00:00:00Z"),
        );
        assert_eq!(report.decision.outcome, Outcome::Allowed, "{report:?}");
        assert!(report.passed());
    }

    #[test]
    fn a_fake_advisory_and_a_denied_licence_are_blocked_then_waived_until_expiry() {
        let sbom_text = SBOM.replace(
            r#"{"name": "serde", "version": "1.0.0", "licenses": [{"expression": "MIT OR Apache-2.0"}]}"#,
            r#"{"name": "copyleft", "version": "3.1.0", "licenses": [{"expression": "GPL-3.0-only"}]}"#,
        );
        let sbom = Sbom::parse(sbom_text.as_bytes()).unwrap();
        // A fake critical advisory against a crate in the graph.
        let fake = REPORT
            .replace("RUSTSEC-2026-0187", "RUSTSEC-2099-0001")
            .replace(
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            );
        let fake = fake
            .lines()
            .filter(|l| !l.contains("source-not-allowed"))
            .collect::<Vec<_>>()
            .join("\n");
        let scan = Scan::parse(&fake).unwrap();
        assert_eq!(scan.advisories[1].severity, "critical");

        let now = at("2026-12-02T00:00:00Z");
        let report = gate(r#"{"waivers": []}"#).check(&sbom, &scan, now);
        assert_eq!(report.decision.outcome, Outcome::Denied, "{report:?}");
        let rules = report.blocking_rules();
        assert_eq!(
            rules,
            ["advisory:RUSTSEC-2099-0001", "licence:copyleft@3.1.0"]
        );
        assert!(report.decision.denials[0].reason.contains("critical"));
        assert!(report.decision.denials[1].reason.contains("GPL-3.0-only"));

        // Unexpired waivers, one per finding, let it ship; each use is reported.
        let waivers = format!(
            r#"{{"waivers": [{}, {}]}}"#,
            waiver("W-1", "advisory:RUSTSEC-2099-0001", "2027-01-01T00:00:00Z"),
            waiver("W-2", "licence:copyleft@3.1.0", "2027-01-01T00:00:00Z"),
        );
        let mut waived = gate(&waivers);
        let report = waived.check(&sbom, &scan, now);
        assert_eq!(report.decision.outcome, Outcome::Waived, "{report:?}");
        assert!(report.passed());
        assert_eq!(report.decision.waived.len(), 2);

        // After expiry the same waivers lift nothing.
        let report = waived.check(&sbom, &scan, at("2027-01-01T00:00:00Z"));
        assert_eq!(report.decision.outcome, Outcome::Denied);
        assert_eq!(report.decision.denials.len(), 2);

        // A waiver for one finding does not lift another of the same class.
        let other = format!(
            r#"{{"waivers": [{}]}}"#,
            waiver("W-3", "advisory:RUSTSEC-2099-0002", "2027-01-01T00:00:00Z")
        );
        let report = gate(&other).check(&sbom, &scan, now);
        assert_eq!(report.decision.denials.len(), 2);
    }

    #[test]
    fn unscored_vulnerabilities_missing_licences_and_source_errors_block() {
        let sbom = Sbom::parse(
            SBOM.replace(r#", "licenses": [{"expression": "MIT OR Apache-2.0"}]"#, "")
                .as_bytes(),
        )
        .unwrap();
        let unscored = REPORT.replace(
            r#""cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H""#,
            r#""cvss":null"#,
        );
        let scan = Scan::parse(&unscored).unwrap();
        let report =
            SupplyChainGate::builtin()
                .unwrap()
                .check(&sbom, &scan, at("2026-12-02T00:00:00Z"));
        let rules = report.blocking_rules();
        assert_eq!(
            rules,
            [
                "advisory:RUSTSEC-2026-0187",
                "licence:serde@1.0.0",
                "sources:source-not-allowed/evil@0.1.0"
            ]
        );
        // Informational advisories (unmaintained) are reported, not blocking.
        assert!(!rules.iter().any(|r| r.contains("RUSTSEC-2024-0388")));
    }

    #[test]
    fn medium_vulnerabilities_pass_and_a_broken_policy_blocks() {
        let medium = REPORT
            .replace("A:H", "A:L")
            .lines()
            .filter(|l| !l.contains("source-not-allowed"))
            .collect::<Vec<_>>()
            .join("\n");
        let scan = Scan::parse(&medium).unwrap();
        assert_eq!(scan.advisories[1].severity, "medium");
        let sbom = Sbom::parse(SBOM.as_bytes()).unwrap();
        let now = at("2026-12-02T00:00:00Z");
        assert!(SupplyChainGate::builtin()
            .unwrap()
            .check(&sbom, &scan, now)
            .passed());

        let files = vec![
            (
                "p.rego".to_string(),
                "package zktx.supply_chain\ndecision := {\"denials\": 1}\n".to_string(),
            ),
            (
                "data.json".to_string(),
                r#"{"bundle": {"version": "x"}}"#.to_string(),
            ),
        ];
        let mut broken = SupplyChainGate::new(PolicyBundle::from_files(files).unwrap()).unwrap();
        let report = broken.check(&sbom, &scan, now);
        assert_eq!(report.decision.outcome, Outcome::Failed);
        assert!(!report.passed());
    }

    #[test]
    fn a_waiver_naming_a_tenant_is_refused() {
        let files = BUILTIN_FILES
            .iter()
            .map(|(name, text)| {
                let text = if *name == "waivers.json" {
                    r#"{"waivers": [{"id": "W", "rule": "r", "tenant": "acme", "reason": "x",
                        "owner": "o", "expires": "2027-01-01T00:00:00Z"}]}"#
                        .to_string()
                } else {
                    text.to_string()
                };
                (name.to_string(), text)
            })
            .collect();
        let error = SupplyChainGate::new(PolicyBundle::from_files(files).unwrap())
            .unwrap_err()
            .to_string();
        assert!(error.contains("waivers[0].tenant"), "{error}");
    }
}
