//! No set member, salt, proof byte or API key reaches a log line or a metric.

use base64::Engine;
use zktx_proto::v1;

use crate::harness::{
    authed, fixture, fr_hex, logs, proof_bytes, rest_body, submission, with_k, TestServer,
    MEMBERS_A, MEMBERS_B,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_metrics_hold_no_private_data() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open").to_string();
    let f = fixture();
    // Traffic of every kind: valid, invalid, malformed, unauthenticated, REST.
    for envelope in [&f.proofs[0], &with_k(&f.proofs[1], 0)] {
        client
            .verify(authed(
                v1::VerifyRequest {
                    submission: Some(submission(envelope)),
                },
                &key,
            ))
            .await
            .unwrap();
    }
    let mut bad = submission(&f.proofs[2]);
    bad.proof[5] ^= 0x40;
    let _ = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(bad),
            },
            &key,
        ))
        .await;
    let _ = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(submission(&f.proofs[2])),
            },
            "zktx_secret_guess",
        ))
        .await;
    let http = reqwest::Client::new();
    http.post(t.url("/v1/verify"))
        .bearer_auth(&key)
        .json(&rest_body(&f.proofs[3]))
        .send()
        .await
        .unwrap();
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    t.shutdown().await;

    let logs = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"request_id\"") && logs.contains("grpc.Verify"),
        "the logs were captured"
    );
    let (a, b) = &f.openings;
    let mut secrets: Vec<String> = Vec::new();
    for member in MEMBERS_A.iter().chain(&MEMBERS_B) {
        secrets.push(member.to_string());
        secrets.push(format!("{member:x}"));
    }
    secrets.push(fr_hex(&a.salt()));
    secrets.push(fr_hex(&b.salt()));
    secrets.push(key.clone());
    secrets.push("zktx_secret_guess".into());
    for envelope in &f.proofs[..4] {
        secrets.push(envelope.proof.clone());
        secrets.push(hex::encode(proof_bytes(envelope)));
        // Any 16-byte window of the proof, in base64 or hex.
        let bytes = proof_bytes(envelope);
        secrets.push(base64::engine::general_purpose::STANDARD.encode(&bytes[..24]));
        secrets.push(hex::encode(&bytes[..16]));
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a log line holds private data ({} chars)",
            secret.len()
        );
        assert!(
            !metrics.contains(secret.as_str()),
            "a metric holds private data"
        );
    }
}
