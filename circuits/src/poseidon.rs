//! Poseidon over the BLS12-381 scalar field, with parameters pinned in the repo.
//!
//! ark-crypto-primitives ships no BLS12-381 defaults, so the round constants and
//! the MDS matrix were generated once with its Grain-LFSR routine
//! (`find_poseidon_ark_and_mds`) for width 9 (rate 8, capacity 1), α = 5,
//! 8 full and 57 partial rounds — the entry arkworks lists for ~255-bit fields
//! at rate 8, from the Poseidon paper's round-number script with its security
//! margin — and written to `params/poseidon-bls12_381-rate8.txt`. The file is
//! what the circuit uses; a test regenerates the constants and compares, and
//! stored hash vectors catch any drift in the sponge itself.
//!
//! α = 5 is a permutation of the field because gcd(5, r − 1) = 1 (tested).
//! The sponge absorbs without length or padding, so every hash in zktx has a
//! fixed number of inputs per tier, with the tier and version in a domain tag.

use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::{
    poseidon::{find_poseidon_ark_and_mds, PoseidonConfig, PoseidonSponge},
    CryptographicSponge,
};
use ark_ff::{BigInteger, PrimeField};

/// Sponge rate in field elements.
pub const RATE: usize = 8;
/// Sponge capacity in field elements.
pub const CAPACITY: usize = 1;
/// S-box exponent.
pub const ALPHA: u64 = 5;
/// Full rounds.
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds.
pub const PARTIAL_ROUNDS: usize = 57;

const PINNED: &str = include_str!("../params/poseidon-bls12_381-rate8.txt");

/// The pinned Poseidon configuration used by every commitment and challenge.
pub fn config() -> &'static PoseidonConfig<Fr> {
    static CONFIG: OnceLock<PoseidonConfig<Fr>> = OnceLock::new();
    CONFIG.get_or_init(|| parse_pinned(PINNED).expect("pinned Poseidon parameters are well formed"))
}

/// Regenerates the parameters from the Grain LFSR (used to write and to check the pinned file).
pub fn generate() -> PoseidonConfig<Fr> {
    let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
        Fr::MODULUS_BIT_SIZE as u64,
        RATE,
        FULL_ROUNDS as u64,
        PARTIAL_ROUNDS as u64,
        0,
    );
    PoseidonConfig::new(FULL_ROUNDS, PARTIAL_ROUNDS, ALPHA, mds, ark, RATE, CAPACITY)
}

/// Renders a configuration in the pinned text format.
pub fn render(config: &PoseidonConfig<Fr>) -> String {
    let mut out = format!(
        "# zktx Poseidon parameters: BLS12-381 Fr, rate {} capacity {} alpha {} full {} partial {}\n",
        config.rate, config.capacity, config.alpha, config.full_rounds, config.partial_rounds
    );
    for row in &config.ark {
        out.push_str("ark");
        for x in row {
            out.push(' ');
            out.push_str(&hex::encode(x.into_bigint().to_bytes_be()));
        }
        out.push('\n');
    }
    for row in &config.mds {
        out.push_str("mds");
        for x in row {
            out.push(' ');
            out.push_str(&hex::encode(x.into_bigint().to_bytes_be()));
        }
        out.push('\n');
    }
    out
}

fn parse_pinned(text: &str) -> Option<PoseidonConfig<Fr>> {
    let mut ark = Vec::new();
    let mut mds = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut words = line.split_whitespace();
        let kind = words.next()?;
        let row = words
            .map(|w| {
                let bytes = hex::decode(w).ok()?;
                let x = Fr::from_be_bytes_mod_order(&bytes);
                // Only canonical encodings are accepted, so the file has one reading.
                (x.into_bigint().to_bytes_be() == bytes).then_some(x)
            })
            .collect::<Option<Vec<Fr>>>()?;
        match kind {
            "ark" => ark.push(row),
            "mds" => mds.push(row),
            _ => return None,
        }
    }
    let width = RATE + CAPACITY;
    let shapes_ok = ark.len() == FULL_ROUNDS + PARTIAL_ROUNDS
        && ark.iter().all(|r| r.len() == width)
        && mds.len() == width
        && mds.iter().all(|r| r.len() == width);
    shapes_ok
        .then(|| PoseidonConfig::new(FULL_ROUNDS, PARTIAL_ROUNDS, ALPHA, mds, ark, RATE, CAPACITY))
}

