//! `zktx export snarkjs`, judged by snarkjs itself: `snarkjs groth16 verify`
//! accepts exported valid proofs and refuses them when k, the context or a
//! commitment is changed in `public.json`, or a proof point is swapped.
//!
//! snarkjs is the pinned npm package in `scripts/node` (`scripts/tools.sh
//! node` installs it); without it the snarkjs part is skipped with a
//! message, unless `ZKTX_REQUIRE_SNARKJS=1` (set by `scripts/test.sh`) makes
//! it a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::serve::{proofs, zktx};

fn snarkjs() -> Option<PathBuf> {
    let path = std::env::var_os("ZKTX_SNARKJS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node/node_modules/.bin/snarkjs")
        });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("ZKTX_REQUIRE_SNARKJS").is_none(),
        "snarkjs is required (ZKTX_REQUIRE_SNARKJS) but {} is missing: scripts/tools.sh node installs it",
        path.display()
    );
    eprintln!(
        "skipping the snarkjs check: {} is missing (scripts/tools.sh node)",
        path.display()
    );
    None
}

fn export(dir: &Path, proof: &Path, out: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(["export", "snarkjs", "--keys", "keys"])
        .arg(proof)
        .args(["--out", out])
        .current_dir(dir)
        .output()
        .unwrap()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// `snarkjs groth16 verify` over `dir`'s three files: whether it said OK.
fn snarkjs_accepts(snarkjs: &Path, dir: &Path) -> bool {
    let out = Command::new(snarkjs)
        .args([
            "groth16",
            "verify",
            "verification_key.json",
            "public.json",
            "proof.json",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = stdout.contains("OK!");
    assert_eq!(
        ok,
        out.status.success(),
        "snarkjs's exit status and its verdict disagree: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok
}

fn hex_to_decimal(hex: &str) -> String {
    // Public inputs are below 2^255: four u64 limbs, big-endian hex.
    let digits = hex.trim_start_matches("0x");
    let mut decimal = vec![0u32]; // base 10^9, little-endian
    for c in digits.chars() {
        let mut carry = c.to_digit(16).unwrap();
        for limb in decimal.iter_mut() {
            let v = u64::from(*limb) * 16 + u64::from(carry);
            *limb = (v % 1_000_000_000) as u32;
            carry = (v / 1_000_000_000) as u32;
        }
        if carry > 0 {
            decimal.push(carry);
        }
    }
    let mut text = decimal.last().unwrap().to_string();
    for limb in decimal.iter().rev().skip(1) {
        text.push_str(&format!("{limb:09}"));
    }
    text
}

#[test]
fn exported_files_carry_the_proof_files_statement() {
    let dir = tempfile::tempdir().unwrap();
    let proof = &proofs(dir.path(), 1)[0];
    let out = export(dir.path(), proof, "exported");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("zktx's verdict: valid"));
    let envelope = read(proof);
    let public = read(&dir.path().join("exported/public.json"));
    let inputs = &envelope["public_inputs"];
    let expected: Vec<String> = vec![
        hex_to_decimal(inputs["commit_a"].as_str().unwrap()),
        hex_to_decimal(inputs["commit_b"].as_str().unwrap()),
        inputs["k"].as_u64().unwrap().to_string(),
        hex_to_decimal(inputs["context"].as_str().unwrap()),
    ];
    assert_eq!(public, serde_json::json!(expected));
    let vk = read(&dir.path().join("exported/verification_key.json"));
    assert_eq!(vk["curve"], "bls12381");
    assert_eq!(vk["nPublic"], 4);
    assert_eq!(vk["IC"].as_array().unwrap().len(), 5);
    let exported = read(&dir.path().join("exported/proof.json"));
    assert_eq!(exported["pi_b"][2], serde_json::json!(["1", "0"]));
}

#[test]
fn export_refuses_other_keys_and_malformed_files() {
    let dir = tempfile::tempdir().unwrap();
    let proof = proofs(dir.path(), 1).remove(0);
    // Keys of the same tier from another seed: the proof names another key.
    zktx(
        dir.path(),
        &[
            "setup",
            "--tier",
            "4",
            "--out",
            "other",
            "--dev-seed",
            "another",
        ],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(["export", "snarkjs", "--keys", "other"])
        .arg(&proof)
        .args(["--out", "wrong"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("wrong").exists(), "nothing is written");
    std::fs::write(dir.path().join("junk.json"), "{\"format\": 1}").unwrap();
    let out = export(dir.path(), &dir.path().join("junk.json"), "junk");
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("junk").exists());
    // A proof whose coordinates are not field elements is refused before anything is written.
    let mut envelope = read(&proof);
    envelope["proof"] = Value::String("/".repeat(256));
    write(&dir.path().join("bad-point.json"), &envelope);
    let out = export(dir.path(), &dir.path().join("bad-point.json"), "bad");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn snarkjs_accepts_exported_proofs_and_refuses_changed_statements() {
    let Some(snarkjs) = snarkjs() else { return };
    let dir = tempfile::tempdir().unwrap();
    let made = proofs(dir.path(), 2);
    for (i, proof) in made.iter().enumerate() {
        let out = export(dir.path(), proof, &format!("exported-{i}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            snarkjs_accepts(&snarkjs, &dir.path().join(format!("exported-{i}"))),
            "snarkjs refuses the exported valid proof {i}"
        );
    }
    let exported = dir.path().join("exported-0");
    let public = read(&exported.join("public.json"));
    let other_public = read(&dir.path().join("exported-1/public.json"));
    let changes: [(&str, usize, Value); 5] = [
        ("commit_a", 0, Value::String("12345".into())),
        ("commit_b", 1, Value::String("67890".into())),
        ("k", 2, Value::String("2".into())),
        ("k = 0", 2, Value::String("0".into())),
        // The second proof's context: a proof bound to one use is not valid for another.
        ("context", 3, other_public[3].clone()),
    ];
    for (name, index, value) in changes {
        assert_ne!(public[index], value, "{name} really changes");
        let case = dir
            .path()
            .join(format!("changed-{}", name.replace(' ', "")));
        std::fs::create_dir_all(&case).unwrap();
        for file in ["verification_key.json", "proof.json"] {
            std::fs::copy(exported.join(file), case.join(file)).unwrap();
        }
        let mut changed = public.clone();
        changed[index] = value;
        write(&case.join("public.json"), &changed);
        assert!(
            !snarkjs_accepts(&snarkjs, &case),
            "snarkjs accepts the proof with {name} changed"
        );
    }
    // The second proof's C in the first proof: refused.
    let case = dir.path().join("swapped-c");
    std::fs::create_dir_all(&case).unwrap();
    for file in ["verification_key.json", "public.json"] {
        std::fs::copy(exported.join(file), case.join(file)).unwrap();
    }
    let mut proof = read(&exported.join("proof.json"));
    proof["pi_c"] = read(&dir.path().join("exported-1/proof.json"))["pi_c"].clone();
    write(&case.join("proof.json"), &proof);
    assert!(
        !snarkjs_accepts(&snarkjs, &case),
        "snarkjs accepts a proof with another proof's C"
    );
}
