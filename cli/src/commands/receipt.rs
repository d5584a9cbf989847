//! `zktx receipt verify`: check a receipt's signature offline.

use std::path::PathBuf;

use anyhow::{bail, Context};
use zktx_server::receipt::Receipt;

use crate::exit::{Coded, FAILURE};

/// `zktx receipt` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check that a receipt was signed by the server's key and not altered.
    #[command(after_help = "\
Example:
  curl -s http://127.0.0.1:8080/v1/receipt-key        # the server's public key
  zktx receipt verify --public-key <hex> receipt.json

The file holds a receipt (as GET /v1/receipts/{id} returns it) or a verify response with a
`receipt` field. Exits 0 when the signature holds, 1 when it does not.")]
    Verify {
        /// The server's Ed25519 public key, 64 hex digits.
        #[arg(long, value_name = "HEX", conflicts_with = "public_key_file")]
        public_key: Option<String>,
        /// A file holding the public key (hex).
        #[arg(long, value_name = "FILE")]
        public_key_file: Option<PathBuf>,
        /// The receipt file (JSON).
        #[arg(value_name = "RECEIPT.json")]
        receipt: PathBuf,
    },
}

/// Runs `zktx receipt`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Verify {
        public_key,
        public_key_file,
        receipt,
    } = command;
    let key = match (public_key, public_key_file) {
        (Some(key), _) => key,
        (None, Some(file)) => {
            std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
        }
        (None, None) => bail!("give the server's key with --public-key or --public-key-file"),
    };
    let text = std::fs::read_to_string(&receipt)
        .with_context(|| format!("reading {}", receipt.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).context("the receipt file is not JSON")?;
    if let Some(inner) = value.get_mut("receipt") {
        value = inner.take();
    }
    let parsed: Receipt = serde_json::from_value(value).context("the file holds no receipt")?;
    match parsed.verify(&key) {
        Ok(()) => {
            println!(
                "receipt {}: signature valid (tenant {}, {}, verdict {})",
                parsed.id,
                parsed.tenant,
                parsed.circuit,
                parsed.verdict.as_str()
            );
            Ok(())
        }
        Err(e) => {
            println!("receipt {}: NOT valid: {e}", parsed.id);
            Err(Coded { code: FAILURE }.into())
        }
    }
}
