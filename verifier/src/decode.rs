//! Validated decoding of proofs and public inputs.
//!
//! Only the compressed canonical (zcash-format) encoding is accepted. Each
//! point is checked for: compressed flags, canonical coordinates (below p), a
//! point on the curve with that x, membership in the prime-order subgroup, and
//! not being the point at infinity. Public inputs must be canonical scalars:
//! submitted bytes are never reduced modulo r.

use ark_bls12_381::{Bls12_381, Fq};
use ark_ec::{
    short_weierstrass::{Affine, SWCurveConfig},
    AffineRepr,
};
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::Proof;
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};
use base64::Engine;
use zktx_circuits::{encoding, Fr, PublicInputs};
use zktx_formats::EnvelopeInputs;

use crate::{DecodeError, PointError, ProofPoint};

/// Bytes of a compressed G1 point.
pub const G1_COMPRESSED: usize = 48;
/// Bytes of a compressed G2 point.
pub const G2_COMPRESSED: usize = 96;
/// Bytes of a compressed proof: A ‖ B ‖ C.
pub const PROOF_COMPRESSED: usize = 2 * G1_COMPRESSED + G2_COMPRESSED;

const COMPRESSED_FLAG: u8 = 0x80;
const INFINITY_FLAG: u8 = 0x40;
const FLAG_MASK: u8 = 0xe0;

/// Whether each 48-byte big-endian coordinate (flags cleared) is below p.
fn coordinates_canonical(bytes: &[u8]) -> bool {
    let modulus = Fq::MODULUS.to_bytes_be();
    bytes.chunks(G1_COMPRESSED).enumerate().all(|(i, chunk)| {
        let mut coordinate = chunk.to_vec();
        if i == 0 {
            coordinate[0] &= !FLAG_MASK;
        }
        coordinate.as_slice() < modulus.as_slice()
    })
}

/// The checks every backend makes on a compressed point's bytes before it
/// decompresses them: compressed flag, not the point at infinity, canonical
/// coordinates. What is left for the backend is on-curve and subgroup membership.
pub(crate) fn check_point_bytes(bytes: &[u8], point: ProofPoint) -> Result<(), DecodeError> {
    let fail = |error| Err(DecodeError::Point { point, error });
    let flags = bytes[0];
    if flags & COMPRESSED_FLAG == 0 {
        return fail(PointError::BadFlags);
    }
    if flags & INFINITY_FLAG != 0 {
        return fail(PointError::Identity);
    }
    if !coordinates_canonical(bytes) {
        return fail(PointError::NonCanonical);
    }
    Ok(())
}

/// The bytes of a proof's A, B and C.
pub(crate) type ProofParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Splits a compressed proof into the bytes of A, B and C, checking its length.
pub(crate) fn split_proof(bytes: &[u8]) -> Result<ProofParts<'_>, DecodeError> {
    if bytes.len() != PROOF_COMPRESSED {
        return Err(DecodeError::ProofLength {
            expected: PROOF_COMPRESSED,
            got: bytes.len(),
        });
    }
    let (a, rest) = bytes.split_at(G1_COMPRESSED);
    let (b, c) = rest.split_at(G2_COMPRESSED);
    Ok((a, b, c))
}

/// Decodes one compressed point of a proof, with every check.
fn decode_point<C: SWCurveConfig>(
    bytes: &[u8],
    point: ProofPoint,
) -> Result<Affine<C>, DecodeError> {
    let fail = |error| DecodeError::Point { point, error };
    check_point_bytes(bytes, point)?;
    let decoded =
        Affine::<C>::deserialize_with_mode(bytes, Compress::Yes, Validate::No).map_err(|e| {
            fail(match e {
                SerializationError::UnexpectedFlags => PointError::BadFlags,
                // A canonical x with no matching y: x³ + b is not a square.
                _ => PointError::NotOnCurve,
            })
        })?;
    if decoded.is_zero() {
        return Err(fail(PointError::Identity));
    }
    if !decoded.is_in_correct_subgroup_assuming_on_curve() {
        return Err(fail(PointError::NotInSubgroup));
    }
    // The encoding must be the one this point encodes to (no alternative forms).
    let mut again = Vec::with_capacity(bytes.len());
    decoded
        .serialize_compressed(&mut again)
        .expect("serialising into a Vec cannot fail");
    if again != bytes {
        return Err(fail(PointError::NonCanonical));
    }
    Ok(decoded)
}

