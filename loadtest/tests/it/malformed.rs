//! Bytes that are not the message a method takes, sent to a real server over
//! gRPC: each gets INVALID_ARGUMENT (or, when they happen to decode, the
//! answer their fields deserve), never INTERNAL or UNKNOWN, which would tell
//! the partner and our alerts that the server failed; and the server keeps
//! answering valid calls. A stream with a bad message answers the items
//! before it, then ends with INVALID_ARGUMENT. REST answers damaged JSON with
//! a 4xx. Damage that still decodes gets a verdict, and never a fresh `valid`
//! for anything but the undamaged request (up to the case of hex letters); a
//! replay of a statement already proven answers with its earlier receipt.

use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tonic::Code;
use zktx_circuits::{Fr, SetOpening};
use zktx_loadtest::client::submission;
use zktx_loadtest::wire::UnaryChannel;
use zktx_proto::v1;
use zktx_prover::prove_envelope;
use zktx_server::tenants::new_api_key;
use zktx_verifier::BatchItem;

use crate::{loopback_config, plan, tenant, tier4_keys};

const VERIFY: &str = "/zktx.v1.Verifier/Verify";
const VERIFY_BATCH: &str = "/zktx.v1.Verifier/VerifyBatch";
const GET_RECEIPT: &str = "/zktx.v1.Verifier/GetReceipt";
const VERIFY_STREAM: &str = "/zktx.v1.Verifier/VerifyStream";

/// The codes a malformed request may get: about the request, not the server.
fn about_the_request(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied | Code::OutOfRange
    )
}

/// Every way to damage `valid`: each truncation, one flipped bit per byte,
/// and random bytes of random lengths.
fn damaged(valid: &[u8], rng: &mut ChaCha20Rng) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (1..valid.len()).map(|n| valid[..n].to_vec()).collect();
    for i in 0..valid.len() {
        let mut flipped = valid.to_vec();
        flipped[i] ^= 1 << rng.gen_range(0..8);
        out.push(flipped);
    }
    for _ in 0..100 {
        let len = rng.gen_range(1..600);
        out.push((0..len).map(|_| rng.gen()).collect());
    }
    out
}

