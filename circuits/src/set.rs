//! A committed set: its members (64-bit ids), its salt, and its commitment.

use ark_bls12_381::Fr;
use ark_std::UniformRand;
use rand::{CryptoRng, RngCore};

use crate::{encoding, poseidon, CircuitError, Tier};

/// The private opening of a set commitment: the tier, the salt and the members.
///
/// Members are kept sorted and distinct; slots hold the members in that order,
/// followed by padding.
#[derive(Clone, PartialEq, Eq)]
pub struct SetOpening {
    tier: Tier,
    salt: Fr,
    members: Vec<u64>,
}

impl std::fmt::Debug for SetOpening {
    // Members and salt are private: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetOpening")
            .field("tier", &self.tier)
            .field("members", &format_args!("<{} hidden>", self.members.len()))
            .finish_non_exhaustive()
    }
}

impl SetOpening {
    /// An opening with the given salt; duplicates are removed, order is canonical.
    pub fn new(
        tier: Tier,
        salt: Fr,
        ids: impl IntoIterator<Item = u64>,
    ) -> Result<Self, CircuitError> {
        let mut members: Vec<u64> = ids.into_iter().collect();
        members.sort_unstable();
        members.dedup();
        if members.len() > tier.capacity() {
            return Err(CircuitError::SetTooLarge {
                members: members.len(),
                capacity: tier.capacity(),
            });
        }
        Ok(Self {
            tier,
            salt,
            members,
        })
    }

    /// An opening with a fresh random salt.
    pub fn with_random_salt<R: RngCore + CryptoRng>(
        tier: Tier,
        ids: impl IntoIterator<Item = u64>,
        rng: &mut R,
    ) -> Result<Self, CircuitError> {
        Self::new(tier, Fr::rand(rng), ids)
    }

    /// The tier this set is committed for.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The salt that makes the commitment hiding.
    pub fn salt(&self) -> Fr {
        self.salt
    }

    /// The members, sorted and distinct.
    pub fn members(&self) -> &[u64] {
        &self.members
    }

    /// The encoded slots: members, then padding, `capacity` in all.
    pub fn slots(&self) -> Vec<Fr> {
        let padding = self.tier.capacity() - self.members.len();
        self.members
            .iter()
            .map(|v| encoding::encode_slot(Some(*v)))
            .chain(std::iter::repeat_n(encoding::encode_slot(None), padding))
            .map(encoding::slot_to_field)
            .collect()
    }

    /// The public commitment `Poseidon(tag, salt, packed slots)`.
    pub fn commitment(&self) -> Fr {
        commit_slots(self.tier, self.salt, &self.slots())
    }
}

/// The commitment over explicit encoded slots (also what the circuit recomputes).
pub fn commit_slots(tier: Tier, salt: Fr, slots: &[Fr]) -> Fr {
    let mut input = Vec::with_capacity(2 + tier.packed_len());
    input.push(encoding::commit_tag(tier));
    input.push(salt);
    input.extend(encoding::pack(slots));
    poseidon::hash(&input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn canonical_order_and_dedup() {
        let tier = Tier::new(4).unwrap();
        let a = SetOpening::new(tier, Fr::from(9u64), [5, 3, 5, 1]).unwrap();
        assert_eq!(a.members(), &[1, 3, 5]);
        let b = SetOpening::new(tier, Fr::from(9u64), [1, 3, 5]).unwrap();
        assert_eq!(a.commitment(), b.commitment());
        assert_eq!(a.slots().len(), 4);
    }

    #[test]
    fn too_many_members_refused() {
        let tier = Tier::new(2).unwrap();
        assert_eq!(
            SetOpening::new(tier, Fr::from(1u64), [1, 2, 3]).unwrap_err(),
            CircuitError::SetTooLarge {
                members: 3,
                capacity: 2
            }
        );
    }

    #[test]
    fn salts_hide_the_set() {
        let tier = Tier::new(8).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let a = SetOpening::with_random_salt(tier, [1, 2, 3], &mut rng).unwrap();
        let b = SetOpening::with_random_salt(tier, [1, 2, 3], &mut rng).unwrap();
        assert_ne!(a.commitment(), b.commitment());
    }

    #[test]
    fn debug_hides_members_and_salt() {
        let tier = Tier::new(8).unwrap();
        let a = SetOpening::new(tier, Fr::from(424242u64), [987654321]).unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("987654321") && !shown.contains("424242"));
    }
}
