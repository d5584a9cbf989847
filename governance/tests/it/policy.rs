//! The policy gate from files on disk: waivers that expire, cases as data,
//! fail-closed decisions and the decision cache.

use std::path::Path;

use time::macros::datetime;
use zktx_formats::KeyOrigin;
use zktx_governance::policy::{run_cases, Outcome, BUILTIN_FILES};
use zktx_governance::{Method, PolicyBundle, PolicyGate, PolicyInput, Profile, Transport};

fn input() -> PolicyInput {
    PolicyInput {
        tenant: "acme".into(),
        plan: "pro".into(),
        circuit: "zktx/overlap/v1/capacity-64".into(),
        tier: 64,
        k: 3,
        batch_size: 1,
        transport: Transport::Grpc,
        method: Method::Verify,
        profile: Profile::Prod,
        key_origin: KeyOrigin::SingleParty,
    }
}

/// The built-in bundle written to `dir`, with `waivers` as its waivers file.
fn bundle_dir(dir: &Path, waivers: &str) {
    for (name, text) in BUILTIN_FILES {
        std::fs::write(dir.join(name), text).unwrap();
    }
    std::fs::write(dir.join("waivers.json"), waivers).unwrap();
}

const WAIVER: &str = r#"{"waivers": [{"id": "W-2026-001", "rule": "single-party-keys-in-prod",
    "tenant": "acme", "reason": "ceremony booked for 2027-01", "owner": "security@zktx",
    "expires": "2026-12-31T00:00:00Z"}]}"#;

#[test]
fn a_waiver_lifts_its_rule_for_its_tenant_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    bundle_dir(dir.path(), WAIVER);
    let gate = PolicyGate::new(PolicyBundle::load(dir.path()).unwrap()).unwrap();

    let before = gate.decide_at(&input(), datetime!(2026-12-30 23:59:59 UTC));
    assert_eq!(before.outcome, Outcome::Waived);
    assert!(before.allowed());
    assert_eq!(before.waived[0].waiver, "W-2026-001");
    assert_eq!(before.waived[0].owner, "security@zktx");

    // The same gate, no reload: at the expiry the waiver no longer works.
    let after = gate.decide_at(&input(), datetime!(2026-12-31 00:00:00 UTC));
    assert_eq!(after.outcome, Outcome::Denied);
    assert_eq!(after.denials[0].rule, "single-party-keys-in-prod");
    assert!(after.waived.is_empty());

    // Another tenant was never covered.
    let mut other = input();
    other.tenant = "globex".into();
    let decision = gate.decide_at(&other, datetime!(2026-12-01 00:00:00 UTC));
    assert_eq!(decision.outcome, Outcome::Denied);

    // A waiver lifts only its rule: a trivial bound stays refused.
    let mut trivial = input();
    trivial.k = 64;
    let decision = gate.decide_at(&trivial, datetime!(2026-12-01 00:00:00 UTC));
    assert_eq!(decision.outcome, Outcome::Denied);
    assert_eq!(decision.denials.len(), 1);
    assert_eq!(decision.denials[0].rule, "trivial-bound");
    assert_eq!(decision.waived.len(), 1);
}

#[test]
fn cases_as_data_run_from_a_directory_and_a_wrong_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    bundle_dir(dir.path(), WAIVER);
    let gate = PolicyGate::new(PolicyBundle::load(dir.path()).unwrap()).unwrap();
    let cases = dir.path().join("tests");
    std::fs::create_dir(&cases).unwrap();
    std::fs::write(
        cases.join("waivers.json"),
        r#"[
          {"name": "waived before expiry", "at": "2026-12-15T00:00:00Z",
           "input": {"tenant": "acme", "plan": "pro", "circuit": "zktx/overlap/v1/capacity-64", "tier": 64,
                     "k": 3, "batch_size": 1, "transport": "grpc", "method": "verify",
                     "profile": "prod", "key_origin": "single-party"},
           "allow": true, "waived": ["W-2026-001"]},
          {"name": "wrongly expected allowed after expiry", "at": "2027-01-02T00:00:00Z",
           "input": {"tenant": "acme", "plan": "pro", "circuit": "zktx/overlap/v1/capacity-64", "tier": 64,
                     "k": 3, "batch_size": 1, "transport": "grpc", "method": "verify",
                     "profile": "prod", "key_origin": "single-party"},
           "allow": true, "waived": ["W-2026-001"]}
        ]"#,
    )
    .unwrap();
    let report = run_cases(&gate, &cases).unwrap();
    assert_eq!(report.cases, 2);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(
        report.failures[0].name,
        "wrongly expected allowed after expiry"
    );
    assert!(report.failures[0].message.contains("expected allow = true"));

    // A directory without case files does not pass quietly.
    let empty = tempfile::tempdir().unwrap();
    assert!(run_cases(&gate, empty.path()).is_err());
    // A malformed case file names itself.
    std::fs::write(cases.join("zz.json"), "[{\"name\": 1}]").unwrap();
    let error = run_cases(&gate, &cases).unwrap_err().to_string();
    assert!(error.contains("zz.json"), "{error}");
}

#[test]
fn the_shipped_cases_pass_on_the_shipped_bundle_from_disk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy");
    let gate = PolicyGate::new(PolicyBundle::load(&root).unwrap()).unwrap();
    assert_eq!(gate.bundle().sha256(), PolicyBundle::builtin().sha256());
    let report = run_cases(&gate, &root.join("tests")).unwrap();
    assert!(report.cases > 0);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
}

#[test]
fn a_bad_waivers_file_refuses_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    bundle_dir(dir.path(), &WAIVER.replace("2026-12-31T00:00:00Z", "soon"));
    let error = PolicyBundle::load(dir.path()).unwrap_err().to_string();
    assert!(error.contains("waivers[0].expires"), "{error}");
}

#[test]
fn decisions_are_cached_per_input_and_equal_to_a_fresh_evaluation() {
    let gate = PolicyGate::new(PolicyBundle::builtin()).unwrap();
    let mut inputs = Vec::new();
    for k in [1, 63, 64] {
        for origin in [
            KeyOrigin::DevSeed,
            KeyOrigin::SingleParty,
            KeyOrigin::Ceremony,
        ] {
            let mut i = input();
            i.k = k;
            i.key_origin = origin;
            inputs.push(i);
        }
    }
    for i in &inputs {
        let first = gate.decide(i);
        let cached = gate.decide(i);
        assert_eq!(first, cached);
        assert_eq!(first.denials, gate.evaluate(i).unwrap());
    }
}
