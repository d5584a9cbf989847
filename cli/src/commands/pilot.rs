//! `zktx pilot`: the sandbox pilot, end to end on this machine.
//!
//! Synthetic partner sets with known overlaps are committed and proved (false
//! bounds must be refused), a sandbox server is started as a child process,
//! every proof and a tampered twin are submitted over gRPC (with `zktx-client`,
//! as a partner would) and their verdicts
//! checked against the ground truth, every receipt is verified offline, a
//! short `pilot` load runs with its objectives, and (unless `--no-chaos`) the
//! chaos runs follow: callers that hang up, then SIGKILL and restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use zktx_circuits::Tier;
use zktx_formats::DataDir;
use zktx_loadtest::calibrate;
use zktx_loadtest::chaos::{self, DisconnectReport};
use zktx_loadtest::client::{Client, Transport};
use zktx_loadtest::driver::Driver;
use zktx_loadtest::fixtures::FixtureCache;
use zktx_loadtest::material::{self, Shape, TenantKeys};
use zktx_loadtest::partners::{self, Attempt};
use zktx_loadtest::process::{Ready, ServerProcess};
use zktx_loadtest::scenario::{Scenario, Step};
use zktx_proto::receipt::ReceiptVerdict;
use zktx_verifier::{decode::decode_public_inputs, KeyFingerprint, StatementDigest};

use crate::exit::{Coded, FAILURE};

/// Arguments of `zktx pilot`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx pilot                       # about a minute once keys and fixtures are cached
  zktx pilot --load-scale 1        # the full 60 s pilot load

Runs everything on this machine; nothing is sent anywhere else. Keys (dev keys for tiers 16 and
64) and load fixtures are cached in DATA_DIR; each run keeps its partner files, server store,
server log and JSON report in DATA_DIR/pilot/run-<time>. Exit 0 when every check passes.")]
pub struct Args {
    /// Data directory (keys, fixture cache, pilot runs).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Circuit tier of the partner sets.
    #[arg(long, default_value = "16", value_parser = super::parse_tier, value_name = "N")]
    tier: Tier,
    /// Length of the pilot load as a share of the full 60 s scenario.
    #[arg(long, default_value_t = 0.25, value_name = "F")]
    load_scale: f64,
    /// Distinct statements proved for the load fixtures (cached).
    #[arg(long, default_value_t = 128, value_name = "N")]
    statements: usize,
    /// Skip the chaos runs.
    #[arg(long)]
    no_chaos: bool,
}

/// One line of the summary.
struct Check {
    name: String,
    passed: bool,
    detail: String,
}

/// Runs `zktx pilot`.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::block_on("zktx-pilot", pilot(args))?
}

fn step(title: &str) {
    println!("\n== {title}");
}

