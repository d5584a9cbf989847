//! Verifier integration: every kind of bad proof file is refused with its own error.

mod batch;
mod fuzz;
mod points;

use points::{compressed, off_curve_x};

use ark_bls12_381::{Fq, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField};
use base64::Engine;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{encoding, Fr, SetOpening, Tier};
use zktx_formats::{KeyDir, ProofEnvelope};
use zktx_prover::{generate_keys, prove_envelope, KeySource};
use zktx_verifier::{verify_file_bytes, DecodeError, PointError, ProofPoint, VerifyError};

struct Fixture {
    _dir: tempfile::TempDir,
    keys: KeyDir,
    other_keys: KeyDir,
    envelope: ProofEnvelope,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let tier = Tier::new(4).unwrap();
    let keys = KeyDir::new(dir.path().join("keys"));
    keys.write(&generate_keys(tier, &KeySource::DevSeed("verifier-it".into())).unwrap())
        .unwrap();
    let other_keys = KeyDir::new(dir.path().join("other"));
    other_keys
        .write(&generate_keys(tier, &KeySource::DevSeed("someone-else".into())).unwrap())
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let a = SetOpening::with_random_salt(tier, [10, 20, 30], &mut rng).unwrap();
    let b = SetOpening::with_random_salt(tier, [30, 40], &mut rng).unwrap();
    let envelope = prove_envelope(&keys, &a, &b, 1, Fr::from(0xc0ffeeu64), &mut rng).unwrap();
    Fixture {
        _dir: dir,
        keys,
        other_keys,
        envelope,
    }
}

fn verify(keys: &KeyDir, envelope: &ProofEnvelope) -> Result<zktx_verifier::Verified, VerifyError> {
    verify_file_bytes(keys, envelope.to_json().as_bytes())
}

fn proof_bytes(envelope: &ProofEnvelope) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(&envelope.proof)
        .unwrap()
}

fn with_proof_bytes(envelope: &ProofEnvelope, bytes: &[u8]) -> ProofEnvelope {
    ProofEnvelope {
        proof: base64::engine::general_purpose::STANDARD.encode(bytes),
        ..envelope.clone()
    }
}

fn point_error(result: Result<zktx_verifier::Verified, VerifyError>) -> (ProofPoint, PointError) {
    match result {
        Err(VerifyError::Decode(DecodeError::Point { point, error })) => (point, error),
        other => panic!("expected a point error, got {other:?}"),
    }
}

#[test]
fn a_good_proof_verifies() {
    let f = fixture();
    let verified = verify(&f.keys, &f.envelope).unwrap();
    assert_eq!((verified.tier.capacity(), verified.k), (4, 1));
    assert!(verified.dev_keys);
}

#[test]
fn wrong_key_is_refused() {
    let f = fixture();
    assert!(matches!(
        verify(&f.other_keys, &f.envelope),
        Err(VerifyError::WrongKey { .. })
    ));
    // Even if the proof claims the other key's fingerprint, the pairing check fails.
    let other_fp = f
        .other_keys
        .manifest(Tier::new(4).unwrap())
        .unwrap()
        .vk_fingerprint;
    let relabelled = ProofEnvelope {
        vk_fingerprint: other_fp,
        ..f.envelope.clone()
    };
    assert!(matches!(
        verify(&f.other_keys, &relabelled),
        Err(VerifyError::Rejected)
    ));
    // A key directory without the proof's tier.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        verify(&KeyDir::new(empty.path()), &f.envelope),
        Err(VerifyError::Keys(_))
    ));
}

#[test]
fn tampered_proof_bytes_are_refused() {
    let f = fixture();
    let bytes = proof_bytes(&f.envelope);
    // Any single-bit flip in any byte of the proof: decoding or the pairing check refuses it.
    for i in (0..bytes.len()).step_by(7) {
        let mut tampered = bytes.clone();
        tampered[i] ^= 1 << (i % 8);
        let result = verify(&f.keys, &with_proof_bytes(&f.envelope, &tampered));
        assert!(
            matches!(
                result,
                Err(VerifyError::Decode(_)) | Err(VerifyError::Rejected)
            ),
            "byte {i}: {result:?}"
        );
    }
    // A valid point in place of A: decodes, fails the pairing check.
    let a = zktx_verifier::decode::decode_proof(&bytes).unwrap().a;
    let mut doubled = bytes.clone();
    doubled[..48].copy_from_slice(&compressed(&(a + a).into_affine()));
    assert!(matches!(
        verify(&f.keys, &with_proof_bytes(&f.envelope, &doubled)),
        Err(VerifyError::Rejected)
    ));
    // Wrong length and bad base64.
    let short = with_proof_bytes(&f.envelope, &bytes[..191]);
    assert!(matches!(
        verify(&f.keys, &short),
        Err(VerifyError::Decode(DecodeError::ProofLength {
            got: 191,
            ..
        }))
    ));
    let garbage = ProofEnvelope {
        proof: "not base64!".into(),
        ..f.envelope.clone()
    };
    assert!(matches!(
        verify(&f.keys, &garbage),
        Err(VerifyError::Decode(DecodeError::Base64))
    ));
}

