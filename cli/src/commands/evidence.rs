//! `zktx evidence`: the release's evidence pack, one page (Markdown and HTML)
//! answering a partner's security review, its digests signed like the
//! provenance, and checked before the command reports success.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use zktx_formats::KeyDir;
use zktx_governance::evidence::{
    section, AdvisoryLine, BenchFigure, Changes, Commit, EvidencePage, KeyFacts, ProvenanceFacts,
    ScanFacts, TestSummary,
};
use zktx_governance::provenance::{self, file_sha256, statement, subjects};
use zktx_governance::PolicyBundle;

use super::attest::{build_facts, now_rfc3339, signing_key, SOURCE_URI};
use crate::exit::{Coded, FAILURE};

/// The most commits listed.
const MAX_COMMITS: usize = 500;

/// The signed statement's build type: an evidence pack, not a build.
const EVIDENCE_BUILD_TYPE: &str = "https://zktx.dev/evidence-pack/v1";

/// `zktx evidence` arguments.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx evidence --release dist --out docs/evidence/0.1.0 --key-file /secure/release.key

Reads the release directory scripts/release.sh wrote (SBOM, scan.json, provenance, keys), the
test summary scripts/test.sh wrote (target/ci/test-summary.json), criterion results if any
(target/criterion), the git history since the previous tag and the rollback runbook. Writes
index.md and index.html, then evidence.dsse.json: an in-toto statement over both files, signed
like the provenance (--key-file or ZKTX_PROVENANCE_KEY; else a throwaway key, marked
unofficial), and evidence.pub. Checks the pack it wrote and prints the time taken. Exit 0 when
the pack verifies, even if the page says NOT READY (the page says why).")]
pub struct Args {
    /// The release directory (scripts/release.sh --out DIR).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    release: PathBuf,
    /// Where to write the pack (created; files in it are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The release's version (default: this binary's).
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// The test summary CI wrote.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/ci/test-summary.json"
    )]
    tests: PathBuf,
    /// Criterion's results directory.
    #[arg(long, value_name = "DIR", default_value = "target/criterion")]
    benches: PathBuf,
    /// The runbook whose "Roll back" section the page carries.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "deploy/runbooks/deploy-and-rollback.md"
    )]
    runbook: PathBuf,
    /// The source checkout (its git history and Cargo.lock).
    #[arg(long, value_name = "DIR", default_value = ".")]
    source: PathBuf,
    /// The signing key (32 raw bytes or 64 hex); else ZKTX_PROVENANCE_KEY; else a throwaway key.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

fn git(source: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(source)
        .args(args)
        .output()
        .context("git could not be run")?;
    anyhow::ensure!(
        output.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn changes(source: &Path) -> anyhow::Result<Changes> {
    let head = git(source, &["rev-parse", "HEAD"]).context("source: not a git checkout")?;
    let since = git(source, &["describe", "--tags", "--abbrev=0", "HEAD"]).ok();
    let range = since
        .as_ref()
        .map_or("HEAD".to_string(), |tag| format!("{tag}..HEAD"));
    let log = git(
        source,
        &[
            "log",
            "--no-merges",
            &format!("--max-count={MAX_COMMITS}"),
            "--format=%h%x09%s",
            &range,
        ],
    )?;
    let commits = log
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, subject)| Commit {
            id: id.to_string(),
            subject: subject.to_string(),
        })
        .collect();
    Ok(Changes {
        head,
        since,
        commits,
    })
}

fn read_json(path: &Path, what: &str) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{what}: cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{what}: {} is not JSON", path.display()))
}

