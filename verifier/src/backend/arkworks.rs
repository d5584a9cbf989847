//! The reference backend: arkworks.

use ark_bls12_381::{Bls12_381, Fq12, G1Affine, G1Projective, G2Affine};
use ark_ec::{
    pairing::{MillerLoopOutput, Pairing, PairingOutput},
    AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM,
};
use ark_ff::One;
use ark_groth16::VerifyingKey;
use zktx_circuits::Fr;

use super::{BackendKeys, DecodedProof, Engine};
use crate::{decode, DecodeError};

type G2Prepared = <Bls12_381 as Pairing>::G2Prepared;

/// arkworks, the reference the other backends are checked against.
pub(crate) struct Arkworks;

/// A verifying key prepared for arkworks.
pub(crate) struct ArkworksKey {
    alpha: G1Affine,
    neg_beta: G2Prepared,
    neg_gamma: G2Prepared,
    neg_delta: G2Prepared,
    ic: Vec<G1Affine>,
    alpha_beta: PairingOutput<Bls12_381>,
}

/// `Σ scalarsᵢ·basesᵢ` where `scalars` starts with the coefficient of `bases[0]`.
///
/// Five points are too few for Pippenger: one GLV multiplication per point
/// measured faster than arkworks' MSM here.
fn input_combination(ic: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    ic.iter().zip(scalars).map(|(p, x)| *p * x).sum()
}

impl Engine for Arkworks {
    type G1 = G1Affine;
    type G2 = G2Affine;
    type G1Sum = G1Projective;
    type Ml = Fq12;
    type Key = ArkworksKey;

    fn prepare_key(vk: &VerifyingKey<Bls12_381>) -> Self::Key {
        ArkworksKey {
            alpha: vk.alpha_g1,
            neg_beta: (-vk.beta_g2).into(),
            neg_gamma: (-vk.gamma_g2).into(),
            neg_delta: (-vk.delta_g2).into(),
            ic: vk.gamma_abc_g1.clone(),
            alpha_beta: Bls12_381::pairing(vk.alpha_g1, vk.beta_g2),
        }
    }

    fn key_of(keys: &BackendKeys) -> &Self::Key {
        &keys.arkworks
    }

    fn decode(bytes: &[u8]) -> Result<DecodedProof<Self>, DecodeError> {
        let proof = decode::decode_proof(bytes)?;
        Ok(DecodedProof {
            a: proof.a,
            b: proof.b,
            c: proof.c,
        })
    }

    fn scale(points: &[G1Affine], scalars: &[u128]) -> Vec<G1Affine> {
        let scaled: Vec<G1Projective> = points
            .iter()
            .zip(scalars)
            .map(|(p, r)| p.mul_bigint([*r as u64, (*r >> 64) as u64]))
            .collect();
        G1Projective::normalize_batch(&scaled)
    }

    fn sum_scaled(points: &[G1Affine], scalars: &[u128]) -> G1Projective {
        // arkworks' MSM walks all 255 bits of a field scalar; two 64-bit MSMs
        // walk only the 128 bits a batch scalar has.
        let low: Vec<u64> = scalars.iter().map(|r| *r as u64).collect();
        let high: Vec<u64> = scalars.iter().map(|r| (*r >> 64) as u64).collect();
        let low = G1Projective::msm_u64(points, &low);
        let high = G1Projective::msm_u64(points, &high);
        low + high.mul_bigint([0, 1])
    }

    fn sum(points: &[G1Projective]) -> G1Projective {
        points.iter().sum()
    }

    fn miller(a: &[G1Affine], b: &[G2Affine]) -> Fq12 {
        Bls12_381::multi_miller_loop(a.iter().copied(), b.iter().copied()).0
    }

    fn input_terms(key: &ArkworksKey, sum_r: Fr, input_sums: &[Fr]) -> Fq12 {
        let scalars: Vec<Fr> = std::iter::once(sum_r)
            .chain(input_sums.iter().copied())
            .collect();
        let g1 = G1Projective::normalize_batch(&[
            key.alpha * sum_r,
            input_combination(&key.ic, &scalars),
        ]);
        Bls12_381::multi_miller_loop(g1, [key.neg_beta.clone(), key.neg_gamma.clone()]).0
    }

    fn c_term(key: &ArkworksKey, sum_rc: G1Projective) -> Fq12 {
        Bls12_381::multi_miller_loop([sum_rc.into_affine()], [key.neg_delta.clone()]).0
    }

    fn mul(a: Fq12, b: Fq12) -> Fq12 {
        a * b
    }

    fn one() -> Fq12 {
        Fq12::one()
    }

    fn holds(f: Fq12) -> bool {
        Bls12_381::final_exponentiation(MillerLoopOutput(f)).is_some_and(|p| p.0.is_one())
    }

    fn verify_single(key: &ArkworksKey, proof: &DecodedProof<Self>, inputs: &[Fr]) -> bool {
        if inputs.len() + 1 != key.ic.len() {
            return false;
        }
        let scalars: Vec<Fr> = std::iter::once(Fr::one())
            .chain(inputs.iter().copied())
            .collect();
        let inputs_point = input_combination(&key.ic, &scalars).into_affine();
        let f = Bls12_381::multi_miller_loop(
            [proof.a, inputs_point, proof.c],
            [
                G2Prepared::from(proof.b),
                key.neg_gamma.clone(),
                key.neg_delta.clone(),
            ],
        );
        Bls12_381::final_exponentiation(f).is_some_and(|p| p == key.alpha_beta)
    }
}
