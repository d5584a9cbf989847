//! The gRPC front end (tonic): converts messages to the service's types and
//! errors to statuses through [`ApiError::to_status`].

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use zktx_formats::EnvelopeInputs;
use zktx_proto::lazy::LazyVerifyBatchRequest;
use zktx_proto::v1;

use crate::admission::Route;
use crate::error::ApiError;
use crate::service::{ItemResult, Service, Submission, Verification};
use crate::telemetry::{request_id, RequestLog};
use zktx_governance::entitlements::Feature;
use zktx_governance::{Method, Transport};
use zktx_proto::receipt::{to_message, verdict_message};

/// The `zktx.v1.Verifier` service.
pub struct GrpcApi {
    service: Arc<Service>,
    /// Proofs one stream may have in flight; more wait for earlier results.
    stream_in_flight: usize,
}

impl GrpcApi {
    /// The gRPC service over `service`; a `VerifyStream` has at most
    /// `stream_in_flight` proofs in flight.
    pub fn new(service: Arc<Service>, stream_in_flight: usize) -> Self {
        Self {
            service,
            stream_in_flight: stream_in_flight.max(1),
        }
    }
}

/// Parses a `grpc-timeout` value (`<digits><H|M|S|m|u|n>`, at most 8 digits).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// How much earlier than the caller's deadline the server gives up, so that
/// its DEADLINE_EXCEEDED reaches the caller before the caller's own timer
/// fires (tonic's client timer reports CANCELLED, which says less).
fn deadline_margin(timeout: Duration) -> Duration {
    (timeout / 10).min(Duration::from_millis(20))
}

struct Context {
    tenant: Arc<crate::tenants::Tenant>,
    deadline: Option<Instant>,
}

impl GrpcApi {
    fn context<T>(
        &self,
        request: &Request<T>,
        log: &mut RequestLog<'_>,
    ) -> Result<Context, ApiError> {
        let metadata = request.metadata();
        let authorization = metadata.get("authorization").and_then(|v| v.to_str().ok());
        let tenant = self.service.authenticate(authorization)?;
        log.tenant = Some(tenant.id.clone());
        let deadline = metadata
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .map(|d| Instant::now() + d - deadline_margin(d));
        Ok(Context { tenant, deadline })
    }

    /// The caller's context, with one request taken from its rate: for the
    /// methods that do not verify (verification counts its own calls).
    fn admitted<T>(
        &self,
        request: &Request<T>,
        log: &mut RequestLog<'_>,
    ) -> Result<Context, ApiError> {
        let ctx = self.context(request, log)?;
        self.service.quotas().check_rate(&ctx.tenant)?;
        Ok(ctx)
    }

