//! The Rego engine set up the one way every zktx gate uses it: strict
//! builtins, a bounded evaluation, a bundle's policies and data loaded,
//! and a decision rule read as `{"denials": [{"rule", "reason"}]}`.

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde::Deserialize;

use super::bundle::{PolicyBundle, DATA_FILE};
use super::error::PolicyError;
use super::gate::Denial;

/// The decision rule's value: `{"denials": [{"rule", "reason"}, ...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    denials: Vec<Denial>,
}

/// A Rego engine (v1 syntax, builtin errors are errors, each evaluation
/// stopped after `limit`) holding `bundle`'s policies and data. A policy
/// that does not parse is refused here.
pub(crate) fn load(bundle: &PolicyBundle, limit: Duration) -> Result<Engine, PolicyError> {
    let mut engine = Engine::new();
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(64).expect("64 is not zero"),
    });
    for (name, source) in bundle.policies() {
        engine
            .add_policy(name.to_string(), source.to_string())
            .map_err(|e| PolicyError::Parse {
                file: name.to_string(),
                message: e.to_string(),
            })?;
    }
    let data = Value::from_json_str(&bundle.data().to_string())
        .map_err(|e| PolicyError::data(DATA_FILE, e.to_string()))?;
    engine
        .add_data(data)
        .map_err(|e| PolicyError::data(DATA_FILE, e.to_string()))?;
    Ok(engine)
}

/// Evaluates `rule` over `input` (any serializable value) and reads it as a
/// decision: its denials sorted and without repeats. An undefined rule or a
/// value of another shape is an error (the caller denies: fail-closed).
pub(crate) fn denials<T: serde::Serialize>(
    engine: &mut Engine,
    rule: &str,
    input: &T,
) -> Result<Vec<Denial>, PolicyError> {
    let json = serde_json::to_string(input).map_err(|e| PolicyError::Evaluation(e.to_string()))?;
    let input = Value::from_json_str(&json).map_err(|e| PolicyError::Evaluation(e.to_string()))?;
    engine.set_input(input);
    let value = engine
        .eval_rule(rule.to_string())
        .map_err(|e| PolicyError::Evaluation(e.to_string()))?;
    if value == Value::Undefined {
        return Err(PolicyError::Shape(format!("{rule} is undefined")));
    }
    let text = value
        .to_json_str()
        .map_err(|e| PolicyError::Shape(e.to_string()))?;
    let raw: RawDecision = serde_json::from_str(&text).map_err(|e| {
        PolicyError::Shape(format!(
            "{rule} must be {{\"denials\": [{{\"rule\": string, \"reason\": string}}]}}: {e}"
        ))
    })?;
    let mut denials = raw.denials;
    denials.sort();
    denials.dedup();
    Ok(denials)
}
