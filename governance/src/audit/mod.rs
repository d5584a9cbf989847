//! The audit chain: an append-only, hash-chained log of what the service
//! did that a regulator may ask about (receipt groups, denials, key loads,
//! configuration changes, API keys, waivers used, invoices, auditor access).
//!
//! - [`entry`]: an entry's text, its content digest and the link hash;
//! - [`chain`]: appending ([`ChainTip::append`]), walking and naming the
//!   first broken link ([`verify_chain`], [`ChainWalker`]), and the head
//!   signed at every commit ([`SignedHead`]);
//! - [`export`]: a tenant's export as JSON Lines that check without the
//!   database ([`verify_export`]);
//! - [`tally`]: repeated events (denials) counted between commits, so a
//!   caller cannot grow the log at will.
//!
//! The store that holds the chain is the server's; this module knows no
//! database. Entries name tenants and hashes, never set members, public
//! inputs or keys.

pub mod chain;
pub mod entry;
pub mod export;
pub mod tally;

pub use chain::{verify_chain, ChainBreak, ChainTip, ChainWalker, SignedHead};
pub use entry::{parse_hash, AuditEntry, AuditEvent, AuditKind, Hash, GENESIS};
pub use export::{
    verify_export, ExportError, ExportLine, ExportScope, ExportSummary, ExportWriter, EXPORT_FORMAT,
};
pub use tally::Tally;
