//! `zktx verify-batch`: check many proof files in one batch.

use std::{path::PathBuf, sync::Arc, time::Instant};

use zktx_formats::{KeyDir, ProofEnvelope};
use zktx_verifier::{
    parse_envelope, BatchConfig, BatchItem, BatchVerifier, KeyFingerprint, PairingBackend,
    PreparedKeyRegistry,
};

use crate::exit::{Coded, FAILURE, KEYS};

/// Arguments of `zktx verify-batch`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  zktx verify-batch --keys keys proofs/*.json

Prints `<file>: valid` or `<file>: invalid: <reason>` for each file, in order, then a summary.
Exits 0 only if every proof is valid, 1 otherwise, 4 when the key directory cannot be loaded.")]
pub struct Args {
    /// Key directory: every tier in it is loaded.
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
    /// Threads to verify on (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Pairing library.
    #[arg(long, value_name = "NAME", default_value_t = PairingBackend::default())]
    backend: PairingBackend,
    /// Proof files.
    #[arg(value_name = "PROOF.json", required = true)]
    proofs: Vec<PathBuf>,
}

/// Why a file could not even be submitted to the batch.
fn read_item(
    path: &PathBuf,
    registry: &PreparedKeyRegistry,
    keys: &KeyDir,
) -> Result<BatchItem, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let (envelope, _tier) = parse_envelope(&bytes).map_err(|e| e.to_string())?;
    check_key(&envelope, registry, keys)?;
    BatchItem::from_envelope(&envelope).map_err(|e| e.to_string())
}

/// The key the proof names must be loaded, and be a key of the proof's tier.
fn check_key(
    envelope: &ProofEnvelope,
    registry: &PreparedKeyRegistry,
    keys: &KeyDir,
) -> Result<(), String> {
    let held = KeyFingerprint::parse(&envelope.vk_fingerprint)
        .ok()
        .and_then(|fp| registry.get(&fp));
    match held {
        Some(key) if key.key().tier().capacity() == envelope.tier => Ok(()),
        Some(key) => Err(format!(
            "proof names tier {} but its key {} is a tier-{} key",
            envelope.tier,
            envelope.vk_fingerprint,
            key.key().tier().capacity()
        )),
        None if registry
            .keys()
            .iter()
            .any(|k| k.key().tier().capacity() == envelope.tier) =>
        {
            Err(format!(
                "proof is for verifying key {}, which is not the tier-{} key in {}",
                envelope.vk_fingerprint,
                envelope.tier,
                keys.root().display()
            ))
        }
        None => Err(format!(
            "no verifying key for tier {} in {}",
            envelope.tier,
            keys.root().display()
        )),
    }
}

/// Runs `zktx verify-batch`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let keys = KeyDir::new(&args.keys);
    let registry = match PreparedKeyRegistry::load(&keys) {
        Ok(registry) if !registry.is_empty() => registry,
        Ok(_) => {
            eprintln!("error: no keys in {}", args.keys.display());
            return Err(Coded { code: KEYS }.into());
        }
        Err(e) => {
            eprintln!("error: cannot load the keys: {e}");
            return Err(Coded { code: KEYS }.into());
        }
    };
    let files: Vec<Result<BatchItem, String>> = args
        .proofs
        .iter()
        .map(|path| read_item(path, &registry, &keys))
        .collect();
    let items: Vec<BatchItem> = files.iter().filter_map(|f| f.clone().ok()).collect();

    let verifier = BatchVerifier::new(
        Arc::new(registry),
        BatchConfig {
            threads: args.threads,
            backend: args.backend,
        },
    )?;
    let started = Instant::now();
    let report = verifier.verify(&items);
    let elapsed = started.elapsed();

    let mut verdicts = report.outcomes.into_iter().map(|o| o.verdict);
    let mut valid = 0usize;
    for (path, file) in args.proofs.iter().zip(&files) {
        let line = match file {
            Ok(_) => {
                let verdict = verdicts.next().expect("one verdict per submitted item");
                valid += usize::from(verdict.is_valid());
                verdict.to_string()
            }
            Err(why) => format!("invalid: {why}"),
        };
        println!("{}: {line}", path.display());
    }
    let total = args.proofs.len();
    if verifier
        .registry()
        .keys()
        .iter()
        .any(|k| k.key().dev_keys())
        && valid > 0
    {
        eprintln!("warning: verified with DEVELOPMENT keys, which anyone with the seed can forge");
    }
    println!(
        "summary: {total} proofs, {valid} valid, {} invalid ({} backend, {} threads, {:.1} ms)",
        total - valid,
        verifier.backend(),
        verifier.threads(),
        elapsed.as_secs_f64() * 1e3
    );
    if valid == total {
        Ok(())
    } else {
        Err(Coded { code: FAILURE }.into())
    }
}
