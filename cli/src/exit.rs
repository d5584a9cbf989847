//! Maps command outcomes to exit codes and error messages.

use std::process::ExitCode;

use zktx_circuits::CircuitError;
use zktx_formats::FormatError;
use zktx_prover::ProverError;

/// Exit code: the statement is false, the prover refused.
pub const STATEMENT_FALSE: u8 = 3;
/// Exit code: keys are missing or damaged.
pub const KEYS: u8 = 4;
/// Exit code: a load run missed an objective.
pub const OBJECTIVES_MISSED: u8 = 5;
/// Exit code: the proof is invalid, or another error.
pub const FAILURE: u8 = 1;

/// An error that carries its own exit code.
#[derive(Debug)]
pub struct Coded {
    /// The exit code.
    pub code: u8,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.code)
    }
}

impl std::error::Error for Coded {}

fn code_of(error: &anyhow::Error) -> u8 {
    if let Some(coded) = error.downcast_ref::<Coded>() {
        return coded.code;
    }
    let files = match error.downcast_ref::<ProverError>() {
        Some(ProverError::Circuit(CircuitError::OverlapExceedsK { .. })) => return STATEMENT_FALSE,
        Some(ProverError::Format(files)) => Some(files),
        _ => error.downcast_ref::<FormatError>(),
    };
    match files {
        Some(FormatError::KeysMissing { .. } | FormatError::KeyIntegrity { .. }) => KEYS,
        _ => FAILURE,
    }
}

/// Prints an error (if any) and turns the outcome into the process exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if error.downcast_ref::<Coded>().is_none() {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(code_of(&error))
        }
    }
}