async fn pilot(args: Args) -> anyhow::Result<()> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(super::serve::default_data_dir);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let data = DataDir::new(&data_dir);
    let work = data.pilot_runs().join(format!("run-{stamp}"));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let keys = data.keys();
    let mut checks = Vec::new();

    step("dev keys (cached)");
    let made = tokio::task::block_in_place(|| zktx_server::sandbox::ensure_dev_keys(&keys))?;
    println!(
        "keys in {} ({})",
        keys.root().display(),
        if made.is_empty() {
            "cached".to_string()
        } else {
            format!("generated tiers {made:?}")
        }
    );

    step("synthetic partner sets with known overlaps, committed");
    let overlaps = partners::pilot_overlaps(args.tier);
    let pairs = tokio::task::block_in_place(|| {
        partners::synthetic_pairs(&work.join("partners"), args.tier, &overlaps)
    })?;
    for pair in &pairs {
        println!(
            "{}: {} and {} share {} identifiers (tier {})",
            pair.name,
            pair.a_csv.display(),
            pair.b_csv.display(),
            pair.overlap,
            args.tier.capacity()
        );
    }

    step("prove: true bounds must prove, false bounds must be refused");
    let started = Instant::now();
    let attempts = tokio::task::block_in_place(|| partners::attempts(&keys, &pairs))?;
    let refused = attempts.iter().filter(|a| a.proof.is_none()).count();
    let proved = attempts.len() - refused;
    println!(
        "{proved} proved, {refused} refused (k below the true overlap) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    checks.push(Check {
        name: "prover".into(),
        passed: true,
        detail: format!("{proved} true bounds proved, {refused} false bounds refused"),
    });

    step("start the sandbox server");
    let binary = std::env::current_exe().context("locating the zktx binary")?;
    let mut server = ServerProcess::new(
        &binary,
        &work.join("server"),
        keys.root(),
        &work.join("server.log"),
    );
    let (ready, took) = tokio::task::block_in_place(|| server.start(Duration::from_secs(300)))?;
    println!(
        "listening: gRPC {}, REST {} (ready in {:.1} s; log {})",
        ready.target.grpc,
        ready.target.http,
        took.as_secs_f64(),
        work.join("server.log").display()
    );

    step("submit every proof and a tampered twin over gRPC");
    checks.extend(submit_and_check(&ready, &attempts).await?);

    step("pilot load");
    let fixtures = FixtureCache::new(data.loadtest_fixtures());
    let scale = args.load_scale.clamp(0.01, 1.0);
    let mut shape = Scenario::Pilot.shape(args.statements, scale);
    if !args.no_chaos {
        // The chaos runs send about 4000 more fresh proofs.
        shape.tenants += Shape::for_proofs(4_000, args.statements).tenants;
    }
    let tenants = TenantKeys::sandbox(server.data_dir())?;
    // The load runs at the smallest sandbox tier: verification costs the same at every tier.
    let load_tier = Tier::new(zktx_formats::datadir::SANDBOX_TIERS[0])?;
    let material = Arc::new(tokio::task::block_in_place(|| {
        material::build(&fixtures, &keys, load_tier, args.statements, tenants, shape)
    })?);
    let calibration = tokio::task::block_in_place(|| calibrate::for_material(&keys, &material))?;
    println!("{}", calibration.describe());
    let client = Arc::new(Client::connect(ready.target, 4, Transport::Unary, &[]).await?);
    let max_batch = client.max_batch(&material.keys[0]).await?;
    let mut reports = Vec::new();
    for part in Scenario::Pilot.steps(scale) {
        let Step::Run {
            name,
            transport,
            mix,
            pace,
            limits,
            objectives,
        } = part
        else {
            continue;
        };
        let driver = Driver::new(client.clone(), material.clone(), transport, mix, max_batch)
            .with_direct_rate(calibration.proofs_per_sec);
        let report = driver.run(&name, pace, limits, true).await;
        report.print();
        let missed = objectives.missed(&report);
        checks.push(Check {
            name: "pilot load".into(),
            passed: missed.is_empty(),
            detail: if missed.is_empty() {
                format!(
                    "{} calls, p95 {:.1} ms, errors {:.3}%, server CPU {:.0}%",
                    report.calls,
                    report.latency_ms.p95,
                    report.error_rate * 100.0,
                    report.server_cpu.unwrap_or(0.0) * 100.0
                )
            } else {
                missed.join("; ")
            },
        });
        reports.push(serde_json::to_value(&report)?);
    }

    let mut chaos_json = serde_json::Value::Null;
    if !args.no_chaos {
        step("chaos: callers hang up mid-request and mid-stream");
        let leak =
            chaos::disconnects(ready.target, &material, max_batch, 200.0, secs(4), 8).await?;
        println!(
            "{} calls abandoned, {} streams dropped; queue {} -> {} proofs; resident memory {:.0} -> {:.0} MiB",
            leak.requests_abandoned,
            leak.streams_dropped,
            leak.baseline.queue_depth,
            leak.after.queue_depth,
            leak.baseline.resident_bytes / 1048576.0,
            leak.after.resident_bytes / 1048576.0
        );
        checks.push(Check {
            name: "disconnects".into(),
            passed: leak.held(),
            detail: format!(
                "queue back to {}, memory {:+.0} MiB (limit {} MiB)",
                leak.after.queue_depth,
                leak.growth_mib,
                DisconnectReport::GROWTH_LIMIT_MIB
            ),
        });

        step("chaos: SIGKILL mid-load, restart");
        let (kill, _) = chaos::kill_and_restart(
            &mut server,
            ready.target,
            &material,
            200.0,
            secs(3),
            secs(3),
        )
        .await?;
        println!(
            "{} sent, {} acknowledged, {} failed around the kill; {} of {} receipts present after restart; \
             restart {:.0} ms, first proof answered {} after the kill",
            kill.sent,
            kill.acknowledged,
            kill.failed,
            kill.receipts_present,
            kill.acknowledged,
            kill.restart_ms,
            kill.recovery_ms
                .map_or("never".to_string(), |ms| format!("{ms:.0} ms"))
        );
        checks.push(Check {
            name: "kill -9 and restart".into(),
            passed: kill.held(),
            detail: format!(
                "{}/{} receipts kept, {} tenants short of usage, recovered in {}",
                kill.receipts_present,
                kill.acknowledged,
                kill.tenants_short,
                kill.recovery_ms
                    .map_or("never".to_string(), |ms| format!("{ms:.0} ms"))
            ),
        });
        chaos_json = serde_json::json!({ "disconnects": leak, "kill": kill });
    }

    step("stop the server (SIGTERM)");
    let clean = tokio::task::block_in_place(|| server.stop(Duration::from_secs(60)));
    checks.push(Check {
        name: "graceful shutdown".into(),
        passed: clean,
        detail: if clean {
            "exit 0 after SIGTERM".into()
        } else {
            "no clean exit within 60 s".into()
        },
    });

    print_summary(&checks);
    let report_path = work.join("pilot-report.json");
    let json = serde_json::json!({
        "tier": args.tier.capacity(),
        "checks": checks.iter().map(|c| serde_json::json!({
            "check": c.name, "passed": c.passed, "detail": c.detail,
        })).collect::<Vec<_>>(),
        "load": reports,
        "chaos": chaos_json,
    });
    std::fs::write(&report_path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("writing {}", report_path.display()))?;
    println!("report: {}", report_path.display());
    if checks.iter().any(|c| !c.passed) {
        return Err(Coded { code: FAILURE }.into());
    }
    Ok(())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Submits every proof as proved (must be valid) and with k raised by one
