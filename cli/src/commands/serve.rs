//! `zktx serve`: run the service until Ctrl-C or SIGTERM, then shut down gracefully.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::providers::Serialized;
use serde::Serialize;
use zktx_server::{start, ServerConfig};

/// Arguments of `zktx serve`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx serve                                   # sandbox; prints the demo API key
  zktx serve --config /etc/zktx/zktx.toml      # production: plans and tenants from the file

With no arguments: a sandbox on loopback (gRPC 127.0.0.1:50051, REST 127.0.0.1:8080) with dev
keys for tiers 16 and 64 and a demo tenant; it prints the demo API key and where everything lives.

With --config FILE: plans, tenants (hashed API keys: `zktx apikey new`), batching and addresses
from the file; ZKTX_DATA_DIR, ZKTX_KEYS_DIR, ZKTX_GRPC_ADDR and ZKTX_HTTP_ADDR override it, and
flags override both. Logs are JSON lines on stderr (filter: ZKTX_LOG, default info).")]
pub struct Args {
    /// Configuration file (TOML). Without it the server runs as a sandbox.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Force sandbox mode even with a configuration file.
    #[arg(long)]
    sandbox: bool,
    /// Data directory: store, receipt-signing key, default key directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Verifying keys (default: DATA_DIR/keys).
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// gRPC listen address (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    grpc_addr: Option<SocketAddr>,
    /// REST listen address (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    http_addr: Option<SocketAddr>,
    /// Write the bound addresses (and the sandbox API key) as JSON to this file once listening.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// Deployment profile: dev (the sandbox's), staging or prod (refuses dev
    /// keys and an admission policy whose hash is not the pinned one).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<zktx_governance::Profile>,
    /// The admission policy bundle directory (default: the built-in bundle).
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
}

#[derive(Serialize)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grpc_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sandbox: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<zktx_governance::Profile>,
}

/// The data directory the demo script also uses.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("zktx")
}

/// Runs `zktx serve`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let base = ServerConfig {
        data_dir: default_data_dir(),
        sandbox: args.config.is_none(),
        ..ServerConfig::default()
    };
    let figment = ServerConfig::figment(base, args.config.as_deref()).merge(Serialized::defaults(
        Overrides {
            data_dir: args.data_dir,
            keys_dir: args.keys,
            grpc_addr: args.grpc_addr,
            http_addr: args.http_addr,
            sandbox: args.sandbox,
            profile: args.profile,
        },
    ));
    let mut config = ServerConfig::from_figment(figment)?;
    if let Some(dir) = args.policy {
        config.policy.dir = Some(dir);
    }
    super::block_on("zktx-io", async move {
        // JSON logs (request and trace ids, no private data) and request
        // spans; inside the runtime, where the OTLP exporter's client lives.
        let telemetry = zktx_server::telemetry::init(&config.telemetry)?;
        let server = match start(config).await {
            Ok(server) => server,
            Err(error) => {
                telemetry.shutdown();
                return Err(error.into());
            }
        };
        print_banner(&server);
        if let Some(path) = &args.ready_file {
            let ready = serde_json::json!({
                "grpc_addr": server.grpc_addr.to_string(),
                "http_addr": server.http_addr.to_string(),
                "api_key": server.sandbox_api_key,
                "receipt_public_key": server.service().receipt_public_key(),
            });
            zktx_formats::write_with_mode(path, ready.to_string().as_bytes(), 0o600)?;
        }
        wait_for_signal().await;
        eprintln!("zktx: shutting down (finishing queued proofs, flushing the store)");
        server.shutdown().await;
        tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
        anyhow::Ok(())
    })?
}

fn print_banner(server: &zktx_server::RunningServer) {
    let c = &server.config;
    let mode = if c.sandbox {
        " (sandbox: dev keys, not for real partners)"
    } else {
        ""
    };
    println!("zktx serving{mode}");
    println!(
        "  gRPC        {}  (zktx.v1.Verifier; health and reflection on)",
        server.grpc_addr
    );
    println!(
        "  REST        http://{}  (/v1/..., /openapi.json, /metrics, /healthz, /readyz)",
        server.http_addr
    );
    println!(
        "  data        {}  (store zktx.db, receipt-signing.key)",
        c.data_dir.display()
    );
    println!("  keys        {}", c.keys_dir().display());
    for circuit in server.service().circuits() {
        let dev = if circuit.dev_keys { "  DEV KEYS" } else { "" };
        println!(
            "    tier {:<5} {}{dev}",
            circuit.tier, circuit.key_fingerprint
        );
    }
    println!(
        "  receipts    signed by ed25519 key {}",
        server.service().receipt_public_key()
    );
    let gate = server.service().admission().gate();
    println!(
        "  policy      {} (version {}, {}), profile {}",
        gate.bundle().sha256(),
        gate.bundle().version(),
        c.policy
            .dir
            .as_ref()
            .map_or("built-in".to_string(), |d| d.display().to_string()),
        c.profile
    );
    if c.profile == zktx_governance::Profile::Dev {
        println!("              dev profile: development keys and an unpinned policy are allowed");
    }
    if let Some(key) = &server.sandbox_api_key {
        println!("  tenant      demo (plan sandbox)");
        println!("  API key     {key}");
        println!(
            "  try:        curl -s -H 'authorization: Bearer {key}' http://{}/v1/circuits",
            server.http_addr
        );
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
