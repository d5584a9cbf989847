//! `zktx pilot` and `zktx load` as processes: the pilot passes every check on
//! a fresh data directory and prints no partner identifier; `zktx load` exits
//! 5 when an objective is missed and refuses non-loopback targets.

use std::process::Output;

use crate::serve::{run, serve};

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn the_pilot_passes_every_check_and_prints_no_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "pilot",
            "--data-dir",
            "data",
            "--load-scale",
            "0.01",
            "--statements",
            "4",
        ],
    );
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    for check in [
        "prover",
        "verdicts vs ground truth",
        "receipts verified offline",
        "pilot load",
        "disconnects",
        "kill -9 and restart",
        "graceful shutdown",
    ] {
        let line = printed
            .lines()
            .find(|l| l.starts_with(check) && (l.contains("PASS") || l.contains("FAIL")))
            .unwrap_or_else(|| panic!("no summary line for {check}: {printed}"));
        assert!(line.contains("PASS"), "{line}");
    }
    let runs = dir.path().join("data/pilot");
    let run_dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("pilot-report.json")).unwrap()).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:?}");
    // No partner identifier reaches the console or the server's log.
    let log = std::fs::read_to_string(run_dir.join("server.log")).unwrap();
    let csv = std::fs::read_to_string(run_dir.join("partners/pair-2-a.csv")).unwrap();
    for id in csv.lines() {
        assert!(!printed.contains(id) && !log.contains(id), "{id} leaked");
        assert!(!log.to_lowercase().contains(&id.to_lowercase()));
    }
}

#[test]
fn load_exits_5_on_a_missed_objective_and_targets_only_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    let base = [
        "load",
        "--ready-file",
        "ready.json",
        "--data-dir",
        "data",
        "--statements",
        "4",
        "--rate",
        "40",
        "--duration",
        "1",
        "--mix",
        "valid=3,invalid=1,malformed=1,over-quota=1",
        "--quiet",
    ];
    let out = run(dir.path(), &[&base[..], &["--json", "ok.json"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ok.json")).unwrap()).unwrap();
    let run0 = &report["runs"][0];
    assert_eq!(run0["calls"], 40);
    assert_eq!(run0["wrong_answers"], 0);
    assert_eq!(run0["server_faults"], 0);
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);

    let out = run(
        dir.path(),
        &[&base[..], &["--slo-p99-ms", "0.001"]].concat(),
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("MISSED"));

    let out = run(
        dir.path(),
        &[
            "load",
            "--grpc-addr",
            "192.0.2.1:50051",
            "--data-dir",
            "data",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("loopback"), "{}", text(&out));
    let _ = served.child.kill();
    let _ = served.child.wait();
}
