//! The admission gate: a Rego bundle, waivers, a decision cache, and policy
//! tests written as data.
//!
//! Flow for one request: the server builds a [`PolicyInput`] (tenant, plan,
//! circuit and tier, k, batch size, transport and method, profile, key
//! origin) and calls [`PolicyGate::decide`]. The bundle's
//! `data.zktx.admission.decision` must be an object `{"denials": [...]}`
//! whose items are `{"rule": STRING, "reason": STRING}`; anything else is an
//! evaluation failure, and a failure denies (fail-closed). Denials that an
//! unexpired [`Waiver`] covers are lifted, and the use is reported in the
//! [`Decision`] so that the caller audits it.

mod bundle;
mod cases;
pub(crate) mod engine;
mod error;
mod gate;
mod input;
mod waiver;

pub use bundle::{PolicyBundle, BUILTIN_FILES, DECISION_RULE};
pub use cases::{
    check_cases, parse_cases, run_cases, CaseFailure, CaseReport, PolicyCase, BUILTIN_CASES,
};
pub use error::PolicyError;
pub use gate::{Decision, Denial, Outcome, PolicyGate, FAILURE_RULE};
pub use input::{Method, PolicyInput, Transport};
pub use waiver::{Waiver, WaiverUse, Waivers};
