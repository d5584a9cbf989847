//! The REST front end (axum): the same operations as gRPC, in JSON, with
//! proofs as base64. It implements the API crate's REST contract
//! (`zktx_proto::rest`) and serves its OpenAPI document at `/openapi.json`. Also `/healthz`, `/readyz`, `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Serialize;
use serde_json::value::RawValue;
use zktx_formats::EnvelopeInputs;
use zktx_proto::rest::{
    max_body_bytes, RestBatchResponse, RestCircuit, RestInvoice, RestItemResult, RestReceiptKey,
    RestSubmission, RestVerifyResponse,
};
use zktx_proto::status::TIMEOUT_HEADER;

use crate::admission::Route;
use crate::error::ApiError;
use crate::json::{parse, read_body};
use crate::service::{ItemResult, Service, Submission, Verification};
use crate::telemetry::{request_id, RequestLog};
use zktx_governance::audit::ExportScope;
use zktx_governance::entitlements::Feature;
use zktx_governance::{Method, Transport};

/// A batch body with its items counted but not parsed: each is a slice of
/// the body, so counting them allocates nothing per item.
struct RawBatch<'a> {
    items: Vec<&'a RawValue>,
}

zktx_proto::object_only!(RawBatch<'de> {
    items: Vec<&'de RawValue>
});

/// The REST router over `service`.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/verify", post(verify))
        .route("/v1/verify/batch", post(verify_batch))
        .route("/v1/receipts/{id}", get(get_receipt))
        .route("/v1/circuits", get(list_circuits))
        .route("/v1/receipt-key", get(receipt_key))
        .route("/v1/attestation", get(attestation))
        .route("/v1/usage", get(usage))
        .route("/v1/entitlements", get(entitlements))
        .route("/v1/audit/export", get(audit_export))
        .route("/v1/invoices", get(list_invoices))
        .route("/v1/invoices/{id}", get(get_invoice))
        .route(
            "/openapi.json",
            get(|| async { Json(zktx_proto::openapi::document()) }),
        )
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
    let mut log = RequestLog::start(
        service.metrics(),
        method,
        request_id(text("x-request-id")),
        text("traceparent"),
        text("tracestate"),
    );
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
            error: Some(e.body()),
        },
    }
}

/// Verify one proof.
async fn verify(State(service): State<Arc<Service>>, headers: HeaderMap, body: Body) -> Response {
    let mut c = call(&service, "rest.verify", &headers);
    c.log.items = 1;
    let result = async {
        let tenant = c.tenant?;
        let bytes = read_body(&headers, body, max_body_bytes(1)).await?;
        let s = submission(parse::<RestSubmission>(&bytes, "")?, "")?;
        service
            .verify_one(
                &tenant,
                s,
                c.deadline,
                Route::single(Transport::Rest, Method::Verify),
            )
            .await
            .map(verify_response)
    }
    .await;
    answer(c.log, result)
}

/// Verify many proofs; one result per item.
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
        let route = Route {
            transport: Transport::Rest,
            method: Method::Batch,
            size: converted.len(),
        };
        let results = service
            .verify_converted(&tenant, converted, c.deadline, route)
            .await?;
        Ok(RestBatchResponse {
            results: results.into_iter().map(item_result).collect(),
        })
    }
    .await;
    answer(c.log, result)
}

/// Fetch a receipt this tenant was issued.
async fn get_receipt(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let c = call(&service, "rest.get_receipt", &headers);
    let result = service
        .reader(c.tenant, authorization(&headers), "receipt")
        .await
        .and_then(|reader| service.receipt(&reader.tenant, &id));
    answer(c.log, result)
}

/// The circuits this server verifies.
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
    let mut response = answer(c.log, result);
    if let Ok(value) = service.admission().gate().bundle().sha256().parse() {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    response
}

/// The response header of `GET /v1/circuits` naming the admission policy
/// bundle in force (its SHA-256, hex).
pub const POLICY_HEADER: &str = "x-zktx-policy-sha256";

/// The public key that signs receipts (no API key needed).
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

/// What is running, signed with the receipt key (no API key needed): the
/// DSSE envelope, byte for byte as gRPC `GetAttestation` returns it.
async fn attestation(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.attestation", &headers);
    let result = service.attestation().await.and_then(|envelope| {
        RawValue::from_string(envelope.to_string())
            .map_err(|_| ApiError::Internal("the attestation is not JSON".into()))
    });
    answer(c.log, result)
}

/// The caller's plan and today's metered proofs.
async fn usage(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.usage", &headers);
    let result = service
        .reader(c.tenant, authorization(&headers), "usage")
        .await
        .map(|reader| service.usage(&reader.tenant));
    answer(c.log, result)
}

