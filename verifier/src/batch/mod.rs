//! The batch verifier: one pairing product for a whole batch, on a rayon pool.
//!
//! [`BatchVerifier::verify`] takes many items, for any mix of keys, and returns
//! one verdict per item, in order, each exactly what single verification would
//! say. Per item, in order of cost: a validated decode, a 128-bit scalar
//! multiplication and one Miller-loop pair; per batch, one small MSM and three
//! Miller-loop pairs per key and ONE final exponentiation for all keys. See
//! [`equation`] for the equation and how invalid items are found.

mod equation;
mod floor;
mod item;
mod single;

use std::{
    collections::{hash_map::Entry, HashMap},
    sync::Arc,
};

use rayon::{prelude::*, ThreadPool, ThreadPoolBuilder};

use crate::{
    backend::{Arkworks, Blst, Engine},
    Invalid, PairingBackend, PreparedKeyRegistry, Verdict, VerdictCache,
};

pub use floor::per_proof_floor;
pub use item::{BatchItem, BatchReport, BatchStats, ItemOutcome};
pub use single::verify_single;

use equation::{Candidate, Work};
use item::{resolve, Resolved};

/// How a [`BatchVerifier`] runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchConfig {
    /// Threads of the verifier's own pool; 0 means one per core.
    pub threads: usize,
    /// The pairing library.
    pub backend: PairingBackend,
}

