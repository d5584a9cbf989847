//! cargo-deny's JSON report (one diagnostic per line, then a summary) read
//! into what the gate and the evidence pack need: advisories with their
//! CVSS severity, and cargo-deny's errors from the bans and sources checks.
//! The report names the advisory snapshot it was scanned against.

use std::str::FromStr;

use serde::Serialize;

/// Report lines above this count are refused.
pub const MAX_LINES: usize = 100_000;

/// A report that is not cargo-deny's JSON output of a finished run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A line is not JSON of the expected shape (the line number is named).
    #[error("cargo-deny report line {line}: {message}")]
    Line {
        /// 1-based.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No summary line: cargo-deny did not finish, so nothing is known.
    #[error("cargo-deny report has no summary line: the scan did not finish")]
    Unfinished,
    /// The snapshot description does not name a commit and a date.
    #[error("advisory snapshot: {0}")]
    Snapshot(String),
}

/// The advisory database snapshot a scan used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The RustSec advisory-db commit it was copied from.
    pub commit: String,
    /// That commit's date (`YYYY-MM-DD`).
    pub date: String,
    /// Advisories in the snapshot (files under `crates/`), when counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories: Option<usize>,
}

impl Snapshot {
    /// Reads `commit <40 hex> (<YYYY-MM-DD>)` from a snapshot's `SNAPSHOT.md`.
    pub fn from_description(text: &str) -> Result<Self, ScanError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        for pair in words.windows(3) {
            if pair[0] != "commit" {
                continue;
            }
            let commit = pair[1];
            let date = pair[2]
                .trim_start_matches('(')
                .trim_end_matches([')', ',', '.', ':']);
            let hex = commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
            let dated = date.len() == 10
                && date.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if hex && dated {
                return Ok(Self {
                    commit: commit.to_string(),
                    date: date.to_string(),
                    advisories: None,
                });
            }
        }
        Err(ScanError::Snapshot(
            "the description names no `commit <40 hex digits> (<YYYY-MM-DD>)`".into(),
        ))
    }
}

/// One advisory that matched a crate in the graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advisory {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// The affected crate.
    pub package: String,
    /// The version in Cargo.lock.
    pub version: String,
    /// `vulnerability`, or the informational kind (`unmaintained`,
    /// `unsound`, `notice`), or `yanked`.
    pub kind: String,
    /// The advisory's title.
    pub title: String,
    /// The CVSS vector, if the advisory has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<String>,
    /// The vector, or `no CVSS score` (for messages).
    pub cvss_or_none: String,
    /// The CVSS base score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `critical`, `high`, `medium`, `low`, `none` from the score, or
    /// `unknown` without one.
    pub severity: String,
    /// The advisory's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An error cargo-deny's bans or sources check raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `bans` or `sources`.
    pub check: String,
    /// The diagnostic's code and the crate it names (`source-not-allowed/foo@1.0`).
    pub subject: String,
    /// cargo-deny's message.
    pub message: String,
}

/// A finished scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scan {
    /// Every advisory that matched, vulnerabilities and informational ones.
    pub advisories: Vec<Advisory>,
    /// Errors from the bans and sources checks.
    pub problems: Vec<Problem>,
    /// Warnings (duplicate versions and such): counted, not gated.
    pub warnings: usize,
    /// cargo-deny's summary line (errors, warnings, notes per check).
    pub summary: serde_json::Value,
}

const BANS_CODES: &[&str] = &[
    "banned",
    "allowed",
    "not-allowed",
    "wildcard",
    "workspace-duplicate",
    "build-script-not-allowed",
    "exact-features-mismatch",
    "feature-banned",
    "unknown-feature",
    "path-bypassed",
    "checksum-match",
    "denied-by-extension",
    "detected-executable",
    "detected-executable-script",
    "unable-to-check-path",
];

fn severity_of(score: f64) -> &'static str {
    // CVSS v3 qualitative ratings.
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

