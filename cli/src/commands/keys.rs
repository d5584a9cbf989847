//! `zktx keys`: import ceremony keys, list a key directory.

use std::path::PathBuf;

use anyhow::Context;
use zktx_circuits::Tier;
use zktx_formats::KeyDir;
use zktx_prover::import_keys;

/// Subcommands of `zktx keys`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Import a key pair from a multi-party setup ceremony, after validating it.
    #[command(after_help = "\
Example:
  zktx keys import --tier 1024 --vk ceremony/vk.bin --pk ceremony/pk.bin --out keys

Both files are compressed ark-serialize Groth16 keys for BLS12-381. Every point is validated
(subgroup, not identity), the keys must have the tier's shape, the proving key must embed the
verifying key, and a trial proof must verify. Verify the ceremony's transcript separately:
that is what shows no participant kept the toxic waste.")]
    Import {
        /// Circuit tier the keys are for.
        #[arg(long, value_name = "N", value_parser = super::parse_tier)]
        tier: Tier,
        /// The ceremony's verifying key (compressed).
        #[arg(long, value_name = "FILE")]
        vk: PathBuf,
        /// The ceremony's proving key (compressed).
        #[arg(long, value_name = "FILE")]
        pk: PathBuf,
        /// Key directory to add the tier to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace existing keys for this tier.
        #[arg(long)]
        force: bool,
    },
    /// List the tiers in a key directory with their fingerprints and origin.
    #[command(after_help = "Example:\n  zktx keys list --keys keys")]
    List {
        /// Key directory.
        #[arg(long, value_name = "DIR")]
        keys: PathBuf,
    },
}

/// Runs `zktx keys ...`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import {
            tier,
            vk,
            pk,
            out,
            force,
        } => {
            let keys = KeyDir::new(&out);
            keys.ensure_writable(tier, force)?;
            let vk_bytes =
                std::fs::read(&vk).with_context(|| format!("reading {}", vk.display()))?;
            let pk_bytes =
                std::fs::read(&pk).with_context(|| format!("reading {}", pk.display()))?;
            eprintln!("validating every point of both keys and making a trial proof; this takes a while at large tiers");
            let imported = import_keys(tier, &vk_bytes, &pk_bytes)?;
            let dir = keys.write(&imported)?;
            println!(
                "imported {} (vk {}) into {}",
                imported.manifest.circuit_id,
                imported.manifest.vk_fingerprint,
                dir.display()
            );
            Ok(())
        }
        Command::List { keys } => {
            let keys = KeyDir::new(keys);
            println!(
                "{:<6} {:<11} {:<12} vk fingerprint",
                "tier", "constraints", "origin"
            );
            for tier in keys.tiers()? {
                let m = keys.manifest(tier)?;
                let origin = serde_json::to_value(m.origin)?
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                let origin = if m.dev_keys {
                    format!("{origin} (DEV)")
                } else {
                    origin
                };
                println!(
                    "{:<6} {:<11} {:<12} {}",
                    m.tier, m.constraints, origin, m.vk_fingerprint
                );
            }
            Ok(())
        }
    }
}
