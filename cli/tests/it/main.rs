//! The `zktx` binary end to end in a temporary directory: commit, setup, prove,
//! verify, refuse — and no identifier ever printed.

mod attest;
mod evidence;
mod observability;
mod otlp;
mod pilot;
mod policy;
mod runbooks;
mod serve;
mod snarkjs;
mod supply_chain;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

const SECRET_MEMBERS_A: [&str; 5] = [
    "alice.secret@example.com",
    "bob.hidden@example.com",
    "carol.private@example.com",
    "dave.unseen@example.com",
    "erin.classified@example.com",
];
const SECRET_MEMBERS_B: [&str; 4] = [
    "carol.private@example.com",
    "dave.unseen@example.com",
    "frank.masked@example.com",
    "grace.veiled@example.com",
];

struct Session {
    dir: tempfile::TempDir,
    transcript: String,
}

impl Session {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            transcript: String::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&mut self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_zktx"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        self.transcript
            .push_str(&String::from_utf8_lossy(&output.stdout));
        self.transcript
            .push_str(&String::from_utf8_lossy(&output.stderr));
        output
    }

    fn write_set(&self, name: &str, members: &[&str]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, members.join("\n") + "\n").unwrap();
        path
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

fn prove_args<'a>(k: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "prove",
        "--keys",
        "keys",
        "--a",
        "a.opening.json",
        "--b",
        "b.opening.json",
        "--k",
        k,
        "--context",
        "0xabc",
        "--out",
        out,
    ]
}

