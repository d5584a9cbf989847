//! The fast backend: blst, the assembly BLS12-381 library.
//!
//! Only blst's safe API is used. Its compressed encoding is the zcash format,
//! the same bytes arkworks writes, so proofs and keys convert byte for byte.

use ark_bls12_381::{Bls12_381, G1Affine, G2Affine};
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::VerifyingKey;
use ark_serialize::CanonicalSerialize;
use blst::{
    blst_fp12, blst_p1, blst_p1_affine, blst_p2_affine,
    min_pk::{PublicKey, Signature},
    p1_affines, MultiPoint, BLST_ERROR,
};
use zktx_circuits::Fr;

use super::{BackendKeys, DecodedProof, Engine};
use crate::{
    decode::{check_point_bytes, split_proof},
    DecodeError, PointError, ProofPoint,
};

/// Bits of a scalar-field element.
const FR_BITS: usize = 255;

/// blst, measured faster than arkworks for every step of the batch equation.
pub(crate) struct Blst;

/// A verifying key prepared for blst.
pub(crate) struct BlstKey {
    alpha: blst_p1_affine,
    neg_beta: blst_p2_affine,
    neg_gamma: blst_p2_affine,
    neg_delta: blst_p2_affine,
    ic: Vec<blst_p1_affine>,
    alpha_beta: blst_fp12,
}

fn point_error(point: ProofPoint, error: BLST_ERROR) -> DecodeError {
    let error = match error {
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => PointError::NotInSubgroup,
        BLST_ERROR::BLST_PK_IS_INFINITY => PointError::Identity,
        BLST_ERROR::BLST_BAD_ENCODING => PointError::NonCanonical,
        _ => PointError::NotOnCurve,
    };
    DecodeError::Point { point, error }
}

fn decode_g1(bytes: &[u8], point: ProofPoint) -> Result<blst_p1_affine, DecodeError> {
    check_point_bytes(bytes, point)?;
    let decoded = PublicKey::uncompress(bytes).map_err(|e| point_error(point, e))?;
    decoded.validate().map_err(|e| point_error(point, e))?;
    Ok(decoded.into())
}

fn decode_g2(bytes: &[u8], point: ProofPoint) -> Result<blst_p2_affine, DecodeError> {
    check_point_bytes(bytes, point)?;
    let decoded = Signature::uncompress(bytes).map_err(|e| point_error(point, e))?;
    decoded.validate(true).map_err(|e| point_error(point, e))?;
    Ok(decoded.into())
}

/// Converts a point of a validated arkworks key (the encodings are the same).
fn g1_from_arkworks(p: &G1Affine) -> blst_p1_affine {
    let mut bytes = Vec::with_capacity(48);
    p.serialize_compressed(&mut bytes)
        .expect("serialising into a Vec cannot fail");
    PublicKey::uncompress(&bytes)
        .expect("blst decodes every point arkworks encodes")
        .into()
}

/// Converts a point of a validated arkworks key (the encodings are the same).
fn g2_from_arkworks(p: &G2Affine) -> blst_p2_affine {
    let mut bytes = Vec::with_capacity(96);
    p.serialize_compressed(&mut bytes)
        .expect("serialising into a Vec cannot fail");
    Signature::uncompress(&bytes)
        .expect("blst decodes every point arkworks encodes")
        .into()
}

/// Little-endian scalar bytes, as blst's multiplications take them.
fn scalar_bytes(scalars: impl IntoIterator<Item = Fr>) -> Vec<u8> {
    scalars
        .into_iter()
        .flat_map(|s| s.into_bigint().to_bytes_le())
        .collect()
}

fn to_affine(points: &[blst_p1]) -> Vec<blst_p1_affine> {
    if points.is_empty() {
        return Vec::new();
    }
    p1_affines::from(points).as_slice().to_vec()
}

/// `e(a, b)` multiplied over the pairs, leaving out pairs with the point at
/// infinity (whose pairing is one).
fn miller_skipping_identity(a: &[blst_p1_affine], b: &[blst_p2_affine]) -> blst_fp12 {
    let identity = blst_p1_affine::default();
    let (a, b): (Vec<_>, Vec<_>) = a
        .iter()
        .zip(b)
        .filter(|(p, _)| **p != identity)
        .map(|(p, q)| (*p, *q))
        .unzip();
    Blst::miller(&a, &b)
}

