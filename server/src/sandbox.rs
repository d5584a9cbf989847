//! Sandbox mode: what `zktx serve` with no arguments needs to be useful at
//! once, on loopback only: dev keys for the small tiers and a demo tenant
//! whose API key is kept (mode 0600) in the data directory so it can be
//! printed again; the store holds only its hash, like any other key. The
//! files' names and the tenants' names are `zktx_formats::datadir`'s, the
//! documented layout that clients started beside the sandbox read.

use std::path::Path;

use zktx_circuits::Tier;
use zktx_formats::datadir::{
    CAPPED_PLAN, CAPPED_TENANT, DEMO_TENANT, LOAD_TENANTS, SANDBOX_SEED, SANDBOX_TIERS,
};
use zktx_formats::{DataDir, KeyDir};
use zktx_prover::{generate_keys, KeySource};

use crate::config::{Plan, ServerConfig, TenantConfig};
use crate::startup::ServerError;
use crate::tenants::{hash_api_key, new_api_key};

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
    let key = keys_in_file(&DataDir::new(data_dir).demo_api_key(), 1)?.remove(0);
    add_tenant(config, DEMO_TENANT, "sandbox", &key);
    Ok(Some(key))
}

/// Adds the load tenants ([`LOAD_TENANTS`], plan `sandbox`, keys in
/// [`DataDir::load_api_keys`]) and the capped tenant (plan [`CAPPED_PLAN`], a
/// daily quota of zero, key in [`DataDir::capped_api_key`]), unless the
/// configuration has them.
pub fn ensure_load_tenants(config: &mut ServerConfig, data_dir: &Path) -> Result<(), ServerError> {
    let data = DataDir::new(data_dir);
    if !config.tenants.iter().any(|t| t.id.starts_with("load-")) {
        let keys = keys_in_file(&data.load_api_keys(), LOAD_TENANTS)?;
        for (i, key) in keys.iter().enumerate() {
            add_tenant(config, &format!("load-{i:03}"), "sandbox", key);
        }
    }
    if !config.tenants.iter().any(|t| t.id == CAPPED_TENANT) {
        config.plans.entry(CAPPED_PLAN.into()).or_insert(Plan {
            requests_per_second: 10_000,
            burst: 20_000,
            daily_proofs: 0,
            max_batch: 1_000,
            tiers: None,
            edition: None,
        });
        let key = keys_in_file(&data.capped_api_key(), 1)?.remove(0);
        add_tenant(config, CAPPED_TENANT, CAPPED_PLAN, &key);
    }
    Ok(())
}

fn add_tenant(config: &mut ServerConfig, id: &str, plan: &str, key: &str) {
    config.tenants.push(TenantConfig {
        id: id.into(),
        plan: plan.into(),
        api_key_sha256: vec![hex::encode(hash_api_key(key))],
    });
}

/// `count` API keys kept in `path` (mode 0600, one per line), made on first use.
fn keys_in_file(path: &Path, count: usize) -> Result<Vec<String>, ServerError> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let keys: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
        if keys.len() == count && keys.iter().all(|k| !k.is_empty()) {
            return Ok(keys);
        }
    }
    let keys: Vec<String> = (0..count).map(|_| new_api_key()).collect();
    zktx_formats::write_with_mode(path, keys.join("\n").as_bytes(), 0o600)?;
    Ok(keys)
}
