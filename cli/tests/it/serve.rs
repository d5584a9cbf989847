//! `zktx serve` as a process: SIGKILL mid-load and a restart lose no receipt a
//! client received and leave usage counts equal to the durable receipts;
//! `zktx receipt verify` checks receipts offline; the sandbox starts bare.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn zktx(dir: &Path, args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "zktx {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `zktx receipt verify --public-key KEY [extra...] FILE` in `dir` (any exit code).
fn receipt_verify(
    dir: &Path,
    public_key: &str,
    extra: &[&str],
    file: &str,
) -> std::process::Output {
    let mut args = vec!["receipt", "verify", "--public-key", public_key];
    args.extend_from_slice(extra);
    args.push(file);
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap()
}

pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) ready: serde_json::Value,
}

pub(crate) fn serve(dir: &Path, extra: &[&str]) -> Served {
    let ready_file = dir.join("ready.json");
    let _ = std::fs::remove_file(&ready_file);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let mut args = vec![
        "serve",
        "--data-dir",
        "data",
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--ready-file",
        "ready.json",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(&args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready_file.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited early: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ready = serde_json::from_str(&std::fs::read_to_string(&ready_file).unwrap()).unwrap();
    Served { child, ready }
}

impl Served {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.ready["http_addr"].as_str().unwrap())
    }
}

pub(crate) fn proof_body(path: &Path, k_override: Option<u64>) -> serde_json::Value {
    let envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut inputs = envelope["public_inputs"].clone();
    if let Some(k) = k_override {
        inputs["k"] = k.into();
    }
    serde_json::json!({
        "key_fingerprint": envelope["vk_fingerprint"],
        "public_inputs": inputs,
        "proof": envelope["proof"],
    })
}

/// Keys for tier 4, two committed sets, and `n` proofs with distinct contexts.
pub(crate) fn proofs(dir: &Path, n: usize) -> Vec<PathBuf> {
    zktx(
        dir,
        &[
            "setup",
            "--tier",
            "4",
            "--out",
            "keys",
            "--dev-seed",
            "serve-it",
        ],
    );
    std::fs::write(dir.join("a.csv"), "id-1\nid-2\nid-3\n").unwrap();
    std::fs::write(dir.join("b.csv"), "id-3\nid-4\n").unwrap();
    zktx(
        dir,
        &["commit", "--set", "a.csv", "--tier", "4", "--out", "a"],
    );
    zktx(
        dir,
        &["commit", "--set", "b.csv", "--tier", "4", "--out", "b"],
    );
    (0..n)
        .map(|i| {
            let out = format!("proof-{i}.json");
            let context = format!("{:02x}", i + 1);
            zktx(
                dir,
                &[
                    "prove",
                    "--keys",
                    "keys",
                    "--a",
                    "a.opening.json",
                    "--b",
                    "b.opening.json",
                    "--k",
                    "1",
                    "--context",
                    &context,
                    "--out",
                    &out,
                ],
            );
            dir.join(out)
        })
        .collect()
}

/// `dir/zktx.toml` with a generous `pro` plan and a tenant `acme` made the
/// way an operator would (`zktx apikey new`); returns its API key.
pub(crate) fn tenant_config(dir: &Path) -> String {
    let made = String::from_utf8(
        zktx(dir, &["apikey", "new", "--tenant", "acme", "--plan", "pro"]).stdout,
    )
    .unwrap();
    let key = made
        .split_whitespace()
        .find(|w| w.starts_with("zktx_"))
        .unwrap()
        .to_string();
    let tenant_toml = &made[made.find("[[tenants]]").unwrap()..];
    let config = format!(
        "[plans.pro]\nrequests_per_second = 100000\nburst = 100000\ndaily_proofs = 1000000\nmax_batch = 256\n\n{tenant_toml}"
    );
    std::fs::write(dir.join("zktx.toml"), config).unwrap();
    key
}