/// Hashes a fixed-length input natively and squeezes one field element.
pub fn hash(inputs: &[Fr]) -> Fr {
    let mut sponge = PoseidonSponge::new(config());
    sponge.absorb(&inputs.to_vec());
    sponge.squeeze_field_elements::<Fr>(1)[0]
}

/// A domain tag: a field element derived from a label, reduced from SHA-256.
pub fn domain_tag(label: &str) -> Fr {
    use sha2::{Digest, Sha256};
    Fr::from_be_bytes_mod_order(&Sha256::digest(label.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, One};

    #[test]
    fn pinned_file_matches_regeneration() {
        assert_eq!(
            render(&generate()),
            PINNED,
            "params file drifted from the generator"
        );
    }

    #[test]
    fn a_pinned_file_of_another_shape_or_encoding_is_refused() {
        assert!(parse_pinned(PINNED).is_some());
        let lines: Vec<&str> = PINNED.lines().collect();
        let edited = |kind: &str, edit: &dyn Fn(&str) -> Option<String>| -> String {
            let mut done = false;
            lines
                .iter()
                .filter_map(|line| {
                    if !done && line.starts_with(kind) {
                        done = true;
                        return edit(line);
                    }
                    Some((*line).to_string())
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let shorter = |line: &str| Some(line.rsplit_once(' ').unwrap().0.to_string());
        let cases = [
            // Each shape condition broken alone, the others holding.
            ("an ark row missing", edited("ark ", &|_| None)),
            ("an ark row one entry short", edited("ark ", &shorter)),
            ("an mds row missing", edited("mds ", &|_| None)),
            ("an mds row one entry short", edited("mds ", &shorter)),
            (
                "an unknown kind of row",
                edited("mds ", &|l| Some(l.replacen("mds", "mdx", 1))),
            ),
            (
                "a non-canonical entry (the modulus itself)",
                edited("ark ", &|l| {
                    let (kind, rest) = l.split_once(' ').unwrap();
                    let (_, tail) = rest.split_once(' ').unwrap();
                    let modulus = hex::encode(Fr::MODULUS.to_bytes_be());
                    Some(format!("{kind} {modulus} {tail}"))
                }),
            ),
        ];
        for (what, text) in cases {
            assert_ne!(text, PINNED, "{what}: the edit applies");
            assert!(parse_pinned(&text).is_none(), "{what} is accepted");
        }
    }

    #[test]
    fn alpha_is_a_permutation_exponent() {
        // gcd(alpha, r - 1) = 1  <=>  (r - 1) mod 5 != 0 for prime alpha = 5.
        let mut r_minus_one = Fr::MODULUS;
        r_minus_one.sub_with_borrow(&<Fr as PrimeField>::BigInt::from(1u64));
        let bytes = r_minus_one.to_bytes_be();
        let rem = bytes
            .iter()
            .fold(0u64, |acc, b| (acc * 256 + *b as u64) % ALPHA);
        assert_ne!(rem, 0);
    }

    #[test]
    fn stored_hash_vectors() {
        let h0 = hash(&[Fr::from(0u64)]);
        let h123 = hash(&[Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)]);
        assert_eq!(hex::encode(h0.into_bigint().to_bytes_be()), VECTOR_ZERO);
        assert_eq!(hex::encode(h123.into_bigint().to_bytes_be()), VECTOR_123);
        assert_ne!(hash(&[Fr::one()]), hash(&[Fr::one(), Fr::one()]));
    }

    const VECTOR_ZERO: &str = "2b9523bfc8515c87f6477dd060e2c265036a000e33e54f1e7e9b45ae91203ccd";
    const VECTOR_123: &str = "464ccd46e4132b6baeea9768ddd30004c4dcc072b3f06b54eea7f2d828f0fcd9";
}
