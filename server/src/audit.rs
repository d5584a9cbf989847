//! What the server itself writes to the audit chain at start: that it
//! started (profile, version, configuration digest), a configuration that
//! differs from the previous start's, each verifying key loaded, and the API
//! keys added to or removed from each tenant since the previous start.
//! Request-path events (denials, waiver uses) are tallied by the admission
//! gate and the quotas; receipt groups are chained by the store's writer.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use zktx_governance::audit::{AuditEvent, AuditKind};

use crate::config::ServerConfig;
use crate::service::CircuitInfo;
use crate::store::{Store, StoreError};

/// The audit state's name for the previous start's configuration digest.
const CONFIG_STATE: &str = "config_sha256";
/// The audit state's name for the API keys each tenant had at the previous start.
const KEYS_STATE: &str = "api_keys";

/// The SHA-256 (hex) of the configuration in force, as JSON.
pub fn config_digest(config: &ServerConfig) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(config).unwrap_or_default(),
    ))
}

/// A configured key's name in the audit chain: the first 16 hex digits of
/// its SHA-256 (which the configuration holds; the key itself never is).
fn key_id(sha256_hex: &str) -> String {
    sha256_hex.chars().take(16).collect()
}

/// A key origin's name as manifests write it (`dev-seed`, `single-party`, `ceremony`).
fn origin_name(origin: zktx_formats::KeyOrigin) -> String {
    serde_json::to_value(origin)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The configured API keys, by tenant.
fn configured_keys(config: &ServerConfig) -> BTreeMap<String, BTreeSet<String>> {
    config
        .tenants
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                t.api_key_sha256.iter().map(|h| key_id(h)).collect(),
            )
        })
        .collect()
}

/// The start's audit events and the state they leave, given what the
/// previous start left (`previous_config`, `previous_keys` as JSON).
pub fn start_events(
    config: &ServerConfig,
    circuits: &[CircuitInfo],
    previous_config: Option<&str>,
    previous_keys: Option<&str>,
    now_ms: i64,
) -> (Vec<AuditEvent>, Vec<(String, String)>) {
    let digest = config_digest(config);
    let mut events = vec![AuditEvent::new(now_ms, AuditKind::ServerStarted, None)
        .with("profile", config.profile.name())
        .with("version", env!("CARGO_PKG_VERSION"))
        .with("config_sha256", &digest)
        .with("sandbox", config.sandbox)];
    if let Some(previous) = previous_config.filter(|p| *p != digest) {
        events.push(
            AuditEvent::new(now_ms, AuditKind::ConfigChanged, None)
                .with("previous_sha256", previous)
                .with("config_sha256", &digest),
        );
    }
    for c in circuits {
        events.push(
            AuditEvent::new(now_ms, AuditKind::KeyLoaded, None)
                .with("circuit", &c.circuit)
                .with("tier", c.tier)
                .with("key_fingerprint", &c.key_fingerprint)
                .with("origin", origin_name(c.origin)),
        );
    }
    let keys = configured_keys(config);
    let before: BTreeMap<String, BTreeSet<String>> = previous_keys
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    let empty = BTreeSet::new();
    let tenants: BTreeSet<&String> = keys.keys().chain(before.keys()).collect();
    for tenant in tenants {
        let (now_set, then_set) = (
            keys.get(tenant).unwrap_or(&empty),
            before.get(tenant).unwrap_or(&empty),
        );
        for added in now_set.difference(then_set) {
            events.push(
                AuditEvent::new(now_ms, AuditKind::ApiKeyAdded, Some(tenant)).with("key_id", added),
            );
        }
        for revoked in then_set.difference(now_set) {
            events.push(
                AuditEvent::new(now_ms, AuditKind::ApiKeyRevoked, Some(tenant))
                    .with("key_id", revoked),
            );
        }
    }
    let state = vec![
        (CONFIG_STATE.to_string(), digest),
        (
            KEYS_STATE.to_string(),
            serde_json::to_string(&keys).unwrap_or_default(),
        ),
    ];
    (events, state)
}

/// Writes the start's events to `store`'s chain.
pub async fn record_start(
    store: &Store,
    config: &ServerConfig,
    circuits: &[CircuitInfo],
    now_ms: i64,
) -> Result<(), StoreError> {
    let (events, state) = start_events(
        config,
        circuits,
        store.audit_state(CONFIG_STATE)?.as_deref(),
        store.audit_state(KEYS_STATE)?.as_deref(),
        now_ms,
    );
    store.record(events, state).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TenantConfig;

    fn kinds(events: &[AuditEvent]) -> Vec<(AuditKind, Option<String>)> {
        events.iter().map(|e| (e.kind, e.tenant.clone())).collect()
    }

    #[test]
    fn a_start_records_changes_since_the_previous_one() {
        let mut config = ServerConfig::default();
        config.tenants.push(TenantConfig {
            id: "acme".into(),
            plan: "pro".into(),
            api_key_sha256: vec!["aa".repeat(32), "bb".repeat(32)],
        });
        let (first, state) = start_events(&config, &[], None, None, 1);
        assert_eq!(
            kinds(&first),
            [
                (AuditKind::ServerStarted, None),
                (AuditKind::ApiKeyAdded, Some("acme".into())),
                (AuditKind::ApiKeyAdded, Some("acme".into())),
            ]
        );
        assert_eq!(first[1].details["key_id"], "a".repeat(16));
        // The same configuration again: only the start.
        let (again, _) = start_events(&config, &[], Some(&state[0].1), Some(&state[1].1), 2);
        assert_eq!(kinds(&again), [(AuditKind::ServerStarted, None)]);
        // A key rotated: one added, one revoked, and the configuration changed.
        config.tenants[0].api_key_sha256[1] = "cc".repeat(32);
        let (rotated, _) = start_events(&config, &[], Some(&state[0].1), Some(&state[1].1), 3);
        assert_eq!(
            kinds(&rotated),
            [
                (AuditKind::ServerStarted, None),
                (AuditKind::ConfigChanged, None),
                (AuditKind::ApiKeyAdded, Some("acme".into())),
                (AuditKind::ApiKeyRevoked, Some("acme".into())),
            ]
        );
        assert_eq!(rotated[3].details["key_id"], "b".repeat(16));
        // No event carries a whole key hash.
        for event in first.iter().chain(&rotated) {
            for value in event.details.values() {
                assert!(!value.contains(&"aa".repeat(32)) && !value.contains(&"cc".repeat(32)));
            }
        }
    }
}