    fn log<T>(&self, method: &'static str, request: &Request<T>) -> RequestLog<'_> {
        let text = |name: &str| request.metadata().get(name).and_then(|v| v.to_str().ok());
        RequestLog::start(
            self.service.metrics(),
            method,
            request_id(text("x-request-id")),
            text("traceparent"),
            text("tracestate"),
        )
    }
}

/// Answers and logs a unary call; the request id rides back in `x-request-id`.
fn respond<T>(log: RequestLog<'_>, result: Result<T, ApiError>) -> Result<Response<T>, Status> {
    let id = log
        .request_id
        .parse::<tonic::metadata::MetadataValue<_>>()
        .ok();
    match result {
        Ok(message) => {
            log.finish("OK", None);
            let mut response = Response::new(message);
            if let Some(id) = id {
                response.metadata_mut().insert("x-request-id", id);
            }
            Ok(response)
        }
        Err(error) => {
            log.finish(error.code_name(), Some(&error.to_string()));
            let mut status = error.to_status();
            if let Some(id) = id {
                status.metadata_mut().insert("x-request-id", id);
            }
            Err(status)
        }
    }
}

fn submission(message: Option<v1::ProofSubmission>, field: &str) -> Result<Submission, ApiError> {
    let s = message.ok_or_else(|| ApiError::invalid(field, "missing"))?;
    let inputs = s
        .public_inputs
        .ok_or_else(|| ApiError::invalid(format!("{field}.public_inputs"), "missing"))?;
    Ok(Submission {
        key_fingerprint: s.key_fingerprint,
        inputs: EnvelopeInputs {
            commit_a: inputs.commit_a,
            commit_b: inputs.commit_b,
            k: inputs.k,
            context: inputs.context,
        },
        proof: s.proof,
    })
}

fn verify_response(v: Verification) -> v1::VerifyResponse {
    v1::VerifyResponse {
        verdict: verdict_message(v.verdict) as i32,
        reason: v.reason,
        receipt: Some(to_message(v.receipt)),
        replayed: v.replayed,
    }
}

fn item_result(result: ItemResult) -> v1::ItemResult {
    v1::ItemResult {
        outcome: Some(match result {
            Ok(v) => v1::item_result::Outcome::Response(verify_response(v)),
            Err(e) => v1::item_result::Outcome::Error(v1::ItemError {
                code: e.code_name().to_string(),
                field: e.field().unwrap_or_default().to_string(),
                message: e.to_string(),
                reason: e.reason().map_or("", |r| r.name()).to_string(),
            }),
        }),
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<v1::VerifyStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl v1::verifier_server::Verifier for GrpcApi {
    async fn verify(
        &self,
        request: Request<v1::VerifyRequest>,
    ) -> Result<Response<v1::VerifyResponse>, Status> {
        let mut log = self.log("grpc.Verify", &request);
        log.items = 1;
        let result = async {
            let ctx = self.context(&request, &mut log)?;
            let s = submission(request.into_inner().submission, "submission")?;
            let v = self
                .service
                .verify_one(
                    &ctx.tenant,
                    s,
                    ctx.deadline,
                    Route::single(Transport::Grpc, Method::Verify),
                )
                .await?;
            Ok(verify_response(v))
        }
        .await;
        respond(log, result)
    }

    async fn verify_batch(
        &self,
        request: Request<LazyVerifyBatchRequest>,
    ) -> Result<Response<v1::VerifyBatchResponse>, Status> {
        let mut log = self.log("grpc.VerifyBatch", &request);
        let result = async {
            let ctx = self.context(&request, &mut log)?;
            let batch = request.into_inner();
            log.items = batch.len();
            // Counted against the plan before a single item is decoded.
            self.service
                .check_batch_size(&ctx.tenant, batch.len(), "items")?;
            let items = batch.decode_items().map_err(|error| {
                ApiError::invalid(
                    "items",
                    format!("not a valid zktx.v1.ProofSubmission: {error}"),
                )
            })?;
            let converted: Vec<_> = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| submission(Some(item), &format!("items[{i}]")))
                .collect();
            let route = Route {
                transport: Transport::Grpc,
                method: Method::Batch,
                size: converted.len(),
            };
            let results = self
                .service
                .verify_converted(&ctx.tenant, converted, ctx.deadline, route)
                .await?;
            Ok(v1::VerifyBatchResponse {
                results: results.into_iter().map(item_result).collect(),
            })
        }
        .await;
        respond(log, result)
    }

    type VerifyStreamStream = ResponseStream;

    async fn verify_stream(
        &self,
        request: Request<Streaming<v1::VerifyStreamRequest>>,
    ) -> Result<Response<Self::VerifyStreamStream>, Status> {
        let mut log = self.log("grpc.VerifyStream", &request);
        let ctx = match self.admitted(&request, &mut log).and_then(|ctx| {
            self.service.require(&ctx.tenant, Feature::Streaming)?;
            Ok(ctx)
        }) {
            Ok(ctx) => ctx,
            Err(e) => return respond(log, Err(e)),
        };
        let request_id = log.request_id.clone();
        log.finish("OK", None);
        let service = self.service.clone();
        let mut inbound = request.into_inner();
        let in_flight_max = self.stream_in_flight;
        let (tx, rx) = tokio::sync::mpsc::channel(in_flight_max);
        tokio::spawn(async move {
            let in_flight = Arc::new(tokio::sync::Semaphore::new(in_flight_max));
            while let Some(message) = inbound.next().await {
                let message = match message {
                    Ok(message) => message,
                    Err(status) => {
                        // A message that does not decode (or a broken
                        // connection) ends the call: the items already taken
                        // are answered first, then the call ends with why.
                        let _ = in_flight.acquire_many(in_flight_max as u32).await;
                        tracing::debug!(request_id = %request_id, code = ?status.code(), "stream ended by a bad message");
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                let Ok(permit) = in_flight.clone().acquire_owned().await else {
                    break;
                };
                let (service, tx, tenant) = (service.clone(), tx.clone(), ctx.tenant.clone());
                let deadline = ctx.deadline;
                tokio::spawn(async move {
                    let result = match submission(message.submission, "submission") {
                        Ok(s) => {
                            let route = Route::single(Transport::Grpc, Method::Stream);
                            service.verify_one(&tenant, s, deadline, route).await
                        }
                        Err(e) => Err(e),
                    };
                    let code = result.as_ref().map_or_else(|e| e.code_name(), |_| "OK");
                    service.metrics().count("grpc.VerifyStream.item", code);
                    let _ = tx
                        .send(Ok(v1::VerifyStreamResponse {
                            sequence: message.sequence,
                            result: Some(item_result(result)),
                        }))
                        .await;
                    drop(permit);
                });
            }
            tracing::debug!(request_id = %request_id, "stream closed by the caller");
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream) as ResponseStream))
    }

    async fn get_receipt(
        &self,
        request: Request<v1::GetReceiptRequest>,
    ) -> Result<Response<v1::Receipt>, Status> {
        let mut log = self.log("grpc.GetReceipt", &request);
        let result = self.admitted(&request, &mut log).and_then(|ctx| {
            let id = request.into_inner().id;
            self.service.receipt(&ctx.tenant, &id).map(to_message)
        });
        respond(log, result)
    }

    async fn list_circuits(
        &self,
        request: Request<v1::ListCircuitsRequest>,
    ) -> Result<Response<v1::ListCircuitsResponse>, Status> {
        let mut log = self.log("grpc.ListCircuits", &request);
        let result = self
            .admitted(&request, &mut log)
            .map(|ctx| v1::ListCircuitsResponse {
                circuits: self
                    .service
                    .circuits()
                    .iter()
                    .map(|c| v1::Circuit {
                        circuit: c.circuit.clone(),
                        tier: c.tier as u32,
                        key_fingerprint: c.key_fingerprint.clone(),
                        constraints: c.constraints,
                        dev_keys: c.dev_keys,
                        allowed: ctx.tenant.plan.allows_tier(c.tier),
                    })
                    .collect(),
                policy_sha256: self
                    .service
                    .admission()
                    .gate()
                    .bundle()
                    .sha256()
                    .to_string(),
            });
        respond(log, result)
    }

    async fn get_usage(
        &self,
        request: Request<v1::GetUsageRequest>,
    ) -> Result<Response<v1::Usage>, Status> {
        let mut log = self.log("grpc.GetUsage", &request);
        let result = self.admitted(&request, &mut log).map(|ctx| {
            let u = self.service.usage(&ctx.tenant);
            v1::Usage {
                tenant: u.tenant,
                plan: u.plan,
                utc_day: u.utc_day,
                proofs_today: u.proofs_today,
                daily_quota: u.daily_quota,
                max_batch: u.max_batch as u32,
                requests_per_second: u.requests_per_second,
            }
        });
        respond(log, result)
    }

    async fn get_entitlements(
        &self,
        request: Request<v1::GetEntitlementsRequest>,
    ) -> Result<Response<v1::Entitlements>, Status> {
        let mut log = self.log("grpc.GetEntitlements", &request);
        let result = self
            .admitted(&request, &mut log)
            .map(|ctx| self.service.entitlements(&ctx.tenant).into());
        respond(log, result)
    }

    async fn get_attestation(
        &self,
        request: Request<v1::GetAttestationRequest>,
    ) -> Result<Response<v1::AttestationEnvelope>, Status> {
        let log = self.log("grpc.GetAttestation", &request);
        let result = self
            .service
            .attestation()
            .await
            .map(|envelope| v1::AttestationEnvelope {
                envelope_json: envelope.to_string(),
            });
        respond(log, result)
    }

    async fn get_receipt_key(
        &self,
        request: Request<v1::GetReceiptKeyRequest>,
    ) -> Result<Response<v1::ReceiptKey>, Status> {
        let log = self.log("grpc.GetReceiptKey", &request);
        respond(
            log,
            Ok(v1::ReceiptKey {
                algorithm: "ed25519".into(),
                public_key: self.service.receipt_public_key(),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("5"), None);
        assert_eq!(parse_grpc_timeout("123456789m"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
    }
}
