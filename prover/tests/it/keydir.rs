//! Key directories written from generated keys and read back, with their integrity checks.

use std::fs;

use zktx_circuits::Tier;
use zktx_formats::{
    fingerprint::verifying_key_bytes,
    keydir::{PROVING_KEY, PROVING_KEY_UNCOMPRESSED, VERIFYING_KEY},
    FormatError, KeyDir,
};
use zktx_prover::{generate_keys, KeySource};

#[test]
fn round_trip_and_integrity_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyDir::new(dir.path());
    let tier = Tier::new(2).unwrap();
    assert!(matches!(
        store.manifest(tier),
        Err(FormatError::KeysMissing { .. })
    ));
    let keys = generate_keys(tier, &KeySource::DevSeed("x".into())).unwrap();
    assert!(store.ensure_writable(tier, false).is_ok());
    store.write(&keys).unwrap();
    assert!(matches!(
        store.ensure_writable(tier, false),
        Err(FormatError::WouldOverwrite { .. })
    ));
    assert!(store.ensure_writable(tier, true).is_ok());
    assert_eq!(store.tiers().unwrap(), vec![tier]);
    let (manifest, vk) = store.verifying_key(tier).unwrap();
    assert_eq!(vk, keys.verifying_key);
    assert_eq!(manifest, keys.manifest);
    let (_, pk) = store.proving_key(tier).unwrap();
    assert_eq!(pk.vk, keys.verifying_key);

    // Without the uncompressed copy the compressed key is used.
    let fast_path = store.tier_dir(tier).join(PROVING_KEY_UNCOMPRESSED);
    let fast = fs::read(&fast_path).unwrap();
    fs::remove_file(&fast_path).unwrap();
    assert_eq!(store.proving_key(tier).unwrap().1.vk, keys.verifying_key);

    // A flipped byte in either proving key file is caught by its hash.
    let mut tampered = fast.clone();
    tampered[100] ^= 1;
    fs::write(&fast_path, &tampered).unwrap();
    assert!(matches!(
        store.proving_key(tier),
        Err(FormatError::KeyIntegrity { .. })
    ));
    fs::remove_file(&fast_path).unwrap();
    let pk_path = store.tier_dir(tier).join(PROVING_KEY);
    let mut bytes = fs::read(&pk_path).unwrap();
    bytes[100] ^= 1;
    fs::write(&pk_path, &bytes).unwrap();
    assert!(matches!(
        store.proving_key(tier),
        Err(FormatError::KeyIntegrity { .. })
    ));

    // A different (valid) verifying key is caught by its fingerprint.
    let other = generate_keys(tier, &KeySource::DevSeed("y".into())).unwrap();
    fs::write(
        store.tier_dir(tier).join(VERIFYING_KEY),
        verifying_key_bytes(&other.verifying_key),
    )
    .unwrap();
    assert!(matches!(
        store.verifying_key(tier),
        Err(FormatError::KeyIntegrity { .. })
    ));
}
