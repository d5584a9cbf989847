//! The work per proof that no batch verifier can skip, for the benches.

use crate::{
    backend::{Arkworks, Blst, Engine},
    PairingBackend,
};

/// Does, on the current thread, only the work the batch equation cannot avoid
/// per proof: a validated decode, one 128-bit scalar multiplication and one
/// Miller-loop pair (in chunks of 16). The benches divide the batch time by this
/// to show how close the batch verifier comes to its floor. Returns how many
/// proofs decoded.
#[doc(hidden)]
pub fn per_proof_floor(backend: PairingBackend, proofs: &[&[u8]]) -> usize {
    match backend {
        PairingBackend::Arkworks => floor::<Arkworks>(proofs),
        PairingBackend::Blst => floor::<Blst>(proofs),
    }
}

fn floor<E: Engine>(proofs: &[&[u8]]) -> usize {
    let decoded: Vec<_> = proofs.iter().filter_map(|p| E::decode(p).ok()).collect();
    for chunk in decoded.chunks(16) {
        let a: Vec<E::G1> = chunk.iter().map(|p| p.a).collect();
        let b: Vec<E::G2> = chunk.iter().map(|p| p.b).collect();
        let r: Vec<u128> = (1..=chunk.len() as u128).map(|i| i << 100 | i).collect();
        std::hint::black_box(E::miller(&E::scale(&a, &r), &b));
    }
    decoded.len()
}