/// (the same proof for another statement: must be invalid); checks each
/// verdict against the ground truth and each receipt offline.
async fn submit_and_check(ready: &Ready, attempts: &[Attempt]) -> anyhow::Result<Vec<Check>> {
    let client =
        zktx_client::Client::builder(format!("http://{}", ready.target.grpc), &ready.api_key)
            .connect()
            .await?;
    let key = client.receipt_key().await.context("GetReceiptKey")?;
    let (mut right, mut wrong, mut receipts_ok, mut receipts_bad) = (0, 0, 0, 0);
    for attempt in attempts {
        let Some(envelope) = &attempt.proof else {
            continue;
        };
        let honest = zktx_client::Proof::from_envelope(envelope)?;
        let mut tampered = honest.clone();
        tampered.public_inputs.k += 1;
        for (proof, expected) in [
            (honest, ReceiptVerdict::Valid),
            (tampered, ReceiptVerdict::Invalid),
        ] {
            let answer = client
                .verify(&proof)
                .await
                .with_context(|| format!("{}: Verify", attempt.pair))?;
            if answer.verdict == expected {
                right += 1;
            } else {
                wrong += 1;
                println!(
                    "WRONG: {} k = {} (overlap {}): expected {expected:?}, got {:?}",
                    attempt.pair, proof.public_inputs.k, attempt.overlap, answer.verdict
                );
            }
            // The receipt: signed by the published key, for this statement, with this verdict.
            let statement = StatementDigest::new(
                &KeyFingerprint::parse(&proof.key_fingerprint)?,
                &decode_public_inputs(&proof.public_inputs)?,
            )
            .to_string();
            let receipt = &answer.receipt;
            if zktx_client::Client::verify_receipt(receipt, &key.public_key).is_ok()
                && receipt.statement_digest == statement
                && receipt.verdict == expected
            {
                receipts_ok += 1;
            } else {
                receipts_bad += 1;
            }
        }
    }
    println!("{right} verdicts match the ground truth, {wrong} do not");
    println!("{receipts_ok} receipts verified offline, {receipts_bad} did not");
    Ok(vec![
        Check {
            name: "verdicts vs ground truth".into(),
            passed: wrong == 0 && right > 0,
            detail: format!("{right} right, {wrong} wrong (honest proofs and tampered twins)"),
        },
        Check {
            name: "receipts verified offline".into(),
            passed: receipts_bad == 0 && receipts_ok > 0,
            detail: format!(
                "{receipts_ok} signatures, statements and verdicts check; {receipts_bad} do not"
            ),
        },
    ])
}

fn print_summary(checks: &[Check]) {
    println!("\n== pilot summary");
    println!("{:<28} {:<6} detail", "check", "result");
    for c in checks {
        println!(
            "{:<28} {:<6} {}",
            c.name,
            if c.passed { "PASS" } else { "FAIL" },
            c.detail
        );
    }
}