#[test]
fn commit_setup_prove_verify_refuse() {
    let mut s = Session::new();
    s.write_set("a.csv", &SECRET_MEMBERS_A);
    s.write_set("b.csv", &SECRET_MEMBERS_B);
    for side in ["a", "b"] {
        let out = s.run(&[
            "commit",
            "--set",
            &format!("{side}.csv"),
            "--tier",
            "8",
            "--out",
            side,
        ]);
        assert_eq!(code(&out), 0, "{}", s.transcript);
    }
    let mode = std::fs::metadata(s.path("a.opening.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "openings are private files");
    // Committing again would orphan the old commitment: refused without --force.
    assert_ne!(
        code(&s.run(&["commit", "--set", "a.csv", "--tier", "8", "--out", "a"])),
        0
    );

    let out = s.run(&[
        "setup",
        "--tier",
        "8",
        "--out",
        "keys",
        "--dev-seed",
        "cli-test",
    ]);
    assert_eq!(code(&out), 0, "{}", s.transcript);
    assert!(String::from_utf8_lossy(&out.stderr).contains("DEVELOPMENT KEYS"));
    // Replacing keys would invalidate every proof made with them: refused without --force.
    let out = s.run(&[
        "setup",
        "--tier",
        "8",
        "--out",
        "keys",
        "--dev-seed",
        "other",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--force"),
        "{}",
        s.transcript
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("keys/tier-8/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["dev_keys"], true);
    assert_eq!(manifest["tier"], 8);

    // The true overlap is 2: k = 2 proves and verifies.
    let out = s.run(&prove_args("2", "proof.json"));
    assert_eq!(code(&out), 0, "{}", s.transcript);
    let out = s.run(&["verify", "--keys", "keys", "proof.json"]);
    assert_eq!(
        (code(&out), stdout(&out).trim()),
        (0, "valid"),
        "{}",
        s.transcript
    );

    // k = 1 is false: refused with exit 3 and nothing written.
    let out = s.run(&prove_args("1", "false.json"));
    assert_eq!(code(&out), 3, "{}", s.transcript);
    assert!(String::from_utf8_lossy(&out.stderr).contains("statement is false"));
    assert!(!s.path("false.json").exists());

    // A proof edited to claim k = 1 is invalid.
    let edited = std::fs::read_to_string(s.path("proof.json"))
        .unwrap()
        .replace("\"k\": 2", "\"k\": 1");
    std::fs::write(s.path("edited.json"), edited).unwrap();
    let out = s.run(&["verify", "--keys", "keys", "edited.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).starts_with("invalid: "), "{}", stdout(&out));

    // A malformed file, and keys that are missing.
    std::fs::write(s.path("junk.json"), "not json").unwrap();
    let out = s.run(&["verify", "--keys", "keys", "junk.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("malformed"));
    let out = s.run(&["verify", "--keys", "nowhere", "proof.json"]);
    assert_eq!(code(&out), 4);

    // The keys, exported as a ceremony would hand them over, import into another directory.
    let out = s.run(&[
        "keys",
        "import",
        "--tier",
        "8",
        "--vk",
        "keys/tier-8/verifying_key.bin",
        "--pk",
        "keys/tier-8/proving_key.bin",
        "--out",
        "imported",
    ]);
    assert_eq!(code(&out), 0, "{}", s.transcript);
    let out = s.run(&["verify", "--keys", "imported", "proof.json"]);
    assert_eq!(stdout(&out).trim(), "valid", "{}", s.transcript);
    let out = s.run(&["keys", "list", "--keys", "imported"]);
    assert!(stdout(&out).contains("ceremony"), "{}", stdout(&out));
    let out = s.run(&["keys", "list", "--keys", "keys"]);
    assert!(stdout(&out).contains("dev-seed (DEV)"), "{}", stdout(&out));

    // Many files at once: one line per file, in order, then a summary.
    let out = s.run(&[
        "verify-batch",
        "--keys",
        "keys",
        "--threads",
        "2",
        "proof.json",
        "proof.json",
    ]);
    assert_eq!(code(&out), 0, "{}", s.transcript);
    assert!(
        stdout(&out).starts_with(
            "proof.json: valid\nproof.json: valid\nsummary: 2 proofs, 2 valid, 0 invalid"
        ),
        "{}",
        stdout(&out)
    );
    let out = s.run(&[
        "verify-batch",
        "--keys",
        "keys",
        "--backend",
        "arkworks",
        "proof.json",
        "edited.json",
        "junk.json",
        "absent.json",
    ]);
    assert_eq!(code(&out), 1, "{}", s.transcript);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "proof.json: valid");
    assert!(
        lines[1].starts_with("edited.json: invalid: proof does not verify"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("junk.json: invalid: malformed"),
        "{lines:?}"
    );
    assert!(
        lines[3].starts_with("absent.json: invalid: cannot read"),
        "{lines:?}"
    );
    assert!(
        lines[4].starts_with("summary: 4 proofs, 1 valid, 3 invalid"),
        "{lines:?}"
    );
    let out = s.run(&["verify-batch", "--keys", "imported", "proof.json"]);
    assert_eq!(code(&out), 0, "{}", s.transcript);
    let out = s.run(&["verify-batch", "--keys", "nowhere", "proof.json"]);
    assert_eq!(code(&out), 4);

    // No identifier appears in anything the commands printed, nor in the public files.
    let public = [
        std::fs::read_to_string(s.path("a.commitment.json")).unwrap(),
        std::fs::read_to_string(s.path("proof.json")).unwrap(),
    ];
    for member in SECRET_MEMBERS_A.iter().chain(&SECRET_MEMBERS_B) {
        let local = member.split('@').next().unwrap();
        assert!(!s.transcript.contains(local), "{member} leaked into output");
        assert!(
            public.iter().all(|text| !text.contains(local)),
            "{member} leaked into a public file"
        );
    }
}

#[test]
fn bad_sets_are_refused_with_their_line_number() {
    let mut s = Session::new();
    std::fs::write(s.path("gap.csv"), "one@example.com\n\nthree@example.com\n").unwrap();
    let out = s.run(&["commit", "--set", "gap.csv", "--tier", "4", "--out", "gap"]);
    assert_ne!(code(&out), 0);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2"),
        "{}",
        s.transcript
    );
    s.write_set("big.csv", &SECRET_MEMBERS_A);
    let out = s.run(&["commit", "--set", "big.csv", "--tier", "4", "--out", "big"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 5"),
        "{}",
        s.transcript
    );
    assert!(!Path::new(&s.path("big.opening.json")).exists());
    assert!(
        !s.transcript.contains("erin"),
        "the offending identifier is not echoed"
    );
}

#[test]
fn every_command_has_help_with_an_example_and_circuit_info_works() {
    let mut s = Session::new();
    for command in [
        vec!["commit", "--help"],
        vec!["setup", "--help"],
        vec!["prove", "--help"],
        vec!["verify", "--help"],
        vec!["verify-batch", "--help"],
        vec!["circuit", "info", "--help"],
        vec!["keys", "import", "--help"],
        vec!["keys", "list", "--help"],
        vec!["serve", "--help"],
        vec!["receipt", "verify", "--help"],
        vec!["apikey", "new", "--help"],
        vec!["load", "--help"],
        vec!["pilot", "--help"],
    ] {
        let out = s.run(&command);
        assert_eq!(code(&out), 0);
        assert!(
            stdout(&out).contains("Example"),
            "{command:?} has no example"
        );
    }
    let out = s.run(&["circuit", "info", "--tier", "16", "--json"]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["tier"], 16);
    assert_eq!(info["public_inputs"].as_array().unwrap().len(), 4);
    assert!(info["constraints"].as_u64().unwrap() > 0);
    let out = s.run(&["circuit", "info", "--tier", "0"]);
    assert_eq!(code(&out), 2, "tier 0 is a usage error");
}
