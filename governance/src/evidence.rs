//! The evidence pack's page: one document that answers a partner's security
//! review for one release. What changed (commits since the previous tag), was
//! it tested (the test and bench summaries CI wrote), is it compliant (SBOM
//! digest, scan and licence gate with the advisory snapshot's date,
//! provenance verified, policy bundle hash, key fingerprints and origins) and
//! how it is rolled back (the runbook). Written as Markdown and as HTML from
//! the same Markdown; `zktx evidence` gathers the facts, signs both files'
//! digests like the provenance and checks the result.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

/// One commit since the previous tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The abbreviated commit id.
    pub id: String,
    /// Its subject line.
    pub subject: String,
}

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The release's commit.
    pub head: String,
    /// The previous tag, if there is one.
    pub since: Option<String>,
    /// The commits after it (all of them without a tag), newest first.
    pub commits: Vec<Commit>,
}

/// One stage CI ran (`scripts/test.sh`'s summary).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Stage {
    /// Its name.
    pub name: String,
    /// How long it took.
    pub seconds: u64,
    /// `passed` or `failed`.
    pub status: String,
}

/// What `scripts/test.sh` wrote about the tests it ran
/// (`target/ci/test-summary.json`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSummary {
    /// The commit tested.
    pub commit: String,
    /// Whether the tree had uncommitted changes.
    pub dirty: bool,
    /// When the run ended (RFC 3339).
    pub finished_at: String,
    /// Tests passed, over every `cargo test` binary.
    pub passed: u64,
    /// Tests failed.
    pub failed: u64,
    /// Tests ignored.
    pub ignored: u64,
    /// The stages, in order, with their times.
    pub stages: Vec<Stage>,
}

/// One criterion benchmark's latest mean.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchFigure {
    /// The benchmark's id (group/function/parameter).
    pub name: String,
    /// Its mean time per iteration, in nanoseconds.
    pub mean_ns: f64,
}

/// One advisory the scan found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisoryLine {
    /// The RustSec id.
    pub id: String,
    /// `crate@version`.
    pub package: String,
    /// `vulnerability`, `unmaintained`...
    pub kind: String,
    /// `critical`, `high`, ... or `informational`.
    pub severity: String,
}

/// The scan and the supply-chain gate, from `scan.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanFacts {
    /// The scanner (cargo-deny's version).
    pub scanner: String,
    /// The advisory snapshot's commit.
    pub snapshot_commit: String,
    /// The advisory snapshot's date: advisories after it are not covered.
    pub snapshot_date: String,
    /// Advisories in the snapshot.
    pub snapshot_advisories: Option<u64>,
    /// Components in the SBOM, and their licence expressions with counts.
    pub components: u64,
    /// Licence expression → components.
    pub licences: BTreeMap<String, u64>,
    /// What was found.
    pub advisories: Vec<AdvisoryLine>,
    /// Ban and source errors.
    pub problems: u64,
    /// The gate's decision.
    pub gate_allowed: bool,
    /// The gate's denials (`rule: message`).
    pub denials: Vec<String>,
    /// Waivers used (`id (owner, until expiry): rule`).
    pub waived: Vec<String>,
    /// The supply-chain policy bundle's SHA-256.
    pub gate_policy_sha256: String,
}

/// The release provenance, as checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenanceFacts {
    /// `Ok(subjects)` when the envelope, signature and every subject's
    /// digest checked; the reason otherwise.
    pub verified: Result<usize, String>,
    /// Signed with a configured key, not a throwaway one.
    pub official: bool,
    /// The signer's public key (hex).
    pub public_key: String,
    /// The source commit it names.
    pub commit: String,
    /// The builder it names.
    pub builder: String,
    /// The cargo profile it names.
    pub profile: String,
    /// The envelope's SHA-256.
    pub sha256: String,
}

/// A verifying key released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    /// Its tier.
    pub tier: usize,
    /// Its fingerprint.
    pub fingerprint: String,
    /// `ceremony`, `single-party` or `dev-seed`.
    pub origin: String,
    /// Whether the provenance names its file.
    pub in_provenance: bool,
}

