//! Governance beside the proof path: what regulated partners need around a
//! verification, kept out of the server so that each part is tested alone.
//!
//! - [`policy`]: the admission gate. A Rego bundle (evaluated in process
//!   by `regorus`) answers, for each request, allow or a list of reasons;
//!   waivers with an owner and an expiry can lift a named rule; the gate
//!   fails closed (a missing or unparsable bundle refuses to load, an
//!   evaluation error or a result of the wrong shape denies). Decisions are
//!   cached per input, so the gate costs the unary path next to nothing.
//! - [`audit`]: the hash-chained audit log's entries, its walk, its signed
//!   head and tenant exports that check without the database.
//! - [`billing`]: periods, exact-decimal rating, invoices (JSON, signed;
//!   PDF), webhook signatures and retry schedule.
//! - [`entitlements`]: the plan feature matrix (Starter, Pro, Enterprise)
//!   and the one function that decides a feature, some gated on evidence.
//! - [`provenance`]: in-toto/SLSA provenance of a release in a DSSE
//!   envelope (Ed25519), and its check against the artifacts.
//! - [`evidence`]: the evidence pack's page (what changed, tests,
//!   compliance, rollback), in Markdown and HTML.
//! - [`supply_chain`]: the release gate: the SBOM's licences and the
//!   vulnerability scan's findings decided by a Rego bundle, with waivers.
//! - [`profile`]: the deployment profiles (`dev`, `staging`, `prod`) and
//!   what `prod` refuses at start.
//!
//! The server calls these at clear points (admission after authentication,
//! checks at start); nothing here knows the server. Entries name tenants
//! and hashes, never set members, public inputs or keys.

pub mod audit;
pub mod billing;
pub mod entitlements;
pub mod evidence;
pub mod policy;
pub mod profile;
pub mod provenance;
pub mod supply_chain;

pub use policy::{
    Decision, Denial, Method, PolicyBundle, PolicyError, PolicyGate, PolicyInput, Transport,
    Waiver, WaiverUse,
};
pub use profile::{check_start, LoadedKey, Profile, ProfileError};