/// Decodes a 192-byte compressed proof with full validation of A, B and C.
pub fn decode_proof(bytes: &[u8]) -> Result<Proof<Bls12_381>, DecodeError> {
    let (a, b, c) = split_proof(bytes)?;
    Ok(Proof {
        a: decode_point::<ark_bls12_381::g1::Config>(a, ProofPoint::A)?,
        b: decode_point::<ark_bls12_381::g2::Config>(b, ProofPoint::B)?,
        c: decode_point::<ark_bls12_381::g1::Config>(c, ProofPoint::C)?,
    })
}

/// Decodes the base64 proof of an envelope.
pub fn decode_proof_base64(text: &str) -> Result<Proof<Bls12_381>, DecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| DecodeError::Base64)?;
    decode_proof(&bytes)
}

/// Decodes an envelope's public inputs, refusing non-canonical field elements.
pub fn decode_public_inputs(inputs: &EnvelopeInputs) -> Result<PublicInputs, DecodeError> {
    let field = |name: &'static str, text: &str| -> Result<Fr, DecodeError> {
        encoding::fr_from_hex(text).map_err(|e| DecodeError::PublicInput {
            name,
            reason: e.to_string(),
        })
    };
    Ok(PublicInputs {
        commit_a: field("commit_a", &inputs.commit_a)?,
        commit_b: field("commit_b", &inputs.commit_b)?,
        k: Fr::from(inputs.k),
        context: field("context", &inputs.context)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bls12_381::{G1Affine, G2Affine};

    fn g1_bytes(p: &G1Affine) -> Vec<u8> {
        let mut out = Vec::new();
        p.serialize_compressed(&mut out).unwrap();
        out
    }

    #[test]
    fn valid_point_round_trips() {
        let g = G1Affine::generator();
        assert_eq!(
            decode_point::<ark_bls12_381::g1::Config>(&g1_bytes(&g), ProofPoint::A).unwrap(),
            g
        );
        let h = G2Affine::generator();
        let mut bytes = Vec::new();
        h.serialize_compressed(&mut bytes).unwrap();
        assert_eq!(
            decode_point::<ark_bls12_381::g2::Config>(&bytes, ProofPoint::B).unwrap(),
            h
        );
    }

    fn point_error(bytes: &[u8]) -> PointError {
        match decode_point::<ark_bls12_381::g1::Config>(bytes, ProofPoint::A) {
            Err(DecodeError::Point { error, .. }) => error,
            other => panic!("expected a point error, got {other:?}"),
        }
    }

    #[test]
    fn each_bad_encoding_has_its_own_error() {
        let good = g1_bytes(&G1Affine::generator());
        let mut uncompressed = good.clone();
        uncompressed[0] &= !COMPRESSED_FLAG;
        assert_eq!(point_error(&uncompressed), PointError::BadFlags);

        let mut infinity = vec![0u8; 48];
        infinity[0] = COMPRESSED_FLAG | INFINITY_FLAG;
        assert_eq!(point_error(&infinity), PointError::Identity);

        let mut too_big = Fq::MODULUS.to_bytes_be();
        too_big[0] |= COMPRESSED_FLAG;
        assert_eq!(point_error(&too_big), PointError::NonCanonical);
    }

    #[test]
    fn proof_length_and_base64() {
        assert_eq!(
            decode_proof(&[0u8; 10]).unwrap_err(),
            DecodeError::ProofLength {
                expected: 192,
                got: 10
            }
        );
        assert_eq!(decode_proof_base64("***").unwrap_err(), DecodeError::Base64);
    }
}
