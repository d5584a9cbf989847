//! Every method on both transports, receipts checked offline.

use futures_util::StreamExt;
use zktx_client::{Client, Protocol, ReceiptError, ReceiptVerdict};

use crate::{proof, TestServer, PROOFS, PROTOCOLS};

/// Proofs `0..n`, with proof `invalid` claiming another bound (it then
/// verifies as invalid) and proof `malformed` cut short (refused).
fn proofs(n: usize, invalid: usize, malformed: usize) -> Vec<zktx_client::Proof> {
    (0..n)
        .map(|i| {
            let mut p = proof(i);
            if i == invalid {
                p.public_inputs.k += 1;
            }
            if i == malformed {
                p.proof.truncate(10);
            }
            p
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_answers_the_same_on_both_transports() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        let client = t.client(protocol, "open").await;
        assert_eq!(client.protocol(), protocol);

        // The test's tier 4 and the sandbox's 16 and 64.
        let circuits = client.circuits().await.unwrap();
        let tiers: Vec<usize> = circuits.iter().map(|c| c.tier).collect();
        assert_eq!(tiers, [4, 16, 64], "{protocol:?}");
        assert!(circuits.iter().all(|c| c.allowed && c.dev_keys));

        let usage = client.usage().await.unwrap();
        assert_eq!((usage.tenant.as_str(), usage.max_batch), ("open", 8));
        assert_eq!(client.max_batch().await.unwrap(), 8);

        let key = client.receipt_key().await.unwrap();
        assert_eq!(key.algorithm, "ed25519");

        let answer = client.verify(&proof(0)).await.unwrap();
        assert_eq!(answer.verdict, ReceiptVerdict::Valid);
        // The first transport's call was fresh; the second's is its replay.
        assert_eq!(answer.replayed, protocol == Protocol::Rest);
        Client::verify_receipt(&answer.receipt, &key.public_key).unwrap();
        let fetched = client.receipt(&answer.receipt.id).await.unwrap();
        assert_eq!(fetched, answer.receipt);

        // A receipt altered in any signed field is refused offline.
        let mut tampered = answer.receipt.clone();
        tampered.verdict = ReceiptVerdict::Invalid;
        assert!(matches!(
            Client::verify_receipt(&tampered, &key.public_key),
            Err(ReceiptError::BadSignature)
        ));
        let mut tampered = answer.receipt.clone();
        tampered.tenant = "someone-else".into();
        assert!(Client::verify_receipt(&tampered, &key.public_key).is_err());

        // Another tenant over the same connection: the sandbox's capped one.
        let capped = client.with_api_key(t.capped_key());
        assert_eq!(capped.usage().await.unwrap().tenant, "capped");
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_split_by_the_plan_and_answered_in_order() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        let client = t.client(protocol, "open").await;
        // Ten proofs against a plan of eight: two calls, one result per proof.
        let sent = proofs(10, 9, 3);
        let results = client.verify_batch(&sent).await.unwrap();
        assert_eq!(results.len(), 10, "{protocol:?}");
        for (i, result) in results.iter().enumerate() {
            match i {
                3 => {
                    let error = result.as_ref().unwrap_err();
                    assert_eq!(error.code, zktx_client::StatusCode::InvalidArgument);
                    let field = error.field.as_deref().unwrap_or_default();
                    assert!(field.ends_with("proof"), "{protocol:?}: {field}");
                }
                9 => assert_eq!(result.as_ref().unwrap().verdict, ReceiptVerdict::Invalid),
                _ => assert_eq!(result.as_ref().unwrap().verdict, ReceiptVerdict::Valid),
            }
        }
        assert_eq!(client.verify_batch(&[]).await.unwrap().len(), 0);
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_answers_every_proof_once() {
    let t = TestServer::start().await;
    for protocol in PROTOCOLS {
        let client = t.client(protocol, "open").await;
        let sent = proofs(PROOFS, 5, 7);
        let mut answers: Vec<_> = client
            .verify_stream(futures_util::stream::iter(sent))
            .collect()
            .await;
        answers.sort_by_key(|a| a.index);
        let indices: Vec<usize> = answers.iter().map(|a| a.index).collect();
        assert_eq!(indices, (0..PROOFS).collect::<Vec<_>>(), "{protocol:?}");
        for answer in &answers {
            match answer.index {
                5 => assert_eq!(
                    answer.result.as_ref().unwrap().verdict,
                    ReceiptVerdict::Invalid
                ),
                7 => {
                    let error = answer.result.as_ref().unwrap_err();
                    assert_eq!(error.code, zktx_client::StatusCode::InvalidArgument);
                }
                _ => assert_eq!(
                    answer.result.as_ref().unwrap().verdict,
                    ReceiptVerdict::Valid
                ),
            }
        }
    }
    t.shutdown().await;
}
