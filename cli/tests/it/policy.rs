//! `zktx policy`: the shipped bundle's cases pass, a wrong case fails by
//! name, an input is decided with its reasons, a bad bundle is refused.

use std::path::Path;
use std::process::{Command, Output};

fn zktx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(args)
        .output()
        .unwrap()
}

fn shipped_bundle() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../governance/policy")
}

#[test]
fn policy_test_passes_on_the_shipped_bundle_and_names_a_failing_case() {
    let bundle = shipped_bundle();
    let ok = zktx(&["policy", "test", bundle.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let builtin = zktx(&["policy", "test"]);
    assert!(builtin.status.success());
    assert_eq!(
        ok.stdout, builtin.stdout,
        "the built-in bundle is the shipped one"
    );

    // A copy of the bundle whose one case expects the wrong decision.
    let dir = tempfile::tempdir().unwrap();
    for name in ["admission.rego", "data.json", "waivers.json"] {
        std::fs::copy(bundle.join(name), dir.path().join(name)).unwrap();
    }
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/wrong.json"),
        r#"[{"name": "a trivial bound expected allowed",
             "input": {"tenant": "acme", "plan": "pro", "circuit": "zktx/overlap/v1/capacity-16", "tier": 16,
                       "k": 16, "batch_size": 1, "transport": "rest", "method": "verify",
                       "profile": "prod", "key_origin": "ceremony"},
             "allow": true}]"#,
    )
    .unwrap();
    let failed = zktx(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1));
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(
        out.contains("FAIL") && out.contains("a trivial bound expected allowed"),
        "{out}"
    );

    // A bundle whose policy does not parse refuses to load.
    std::fs::write(
        dir.path().join("admission.rego"),
        "package zktx.admission\ndecision := {",
    )
    .unwrap();
    let broken = zktx(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("admission.rego"));
}

#[test]
fn policy_eval_prints_the_decision_and_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    let document = |k: u64| {
        format!(
            r#"{{"tenant": "acme", "plan": "pro", "circuit": "zktx/overlap/v1/capacity-64", "tier": 64, "k": {k},
                "batch_size": 1, "transport": "grpc", "method": "verify", "profile": "prod",
                "key_origin": "ceremony"}}"#
        )
    };
    std::fs::write(&input, document(3)).unwrap();
    let allowed = zktx(&["policy", "eval", "--input", input.to_str().unwrap()]);
    assert!(allowed.status.success());
    let json: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(json["allow"], true);
    assert_eq!(json["policy_sha256"].as_str().unwrap().len(), 64);

    std::fs::write(&input, document(64)).unwrap();
    let denied = zktx(&["policy", "eval", "--input", input.to_str().unwrap()]);
    assert_eq!(denied.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&denied.stdout).unwrap();
    assert_eq!(json["allow"], false);
    assert_eq!(json["decision"]["denials"][0]["rule"], "trivial-bound");

    std::fs::write(&input, r#"{"tenant": "acme"}"#).unwrap();
    let bad = zktx(&["policy", "eval", "--input", input.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("plan"));
}