impl Engine for Blst {
    type G1 = blst_p1_affine;
    type G2 = blst_p2_affine;
    type G1Sum = blst_p1;
    type Ml = blst_fp12;
    type Key = BlstKey;

    fn prepare_key(vk: &VerifyingKey<Bls12_381>) -> Self::Key {
        let alpha = g1_from_arkworks(&vk.alpha_g1);
        let beta = g2_from_arkworks(&vk.beta_g2);
        BlstKey {
            alpha,
            neg_beta: g2_from_arkworks(&-vk.beta_g2),
            neg_gamma: g2_from_arkworks(&-vk.gamma_g2),
            neg_delta: g2_from_arkworks(&-vk.delta_g2),
            ic: vk.gamma_abc_g1.iter().map(g1_from_arkworks).collect(),
            alpha_beta: blst_fp12::miller_loop(&beta, &alpha).final_exp(),
        }
    }

    fn key_of(keys: &BackendKeys) -> &Self::Key {
        &keys.blst
    }

    fn decode(bytes: &[u8]) -> Result<DecodedProof<Self>, DecodeError> {
        let (a, b, c) = split_proof(bytes)?;
        Ok(DecodedProof {
            a: decode_g1(a, ProofPoint::A)?,
            b: decode_g2(b, ProofPoint::B)?,
            c: decode_g1(c, ProofPoint::C)?,
        })
    }

    fn scale(points: &[blst_p1_affine], scalars: &[u128]) -> Vec<blst_p1_affine> {
        let scaled: Vec<blst_p1> = points
            .iter()
            .zip(scalars)
            .map(|(p, r)| std::slice::from_ref(p).mult(&r.to_le_bytes(), 128))
            .collect();
        to_affine(&scaled)
    }

    fn sum_scaled(points: &[blst_p1_affine], scalars: &[u128]) -> blst_p1 {
        if points.is_empty() {
            return blst_p1::default();
        }
        let bytes: Vec<u8> = scalars.iter().flat_map(|r| r.to_le_bytes()).collect();
        points.mult(&bytes, 128)
    }

    fn sum(points: &[blst_p1]) -> blst_p1 {
        if points.is_empty() {
            return blst_p1::default();
        }
        p1_affines::from(points).add()
    }

    fn miller(a: &[blst_p1_affine], b: &[blst_p2_affine]) -> blst_fp12 {
        if a.is_empty() {
            return blst_fp12::default();
        }
        blst_fp12::miller_loop_n(b, a)
    }

    fn input_terms(key: &BlstKey, sum_r: Fr, input_sums: &[Fr]) -> blst_fp12 {
        // Σr is a sum of 128-bit scalars: multiply by its own length, not 255 bits.
        let sum_r_bits = (sum_r.into_bigint().num_bits() as usize).max(1);
        let alpha = std::slice::from_ref(&key.alpha).mult(&scalar_bytes([sum_r]), sum_r_bits);
        let scalars = scalar_bytes(std::iter::once(sum_r).chain(input_sums.iter().copied()));
        let inputs = key.ic.as_slice().mult(&scalars, FR_BITS);
        let g1 = to_affine(&[alpha, inputs]);
        miller_skipping_identity(&g1, &[key.neg_beta, key.neg_gamma])
    }

    fn c_term(key: &BlstKey, sum_rc: blst_p1) -> blst_fp12 {
        miller_skipping_identity(&to_affine(&[sum_rc]), &[key.neg_delta])
    }

    fn mul(a: blst_fp12, b: blst_fp12) -> blst_fp12 {
        a * b
    }

    fn one() -> blst_fp12 {
        blst_fp12::default()
    }

    fn holds(f: blst_fp12) -> bool {
        blst_fp12::finalverify(&f, &blst_fp12::default())
    }

    fn verify_single(key: &BlstKey, proof: &DecodedProof<Self>, inputs: &[Fr]) -> bool {
        if inputs.len() + 1 != key.ic.len() {
            return false;
        }
        let scalars = scalar_bytes(std::iter::once(Fr::from(1u64)).chain(inputs.iter().copied()));
        let inputs_point = to_affine(&[key.ic.as_slice().mult(&scalars, FR_BITS)]);
        let f = miller_skipping_identity(
            &[proof.a, inputs_point[0], proof.c],
            &[proof.b, key.neg_gamma, key.neg_delta],
        );
        f.final_exp() == key.alpha_beta
    }
}
