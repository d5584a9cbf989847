//! The OpenAPI 3.1 document of the v1 REST API, built from the very types
//! the server deserializes and returns (`crate::rest`).
//!
//! Each operation is declared below by a function that carries its
//! `#[utoipa::path]` and is never called: the contract lives here, beside its
//! types, and the server's handlers implement it (`zktx-server`'s `rest`
//! module serves this document at `/openapi.json`; its tests call every
//! documented operation and check each is routed).
#![allow(dead_code)]

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::receipt::{Receipt, ReceiptBatch, ReceiptVerdict};
use crate::rest::{
    ErrorBody, RestAttestationEnvelope, RestBatchRequest, RestBatchResponse, RestCircuit,
    RestEntitlement, RestEntitlements, RestEnvelopeSignature, RestInputs, RestInvoice,
    RestItemResult, RestReceiptKey, RestSubmission, RestVerifyResponse, UsageReport,
};

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "zktx", description = "Verify proofs that two private sets overlap in at most k members."),
    paths(verify, verify_batch, get_receipt, list_circuits, receipt_key, attestation, usage, entitlements, audit_export,
        list_invoices, get_invoice),
    components(schemas(RestInputs, RestSubmission, RestBatchRequest, RestVerifyResponse, ErrorBody,
        RestItemResult, RestBatchResponse, RestCircuit, RestReceiptKey, RestAttestationEnvelope, RestEnvelopeSignature, Receipt, ReceiptBatch, ReceiptVerdict, UsageReport,
        RestEntitlement, RestEntitlements, RestInvoice)),
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
fn verify() {}

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
fn verify_batch() {}

/// Fetch a receipt this tenant was issued.
#[utoipa::path(get, path = "/v1/receipts/{id}", params(("id" = String, Path, description = "Receipt id (32 hex digits)")),
    responses((status = 200, body = Receipt), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
fn get_receipt() {}

/// The circuits this server verifies.
#[utoipa::path(get, path = "/v1/circuits",
    responses((status = 200, body = Vec<RestCircuit>), (status = 401, body = ErrorBody)))]
fn list_circuits() {}

/// The public key that signs receipts (no API key needed).
#[utoipa::path(get, path = "/v1/receipt-key", security(()), responses((status = 200, body = RestReceiptKey)))]
fn receipt_key() {}

/// What is running, signed with the receipt key (no API key needed): a
/// software attestation, no hardware root.
#[utoipa::path(get, path = "/v1/attestation", security(()),
    responses((status = 200, body = RestAttestationEnvelope), (status = 500, body = ErrorBody)))]
fn attestation() {}

/// The caller's plan and today's metered proofs.
#[utoipa::path(get, path = "/v1/usage",
    responses((status = 200, body = UsageReport), (status = 401, body = ErrorBody)))]
fn usage() {}

/// The caller's plan features, each on or off with the reason (naming the
/// plan or the server evidence that would turn it on), and the evidence.
#[utoipa::path(get, path = "/v1/entitlements",
    responses((status = 200, body = RestEntitlements), (status = 401, body = ErrorBody)))]
fn entitlements() {}

/// The caller's audit export as JSON Lines (`docs/governance.md`): for a
/// tenant whose plan has evidence downloads, or an auditor key (read-only,
/// expiring). Check it offline with `zktx audit verify --export`.
#[utoipa::path(get, path = "/v1/audit/export",
    params(("from" = Option<String>, Query, description = "first UTC day, YYYY-MM-DD"),
           ("to" = Option<String>, Query, description = "last UTC day, YYYY-MM-DD (included)")),
    responses((status = 200, content_type = "application/x-ndjson", body = String),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
fn audit_export() {}

/// The caller's invoices, newest first (a tenant key or its auditor key).
#[utoipa::path(get, path = "/v1/invoices",
    responses((status = 200, body = Vec<RestInvoice>), (status = 401, body = ErrorBody)))]
fn list_invoices() {}

/// One invoice's signed JSON, byte for byte (its SHA-256 and signature are
/// in `GET /v1/invoices` and in the `x-zktx-invoice-sha256` and
/// `x-zktx-invoice-signature` headers).
#[utoipa::path(get, path = "/v1/invoices/{id}",
    params(("id" = String, Path, description = "the invoice id, inv-YYYY-MM-tenant")),
    responses((status = 200, content_type = "application/json", body = String),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
fn get_invoice() {}
