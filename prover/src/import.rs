//! Importing keys from a multi-party setup ceremony.
//!
//! zktx checks what it can check locally: every point of both keys decodes,
//! lies in its prime-order subgroup and (for the key's fixed elements and
//! every public input's term) is not the identity; the keys have this tier's shape; the proving key embeds this
//! verifying key; and a trial proof made with the proving key verifies under
//! the verifying key. That the ceremony kept no toxic waste is established by
//! verifying its transcript, outside zktx.

use ark_bls12_381::Bls12_381;
use ark_ec::AffineRepr;
use ark_ff::UniformRand;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, Compress, Validate};
use rand::{rngs::OsRng, Rng};
use zktx_circuits::{CircuitInfo, Fr, SetOpening, Tier, NUM_PUBLIC_INPUTS};

use zktx_formats::{KeyOrigin, TierKeys};

use crate::{prove, setup::package_keys, ProverError};

fn reject(reason: impl Into<String>) -> ProverError {
    ProverError::ImportRejected {
        reason: reason.into(),
    }
}

/// Validates a ceremony's compressed key pair for `tier` and packages it for a key directory.
pub fn import_keys(
    tier: Tier,
    verifying_key: &[u8],
    proving_key: &[u8],
) -> Result<TierKeys, ProverError> {
    let vk = VerifyingKey::<Bls12_381>::deserialize_with_mode(
        verifying_key,
        Compress::Yes,
        Validate::Yes,
    )
    .map_err(|e| {
        reject(format!(
            "verifying key: not a valid compressed BLS12-381 Groth16 key ({e})"
        ))
    })?;
    if vk.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 {
        return Err(reject(format!(
            "verifying key has {} public inputs; the overlap circuit has {NUM_PUBLIC_INPUTS}",
            vk.gamma_abc_g1.len().saturating_sub(1)
        )));
    }
    // A public input whose term is the identity would not enter the
    // verification equation: any value of it would verify.
    const INPUTS: [&str; NUM_PUBLIC_INPUTS + 1] =
        ["the constant term", "commit_a", "commit_b", "k", "context"];
    if let Some(i) = vk.gamma_abc_g1.iter().position(|p| p.is_zero()) {
        return Err(reject(format!(
            "verifying key: the input term for {} is the identity, so that input would not be checked",
            INPUTS[i]
        )));
    }
    if vk.alpha_g1.is_zero()
        || vk.beta_g2.is_zero()
        || vk.gamma_g2.is_zero()
        || vk.delta_g2.is_zero()
    {
        return Err(reject(
            "verifying key has the identity as alpha, beta, gamma or delta",
        ));
    }
    // Full validation of every point: slow at large tiers, done once.
    let pk =
        ProvingKey::<Bls12_381>::deserialize_with_mode(proving_key, Compress::Yes, Validate::Yes)
            .map_err(|e| {
            reject(format!(
                "proving key: not a valid compressed BLS12-381 Groth16 key ({e})"
            ))
        })?;
    if pk.vk != vk {
        return Err(reject("the proving key embeds a different verifying key"));
    }
    if pk.delta_g1.is_zero() || pk.beta_g1.is_zero() {
        return Err(reject("proving key has the identity as beta or delta"));
    }
    let info = CircuitInfo::measure(tier);
    if pk.l_query.len() != info.witness_variables
        || pk.a_query.len() != 1 + info.public_inputs + info.witness_variables
    {
        return Err(reject(format!(
            "the keys do not have the shape of {}",
            info.circuit_id
        )));
    }
    // A trial proof of a true statement must verify (prove() checks it),
    // with a random non-zero k within the tier and a random context, so that
    // every public input's term takes part.
    let empty = SetOpening::new(tier, Fr::from(0u64), [])?;
    let k = OsRng.gen_range(1..=tier.capacity() as u64);
    let context = Fr::rand(&mut OsRng);
    prove(&pk, &empty, &empty, k, context, &mut OsRng).map_err(|e| match e {
        ProverError::SelfCheckFailed => reject(
            "a trial proof made with the proving key does not verify under the verifying key",
        ),
        other => other,
    })?;
    package_keys(&info, pk, vk, KeyOrigin::Ceremony, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{generate_keys, KeySource};
    use ark_serialize::CanonicalSerialize;

    fn compressed<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        value.serialize_compressed(&mut out).unwrap();
        out
    }

    #[test]
    fn a_consistent_pair_imports_as_ceremony_keys() {
        let tier = Tier::new(2).unwrap();
        let keys = generate_keys(tier, &KeySource::OsRandom).unwrap();
        let imported = import_keys(
            tier,
            &compressed(&keys.verifying_key),
            &keys.proving_key_bytes,
        )
        .unwrap();
        assert_eq!(imported.manifest.origin, KeyOrigin::Ceremony);
        assert!(!imported.manifest.dev_keys && imported.manifest.warning.is_none());
        assert_eq!(
            imported.manifest.vk_fingerprint,
            keys.manifest.vk_fingerprint
        );
    }

    #[test]
    fn mismatched_misshapen_or_garbled_keys_are_rejected() {
        let tier = Tier::new(2).unwrap();
        let one = generate_keys(tier, &KeySource::DevSeed("one".into())).unwrap();
        let two = generate_keys(tier, &KeySource::DevSeed("two".into())).unwrap();
        let vk_one = compressed(&one.verifying_key);
        // The proving key of another pair.
        assert!(matches!(
            import_keys(tier, &vk_one, &two.proving_key_bytes),
            Err(ProverError::ImportRejected { .. })
        ));
        // Keys of another tier.
        assert!(matches!(
            import_keys(Tier::new(3).unwrap(), &vk_one, &one.proving_key_bytes),
            Err(ProverError::ImportRejected { .. })
        ));
        // A proving key whose embedded verifying key matches but whose queries do not.
        let mut forged = one.proving_key.clone();
        forged.h_query = two.proving_key.h_query.clone();
        assert!(matches!(
            import_keys(tier, &vk_one, &compressed(&forged)),
            Err(ProverError::ImportRejected { .. })
        ));
        // Garbage.
        assert!(matches!(
            import_keys(tier, &[1, 2, 3], &one.proving_key_bytes),
            Err(ProverError::ImportRejected { .. })
        ));
    }

    #[test]
    fn a_verifying_key_with_an_identity_input_term_is_rejected_naming_the_input() {
        let tier = Tier::new(2).unwrap();
        let keys = generate_keys(tier, &KeySource::DevSeed("terms".into())).unwrap();
        for (i, name) in ["constant", "commit_a", "commit_b", "k", "context"]
            .iter()
            .enumerate()
        {
            let mut vk = keys.verifying_key.clone();
            vk.gamma_abc_g1[i] = ark_bls12_381::G1Affine::zero();
            match import_keys(tier, &compressed(&vk), &keys.proving_key_bytes) {
                Err(ProverError::ImportRejected { reason }) => {
                    assert!(reason.contains(name), "{name}: {reason}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
