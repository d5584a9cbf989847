//! The single path on a chosen backend: each proof decoded and verified alone.

use crate::{
    backend::{Arkworks, Blst, Engine},
    BatchItem, PairingBackend, PreparedKeyRegistry, Verdict,
};

use super::item::resolve;

/// Verifies one item alone (validated decode, one MSM, three Miller-loop pairs
/// and a final exponentiation) on `backend`; the same verdict as [`crate::verify_item`].
pub fn verify_single(
    registry: &PreparedKeyRegistry,
    item: &BatchItem,
    backend: PairingBackend,
) -> Verdict {
    match backend {
        PairingBackend::Arkworks => single::<Arkworks>(registry, item),
        PairingBackend::Blst => single::<Blst>(registry, item),
    }
}

fn single<E: Engine>(registry: &PreparedKeyRegistry, item: &BatchItem) -> Verdict {
    let resolved = match resolve(registry, item) {
        Ok(resolved) => resolved,
        Err(why) => return Verdict::Invalid(why),
    };
    let proof = match E::decode(&item.proof) {
        Ok(proof) => proof,
        Err(error) => return Verdict::Invalid(error.into()),
    };
    if E::verify_single(E::key_of(resolved.key.backends()), &proof, &resolved.inputs) {
        Verdict::Valid
    } else {
        Verdict::Invalid(crate::Invalid::Rejected)
    }
}
