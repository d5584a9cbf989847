//! `zktx evidence` over a small release made the way `scripts/release.sh`
//! makes one: the page answers each question from the release's files, its
//! signed digests verify with `zktx attest verify`, an edited page is
//! refused, and a failed test run or a broken release shows on the page.

use std::path::Path;
use std::process::{Command, Output};

use crate::serve::{run, zktx};

fn repo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

fn head() -> String {
    let out = Command::new("git")
        .args(["-C", &repo(), "rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A release directory: tier 4 dev keys, an SBOM, a scan whose gate passed,
/// and provenance over them signed with a throwaway key.
fn release(dir: &Path) {
    zktx(
        dir,
        &[
            "setup",
            "--tier",
            "4",
            "--out",
            "rel/keys",
            "--dev-seed",
            "ev",
        ],
    );
    std::fs::remove_file(dir.join("rel/keys/tier-4/proving_key.bin")).unwrap();
    std::fs::write(
        dir.join("rel/sbom.cdx.json"),
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#,
    )
    .unwrap();
    let scan = serde_json::json!({
        "format": "zktx-scan/v1",
        "scanner": "cargo-deny 0.20.2",
        "advisory_snapshot": {"commit": "bf5c0d245a92671908518d7e765914d437954ed6", "date": "2026-08-21", "advisories": 1205},
        "sbom": {"sha256": "00", "components": 316, "licences": {"MIT OR Apache-2.0": 200}},
        "advisories": [{"id": "RUSTSEC-2024-0388", "package": "derivative", "version": "2.2.0", "kind": "unmaintained", "severity": "unknown"}],
        "problems": [],
        "gate": {"outcome": "allowed", "denials": [], "waived": [], "policy_sha256": "f89fca88114700", "policy_version": "1.0.0"},
    });
    std::fs::write(dir.join("rel/scan.json"), scan.to_string()).unwrap();
    let commit = head();
    zktx(
        dir,
        &[
            "attest",
            "provenance",
            "--artifacts",
            "rel",
            "--subject",
            "sbom.cdx.json",
            "--subject",
            "scan.json",
            "--subject",
            "keys/tier-4/verifying_key.bin",
            "--subject",
            "keys/tier-4/manifest.json",
            "--commit",
            &commit,
            "--cargo-lock",
            &format!("{}/Cargo.lock", repo()),
            "--out",
            "rel/provenance.dsse.json",
            "--public-key-out",
            "rel/provenance.pub",
        ],
    );
}

fn tests_summary(dir: &Path, failed: u64) {
    let summary = serde_json::json!({
        "commit": head(), "dirty": false, "finished_at": "2026-12-03T00:00:00+00:00",
        "passed": 512, "failed": failed, "ignored": 1,
        "stages": [{"name": "cargo-test", "seconds": 600, "status": "passed"}],
    });
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
}

fn evidence(dir: &Path, out: &str) -> Output {
    let repo = repo();
    run(
        dir,
        &[
            "evidence",
            "--release",
            "rel",
            "--out",
            out,
            "--tests",
            "summary.json",
            "--source",
            &repo,
            "--runbook",
            &format!("{repo}/deploy/runbooks/deploy-and-rollback.md"),
            "--benches",
            "no-criterion-here",
        ],
    )
}

#[test]
fn the_evidence_pack_answers_from_the_release_and_its_signature_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    release(dir);
    tests_summary(dir, 0);
    let out = evidence(dir, "pack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("verified in"), "{stdout}");

    let page = std::fs::read_to_string(dir.join("pack/index.md")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("rel/keys/tier-4/manifest.json")).unwrap(),
    )
    .unwrap();
    for needle in [
        &head(),
        "512 passed, 0 failed",
        "RustSec `bf5c0d245a92` of 2026-08-21, 1205 advisories",
        "supply-chain gate passed",
        "provenance verified (4 subjects",
        "UNOFFICIAL",
        manifest["vk_fingerprint"].as_str().unwrap(),
        "dev-seed (DEVELOPMENT",
        "RUSTSEC-2024-0388",
        "kubectl -n zktx rollout undo",
        "No criterion results",
    ] {
        assert!(page.contains(needle), "the page lacks {needle}:\n{page}");
    }
    // Development keys: the page says it is not ready, and why.
    assert!(page.contains("NOT READY"));
    assert!(page.contains("| Are its keys fit for production? | 1 of 1 are DEVELOPMENT keys | ✗ |"));
    let html = std::fs::read_to_string(dir.join("pack/index.html")).unwrap();
    assert!(html.contains("<table>") && html.contains("release evidence"));

    // The signed digests check, with zktx's own verifier.
    let public = std::fs::read_to_string(dir.join("pack/evidence.pub")).unwrap();
    let check = |dir: &Path| {
        run(
            dir,
            &[
                "attest",
                "verify",
                "--provenance",
                "pack/evidence.dsse.json",
                "--public-key",
                public.trim(),
                "--artifacts",
                "pack",
            ],
        )
    };
    assert!(check(dir).status.success());
    // An edited page is refused, naming the file.
    std::fs::write(
        dir.join("pack/index.md"),
        page.replace("NOT READY", "READY"),
    )
    .unwrap();
    let refused = check(dir);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("index.md"));
}

#[test]
fn a_failed_test_run_or_a_broken_release_shows_on_the_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    release(dir);
    tests_summary(dir, 3);
    assert!(evidence(dir, "failed").status.success());
    let page = std::fs::read_to_string(dir.join("failed/index.md")).unwrap();
    assert!(page.contains("512 passed, 3 failed"), "{page}");
    assert!(page.contains("| Was it tested? | 512 passed, 3 failed, 1 ignored"));

    // A scan that changed after the provenance was signed: not verified.
    let scan = std::fs::read_to_string(dir.join("rel/scan.json")).unwrap();
    std::fs::write(dir.join("rel/scan.json"), scan.replace("1205", "1206")).unwrap();
    assert!(evidence(dir, "broken").status.success());
    let page = std::fs::read_to_string(dir.join("broken/index.md")).unwrap();
    assert!(page.contains("provenance NOT verified"), "{page}");
    assert!(page.contains("scan.json"), "{page}");

    // No release at all: refused, naming what is missing.
    std::fs::remove_file(dir.join("rel/provenance.dsse.json")).unwrap();
    let out = evidence(dir, "none");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("provenance"));
}
