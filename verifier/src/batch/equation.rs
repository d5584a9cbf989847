//! The randomised batch equation and the search for invalid items.
//!
//! For items `i` with proofs `(Aᵢ, Bᵢ, Cᵢ)`, input points `Lᵢ` and fresh random
//! 128-bit `rᵢ`, every item is valid (except with probability ≤ 2⁻¹²⁸) when
//!
//! `∏ᵢ e(rᵢAᵢ, Bᵢ) · ∏_keys e(Σrᵢ·α, −β) · e(ΣrᵢLᵢ, −γ) · e(ΣrᵢCᵢ, −δ) = 1`.
//!
//! Items are cut into chunks (by key). Each chunk's Miller-loop product and its
//! scalar sums (`Σrᵢ`, `Σrᵢxᵢⱼ`) are computed once, in parallel, and kept: the
//! equation over any run of chunks is the product of their Miller values times
//! the Miller loops of the three key terms per key, then one final
//! exponentiation. For the whole batch the key terms need only the scalars and
//! the C points, so they run beside the chunks (`ΣrᵢCᵢ` as one large MSM per
//! key, split over the threads, which costs a third of per-chunk MSMs) and
//! only the final exponentiation is left after them. The per-chunk sums are
//! only computed when the whole batch fails. Then halves are checked recursively,
//! reusing the chunk products; when a half passes its sibling is known to fail.
//! A failing chunk of one item is invalid; other failing chunks verify their
//! items one by one. A batch of one item is verified alone (three pairs, not four).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use zktx_circuits::Fr;

use crate::{
    backend::{DecodedProof, Engine},
    DecodeError, RegisteredKey,
};

/// Fewest items in a chunk: below this the squarings a Miller loop shares are wasted.
const MIN_CHUNK: usize = 4;
/// Most items in a chunk: a failing chunk costs this many single verifications.
const MAX_CHUNK: usize = 16;

/// One proof going into the equation.
pub(crate) struct Candidate<'a, E: Engine> {
    pub key: &'a Arc<RegisteredKey>,
    pub proof: DecodedProof<E>,
    pub inputs: &'a [Fr],
}

/// Counters of the work done.
#[derive(Default)]
pub(crate) struct Work {
    pub batch_checks: AtomicUsize,
    pub single_checks: AtomicUsize,
}

/// A run of items under one key, with its Miller-loop product and sums.
struct Chunk<'a, E: Engine> {
    key: &'a Arc<RegisteredKey>,
    members: Vec<usize>,
    miller: E::Ml,
    sum_r: Fr,
    input_sums: Vec<Fr>,
    /// The members' C points and scalars, for `ΣrᵢCᵢ`.
    c: Vec<E::G1>,
    r: Vec<u128>,
    /// `ΣrᵢCᵢ` over the members, once the search for invalid items needs it.
    sum_rc: Option<E::G1Sum>,
}