/// `zktx ARGS` in `dir`, whatever its exit code.
pub(crate) fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn sigkill_mid_load_loses_no_received_receipt_and_usage_matches_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let proof_files = proofs(dir, 4);
    let key = tenant_config(dir);
    let extra = ["--config", "zktx.toml", "--keys", "keys"];

    let mut served = serve(dir, &extra);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let received: Vec<serde_json::Value> = runtime.block_on(async {
        let http = reqwest::Client::new();
        // Valid proofs once each, then a stream of distinct invalid claims (each metered).
        let mut bodies: Vec<serde_json::Value> =
            proof_files.iter().map(|p| proof_body(p, None)).collect();
        for k in 2..300u64 {
            bodies.push(proof_body(
                &proof_files[k as usize % proof_files.len()],
                Some(k),
            ));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (url, key) = (served.url("/v1/verify"), key.clone());
        // Requests go out every 2 ms while responses are counted below.
        tokio::spawn(async move {
            for body in bodies {
                let (http, tx, url, key) = (http.clone(), tx.clone(), url.clone(), key.clone());
                tokio::spawn(async move {
                    if let Ok(response) = http.post(url).bearer_auth(key).json(&body).send().await {
                        if let Ok(json) = response.json::<serde_json::Value>().await {
                            let _ = tx.send(json);
                        }
                    }
                });
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        let mut received = Vec::new();
        while let Some(json) = rx.recv().await {
            received.push(json);
            if received.len() == 60 {
                // Mid-load: requests are still in flight.
                served.child.kill().unwrap();
            }
        }
        received
    });
    served.child.wait().unwrap();
    let receipts: Vec<&serde_json::Value> =
        received.iter().filter_map(|r| r.get("receipt")).collect();
    assert!(receipts.len() >= 60, "received {}", receipts.len());
    assert!(
        receipts.len() < 302,
        "the kill came while requests were in flight"
    );

    // The store after the crash: every received receipt is there, usage = metered receipts.
    let db = rusqlite::Connection::open(dir.join("data/zktx.db")).unwrap();
    let stored: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM receipts WHERE tenant = 'acme'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let events: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM usage_events WHERE tenant = 'acme'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, events);
    assert!(stored as usize >= receipts.len());
    eprintln!(
        "received {} receipts before SIGKILL; {stored} durable",
        receipts.len()
    );
    drop(db);

    let served = serve(dir, &extra);
    let public_key = served.ready["receipt_public_key"]
        .as_str()
        .unwrap()
        .to_string();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for receipt in &receipts {
            let id = receipt["id"].as_str().unwrap();
            let fetched: serde_json::Value = http
                .get(served.url(&format!("/v1/receipts/{id}")))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(&&fetched, receipt);
        }
        let usage: serde_json::Value = http
            .get(served.url("/v1/usage"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(usage["proofs_today"].as_i64().unwrap(), events);
        // proof-0 again (a replay if it was verified before the kill): its receipt, for below.
        let response: serde_json::Value = http
            .post(served.url("/v1/verify"))
            .bearer_auth(&key)
            .json(&proof_body(&proof_files[0], None))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        std::fs::write(dir.join("proof-0.receipt.json"), response.to_string()).unwrap();
    });

    // Offline check of one received receipt, and of a tampered copy.
    let receipt_file = dir.join("receipt.json");
    std::fs::write(&receipt_file, receipts[0].to_string()).unwrap();
    let ok = receipt_verify(dir, &public_key, &[], "receipt.json");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("signed with its group"));
    // Moved to another place in its group, it no longer checks.
    let mut moved = receipts[0].clone();
    moved["batch"]["index"] = (moved["batch"]["index"].as_u64().unwrap() + 1).into();
    std::fs::write(dir.join("moved.json"), moved.to_string()).unwrap();
    let moved = receipt_verify(dir, &public_key, &[], "moved.json");
    assert_eq!(moved.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&moved.stdout).contains("NOT valid"));
    // proof-0's receipt is for proof-0's statement, not proof-1's.
    let mine = receipt_verify(
        dir,
        &public_key,
        &["--statement", "proof-0.json"],
        "proof-0.receipt.json",
    );
    assert!(
        mine.status.success(),
        "{}",
        String::from_utf8_lossy(&mine.stdout)
    );
    let other = receipt_verify(
        dir,
        &public_key,
        &["--statement", "proof-1.json"],
        "proof-0.receipt.json",
    );
    assert_eq!(other.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other.stdout).contains("another statement"));
    let mut tampered = receipts[0].clone();
    tampered["verdict"] = if tampered["verdict"] == "valid" {
        "invalid"
    } else {
        "valid"
    }
    .into();
    std::fs::write(&receipt_file, tampered.to_string()).unwrap();
    let bad = receipt_verify(dir, &public_key, &[], "receipt.json");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("NOT valid"));

    // SIGTERM: a graceful stop.
    let pid = served.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut child = served.child;
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap();
    assert!(log.contains("queue drained, store flushed"));
    // Request lines reach the file through the log writer thread.
    assert!(log.contains("\"request_id\":"), "request lines are logged");
    assert!(!log.contains(&key), "the API key never reaches the log");

    // The audit chain survived the SIGKILL: every durable receipt's group is
    // in it, and its signed head checks with the published receipt key.
    let audit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zktx"))
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let total: i64 = rusqlite::Connection::open(dir.join("data/zktx.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
        .unwrap();
    let intact = audit(&["audit", "verify", "--data-dir", "data"]);
    let said = String::from_utf8_lossy(&intact.stdout).to_string();
    assert!(
        intact.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(
        said.contains(&format!("{total} receipts in the chain")),
        "{said}"
    );
    // acme's export checks without the database, against the published key.
    let exported = audit(&[
        "audit",
        "export",
        "--data-dir",
        "data",
        "--tenant",
        "acme",
        "--out",
        "acme.jsonl",
    ]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let checked = audit(&[
        "audit",
        "verify",
        "--export",
        "acme.jsonl",
        "--public-key",
        &public_key,
    ]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let unknown = audit(&[
        "audit",
        "export",
        "--data-dir",
        "data",
        "--tenant",
        "nobody",
        "--out",
        "x.jsonl",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("tenant: no such tenant"));
    assert!(
        !dir.join("x.jsonl").exists(),
        "a refused export leaves no file"
    );
    // An auditor key for acme, and bad grants that change nothing.
    let granted = audit(&[
        "auditor",
        "grant",
        "--data-dir",
        "data",
        "--tenant",
        "acme",
        "--days",
        "7",
    ]);
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
    assert!(String::from_utf8_lossy(&granted.stdout).contains("zktx_aud_"));
    for (args, field) in [
        (["--tenant", "nobody", "--days", "7"], "tenant:"),
        (["--tenant", "acme", "--days", "91"], "days:"),
    ] {
        let mut all = vec!["auditor", "grant", "--data-dir", "data"];
        all.extend(args);
        let refused = audit(&all);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains(field));
    }
    let intact = audit(&["audit", "verify", "--data-dir", "data"]);
    assert!(
        intact.status.success(),
        "the grant extended the chain soundly"
    );
    // Billing: an open month and a malformed one are refused, naming the field.
    let this_month = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        zktx_governance::billing::Period::containing(now).to_string()
    };
    let open = audit(&[
        "billing",
        "close",
        "--data-dir",
        "data",
        "--period",
        &this_month,
    ]);
    assert_eq!(open.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&open.stderr).contains("has not ended"));
    let bad = audit(&[
        "billing",
        "invoice",
        "--data-dir",
        "data",
        "--tenant",
        "acme",
        "--period",
        "2026-13",
        "--out",
        "inv",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("period: expected"));
    let last_month = audit(&[
        "billing",
        "invoice",
        "--data-dir",
        "data",
        "--tenant",
        "acme",
        "--period",
        "2026-10",
        "--out",
        "inv",
    ]);
    assert!(
        last_month.status.success(),
        "{}",
        String::from_utf8_lossy(&last_month.stderr)
    );
    assert!(dir.join("inv/inv-2026-10-acme.pdf").is_file());
    let json = std::fs::read_to_string(dir.join("inv/inv-2026-10-acme.json")).unwrap();
    assert!(
        json.contains("\"quantity\": 0"),
        "no usage in October: {json}"
    );
    let hooks = audit(&["billing", "webhooks", "--data-dir", "data"]);
    assert!(String::from_utf8_lossy(&hooks.stdout).contains("outbox is empty"));
    // A row edited behind the server's back is named.
    let db = rusqlite::Connection::open(dir.join("data/zktx.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET details = replace(details, '\"size\":\"', '\"size\":\"1') WHERE seq = 
             (SELECT MIN(seq) FROM audit_log WHERE kind = 'receipt_group');",
    )
    .unwrap();
    let seq: i64 = db
        .query_row(
            "SELECT MIN(seq) FROM audit_log WHERE kind = 'receipt_group'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(db);
    let broken = audit(&["audit", "verify", "--data-dir", "data"]);
    assert_eq!(broken.status.code(), Some(1));
    let said = String::from_utf8_lossy(&broken.stderr);
    assert!(
        said.contains(&format!(
            "audit entry {seq}: its hash does not match its content"
        )),
        "{said}"
    );
}