/// Everything the page says.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidencePage {
    /// The release's version.
    pub version: String,
    /// When the page was made (RFC 3339).
    pub generated_at: String,
    /// What changed.
    pub changes: Changes,
    /// The tests CI ran, if it left a summary.
    pub tests: Option<TestSummary>,
    /// Benchmarks measured on this tree, if any.
    pub benches: Vec<BenchFigure>,
    /// The SBOM's SHA-256.
    pub sbom_sha256: String,
    /// The scan and gate.
    pub scan: ScanFacts,
    /// The provenance check.
    pub provenance: ProvenanceFacts,
    /// The admission policy bundle built into the binary: SHA-256 and version.
    pub policy: (String, String),
    /// The verifying keys.
    pub keys: Vec<KeyFacts>,
    /// Where the rollback runbook lives, and its rollback section (Markdown).
    pub rollback: (String, String),
}

/// A line of the summary table: what is asked, the answer, and whether it holds.
struct Answer {
    question: &'static str,
    answer: String,
    holds: bool,
}

impl EvidencePage {
    fn answers(&self) -> Vec<Answer> {
        let tests = match &self.tests {
            Some(t) => Answer {
                question: "Was it tested?",
                answer: format!(
                    "{} passed, {} failed, {} ignored at {}{}",
                    t.passed,
                    t.failed,
                    t.ignored,
                    short(&t.commit),
                    if t.commit != self.changes.head {
                        " (NOT the release's commit)"
                    } else if t.dirty {
                        " (with uncommitted changes)"
                    } else {
                        ""
                    }
                ),
                holds: t.failed == 0
                    && t.passed > 0
                    && t.commit == self.changes.head
                    && t.stages.iter().all(|s| s.status == "passed"),
            },
            None => Answer {
                question: "Was it tested?",
                answer: "no test summary from CI for this tree".into(),
                holds: false,
            },
        };
        let dev_keys = self.keys.iter().filter(|k| k.origin == "dev-seed").count();
        vec![
            Answer {
                question: "What changed?",
                answer: format!(
                    "{} commits since {}",
                    self.changes.commits.len(),
                    self.changes.since.as_deref().unwrap_or("the first commit")
                ),
                holds: true,
            },
            tests,
            Answer {
                question: "Are its dependencies allowed?",
                answer: format!(
                    "supply-chain gate {} ({} components; advisories as of {})",
                    if self.scan.gate_allowed {
                        "passed"
                    } else {
                        "BLOCKED"
                    },
                    self.scan.components,
                    self.scan.snapshot_date
                ),
                holds: self.scan.gate_allowed,
            },
            Answer {
                question: "Who built it from what?",
                answer: match &self.provenance.verified {
                    Ok(n) => format!(
                        "provenance verified ({n} subjects, commit {}){}",
                        short(&self.provenance.commit),
                        if self.provenance.official {
                            ""
                        } else {
                            "; UNOFFICIAL: signed with a throwaway key"
                        }
                    ),
                    Err(why) => format!("provenance NOT verified: {why}"),
                },
                holds: self.provenance.verified.is_ok()
                    && self.provenance.commit == self.changes.head,
            },
            Answer {
                question: "Are its keys fit for production?",
                answer: if dev_keys > 0 {
                    format!("{dev_keys} of {} are DEVELOPMENT keys", self.keys.len())
                } else {
                    format!("{} keys, none from a development seed", self.keys.len())
                },
                holds: dev_keys == 0
                    && !self.keys.is_empty()
                    && self.keys.iter().all(|k| k.in_provenance),
            },
            Answer {
                question: "How is it rolled back?",
                answer: format!("see below ({})", self.rollback.0),
                holds: !self.rollback.1.trim().is_empty(),
            },
        ]
    }

    /// Whether every answer holds (a release fit for partners).
    pub fn ready(&self) -> bool {
        self.answers().iter().all(|a| a.holds)
    }

    /// The page as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let w = &mut md;
        let _ = writeln!(w, "# zktx {} — release evidence\n", self.version);
        let _ = writeln!(
            w,
            "Commit `{}`, generated {}. {}\n",
            self.changes.head,
            self.generated_at,
            if self.ready() {
                "**Every answer below holds.**"
            } else {
                "**NOT READY: an answer below does not hold (marked ✗).**"
            }
        );
        let _ = writeln!(w, "| question | answer | |\n|---|---|---|");
        for a in self.answers() {
            let _ = writeln!(
                w,
                "| {} | {} | {} |",
                a.question,
                cell(&a.answer),
                if a.holds { "✓" } else { "✗" }
            );
        }

