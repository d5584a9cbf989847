//! The server's signed attestation and the prod profile's release check:
//! the attestation names the running binary, its keys, policy and profile,
//! is signed with the receipt key and is the same on both front ends; prod
//! refuses to start without release provenance, with provenance that does
//! not cover the binary or a key, or with a throwaway-key release, and
//! starts with an official one.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use zktx_formats::DataDir;
use zktx_governance::provenance::attestation::{Attestation, LABEL};
use zktx_governance::provenance::{self, file_sha256, statement, BuildFacts, Subject};
use zktx_governance::{PolicyBundle, Profile};
use zktx_proto::v1;
use zktx_server::config::ServerConfig;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::start;

use crate::entitlements::ceremony_keys;
use crate::harness::{config, fixture, tenants, TestServer};

fn running_binary_sha256() -> String {
    file_sha256(&std::env::current_exe().unwrap()).unwrap()
}

fn subject(name: &str, sha256: &str) -> Subject {
    Subject {
        name: name.into(),
        digest: BTreeMap::from([("sha256".to_string(), sha256.to_string())]),
    }
}

/// Release provenance over `subjects`, signed by `key` (official or not).
fn release(subjects: Vec<Subject>, key: &SigningKey, official: bool) -> String {
    let facts = BuildFacts {
        source_uri: "git+https://example.invalid/zktx".into(),
        commit: "ab".repeat(20),
        cargo_lock_sha256: "00".repeat(32),
        builder_id: "https://zktx.dev/builders/release".into(),
        official,
        cargo_profile: "release".into(),
        invocation_id: "test".into(),
        started_on: "2026-12-02T00:00:00Z".into(),
        finished_on: "2026-12-02T00:01:00Z".into(),
    };
    provenance::sign(&statement(subjects, &facts), key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attestation_names_what_runs_and_is_signed_with_the_receipt_key() {
    let t = TestServer::start().await;
    let response = t.get("/v1/attestation", None).await;
    assert_eq!(response.status(), 200);
    let rest = response.text().await.unwrap();
    let signer =
        ReceiptSigner::load_existing(&DataDir::new(t.data.path()).receipt_signing_key()).unwrap();
    let key = signer.key().verifying_key();
    let doc = Attestation::open(&rest, &key).unwrap();
    assert_eq!(doc.label, LABEL);
    assert_eq!(doc.binary_sha256, running_binary_sha256());
    assert_eq!(doc.profile, "dev");
    assert_eq!(doc.policy_sha256, PolicyBundle::builtin().sha256());
    assert_eq!(doc.provenance_sha256, None);
    assert!(!doc.provenance_verified);
    let mut fingerprints: Vec<_> = doc.keys.iter().map(|k| k.fingerprint.clone()).collect();
    fingerprints.sort();
    let mut served: Vec<_> = t
        .server()
        .service()
        .circuits()
        .iter()
        .map(|c| c.key_fingerprint.clone())
        .collect();
    served.sort();
    assert_eq!(fingerprints, served);

    // gRPC answers with the same signed bytes, and needs no API key.
    let grpc = t
        .grpc()
        .await
        .get_attestation(v1::GetAttestationRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grpc.envelope_json, rest);
    // Another key does not open it.
    let other = SigningKey::from_bytes(&[3; 32]).verifying_key();
    assert!(Attestation::open(&rest, &other).is_err());
}

fn prod_config(data: &std::path::Path) -> ServerConfig {
    let mut c = config(data, &tenants());
    c.profile = Profile::Prod;
    c.keys_dir = Some(ceremony_keys().root().to_path_buf());
    c.policy.pinned_sha256 = Some(PolicyBundle::builtin().sha256().to_string());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_starts_only_with_an_official_release_covering_the_binary_and_keys() {
    let _ = fixture();
    let data = tempfile::tempdir().unwrap();
    let release_key = SigningKey::from_bytes(&[21; 32]);
    let public_key = hex::encode(release_key.verifying_key().as_bytes());
    let binary = running_binary_sha256();
    let vk = ceremony_keys()
        .root()
        .join("tier-4")
        .join(zktx_formats::keydir::VERIFYING_KEY);
    let key_digest = file_sha256(&vk).unwrap();
    let write = |name: &str, text: String| {
        let path = data.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let try_start = |provenance: Option<std::path::PathBuf>, key: Option<String>| {
        let mut c = prod_config(&data.path().join("server"));
        c.release.provenance = provenance;
        c.release.public_key = key;
        start(c)
    };
    let refused = |result: Result<zktx_server::RunningServer, zktx_server::ServerError>| {
        result.err().expect("prod refuses this start").to_string()
    };

    let error = refused(try_start(None, None).await);
    assert!(error.contains("[release]"), "{error}");

    let good = write(
        "good.dsse.json",
        release(
            vec![
                subject("zktx", &binary),
                subject("keys/tier-4/verifying_key.bin", &key_digest),
            ],
            &release_key,
            true,
        ),
    );
    let error = refused(try_start(Some(good.clone()), None).await);
    assert!(error.contains("go together"), "{error}");

    // The binary is not a subject.
    let no_binary = write(
        "no-binary.dsse.json",
        release(
            vec![subject("keys/tier-4/verifying_key.bin", &key_digest)],
            &release_key,
            true,
        ),
    );
    let error = refused(try_start(Some(no_binary), Some(public_key.clone())).await);
    assert!(error.contains("running binary"), "{error}");

    // A verifying key is not a subject (not signed by the release).
    let no_key = write(
        "no-key.dsse.json",
        release(vec![subject("zktx", &binary)], &release_key, true),
    );
    let error = refused(try_start(Some(no_key), Some(public_key.clone())).await);
    assert!(error.contains("verifying key of tier 4"), "{error}");

    // Signed with a throwaway key (unofficial).
    let unofficial = write(
        "unofficial.dsse.json",
        release(
            vec![
                subject("zktx", &binary),
                subject("keys/tier-4/verifying_key.bin", &key_digest),
            ],
            &release_key,
            false,
        ),
    );
    let error = refused(try_start(Some(unofficial), Some(public_key.clone())).await);
    assert!(error.contains("UNOFFICIAL"), "{error}");

    // Another release key: the signature does not check.
    let stranger = hex::encode(SigningKey::from_bytes(&[22; 32]).verifying_key().as_bytes());
    let error = refused(try_start(Some(good.clone()), Some(stranger)).await);
    assert!(error.contains("signatures"), "{error}");

    // The official release covering both starts, and its attestation says so.
    let server = try_start(Some(good.clone()), Some(public_key))
        .await
        .expect("prod starts with an official release");
    let signer = ReceiptSigner::load_existing(
        &DataDir::new(data.path().join("server")).receipt_signing_key(),
    )
    .unwrap();
    let envelope = server.service().attestation().await.unwrap();
    let doc = Attestation::open(&envelope, &signer.key().verifying_key()).unwrap();
    assert!(doc.provenance_verified);
    assert_eq!(doc.profile, "prod");
    assert_eq!(
        doc.provenance_sha256.as_deref(),
        Some(file_sha256(&good).unwrap().as_str())
    );
    server.shutdown().await;
}
