//! `zktx circuit info`: the size of a tier's circuit.

use zktx_circuits::{CircuitInfo, Tier, PUBLIC_INPUT_NAMES};

/// Subcommands of `zktx circuit`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Constraints, public inputs and witness size of a tier's circuit.
    #[command(
        after_help = "Example:\n  zktx circuit info --tier 1024\n  zktx circuit info --tier 16 --json"
    )]
    Info {
        /// Circuit tier: slots per side.
        #[arg(long, value_name = "N", value_parser = super::parse_tier)]
        tier: Tier,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `zktx circuit ...`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Info { tier, json } = command;
    let info = CircuitInfo::measure(tier);
    if json {
        let value = serde_json::json!({
            "circuit": info.circuit_id,
            "tier": tier.capacity(),
            "slots": tier.total_slots(),
            "constraints": info.constraints,
            "constraints_per_slot": info.constraints_per_slot(),
            "public_inputs": PUBLIC_INPUT_NAMES,
            "witness_variables": info.witness_variables,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("circuit            {}", info.circuit_id);
    println!(
        "tier               {} per side ({} slots)",
        tier.capacity(),
        tier.total_slots()
    );
    println!(
        "constraints        {} ({:.1} per slot)",
        info.constraints,
        info.constraints_per_slot()
    );
    println!(
        "public inputs      {} ({})",
        info.public_inputs,
        PUBLIC_INPUT_NAMES.join(", ")
    );
    println!("witness variables  {}", info.witness_variables);
    Ok(())
}
