//! The REST front end (axum): the same operations as gRPC, in JSON, with
//! proofs as base64; the OpenAPI document at `/openapi.json` is generated from
//! the very types the handlers deserialize. Also `/healthz`, `/readyz`, `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use zktx_prover::EnvelopeInputs;

use crate::error::ApiError;
use crate::json::{max_body_bytes, object_only, parse, read_body};
use crate::receipt::{Receipt, ReceiptVerdict};
use crate::service::{ItemResult, Service, Submission, UsageReport, Verification};
use crate::telemetry::{request_id, RequestLog};

/// The header carrying a REST caller's deadline, in milliseconds.
pub const TIMEOUT_HEADER: &str = "x-zktx-timeout-ms";

/// The statement's public inputs (field elements as 64 hex digits).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestInputs {
    /// Commitment to set A.
    pub commit_a: String,
    /// Commitment to set B.
    pub commit_b: String,
    /// The bound k.
    pub k: u64,
    /// The context the proof is bound to.
    pub context: String,
}

/// One proof and what it claims.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestSubmission {
    /// Hex fingerprint of the verifying key (a proof file's `vk_fingerprint`).
    pub key_fingerprint: String,
    /// The public inputs.
    pub public_inputs: RestInputs,
    /// Base64 of the 192-byte compressed proof.
    pub proof: String,
}

/// Many proofs in one call.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestBatchRequest {
    /// The proofs; at most the plan's `max_batch`.
    pub items: Vec<RestSubmission>,
}

// Request bodies are JSON objects with exactly these fields (serde's derive
// would also take arrays): see `crate::json`.
object_only!(RestInputs {
    commit_a: String,
    commit_b: String,
    k: u64,
    context: String,
});
object_only!(RestSubmission {
    key_fingerprint: String,
    public_inputs: RestInputs,
    proof: String,
});
object_only!(RestBatchRequest {
    items: Vec<RestSubmission>
});

/// A batch body with its items counted but not parsed: each is a slice of
/// the body, so counting them allocates nothing per item.
struct RawBatch<'a> {
    items: Vec<&'a RawValue>,
}

object_only!(RawBatch<'de> {
    items: Vec<&'de RawValue>
});

/// The answer for one proof.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RestVerifyResponse {
    /// `valid` or `invalid`.
    pub verdict: ReceiptVerdict,
    /// Why the proof is invalid; empty when valid.
    pub reason: String,
    /// The signed receipt.
    pub receipt: Receipt,
    /// True when an earlier receipt for the same valid statement was returned (not metered).
    pub replayed: bool,
}

/// An error: the gRPC code name, the offending field and what to do.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ErrorBody {
    /// e.g. `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`.
    pub code: String,
    /// The offending field, for `INVALID_ARGUMENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A message a partner can act on.
    pub message: String,
    /// Seconds to wait before retrying, when retrying helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// One item of a batch: a response or an error.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RestItemResult {
    /// Present when the item was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RestVerifyResponse>,
    /// Present when the item was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// One result per item, in order.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RestBatchResponse {
    /// The results.
    pub results: Vec<RestItemResult>,
}

/// A circuit this server verifies.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RestCircuit {
    /// The circuit identifier.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// The verifying key's fingerprint.
    pub key_fingerprint: String,
    /// R1CS constraints.
    pub constraints: u64,
    /// Keys from a development seed: not for production.
    pub dev_keys: bool,
    /// Whether the caller's plan allows it.
    pub allowed: bool,
}

