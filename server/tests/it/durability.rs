//! Restarts keep receipts and quota state.

use zktx_proto::receipt;
use zktx_proto::v1;

use crate::harness::{authed, fixture, submission, with_k, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_receipt_and_the_daily_count() {
    let t = TestServer::start().await;
    let key = t.key("small").to_string();
    let mut client = t.grpc().await;
    let proofs = &fixture().proofs;
    let mut receipts = Vec::new();
    for envelope in [&proofs[0], &with_k(&proofs[1], 0), &proofs[2]] {
        let response = client
            .verify(authed(
                v1::VerifyRequest {
                    submission: Some(submission(envelope)),
                },
                &key,
            ))
            .await
            .unwrap()
            .into_inner();
        receipts.push(receipt::from_message(response.receipt.unwrap()));
    }
    let public_key = t.server().service().receipt_public_key();
    let t = t.restart().await;
    assert_eq!(
        t.server().service().receipt_public_key(),
        public_key,
        "same signing key"
    );
    assert_eq!(t.server().service().quotas().usage("small"), (3, 0));
    let mut client = t.grpc().await;
    for receipt in &receipts {
        let fetched = client
            .get_receipt(authed(
                v1::GetReceiptRequest {
                    id: receipt.id.clone(),
                },
                &key,
            ))
            .await
            .unwrap()
            .into_inner();
        let fetched = receipt::from_message(fetched);
        assert_eq!(&fetched, receipt);
        fetched.verify(&public_key).unwrap();
    }
    // A replay after the restart is still free; the quota (4) has one proof left.
    let replay = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(submission(&proofs[0])),
            },
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(replay.replayed);
    client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(submission(&proofs[3])),
            },
            &key,
        ))
        .await
        .unwrap();
    let exhausted = client
        .verify(authed(
            v1::VerifyRequest {
                submission: Some(submission(&proofs[4])),
            },
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(exhausted.code(), tonic::Code::ResourceExhausted);
    t.shutdown().await;
}
