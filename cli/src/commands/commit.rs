//! `zktx commit`: identifiers → public commitment + private opening.

use std::path::PathBuf;

use anyhow::Context;
use zktx_circuits::{encoding, SetOpening, Tier};
use zktx_prover::setfiles;

/// Arguments of `zktx commit`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx commit --set partner.csv --tier 64 --out partner
  # writes partner.commitment.json (share it) and partner.opening.json (keep it: mode 0600)

Each line of FILE is one identifier (e-mail, phone number, customer key). Identifiers are
normalised (Unicode NFKC, trimmed, lower-cased) and hashed to 64-bit ids; repeats are merged.
An empty line, a line that is not UTF-8, or a set larger than the tier is refused with its
line number.")]
pub struct Args {
    /// File with one identifier per line.
    #[arg(long, value_name = "FILE")]
    set: PathBuf,
    /// Circuit tier: the largest set size (slots per side).
    #[arg(long, value_name = "N", value_parser = super::parse_tier)]
    tier: Tier,
    /// Output prefix: writes PREFIX.commitment.json and PREFIX.opening.json.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
    /// Skip the first line (a CSV header).
    #[arg(long)]
    skip_header: bool,
    /// Overwrite existing output files (the old commitment can then no longer be opened).
    #[arg(long)]
    force: bool,
}

/// Runs `zktx commit`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let list = setfiles::read_identifiers(&args.set, args.tier, args.skip_header)?;
    let opening =
        SetOpening::with_random_salt(args.tier, list.ids.iter().copied(), &mut rand::rngs::OsRng)
            .context("building the set")?;
    let (commitment_path, opening_path) =
        setfiles::write_set_files(&args.out, &opening, args.force)?;
    eprintln!(
        "read {} identifier lines: {} distinct members ({} repeats merged) in tier {}",
        list.lines,
        opening.members().len(),
        list.duplicates,
        args.tier.capacity()
    );
    println!("commitment {}", encoding::fr_to_hex(&opening.commitment()));
    println!("public   {}", commitment_path.display());
    println!(
        "private  {}  (salt and ids: keep it secret)",
        opening_path.display()
    );
    Ok(())
}
