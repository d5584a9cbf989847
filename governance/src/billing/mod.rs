//! Metering to invoices to webhooks.
//!
//! - [`period`]: billing periods (UTC months, `YYYY-MM`);
//! - [`invoice`]: rating with exact decimals at the edition's price, the
//!   invoice document, its SHA-256 and signature, golden-tested;
//! - [`pdf`]: the invoice as a PDF (`pdf-writer`);
//! - [`webhook`]: `invoice.created` deliveries' HMAC-SHA256 signature and
//!   their jittered exponential retry schedule.
//!
//! What is billed: every metered verification, valid or invalid (a
//! verification was performed either way); replays of a statement the
//! tenant already holds a valid receipt for are not metered, so not billed.
//! The store that keeps usage, invoices and the webhook outbox is the
//! server's.

pub mod invoice;
pub mod pdf;
pub mod period;
pub mod webhook;

pub use invoice::{rate, Invoice, InvoiceInputs, LineItem, UsageLine};
pub use period::{Period, PeriodError};
