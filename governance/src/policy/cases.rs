//! Policy tests written as data: an input, when it is decided (optional),
//! and the decision expected. `zktx policy test` and `cargo test` run them.
//!
//! A case file is a JSON array of cases:
//!
//! ```json
//! [{"name": "a trivial bound is refused",
//!   "input": {"tenant": "acme", "plan": "pro", "circuit": "zktx/overlap/v1/capacity-16", "tier": 16,
//!             "k": 16, "batch_size": 1, "transport": "grpc", "method": "verify",
//!             "profile": "prod", "key_origin": "ceremony"},
//!   "allow": false,
//!   "denials": [{"rule": "trivial-bound", "reason": "..."}]}]
//! ```
//!
//! `denials` (default: none) must equal the decision's denials exactly (in
//! rule order); `waived` (default: none) lists the ids of waivers expected to
//! be used; `at` (RFC 3339) decides the case at that time instead of now.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;

use super::error::PolicyError;
use super::gate::{Denial, PolicyGate};
use super::input::PolicyInput;

/// The built-in bundle's cases (`governance/policy/tests/admission.json`).
pub const BUILTIN_CASES: &str = include_str!("../../policy/tests/admission.json");

/// One case.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCase {
    /// What the case shows.
    pub name: String,
    /// The request.
    pub input: PolicyInput,
    /// Decide at this time (default: now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// Whether the request is allowed.
    pub allow: bool,
    /// The denials expected, exactly.
    #[serde(default)]
    pub denials: Vec<Denial>,
    /// The waivers expected to be used (their ids).
    #[serde(default)]
    pub waived: Vec<String>,
}

/// A case that did not get the decision it expected.
#[derive(Clone, Debug)]
pub struct CaseFailure {
    /// The case file.
    pub file: PathBuf,
    /// The case's name.
    pub name: String,
    /// Expected against got.
    pub message: String,
}

/// What a run of cases found.
#[derive(Clone, Debug, Default)]
pub struct CaseReport {
    /// Cases run.
    pub cases: usize,
    /// Those that failed.
    pub failures: Vec<CaseFailure>,
}

/// Parses a case file's text (`file` names it in errors).
pub fn parse_cases(file: &str, text: &str) -> Result<Vec<PolicyCase>, PolicyError> {
    serde_json::from_str(text).map_err(|e| PolicyError::data(file, e.to_string()))
}

/// Runs `cases` (from `file`) against `gate`, adding to `report`.
pub fn check_cases(gate: &PolicyGate, file: &Path, cases: &[PolicyCase], report: &mut CaseReport) {
    for case in cases {
        report.cases += 1;
        let decision = gate.decide_at(&case.input, case.at.unwrap_or_else(OffsetDateTime::now_utc));
        let waived: Vec<&str> = decision.waived.iter().map(|w| w.waiver.as_str()).collect();
        let mut problems = Vec::new();
        if decision.allowed() != case.allow {
            problems.push(format!(
                "expected allow = {}, got {:?}",
                case.allow, decision.outcome
            ));
        }
        if decision.denials != case.denials {
            problems.push(format!(
                "expected denials {:?}, got {:?}",
                case.denials, decision.denials
            ));
        }
        if waived != case.waived {
            problems.push(format!(
                "expected waivers {:?}, got {:?}",
                case.waived, waived
            ));
        }
        if let Some(failure) = &decision.failure {
            problems.push(format!("evaluation failed: {failure}"));
        }
        if !problems.is_empty() {
            report.failures.push(CaseFailure {
                file: file.to_path_buf(),
                name: case.name.clone(),
                message: problems.join("; "),
            });
        }
    }
}

/// Runs every `*.json` case file in `dir` (in name order) against `gate`.
/// A directory without case files is an error: a test run that tests
/// nothing must not pass.
pub fn run_cases(gate: &PolicyGate, dir: &Path) -> Result<CaseReport, PolicyError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PolicyError::read(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "json") && path.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(PolicyError::read(dir, "no *.json case file"));
    }
    let mut report = CaseReport::default();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| PolicyError::read(&file, e))?;
        let cases = parse_cases(&file.display().to_string(), &text)?;
        check_cases(gate, &file, &cases, &mut report);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyBundle;

    #[test]
    fn the_builtin_cases_pass_against_the_builtin_bundle() {
        let gate = PolicyGate::new(PolicyBundle::builtin()).unwrap();
        let cases = parse_cases("admission.json", BUILTIN_CASES).unwrap();
        assert!(cases.len() >= 6);
        let mut report = CaseReport::default();
        check_cases(&gate, Path::new("admission.json"), &cases, &mut report);
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
    }

    #[test]
    fn a_case_with_the_wrong_expectation_fails() {
        let gate = PolicyGate::new(PolicyBundle::builtin()).unwrap();
        let mut cases = parse_cases("admission.json", BUILTIN_CASES).unwrap();
        for case in &mut cases {
            case.allow = !case.allow;
        }
        let mut report = CaseReport::default();
        check_cases(&gate, Path::new("x.json"), &cases, &mut report);
        assert_eq!(report.failures.len(), cases.len());
    }
}
