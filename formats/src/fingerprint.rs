//! SHA-256 fingerprints of verifying keys and files.

use ark_bls12_381::Bls12_381;
use ark_groth16::VerifyingKey;
use ark_serialize::CanonicalSerialize;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of arbitrary bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The compressed canonical encoding of a verifying key.
pub fn verifying_key_bytes(vk: &VerifyingKey<Bls12_381>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(vk.compressed_size());
    vk.serialize_compressed(&mut bytes)
        .expect("serialising into a Vec cannot fail");
    bytes
}

/// The fingerprint of a verifying key: hex SHA-256 of its compressed encoding.
pub fn vk_fingerprint(vk: &VerifyingKey<Bls12_381>) -> String {
    sha256_hex(&verifying_key_bytes(vk))
}
