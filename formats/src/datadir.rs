//! The data directory: where a server keeps its state and a sandbox its
//! credentials, and where the load generator and the pilot find them.
//!
//! ```text
//! DATA/keys/                    the key directory (a `KeyDir`), unless configured elsewhere
//! DATA/zktx.db                  the server's store (SQLite, WAL)
//! DATA/receipt-signing.key      the server's Ed25519 receipt-signing seed (0600)
//! DATA/sandbox-demo-api-key     sandbox: the demo tenant's API key (0600)
//! DATA/sandbox-load-api-keys    sandbox: the load tenants' API keys, one per line (0600)
//! DATA/sandbox-capped-api-key   sandbox: the capped tenant's API key (0600)
//! DATA/loadtest-fixtures/       the load generator's cached proofs
//! DATA/pilot/run-<stamp>/       one directory per pilot run
//! ```
//!
//! API-key files hold one key per line; blank lines and lines starting with
//! `#` are skipped when they are read. The server makes the sandbox's files on
//! first start and reuses them after, so a client started beside it (the load
//! generator, the pilot) reads the same keys.

use std::path::{Path, PathBuf};

use crate::{FormatError, KeyDir};

/// The tiers that get development keys in a sandbox.
pub const SANDBOX_TIERS: [usize; 2] = [16, 64];
/// The public seed of the sandbox's development keys.
pub const SANDBOX_SEED: &str = "zktx-sandbox";
/// The sandbox's demo tenant.
pub const DEMO_TENANT: &str = "demo";
/// How many load tenants a sandbox provisions (`load-000`, `load-001`, ...):
/// many, so that a load run's statements stay fresh work (a tenant's repeated
/// valid statement is a replay, answered with its earlier receipt).
pub const LOAD_TENANTS: usize = 512;
/// The sandbox tenant whose daily quota is zero: every new proof it sends is over quota.
pub const CAPPED_TENANT: &str = "capped";
/// The capped tenant's plan.
pub const CAPPED_PLAN: &str = "sandbox-capped";

/// A data directory, laid out as the module documentation describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The default key directory, `DATA/keys`.
    pub fn keys(&self) -> KeyDir {
        KeyDir::new(self.root.join("keys"))
    }

    /// The store, `DATA/zktx.db`.
    pub fn store(&self) -> PathBuf {
        self.root.join("zktx.db")
    }

    /// The receipt-signing seed, `DATA/receipt-signing.key`.
    pub fn receipt_signing_key(&self) -> PathBuf {
        self.root.join("receipt-signing.key")
    }

    /// The demo tenant's API-key file.
    pub fn demo_api_key(&self) -> PathBuf {
        self.root.join("sandbox-demo-api-key")
    }

    /// The load tenants' API-key file, one key per line.
    pub fn load_api_keys(&self) -> PathBuf {
        self.root.join("sandbox-load-api-keys")
    }

    /// The capped tenant's API-key file.
    pub fn capped_api_key(&self) -> PathBuf {
        self.root.join("sandbox-capped-api-key")
    }

    /// The load generator's fixture cache.
    pub fn loadtest_fixtures(&self) -> PathBuf {
        self.root.join("loadtest-fixtures")
    }

    /// The directory of pilot runs.
    pub fn pilot_runs(&self) -> PathBuf {
        self.root.join("pilot")
    }
}

/// The API keys in a key file: one per line, blank lines and `#` comments skipped.
/// A file without a key is an error naming the file.
pub fn read_api_keys(path: &Path) -> Result<Vec<String>, FormatError> {
    let text = std::fs::read_to_string(path).map_err(|e| FormatError::io(path, e))?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        return Err(FormatError::BadFile {
            path: path.to_path_buf(),
            reason: "no API keys in the file".into(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_skip_blanks_and_comments_and_refuse_empty_ones() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        std::fs::write(data.load_api_keys(), "# tenants\nzk_a\n\n  zk_b  \n").unwrap();
        assert_eq!(
            read_api_keys(&data.load_api_keys()).unwrap(),
            ["zk_a", "zk_b"]
        );
        std::fs::write(data.capped_api_key(), "# none\n\n").unwrap();
        let err = read_api_keys(&data.capped_api_key()).unwrap_err();
        assert!(matches!(err, FormatError::BadFile { .. }));
        assert!(matches!(
            read_api_keys(&data.demo_api_key()),
            Err(FormatError::Io { .. })
        ));
        assert_eq!(data.keys().root(), dir.path().join("keys"));
    }
}
