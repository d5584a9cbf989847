//! The zktx service: partners submit overlap proofs over gRPC ([`grpc`]) or
//! REST ([`rest`]); single proofs from every connection are coalesced into
//! batches ([`batcher`]) for the batch verifier; tenants, plans and quotas
//! ([`tenants`], [`quota`]) gate the work; each verification yields an
//! Ed25519-signed [`receipt`] that is durable in the embedded [`store`] before
//! the caller sees it, and chained with what else the service did in its
//! audit log ([`audit`], `store::audit`). [`error`] maps every failure to its gRPC code and HTTP
//! status. [`start`] wires it all and returns a [`RunningServer`].
#![forbid(unsafe_code)]

pub mod admission;
pub mod attestation;
pub mod audit;
pub mod auditor;
pub mod batcher;
pub mod config;
pub mod connections;
pub mod entitlements;
pub mod error;
pub mod grpc;
pub mod inflight;
pub mod json;
pub mod listen;
pub mod metrics;
pub mod quota;
pub mod receipt;
pub mod rest;
pub mod sandbox;
pub mod service;
mod startup;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod webhooks;

pub use config::ServerConfig;
pub use error::ApiError;
pub use startup::{start, RunningServer, ServerError};
