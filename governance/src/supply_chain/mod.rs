//! The release gate over the supply chain: what is in the binary (a
//! CycloneDX SBOM, [`sbom`]), what a vulnerability, licence and source scan
//! found (cargo-deny's report over an offline RustSec snapshot, [`scan`]),
//! and a Rego policy that decides whether the release may ship ([`gate`]):
//! a licence allow-list and a CRITICAL/HIGH advisory gate, fail-closed,
//! with waivers that name one finding, an owner, a reason and an expiry.

pub mod gate;
pub mod licence;
pub mod sbom;
pub mod scan;

pub use gate::{GateReport, SupplyChainGate, BUILTIN_FILES, DECISION_RULE};
pub use licence::{choices, LicenceError};
pub use sbom::{Component, Sbom, SbomError};
pub use scan::{Advisory, Problem, Scan, ScanError, Snapshot};
