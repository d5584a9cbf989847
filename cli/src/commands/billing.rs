//! `zktx billing invoice|close|webhooks`: invoices from metered usage, and
//! the webhook outbox, on a server's data directory (safe while it runs).

use std::path::{Path, PathBuf};

use anyhow::Context;
use zktx_governance::billing::pdf::render_pdf;
use zktx_governance::billing::Period;
use zktx_server::quota::now_ms;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::billing::{self, StoredInvoice};

use crate::commands::audit::store_of;

/// `zktx billing` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Issue (or fetch) one tenant's invoice for a month; write its JSON and PDF.
    #[command(after_help = "\
Example:
  zktx billing invoice --data-dir /srv/zktx --tenant acme --period 2026-11 --out invoices/

Writes DIR/<invoice id>.json (the signed original) and DIR/<invoice id>.pdf. Every metered
verification of the month (valid or invalid; replays are not metered) at the plan edition's
price: Starter 0.01, Pro 0.005, Enterprise 0.0025 USD. The month must have ended (UTC). An
invoice is issued once: asking again writes the stored one. Issuing appends invoice_issued to the
audit chain and, for plans with webhooks, queues an invoice.created delivery.")]
    Invoice {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        period: String,
        /// Where to write the JSON and the PDF.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Issue every tenant's invoice for a month (idempotent: again issues nothing new).
    Close {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        period: String,
        /// Also write each invoice's JSON and PDF here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List the webhook outbox, or queue one delivery again.
    Webhooks {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Queue this delivery (its id) again, attempts reset: after a
        /// receiver is fixed, for a dead-lettered one.
        #[arg(long, value_name = "ID")]
        replay: Option<String>,
    },
}

fn write_files(dir: &Path, stored: &StoredInvoice) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("out: cannot create {}", dir.display()))?;
    let base = dir.join(&stored.invoice.id);
    std::fs::write(base.with_extension("json"), &stored.json)
        .with_context(|| format!("out: cannot write into {}", dir.display()))?;
    std::fs::write(base.with_extension("pdf"), render_pdf(&stored.invoice))
        .with_context(|| format!("out: cannot write into {}", dir.display()))?;
    Ok(())
}

fn describe(stored: &StoredInvoice) -> String {
    format!(
        "{} {} {} verifications, {} USD due (sha256 {}){}",
        stored.invoice.id,
        stored.invoice.tenant,
        stored.invoice.quantity,
        stored.invoice.amount_due_usd,
        stored.sha256,
        if stored.issued_now {
            ""
        } else {
            ", issued before"
        }
    )
}

/// Runs `zktx billing`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Invoice {
            data_dir,
            tenant,
            period,
            out,
        } => {
            let period = Period::parse(&period)?;
            let (signer, mut conn) = open(data_dir)?;
            let stored = billing::issue(&mut conn, &signer, &tenant, period, now_ms())?;
            write_files(&out, &stored)?;
            println!("{}", describe(&stored));
            Ok(())
        }
        Command::Close {
            data_dir,
            period,
            out,
        } => {
            let period = Period::parse(&period)?;
            let (signer, mut conn) = open(data_dir)?;
            let invoices = billing::close(&mut conn, &signer, period, now_ms())?;
            let new = invoices.iter().filter(|i| i.issued_now).count();
            for stored in &invoices {
                if let Some(dir) = &out {
                    write_files(dir, stored)?;
                }
                println!("{}", describe(stored));
            }
            println!(
                "period {period}: {new} invoices issued, {} already issued",
                invoices.len() - new
            );
            Ok(())
        }
        Command::Webhooks { data_dir, replay } => {
            let (_, store) = store_of(data_dir)?;
            let conn = billing::open(&store)?;
            if let Some(id) = replay {
                billing::replay(&conn, &id, now_ms())?;
                println!("{id}: queued again; a running server delivers it within a second");
                return Ok(());
            }
            let entries = billing::outbox(&conn)?;
            if entries.is_empty() {
                println!("the webhook outbox is empty");
            }
            for e in entries {
                println!(
                    "{}  {}  {}  {}  attempts {}{}",
                    e.id,
                    e.tenant,
                    e.event,
                    e.state,
                    e.attempts,
                    e.last_error
                        .map(|err| format!("  last error: {err}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

/// The data directory's receipt key (which signs invoices) and its store.
fn open(data_dir: Option<PathBuf>) -> anyhow::Result<(ReceiptSigner, rusqlite::Connection)> {
    let (data, store) = store_of(data_dir)?;
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key())
        .context("data-dir: the receipt key (which signs invoices) is unreadable")?;
    Ok((signer, billing::open(&store)?))
}
