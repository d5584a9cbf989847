//! What this machine can verify with nothing in the way: the batch verifier
//! run directly on the run's own proofs, for a short while before the load.
//! Every report states its rate as a ratio to this, measured in the same run,
//! so figures from different machines or days compare.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use zktx_formats::KeyDir;
use zktx_verifier::{BatchConfig, BatchItem, BatchVerifier, PairingBackend, PreparedKeyRegistry};

use crate::driver::Material;
use crate::LoadError;

/// The proofs per batch: the server's micro-batches close at 256.
pub const CALIBRATION_BATCH: usize = 256;

/// The direct batch verifier's rate on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// Proofs verified per second, every core busy.
    pub proofs_per_sec: f64,
    /// Proofs verified.
    pub proofs: usize,
    /// Seconds it took.
    pub seconds: f64,
    /// Verifier threads (the machine's cores, as the server uses).
    pub threads: usize,
}

/// Verifies `items` in batches of [`CALIBRATION_BATCH`] with the blst backend
/// on every core, round after round until `at_least` has passed (after one
/// unmeasured round to warm caches and the pool). Fails if a proof does not
/// verify: the fixtures would then not be what the load sends.
pub fn direct_batch_rate(
    keys: &KeyDir,
    items: &[BatchItem],
    at_least: Duration,
) -> Result<Calibration, LoadError> {
    if items.is_empty() {
        return Err(LoadError::Invalid("calibration needs proofs".into()));
    }
    let registry = PreparedKeyRegistry::load(keys)
        .map_err(|e| LoadError::Invalid(format!("calibration keys: {e}")))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let verifier = BatchVerifier::new(
        Arc::new(registry),
        BatchConfig {
            threads,
            backend: PairingBackend::Blst,
        },
    )
    .map_err(|e| LoadError::Invalid(format!("calibration verifier: {e}")))?;
    let round = |items: &[BatchItem]| -> Result<(), LoadError> {
        for chunk in items.chunks(CALIBRATION_BATCH) {
            if !verifier.verify(chunk).all_valid() {
                return Err(LoadError::Invalid(
                    "calibration: a fixture proof does not verify".into(),
                ));
            }
        }
        Ok(())
    };
    let warm = &items[..items.len().min(CALIBRATION_BATCH)];
    round(warm)?;
    let started = Instant::now();
    let mut proofs = 0;
    while proofs == 0 || started.elapsed() < at_least {
        round(items)?;
        proofs += items.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Calibration {
        proofs_per_sec: proofs as f64 / seconds,
        proofs,
        seconds,
        threads,
    })
}

/// How long a run's calibration verifies.
pub const CALIBRATION_TIME: Duration = Duration::from_secs(2);

/// Calibrates on up to 2,048 of the run's own proofs (the tier and key the
/// load sends), for [`CALIBRATION_TIME`].
pub fn for_material(keys: &KeyDir, material: &Material) -> Result<Calibration, LoadError> {
    let items: Vec<BatchItem> = material
        .proofs
        .iter()
        .flatten()
        .take(2048)
        .cloned()
        .collect();
    direct_batch_rate(keys, &items, CALIBRATION_TIME)
}

impl Calibration {
    /// One line for the console.
    pub fn describe(&self) -> String {
        format!(
            "direct batch verifier on this machine: {:.0} proofs/s ({} proofs in {:.1} s, {} threads, batches of {CALIBRATION_BATCH})",
            self.proofs_per_sec, self.proofs, self.seconds, self.threads
        )
    }
}
