//! Slot encoding, packing and the domain tags of the overlap circuit.

use ark_bls12_381::Fr;
use ark_ff::{Field, PrimeField};

use crate::{poseidon::domain_tag, Tier};

/// Name of the circuit, as written in key manifests and proof envelopes.
pub const CIRCUIT_NAME: &str = "zktx/overlap";
/// Version of the circuit; part of every domain tag.
pub const CIRCUIT_VERSION: u32 = 1;
/// Bits of an encoded slot `e = 2·v + flag` with a 64-bit value `v`.
pub const SLOT_BITS: usize = 65;
/// Bits of the difference of two adjacent sorted slots.
///
/// Both slots are below 2^65, so their integer difference lies in
/// (−2^65, 2^65); a negative difference wraps to at least p − 2^65, far above
/// 2^65. A 65-bit range check therefore already proves integer order (the
/// design note's 66 bits are one more than needed).
pub const DIFF_BITS: usize = 65;
/// Encoded slots packed into one field element (3 × 65 = 195 bits < 254).
pub const SLOTS_PER_ELEMENT: usize = 3;

/// The identifier of the circuit of `tier`: name, version and capacity.
pub fn circuit_id(tier: Tier) -> String {
    format!(
        "{CIRCUIT_NAME}/v{CIRCUIT_VERSION}/capacity-{}",
        tier.capacity()
    )
}

/// Encodes a slot: `2·v + 1` for a member with id `v`, `0` for padding.
pub fn encode_slot(member: Option<u64>) -> u128 {
    match member {
        Some(v) => 2 * u128::from(v) + 1,
        None => 0,
    }
}

/// An encoded slot as a field element.
pub fn slot_to_field(encoded: u128) -> Fr {
    Fr::from(encoded)
}

/// `2^(SLOT_BITS · i)` for the i-th position inside a packed element.
pub fn packing_coefficient(position: usize) -> Fr {
    Fr::from(2u64).pow([(SLOT_BITS * position) as u64])
}

/// Packs encoded slots three to a field element (injective for range-checked slots).
pub fn pack(slots: &[Fr]) -> Vec<Fr> {
    slots
        .chunks(SLOTS_PER_ELEMENT)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, s)| *s * packing_coefficient(i))
                .sum()
        })
        .collect()
}

/// Domain tag of set commitments for `tier`.
pub fn commit_tag(tier: Tier) -> Fr {
    domain_tag(&format!("{}/commit", circuit_id(tier)))
}

/// Domain tag of the in-circuit multiset challenge for `tier`.
pub fn challenge_tag(tier: Tier) -> Fr {
    domain_tag(&format!("{}/challenge", circuit_id(tier)))
}

/// The multiset challenge γ the circuit derives (natively): Poseidon over the
/// challenge tag of `tier`, the four public inputs in order and S packed,
/// so it is fixed only once everything the prover chose is.
pub fn challenge(tier: Tier, public: &crate::PublicInputs, sorted: &[Fr]) -> Fr {
    let mut transcript = vec![
        challenge_tag(tier),
        public.commit_a,
        public.commit_b,
        public.k,
        public.context,
    ];
    transcript.extend(pack(sorted));
    crate::poseidon::hash(&transcript)
}