/// The caller's plan features, each on or off with the reason.
async fn entitlements(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.entitlements", &headers);
    let result = service
        .reader(c.tenant, authorization(&headers), "entitlements")
        .await
        .map(|reader| service.entitlements(&reader.tenant));
    answer(c.log, result)
}

/// The caller's invoices (a tenant key or its auditor key).
async fn list_invoices(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let c = call(&service, "rest.list_invoices", &headers);
    let result = async {
        let reader = service
            .reader(c.tenant, authorization(&headers), "invoices")
            .await?;
        let invoices = service
            .store()
            .invoices(&reader.tenant.id)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(invoices
            .into_iter()
            .map(|i| RestInvoice {
                id: i.invoice.id,
                period: i.invoice.period,
                quantity: i.invoice.quantity,
                total_usd: i.invoice.total_usd.to_string(),
                amount_due_usd: i.invoice.amount_due_usd.to_string(),
                sha256: i.sha256,
                signature: i.signature,
            })
            .collect::<Vec<_>>())
    }
    .await;
    answer(c.log, result)
}

/// One of the caller's invoices: its signed JSON, byte for byte.
async fn get_invoice(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let c = call(&service, "rest.get_invoice", &headers);
    let result = async {
        let reader = service
            .reader(c.tenant, authorization(&headers), "invoice")
            .await?;
        service
            .store()
            .invoices(&reader.tenant.id)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .into_iter()
            .find(|i| i.invoice.id == id)
            .ok_or_else(|| ApiError::NotFound("id: this tenant has no invoice with this id".into()))
    }
    .await;
    match result {
        Ok(invoice) => {
            c.log.finish("OK", None);
            let mut response =
                ([(header::CONTENT_TYPE, "application/json")], invoice.json).into_response();
            for (name, value) in [
                ("x-zktx-invoice-sha256", invoice.sha256),
                ("x-zktx-invoice-signature", invoice.signature),
            ] {
                if let Ok(value) = value.parse() {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Err(error) => answer::<()>(c.log, Err(error)),
    }
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}

/// The most bytes one export over HTTP may hold; a longer one is refused
/// (run `zktx audit export` on the server, or choose a later `from`).
pub const MAX_EXPORT_BYTES: usize = 64 << 20;

/// The caller's audit export (JSON Lines, see `docs/governance.md`): for a
/// tenant key with evidence downloads in its plan, or an auditor key.
/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, `to` included) bound the period.
async fn audit_export(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let c = call(&service, "rest.audit_export", &headers);
    let result = async {
        let (from_ms, to_ms) = export_period(query.as_deref().unwrap_or(""))?;
        let reader = service
            .reader(c.tenant, authorization(&headers), "audit_export")
            .await?;
        if reader.auditor.is_none() {
            service.require(&reader.tenant, Feature::EvidenceDownloads)?;
        }
        let scope = ExportScope {
            tenant: reader.tenant.id.clone(),
            from_ms,
            to_ms,
        };
        let path = service.store().path().to_path_buf();
        let bytes = tokio::task::spawn_blocking(move || {
            let mut out = Capped(Vec::new());
            crate::store::audit::export(&path, scope, &mut out).map(|_| out.0)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        bytes.map_err(|e| match e {
            crate::store::audit::AuditCheckError::Io(_) => ApiError::invalid(
                "from",
                "the export from this date exceeds 64 MiB: choose a later `from`, or run `zktx audit export` on the server",
            ),
            other => ApiError::Internal(format!("audit export: {other}")),
        })
    }
    .await;
    match result {
        Ok(bytes) => {
            c.log.finish("OK", None);
            ([(header::CONTENT_TYPE, "application/x-ndjson")], bytes).into_response()
        }
        Err(error) => answer::<()>(c.log, Err(error)),
    }
}

/// A buffer that refuses to grow past [`MAX_EXPORT_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_EXPORT_BYTES {
            return Err(std::io::Error::other("export too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `from` and `to` of an export query (UTC days; `to` included).
fn export_period(query: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let (mut from, mut to) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let day = |field: &str| {
            zktx_governance::audit::export::day_start_ms(value)
                .ok_or_else(|| ApiError::invalid(field, "expected a UTC day, YYYY-MM-DD"))
        };
        match name {
            "from" => from = Some(day("from")?),
            "to" => to = Some(day("to")? + 86_400_000),
            _ => {
                return Err(ApiError::invalid(
                    "query",
                    "unknown parameter: only `from` and `to` are accepted",
                ))
            }
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(ApiError::invalid("to", "the period ends before it starts"));
        }
    }
    Ok((from, to))
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