fn first_crate(fields: &serde_json::Value) -> (String, String) {
    let krate = fields.pointer("/graphs/0/Krate");
    let get = |key: &str| {
        krate
            .and_then(|k| k.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    (get("name"), get("version"))
}

impl Scan {
    /// Reads cargo-deny's `--format json` output (its standard error).
    /// Lines that are not JSON (log lines) are skipped; a run without a
    /// summary line is refused.
    pub fn parse(report: &str) -> Result<Self, ScanError> {
        let mut scan = Scan {
            advisories: Vec::new(),
            problems: Vec::new(),
            warnings: 0,
            summary: serde_json::Value::Null,
        };
        let mut finished = false;
        for (i, line) in report.lines().enumerate() {
            if i >= MAX_LINES {
                return Err(ScanError::Line {
                    line: i + 1,
                    message: format!("more than {MAX_LINES} lines"),
                });
            }
            let line_no = i + 1;
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            match value.get("type").and_then(|t| t.as_str()) {
                Some("summary") => {
                    scan.summary = value.get("fields").cloned().unwrap_or_default();
                    finished = true;
                }
                Some("diagnostic") => {
                    let fields = value.get("fields").ok_or_else(|| ScanError::Line {
                        line: line_no,
                        message: "a diagnostic without fields".into(),
                    })?;
                    scan.diagnostic(fields, line_no)?;
                }
                _ => {}
            }
        }
        if !finished {
            return Err(ScanError::Unfinished);
        }
        scan.advisories.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(scan)
    }

    fn diagnostic(&mut self, fields: &serde_json::Value, line: usize) -> Result<(), ScanError> {
        let code = fields.get("code").and_then(|c| c.as_str()).unwrap_or("");
        let severity = fields
            .get("severity")
            .and_then(|c| c.as_str())
            .unwrap_or("");
        let message = fields
            .get("message")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        let (package, version) = first_crate(fields);
        if let Some(advisory) = fields.get("advisory").filter(|a| !a.is_null()) {
            let id = advisory
                .get("id")
                .and_then(|v| v.as_str())
                .ok_or_else(|| ScanError::Line {
                    line,
                    message: "an advisory without an id".into(),
                })?
                .to_string();
            let kind = match advisory.get("informational").and_then(|v| v.as_str()) {
                Some(kind) => kind.to_string(),
                None if code == "yanked" => "yanked".to_string(),
                None => "vulnerability".to_string(),
            };
            let cvss = advisory
                .get("cvss")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let score = match &cvss {
                Some(vector) => Some(
                    cvss::Cvss::from_str(vector)
                        .map_err(|e| ScanError::Line {
                            line,
                            message: format!("{id}: CVSS vector does not parse: {e}"),
                        })?
                        .score(),
                ),
                None => None,
            };
            self.advisories.push(Advisory {
                title: advisory
                    .get("title")
                    .and_then(|v| v.as_str())
                    .unwrap_or(&message)
                    .to_string(),
                url: advisory
                    .get("url")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                cvss_or_none: cvss.clone().unwrap_or_else(|| "no CVSS score".into()),
                severity: score.map_or("unknown", severity_of).to_string(),
                id,
                package,
                version,
                kind,
                cvss,
                score,
            });
            return Ok(());
        }
        if severity != "error" {
            self.warnings += 1;
            return Ok(());
        }
        let check = if BANS_CODES.contains(&code) {
            "bans"
        } else {
            "sources"
        };
        self.problems.push(Problem {
            check: check.to_string(),
            subject: format!("{code}/{package}@{version}"),
            message,
        });
        Ok(())
    }

    /// The vulnerabilities (not informational advisories).
    pub fn vulnerabilities(&self) -> impl Iterator<Item = &Advisory> {
        self.advisories.iter().filter(|a| a.kind == "vulnerability")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const REPORT: &str = concat!(
        r#"{"fields":{"advisory":{"id":"RUSTSEC-2024-0388","informational":"unmaintained","cvss":null,"title":"`derivative` is unmaintained","url":"https://example.invalid/1"},"code":"unmaintained","graphs":[{"Krate":{"name":"derivative","version":"2.2.0"}}],"message":"unmaintained","severity":"error"},"type":"diagnostic"}"#,
        "\n",
        r#"{"fields":{"advisory":{"id":"RUSTSEC-2026-0187","informational":null,"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H","title":"Stack overflow in lopdf"},"code":"vulnerability","graphs":[{"Krate":{"name":"lopdf","version":"0.34.0"}}],"message":"x","severity":"error"},"type":"diagnostic"}"#,
        "\n",
        "2026-12-02 17:44:03 [INFO] a log line that is not JSON\n",
        r#"{"fields":{"code":"duplicate","graphs":[{"Krate":{"name":"syn","version":"1.0.109"}}],"message":"found 2 duplicate entries for crate 'syn'","severity":"warning"},"type":"diagnostic"}"#,
        "\n",
        r#"{"fields":{"code":"source-not-allowed","graphs":[{"Krate":{"name":"evil","version":"0.1.0"}}],"message":"detected 'git' source not specifically allowed","severity":"error"},"type":"diagnostic"}"#,
        "\n",
        r#"{"fields":{"advisories":{"errors":2,"warnings":0},"bans":{"errors":0,"warnings":1},"sources":{"errors":1,"warnings":0}},"type":"summary"}"#,
        "\n",
    );

    #[test]
    fn a_report_is_read_with_severities() {
        let scan = Scan::parse(REPORT).unwrap();
        assert_eq!(scan.advisories.len(), 2);
        let unmaintained = &scan.advisories[0];
        assert_eq!(
            (unmaintained.kind.as_str(), unmaintained.severity.as_str()),
            ("unmaintained", "unknown")
        );
        let vulnerability = &scan.advisories[1];
        assert_eq!(vulnerability.kind, "vulnerability");
        assert_eq!(vulnerability.score, Some(7.5));
        assert_eq!(vulnerability.severity, "high");
        assert_eq!(
            (
                vulnerability.package.as_str(),
                vulnerability.version.as_str()
            ),
            ("lopdf", "0.34.0")
        );
        assert_eq!(scan.vulnerabilities().count(), 1);
        assert_eq!(scan.warnings, 1);
        assert_eq!(scan.problems.len(), 1);
        assert_eq!(scan.problems[0].check, "sources");
        assert_eq!(scan.problems[0].subject, "source-not-allowed/evil@0.1.0");
        assert_eq!(severity_of(9.8), "critical");
        assert_eq!(severity_of(5.0), "medium");
        assert_eq!(severity_of(0.0), "none");
    }

    #[test]
    fn an_unfinished_or_malformed_report_is_refused() {
        let unfinished: String = REPORT.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(matches!(
            Scan::parse(&unfinished),
            Err(ScanError::Unfinished)
        ));
        assert!(matches!(Scan::parse(""), Err(ScanError::Unfinished)));
        let bad_cvss = REPORT.replace("AV:N/AC:L", "AV:Q/AC:L");
        let error = Scan::parse(&bad_cvss).unwrap_err().to_string();
        assert!(
            error.contains("RUSTSEC-2026-0187") && error.contains("line 2"),
            "{error}"
        );
    }

    #[test]
    fn the_snapshot_is_named_from_its_description() {
        let snapshot = Snapshot::from_description(
            "taken from its\nrepository at commit bf5c0d245a92671908518d7e765914d437954ed6 (2026-08-21). License",
        )
        .unwrap();
        assert_eq!(snapshot.commit, "bf5c0d245a92671908518d7e765914d437954ed6");
        assert_eq!(snapshot.date, "2026-08-21");
        assert!(Snapshot::from_description("commit abc (yesterday)").is_err());
    }
}
