//! A proof, its public inputs and its verifying key in snarkjs's Groth16 JSON
//! layout for curve `bls12381`, so that `snarkjs groth16 verify` can give a
//! second, independent opinion on a zktx proof.
//!
//! The layout: field elements are decimal strings of their canonical value;
//! G1 points are `[x, y, "1"]` (affine with a third, projective coordinate;
//! the identity is `["0", "1", "0"]`); G2 points are `[[x.c0, x.c1], [y.c0,
//! y.c1], ["1", "0"]]` — Fp2 written `[c0, c1]`, the reverse of the compressed
//! byte order, which puts `c1` first. Public signals are decimal strings in
//! the circuit's order: `commit_a`, `commit_b`, `k`, `context`.
//!
//! snarkjs (0.7.6) checks less than zktx's verifier: not the number of public
//! signals against the key (missing ones count as zero), not the subgroup
//! membership of the proof's points (only that they are on the curve), not
//! that coordinates are canonical. zktx's verifier stays the authority.

use ark_bls12_381::{Bls12_381, Fq2, G1Affine, G2Affine};
use ark_groth16::{Proof, VerifyingKey};
use serde_json::{json, Value};
use zktx_circuits::PublicInputs;

/// The curve name snarkjs knows BLS12-381 by.
pub const CURVE: &str = "bls12381";

/// The file names `snarkjs groth16 verify` is usually given, in its argument order.
pub const FILES: [&str; 3] = ["verification_key.json", "public.json", "proof.json"];

fn g1(p: &G1Affine) -> Value {
    if *p == G1Affine::identity() {
        return json!(["0", "1", "0"]);
    }
    json!([p.x.to_string(), p.y.to_string(), "1"])
}

fn fq2(x: &Fq2) -> Value {
    json!([x.c0.to_string(), x.c1.to_string()])
}

fn g2(p: &G2Affine) -> Value {
    if *p == G2Affine::identity() {
        return json!([["0", "0"], ["1", "0"], ["0", "0"]]);
    }
    json!([fq2(&p.x), fq2(&p.y), ["1", "0"]])
}

/// `verification_key.json`: the key with `nPublic` and one `IC` point per
/// public input plus the constant term.
pub fn verification_key(vk: &VerifyingKey<Bls12_381>) -> Value {
    json!({
        "protocol": "groth16",
        "curve": CURVE,
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1(&vk.alpha_g1),
        "vk_beta_2": g2(&vk.beta_g2),
        "vk_gamma_2": g2(&vk.gamma_g2),
        "vk_delta_2": g2(&vk.delta_g2),
        "IC": vk.gamma_abc_g1.iter().map(g1).collect::<Vec<_>>(),
    })
}

/// `proof.json`: `pi_a`, `pi_b`, `pi_c`.
pub fn proof(proof: &Proof<Bls12_381>) -> Value {
    json!({
        "pi_a": g1(&proof.a),
        "pi_b": g2(&proof.b),
        "pi_c": g1(&proof.c),
        "protocol": "groth16",
        "curve": CURVE,
    })
}

/// `public.json`: the public signals, decimal, in the circuit's order.
pub fn public_signals(public: &PublicInputs) -> Value {
    Value::Array(
        public
            .to_vec()
            .iter()
            .map(|x| Value::String(x.to_string()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bls12_381::{Fq, Fr, G1Projective, G2Projective};
    use ark_ec::{CurveGroup, PrimeGroup};

    #[test]
    fn points_are_decimal_affine_with_fp2_as_c0_c1() {
        let p = (G1Projective::generator() * Fr::from(5u64)).into_affine();
        let value = g1(&p);
        assert_eq!(value[2], "1");
        assert_eq!(value[0].as_str().unwrap().parse::<Fq>().unwrap(), p.x);
        let q = (G2Projective::generator() * Fr::from(7u64)).into_affine();
        let value = g2(&q);
        assert_eq!(value[2], json!(["1", "0"]));
        assert_eq!(value[0][0].as_str().unwrap().parse::<Fq>().unwrap(), q.x.c0);
        assert_eq!(value[0][1].as_str().unwrap().parse::<Fq>().unwrap(), q.x.c1);
        assert_eq!(value[1][1].as_str().unwrap().parse::<Fq>().unwrap(), q.y.c1);
        assert_eq!(g1(&G1Affine::identity()), json!(["0", "1", "0"]));
    }

    #[test]
    fn public_signals_are_decimal_in_the_circuit_order() {
        let public = PublicInputs {
            commit_a: Fr::from(11u64),
            commit_b: Fr::from(22u64),
            k: Fr::from(3u64),
            context: -Fr::from(1u64),
        };
        let signals = public_signals(&public);
        assert_eq!(signals[0], "11");
        assert_eq!(signals[1], "22");
        assert_eq!(signals[2], "3");
        // r − 1: the canonical value, never a negative number.
        assert_eq!(
            signals[3],
            "52435875175126190479447740508185965837690552500527637822603658699938581184512"
        );
    }
}