impl<'a, E: Engine> Chunk<'a, E> {
    fn compute(candidates: &[Candidate<'a, E>], members: Vec<usize>, r: Vec<u128>) -> Self {
        let key = candidates[members[0]].key;
        let item = |m: &usize| &candidates[*m];
        let a: Vec<E::G1> = members.iter().map(|m| item(m).proof.a).collect();
        let b: Vec<E::G2> = members.iter().map(|m| item(m).proof.b).collect();
        let c: Vec<E::G1> = members.iter().map(|m| item(m).proof.c).collect();
        let miller = E::miller(&E::scale(&a, &r), &b);
        let (sum_r, input_sums) = scalar_sums(candidates, members.iter().zip(&r));
        Self {
            key,
            members,
            miller,
            sum_r,
            input_sums,
            c,
            r,
            sum_rc: None,
        }
    }
}

/// `Σrᵢ` and, for each public input `j`, `Σrᵢxᵢⱼ` over members of one key.
fn scalar_sums<'m, E: Engine>(
    candidates: &[Candidate<'_, E>],
    members: impl Iterator<Item = (&'m usize, &'m u128)>,
) -> (Fr, Vec<Fr>) {
    let mut sum_r = Fr::from(0u64);
    let mut input_sums: Vec<Fr> = Vec::new();
    for (m, r) in members {
        let (r, inputs) = (Fr::from(*r), candidates[*m].inputs);
        input_sums.resize(inputs.len(), Fr::from(0u64));
        sum_r += r;
        for (sum, x) in input_sums.iter_mut().zip(inputs) {
            *sum += r * x;
        }
    }
    (sum_r, input_sums)
}

/// Every key term of the equation for a run of jobs (jobs of one key are
/// adjacent): per key, the terms that need no proof point (see
/// [`Engine::input_terms`]) and `e(ΣrᵢCᵢ, −δ)` with `ΣrᵢCᵢ` as one MSM split
/// over the threads, which costs a third of per-chunk MSMs.
fn jobs_key_terms<E: Engine>(
    candidates: &[Candidate<'_, E>],
    jobs: &[(Vec<usize>, Vec<u128>)],
) -> E::Ml {
    let key_of = |job: &(Vec<usize>, Vec<u128>)| candidates[job.0[0]].key;
    let groups: Vec<&[(Vec<usize>, Vec<u128>)]> = jobs
        .chunk_by(|x, y| Arc::ptr_eq(key_of(x), key_of(y)))
        .collect();
    groups
        .par_iter()
        .map(|group| {
            let key = E::key_of(key_of(&group[0]).backends());
            let (inputs, c_term) = rayon::join(
                || {
                    // The chunks sum the same scalars for the search; summing them
                    // again here (field operations only) saves waiting for the chunks.
                    let members = group.iter().flat_map(|(m, r)| m.iter().zip(r));
                    let (sum_r, input_sums) = scalar_sums(candidates, members);
                    E::input_terms(key, sum_r, &input_sums)
                },
                || {
                    let c: Vec<E::G1> = group
                        .iter()
                        .flat_map(|(m, _)| m.iter().map(|m| candidates[*m].proof.c))
                        .collect();
                    let r: Vec<u128> = group.iter().flat_map(|(_, r)| r.iter().copied()).collect();
                    E::c_term(key, split_msm::<E>(&c, &r))
                },
            );
            E::mul(inputs, c_term)
        })
        .reduce(E::one, E::mul)
}

/// `Σ rᵢ·Pᵢ` as one MSM split over the pool's threads.
fn split_msm<E: Engine>(points: &[E::G1], scalars: &[u128]) -> E::G1Sum {
    let part = points
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let parts: Vec<E::G1Sum> = points
        .par_chunks(part)
        .zip(scalars.par_chunks(part))
        .map(|(p, r)| E::sum_scaled(p, r))
        .collect();
    E::sum(&parts)
}

/// Items per chunk: as large as the bound allows, because a chunk's Miller
/// loop shares its squarings among its members, with the number of chunks a
/// multiple of the threads so that none idles at the end.
fn chunk_size(items: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    let chunks = items.div_ceil(MAX_CHUNK).div_ceil(threads) * threads;
    items.div_ceil(chunks.max(1)).clamp(MIN_CHUNK, MAX_CHUNK)
}

/// Fresh non-zero 128-bit scalars from the operating system's CSPRNG (via ChaCha20).
fn random_scalars(count: usize) -> Vec<u128> {
    let mut rng = ChaCha20Rng::from_entropy();
    (0..count)
        .map(|_| loop {
            let r: u128 = rng.gen();
            if r != 0 {
                break r;
            }
        })
        .collect()
}

/// Decodes every proof on the current pool.
pub(crate) fn decode_all<E: Engine>(proofs: &[&[u8]]) -> Vec<Result<DecodedProof<E>, DecodeError>> {
    proofs.par_iter().map(|bytes| E::decode(bytes)).collect()
}

/// Whether the equation holds over a run of chunks. `key_terms`: every key
/// term for exactly these chunks, when already computed; otherwise they are
/// computed from the chunks' own sums.
fn holds<E: Engine>(chunks: &[Chunk<'_, E>], key_terms: Option<E::Ml>, work: &Work) -> bool {
    work.batch_checks.fetch_add(1, Ordering::Relaxed);
    let items = chunks
        .iter()
        .fold(E::one(), |acc, chunk| E::mul(acc, chunk.miller));
    let keys = key_terms.unwrap_or_else(|| {
        // Chunks of one key are adjacent: the key's terms once per key.
        let groups: Vec<&[Chunk<'_, E>]> =
            chunks.chunk_by(|x, y| Arc::ptr_eq(x.key, y.key)).collect();
        groups
            .par_iter()
            .map(|group| {
                let key = E::key_of(group[0].key.backends());
                let mut sum_r = Fr::from(0u64);
                let mut input_sums = vec![Fr::from(0u64); group[0].input_sums.len()];
                for chunk in group.iter() {
                    sum_r += chunk.sum_r;
                    for (sum, x) in input_sums.iter_mut().zip(&chunk.input_sums) {
                        *sum += x;
                    }
                }
                let c_term = E::c_term(key, chunk_sums(group));
                E::mul(E::input_terms(key, sum_r, &input_sums), c_term)
            })
            .reduce(E::one, E::mul)
    });
    E::holds(E::mul(items, keys))
}

/// `ΣrᵢCᵢ` over a run of chunks from their own sums.
fn chunk_sums<E: Engine>(group: &[Chunk<'_, E>]) -> E::G1Sum {
    let sums: Vec<E::G1Sum> = group
        .iter()
        .map(|c| c.sum_rc.expect("chunk sums are computed before the search"))
        .collect();
    E::sum(&sums)
}

/// The members of `chunks` that are invalid. `known_bad`: the equation over
/// `chunks` is already known to fail.
fn locate<E: Engine>(
    chunks: &[Chunk<'_, E>],
    known_bad: bool,
    candidates: &[Candidate<'_, E>],
    work: &Work,
) -> Vec<usize> {
    if !known_bad && holds(chunks, None, work) {
        return Vec::new();
    }
    if let [chunk] = chunks {
        if let [only] = chunk.members.as_slice() {
            // A batch of one with r ≠ 0 fails exactly when the proof does.
            return vec![*only];
        }
        return chunk
            .members
            .par_iter()
            .copied()
            .filter(|m| {
                work.single_checks.fetch_add(1, Ordering::Relaxed);
                let item = &candidates[*m];
                !E::verify_single(E::key_of(item.key.backends()), &item.proof, item.inputs)
            })
            .collect();
    }
    let (left, right) = chunks.split_at(chunks.len() / 2);
    if holds(left, None, work) {
        // The whole fails and the left half holds, so the right half fails.
        locate(right, true, candidates, work)
    } else {
        let (mut bad, more) = rayon::join(
            || locate(left, true, candidates, work),
            || locate(right, false, candidates, work),
        );
        bad.extend(more);
        bad
    }
}

/// The indices (into `candidates`) of the proofs that do not verify.
pub(crate) fn invalid_candidates<E: Engine>(
    candidates: &[Candidate<'_, E>],
    work: &Work,
) -> Vec<usize> {
    match candidates {
        [] => return Vec::new(),
        [only] => {
            work.single_checks.fetch_add(1, Ordering::Relaxed);
            let key = E::key_of(only.key.backends());
            return match E::verify_single(key, &only.proof, only.inputs) {
                true => Vec::new(),
                false => vec![0],
            };
        }
        _ => {}
    }
    // A key whose shape does not fit the inputs verifies nothing (as in
    // ark-groth16); such keys never pass KeyDir's checks, but no key may panic us.
    let (mut order, misfits): (Vec<usize>, Vec<usize>) = (0..candidates.len()).partition(|i| {
        candidates[*i]
            .key
            .key()
            .fits_inputs(candidates[*i].inputs.len())
    });
    if order.is_empty() {
        return misfits;
    }
    // Group by key, keeping submission order within a key.
    order.sort_by_key(|i| candidates[*i].key.fingerprint());
    let size = chunk_size(order.len(), rayon::current_num_threads());
    let mut plan: Vec<Vec<usize>> = Vec::new();
    for group in order.chunk_by(|x, y| Arc::ptr_eq(candidates[*x].key, candidates[*y].key)) {
        plan.extend(group.chunks(size).map(<[usize]>::to_vec));
    }
    let mut scalars = random_scalars(order.len()).into_iter();
    let jobs: Vec<(Vec<usize>, Vec<u128>)> = plan
        .into_iter()
        .map(|members| {
            let r = scalars.by_ref().take(members.len()).collect();
            (members, r)
        })
        .collect();
    // The key terms (they need only the scalars and the C points) run beside
    // the proofs' Miller loops, leaving only the final exponentiation after them.
    let (mut chunks, key_terms): (Vec<Chunk<'_, E>>, E::Ml) = rayon::join(
        || {
            jobs.par_iter()
                .map(|(members, r)| Chunk::compute(candidates, members.clone(), r.clone()))
                .collect()
        },
        || jobs_key_terms(candidates, &jobs),
    );
    if holds(&chunks, Some(key_terms), work) {
        return misfits;
    }
    chunks
        .par_iter_mut()
        .for_each(|chunk| chunk.sum_rc = Some(E::sum_scaled(&chunk.c, &chunk.r)));
    let mut bad = locate(&chunks, true, candidates, work);
    bad.extend(misfits);
    bad.sort_unstable();
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_bounded_and_spread_over_threads() {
        assert_eq!(chunk_size(1, 2), MIN_CHUNK);
        // 100 items on 2 threads: 8 chunks of 13 (the last of 9), 4 per thread.
        assert_eq!(chunk_size(100, 2), 13);
        assert_eq!(chunk_size(256, 2), MAX_CHUNK);
        assert_eq!(chunk_size(500, 2), MAX_CHUNK);
        assert_eq!(chunk_size(10, 4), MIN_CHUNK);
        assert_eq!(chunk_size(100, 0), chunk_size(100, 1));
    }

    #[test]
    fn scalars_are_fresh_and_non_zero() {
        let a = random_scalars(64);
        let b = random_scalars(64);
        assert!(a.iter().all(|r| *r != 0));
        assert_ne!(a, b);
        // 128 bits wide: some scalar uses the top 64 bits.
        assert!(a.iter().any(|r| *r >> 64 != 0));
    }
}
