//! The `zktx` command: argument parsing and dispatch only; the work is in the library crates.

mod commands;
mod exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Prove, without revealing a member, that two private sets overlap in at most k members.
#[derive(Parser)]
#[command(name = "zktx", version, about, long_about = None, after_help = "\
Walk-through:
  zktx commit --set a.csv --tier 64 --out a      # a.commitment.json (public), a.opening.json (private)
  zktx commit --set b.csv --tier 64 --out b
  zktx setup --tier 64 --out keys --dev-seed demo
  zktx prove --keys keys --a a.opening.json --b b.opening.json --k 5 --context 01 --out proof.json
  zktx verify --keys keys proof.json
  zktx verify-batch --keys keys proofs/*.json
  zktx serve                                      # sandbox service on loopback
  zktx receipt verify --public-key <hex> receipt.json
  zktx audit verify --data-dir DIR                # the audit chain, its signed head, every receipt

Exit codes: 0 success/valid, 1 invalid proof or error, 2 usage, 3 statement false (prove refused), 4 keys missing or damaged.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Hash a set's identifiers and commit to it (public commitment, private opening).
    Commit(commands::commit::Args),
    /// Generate Groth16 proving and verifying keys for a circuit tier.
    Setup(commands::setup::Args),
    /// Prove |A ∩ B| ≤ k from two openings.
    Prove(commands::prove::Args),
    /// Verify a proof file.
    Verify(commands::verify::Args),
    /// Verify many proof files in one batch.
    VerifyBatch(commands::verify_batch::Args),
    /// Import ceremony keys; list a key directory.
    Keys {
        #[command(subcommand)]
        command: commands::keys::Command,
    },
    /// Facts about the circuit.
    Circuit {
        #[command(subcommand)]
        command: commands::circuit::Command,
    },
    /// Run the verification service (gRPC and REST); a sandbox with no arguments.
    Serve(commands::serve::Args),
    /// Export a proof for another verifier: `zktx export snarkjs`.
    Export {
        #[command(subcommand)]
        command: commands::export::Command,
    },
    /// Check a verification receipt offline.
    Receipt {
        #[command(subcommand)]
        command: commands::receipt::Command,
    },
    /// The admission policy: run its tests, decide an input, print its hash.
    Policy {
        #[command(subcommand)]
        command: commands::policy::Command,
    },
    /// Supply-chain provenance: sign it for release artifacts, verify it.
    Attest {
        #[command(subcommand)]
        command: commands::attest::Command,
    },
    /// The release gate: licences and advisories decided by the supply-chain policy.
    #[command(name = "supply-chain")]
    SupplyChain {
        #[command(subcommand)]
        command: commands::supply_chain::Command,
    },
    /// The audit chain: verify a store or an export, export a tenant's entries.
    Audit {
        #[command(subcommand)]
        command: commands::audit::Command,
    },
    /// Write the release's evidence pack: changes, tests, compliance, rollback; signed and checked.
    Evidence(commands::evidence::Args),
    /// Back up the embedded store while the server runs, or restore a backup (both checked).
    Store {
        #[command(subcommand)]
        command: commands::store::Command,
    },
    /// Auditor access: expiring, read-only keys scoped to one tenant.
    Auditor {
        #[command(subcommand)]
        command: commands::auditor::Command,
    },
    /// Invoices from metered usage, and the webhook outbox.
    Billing {
        #[command(subcommand)]
        command: commands::billing::Command,
    },
    /// The sandbox pilot: partner sets, proofs, a server, verdicts, receipts, load, chaos.
    Pilot(commands::pilot::Args),
    /// Drive a local server with load: scenarios pilot, batch, max, or a custom run.
    Load(Box<commands::load::Args>),
    /// Make API keys for tenants.
    Apikey {
        #[command(subcommand)]
        command: commands::apikey::Command,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The service installs its own: JSON lines with request and trace ids
    // and OpenTelemetry spans, once its configuration is read (`serve`).
    if !matches!(cli.command, Command::Serve(_)) {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("ZKTX_LOG")
                    .unwrap_or_else(|_| "warn".into()),
            )
            .init();
    }
    let result = match cli.command {
        Command::Commit(args) => commands::commit::run(args),
        Command::Setup(args) => commands::setup::run(args),
        Command::Prove(args) => commands::prove::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::VerifyBatch(args) => commands::verify_batch::run(args),
        Command::Keys { command } => commands::keys::run(command),
        Command::Circuit { command } => commands::circuit::run(command),
        Command::Serve(args) => commands::serve::run(args),
        Command::Load(args) => commands::load::run(*args),
        Command::Pilot(args) => commands::pilot::run(args),
        Command::Export { command } => commands::export::run(command),
        Command::Receipt { command } => commands::receipt::run(command),
        Command::Policy { command } => commands::policy::run(command),
        Command::Audit { command } => commands::audit::run(command),
        Command::Attest { command } => commands::attest::run(command),
        Command::SupplyChain { command } => commands::supply_chain::run(command),
        Command::Auditor { command } => commands::auditor::run(command),
        Command::Store { command } => commands::store::run(command),
        Command::Evidence(args) => commands::evidence::run(args),
        Command::Billing { command } => commands::billing::run(command),
        Command::Apikey { command } => commands::apikey::run(command),
    };
    exit::finish(result)
}
