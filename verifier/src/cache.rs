//! A bounded cache of verdicts on exact submissions.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use moka::sync::Cache;

use crate::{Verdict, VerdictKey};

/// Size and lifetime of a [`VerdictCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most verdicts held; the least recently used go first.
    pub max_entries: u64,
    /// How long a verdict is kept after it was computed.
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            ttl: Duration::from_secs(600),
        }
    }
}

/// Hit and miss counts of a [`VerdictCache`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a verdict.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// Verdicts held now (approximate: moka counts lazily).
    pub entries: u64,
}

/// Verdicts of proofs already checked, keyed by [`VerdictKey`] (key fingerprint,
/// canonical public inputs and the exact proof bytes).
///
/// Only pairing verdicts are kept (valid, or decoded but rejected): they are
/// facts about those exact bytes. Decoding failures and unknown keys are not.
/// A re-randomised proof has other bytes and so misses: use the
/// [`crate::StatementDigest`] to recognise the same statement.
pub struct VerdictCache {
    verdicts: Cache<VerdictKey, bool>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl VerdictCache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            verdicts: Cache::builder()
                .max_capacity(config.max_entries)
                .time_to_live(config.ttl)
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The verdict on this exact submission, if it was checked recently.
    pub fn get(&self, key: &VerdictKey) -> Option<Verdict> {
        match self.verdicts.get(key) {
            Some(valid) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(if valid {
                    Verdict::Valid
                } else {
                    Verdict::Invalid(crate::Invalid::Rejected)
                })
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Records a pairing verdict; other verdicts are not cached.
    pub fn insert(&self, key: VerdictKey, verdict: &Verdict) {
        match verdict {
            Verdict::Valid => self.verdicts.insert(key, true),
            Verdict::Invalid(crate::Invalid::Rejected) => self.verdicts.insert(key, false),
            Verdict::Invalid(_) => {}
        }
    }

    /// Hit and miss counts so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.verdicts.entry_count(),
        }
    }
}

impl Default for VerdictCache {
    fn default() -> Self {
        Self::new(CacheConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeError, Invalid};

    #[test]
    fn keeps_pairing_verdicts_and_counts_lookups() {
        let cache = VerdictCache::default();
        let (a, b, c) = (
            VerdictKey([1; 32]),
            VerdictKey([2; 32]),
            VerdictKey([3; 32]),
        );
        assert_eq!(cache.get(&a), None);
        cache.insert(a, &Verdict::Valid);
        cache.insert(b, &Verdict::Invalid(Invalid::Rejected));
        cache.insert(c, &Verdict::Invalid(Invalid::Decode(DecodeError::Base64)));
        assert_eq!(cache.get(&a), Some(Verdict::Valid));
        assert_eq!(cache.get(&b), Some(Verdict::Invalid(Invalid::Rejected)));
        assert_eq!(cache.get(&c), None);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (2, 2));
    }

    #[test]
    fn is_bounded() {
        let cache = VerdictCache::new(CacheConfig {
            max_entries: 10,
            ttl: Duration::from_secs(60),
        });
        for i in 0..100u8 {
            cache.insert(VerdictKey([i; 32]), &Verdict::Valid);
        }
        cache.verdicts.run_pending_tasks();
        assert!(cache.stats().entries <= 10);
    }

    #[test]
    fn forgets_after_the_ttl() {
        let cache = VerdictCache::new(CacheConfig {
            max_entries: 10,
            ttl: Duration::from_millis(1),
        });
        cache.insert(VerdictKey([1; 32]), &Verdict::Valid);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(cache.get(&VerdictKey([1; 32])), None);
    }
}
