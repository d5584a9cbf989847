//! The example's code (`examples/verify.rs`) against a real server.

#[allow(dead_code)]
#[path = "../../examples/verify.rs"]
mod verify_example;

use zktx_client::ReceiptVerdict;

use crate::{api_key, fixture, TestServer, PROTOCOLS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_verifies_a_proof_file_and_checks_its_receipt() {
    let t = TestServer::start().await;
    let text = fixture().envelopes[2].to_json();
    for protocol in PROTOCOLS {
        let outcome =
            verify_example::verify_file(&t.address(protocol), protocol, &api_key("open"), &text)
                .await
                .unwrap();
        assert_eq!(outcome.verdict, ReceiptVerdict::Valid);
        assert_eq!(outcome.receipt_id.len(), 32);
    }
    // A proof file that is not one is refused before any call.
    let error = verify_example::verify_file(
        &t.address(PROTOCOLS[0]),
        PROTOCOLS[0],
        &api_key("open"),
        "{}",
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("INVALID_ARGUMENT"), "{error}");
    t.shutdown().await;
}
