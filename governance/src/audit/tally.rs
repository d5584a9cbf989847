//! Tallies of repeated events (denials, waiver uses) between commits.
//!
//! A denied request must be audited, but a caller who repeats one denied
//! request must not write a row per request: that would let anyone grow the
//! store at will. Events on the request path are counted here per (kind,
//! tenant, details) and written as one entry per key at the next commit,
//! with the count and the first and last time. The number of distinct keys
//! between two commits is bounded ([`Tally::new`]); past it, events are
//! counted per kind and tenant-less, under `overflow=true`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::entry::{AuditEvent, AuditKind};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    kind: AuditKind,
    tenant: Option<String>,
    details: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug)]
struct Count {
    count: u64,
    first_ms: i64,
    last_ms: i64,
}

/// Counts repeated events until they are drained into the chain.
pub struct Tally {
    max_keys: usize,
    counts: Mutex<HashMap<Key, Count>>,
}

/// The most distinct keys a tally holds between two drains by default.
pub const DEFAULT_MAX_KEYS: usize = 4096;

impl Tally {
    /// A tally holding at most `max_keys` distinct keys between drains.
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event.
    pub fn record(&self, kind: AuditKind, tenant: &str, details: &[(&str, &str)], at_ms: i64) {
        let key = Key {
            kind,
            tenant: Some(tenant.to_string()),
            details: details
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        };
        let mut counts = self.counts.lock().expect("tally lock");
        let key = if counts.contains_key(&key) || counts.len() < self.max_keys {
            key
        } else {
            Key {
                kind,
                tenant: None,
                details: BTreeMap::from([("overflow".to_string(), "true".to_string())]),
            }
        };
        let count = counts.entry(key).or_insert(Count {
            count: 0,
            first_ms: at_ms,
            last_ms: at_ms,
        });
        count.count += 1;
        count.first_ms = count.first_ms.min(at_ms);
        count.last_ms = count.last_ms.max(at_ms);
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.counts.lock().expect("tally lock").is_empty()
    }

    /// Takes every count as an event dated `now_ms` (details: the recorded
    /// ones plus `count`, `first_at_ms`, `last_at_ms`), in a stable order.
    pub fn drain(&self, now_ms: i64) -> Vec<AuditEvent> {
        let counts = std::mem::take(&mut *self.counts.lock().expect("tally lock"));
        let mut events: Vec<AuditEvent> = counts
            .into_iter()
            .map(|(key, count)| {
                let mut event = AuditEvent {
                    at_ms: now_ms,
                    kind: key.kind,
                    tenant: key.tenant,
                    details: key.details,
                };
                event = event
                    .with("count", count.count)
                    .with("first_at_ms", count.first_ms)
                    .with("last_at_ms", count.last_ms);
                event
            })
            .collect();
        events.sort_by(|a, b| {
            (a.kind.as_str(), &a.tenant, &a.details).cmp(&(b.kind.as_str(), &b.tenant, &b.details))
        });
        events
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_KEYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_become_one_event_with_a_count() {
        let tally = Tally::new(8);
        for at in [5, 3, 9] {
            tally.record(AuditKind::QuotaDenial, "acme", &[("reason", "daily")], at);
        }
        tally.record(AuditKind::QuotaDenial, "globex", &[("reason", "daily")], 4);
        let events = tally.drain(100);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].tenant.as_deref(), Some("acme"));
        assert_eq!(events[0].details["count"], "3");
        assert_eq!(events[0].details["first_at_ms"], "3");
        assert_eq!(events[0].details["last_at_ms"], "9");
        assert_eq!(events[0].at_ms, 100);
        assert!(tally.is_empty());
        assert!(tally.drain(101).is_empty());
    }

    #[test]
    fn past_its_bound_a_tally_counts_per_kind_only() {
        let tally = Tally::new(2);
        for i in 0..10 {
            tally.record(AuditKind::PolicyDenial, &format!("t{i}"), &[], i);
        }
        let events = tally.drain(50);
        assert_eq!(events.len(), 3);
        let overflow = events.iter().find(|e| e.tenant.is_none()).unwrap();
        assert_eq!(overflow.details["count"], "8");
        assert_eq!(overflow.details["overflow"], "true");
    }
}
