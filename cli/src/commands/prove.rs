//! `zktx prove`: a proof file from two openings.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use zktx_circuits::{encoding, Fr};
use zktx_formats::{write_atomically, KeyDir};
use zktx_prover::{prove_envelope, setfiles};

/// Arguments of `zktx prove`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx prove --keys keys --a a.opening.json --b b.opening.json --k 5 --context 5e55 --out proof.json

If the sets overlap in more than k members the statement is false: nothing is written and the
exit code is 3. Every proof is verified before it is written.")]
pub struct Args {
    /// Key directory holding the openings' tier.
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
    /// Opening of set A.
    #[arg(long, value_name = "A.opening.json")]
    a: PathBuf,
    /// Opening of set B.
    #[arg(long, value_name = "B.opening.json")]
    b: PathBuf,
    /// The bound to prove: |A ∩ B| ≤ k.
    #[arg(long, value_name = "K")]
    k: u64,
    /// Context the verifier chose (nonce, session or partner id): up to 64 hex digits,
    /// below the BLS12-381 scalar modulus. The proof is valid for this context only.
    #[arg(long, value_name = "HEX", value_parser = parse_context)]
    context: Fr,
    /// Where to write the proof file.
    #[arg(long, value_name = "PROOF.json")]
    out: PathBuf,
}

/// Parses a context: optional `0x`, 1 to 64 hex digits, canonical scalar.
pub fn parse_context(text: &str) -> Result<Fr, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("expected 1 to 64 hex digits".into());
    }
    let padded = format!("{digits:0>64}");
    encoding::fr_from_hex(&padded.to_ascii_lowercase()).map_err(|e| e.to_string())
}

/// Runs `zktx prove`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let a = setfiles::read_opening(&args.a)?;
    let b = setfiles::read_opening(&args.b)?;
    let started = Instant::now();
    let envelope = prove_envelope(
        &KeyDir::new(&args.keys),
        &a,
        &b,
        args.k,
        args.context,
        &mut rand::rngs::OsRng,
    )?;
    write_atomically(&args.out, envelope.to_json().as_bytes()).context("writing the proof")?;
    eprintln!("proved in {:.1}s", started.elapsed().as_secs_f64());
    println!(
        "wrote {} (tier {}, k = {}, key {})",
        args.out.display(),
        envelope.tier,
        envelope.public_inputs.k,
        &envelope.vk_fingerprint[..16]
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_parse_canonically() {
        assert_eq!(parse_context("0x01").unwrap(), Fr::from(1u64));
        assert_eq!(parse_context("ff").unwrap(), Fr::from(255u64));
        assert!(parse_context("").is_err());
        assert!(parse_context("xyz").is_err());
        assert!(parse_context(&"f".repeat(64)).is_err(), "above the modulus");
        assert!(parse_context(&"1".repeat(65)).is_err());
    }
}