/// Whether `damaged` decodes to the same request as `valid` but for the case
/// of letters in its strings (hex the server may read either way).
fn same_request_but_case(valid: &[u8], damaged: &[u8]) -> bool {
    let (Ok(a), Ok(b)) = (
        v1::VerifyRequest::decode(valid),
        v1::VerifyRequest::decode(damaged),
    ) else {
        return false;
    };
    let (Some(a), Some(b)) = (a.submission, b.submission) else {
        return false;
    };
    let (Some(x), Some(y)) = (&a.public_inputs, &b.public_inputs) else {
        return false;
    };
    a.proof == b.proof
        && a.key_fingerprint.eq_ignore_ascii_case(&b.key_fingerprint)
        && x.k == y.k
        && x.commit_a.eq_ignore_ascii_case(&y.commit_a)
        && x.commit_b.eq_ignore_ascii_case(&y.commit_b)
        && x.context.eq_ignore_ascii_case(&y.context)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_invalid_arguments_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (tier, keys) = tier4_keys(dir.path(), "malformed-it");
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let a = SetOpening::with_random_salt(tier, [11, 12, 13], &mut rng).unwrap();
    let b = SetOpening::with_random_salt(tier, [13, 14], &mut rng).unwrap();
    let envelope = prove_envelope(&keys, &a, &b, 1, Fr::from(9u64), &mut rng).unwrap();
    let item = BatchItem::from_envelope(&envelope).unwrap();

    let api_key = new_api_key();
    let mut config = loopback_config(dir.path(), &keys);
    config.plans.insert("open".into(), plan(1_000_000));
    config.tenants = vec![tenant("acme", "open", &api_key)];
    let server = zktx_server::start(config).await.unwrap();
    let channel = UnaryChannel::connect(server.grpc_addr).await.unwrap();
    let bearer = format!("Bearer {api_key}");
    let auth = [("authorization", bearer.as_str())];

    let verify = v1::VerifyRequest {
        submission: Some(submission(&item)),
    }
    .encode_to_vec();
    let batch = v1::VerifyBatchRequest {
        items: vec![submission(&item), submission(&item)],
    }
    .encode_to_vec();
    let receipt = v1::GetReceiptRequest {
        id: "ab".repeat(16),
    }
    .encode_to_vec();

    let mut refused = 0;
    for (path, valid) in [
        (VERIFY, &verify),
        (VERIFY_BATCH, &batch),
        (GET_RECEIPT, &receipt),
    ] {
        for bytes in damaged(valid, &mut rng) {
            match channel.unary_bytes(path, &bytes, &auth).await {
                Ok(answer) if path == VERIFY => {
                    let answer = v1::VerifyResponse::decode(answer).unwrap();
                    // Replay or not, `valid` is about the submitted proof.
                    if answer.verdict() == v1::Verdict::Valid {
                        assert!(
                            same_request_but_case(&verify, &bytes),
                            "damaged bytes verified as valid"
                        );
                    }
                }
                Ok(_) => {}
                Err(status) => {
                    assert!(
                        about_the_request(status.code()),
                        "{path} with {} damaged bytes: {:?} {}",
                        bytes.len(),
                        status.code(),
                        status.message()
                    );
                    refused += 1;
                }
            }
        }
    }
    // Truncations alone leave most messages undecodable.
    assert!(
        refused > 300,
        "only {refused} damaged messages were refused"
    );

    // Undecodable bytes say so, in words a partner can act on.
    let status = channel
        .unary_bytes(VERIFY, &verify[..verify.len() / 2], &auth)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("zktx.v1.VerifyRequest"),
        "{}",
        status.message()
    );

    // In a stream, the items before a bad message are answered, then the
    // call ends with INVALID_ARGUMENT instead of closing as if all were well.
    let first = v1::VerifyStreamRequest {
        sequence: 41,
        submission: Some(submission(&item)),
    }
    .encode_to_vec();
    let (status, body) = channel
        .frames(VERIFY_STREAM, &[&first, &first[..first.len() - 3]], &auth)
        .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert!(
        status.message().contains("zktx.v1.VerifyStreamRequest"),
        "{}",
        status.message()
    );
    assert!(body.len() > 5, "the first item was not answered");
    let answered = v1::VerifyStreamResponse::decode(&body[5..]).unwrap();
    assert_eq!(answered.sequence, 41);

    // Still serving: the undamaged proof verifies.
    let answer: v1::VerifyResponse = channel
        .unary(
            VERIFY,
            &v1::VerifyRequest {
                submission: Some(submission(&item)),
            },
            &auth,
        )
        .await
        .unwrap();
    assert_eq!(answer.verdict(), v1::Verdict::Valid);

    // REST: damaged JSON bodies are 4xx, never 5xx; the whole body is 200.
    let json = serde_json::to_vec(&serde_json::json!({
        "key_fingerprint": envelope.vk_fingerprint,
        "public_inputs": envelope.public_inputs,
        "proof": envelope.proof,
    }))
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{}/v1/verify", server.http_addr);
    let post = |body: Vec<u8>| {
        http.post(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let damaged_json = damaged(&json, &mut rng);
    for body in damaged_json.iter().step_by(3) {
        let response = post(body.clone()).await.unwrap();
        let status = response.status();
        if status == reqwest::StatusCode::OK {
            // Damage that leaves a well-formed request (another proof, another
            // k) is a verdict; valid only if the damage was a letter's case.
            let answer: serde_json::Value = response.json().await.unwrap();
            if answer["verdict"] == "valid" && answer["replayed"] == false {
                assert!(body.eq_ignore_ascii_case(&json), "a damaged body verified");
            }
            continue;
        }
        assert!(
            status.is_client_error(),
            "{status} for a damaged body of {} bytes",
            body.len()
        );
    }
    assert_eq!(post(json).await.unwrap().status(), reqwest::StatusCode::OK);
    server.shutdown().await;
}
