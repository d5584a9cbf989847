//! Curve points that no valid proof contains, for negative tests.

use ark_bls12_381::{Fq, Fq2, G1Affine, G2Affine};
use ark_ff::{BigInteger, Field, PrimeField, UniformRand};
use ark_serialize::CanonicalSerialize;
use rand::RngCore;

/// The compressed encoding of a point.
pub fn compressed<P: CanonicalSerialize>(p: &P) -> Vec<u8> {
    let mut out = Vec::new();
    p.serialize_compressed(&mut out).unwrap();
    out
}

/// An x in Fq with no point on y² = x³ + 4, compressed with the flag bit.
pub fn off_curve_x() -> Vec<u8> {
    let mut x = Fq::from(1u64);
    while (x * x * x + Fq::from(4u64)).sqrt().is_some() {
        x += Fq::from(1u64);
    }
    let mut bytes = x.into_bigint().to_bytes_be();
    bytes[0] |= 0x80;
    bytes
}

/// A G1 point on the curve but outside the prime-order subgroup.
pub fn off_subgroup_g1(rng: &mut impl RngCore) -> G1Affine {
    loop {
        if let Some(p) = G1Affine::get_point_from_x_unchecked(Fq::rand(rng), false) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                return p;
            }
        }
    }
}

/// A G2 point on the curve but outside the prime-order subgroup.
pub fn off_subgroup_g2(rng: &mut impl RngCore) -> G2Affine {
    loop {
        if let Some(p) = G2Affine::get_point_from_x_unchecked(Fq2::rand(rng), false) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                return p;
            }
        }
    }
}
