//! `zktx verify`: check a proof file.

use std::path::PathBuf;

use zktx_formats::KeyDir;
use zktx_verifier::{verify_file_bytes, VerifyError};

use crate::exit::{Coded, FAILURE, KEYS};

/// Arguments of `zktx verify`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx verify --keys keys proof.json

Prints `valid` and exits 0, or prints `invalid: <reason>` and exits 1. Exits 4 when the keys
for the proof's tier are missing or damaged (nothing was checked).")]
pub struct Args {
    /// Key directory holding the proof's tier.
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
    /// The proof file.
    #[arg(value_name = "PROOF.json")]
    proof: PathBuf,
}

/// Runs `zktx verify`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let bytes = match std::fs::read(&args.proof) {
        Ok(bytes) => bytes,
        Err(e) => {
            println!("invalid: cannot read {}: {e}", args.proof.display());
            return Err(Coded { code: FAILURE }.into());
        }
    };
    match verify_file_bytes(&KeyDir::new(&args.keys), &bytes) {
        Ok(verified) => {
            if verified.dev_keys {
                eprintln!(
                    "warning: verified with DEVELOPMENT keys, which anyone with the seed can forge"
                );
            }
            println!("valid");
            Ok(())
        }
        Err(VerifyError::Keys(e)) => {
            eprintln!("error: cannot check the proof: {e}");
            Err(Coded { code: KEYS }.into())
        }
        Err(e) => {
            println!("invalid: {e}");
            Err(Coded { code: FAILURE }.into())
        }
    }
}
