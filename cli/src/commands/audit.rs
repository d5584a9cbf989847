//! `zktx audit verify|export`: the audit chain, offline.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context;
use time::OffsetDateTime;
use zktx_formats::DataDir;
use zktx_governance::audit::{verify_export, ExportScope};
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::audit::{export, verify_data_dir};

use crate::commands::serve::default_data_dir;
use crate::exit::{Coded, FAILURE};

/// `zktx audit` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Walk the audit chain and name the first broken link.
    #[command(after_help = "\
Examples:
  zktx audit verify --data-dir /srv/zktx          # the store's chain, its signed head, every receipt
  zktx audit verify --export acme-2026-11.jsonl --public-key <hex>

With --data-dir: walks every entry, checks each link and hash, checks the signed head with the
receipt key (DATA_DIR/receipt.key, or --public-key), and checks that every receipt's group root
is in the chain. With --export: checks a tenant's export without any database. Exits 0 when
intact, 1 naming the first broken link. Safe while the server runs (read-only).")]
    Verify {
        /// The data directory whose store to check.
        #[arg(long, value_name = "DIR", conflicts_with = "export")]
        data_dir: Option<PathBuf>,
        /// An export file (`zktx audit export`) to check instead.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// The server's receipt key (hex; `GET /v1/receipt-key`). For an
        /// export, without it the head is checked with the key it names,
        /// which proves integrity but not origin.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
    /// Write one tenant's audit entries, and the signed head, as JSON Lines.
    #[command(after_help = "\
Example:
  zktx audit export --data-dir /srv/zktx --tenant acme --from 2026-11-01 --to 2026-11-30 --out acme.jsonl

The tenant's entries and the server's own (receipt groups, starts, key loads) in the period are
written in full; other tenants' entries and those outside the period as their digests only, so
the chain can be walked to the signed head. Dates are UTC days (--to includes its day) or RFC
3339 times (--to excludes its instant). Check it with `zktx audit verify --export FILE`.")]
    Export {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The period's first day (YYYY-MM-DD) or instant (RFC 3339).
        #[arg(long, value_name = "DATE", value_parser = parse_from)]
        from: Option<i64>,
        /// The period's last day (YYYY-MM-DD, included) or end (RFC 3339, excluded).
        #[arg(long, value_name = "DATE", value_parser = parse_to)]
        to: Option<i64>,
        /// Where to write the export.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Milliseconds of `text`: an RFC 3339 instant, or a UTC day's start plus `day_offset` days.
fn parse_date(text: &str, day_offset: i64) -> Result<i64, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok((at.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let start = zktx_governance::audit::export::day_start_ms(text)
        .ok_or_else(|| "expected a UTC day (2026-11-01) or an RFC 3339 time".to_string())?;
    Ok(start + day_offset * 86_400_000)
}

fn parse_from(text: &str) -> Result<i64, String> {
    parse_date(text, 0)
}

fn parse_to(text: &str) -> Result<i64, String> {
    if text.len() == 10 {
        parse_date(text, 1)
    } else {
        parse_date(text, 0)
    }
}

/// The data directory (default: the sandbox's) and its store, which must exist.
pub(crate) fn store_of(data_dir: Option<PathBuf>) -> anyhow::Result<(DataDir, PathBuf)> {
    let data = DataDir::new(data_dir.unwrap_or_else(default_data_dir));
    let store = data.store();
    anyhow::ensure!(
        store.is_file(),
        "data-dir: no store at {} (is this a zktx data directory?)",
        store.display()
    );
    Ok((data, store))
}

/// Runs `zktx audit`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Verify {
            data_dir,
            export,
            public_key,
        } => match export {
            Some(file) => verify_export_file(&file, public_key.as_deref()),
            None => verify_store(data_dir, public_key),
        },
        Command::Export {
            data_dir,
            tenant,
            from,
            to,
            out,
        } => {
            if let (Some(from), Some(to)) = (from, to) {
                anyhow::ensure!(from < to, "to: the period ends before it starts");
            }
            let (_, store) = store_of(data_dir)?;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("out: cannot create {}", out.display()))?;
            let mut writer = BufWriter::new(file);
            let scope = ExportScope {
                tenant: tenant.clone(),
                from_ms: from,
                to_ms: to,
            };
            match export(&store, scope, &mut writer) {
                Ok(lines) => {
                    println!("wrote {} lines to {}", lines, out.display());
                    Ok(())
                }
                Err(e) => {
                    drop(writer);
                    let _ = std::fs::remove_file(&out);
                    Err(e.into())
                }
            }
        }
    }
}

fn verify_store(data_dir: Option<PathBuf>, public_key: Option<String>) -> anyhow::Result<()> {
    let (data, store) = store_of(data_dir)?;
    let public_key = match public_key {
        Some(key) => key,
        None => ReceiptSigner::public_key_of(&data.receipt_signing_key())
            .context("public-key: not given, and the data directory's receipt key is unreadable")?,
    };
    match verify_data_dir(&store, &public_key) {
        Ok(report) => {
            println!(
                "audit chain intact: {} entries, {} receipt groups; {} receipts in the chain{}",
                report.entries,
                report.groups,
                report.receipts_in_chain,
                if report.receipts_before_chain > 0 {
                    format!(
                        ", {} issued before the chain began",
                        report.receipts_before_chain
                    )
                } else {
                    String::new()
                }
            );
            if let Some(head) = report.head {
                println!(
                    "signed head: entry {} hash {} signed by {}",
                    head.seq, head.hash, public_key
                );
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("audit chain BROKEN: {e}");
            Err(Coded { code: FAILURE }.into())
        }
    }
}

fn verify_export_file(file: &Path, public_key: Option<&str>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("export: cannot read {}", file.display()))?;
    match verify_export(&text, public_key) {
        Ok(summary) => {
            println!(
                "export intact: tenant {}, {} entries shown, {} by digest, head entry {} hash {}",
                summary.tenant,
                summary.entries.len(),
                summary.links,
                summary.head.seq,
                summary.head.hash
            );
            if public_key.is_none() {
                println!(
                    "signed by {} (the key the export names: pass --public-key to check it is the server's)",
                    summary.public_key
                );
            } else {
                println!("signed by {}", summary.public_key);
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("export BROKEN: {e}");
            Err(Coded { code: FAILURE }.into())
        }
    }
}
