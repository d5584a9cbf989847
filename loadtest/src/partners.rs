//! Synthetic partner data for the sandbox pilot: pairs of identifier lists
//! with known overlaps (written as the CSV files partners would bring),
//! committed as `zktx commit` does, and the proofs a pilot attempts: true
//! bounds, which must prove, and bounds below the true overlap, which the
//! prover must refuse.

use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use rand::Rng;
use zktx_circuits::{CircuitError, Fr, SetOpening, Tier};
use zktx_formats::{KeyDir, ProofEnvelope};
use zktx_prover::{prove_envelope, setfiles, ProverError};

use crate::LoadError;

/// Two partners' sets with a known overlap, committed.
pub struct PartnerPair {
    /// A short name (`pair-3`).
    pub name: String,
    /// The true |A ∩ B|, by construction.
    pub overlap: u64,
    /// Partner A's identifier file.
    pub a_csv: PathBuf,
    /// Partner B's identifier file.
    pub b_csv: PathBuf,
    /// A's opening (private to A).
    pub a: SetOpening,
    /// B's opening (private to B).
    pub b: SetOpening,
}

/// The overlaps the pilot's pairs have at `tier`: none, one, a quarter, a
/// half, and every member.
pub fn pilot_overlaps(tier: Tier) -> Vec<usize> {
    let n = tier.capacity();
    let mut overlaps = vec![0, 1, n / 4, n / 2, n];
    overlaps.dedup();
    overlaps
}

/// Writes one pair of identifier files per overlap in `dir` and commits each
/// file as `zktx commit` does (set files beside them). Shared identifiers
/// appear in B in another letter case and with stray spaces, which
/// normalisation must fold; the check that each pair's committed sets
/// intersect in exactly `overlap` members guards the ground truth.
pub fn synthetic_pairs(
    dir: &Path,
    tier: Tier,
    overlaps: &[usize],
) -> Result<Vec<PartnerPair>, LoadError> {
    std::fs::create_dir_all(dir).map_err(|e| LoadError::io(dir, e))?;
    let n = tier.capacity();
    let run: u64 = OsRng.gen();
    let mut pairs = Vec::new();
    for (p, &overlap) in overlaps.iter().enumerate() {
        if overlap > n {
            return Err(LoadError::Invalid(format!(
                "overlap {overlap} exceeds tier {n}"
            )));
        }
        let id = |side: &str, i: usize| format!("customer-{run:x}-{p}-{side}{i}@example.test");
        let shared: Vec<String> = (0..overlap).map(|i| id("s", i)).collect();
        let mut a: Vec<String> = shared.clone();
        a.extend((overlap..n).map(|i| id("a", i)));
        let mut b: Vec<String> = shared
            .iter()
            .map(|s| format!("  {}  ", s.to_uppercase()))
            .collect();
        b.extend((overlap..n).map(|i| id("b", i)));
        let name = format!("pair-{p}");
        let a_csv = dir.join(format!("{name}-a.csv"));
        let b_csv = dir.join(format!("{name}-b.csv"));
        write_lines(&a_csv, &a)?;
        write_lines(&b_csv, &b)?;
        let a = commit(&a_csv, tier)?;
        let b = commit(&b_csv, tier)?;
        let b_members: std::collections::HashSet<&u64> = b.members().iter().collect();
        let truth = a.members().iter().filter(|m| b_members.contains(m)).count();
        if truth != overlap {
            return Err(LoadError::Invalid(format!(
                "{name}: the committed sets share {truth} members, not {overlap}"
            )));
        }
        pairs.push(PartnerPair {
            name,
            overlap: overlap as u64,
            a_csv,
            b_csv,
            a,
            b,
        });
    }
    Ok(pairs)
}

fn write_lines(path: &Path, lines: &[String]) -> Result<(), LoadError> {
    let mut text = lines.join("\n");
    text.push('\n');
    zktx_formats::write_with_mode(path, text.as_bytes(), 0o600)?;
    Ok(())
}

