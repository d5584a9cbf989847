//! `zktx setup`: Groth16 keys for a tier.

use std::{path::PathBuf, time::Instant};

use zktx_circuits::Tier;
use zktx_formats::{KeyDir, DEV_KEYS_WARNING, SINGLE_PARTY_WARNING};
use zktx_prover::{generate_keys, KeySource};

/// Arguments of `zktx setup`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx setup --tier 64 --out keys --dev-seed demo     # reproducible DEVELOPMENT keys
  zktx setup --tier 1024 --out keys                   # single-party keys from OS randomness

Writes DIR/tier-N/{proving_key.bin, verifying_key.bin, manifest.json}. A directory may hold
several tiers. Keys from --dev-seed can be recreated by anyone who knows the seed, and so can
forge proofs; keys from a single machine can be forged by whoever ran it. Production deploys
import keys from a multi-party setup ceremony with `zktx keys import`.")]
pub struct Args {
    /// Circuit tier: slots per side.
    #[arg(long, value_name = "N", value_parser = super::parse_tier)]
    tier: Tier,
    /// Key directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Derive the keys from this seed (development only: insecure).
    #[arg(long, value_name = "SEED")]
    dev_seed: Option<String>,
    /// Replace existing keys for this tier (every proof made with them stops verifying).
    #[arg(long)]
    force: bool,
}

/// Runs `zktx setup`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let keys = KeyDir::new(&args.out);
    keys.ensure_writable(args.tier, args.force)?;
    let source = match args.dev_seed {
        Some(seed) => {
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!! {DEV_KEYS_WARNING}");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            KeySource::DevSeed(seed)
        }
        None => {
            eprintln!("note: {SINGLE_PARTY_WARNING}");
            KeySource::OsRandom
        }
    };
    let started = Instant::now();
    let generated = generate_keys(args.tier, &source)?;
    let dir = keys.write(&generated)?;
    let m = &generated.manifest;
    eprintln!("setup took {:.1}s", started.elapsed().as_secs_f64());
    println!("circuit        {}", m.circuit_id);
    println!("constraints    {}", m.constraints);
    println!("vk fingerprint {}", m.vk_fingerprint);
    println!("dev keys       {}", m.dev_keys);
    println!("written to     {}", dir.display());
    Ok(())
}
