//! `zktx export snarkjs`: a proof file and its verifying key in snarkjs's layout.

use std::path::{Path, PathBuf};

use anyhow::Context;
use zktx_formats::{snarkjs, write_atomically, KeyDir};
use zktx_verifier::{decode, parse_envelope, verify_proof, PreparedKey, VerifyError};

use crate::exit::{Coded, FAILURE, KEYS};

/// `zktx export` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a proof, its public signals and its verifying key for `snarkjs groth16 verify`.
    #[command(after_help = "\
Example:
  zktx export snarkjs --keys keys proof.json --out snarkjs/
  npx snarkjs groth16 verify snarkjs/verification_key.json snarkjs/public.json snarkjs/proof.json

Writes verification_key.json, proof.json and public.json (curve bls12381; coordinates as decimal
strings, Fp2 as [c0, c1]; public signals commit_a, commit_b, k, context). The proof is exported
whatever its verdict, which is printed: snarkjs is a second opinion, and it does not check the
number of public signals, the subgroup of the proof's points or canonical coordinates, so zktx's
verifier stays the authority. Exits 0 when written, 1 when the proof file is malformed, 4 when
the keys for its tier are missing or damaged.")]
    Snarkjs(SnarkjsArgs),
}

/// Arguments of `zktx export snarkjs`.
#[derive(clap::Args)]
pub struct SnarkjsArgs {
    /// Key directory holding the proof's tier.
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
    /// The proof file.
    #[arg(value_name = "PROOF.json")]
    proof: PathBuf,
    /// Directory to write the three files into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `zktx export`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Snarkjs(args) = command;
    let bytes =
        std::fs::read(&args.proof).with_context(|| format!("reading {}", args.proof.display()))?;
    let malformed = |e: VerifyError| {
        eprintln!("error: {}: {e}", args.proof.display());
        anyhow::Error::from(Coded { code: FAILURE })
    };
    let (envelope, tier) = parse_envelope(&bytes).map_err(malformed)?;
    let (_, vk) = match KeyDir::new(&args.keys).verifying_key(tier) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: cannot read the verifying key: {e}");
            return Err(Coded { code: KEYS }.into());
        }
    };
    let key = PreparedKey::new(tier, &vk, false);
    if envelope.vk_fingerprint != key.fingerprint() {
        eprintln!(
            "error: the proof names verifying key {}, the key directory holds {} for tier {}",
            envelope.vk_fingerprint,
            key.fingerprint(),
            tier.capacity()
        );
        return Err(Coded { code: KEYS }.into());
    }
    // Decoding validates the proof's points and the public inputs' field
    // elements, so only well-formed values reach the files.
    let proof = decode::decode_proof_base64(&envelope.proof).map_err(|e| malformed(e.into()))?;
    let public =
        decode::decode_public_inputs(&envelope.public_inputs).map_err(|e| malformed(e.into()))?;
    // The key is the one the proof names (checked above): the pairing check
    // on the values just decoded is zktx's whole verdict.
    let verdict = match verify_proof(&key, &proof, &public) {
        Ok(_) => "valid".to_owned(),
        Err(e) => format!("invalid: {e}"),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let [vk_file, public_file, proof_file] = snarkjs::FILES;
    write_json(&args.out, vk_file, &snarkjs::verification_key(&vk))?;
    write_json(&args.out, public_file, &snarkjs::public_signals(&public))?;
    write_json(&args.out, proof_file, &snarkjs::proof(&proof))?;
    println!(
        "wrote {vk_file}, {public_file} and {proof_file} to {} (zktx's verdict: {verdict})",
        args.out.display()
    );
    Ok(())
}

fn write_json(dir: &Path, name: &str, value: &serde_json::Value) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomically(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}
