//! The prover's witness: encoded slots of both sets, their salts, and the sorted list S.

use ark_bls12_381::Fr;

use crate::{encoding::field_to_u128, reference, CircuitError, PublicInputs, SetOpening};

/// The full witness of the overlap circuit.
///
/// Fields are public so that adversarial tests can build witnesses an honest
/// prover never would; the circuit must reject every false one.
#[derive(Clone)]
pub struct OverlapWitness {
    /// Encoded slots of set A (`capacity` entries).
    pub a_slots: Vec<Fr>,
    /// Encoded slots of set B (`capacity` entries).
    pub b_slots: Vec<Fr>,
    /// Salt of set A's commitment.
    pub salt_a: Fr,
    /// Salt of set B's commitment.
    pub salt_b: Fr,
    /// All `2·capacity` encoded slots of A and B, sorted ascending.
    pub sorted: Vec<Fr>,
}

impl std::fmt::Debug for OverlapWitness {
    // The witness is private: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OverlapWitness { <hidden> }")
    }
}

impl OverlapWitness {
    /// Builds S by sorting the slots of A and B.
    pub fn from_slots(a_slots: Vec<Fr>, b_slots: Vec<Fr>, salt_a: Fr, salt_b: Fr) -> Self {
        let mut sorted: Vec<Fr> = a_slots.iter().chain(&b_slots).copied().collect();
        // Honest slots are below 2^65; anything else sorts last and fails in-circuit.
        sorted.sort_by_key(|x| field_to_u128(x).unwrap_or(u128::MAX));
        Self {
            a_slots,
            b_slots,
            salt_a,
            salt_b,
            sorted,
        }
    }
}

/// Checks the statement natively and builds the public inputs and witness for it.
///
/// Refuses (never builds a witness) when the tiers differ, `k` is outside
/// `0..=capacity`, or the true overlap exceeds `k`.
pub fn honest_instance(
    a: &SetOpening,
    b: &SetOpening,
    k: u64,
    context: Fr,
) -> Result<(PublicInputs, OverlapWitness), CircuitError> {
    let tier = a.tier();
    if b.tier() != tier {
        return Err(CircuitError::TierMismatch {
            a: tier.capacity(),
            b: b.tier().capacity(),
        });
    }
    if k > tier.capacity() as u64 {
        return Err(CircuitError::KOutOfRange {
            k,
            capacity: tier.capacity(),
        });
    }
    if !reference::statement_holds(a.members(), b.members(), k) {
        return Err(CircuitError::OverlapExceedsK { k });
    }
    let public = PublicInputs {
        commit_a: a.commitment(),
        commit_b: b.commitment(),
        k: Fr::from(k),
        context,
    };
    let witness = OverlapWitness::from_slots(a.slots(), b.slots(), a.salt(), b.salt());
    Ok((public, witness))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tier;

    #[test]
    fn refuses_false_statements_and_bad_k() {
        let tier = Tier::new(4).unwrap();
        let a = SetOpening::new(tier, Fr::from(1u64), [1, 2, 3]).unwrap();
        let b = SetOpening::new(tier, Fr::from(2u64), [2, 3, 4]).unwrap();
        assert!(honest_instance(&a, &b, 2, Fr::from(0u64)).is_ok());
        assert_eq!(
            honest_instance(&a, &b, 1, Fr::from(0u64)).unwrap_err(),
            CircuitError::OverlapExceedsK { k: 1 }
        );
        assert!(matches!(
            honest_instance(&a, &b, 5, Fr::from(0u64)),
            Err(CircuitError::KOutOfRange { .. })
        ));
        let c = SetOpening::new(Tier::new(8).unwrap(), Fr::from(2u64), [2]).unwrap();
        assert!(matches!(
            honest_instance(&a, &c, 2, Fr::from(0u64)),
            Err(CircuitError::TierMismatch { .. })
        ));
    }

    #[test]
    fn sorted_is_a_sorted_permutation() {
        let tier = Tier::new(3).unwrap();
        let a = SetOpening::new(tier, Fr::from(1u64), [9, 2]).unwrap();
        let b = SetOpening::new(tier, Fr::from(2u64), [2]).unwrap();
        let (_, w) = honest_instance(&a, &b, 1, Fr::from(0u64)).unwrap();
        let s: Vec<u128> = w.sorted.iter().map(|x| field_to_u128(x).unwrap()).collect();
        assert_eq!(s, vec![0, 0, 0, 5, 5, 19]);
    }
}