        let _ = writeln!(w, "\n## What changed\n");
        match &self.changes.since {
            Some(tag) => {
                let _ = writeln!(w, "Commits since `{tag}`, newest first:\n");
            }
            None => {
                let _ = writeln!(w, "No earlier tag: every commit, newest first:\n");
            }
        }
        for c in &self.changes.commits {
            let _ = writeln!(w, "- `{}` {}", c.id, inline(&c.subject));
        }

        let _ = writeln!(w, "\n## Was it tested\n");
        match &self.tests {
            Some(t) => {
                let _ = writeln!(
                    w,
                    "`scripts/test.sh` at `{}`{}, finished {}: **{} passed, {} failed, {} ignored**.\n",
                    t.commit,
                    if t.dirty { " (uncommitted changes)" } else { "" },
                    t.finished_at,
                    t.passed,
                    t.failed,
                    t.ignored
                );
                let _ = writeln!(w, "| stage | seconds | status |\n|---|---:|---|");
                for s in &t.stages {
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} |",
                        cell(&s.name),
                        s.seconds,
                        cell(&s.status)
                    );
                }
            }
            None => {
                let _ = writeln!(
                    w,
                    "CI left no test summary (`target/ci/test-summary.json`) for this tree."
                );
            }
        }
        let _ = writeln!(w, "\n### Benchmarks\n");
        if self.benches.is_empty() {
            let _ = writeln!(
                w,
                "No criterion results on this tree (`cargo bench` writes them; CI does not run benches). \
                 The last published figures, with the machine and the ratios measured in one run, are in `docs/perf.md`."
            );
        } else {
            let _ = writeln!(
                w,
                "Criterion means measured on this tree (compare as ratios within one run):\n"
            );
            let _ = writeln!(w, "| benchmark | mean |\n|---|---:|");
            for b in &self.benches {
                let _ = writeln!(w, "| {} | {} |", cell(&b.name), duration(b.mean_ns));
            }
        }

        let s = &self.scan;
        let _ = writeln!(w, "\n## Is it compliant\n");
        let _ = writeln!(w, "| item | value |\n|---|---|");
        let _ = writeln!(
            w,
            "| SBOM (CycloneDX, `sbom.cdx.json`) SHA-256 | `{}` |",
            self.sbom_sha256
        );
        let _ = writeln!(w, "| components | {} |", s.components);
        let _ = writeln!(w, "| scanner | {} |", cell(&s.scanner));
        let _ = writeln!(
            w,
            "| advisory snapshot | RustSec `{}` of {}{} |",
            short(&s.snapshot_commit),
            s.snapshot_date,
            s.snapshot_advisories
                .map(|n| format!(", {n} advisories"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            w,
            "| supply-chain gate | {} (policy `{}`) |",
            if s.gate_allowed { "passed" } else { "BLOCKED" },
            short(&s.gate_policy_sha256)
        );
        let _ = writeln!(w, "| ban and source errors | {} |", s.problems);
        let _ = writeln!(
            w,
            "| provenance | {} |",
            match &self.provenance.verified {
                Ok(n) => format!(
                    "verified: envelope, Ed25519 signature and {n} subject digests (`provenance.dsse.json` SHA-256 `{}`)",
                    short(&self.provenance.sha256)
                ),
                Err(why) => format!("NOT verified: {}", cell(why)),
            }
        );
        let _ = writeln!(
            w,
            "| signed by | `{}`{} |",
            self.provenance.public_key,
            if self.provenance.official {
                ""
            } else {
                " (throwaway key: UNOFFICIAL)"
            }
        );
        let _ = writeln!(
            w,
            "| built by | {} (profile `{}`) from `{}` |",
            cell(&self.provenance.builder),
            cell(&self.provenance.profile),
            short(&self.provenance.commit)
        );
        let _ = writeln!(
            w,
            "| admission policy bundle | `{}` (version {}) |",
            self.policy.0,
            cell(&self.policy.1)
        );
        if !s.denials.is_empty() {
            let _ = writeln!(w, "\nBlocked by the gate:\n");
            for d in &s.denials {
                let _ = writeln!(w, "- {}", inline(d));
            }
        }
        if !s.waived.is_empty() {
            let _ = writeln!(w, "\nWaivers used:\n");
            for d in &s.waived {
                let _ = writeln!(w, "- {}", inline(d));
            }
        }
        let _ = writeln!(w, "\n### Advisories\n");
        if s.advisories.is_empty() {
            let _ = writeln!(
                w,
                "None in the shipped dependency graph as of {}.",
                s.snapshot_date
            );
        } else {
            let _ = writeln!(w, "| id | package | kind | severity |\n|---|---|---|---|");
            for a in &s.advisories {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} |",
                    cell(&a.id),
                    cell(&a.package),
                    cell(&a.kind),
                    cell(&a.severity)
                );
            }
        }
        let _ = writeln!(w, "\n### Licences\n");
        let _ = writeln!(w, "| expression | components |\n|---|---:|");
        for (expr, n) in &s.licences {
            let _ = writeln!(w, "| {} | {} |", cell(expr), n);
        }
        let _ = writeln!(w, "\n### Verifying keys\n");
        let _ = writeln!(
            w,
            "| tier | fingerprint | origin | in provenance |\n|---:|---|---|---|"
        );
        for k in &self.keys {
            let _ = writeln!(
                w,
                "| {} | `{}` | {} | {} |",
                k.tier,
                k.fingerprint,
                if k.origin == "dev-seed" {
                    "**dev-seed (DEVELOPMENT: anyone can forge proofs)**".to_string()
                } else {
                    cell(&k.origin)
                },
                if k.in_provenance { "yes" } else { "**no**" }
            );
        }

        let _ = writeln!(w, "\n## How is it rolled back\n");
        let _ = writeln!(w, "From `{}`:\n", self.rollback.0);
        let _ = writeln!(w, "{}", demote(&self.rollback.1));
        md
    }

    /// The page as a standalone HTML document (the Markdown, rendered).
    pub fn html(&self) -> String {
        let markdown = self.markdown();
        let parser =
            pulldown_cmark::Parser::new_ext(&markdown, pulldown_cmark::Options::ENABLE_TABLES);
        let mut body = String::new();
        pulldown_cmark::html::push_html(&mut body, parser);
        format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>zktx {} release evidence</title>\n<style>\n\
             body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}\n\
             table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}\n\
             code{{font-size:.9em}}\n</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.version),
            body
        )
    }
}

