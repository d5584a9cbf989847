//! The zktx v1 API: the whole contract between the service and its callers.
//!
//! - [`v1`]: the protobuf messages and the `Verifier` gRPC service, generated
//!   at build time from `proto/zktx/v1/*.proto` (client and server);
//! - [`rest`]: the REST JSON bodies and how request bodies are parsed;
//! - [`status`]: the status codes, their names and the gRPC/HTTP mapping;
//! - [`receipt`]: the signed receipt format and its offline check;
//! - [`openapi`]: the OpenAPI document of the REST API;
//! - [`codec`] / [`lazy`]: the server side's bounded request decoding.
//!
//! The server implements this crate; clients (the Rust client, the load
//! generator, the pilot) use it and never the server.
#![forbid(unsafe_code)]

/// Package `zktx.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("zktx.v1");
    include!(concat!(env!("OUT_DIR"), "/server/zktx.v1.rs"));
}

pub mod codec;
pub mod lazy;
pub mod openapi;
pub mod receipt;
pub mod rest;
pub mod status;

/// The encoded `FileDescriptorSet` of the API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/zktx_v1_descriptor.bin"));
