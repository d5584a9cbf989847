//! The zktx v1 API: protobuf messages and the `Verifier` gRPC service, generated
//! at build time from `proto/zktx/v1/*.proto`.
#![forbid(unsafe_code)]

/// Package `zktx.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("zktx.v1");
    include!(concat!(env!("OUT_DIR"), "/server/zktx.v1.rs"));
}

pub mod codec;
pub mod lazy;

/// The encoded `FileDescriptorSet` of the API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/zktx_v1_descriptor.bin"));
