//! `zktx load`: drive a local zktx server with a load scenario or a custom run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use zktx_circuits::Tier;
use zktx_formats::{DataDir, KeyDir};
use zktx_loadtest::calibrate;
use zktx_loadtest::client::{Client, Target, Transport};
use zktx_loadtest::driver::{Driver, Limits, Pace};
use zktx_loadtest::fixtures::FixtureCache;
use zktx_loadtest::material::{self, Shape, TenantKeys};
use zktx_loadtest::mix::Mix;
use zktx_loadtest::report::Objectives;
use zktx_loadtest::scenario::{Scenario, Step};

use crate::exit::{Coded, OBJECTIVES_MISSED};

/// Arguments of `zktx load`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  zktx serve &                                  # a sandbox on loopback
  zktx load --scenario pilot                    # 300 proofs/s for 60 s, chaos mix, objectives
  zktx load --scenario max                      # ramp to the knee
  zktx load --rate 500 --duration 20 --mix valid=9,invalid=1 --slo-p95-ms 50

Targets loopback addresses only. Keys, tenant API keys and cached fixtures come from the sandbox
data directory (as `zktx serve` lays it out) unless given. Exit 5 when an objective is missed.")]
pub struct Args {
    /// A named scenario: pilot, batch or max (other load flags are then ignored).
    #[arg(long, value_name = "NAME")]
    scenario: Option<Scenario>,
    /// Shortens a scenario's durations by this factor (0 to 1).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    scale: f64,
    /// Open loop: calls per second.
    #[arg(long, value_name = "R", conflicts_with = "callers")]
    rate: Option<f64>,
    /// Closed loop: concurrent callers.
    #[arg(long, value_name = "N")]
    callers: Option<usize>,
    /// Seconds during which calls start.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    duration: f64,
    /// Calls at most (default: rate x duration, or 100,000 closed loop).
    #[arg(long, value_name = "N")]
    max_calls: Option<u64>,
    /// unary, stream, rest, or batch:N.
    #[arg(long, default_value = "unary", value_name = "T")]
    transport: Transport,
    /// The traffic mix, e.g. valid=90,invalid=4,malformed=1,garbled=1,repeated=2,oversized=1,over-quota=1,disconnect=1.
    #[arg(long, default_value = "valid=1", value_name = "MIX")]
    mix: Mix,
    /// gRPC connections (HTTP/2 multiplexes the calls: one keeps the generator's
    /// own CPU smallest).
    #[arg(long, default_value_t = 1, value_name = "N")]
    connections: usize,
    /// The server's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50051", value_name = "ADDR")]
    grpc_addr: SocketAddr,
    /// The server's REST address (also its /metrics).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    http_addr: SocketAddr,
    /// Read both addresses from `zktx serve --ready-file`'s file.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// The sandbox data directory (keys, tenant API key files).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keys directory (default DATA_DIR/keys).
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// API keys to use, one per line (default: the sandbox's load tenants).
    #[arg(long, value_name = "FILE")]
    api_keys_file: Option<PathBuf>,
    /// Circuit tier of the proofs.
    #[arg(long, default_value = "16", value_parser = super::parse_tier, value_name = "N")]
    tier: Tier,
    /// Distinct statements proved for the fixtures (cached).
    #[arg(long, default_value_t = 128, value_name = "N")]
    statements: usize,
    /// Fixture cache (default DATA_DIR/loadtest-fixtures).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Objective: p95 latency at most this many ms.
    #[arg(long, value_name = "MS")]
    slo_p95_ms: Option<f64>,
    /// Objective: p99 latency at most this many ms.
    #[arg(long, value_name = "MS")]
    slo_p99_ms: Option<f64>,
    /// Objective: error rate (wrong answers and server faults) at most this (0 to 1).
    #[arg(long, value_name = "RATE")]
    max_error_rate: Option<f64>,
    /// Objective: server CPU at most this share of the machine (0 to 1).
    #[arg(long, value_name = "SHARE")]
    max_cpu: Option<f64>,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `zktx load`: proofs and the calibration first, on every core; then
/// the calls, from one thread (see [`super::block_on_current_thread`]).
pub fn run(args: Args) -> anyhow::Result<()> {
    let prepared = prepare(&args)?;
    super::block_on_current_thread("zktx-load", load(args, prepared))?
}

/// What a run needs before its first call.
struct Prepared {
    target: Target,
    steps: Vec<Step>,
    transport: Transport,
    material: Arc<zktx_loadtest::driver::Material>,
    calibration: calibrate::Calibration,
}

fn prepare(args: &Args) -> anyhow::Result<Prepared> {
    let (grpc, http) = match &args.ready_file {
        Some(path) => read_ready_file(path)?,
        None => (args.grpc_addr, args.http_addr),
    };
    let target = Target::loopback(grpc, http)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(super::serve::default_data_dir);
    let data = DataDir::new(&data_dir);
    let keys = args.keys.clone().map_or_else(|| data.keys(), KeyDir::new);
    let tenants = match &args.api_keys_file {
        Some(file) => TenantKeys::from_file(file, None)?,
        None => TenantKeys::sandbox(&data_dir).context(
            "reading the sandbox's tenant keys (start `zktx serve` first, or pass --api-keys-file)",
        )?,
    };
    let steps = match args.scenario {
        Some(scenario) => scenario.steps(args.scale),
        None => vec![custom_step(args)?],
    };
    let shape = match args.scenario {
        Some(scenario) => scenario.shape(args.statements, args.scale),
        None => custom_shape(&steps[0], args.statements),
    };
    let cache = FixtureCache::new(
        args.fixtures
            .clone()
            .unwrap_or_else(|| data.loadtest_fixtures()),
    );
    eprintln!(
        "zktx load: preparing proofs (tier {}, {} statements, cache {})",
        args.tier.capacity(),
        args.statements,
        cache.dir().display()
    );
    let transport = match &steps[0] {
        Step::Run { transport, .. } => *transport,
        Step::Ramp(_) => Transport::Unary,
    };
    let material = material::build(&cache, &keys, args.tier, args.statements, tenants, shape)?;
    let material = Arc::new(material);
    // The server is idle: measure what this machine verifies with nothing in the way.
    let calibration = calibrate::for_material(&keys, &material)?;
    println!("{}", calibration.describe());
    Ok(Prepared {
        target,
        steps,
        transport,
        material,
        calibration,
    })
}

async fn load(args: Args, prepared: Prepared) -> anyhow::Result<()> {
    let Prepared {
        target,
        steps,
        transport,
        material,
        calibration,
    } = prepared;
    let client =
        Arc::new(Client::connect(target, args.connections, transport, &material.keys).await?);
    let max_batch = client.max_batch(&material.keys[0]).await?;

    let mut reports = Vec::new();
    let mut missed = Vec::new();
    for step in steps {
        match step {
            Step::Run {
                name,
                transport,
                mix,
                pace,
                limits,
                objectives,
            } => {
                let client = if transport == Transport::Stream
                    && !matches!(args.transport, Transport::Stream)
                {
                    Arc::new(
                        Client::connect(target, args.connections, transport, &material.keys)
                            .await?,
                    )
                } else {
                    client.clone()
                };
                let driver = Driver::new(client, material.clone(), transport, mix, max_batch)
                    .with_direct_rate(calibration.proofs_per_sec);
                let report = driver.run(&name, pace, limits, !args.quiet).await;
                report.print();
                for miss in objectives.missed(&report) {
                    println!("  MISSED      {miss}");
                    missed.push(format!("{name}: {miss}"));
                }
                reports.push(serde_json::to_value(&report)?);
            }
            Step::Ramp(plan) => {
                let driver = Driver::new(
                    client.clone(),
                    material.clone(),
                    Transport::Unary,
                    Mix::valid_only(),
                    max_batch,
                )
                .with_direct_rate(calibration.proofs_per_sec);
                let ramp = driver.ramp(&plan, !args.quiet).await;
                for s in &ramp.steps {
                    s.report.print();
                    println!("  held        {}", s.held);
                }
                println!("\nramp stopped: {}", ramp.stopped);
                match ramp.knee_proofs_per_sec {
                    Some(knee) => {
                        println!(
                            "knee: {knee:.0} proofs/s held with p99 <= {} ms: {:.2} of the direct batch verifier",
                            plan.p99_ms,
                            knee / calibration.proofs_per_sec
                        )
                    }
                    None => {
                        println!("knee: none");
                        missed.push(format!("max: no step held ({})", ramp.stopped));
                    }
                }
                reports.push(serde_json::to_value(&ramp)?);
            }
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "machine": machine(),
            "direct": calibration,
            "scenario": args.scenario.map(|s| format!("{s:?}").to_lowercase()),
            "runs": reports,
            "objectives_missed": missed,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !missed.is_empty() {
        eprintln!("zktx load: {} objective(s) missed", missed.len());
        return Err(Coded {
            code: OBJECTIVES_MISSED,
        }
        .into());
    }
    Ok(())
}

fn custom_step(args: &Args) -> anyhow::Result<Step> {
    if !(args.duration > 0.0 && args.duration <= 24.0 * 3600.0) {
        anyhow::bail!("--duration must be between 0 and 86400 seconds");
    }
    let pace = match (args.rate, args.callers) {
        (Some(rate), _) if rate > 0.0 && rate.is_finite() => Pace::Open { rate },
        (Some(_), _) => anyhow::bail!("--rate must be a positive number"),
        (None, Some(callers)) if callers > 0 => Pace::Closed { callers },
        (None, Some(_)) => anyhow::bail!("--callers must be at least 1"),
        (None, None) => Pace::Open { rate: 100.0 },
    };
    let max_calls = args.max_calls.unwrap_or(match pace {
        Pace::Open { rate } => (rate * args.duration).ceil() as u64,
        Pace::Closed { .. } => 100_000,
    });
    Ok(Step::Run {
        name: format!(
            "{} calls, {}, mix {}",
            args.transport,
            pace_name(pace),
            args.mix
        ),
        transport: args.transport,
        mix: args.mix.clone(),
        pace,
        limits: Limits {
            duration: Duration::from_secs_f64(args.duration),
            max_calls,
            call_timeout: Duration::from_secs(30),
        },
        objectives: Objectives {
            p95_ms: args.slo_p95_ms,
            p99_ms: args.slo_p99_ms,
            max_error_rate: args.max_error_rate,
            max_cpu: args.max_cpu,
        },
    })
}

fn pace_name(pace: Pace) -> String {
    match pace {
        Pace::Open { rate } => format!("open loop at {rate} calls/s"),
        Pace::Closed { callers } => format!("closed loop, {callers} callers"),
    }
}

/// The material a custom run needs for its proofs to be fresh work (capped:
/// beyond it, answers are replays and reports count them).
fn custom_shape(step: &Step, statements: usize) -> Shape {
    match step {
        Step::Run {
            transport: Transport::Batch(n),
            limits,
            ..
        } => Shape::for_batches(limits.max_calls.min(4_096) as usize, *n),
        Step::Run { limits, .. } => {
            Shape::for_proofs(limits.max_calls.min(1_000_000) as usize, statements)
        }
        Step::Ramp(_) => Shape::for_proofs(64_000, statements),
    }
}

fn read_ready_file(path: &std::path::Path) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ready: serde_json::Value = serde_json::from_str(&text)?;
    let addr = |name: &str| -> anyhow::Result<SocketAddr> {
        ready[name]
            .as_str()
            .with_context(|| format!("{}: no {name}", path.display()))?
            .parse()
            .with_context(|| format!("{}: {name} is not an address", path.display()))
    };
    Ok((addr("grpc_addr")?, addr("http_addr")?))
}

/// The machine, for the report.
fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_default();
    serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "os": std::env::consts::OS,
    })
}