/// The thread pool could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the verifier's thread pool: {0}")]
pub struct PoolError(#[from] rayon::ThreadPoolBuildError);

/// Verifies batches of proofs against a registry of prepared keys.
///
/// It runs on a pool it is given or builds for itself, never on rayon's global
/// pool. With a [`VerdictCache`], exact resubmissions are answered from it.
pub struct BatchVerifier {
    registry: Arc<PreparedKeyRegistry>,
    pool: Arc<ThreadPool>,
    backend: PairingBackend,
    cache: Option<Arc<VerdictCache>>,
}

impl BatchVerifier {
    /// A verifier with its own pool of `config.threads` threads.
    pub fn new(registry: Arc<PreparedKeyRegistry>, config: BatchConfig) -> Result<Self, PoolError> {
        let pool = ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|i| format!("zktx-verify-{i}"))
            .build()?;
        Ok(Self::with_pool(registry, Arc::new(pool), config.backend))
    }

    /// A verifier that runs on `pool`.
    pub fn with_pool(
        registry: Arc<PreparedKeyRegistry>,
        pool: Arc<ThreadPool>,
        backend: PairingBackend,
    ) -> Self {
        Self {
            registry,
            pool,
            backend,
            cache: None,
        }
    }

    /// Answers exact resubmissions from `cache` and records new pairing verdicts in it.
    pub fn with_cache(mut self, cache: Arc<VerdictCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The keys this verifier accepts proofs for.
    pub fn registry(&self) -> &Arc<PreparedKeyRegistry> {
        &self.registry
    }

    /// The pairing backend.
    pub fn backend(&self) -> PairingBackend {
        self.backend
    }

    /// Threads in the pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The verdict cache, if any.
    pub fn cache(&self) -> Option<&Arc<VerdictCache>> {
        self.cache.as_ref()
    }

    /// Verifies every item; one outcome per item, in order.
    pub fn verify(&self, items: &[BatchItem]) -> BatchReport {
        self.pool.install(|| match self.backend {
            PairingBackend::Arkworks => self.run::<Arkworks>(items),
            PairingBackend::Blst => self.run::<Blst>(items),
        })
    }

    fn run<E: Engine>(&self, items: &[BatchItem]) -> BatchReport {
        let resolved: Vec<_> = items
            .par_iter()
            .map(|item| resolve(&self.registry, item))
            .collect();
        let mut triage = self.triage(&resolved);

        let proofs: Vec<&[u8]> = triage
            .pending
            .iter()
            .map(|i| items[*i].proof.as_slice())
            .collect();
        let decoded = equation::decode_all::<E>(&proofs);
        let mut candidates = Vec::new();
        let mut candidate_item = Vec::new();
        for (i, proof) in triage.pending.iter().zip(decoded) {
            let entry = resolved[*i].as_ref().expect("pending items are resolved");
            match proof {
                Ok(proof) => {
                    candidates.push(Candidate {
                        key: &entry.key,
                        proof,
                        inputs: &entry.inputs,
                    });
                    candidate_item.push(*i);
                }
                Err(error) => {
                    triage.outcomes[*i] = Some(invalid_outcome(error.into(), Some(entry)));
                }
            }
        }

        let work = Work::default();
        let mut invalid = equation::invalid_candidates::<E>(&candidates, &work)
            .into_iter()
            .peekable();
        let verdicts: Vec<Verdict> = (0..candidate_item.len())
            .map(|c| match invalid.next_if_eq(&c) {
                Some(_) => Verdict::Invalid(Invalid::Rejected),
                None => Verdict::Valid,
            })
            .collect();
        if let Some(cache) = &self.cache {
            // On the pool's threads, not one: the inserts would otherwise run serially.
            candidate_item
                .par_iter()
                .zip(&verdicts)
                .for_each(|(i, verdict)| {
                    let entry = resolved[*i].as_ref().expect("candidates are resolved");
                    cache.insert(entry.verdict_key, verdict);
                });
        }
        for (i, verdict) in candidate_item.iter().zip(verdicts) {
            let entry = resolved[*i].as_ref().expect("candidates are resolved");
            triage.outcomes[*i] = Some(ItemOutcome {
                verdict,
                statement: Some(entry.statement),
                cached: false,
            });
        }
        for (i, first) in &triage.repeats {
            triage.outcomes[*i] = triage.outcomes[*first].clone();
        }

        BatchReport {
            outcomes: triage
                .outcomes
                .into_iter()
                .map(|o| o.expect("every item has an outcome"))
                .collect(),
            stats: BatchStats {
                items: items.len(),
                cache_hits: triage.cache_hits,
                duplicates: triage.repeats.len(),
                decoded: candidates.len(),
                batch_checks: work.batch_checks.into_inner(),
                single_checks: work.single_checks.into_inner(),
            },
        }
    }

    /// Settles what needs no pairing: unknown keys, bad inputs, cache hits and
    /// repeats of an earlier item; the rest is pending.
    fn triage(&self, resolved: &[Result<Resolved, Invalid>]) -> Triage {
        let mut triage = Triage {
            outcomes: vec![None; resolved.len()],
            ..Triage::default()
        };
        let mut first_seen = HashMap::new();
        for (i, entry) in resolved.iter().enumerate() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(why) => {
                    triage.outcomes[i] = Some(invalid_outcome(why.clone(), None));
                    continue;
                }
            };
            match first_seen.entry(entry.verdict_key) {
                Entry::Occupied(first) => {
                    triage.repeats.push((i, *first.get()));
                    continue;
                }
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
            match self.cache.as_ref().and_then(|c| c.get(&entry.verdict_key)) {
                Some(verdict) => {
                    triage.cache_hits += 1;
                    triage.outcomes[i] = Some(ItemOutcome {
                        verdict,
                        statement: Some(entry.statement),
                        cached: true,
                    });
                }
                None => triage.pending.push(i),
            }
        }
        triage
    }
}

/// Items sorted by what they still need.
#[derive(Default)]
struct Triage {
    /// Outcomes settled so far, by item.
    outcomes: Vec<Option<ItemOutcome>>,
    /// Items that need decoding and the pairing check.
    pending: Vec<usize>,
    /// `(item, earlier identical item)`.
    repeats: Vec<(usize, usize)>,
    /// Items answered from the cache.
    cache_hits: usize,
}

/// The outcome of an item found invalid without a pairing check.
fn invalid_outcome(why: Invalid, entry: Option<&Resolved>) -> ItemOutcome {
    ItemOutcome {
        verdict: Verdict::Invalid(why),
        statement: entry.map(|e| e.statement),
        cached: false,
    }
}