#[test]
fn altered_public_inputs_are_rejected() {
    let f = fixture();
    let one = Fr::from(1u64);
    let bump = |hex: &str| encoding::fr_to_hex(&(encoding::fr_from_hex(hex).unwrap() + one));
    let mut cases = Vec::new();
    let mut e = f.envelope.clone();
    e.public_inputs.k = 2;
    cases.push(("k", e));
    let mut e = f.envelope.clone();
    e.public_inputs.context = bump(&e.public_inputs.context);
    cases.push(("context", e));
    let mut e = f.envelope.clone();
    e.public_inputs.commit_a = bump(&e.public_inputs.commit_a);
    cases.push(("commit_a", e));
    let mut e = f.envelope.clone();
    std::mem::swap(&mut e.public_inputs.commit_a, &mut e.public_inputs.commit_b);
    cases.push(("swapped commitments", e));
    for (what, envelope) in cases {
        assert!(
            matches!(verify(&f.keys, &envelope), Err(VerifyError::Rejected)),
            "{what}"
        );
    }
}

#[test]
fn malformed_files_are_refused() {
    let f = fixture();
    let json = f.envelope.to_json();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut variants: Vec<String> = vec![
        "".into(),
        "{".into(),
        "[]".into(),
        json.replace("\"k\": 1", "\"k\": -1"),
    ];
    value.as_object_mut().unwrap().remove("proof");
    variants.push(value.to_string());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["extra"] = serde_json::json!(1);
    variants.push(value.to_string());
    for text in variants {
        let result = verify_file_bytes(&f.keys, text.as_bytes());
        assert!(
            matches!(result, Err(VerifyError::Malformed(_))),
            "{text:?}: {result:?}"
        );
    }
    let future = ProofEnvelope {
        version: 2,
        ..f.envelope.clone()
    };
    assert!(matches!(
        verify(&f.keys, &future),
        Err(VerifyError::UnsupportedFormat { .. })
    ));
    let renamed = ProofEnvelope {
        circuit: "zktx/overlap/v1/capacity-8".into(),
        ..f.envelope.clone()
    };
    assert!(matches!(
        verify(&f.keys, &renamed),
        Err(VerifyError::CircuitMismatch { .. })
    ));
}

#[test]
fn points_off_the_curve_outside_the_subgroup_or_at_infinity_are_refused() {
    let f = fixture();
    let bytes = proof_bytes(&f.envelope);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let splice = |range: std::ops::Range<usize>, with: &[u8]| {
        let mut out = bytes.clone();
        out[range].copy_from_slice(with);
        verify(&f.keys, &with_proof_bytes(&f.envelope, &out))
    };
    assert_eq!(
        point_error(splice(0..48, &off_curve_x())),
        (ProofPoint::A, PointError::NotOnCurve)
    );
    assert_eq!(
        point_error(splice(144..192, &off_curve_x())),
        (ProofPoint::C, PointError::NotOnCurve)
    );

    let off_g1 = points::off_subgroup_g1(&mut rng);
    assert_eq!(
        point_error(splice(0..48, &compressed(&off_g1))),
        (ProofPoint::A, PointError::NotInSubgroup)
    );
    let off_g2 = points::off_subgroup_g2(&mut rng);
    assert_eq!(
        point_error(splice(48..144, &compressed(&off_g2))),
        (ProofPoint::B, PointError::NotInSubgroup)
    );

    assert_eq!(
        point_error(splice(144..192, &compressed(&G1Affine::zero()))),
        (ProofPoint::C, PointError::Identity)
    );
    assert_eq!(
        point_error(splice(48..144, &compressed(&G2Affine::zero()))),
        (ProofPoint::B, PointError::Identity)
    );

    let mut non_canonical = Fq::MODULUS.to_bytes_be();
    non_canonical[0] |= 0x80;
    assert_eq!(
        point_error(splice(0..48, &non_canonical)),
        (ProofPoint::A, PointError::NonCanonical)
    );
}

#[test]
fn non_canonical_field_elements_are_refused() {
    let f = fixture();
    let modulus = hex::encode(Fr::MODULUS.to_bytes_be());
    let mut e = f.envelope.clone();
    e.public_inputs.commit_a = modulus.clone();
    assert!(matches!(
        verify(&f.keys, &e),
        Err(VerifyError::Decode(DecodeError::PublicInput {
            name: "commit_a",
            ..
        }))
    ));
    // r + context would reduce to the same scalar if the verifier reduced mod r.
    let mut e = f.envelope.clone();
    let context = encoding::fr_from_hex(&e.public_inputs.context).unwrap();
    let mut wrapped = Fr::MODULUS;
    wrapped.add_with_carry(&context.into_bigint());
    e.public_inputs.context = hex::encode(wrapped.to_bytes_be());
    assert!(matches!(
        verify(&f.keys, &e),
        Err(VerifyError::Decode(DecodeError::PublicInput {
            name: "context",
            ..
        }))
    ));
    let mut e = f.envelope.clone();
    e.public_inputs.commit_b = "zz".into();
    assert!(matches!(
        verify(&f.keys, &e),
        Err(VerifyError::Decode(DecodeError::PublicInput {
            name: "commit_b",
            ..
        }))
    ));
}
