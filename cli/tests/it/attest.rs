//! `zktx attest provenance|verify`: provenance signed with a key from a file
//! checks against the artifacts; a changed artifact is named; without a key
//! the provenance says it is unofficial.

use std::path::Path;
use std::process::{Command, Output};

fn zktx(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(args)
        .current_dir(dir)
        .env_remove("ZKTX_PROVENANCE_KEY")
        .output()
        .unwrap()
}

#[test]
fn provenance_checks_against_the_artifacts_and_names_a_changed_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("dist/keys")).unwrap();
    std::fs::write(d.join("dist/zktx"), b"the binary").unwrap();
    std::fs::write(d.join("dist/keys/vk.bin"), b"a verifying key").unwrap();
    std::fs::write(d.join("Cargo.lock"), b"# lock").unwrap();
    std::fs::write(d.join("release.key"), "11".repeat(32)).unwrap();
    let made = zktx(
        d,
        &[
            "attest",
            "provenance",
            "--artifacts",
            "dist",
            "--out",
            "provenance.dsse.json",
            "--key-file",
            "release.key",
            "--commit",
            &"ab".repeat(20),
            "--public-key-out",
            "provenance.pub",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public = std::fs::read_to_string(d.join("provenance.pub")).unwrap();
    let public = public.trim();
    let verify = |key: &str| {
        zktx(
            d,
            &[
                "attest",
                "verify",
                "--provenance",
                "provenance.dsse.json",
                "--public-key",
                key,
                "--artifacts",
                "dist",
            ],
        )
    };
    let ok = verify(public);
    let said = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(
        ok.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        said.contains("2 subjects") && !said.contains("UNOFFICIAL"),
        "{said}"
    );

    std::fs::write(d.join("dist/keys/vk.bin"), b"another key").unwrap();
    let changed = verify(public);
    assert_eq!(changed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&changed.stderr).contains("subject keys/vk.bin"));
    std::fs::write(d.join("dist/keys/vk.bin"), b"a verifying key").unwrap();
    let other = verify(&"22".repeat(32));
    assert_eq!(other.status.code(), Some(1));

    // No key configured: a throwaway one, and the provenance says so.
    let unofficial = zktx(
        d,
        &[
            "attest",
            "provenance",
            "--artifacts",
            "dist",
            "--out",
            "p2.json",
            "--commit",
            "cafe",
            "--public-key-out",
            "p2.pub",
        ],
    );
    assert!(String::from_utf8_lossy(&unofficial.stdout).contains("UNOFFICIAL"));
    let key = std::fs::read_to_string(d.join("p2.pub")).unwrap();
    let checked = zktx(
        d,
        &[
            "attest",
            "verify",
            "--provenance",
            "p2.json",
            "--public-key",
            key.trim(),
            "--artifacts",
            "dist",
        ],
    );
    assert!(checked.status.success());
    assert!(String::from_utf8_lossy(&checked.stdout).contains("UNOFFICIAL"));
}
