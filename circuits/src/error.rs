//! Errors of the circuits crate.

/// What can go wrong building sets, statements and witnesses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CircuitError {
    /// A tier capacity outside the supported range.
    #[error("tier capacity {capacity} is outside the supported range {min}..={max}")]
    BadTier {
        /// The capacity asked for.
        capacity: usize,
        /// Smallest supported capacity.
        min: usize,
        /// Largest supported capacity.
        max: usize,
    },
    /// An identifier that is empty after normalisation.
    #[error("identifier is empty after normalisation")]
    EmptyIdentifier,
    /// A set with more distinct members than the tier has slots.
    #[error("set has {members} distinct members but the tier holds at most {capacity}")]
    SetTooLarge {
        /// Distinct members in the set.
        members: usize,
        /// Slots per side of the tier.
        capacity: usize,
    },
    /// Two openings for different tiers.
    #[error("the openings are for different tiers ({a} and {b})")]
    TierMismatch {
        /// Capacity of set A's tier.
        a: usize,
        /// Capacity of set B's tier.
        b: usize,
    },
    /// k outside 0..=N.
    #[error("k = {k} is outside 0..={capacity} for this tier")]
    KOutOfRange {
        /// The bound asked for.
        k: u64,
        /// Slots per side.
        capacity: usize,
    },
    /// The statement is false: the prover refuses to prove it.
    #[error("the sets overlap in more than k = {k} members: the statement is false and no proof is produced")]
    OverlapExceedsK {
        /// The bound asked for.
        k: u64,
    },
}