/// Reads, normalises and commits an identifier file; writes its set files.
fn commit(csv: &Path, tier: Tier) -> Result<SetOpening, LoadError> {
    let list = setfiles::read_identifiers(csv, tier, false)?;
    let opening = SetOpening::with_random_salt(tier, list.ids.iter().copied(), &mut OsRng)
        .map_err(|e| LoadError::Invalid(e.to_string()))?;
    setfiles::write_set_files(&csv.with_extension(""), &opening, true)?;
    Ok(opening)
}

/// One attempt to prove |A ∩ B| ≤ k for a pair.
pub struct Attempt {
    /// The pair's name.
    pub pair: String,
    /// The bound asked for.
    pub k: u64,
    /// The true overlap.
    pub overlap: u64,
    /// The proof, or `None` when the prover refused.
    pub proof: Option<ProofEnvelope>,
}

impl Attempt {
    /// Whether the statement is true (the prover must prove it; else refuse).
    pub fn statement_true(&self) -> bool {
        self.k >= self.overlap
    }
}

/// For each pair: k equal to the overlap and k above it up to the tier (true statements),
/// and k one below it where the overlap is not zero (false: the prover must
/// refuse). Each proof gets a fresh random context. A refusal of a true
/// statement, or a proof of a false one, is an error.
pub fn attempts(keys: &KeyDir, pairs: &[PartnerPair]) -> Result<Vec<Attempt>, LoadError> {
    let mut out = Vec::new();
    for pair in pairs {
        let capacity = pair.a.tier().capacity() as u64;
        let mut bounds = vec![pair.overlap];
        if pair.overlap < capacity {
            bounds.push((pair.overlap + 3).min(capacity));
        }
        if pair.overlap > 0 {
            bounds.push(pair.overlap - 1);
        }
        for k in bounds {
            let context = Fr::from(OsRng.gen::<u64>());
            let proved = prove_envelope(keys, &pair.a, &pair.b, k, context, &mut OsRng);
            let proof = match proved {
                Ok(envelope) => Some(envelope),
                Err(ProverError::Circuit(CircuitError::OverlapExceedsK { .. })) => None,
                Err(other) => return Err(other.into()),
            };
            let attempt = Attempt {
                pair: pair.name.clone(),
                k,
                overlap: pair.overlap,
                proof,
            };
            if attempt.proof.is_some() != attempt.statement_true() {
                return Err(LoadError::Invalid(format!(
                    "{}: k = {k} with overlap {}: the prover {} it",
                    pair.name,
                    pair.overlap,
                    if attempt.proof.is_some() {
                        "PROVED a false statement; it must refuse"
                    } else {
                        "refused a true statement; it must prove"
                    }
                )));
            }
            out.push(attempt);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_have_their_overlaps_and_the_prover_refuses_false_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let tier = Tier::new(4).unwrap();
        assert_eq!(pilot_overlaps(tier), vec![0, 1, 2, 4]);
        let pairs = synthetic_pairs(dir.path(), tier, &[0, 3, 4]).unwrap();
        assert_eq!(pairs[1].overlap, 3);
        assert!(pairs[1].b_csv.exists());
        // The set files sit beside the CSV, as `zktx commit --out` writes them.
        assert!(dir.path().join("pair-1-a.opening.json").exists());
        assert!(synthetic_pairs(dir.path(), tier, &[5]).is_err());

        let keys = KeyDir::new(dir.path().join("keys"));
        let generated =
            zktx_prover::generate_keys(tier, &zktx_prover::KeySource::DevSeed("p".into())).unwrap();
        keys.write(&generated).unwrap();
        let attempts = attempts(&keys, &pairs).unwrap();
        // pair 0: k 0 and 3; pair 1: k 3, 4 (the tier) and 2 (refused); pair 2: 4 and 3 (refused).
        let summary: Vec<(u64, bool)> = attempts.iter().map(|a| (a.k, a.proof.is_some())).collect();
        assert_eq!(
            summary,
            vec![
                (0, true),
                (3, true),
                (3, true),
                (4, true),
                (2, false),
                (4, true),
                (3, false)
            ]
        );
    }
}
