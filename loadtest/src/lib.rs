//! The zktx load generator.
//!
//! Drives a zktx server the way partners will: over gRPC (unary, batch,
//! stream) and REST, open loop (no coordinated omission), closed loop, or a
//! ramp that finds the knee, with a traffic mix of valid, invalid, malformed,
//! repeated, oversized, over-quota and abandoned requests. Proof fixtures are
//! proved once per tier and key and cached on disk. Reports latency
//! percentiles from an HDR histogram, throughput, answers by status, wrong
//! answers and server faults, the server's CPU share and CPU per proof (from
//! its metrics), the generator's own CPU per call, and every rate as a ratio
//! to the direct batch verifier measured on this machine in the same run;
//! objectives turn into a failing exit. Only loopback targets are accepted.

pub mod calibrate;
pub mod chaos;
pub mod client;
pub mod cpu;
pub mod driver;
pub mod fixtures;
pub mod material;
pub mod mix;
pub mod partners;
pub mod probe;
pub mod process;
pub mod report;
pub mod scenario;
pub mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What can go wrong before or around a run (answers during a run are data, not errors).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target is not on this machine.
    #[error("{0} is not a loopback address: the load generator only targets this machine")]
    NotLoopback(SocketAddr),
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Connect(String),
    /// The server refused a set-up call.
    #[error("the server refused: {0}")]
    Server(String),
    /// Keys could not be made or proofs could not be proved.
    #[error(transparent)]
    Keys(#[from] zktx_prover::ProverError),
    /// A key directory or a file the generator writes could not be used.
    #[error(transparent)]
    Files(#[from] zktx_formats::FormatError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// A setting is out of range.
    #[error("{0}")]
    Invalid(String),
}

impl LoadError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }
}
