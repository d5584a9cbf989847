//! The gRPC transport: one multiplexed HTTP/2 connection (tonic's `Channel`,
//! which reconnects by itself), each call carrying its deadline as `grpc-timeout`.

use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use zktx_proto::receipt::{self, Receipt, ReceiptVerdict};
use zktx_proto::rest::{RestAttestationEnvelope, RestCircuit, RestReceiptKey, UsageReport};
use zktx_proto::v1::{self, verifier_client::VerifierClient};

use crate::{Error, Proof, Verification};

/// Calls over one gRPC channel.
#[derive(Clone, Debug)]
pub(crate) struct Grpc {
    pub(crate) channel: Channel,
}

/// A request with the caller's API key and, if given, its deadline.
pub(crate) fn request<T>(
    message: T,
    api_key: &str,
    timeout: Option<Duration>,
) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {api_key}").parse::<MetadataValue<_>>() {
        request.metadata_mut().insert("authorization", value);
    }
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    request
}

/// A verify response as the client's result.
pub(crate) fn verification(response: v1::VerifyResponse) -> Result<Verification, Error> {
    let verdict = match v1::Verdict::try_from(response.verdict) {
        Ok(v1::Verdict::Valid) => ReceiptVerdict::Valid,
        Ok(v1::Verdict::Invalid) => ReceiptVerdict::Invalid,
        _ => {
            return Err(Error::malformed(
                "a verdict that is neither valid nor invalid",
            ))
        }
    };
    let receipt = response
        .receipt
        .ok_or_else(|| Error::malformed("a verdict without its receipt"))?;
    Ok(Verification {
        verdict,
        reason: response.reason,
        receipt: receipt::from_message(receipt),
        replayed: response.replayed,
    })
}

/// A batch item's or stream message's result.
pub(crate) fn item(result: Option<v1::ItemResult>) -> Result<Verification, Error> {
    match result.and_then(|r| r.outcome) {
        Some(v1::item_result::Outcome::Response(response)) => verification(response),
        Some(v1::item_result::Outcome::Error(error)) => Err(Error::from_item(error)),
        None => Err(Error::malformed("an item without a result")),
    }
}

impl Grpc {
    fn client(&self) -> VerifierClient<Channel> {
        VerifierClient::new(self.channel.clone())
    }

    pub(crate) async fn verify(
        &self,
        key: &str,
        proof: &Proof,
        timeout: Duration,
    ) -> Result<Verification, Error> {
        let message = v1::VerifyRequest {
            submission: Some(proof.to_message()),
        };
        let response = self
            .client()
            .verify(request(message, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?;
        verification(response.into_inner())
    }

    pub(crate) async fn verify_batch(
        &self,
        key: &str,
        proofs: &[Proof],
        timeout: Duration,
    ) -> Result<Vec<Result<Verification, Error>>, Error> {
        let message = v1::VerifyBatchRequest {
            items: proofs.iter().map(Proof::to_message).collect(),
        };
        let response = self
            .client()
            .verify_batch(request(message, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?
            .into_inner();
        if response.results.len() != proofs.len() {
            return Err(Error::malformed(
                "a batch answer with another number of results",
            ));
        }
        Ok(response
            .results
            .into_iter()
            .map(|r| item(Some(r)))
            .collect())
    }

    pub(crate) async fn receipt(
        &self,
        key: &str,
        id: &str,
        timeout: Duration,
    ) -> Result<Receipt, Error> {
        let message = v1::GetReceiptRequest { id: id.to_string() };
        let response = self
            .client()
            .get_receipt(request(message, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?;
        Ok(receipt::from_message(response.into_inner()))
    }

    pub(crate) async fn circuits(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Vec<RestCircuit>, Error> {
        let response = self
            .client()
            .list_circuits(request(v1::ListCircuitsRequest {}, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?;
        Ok(response
            .into_inner()
            .circuits
            .into_iter()
            .map(|c| RestCircuit {
                circuit: c.circuit,
                tier: c.tier as usize,
                key_fingerprint: c.key_fingerprint,
                constraints: c.constraints,
                dev_keys: c.dev_keys,
                allowed: c.allowed,
            })
            .collect())
    }

    pub(crate) async fn usage(&self, key: &str, timeout: Duration) -> Result<UsageReport, Error> {
        let response = self
            .client()
            .get_usage(request(v1::GetUsageRequest {}, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?
            .into_inner();
        Ok(UsageReport {
            tenant: response.tenant,
            plan: response.plan,
            utc_day: response.utc_day,
            proofs_today: response.proofs_today,
            daily_quota: response.daily_quota,
            max_batch: response.max_batch as usize,
            requests_per_second: response.requests_per_second,
        })
    }

    pub(crate) async fn receipt_key(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<RestReceiptKey, Error> {
        let response = self
            .client()
            .get_receipt_key(request(v1::GetReceiptKeyRequest {}, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?
            .into_inner();
        Ok(RestReceiptKey {
            algorithm: response.algorithm,
            public_key: response.public_key,
        })
    }

    pub(crate) async fn attestation(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<RestAttestationEnvelope, Error> {
        let response = self
            .client()
            .get_attestation(request(v1::GetAttestationRequest {}, key, Some(timeout)))
            .await
            .map_err(|s| Error::from_status(&s))?
            .into_inner();
        serde_json::from_str(&response.envelope_json)
            .map_err(|_| Error::malformed("the attestation is not a DSSE envelope"))
    }

    /// A `VerifyStream` call: the stream of answers, or the call's refusal.
    pub(crate) async fn open_stream<S>(
        &self,
        key: &str,
        outbound: S,
    ) -> Result<tonic::Streaming<v1::VerifyStreamResponse>, Error>
    where
        S: tokio_stream::Stream<Item = v1::VerifyStreamRequest> + Send + 'static,
    {
        let response = self
            .client()
            .verify_stream(request(outbound, key, None))
            .await
            .map_err(|s| Error::from_status(&s))?;
        Ok(response.into_inner())
    }
}