/// The first 12 characters of a hex id.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Text safe inside a Markdown table cell: no pipes, no line breaks, no HTML.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text safe on one Markdown line: no line breaks, and no raw HTML (a commit
/// subject or an advisory title is not ours to render as markup).
fn inline(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Headings of an embedded document pushed two levels down, under ours.
fn demote(markdown: &str) -> String {
    let mut in_code = false;
    markdown
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                format!("##{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn duration(ns: f64) -> String {
    match ns {
        ns if ns >= 1e9 => format!("{:.3} s", ns / 1e9),
        ns if ns >= 1e6 => format!("{:.3} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.3} µs", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    }
}

/// The section of `markdown` under the heading `heading` (any level), up to
/// the next heading of the same or a higher level.
pub fn section(markdown: &str, heading: &str) -> Option<String> {
    let mut lines = markdown.lines();
    let level = loop {
        let line = lines.next()?;
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes > 0 && line[hashes..].trim() == heading {
            break hashes;
        }
    };
    let mut out = Vec::new();
    for line in lines {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        out.push(line);
    }
    Some(out.join("\n").trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> EvidencePage {
        let head = "ab".repeat(20);
        EvidencePage {
            version: "0.1.0".into(),
            generated_at: "2026-12-03T00:00:00Z".into(),
            changes: Changes {
                head: head.clone(),
                since: Some("v0.0.9".into()),
                commits: vec![Commit {
                    id: "abababa".into(),
                    subject: "fix <script>alert(1)</script> | pipes".into(),
                }],
            },
            tests: Some(TestSummary {
                commit: head.clone(),
                dirty: false,
                finished_at: "2026-12-03T00:00:00Z".into(),
                passed: 500,
                failed: 0,
                ignored: 1,
                stages: vec![Stage {
                    name: "cargo-test".into(),
                    seconds: 600,
                    status: "passed".into(),
                }],
            }),
            benches: vec![BenchFigure {
                name: "verify/batch/64".into(),
                mean_ns: 1.5e6,
            }],
            sbom_sha256: "cd".repeat(32),
            scan: ScanFacts {
                scanner: "cargo-deny 0.20.2".into(),
                snapshot_commit: "ef".repeat(20),
                snapshot_date: "2026-08-21".into(),
                snapshot_advisories: Some(900),
                components: 316,
                licences: BTreeMap::from([("MIT OR Apache-2.0".into(), 200)]),
                advisories: vec![AdvisoryLine {
                    id: "RUSTSEC-2024-0388".into(),
                    package: "derivative@2.2.0".into(),
                    kind: "unmaintained".into(),
                    severity: "informational".into(),
                }],
                problems: 0,
                gate_allowed: true,
                denials: vec![],
                waived: vec![],
                gate_policy_sha256: "12".repeat(32),
            },
            provenance: ProvenanceFacts {
                verified: Ok(7),
                official: true,
                public_key: "34".repeat(32),
                commit: head,
                builder: "https://zktx.dev/builders/release".into(),
                profile: "release".into(),
                sha256: "56".repeat(32),
            },
            policy: ("78".repeat(32), "2026.11.1".into()),
            keys: vec![KeyFacts {
                tier: 64,
                fingerprint: "9a".repeat(32),
                origin: "ceremony".into(),
                in_provenance: true,
            }],
            rollback: (
                "deploy/runbooks/deploy-and-rollback.md".into(),
                "Run `kubectl rollout undo`.\n\n## Detail\n\nmore".into(),
            ),
        }
    }

    #[test]
    fn a_release_with_every_answer_holding_is_ready_and_says_so() {
        let p = page();
        assert!(p.ready());
        let md = p.markdown();
        assert!(md.contains("**Every answer below holds.**"));
        for needle in [
            "1 commits since v0.0.9",
            "500 passed, 0 failed",
            "RustSec `efefefefefef` of 2026-08-21, 900 advisories",
            &"cd".repeat(32),
            &"78".repeat(32),
            &"9a".repeat(32),
            "RUSTSEC-2024-0388",
            "Run `kubectl rollout undo`.",
            "| verify/batch/64 | 1.500 ms |",
        ] {
            assert!(md.contains(needle), "missing {needle}:\n{md}");
        }
        // The embedded runbook's headings sit under ours.
        assert!(md.contains("#### Detail"));
        let html = p.html();
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn each_failing_answer_makes_the_page_not_ready() {
        type Spoil = Box<dyn Fn(&mut EvidencePage)>;
        let cases: Vec<(&str, Spoil)> = vec![
            (
                "a failed test",
                Box::new(|p| p.tests.as_mut().unwrap().failed = 1),
            ),
            ("no test summary", Box::new(|p| p.tests = None)),
            (
                "tests of another commit",
                Box::new(|p| p.tests.as_mut().unwrap().commit = "00".repeat(20)),
            ),
            (
                "a failed stage",
                Box::new(|p| p.tests.as_mut().unwrap().stages[0].status = "failed".into()),
            ),
            ("a blocked gate", Box::new(|p| p.scan.gate_allowed = false)),
            (
                "provenance that does not verify",
                Box::new(|p| p.provenance.verified = Err("subject zktx: digest differs".into())),
            ),
            (
                "provenance of another commit",
                Box::new(|p| p.provenance.commit = "00".repeat(20)),
            ),
            (
                "development keys",
                Box::new(|p| p.keys[0].origin = "dev-seed".into()),
            ),
            (
                "a key outside the provenance",
                Box::new(|p| p.keys[0].in_provenance = false),
            ),
            ("no keys", Box::new(|p| p.keys.clear())),
            ("no rollback runbook", Box::new(|p| p.rollback.1.clear())),
        ];
        for (name, spoil) in cases {
            let mut p = page();
            spoil(&mut p);
            assert!(!p.ready(), "{name} still reads as ready");
            assert!(p.markdown().contains("NOT READY"), "{name}");
            assert!(p.markdown().contains('✗'), "{name}");
        }
    }

    #[test]
    fn outside_text_cannot_inject_markup_or_break_tables() {
        let html = page().html();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        let md = page().markdown();
        let line = md.lines().find(|l| l.contains("abababa")).unwrap();
        assert!(!line.contains("</script>"));
    }

    #[test]
    fn a_section_is_cut_at_the_next_heading_of_its_level() {
        let doc =
            "# Title\n\n## Deploy\n\nA\n\n## Roll back\n\nB\n\n### Detail\n\nC\n\n## Next\n\nD\n";
        assert_eq!(section(doc, "Roll back").unwrap(), "B\n\n### Detail\n\nC");
        assert_eq!(section(doc, "Absent"), None);
    }
}
