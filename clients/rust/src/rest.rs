//! The REST transport: JSON over a pooled HTTP/1.1 client (reqwest), each
//! call carrying its deadline in `x-zktx-timeout-ms`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use zktx_proto::receipt::Receipt;
use zktx_proto::rest::{
    ErrorBody, RestAttestationEnvelope, RestBatchRequest, RestBatchResponse, RestCircuit,
    RestReceiptKey, UsageReport,
};
use zktx_proto::status::{Code, TIMEOUT_HEADER};

use crate::{Error, Proof, Verification};

/// Calls to one REST base address.
#[derive(Clone, Debug)]
pub(crate) struct Rest {
    pub(crate) http: reqwest::Client,
    /// e.g. `http://127.0.0.1:8080`, without a trailing slash.
    pub(crate) base: String,
}

impl Rest {
    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        key: &str,
        timeout: Duration,
    ) -> Result<T, Error> {
        let response = request
            .bearer_auth(key)
            .header(TIMEOUT_HEADER, timeout.as_millis().to_string())
            .timeout(timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            response.json::<T>().await.map_err(|e| {
                if e.is_timeout() {
                    Error::deadline()
                } else {
                    Error::malformed("not the documented JSON")
                }
            })
        } else {
            let body = response.json::<ErrorBody>().await.ok();
            Err(Error::from_body(status, body))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn verify(
        &self,
        key: &str,
        proof: &Proof,
        timeout: Duration,
    ) -> Result<Verification, Error> {
        let request = self
            .http
            .post(self.url("/v1/verify"))
            .json(&proof.to_rest());
        self.call(request, key, timeout).await
    }

    pub(crate) async fn verify_batch(
        &self,
        key: &str,
        proofs: &[Proof],
        timeout: Duration,
    ) -> Result<Vec<Result<Verification, Error>>, Error> {
        let body = RestBatchRequest {
            items: proofs.iter().map(Proof::to_rest).collect(),
        };
        let request = self.http.post(self.url("/v1/verify/batch")).json(&body);
        let answer: RestBatchResponse = self.call(request, key, timeout).await?;
        if answer.results.len() != proofs.len() {
            return Err(Error::malformed(
                "a batch answer with another number of results",
            ));
        }
        Ok(answer
            .results
            .into_iter()
            .map(|r| match (r.response, r.error) {
                (Some(response), None) => Ok(response),
                (None, Some(error)) => Err(Error::from_body(0, Some(error))),
                _ => Err(Error::malformed(
                    "an item with neither or both of response and error",
                )),
            })
            .collect())
    }

    pub(crate) async fn receipt(
        &self,
        key: &str,
        id: &str,
        timeout: Duration,
    ) -> Result<Receipt, Error> {
        // An id is 32 hex digits; anything else could change the path.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error {
                field: Some("id".into()),
                ..Error::new(Code::InvalidArgument, "a receipt id is 32 hex digits")
            });
        }
        let request = self.http.get(self.url(&format!("/v1/receipts/{id}")));
        self.call(request, key, timeout).await
    }

    pub(crate) async fn circuits(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Vec<RestCircuit>, Error> {
        self.call(self.http.get(self.url("/v1/circuits")), key, timeout)
            .await
    }

    pub(crate) async fn usage(&self, key: &str, timeout: Duration) -> Result<UsageReport, Error> {
        self.call(self.http.get(self.url("/v1/usage")), key, timeout)
            .await
    }

    pub(crate) async fn receipt_key(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<RestReceiptKey, Error> {
        self.call(self.http.get(self.url("/v1/receipt-key")), key, timeout)
            .await
    }

    pub(crate) async fn attestation(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<RestAttestationEnvelope, Error> {
        self.call(self.http.get(self.url("/v1/attestation")), key, timeout)
            .await
    }
}

/// A request that got no HTTP answer: the deadline, or the server unreachable.
fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::deadline()
    } else {
        Error::new(
            Code::Unavailable,
            // Without the URL, which could carry a receipt id.
            format!("the server could not be reached: {}", error.without_url()),
        )
    }
}
