//! `zktx policy test|eval|hash`: the admission policy bundle, offline.

use std::path::{Path, PathBuf};

use anyhow::Context;
use time::OffsetDateTime;
use zktx_governance::policy::{check_cases, parse_cases, run_cases, CaseReport, BUILTIN_CASES};
use zktx_governance::{PolicyBundle, PolicyGate, PolicyInput};

use crate::exit::{Coded, FAILURE};

/// `zktx policy` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run policy tests written as data against a bundle.
    #[command(after_help = "\
Example:
  zktx policy test                       # the built-in bundle and its cases
  zktx policy test governance/policy     # DIR's bundle and the cases in DIR/tests/*.json

A case is an input, an optional time (`at`), and the decision expected: `allow`, the exact
`denials` ({rule, reason}) and the ids of the waivers used (`waived`). See docs/governance.md.
Exits 0 when every case holds, 1 when one does not (each is named).")]
    Test {
        /// The bundle directory (its cases in DIR/tests); default: the built-in bundle.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Decide one input and print the decision as JSON.
    #[command(after_help = "\
Example:
  zktx policy eval --input request.json
  zktx policy eval --bundle /etc/zktx/policy --input request.json --at 2027-01-01T00:00:00Z

The input file holds the policy input document (tenant, plan, circuit, tier, k, batch_size,
transport, method, profile, key_origin). Exits 0 when allowed, 1 when denied.")]
    Eval {
        /// The input document (JSON).
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// The bundle directory; default: the built-in bundle.
        #[arg(long, value_name = "DIR")]
        bundle: Option<PathBuf>,
        /// Decide at this time (RFC 3339), for waivers; default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Print a bundle's SHA-256 (the value to pin) and each file's.
    Hash {
        /// The bundle directory; default: the built-in bundle.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2027-01-01T00:00:00Z): {e}"))
}

fn load(dir: Option<&Path>) -> anyhow::Result<PolicyBundle> {
    Ok(match dir {
        Some(dir) => PolicyBundle::load(dir)?,
        None => PolicyBundle::builtin(),
    })
}

/// Runs `zktx policy`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Test { dir } => {
            let gate = PolicyGate::new(load(dir.as_deref())?)?;
            let report = match &dir {
                Some(dir) => run_cases(&gate, &dir.join("tests"))?,
                None => {
                    let cases = parse_cases("built-in admission.json", BUILTIN_CASES)?;
                    let mut report = CaseReport::default();
                    check_cases(
                        &gate,
                        Path::new("built-in admission.json"),
                        &cases,
                        &mut report,
                    );
                    report
                }
            };
            for failure in &report.failures {
                println!(
                    "FAIL {}: {}: {}",
                    failure.file.display(),
                    failure.name,
                    failure.message
                );
            }
            println!(
                "policy bundle {} (version {}): {} cases, {} failed",
                gate.bundle().sha256(),
                gate.bundle().version(),
                report.cases,
                report.failures.len()
            );
            if !report.failures.is_empty() {
                return Err(Coded { code: FAILURE }.into());
            }
            Ok(())
        }
        Command::Eval { input, bundle, at } => {
            let gate = PolicyGate::new(load(bundle.as_deref())?)?;
            let text = std::fs::read_to_string(&input)
                .with_context(|| format!("reading {}", input.display()))?;
            let mut json = serde_json::Deserializer::from_str(&text);
            let document: PolicyInput = serde_path_to_error::deserialize(&mut json)
                .map_err(|e| anyhow::anyhow!("{}: {}: {}", input.display(), e.path(), e.inner()))?;
            let decision = gate.decide_at(&document, at.unwrap_or_else(OffsetDateTime::now_utc));
            let out = serde_json::json!({
                "allow": decision.allowed(),
                "decision": decision,
                "policy_sha256": gate.bundle().sha256(),
                "policy_version": gate.bundle().version(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            if !decision.allowed() {
                return Err(Coded { code: FAILURE }.into());
            }
            Ok(())
        }
        Command::Hash { dir } => {
            let bundle = load(dir.as_deref())?;
            println!("{}", bundle.sha256());
            for (name, hash) in bundle.file_hashes() {
                println!("  {hash}  {name}");
            }
            Ok(())
        }
    }
}
