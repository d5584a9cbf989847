//! Backups of the embedded store, taken while the server runs, and their
//! restore. A backup is a consistent copy (SQLite `VACUUM INTO`, one read
//! transaction) whose audit chain is walked before it is kept; a restore
//! walks the backup's chain before it replaces anything, then again in place.

use std::path::{Path, PathBuf};

use super::audit::{open_read_only, verify_data_dir, AuditCheckError, AuditReport};

/// Why a backup or a restore did nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination exists (a backup never overwrites; a restore needs `force`).
    #[error("{field}: {path} already exists{hint}")]
    Exists {
        /// The argument naming it.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// What to do about it.
        hint: &'static str,
    },
    /// The source is missing.
    #[error("{field}: no store at {path}")]
    Missing {
        /// The argument naming it.
        field: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// SQLite refused the copy.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The copy's audit chain does not check: nothing was kept or replaced.
    #[error("the {which}'s audit chain does not check: {source}")]
    Check {
        /// `backup` or `restored store`.
        which: &'static str,
        /// The first broken link.
        source: AuditCheckError,
    },
}

fn check(path: &Path, public_key: &str, which: &'static str) -> Result<AuditReport, BackupError> {
    verify_data_dir(path, public_key).map_err(|source| BackupError::Check { which, source })
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Copies the store at `store` (which a server may be using) to `out`, a
/// new file, and checks the copy's audit chain with `public_key` (the
/// receipt key, hex). The copy is written beside `out` and renamed into
/// place only once it checks.
pub fn backup(store: &Path, out: &Path, public_key: &str) -> Result<AuditReport, BackupError> {
    if !store.is_file() {
        return Err(BackupError::Missing {
            field: "data-dir",
            path: store.to_path_buf(),
        });
    }
    if out.exists() {
        return Err(BackupError::Exists {
            field: "out",
            path: out.to_path_buf(),
            hint: " (a backup never overwrites: choose another name)",
        });
    }
    let partial = beside(out, ".partial");
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let conn = open_read_only(store).map_err(|e| match e {
            AuditCheckError::Store(e) => BackupError::Store(e),
            other => BackupError::Check {
                which: "store",
                source: other,
            },
        })?;
        conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()])?;
        drop(conn);
        std::fs::File::open(&partial)?.sync_all()?;
        check(&partial, public_key, "backup")
    })();
    match result {
        Ok(report) => {
            std::fs::rename(&partial, out)?;
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Replaces the store at `store` with the backup at `from`, after checking
/// the backup's audit chain with `public_key`; refuses to replace an
/// existing store unless `force`. The server must not be running on it. The
/// old store's write-ahead log goes with it (applied to the backup it would
/// corrupt it). The restored store is checked again in place.
pub fn restore(
    from: &Path,
    store: &Path,
    public_key: &str,
    force: bool,
) -> Result<AuditReport, BackupError> {
    if !from.is_file() {
        return Err(BackupError::Missing {
            field: "from",
            path: from.to_path_buf(),
        });
    }
    check(from, public_key, "backup")?;
    if store.exists() && !force {
        return Err(BackupError::Exists {
            field: "data-dir",
            path: store.to_path_buf(),
            hint: " (stop the server, then --force to replace it)",
        });
    }
    if let Some(dir) = store.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let incoming = beside(store, ".restoring");
    std::fs::copy(from, &incoming)?;
    std::fs::File::open(&incoming)?.sync_all()?;
    for stale in [beside(store, "-wal"), beside(store, "-shm")] {
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&incoming, store)?;
    check(store, public_key, "restored store")
}