/// The receipt-signing key.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RestReceiptKey {
    /// Always `ed25519`.
    pub algorithm: String,
    /// 32 bytes, hex.
    pub public_key: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "zktx", description = "Verify proofs that two private sets overlap in at most k members."),
    paths(verify, verify_batch, get_receipt, list_circuits, receipt_key, usage),
    components(schemas(RestInputs, RestSubmission, RestBatchRequest, RestVerifyResponse, ErrorBody,
        RestItemResult, RestBatchResponse, RestCircuit, RestReceiptKey, Receipt, ReceiptVerdict, UsageReport)),
    modifiers(&BearerAuth),
    security(("api_key" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The REST router over `service`.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/verify", post(verify))
        .route("/v1/verify/batch", post(verify_batch))
        .route("/v1/receipts/{id}", get(get_receipt))
        .route("/v1/circuits", get(list_circuits))
        .route("/v1/receipt-key", get(receipt_key))
        .route("/v1/usage", get(usage))
        .route("/openapi.json", get(|| async { Json(openapi()) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(service)
}

struct Call<'a> {
    log: RequestLog<'a>,
    tenant: Result<Arc<crate::tenants::Tenant>, ApiError>,
    deadline: Option<Instant>,
}

fn call<'a>(service: &'a Service, method: &'static str, headers: &HeaderMap) -> Call<'a> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut log = RequestLog::start(service.metrics(), method, request_id(text("x-request-id")));
    let tenant = service.authenticate(text("authorization"));
    if let Ok(t) = &tenant {
        log.tenant = Some(t.id.clone());
    }
    let deadline = text(TIMEOUT_HEADER)
        .and_then(|v| v.parse::<u64>().ok())
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    Call {
        log,
        tenant,
        deadline,
    }
}

/// The tenant, with one request taken from its rate: for the methods that do
/// not verify (verification counts its own calls).
fn admitted(
    service: &Service,
    tenant: Result<Arc<crate::tenants::Tenant>, ApiError>,
) -> Result<Arc<crate::tenants::Tenant>, ApiError> {
    let tenant = tenant?;
    service.quotas().check_rate(&tenant)?;
    Ok(tenant)
}

fn answer<T: Serialize>(log: RequestLog<'_>, result: Result<T, ApiError>) -> Response {
    let id = log.request_id.clone();
    let mut response = match result {
        Ok(body) => {
            log.finish("OK", None);
            Json(body).into_response()
        }
        Err(error) => {
            log.finish(error.code_name(), Some(&error.to_string()));
            error.into_response()
        }
    };
    if let Ok(id) = id.parse() {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

fn submission(s: RestSubmission, field: &str) -> Result<Submission, ApiError> {
    let proof = base64::engine::general_purpose::STANDARD
        .decode(s.proof.trim())
        .map_err(|_| ApiError::invalid(format!("{field}proof"), "not valid base64"))?;
    Ok(Submission {
        key_fingerprint: s.key_fingerprint,
        inputs: EnvelopeInputs {
            commit_a: s.public_inputs.commit_a,
            commit_b: s.public_inputs.commit_b,
            k: s.public_inputs.k,
            context: s.public_inputs.context,
        },
        proof,
    })
}

fn verify_response(v: Verification) -> RestVerifyResponse {
    RestVerifyResponse {
        verdict: v.verdict,
        reason: v.reason,
        receipt: v.receipt,
        replayed: v.replayed,
    }
}

fn item_result(result: ItemResult) -> RestItemResult {
    match result {
        Ok(v) => RestItemResult {
            response: Some(verify_response(v)),
            error: None,
        },
        Err(e) => RestItemResult {
            response: None,
            error: Some(ErrorBody {
                code: e.code_name().into(),
                field: e.field().map(str::to_string),
                message: e.to_string(),
                retry_after_secs: e.retry_after_secs(),
            }),
        },
    }
}

/// Verify one proof.
#[utoipa::path(post, path = "/v1/verify", request_body = RestSubmission,
    params(("x-zktx-timeout-ms" = Option<u64>, Header, description = "Deadline in milliseconds")),
    responses(
        (status = 200, description = "Verified: the verdict is valid or invalid", body = RestVerifyResponse),
        (status = 400, description = "A field is malformed", body = ErrorBody),
        (status = 413, description = "The body is larger than one proof needs", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The plan does not include this circuit", body = ErrorBody),
        (status = 404, description = "Unknown verifying key", body = ErrorBody),
        (status = 429, description = "Rate or daily quota exceeded (Retry-After)", body = ErrorBody),
        (status = 503, description = "Shedding load or shutting down (Retry-After)", body = ErrorBody),
        (status = 504, description = "Deadline exceeded", body = ErrorBody)))]
async fn verify(State(service): State<Arc<Service>>, headers: HeaderMap, body: Body) -> Response {
    let mut c = call(&service, "rest.verify", &headers);
    c.log.items = 1;
    let result = async {
        let tenant = c.tenant?;
        let bytes = read_body(&headers, body, max_body_bytes(1)).await?;
        let s = submission(parse::<RestSubmission>(&bytes, "")?, "")?;
        service
            .verify_one(&tenant, s, c.deadline)
            .await
            .map(verify_response)
    }
    .await;
    answer(c.log, result)
}

/// Verify many proofs; one result per item.
#[utoipa::path(post, path = "/v1/verify/batch", request_body = RestBatchRequest,
    params(("x-zktx-timeout-ms" = Option<u64>, Header, description = "Deadline in milliseconds")),
    responses(
        (status = 200, description = "Per-item results", body = RestBatchResponse),
        (status = 400, description = "Malformed body or too many items", body = ErrorBody),
        (status = 413, description = "The body is larger than the plan's largest batch needs", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 429, description = "Rate or daily quota exceeded (Retry-After)", body = ErrorBody),
        (status = 503, description = "Shedding load or shutting down (Retry-After)", body = ErrorBody),
        (status = 504, description = "Deadline exceeded", body = ErrorBody)))]
async fn verify_batch(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut c = call(&service, "rest.verify_batch", &headers);
    let result = async {
        let tenant = c.tenant?;
        // A body no larger than the plan's largest batch needs, its items
        // counted against the plan before any of them is parsed.
        let limit = max_body_bytes(tenant.plan.max_batch);
        let bytes = read_body(&headers, body, limit).await?;
        let raw: RawBatch<'_> = parse(&bytes, "")?;
        c.log.items = raw.items.len();
        service.check_batch_size(&tenant, raw.items.len(), "items")?;
        let mut converted = Vec::with_capacity(raw.items.len());
        for (i, item) in raw.items.iter().enumerate() {
            let field = format!("items[{i}]");
            let item = parse::<RestSubmission>(item.get().as_bytes(), &field)?;
            converted.push(submission(item, &format!("{field}.")));
        }
        let results = service
            .verify_converted(&tenant, converted, c.deadline)
            .await?;
        Ok(RestBatchResponse {
            results: results.into_iter().map(item_result).collect(),
        })
    }
    .await;
    answer(c.log, result)
}

/// Fetch a receipt this tenant was issued.
#[utoipa::path(get, path = "/v1/receipts/{id}", params(("id" = String, Path, description = "Receipt id (32 hex digits)")),
    responses((status = 200, body = Receipt), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_receipt(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let c = call(&service, "rest.get_receipt", &headers);
    let result = admitted(&service, c.tenant).and_then(|tenant| service.receipt(&tenant, &id));
    answer(c.log, result)
}

/// The circuits this server verifies.
#[utoipa::path(get, path = "/v1/circuits",
    responses((status = 200, body = Vec<RestCircuit>), (status = 401, body = ErrorBody)))]
