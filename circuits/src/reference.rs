//! The native reference: plain set intersection, the ground truth for tests.

use std::collections::HashSet;

/// Number of distinct ids present in both `a` and `b`.
pub fn overlap(a: &[u64], b: &[u64]) -> usize {
    let a: HashSet<u64> = a.iter().copied().collect();
    let b: HashSet<u64> = b.iter().copied().collect();
    a.intersection(&b).count()
}

/// Whether |A ∩ B| ≤ k.
pub fn statement_holds(a: &[u64], b: &[u64], k: u64) -> bool {
    overlap(a, b) as u64 <= k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_shared_members() {
        assert_eq!(overlap(&[1, 2, 3, 3], &[3, 3, 4, 1]), 2);
        assert_eq!(overlap(&[], &[1]), 0);
        assert!(statement_holds(&[1, 2], &[2, 3], 1));
        assert!(!statement_holds(&[1, 2], &[2, 1], 1));
    }
}
