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
//! key, which costs a third of per-chunk MSMs) and only the final
//! exponentiation is left after them. The key terms and the chunks are jobs
//! that the threads take from one queue, largest first, with chunks that
//! shrink towards the end (see [`chunk_sizes`]), so that the threads finish
//! together instead of one idling while another runs a last large job.
//!
//! The per-chunk sums are
//! only computed when the whole batch fails. Then halves are checked recursively,
//! reusing the chunk products; when a half passes its sibling is known to fail.
//! A failing chunk of one item is invalid; other failing chunks verify their
//! items one by one. A batch of one item is verified alone (three pairs, not four).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, OnceLock,
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

/// A unit of the whole batch's parallel work.
enum Job {
    /// The Miller loop and sums of the chunk with this index.
    Chunk(usize),
    /// A key's terms that need no proof point ([`Engine::input_terms`]), for
    /// the chunks in this range (one key's).
    Inputs(std::ops::Range<usize>),
    /// `e(ΣrᵢCᵢ, −δ)` for the chunks in this range, `ΣrᵢCᵢ` as one MSM.
    CTerm(std::ops::Range<usize>),
}

/// What a [`Job`] computed.
enum Done<'a, E: Engine> {
    /// The chunk with this index.
    Chunk(usize, Chunk<'a, E>),
    /// A key term's Miller-loop value.
    Term(E::Ml),
}

impl Job {
    fn run<'a, E: Engine>(
        &self,
        candidates: &[Candidate<'a, E>],
        plan: &[(Vec<usize>, Vec<u128>)],
    ) -> Done<'a, E> {
        let key = |range: &std::ops::Range<usize>| {
            E::key_of(candidates[plan[range.start].0[0]].key.backends())
        };
        match self {
            Job::Chunk(i) => {
                let (members, r) = &plan[*i];
                Done::Chunk(*i, Chunk::compute(candidates, members.clone(), r.clone()))
            }
            Job::Inputs(range) => {
                // The chunks sum the same scalars for the search; summing them
                // again here (field operations only) saves waiting for the chunks.
                let members = plan[range.clone()]
                    .iter()
                    .flat_map(|(m, r)| m.iter().zip(r));
                let (sum_r, input_sums) = scalar_sums(candidates, members);
                Done::Term(E::input_terms(key(range), sum_r, &input_sums))
            }
            Job::CTerm(range) => {
                let jobs = &plan[range.clone()];
                let c: Vec<E::G1> = jobs
                    .iter()
                    .flat_map(|(m, _)| m.iter().map(|m| candidates[*m].proof.c))
                    .collect();
                let r: Vec<u128> = jobs.iter().flat_map(|(_, r)| r.iter().copied()).collect();
                Done::Term(E::c_term(key(range), E::sum_scaled(&c, &r)))
            }
        }
    }
}

/// Runs `jobs` on the current pool's threads, each thread taking the next job
/// in order from one queue; one result per job, in order.
///
/// rayon's own splitting would hand a thread a whole half of the list, so a
/// thread that has run a large job could still face a run of others while
/// the rest idle. Taking from a queue ordered largest first (longest
/// processing time first) leaves only the last, smallest jobs unbalanced.
fn run_in_order<J: Sync, T: Send + Sync>(jobs: &[J], run: impl Fn(&J) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let done: Vec<OnceLock<T>> = jobs.iter().map(|_| OnceLock::new()).collect();
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { break };
        // Each index is taken once, so each slot is set once.
        let _ = done[i].set(run(job));
    };
    let threads = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    rayon::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|_| worker());
        }
        worker();
    });
    done.into_iter()
        .map(|slot| slot.into_inner().expect("every job has run"))
        .collect()
}

