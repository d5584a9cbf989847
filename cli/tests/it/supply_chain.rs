//! `zktx supply-chain check` end to end: a fake critical advisory and a
//! denied licence block the release (exit 1, each finding named, scan.json
//! written with the snapshot), then an unexpired waiver per finding in a
//! policy bundle lets it pass, and an expired one does not.

use std::path::Path;
use std::process::{Command, Output};

fn zktx(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

const SBOM: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
  "metadata": {"component": {"name": "zktx", "version": "0.1.0", "licenses": [{"expression": "Apache-2.0"}]}},
  "components": [
    {"name": "serde", "version": "1.0.0", "licenses": [{"expression": "MIT OR Apache-2.0"}]},
    {"name": "copyleft", "version": "3.1.0", "licenses": [{"expression": "GPL-3.0-only"}]}
  ]}"#;

const REPORT: &str = concat!(
    r#"{"fields":{"advisory":{"id":"RUSTSEC-2099-0001","informational":null,"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","title":"A fake remote code execution"},"code":"vulnerability","graphs":[{"Krate":{"name":"serde","version":"1.0.0"}}],"message":"x","severity":"error"},"type":"diagnostic"}"#,
    "\n",
    r#"{"fields":{"advisories":{"errors":1},"bans":{"errors":0},"sources":{"errors":0}},"type":"summary"}"#,
    "\n"
);

fn waiver(id: &str, rule: &str, expires: &str) -> String {
    format!(
        r#"{{"id": "{id}", "rule": "{rule}", "reason": "fake finding in a test",
          "owner": "security", "expires": "{expires}"}}"#
    )
}

#[test]
fn a_fake_advisory_and_a_denied_licence_block_until_waived() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sbom.json"), SBOM).unwrap();
    std::fs::write(d.join("deny.jsonl"), REPORT).unwrap();
    std::fs::create_dir_all(d.join("db/crates")).unwrap();
    std::fs::write(
        d.join("db/SNAPSHOT.md"),
        "copied at commit bf5c0d245a92671908518d7e765914d437954ed6 (2026-08-21).",
    )
    .unwrap();
    let run = |policy: Option<&str>, out: &str| {
        let mut args = vec![
            "supply-chain",
            "check",
            "--sbom",
            "sbom.json",
            "--deny-report",
            "deny.jsonl",
            "--advisory-db",
            "db",
            "--out",
            out,
        ];
        if let Some(policy) = policy {
            args.extend(["--policy", policy]);
        }
        zktx(d, &args)
    };
    let check = |policy: Option<&str>| {
        let out = run(policy, "scan.json");
        let scan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("scan.json")).unwrap()).unwrap();
        (out, scan)
    };

    let (out, scan) = check(None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("BLOCKED advisory:RUSTSEC-2099-0001") && stderr.contains("critical"),
        "{stderr}"
    );
    assert!(
        stderr.contains("BLOCKED licence:copyleft@3.1.0") && stderr.contains("GPL-3.0-only"),
        "{stderr}"
    );
    assert_eq!(
        scan["advisory_snapshot"]["commit"],
        "bf5c0d245a92671908518d7e765914d437954ed6"
    );
    assert_eq!(scan["advisory_snapshot"]["date"], "2026-08-21");
    assert_eq!(scan["gate"]["outcome"], "denied");
    assert_eq!(scan["vulnerabilities"], 1);

    // The shipped bundle with a waivers file: unexpired waivers let it pass.
    let bundle = d.join("policy");
    std::fs::create_dir_all(&bundle).unwrap();
    for (name, text) in zktx_governance::supply_chain::BUILTIN_FILES {
        std::fs::write(bundle.join(name), text).unwrap();
    }
    let waivers = |expires: &str| {
        format!(
            r#"{{"waivers": [{}, {}]}}"#,
            waiver("W-1", "advisory:RUSTSEC-2099-0001", expires),
            waiver("W-2", "licence:copyleft@3.1.0", expires)
        )
    };
    std::fs::write(bundle.join("waivers.json"), waivers("2999-01-01T00:00:00Z")).unwrap();
    let (out, scan) = check(Some("policy"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("waived: advisory:RUSTSEC-2099-0001 by waiver W-1 (owner security)"),
        "{stdout}"
    );
    assert_eq!(scan["gate"]["outcome"], "waived");

    // Expired waivers lift nothing.
    std::fs::write(bundle.join("waivers.json"), waivers("2020-01-01T00:00:00Z")).unwrap();
    let (out, scan) = check(Some("policy"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(scan["gate"]["denials"].as_array().unwrap().len(), 2);

    // A report from a scan that did not finish is refused, not passed.
    std::fs::write(d.join("deny.jsonl"), "").unwrap();
    let out = run(None, "scan2.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not finish"));
}