/// The value of a field element if it is below 2^128 (used for sorting witnesses).
pub fn field_to_u128(x: &Fr) -> Option<u128> {
    let limbs = x.into_bigint().0;
    // `+` rather than `|`: the two never overlap, and an `|`/`^` swap would be
    // an equivalent mutant (scripts/mutants.sh).
    (limbs[2] == 0 && limbs[3] == 0).then(|| u128::from(limbs[0]) + (u128::from(limbs[1]) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_odd_padding_is_even() {
        assert_eq!(encode_slot(None), 0);
        assert_eq!(encode_slot(Some(0)), 1);
        assert_eq!(encode_slot(Some(u64::MAX)), (1u128 << 65) - 1);
    }

    #[test]
    fn packing_is_positional() {
        let a = [
            Fr::from(1u64),
            Fr::from(2u64),
            Fr::from(3u64),
            Fr::from(4u64),
        ];
        let packed = pack(&a);
        assert_eq!(packed.len(), 2);
        let expected = Fr::from(1u64)
            + Fr::from(2u64) * packing_coefficient(1)
            + Fr::from(3u64) * packing_coefficient(2);
        assert_eq!(packed[0], expected);
        assert_eq!(packed[1], Fr::from(4u64));
    }

    #[test]
    fn tags_differ_by_tier_and_purpose() {
        let t16 = Tier::new(16).unwrap();
        let t64 = Tier::new(64).unwrap();
        assert_ne!(commit_tag(t16), commit_tag(t64));
        assert_ne!(commit_tag(t16), challenge_tag(t16));
        assert_ne!(challenge_tag(t16), challenge_tag(t64));
        // Pinned: each tag is the domain tag of the circuit id and the purpose.
        assert_eq!(
            challenge_tag(t16),
            crate::poseidon::domain_tag("zktx/overlap/v1/capacity-16/challenge")
        );
        assert_eq!(
            commit_tag(t64),
            crate::poseidon::domain_tag("zktx/overlap/v1/capacity-64/commit")
        );
    }

    #[test]
    fn u128_round_trip() {
        let x = (1u128 << 65) + 7;
        assert_eq!(field_to_u128(&Fr::from(x)), Some(x));
        assert_eq!(field_to_u128(&-Fr::from(1u64)), None);
        // Either high limb alone makes the value too wide.
        for limbs in [[0, 0, 1, 0], [0, 0, 0, 1], [5, 7, 0, 1]] {
            let x = Fr::from_bigint(ark_ff::BigInt::new(limbs)).unwrap();
            assert_eq!(field_to_u128(&x), None, "{limbs:?}");
        }
    }
}

/// Errors decoding a field element from hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldHexError {
    /// Not hex, or the wrong length.
    #[error("expected {expected} hex digits (got {got} characters)")]
    BadHex {
        /// Digits expected.
        expected: usize,
        /// Characters found.
        got: usize,
    },
    /// At or above the field modulus r.
    #[error(
        "value is not a canonical field element (it is at or above the BLS12-381 scalar modulus)"
    )]
    NonCanonical,
}

/// A field element as 64 lowercase hex digits, big-endian (the canonical form).
pub fn fr_to_hex(x: &Fr) -> String {
    use ark_ff::BigInteger;
    hex::encode(x.into_bigint().to_bytes_be())
}

/// Parses exactly 64 hex digits, big-endian, refusing values at or above r.
pub fn fr_from_hex(text: &str) -> Result<Fr, FieldHexError> {
    let bad = || FieldHexError::BadHex {
        expected: 64,
        got: text.len(),
    };
    if text.len() != 64 {
        return Err(bad());
    }
    let bytes = hex::decode(text).map_err(|_| bad())?;
    fr_from_be_bytes(&bytes)
}

/// Parses up to 32 big-endian bytes as a canonical field element (never reduced mod r).
pub fn fr_from_be_bytes(bytes: &[u8]) -> Result<Fr, FieldHexError> {
    if bytes.len() > 32 {
        return Err(FieldHexError::NonCanonical);
    }
    let mut padded = [0u8; 32];
    padded[32 - bytes.len()..].copy_from_slice(bytes);
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(padded[start..start + 8].try_into().expect("8 bytes"));
    }
    Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or(FieldHexError::NonCanonical)
}

#[cfg(test)]
mod hex_tests {
    use super::*;
    use ark_ff::BigInteger;

    #[test]
    fn hex_round_trip_and_canonicity() {
        let x = Fr::from(123456789u64);
        assert_eq!(fr_from_hex(&fr_to_hex(&x)).unwrap(), x);
        let modulus = hex::encode(Fr::MODULUS.to_bytes_be());
        assert_eq!(fr_from_hex(&modulus), Err(FieldHexError::NonCanonical));
        assert_eq!(
            fr_from_hex(&"f".repeat(64)),
            Err(FieldHexError::NonCanonical)
        );
        assert!(matches!(
            fr_from_hex("12"),
            Err(FieldHexError::BadHex { .. })
        ));
        assert!(matches!(
            fr_from_hex(&"g".repeat(64)),
            Err(FieldHexError::BadHex { .. })
        ));
        assert_eq!(fr_from_be_bytes(&[1, 0]).unwrap(), Fr::from(256u64));
    }
}
