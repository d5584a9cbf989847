//! Verifies a proof file with the zktx service, then checks the receipt it
//! got back offline, against the service's receipt-signing key.
//!
//! ```text
//! ZKTX_API_KEY=zk_... cargo run -p zktx-client --example verify -- proof.json
//! ZKTX_API_KEY=zk_... cargo run -p zktx-client --example verify -- proof.json --rest http://127.0.0.1:8080
//! ```
//! Without an address it calls gRPC at `http://127.0.0.1:50051` (`zktx serve`'s default).

use std::time::Duration;

use zktx_client::{Client, Proof, Protocol, ReceiptVerdict};

/// What the example found out about one proof.
#[derive(Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: ReceiptVerdict,
    /// The receipt's id.
    pub receipt_id: String,
    /// True when the service answered with an earlier receipt for the same statement.
    pub replayed: bool,
}

/// Verifies the proof file `proof_json` at `address` with `api_key`, and
/// checks the receipt offline: the example's whole job, callable from tests.
pub async fn verify_file(
    address: &str,
    protocol: Protocol,
    api_key: &str,
    proof_json: &str,
) -> anyhow::Result<Outcome> {
    let client = Client::builder(address, api_key)
        .protocol(protocol)
        .timeout(Duration::from_secs(10))
        .connect()
        .await?;
    let proof = Proof::from_json(proof_json)?;
    let answer = client.verify(&proof).await?;
    // Keep the service's key: a receipt then checks with no call at all.
    let key = client.receipt_key().await?;
    Client::verify_receipt(&answer.receipt, &key.public_key)?;
    Ok(Outcome {
        verdict: answer.verdict,
        receipt_id: answer.receipt.id,
        replayed: answer.replayed,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        anyhow::bail!("usage: verify PROOF.json [--rest] [ADDRESS]  (API key in ZKTX_API_KEY)");
    };
    let mut protocol = Protocol::Grpc;
    let mut address = None;
    for arg in args {
        match arg.as_str() {
            "--rest" => protocol = Protocol::Rest,
            other => address = Some(other.to_string()),
        }
    }
    let address = address.unwrap_or_else(|| match protocol {
        Protocol::Grpc => "http://127.0.0.1:50051".into(),
        Protocol::Rest => "http://127.0.0.1:8080".into(),
    });
    let api_key = std::env::var("ZKTX_API_KEY")
        .map_err(|_| anyhow::anyhow!("set ZKTX_API_KEY to your API key"))?;
    let text = std::fs::read_to_string(&path)?;
    let outcome = verify_file(&address, protocol, &api_key, &text).await?;
    println!(
        "{}: {:?}{}; receipt {} checked offline",
        path,
        outcome.verdict,
        if outcome.replayed { " (replayed)" } else { "" },
        outcome.receipt_id
    );
    Ok(())
}
