//! Which (tenant, statement) pairs may hold a valid receipt, in memory, so
//! that the replay check for fresh work — nearly every single-proof call —
//! does not search the receipts table.
//!
//! A Bloom filter of fixed size: "absent" is certain, "maybe present" sends
//! the lookup to SQLite, which has the last word. It is rebuilt from the
//! table when the store opens and learns each valid receipt from the writer
//! after its group commit and before the callers hear of it, so it never
//! says "absent" for a receipt a caller was given. Past its design
//! capacity it answers "maybe" more often (more lookups), never wrongly.

use std::sync::RwLock;

use bloomfilter::Bloom;

/// Valid statements the filter is sized for at its false-positive rate.
const CAPACITY: usize = 10_000_000;
/// The share of fresh statements that still go to SQLite at capacity.
const FALSE_POSITIVE_RATE: f64 = 0.01;

/// The filter (about 12 MB at the defaults).
pub struct ValidIndex {
    bloom: RwLock<Bloom<str>>,
}

/// The filter's key. Were a tenant id to hold a newline, two pairs could
/// share a key: a false positive (one more query), never a wrong answer.
fn key(tenant: &str, statement_digest: &str) -> String {
    format!("{tenant}\n{statement_digest}")
}

impl ValidIndex {
    /// An empty filter of the default size.
    pub fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    /// An empty filter sized for `capacity` statements.
    pub fn with_capacity(capacity: usize) -> Self {
        let bloom = Bloom::new_for_fp_rate(capacity.max(1), FALSE_POSITIVE_RATE)
            .expect("a positive capacity and a rate in (0, 1)");
        Self {
            bloom: RwLock::new(bloom),
        }
    }

    /// Records that `tenant` holds a valid receipt for `statement_digest`.
    pub fn insert(&self, tenant: &str, statement_digest: &str) {
        self.bloom
            .write()
            .expect("valid index lock")
            .set(&key(tenant, statement_digest));
    }

    /// False only if `tenant` certainly holds no valid receipt for `statement_digest`.
    pub fn may_contain(&self, tenant: &str, statement_digest: &str) -> bool {
        self.bloom
            .read()
            .expect("valid index lock")
            .check(&key(tenant, statement_digest))
    }
}

impl Default for ValidIndex {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_inserted_pair_is_ever_absent_and_most_others_are() {
        let index = ValidIndex::with_capacity(1000);
        for i in 0..1000 {
            index.insert("acme", &format!("{i:064x}"));
        }
        for i in 0..1000 {
            assert!(index.may_contain("acme", &format!("{i:064x}")));
        }
        // The same statements for another tenant, and fresh ones: at 1%, a
        // few of 1000 may be false positives, not dozens.
        let false_positives = (0..1000)
            .filter(|i| index.may_contain("other", &format!("{i:064x}")))
            .count()
            + (1000..2000)
                .filter(|i| index.may_contain("acme", &format!("{i:064x}")))
                .count();
        assert!(false_positives < 60, "{false_positives} of 2000");
    }
}