/// The sizes of the chunks `items` proofs of one key are cut into, largest
/// first: each about `1/(2·threads)` of the items still left, between
/// [`MIN_CHUNK`] and [`MAX_CHUNK`] (a remainder below the minimum joins the
/// last chunk when the bound allows). Large chunks share a Miller loop's
/// squarings among more proofs; the small ones at the end let the threads
/// finish together.
fn chunk_sizes(items: usize, threads: usize) -> Vec<usize> {
    let share = 2 * threads.max(1);
    let mut sizes = Vec::new();
    let mut left = items;
    while left > 0 {
        let mut size = left.div_ceil(share).clamp(MIN_CHUNK, MAX_CHUNK).min(left);
        if left - size < MIN_CHUNK && left <= MAX_CHUNK {
            size = left;
        }
        sizes.push(size);
        left -= size;
    }
    sizes
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
    let threads = rayon::current_num_threads();
    let mut scalars = random_scalars(order.len()).into_iter();
    let mut plan: Vec<(Vec<usize>, Vec<u128>)> = Vec::new();
    let mut queue: Vec<Job> = Vec::new();
    let mut chunk_jobs: Vec<(usize, usize)> = Vec::new();
    for group in order.chunk_by(|x, y| Arc::ptr_eq(candidates[*x].key, candidates[*y].key)) {
        let first = plan.len();
        let mut rest = group;
        for size in chunk_sizes(group.len(), threads) {
            let (members, tail) = rest.split_at(size);
            rest = tail;
            chunk_jobs.push((size, plan.len()));
            plan.push((members.to_vec(), scalars.by_ref().take(size).collect()));
        }
        // The key terms first: the C-term's MSM is the largest job.
        queue.push(Job::CTerm(first..plan.len()));
        queue.push(Job::Inputs(first..plan.len()));
    }
    // Then the chunks, largest first; stable, so in plan order among equals.
    chunk_jobs.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    queue.extend(chunk_jobs.into_iter().map(|(_, i)| Job::Chunk(i)));

    let mut chunk_slots: Vec<Option<Chunk<'_, E>>> = plan.iter().map(|_| None).collect();
    let mut key_terms = E::one();
    for done in run_in_order(&queue, |job| job.run(candidates, &plan)) {
        match done {
            Done::Chunk(i, chunk) => chunk_slots[i] = Some(chunk),
            Done::Term(term) => key_terms = E::mul(key_terms, term),
        }
    }
    let mut chunks: Vec<Chunk<'_, E>> = chunk_slots
        .into_iter()
        .map(|c| c.expect("every chunk has run"))
        .collect();
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
    fn chunks_shrink_towards_the_end_within_bounds() {
        assert_eq!(chunk_sizes(0, 2), Vec::<usize>::new());
        assert_eq!(chunk_sizes(1, 2), [1]);
        assert_eq!(chunk_sizes(7, 2), [7]);
        // A remainder below the minimum joins the last chunk.
        assert_eq!(chunk_sizes(60, 2), [15, 12, 9, 6, 5, 4, 4, 5]);
        assert_eq!(chunk_sizes(100, 0), chunk_sizes(100, 1));
        for (items, threads) in [(2, 1), (33, 2), (100, 2), (256, 2), (500, 4), (1000, 1)] {
            let sizes = chunk_sizes(items, threads);
            assert_eq!(sizes.iter().sum::<usize>(), items);
            assert!(
                sizes.iter().all(|s| (1..=MAX_CHUNK).contains(s)),
                "{sizes:?}"
            );
            assert!(sizes
                .windows(2)
                .all(|w| w[0] >= w[1] || w[1] < 2 * MIN_CHUNK));
            // Only a batch smaller than the minimum makes a chunk below it.
            assert!(items < MIN_CHUNK || sizes.iter().all(|s| *s >= MIN_CHUNK));
        }
    }

    #[test]
    fn every_job_runs_once_and_results_keep_their_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let jobs: Vec<usize> = (0..50).collect();
        let runs = AtomicUsize::new(0);
        let done = pool.install(|| {
            run_in_order(&jobs, |job| {
                runs.fetch_add(1, Ordering::Relaxed);
                job * 2
            })
        });
        assert_eq!(runs.into_inner(), 50);
        assert_eq!(done, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert!(run_in_order(&[] as &[usize], |_| 0).is_empty());
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
