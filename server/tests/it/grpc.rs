//! gRPC: verdicts, receipts, replays, batches, streams, listing, health, reflection.

use tokio_stream::StreamExt;
use zktx_proto::receipt;
use zktx_proto::v1;

use crate::harness::{authed, fixture, submission, with_k, TestServer};

fn verify_request(envelope: &zktx_formats::ProofEnvelope) -> v1::VerifyRequest {
    v1::VerifyRequest {
        submission: Some(submission(envelope)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_proof_gets_a_signed_receipt_that_checks_offline() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let response = client
        .verify(authed(verify_request(&fixture().proofs[0]), key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.verdict, v1::Verdict::Valid as i32);
    assert!(!response.replayed);
    let receipt = receipt::from_message(response.receipt.unwrap());
    assert_eq!(receipt.tenant, "open");
    assert_eq!(receipt.key_fingerprint, fixture().proofs[0].vk_fingerprint);

    let server_key = client
        .get_receipt_key(authed(v1::GetReceiptKeyRequest {}, key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(server_key.algorithm, "ed25519");
    receipt.verify(&server_key.public_key).unwrap();

    let fetched = client
        .get_receipt(authed(
            v1::GetReceiptRequest {
                id: receipt.id.clone(),
            },
            key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(receipt::from_message(fetched), receipt);
    // Another tenant cannot see it.
    let other = client
        .get_receipt(authed(
            v1::GetReceiptRequest {
                id: receipt.id.clone(),
            },
            t.key("tier4only"),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::NotFound);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_that_does_not_verify_is_a_normal_invalid_response() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let response = client
        .verify(authed(
            verify_request(&with_k(&fixture().proofs[1], 3)),
            t.key("open"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.verdict, v1::Verdict::Invalid as i32);
    assert!(
        response.reason.contains("does not verify"),
        "{}",
        response.reason
    );
    let receipt = response.receipt.unwrap();
    assert_eq!(receipt.verdict, v1::Verdict::Invalid as i32);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_statement_replays_its_receipt_unmetered_and_an_invalid_one_is_verified_afresh() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let key = t.key("open");
    let proof = &fixture().proofs[2];
    let first = client
        .verify(authed(verify_request(proof), key))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .verify(authed(verify_request(proof), key))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.receipt.unwrap().id, first.receipt.unwrap().id);
    let quotas = t.server().service().quotas();
    assert_eq!(quotas.usage("open"), (1, 0), "a replay is not metered");

    // Same statement for another tenant: verified and metered for that tenant.
    let other = client
        .verify(authed(verify_request(proof), t.key("tier4only")))
        .await
        .unwrap()
        .into_inner();
    assert!(!other.replayed);

    let bad = with_k(&fixture().proofs[3], 0);
    let one = client
        .verify(authed(verify_request(&bad), key))
        .await
        .unwrap()
        .into_inner();
    let two = client
        .verify(authed(verify_request(&bad), key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(two.verdict, v1::Verdict::Invalid as i32);
    assert!(!two.replayed);
    assert_ne!(one.receipt.unwrap().id, two.receipt.unwrap().id);
    assert_eq!(quotas.usage("open"), (3, 0));
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_batch_gets_one_result_per_item_in_order() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let f = fixture();
    let mut short = submission(&f.proofs[4]);
    short.proof.truncate(100);
    let mut garbage = submission(&f.proofs[4]);
    garbage.proof = vec![0xff; 192];
    let mut unknown_key = submission(&f.proofs[4]);
    unknown_key.key_fingerprint = "ab".repeat(32);
    let mut bad_input = submission(&f.proofs[4]);
    bad_input.public_inputs.as_mut().unwrap().context = "zz".into();
    let items = vec![
        submission(&f.proofs[4]),
        submission(&with_k(&f.proofs[5], 4)),
        short,
        garbage,
        unknown_key,
        bad_input,
        submission(&f.proofs[5]),
    ];
    let results = client
        .verify_batch(authed(v1::VerifyBatchRequest { items }, t.key("open")))
        .await
        .unwrap()
        .into_inner()
        .results;
    use v1::item_result::Outcome;
    let describe: Vec<String> = results
        .iter()
        .map(|r| match r.outcome.as_ref().unwrap() {
            Outcome::Response(v) => format!("verdict {}", v.verdict),
            Outcome::Error(e) => format!("{} {}", e.code, e.field),
        })
        .collect();
    assert_eq!(
        describe,
        [
            "verdict 1",
            "verdict 2",
            "INVALID_ARGUMENT items[2].proof",
            "INVALID_ARGUMENT items[3].proof",
            "NOT_FOUND ",
            "INVALID_ARGUMENT items[5].public_inputs.context",
            "verdict 1",
        ]
    );
    // Only the three verified items are metered.
    assert_eq!(t.server().service().quotas().usage("open").0, 3);
    // Their receipts are signed as one group (the call commits them together),
    // and each checks offline on its own.
    let public_key = t.server().service().receipt_public_key();
    let receipts: Vec<_> = results
        .into_iter()
        .filter_map(|r| match r.outcome.unwrap() {
            Outcome::Response(v) => Some(receipt::from_message(v.receipt.unwrap())),
            Outcome::Error(_) => None,
        })
        .collect();
    assert_eq!(receipts.len(), 3);
    for (i, receipt) in receipts.iter().enumerate() {
        receipt.verify(&public_key).unwrap();
        let batch = receipt.batch.as_ref().unwrap();
        assert_eq!((batch.size, batch.index), (3, i as u64));
        assert_eq!(receipt.signature, receipts[0].signature);
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_answers_every_message_with_its_sequence_number() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let f = fixture();
    let messages: Vec<v1::VerifyStreamRequest> = (0..6u64)
        .map(|i| v1::VerifyStreamRequest {
            sequence: 100 + i,
            submission: Some(submission(&if i.is_multiple_of(2) {
                f.proofs[6 + (i as usize / 2)].clone()
            } else {
                with_k(&f.proofs[6], 0)
            })),
        })
        .collect();
    let request = authed(tokio_stream::iter(messages), t.key("open"));
    let mut responses = client.verify_stream(request).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while let Some(message) = responses.next().await {
        let message = message.unwrap();
        let Some(v1::item_result::Outcome::Response(r)) = message.result.unwrap().outcome else {
            panic!("every stream item verifies");
        };
        let expected = if message.sequence.is_multiple_of(2) {
            v1::Verdict::Valid
        } else {
            v1::Verdict::Invalid
        };
        assert_eq!(r.verdict, expected as i32, "sequence {}", message.sequence);
        seen.push(message.sequence);
    }
    seen.sort();
    assert_eq!(seen, (100..106).collect::<Vec<_>>());
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuits_health_and_reflection() {
    let t = TestServer::start().await;
    let mut client = t.grpc().await;
    let circuits = client
        .list_circuits(authed(v1::ListCircuitsRequest {}, t.key("tier4only")))
        .await
        .unwrap()
        .into_inner()
        .circuits;
    let summary: Vec<(u32, bool, bool)> = circuits
        .iter()
        .map(|c| (c.tier, c.dev_keys, c.allowed))
        .collect();
    assert_eq!(summary, [(4, true, true), (8, true, false)]);
    assert!(circuits
        .iter()
        .all(|c| c.constraints > 0 && c.key_fingerprint.len() == 64));

    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", t.server().grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "zktx.v1.Verifier".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"zktx.v1.Verifier".to_string()), "{names:?}");
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
    t.shutdown().await;
}
