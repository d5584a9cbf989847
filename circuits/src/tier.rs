//! Circuit tiers: the capacity (slots per side) a circuit is built for.

use crate::CircuitError;

/// The smallest capacity a tier may have.
pub const MIN_CAPACITY: usize = 1;
/// The largest capacity a tier may have (keys for it would be several GB).
pub const MAX_CAPACITY: usize = 1 << 14;
/// The tiers that tooling, benches and docs use by default.
pub const STANDARD_TIERS: [usize; 4] = [16, 64, 256, 1024];

/// A circuit tier: both sets have `capacity` slots, padded with inactive slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier {
    capacity: usize,
}

impl Tier {
    /// A tier of `capacity` slots per side; refuses capacities outside
    /// [`MIN_CAPACITY`]..=[`MAX_CAPACITY`].
    pub fn new(capacity: usize) -> Result<Self, CircuitError> {
        if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
            return Err(CircuitError::BadTier {
                capacity,
                min: MIN_CAPACITY,
                max: MAX_CAPACITY,
            });
        }
        Ok(Self { capacity })
    }

    /// Slots per side (N = M = capacity).
    pub fn capacity(self) -> usize {
        self.capacity
    }

    /// Total slots across both sets (N + M), the length of the sorted list S.
    pub fn total_slots(self) -> usize {
        2 * self.capacity
    }

    /// Bits needed for `k - count` and `N - k`: ⌈log2(N+1)⌉ + 1.
    ///
    /// `count` can reach N+M-1 only when a committed list repeats values; a
    /// prover can then never show `count <= k` because `k <= N` is enforced too.
    pub fn count_bits(self) -> usize {
        let n = self.capacity as u64 + 1;
        let ceil_log2 = 64 - (n - 1).leading_zeros() as usize;
        ceil_log2 + 1
    }

    /// Field elements that the packed slots of one set occupy.
    pub fn packed_len(self) -> usize {
        self.capacity.div_ceil(crate::encoding::SLOTS_PER_ELEMENT)
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tier-{}", self.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_capacities() {
        assert!(Tier::new(0).is_err());
        assert!(Tier::new(MAX_CAPACITY + 1).is_err());
        assert_eq!(Tier::new(16).unwrap().capacity(), 16);
    }

    #[test]
    fn count_bits_cover_capacity() {
        for n in [1usize, 2, 3, 15, 16, 17, 1024] {
            let bits = Tier::new(n).unwrap().count_bits();
            // N itself fits in bits - 1, leaving one bit of headroom.
            assert!((n as u64) < (1u64 << (bits - 1)), "tier {n}");
        }
        assert_eq!(Tier::new(16).unwrap().count_bits(), 6);
        assert_eq!(Tier::new(1024).unwrap().count_bits(), 12);
    }
}