async fn list_circuits(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.list_circuits", &headers);
    let result = admitted(&service, c.tenant).map(|tenant| {
        service
            .circuits()
            .iter()
            .map(|info| RestCircuit {
                circuit: info.circuit.clone(),
                tier: info.tier,
                key_fingerprint: info.key_fingerprint.clone(),
                constraints: info.constraints,
                dev_keys: info.dev_keys,
                allowed: tenant.plan.allows_tier(info.tier),
            })
            .collect::<Vec<_>>()
    });
    answer(c.log, result)
}

/// The public key that signs receipts (no API key needed).
#[utoipa::path(get, path = "/v1/receipt-key", security(()), responses((status = 200, body = RestReceiptKey)))]
async fn receipt_key(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.receipt_key", &headers);
    answer(
        c.log,
        Ok(RestReceiptKey {
            algorithm: "ed25519".into(),
            public_key: service.receipt_public_key(),
        }),
    )
}

/// The caller's plan and today's metered proofs.
#[utoipa::path(get, path = "/v1/usage",
    responses((status = 200, body = UsageReport), (status = 401, body = ErrorBody)))]
async fn usage(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.usage", &headers);
    let result = admitted(&service, c.tenant).map(|tenant| service.usage(&tenant));
    answer(c.log, result)
}

async fn readyz(State(service): State<Arc<Service>>) -> Response {
    if service.ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics().render(),
    )
        .into_response()
}
