//! Compiles `zktx/v1/*.proto` with protox (a pure-Rust protobuf compiler, so
//! no protoc is needed) and generates the prost messages and tonic services.
//! The descriptor set is also written out for gRPC server reflection. The
//! server is generated apart from the messages and the client, to give it its
//! own request codec.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["zktx/v1/verifier.proto"];
    for proto in &protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["."])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("zktx_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    // Messages and the client, with prost's codec.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .compile_fds(descriptors.clone())?;
    // The server alone, over the same messages, with the codec that answers
    // undecodable requests with INVALID_ARGUMENT (see `src/codec.rs`).
    let server = out.join("server");
    std::fs::create_dir_all(&server)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .codec_path("crate::codec::RequestCodec")
        // Batches arrive counted, not decoded (see `src/lazy.rs`).
        .extern_path(
            ".zktx.v1.VerifyBatchRequest",
            "crate::lazy::LazyVerifyBatchRequest",
        )
        .extern_path(".zktx.v1", "crate::v1")
        .out_dir(&server)
        .compile_fds(descriptors)?;
    Ok(())
}