fn text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn scan_facts(scan: &serde_json::Value) -> ScanFacts {
    let snapshot = &scan["advisory_snapshot"];
    let gate = &scan["gate"];
    ScanFacts {
        scanner: text(&scan["scanner"]),
        snapshot_commit: text(&snapshot["commit"]),
        snapshot_date: text(&snapshot["date"]),
        snapshot_advisories: snapshot["advisories"].as_u64(),
        components: scan["sbom"]["components"].as_u64().unwrap_or(0),
        licences: scan["sbom"]["licences"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
        advisories: scan["advisories"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| AdvisoryLine {
                id: text(&a["id"]),
                package: format!("{}@{}", text(&a["package"]), text(&a["version"])),
                kind: text(&a["kind"]),
                severity: if text(&a["kind"]) == "vulnerability" {
                    text(&a["severity"])
                } else {
                    "informational".into()
                },
            })
            .collect(),
        problems: scan["problems"].as_array().map_or(0, |p| p.len() as u64),
        gate_allowed: gate["outcome"] == "allowed",
        denials: gate["denials"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| format!("{}: {}", text(&d["rule"]), text(&d["reason"])))
            .collect(),
        waived: gate["waived"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| {
                format!(
                    "{} (owner {}): {}",
                    text(&w["waiver"]),
                    text(&w["owner"]),
                    text(&w["rule"])
                )
            })
            .collect(),
        gate_policy_sha256: text(&gate["policy_sha256"]),
    }
}

fn provenance_facts(release: &Path) -> anyhow::Result<(ProvenanceFacts, Vec<String>)> {
    let file = release.join("provenance.dsse.json");
    let envelope = std::fs::read_to_string(&file)
        .with_context(|| format!("release: no provenance at {}", file.display()))?;
    let public_key = std::fs::read_to_string(release.join("provenance.pub"))
        .context("release: no provenance.pub")?
        .trim()
        .to_string();
    let sha256 = file_sha256(&file)?;
    let opened = provenance::open(&envelope, &public_key);
    let verified = provenance::verify(&envelope, &public_key, release);
    let (statement, official) = match (&verified, &opened) {
        (Ok(v), _) | (Err(_), Ok(v)) => (Some(v.statement.clone()), v.official),
        _ => (None, false),
    };
    let predicate = statement.as_ref().map(|s| s.predicate.clone());
    let dependency = |p: &serde_json::Value| -> String {
        p["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|d| d["digest"]["gitCommit"].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let names = statement
        .as_ref()
        .map(|s| s.subject.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    Ok((
        ProvenanceFacts {
            verified: verified
                .as_ref()
                .map(|v| v.statement.subject.len())
                .map_err(|e| e.to_string()),
            official,
            public_key,
            commit: predicate.as_ref().map(dependency).unwrap_or_default(),
            builder: predicate
                .as_ref()
                .map(|p| text(&p["runDetails"]["builder"]["id"]))
                .unwrap_or_default(),
            profile: predicate
                .as_ref()
                .map(|p| text(&p["buildDefinition"]["internalParameters"]["profile"]))
                .unwrap_or_default(),
            sha256,
        },
        names,
    ))
}

fn key_facts(release: &Path, in_provenance: &[String]) -> anyhow::Result<Vec<KeyFacts>> {
    let keys = KeyDir::new(release.join("keys"));
    let mut out = Vec::new();
    for tier in keys.tiers().context("release: keys")? {
        let manifest = keys.manifest(tier).context("release: keys")?;
        let dir = format!("keys/tier-{}", tier.capacity());
        let origin = serde_json::to_value(manifest.origin)?;
        out.push(KeyFacts {
            tier: tier.capacity(),
            fingerprint: manifest.vk_fingerprint,
            origin: text(&origin),
            in_provenance: [
                format!("{dir}/verifying_key.bin"),
                format!("{dir}/manifest.json"),
            ]
            .iter()
            .all(|n| in_provenance.contains(n)),
        });
    }
    Ok(out)
}

/// Criterion's latest mean of every benchmark under `dir` (none if absent).
fn benches(dir: &Path) -> Vec<BenchFigure> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() || path.file_name().is_some_and(|n| n == "report") {
                continue;
            }
            let estimates = path.join("new/estimates.json");
            if let Ok(value) = read_json(&estimates, "bench") {
                if let Some(mean) = value["mean"]["point_estimate"].as_f64() {
                    let name = path.strip_prefix(dir).unwrap_or(&path);
                    out.push(BenchFigure {
                        name: name.to_string_lossy().into_owned(),
                        mean_ns: mean,
                    });
                }
            } else if path.file_name().is_some_and(|n| n != "new" && n != "base") {
                stack.push(path);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Runs `zktx evidence`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let generated_at = now_rfc3339();
    let scan = read_json(&args.release.join("scan.json"), "release")?;
    let sbom_sha256 =
        file_sha256(&args.release.join("sbom.cdx.json")).context("release: no sbom.cdx.json")?;
    let (provenance, subject_names) = provenance_facts(&args.release)?;
    let tests = if args.tests.is_file() {
        let value = read_json(&args.tests, "tests")?;
        Some(serde_json::from_value::<TestSummary>(value).context("tests: not a test summary")?)
    } else {
        None
    };
    let runbook_text = std::fs::read_to_string(&args.runbook)
        .with_context(|| format!("runbook: cannot read {}", args.runbook.display()))?;
    let rollback = section(&runbook_text, "Roll back").with_context(|| {
        format!(
            "runbook: {} has no \"Roll back\" section",
            args.runbook.display()
        )
    })?;
    let bundle = PolicyBundle::builtin();
    let page = EvidencePage {
        version: args
            .version
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string()),
        generated_at,
        changes: changes(&args.source)?,
        tests,
        benches: benches(&args.benches),
        sbom_sha256,
        scan: scan_facts(&scan),
        keys: key_facts(&args.release, &subject_names)?,
        provenance,
        policy: (bundle.sha256().to_string(), bundle.version().to_string()),
        rollback: (args.runbook.display().to_string(), rollback),
    };

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("out: cannot create {}", args.out.display()))?;
    std::fs::write(args.out.join("index.md"), page.markdown())?;
    std::fs::write(args.out.join("index.html"), page.html())?;
    let (key, official) = match signing_key(args.key_file.as_deref())? {
        Some(key) => (key, true),
        None => (SigningKey::generate(&mut rand::rngs::OsRng), false),
    };
    let names = ["index.md".to_string(), "index.html".to_string()];
    let facts = build_facts(
        page.changes.head.clone(),
        SOURCE_URI.into(),
        file_sha256(&args.source.join("Cargo.lock")).unwrap_or_default(),
        official,
        page.provenance.profile.clone(),
        page.generated_at.clone(),
    );
    // The same statement as a release's, about the pack's files, saying it
    // was made by `zktx evidence` from the release's provenance.
    let mut signed = statement(subjects(&args.out, &names)?, &facts);
    signed.predicate["buildDefinition"]["buildType"] = EVIDENCE_BUILD_TYPE.into();
    signed.predicate["buildDefinition"]["internalParameters"] = serde_json::json!({
        "command": "zktx evidence",
        "release_provenance_sha256": page.provenance.sha256,
        "ready": page.ready(),
    });
    let envelope = provenance::sign(&signed, &key);
    std::fs::write(args.out.join("evidence.dsse.json"), &envelope)?;
    let public = hex::encode(key.verifying_key().to_bytes());
    std::fs::write(args.out.join("evidence.pub"), format!("{public}\n"))?;

    // The pack as a reader checks it: the envelope, the signature, both digests.
    let written = std::fs::read_to_string(args.out.join("evidence.dsse.json"))?;
    if let Err(e) = provenance::verify(&written, &public, &args.out) {
        eprintln!("evidence pack NOT verified: {e}");
        return Err(Coded { code: FAILURE }.into());
    }
    println!(
        "evidence pack for zktx {} written to {} ({})",
        page.version,
        args.out.display(),
        if page.ready() {
            "every answer holds"
        } else {
            "NOT READY: see the page"
        }
    );
    println!(
        "signed by {public}{}; verified in {:.2} s from a clean start",
        if official {
            ""
        } else {
            " (a throwaway key: UNOFFICIAL)"
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
