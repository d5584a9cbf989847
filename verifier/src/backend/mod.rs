//! The pairing arithmetic of the batch verifier, behind one small interface.
//!
//! [`Engine`] is everything the batch equation needs: validated decoding, short
//! scalar multiplications, Miller loops and one final exponentiation. arkworks
//! is the reference; blst (assembly) is the fast one. Both decode exactly the
//! same set of byte strings and give the same verdicts, which a property test
//! checks on random mixes of good and bad proofs.

mod arkworks;
mod blst;

pub(crate) use self::arkworks::Arkworks;
pub(crate) use self::blst::Blst;

use ark_bls12_381::Bls12_381;
use ark_groth16::VerifyingKey;
use zktx_circuits::Fr;

use crate::DecodeError;

/// Which pairing library the batch verifier runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PairingBackend {
    /// arkworks: the reference implementation.
    Arkworks,
    /// blst: assembly, measured faster end to end (see `docs/perf.md`).
    #[default]
    Blst,
}

impl PairingBackend {
    /// Every backend, reference first.
    pub const ALL: [PairingBackend; 2] = [PairingBackend::Arkworks, PairingBackend::Blst];

    /// The backend's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            PairingBackend::Arkworks => "arkworks",
            PairingBackend::Blst => "blst",
        }
    }
}

impl std::fmt::Display for PairingBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PairingBackend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown pairing backend {s:?} (expected arkworks or blst)"))
    }
}

/// A proof decoded into a backend's own point types.
#[derive(Clone, Copy)]
pub(crate) struct DecodedProof<E: Engine> {
    pub a: E::G1,
    pub b: E::G2,
    pub c: E::G1,
}

/// A verifying key in a backend's own types, prepared for the batch equation
/// `∏ e(rᵢAᵢ, Bᵢ) · e(Σrᵢ·α, −β) · e(Σrᵢ·Lᵢ, −γ) · e(ΣrᵢCᵢ, −δ) = 1`.
pub(crate) trait Engine: Sized + 'static {
    /// An affine G1 point.
    type G1: Copy + Send + Sync;
    /// An affine G2 point.
    type G2: Copy + Send + Sync;
    /// A G1 point in the representation sums come out in.
    type G1Sum: Copy + Send + Sync;
    /// A Miller-loop value, before the final exponentiation.
    type Ml: Copy + Send + Sync;
    /// A verifying key prepared for this backend.
    type Key: Send + Sync;

    /// Prepares a (validated) verifying key.
    fn prepare_key(vk: &VerifyingKey<Bls12_381>) -> Self::Key;

    /// This backend's form of a key out of [`BackendKeys`].
    fn key_of(keys: &BackendKeys) -> &Self::Key;

    /// Decodes 192 compressed bytes with every check [`crate::decode::decode_proof`] makes,
    /// and the same error for each kind of bad input.
    fn decode(bytes: &[u8]) -> Result<DecodedProof<Self>, DecodeError>;

    /// `rᵢ·Pᵢ` for 128-bit `rᵢ`, in affine form.
    fn scale(points: &[Self::G1], scalars: &[u128]) -> Vec<Self::G1>;

    /// `Σ rᵢ·Pᵢ` for 128-bit `rᵢ`.
    fn sum_scaled(points: &[Self::G1], scalars: &[u128]) -> Self::G1Sum;

    /// `Σ Pᵢ`.
    fn sum(points: &[Self::G1Sum]) -> Self::G1Sum;

    /// The product of the Miller loops `e(aᵢ, bᵢ)`.
    fn miller(a: &[Self::G1], b: &[Self::G2]) -> Self::Ml;

    /// The Miller loop of the key's two terms that need no proof point, for a
    /// batch with these sums: `e(Σr·α, −β) · e(Σr·IC₀ + Σⱼ (Σᵢ rᵢxᵢⱼ)·ICⱼ, −γ)`.
    /// The batch verifier computes it while the proofs' Miller loops run.
    fn input_terms(key: &Self::Key, sum_r: Fr, input_sums: &[Fr]) -> Self::Ml;

    /// The Miller loop of the key's last term, `e(ΣrC, −δ)`.
    fn c_term(key: &Self::Key, sum_rc: Self::G1Sum) -> Self::Ml;

    /// The product of two Miller-loop values.
    fn mul(a: Self::Ml, b: Self::Ml) -> Self::Ml;

    /// The neutral Miller-loop value.
    fn one() -> Self::Ml;

    /// Whether the final exponentiation of `f` is one: the batch equation holds.
    fn holds(f: Self::Ml) -> bool;

    /// Plain Groth16 verification of one decoded proof, without randomisation.
    fn verify_single(key: &Self::Key, proof: &DecodedProof<Self>, inputs: &[Fr]) -> bool;
}

/// Both backends' forms of one verifying key.
pub(crate) struct BackendKeys {
    pub arkworks: <Arkworks as Engine>::Key,
    pub blst: <Blst as Engine>::Key,
}

impl BackendKeys {
    /// Prepares `vk` for every backend.
    pub fn new(vk: &VerifyingKey<Bls12_381>) -> Self {
        Self {
            arkworks: Arkworks::prepare_key(vk),
            blst: Blst::prepare_key(vk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::PROOF_COMPRESSED;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        /// Both backends refuse the same byte strings with the same error.
        #[test]
        fn backends_decode_alike(
            bytes in proptest::collection::vec(any::<u8>(), PROOF_COMPRESSED),
            flags in any::<[u8; 3]>(),
            length in 0usize..400,
        ) {
            let mut bytes = bytes;
            bytes[0] = (bytes[0] & 0x1f) | (flags[0] & 0xe0);
            bytes[48] = (bytes[48] & 0x1f) | (flags[1] & 0xe0);
            bytes[144] = (bytes[144] & 0x1f) | (flags[2] & 0xe0);
            prop_assert_eq!(Arkworks::decode(&bytes).err(), Blst::decode(&bytes).err());
            let other: Vec<u8> = bytes.iter().copied().cycle().take(length).collect();
            prop_assert_eq!(Arkworks::decode(&other).err(), Blst::decode(&other).err());
        }
    }

    #[test]
    fn backend_names_round_trip() {
        for backend in PairingBackend::ALL {
            assert_eq!(backend.name().parse::<PairingBackend>(), Ok(backend));
        }
        assert!("gnark".parse::<PairingBackend>().is_err());
        assert_eq!(PairingBackend::default(), PairingBackend::Blst);
    }
}
