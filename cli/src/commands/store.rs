//! `zktx store backup|restore`: copies of the embedded store, checked.

use std::path::PathBuf;

use anyhow::Context;
use zktx_formats::DataDir;
use zktx_server::receipt::ReceiptSigner;
use zktx_server::store::backup::{backup, restore};

use super::serve::default_data_dir;

/// `zktx store` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Copy the store while the server runs (consistent), then check the copy's audit chain.
    #[command(
        after_help = "Example:\n  zktx store backup --data-dir /var/lib/zktx --out /backup/zktx-2026-12-01.db\n\n\
The copy is taken in one read transaction (SQLite VACUUM INTO), so the server keeps serving.\n\
It is kept only if its audit chain checks with the receipt key (DATA_DIR's, or --public-key);\n\
an existing file is never overwritten. The receipt key itself is not in the backup."
    )]
    Backup {
        /// The data directory whose store to copy.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The backup file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The receipt public key (hex) to check the copy's signed head with.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
    /// Put a backup in place of a data directory's store (the server stopped), checked before and after.
    #[command(
        after_help = "Example:\n  zktx store restore --from /backup/zktx-2026-12-01.db --data-dir /var/lib/zktx --force\n\n\
Checks the backup's audit chain first and replaces nothing if it is broken. Refuses to replace an\n\
existing store without --force; stop the server on DATA_DIR first. The receipt key must be the\n\
one that signed the backup's chain (DATA_DIR's, or --public-key)."
    )]
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The data directory to restore into.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The receipt public key (hex) to check the backup's signed head with.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        /// Replace an existing store.
        #[arg(long)]
        force: bool,
    },
}

fn public_key(data: &DataDir, given: Option<String>) -> anyhow::Result<String> {
    match given {
        Some(key) => Ok(key),
        None => ReceiptSigner::public_key_of(&data.receipt_signing_key())
            .context("public-key: not given, and the data directory's receipt key is unreadable"),
    }
}

/// Runs `zktx store`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Backup {
            data_dir,
            out,
            public_key: given,
        } => {
            let data = DataDir::new(data_dir.unwrap_or_else(default_data_dir));
            let key = public_key(&data, given)?;
            let report = backup(&data.store(), &out, &key)?;
            println!(
                "backed up to {}: {} audit entries, {} receipts in the chain, chain intact",
                out.display(),
                report.entries,
                report.receipts_in_chain
            );
            Ok(())
        }
        Command::Restore {
            from,
            data_dir,
            public_key: given,
            force,
        } => {
            let data = DataDir::new(data_dir.unwrap_or_else(default_data_dir));
            let key = public_key(&data, given)?;
            let report = restore(&from, &data.store(), &key, force)?;
            println!(
                "restored {} into {}: {} audit entries, {} receipts in the chain, chain intact",
                from.display(),
                data.store().display(),
                report.entries,
                report.receipts_in_chain
            );
            Ok(())
        }
    }
}
