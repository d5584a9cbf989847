//! Sandbox mode: what `zktx serve` with no arguments needs to be useful at
//! once, on loopback only: dev keys for the small tiers and a demo tenant
//! whose API key is kept (mode 0600) in the data directory so it can be
//! printed again; the store holds only its hash, like any other key.

use std::path::Path;

use zktx_circuits::Tier;
use zktx_prover::{generate_keys, KeyDir, KeySource};

use crate::config::{ServerConfig, TenantConfig};
use crate::startup::ServerError;
use crate::tenants::{hash_api_key, new_api_key};

/// The demo tenant's id.
pub const DEMO_TENANT: &str = "demo";
/// The tiers that get dev keys in sandbox mode.
pub const SANDBOX_TIERS: [usize; 2] = [16, 64];
/// The public seed of the sandbox's dev keys.
pub const SANDBOX_SEED: &str = "zktx-sandbox";

/// Refuses to run a sandbox anywhere but on loopback.
pub fn check_loopback(config: &ServerConfig) -> Result<(), ServerError> {
    for addr in [config.grpc_addr, config.http_addr] {
        if !addr.ip().is_loopback() {
            return Err(ServerError::Sandbox(format!(
                "sandbox mode serves dev keys and a demo key: it listens on loopback only, not {addr}"
            )));
        }
    }
    Ok(())
}

/// Generates dev keys for [`SANDBOX_TIERS`] that the key directory lacks.
pub fn ensure_dev_keys(keys: &KeyDir) -> Result<Vec<usize>, ServerError> {
    let mut made = Vec::new();
    for capacity in SANDBOX_TIERS {
        let tier = Tier::new(capacity).map_err(|e| ServerError::Sandbox(e.to_string()))?;
        if !keys.has_tier(tier) {
            tracing::info!(tier = capacity, "sandbox: generating dev keys");
            let generated = generate_keys(tier, &KeySource::DevSeed(SANDBOX_SEED.into()))?;
            keys.write(&generated)?;
            made.push(capacity);
        }
    }
    Ok(made)
}

/// Adds the demo tenant (plan `sandbox`) unless the configuration has one;
/// returns its API key.
pub fn ensure_demo_tenant(
    config: &mut ServerConfig,
    data_dir: &Path,
) -> Result<Option<String>, ServerError> {
    if config.tenants.iter().any(|t| t.id == DEMO_TENANT) {
        return Ok(None);
    }
    let path = data_dir.join("sandbox-demo-api-key");
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key.trim().to_string(),
        Err(_) => {
            let key = new_api_key();
            zktx_prover::write_with_mode(&path, key.as_bytes(), 0o600)?;
            key
        }
    };
    config.tenants.push(TenantConfig {
        id: DEMO_TENANT.into(),
        plan: "sandbox".into(),
        api_key_sha256: vec![hex::encode(hash_api_key(&key))],
    });
    Ok(Some(key))
}
