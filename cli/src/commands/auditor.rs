//! `zktx auditor grant`: an expiring, read-only key for one tenant's auditor.

use std::path::PathBuf;

use anyhow::Context;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::auditors::{grant, MAX_GRANT_DAYS};

use crate::commands::audit::store_of;

/// `zktx auditor` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Make an expiring, read-only key scoped to one tenant's records.
    #[command(after_help = "\
Example:
  zktx auditor grant --data-dir /srv/zktx --tenant acme --days 7

The key reads the tenant's receipts, usage, entitlements, invoices and audit export over REST
(GET /v1/receipts/{id}, /v1/usage, /v1/entitlements, /v1/invoices[/{id}], /v1/audit/export); it
never verifies or spends quota. Each read is written to the audit chain before it is answered; the grant is too.
It works only while the tenant's plan has auditor access (Enterprise) and the server's evidence
holds (ceremony keys, pinned policy). After its expiry it is refused as UNAUTHENTICATED. The
key is printed once; the store keeps only its SHA-256. Safe while the server runs.")]
    Grant {
        /// The data directory of the server's store.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The tenant whose records the key reads.
        #[arg(long)]
        tenant: String,
        /// Days until the key expires (1 to 90).
        #[arg(long)]
        days: u32,
    },
}

/// Runs `zktx auditor`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Grant {
        data_dir,
        tenant,
        days,
    } = command;
    anyhow::ensure!(
        (1..=MAX_GRANT_DAYS).contains(&days),
        "days: must be between 1 and {MAX_GRANT_DAYS}"
    );
    let (data, store) = store_of(data_dir)?;
    let signer = ReceiptSigner::load_existing(&data.receipt_signing_key())
        .context("data-dir: the receipt key (which signs the audit chain) is unreadable")?;
    let made = grant(&store, &signer, &tenant, days, zktx_server::quota::now_ms())?;
    let expires = time::OffsetDateTime::from_unix_timestamp(made.key.expires_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    println!(
        "auditor key (give it to the auditor; it is not stored anywhere): {}",
        made.secret
    );
    println!(
        "key id {} for tenant {}, read-only, expires {expires}",
        made.key.id, made.key.tenant
    );
    Ok(())
}
