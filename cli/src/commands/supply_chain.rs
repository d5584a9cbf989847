//! `zktx supply-chain check`: the release gate over the SBOM and the
//! cargo-deny scan, written as `scan.json` (what was found, against which
//! advisory snapshot, and the gate's decision).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use zktx_governance::provenance::file_sha256;
use zktx_governance::supply_chain::{Sbom, Scan, Snapshot, SupplyChainGate};

use crate::exit::{Coded, FAILURE};

/// The format tag of `scan.json`.
pub const SCAN_FORMAT: &str = "zktx-scan/1";

/// `zktx supply-chain` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Decide whether a release may ship: licences (from the SBOM) and advisories (from the scan).
    #[command(after_help = "\
Example:
  cargo deny --offline --format json check advisories bans sources 2> deny.jsonl
  zktx supply-chain check --sbom dist/sbom.cdx.json --deny-report deny.jsonl \\
      --advisory-db ../shared/advisory-db --out dist/scan.json

The gate is the Rego bundle in governance/supply-chain/ (or --policy DIR): a licence allow-list
over every SBOM component and a block on CRITICAL, HIGH and unscored vulnerabilities, with
waivers (waivers.json) that name one finding, an owner, a reason and an expiry. Exits 1 naming
each finding that blocks; scan.json is written either way.")]
    Check {
        /// The CycloneDX JSON SBOM of the binary.
        #[arg(long, value_name = "FILE")]
        sbom: PathBuf,
        /// cargo-deny's `--format json` output (its standard error).
        #[arg(long, value_name = "FILE")]
        deny_report: PathBuf,
        /// The advisory database snapshot scanned against (its SNAPSHOT.md names it).
        #[arg(long, value_name = "DIR")]
        advisory_db: PathBuf,
        /// The scanner, as recorded in the report.
        #[arg(long, value_name = "TEXT", default_value = "cargo-deny")]
        scanner: String,
        /// A supply-chain policy bundle to use instead of the shipped one.
        #[arg(long, value_name = "DIR")]
        policy: Option<PathBuf>,
        /// Where to write scan.json.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn count_advisories(dir: &std::path::Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.join("crates")];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                count += 1;
            }
        }
    }
    count
}

/// Runs `zktx supply-chain`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Check {
        sbom,
        deny_report,
        advisory_db,
        scanner,
        policy,
        out,
    } = command;
    let sbom_bytes =
        std::fs::read(&sbom).with_context(|| format!("sbom: cannot read {}", sbom.display()))?;
    let parsed_sbom = Sbom::parse(&sbom_bytes).context("sbom")?;
    let report = std::fs::read_to_string(&deny_report)
        .with_context(|| format!("deny-report: cannot read {}", deny_report.display()))?;
    let scan = Scan::parse(&report).context("deny-report")?;
    let description =
        std::fs::read_to_string(advisory_db.join("SNAPSHOT.md")).with_context(|| {
            format!(
                "advisory-db: {} has no SNAPSHOT.md naming its commit and date",
                advisory_db.display()
            )
        })?;
    let mut snapshot = Snapshot::from_description(&description).context("advisory-db")?;
    snapshot.advisories = Some(count_advisories(&advisory_db));
    let mut gate = match &policy {
        Some(dir) => SupplyChainGate::load(dir),
        None => SupplyChainGate::builtin(),
    }
    .context("policy")?;
    let decision = gate.check(&parsed_sbom, &scan, time::OffsetDateTime::now_utc());

    let mut licences: BTreeMap<&str, usize> = BTreeMap::new();
    for component in &parsed_sbom.components {
        *licences
            .entry(component.licence_expression.as_str())
            .or_default() += 1;
    }
    let document = serde_json::json!({
        "format": SCAN_FORMAT,
        "scanner": scanner,
        "advisory_snapshot": snapshot,
        "sbom": {
            "sha256": file_sha256(&sbom)?,
            "spec_version": parsed_sbom.spec_version,
            "components": parsed_sbom.components.len(),
            "licences": licences,
        },
        "advisories": scan.advisories,
        "vulnerabilities": scan.vulnerabilities().count(),
        "problems": scan.problems,
        "warnings": scan.warnings,
        "cargo_deny_summary": scan.summary,
        "gate": decision,
    });
    let text = serde_json::to_string_pretty(&document)? + "\n";
    std::fs::write(&out, text).with_context(|| format!("out: cannot write {}", out.display()))?;

    println!(
        "scanned {} components against RustSec snapshot {} ({}): {} advisories ({} vulnerabilities), {} source/ban errors",
        parsed_sbom.components.len(),
        &snapshot.commit[..12],
        snapshot.date,
        scan.advisories.len(),
        scan.vulnerabilities().count(),
        scan.problems.len(),
    );
    for used in &decision.decision.waived {
        println!(
            "waived: {} by waiver {} (owner {})",
            used.rule, used.waiver, used.owner
        );
    }
    if decision.passed() {
        println!(
            "supply-chain gate: passed (policy {} {})",
            decision.policy_version,
            &decision.policy_sha256[..12]
        );
        return Ok(());
    }
    for denial in &decision.decision.denials {
        eprintln!(
            "supply-chain gate: BLOCKED {}: {}",
            denial.rule, denial.reason
        );
    }
    if let Some(failure) = &decision.decision.failure {
        eprintln!("supply-chain gate: {failure}");
    }
    Err(Coded { code: FAILURE }.into())
}
