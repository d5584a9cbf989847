//! `zktx receipt verify`: check a receipt's signature offline.

use std::path::PathBuf;

use anyhow::{bail, Context};
use zktx_proto::receipt::Receipt;

use crate::exit::{Coded, FAILURE};

/// `zktx receipt` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check that a receipt was signed by the server's key and not altered.
    #[command(after_help = "\
Example:
  curl -s http://127.0.0.1:8080/v1/receipt-key        # the server's public key
  zktx receipt verify --public-key <hex> receipt.json
  zktx receipt verify --public-key <hex> --statement proof.json receipt.json

The file holds a receipt (as GET /v1/receipts/{id} returns it) or a verify response with a
`receipt` field. With --statement, the receipt must also be for that proof file's key and public
inputs (context included). Exits 0 when everything holds, 1 when not.")]
    Verify {
        /// The server's Ed25519 public key, 64 hex digits.
        #[arg(long, value_name = "HEX", conflicts_with = "public_key_file")]
        public_key: Option<String>,
        /// A file holding the public key (hex).
        #[arg(long, value_name = "FILE")]
        public_key_file: Option<PathBuf>,
        /// Also check that the receipt is for this proof file's statement
        /// (its key and public inputs, context included).
        #[arg(long, value_name = "PROOF.json")]
        statement: Option<PathBuf>,
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
        statement,
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
    if let Some(proof_file) = statement {
        let expected = statement_digest(&proof_file)?;
        if expected != parsed.statement_digest {
            println!(
                "receipt {}: NOT for {}: it covers another statement (key or public inputs differ)",
                parsed.id,
                proof_file.display()
            );
            return Err(Coded { code: FAILURE }.into());
        }
    }
    match parsed.verify(&key) {
        Ok(()) => {
            let signed = match &parsed.batch {
                Some(b) => format!("signed with its group ({} of {})", b.index + 1, b.size),
                None => "signed alone".to_string(),
            };
            println!(
                "receipt {}: signature valid, {signed} (tenant {}, {}, verdict {})",
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

/// The statement digest of a proof file (key fingerprint and public inputs).
fn statement_digest(path: &std::path::Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let envelope: zktx_formats::ProofEnvelope = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a proof file", path.display()))?;
    let key = zktx_verifier::KeyFingerprint::parse(&envelope.vk_fingerprint)
        .map_err(|_| anyhow::anyhow!("{}: malformed vk_fingerprint", path.display()))?;
    let public = zktx_verifier::decode::decode_public_inputs(&envelope.public_inputs)?;
    Ok(zktx_verifier::StatementDigest::new(&key, &public).to_string())
}
