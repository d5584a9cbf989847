//! Tenants and API keys. Keys are never stored: the configuration holds the
//! SHA-256 of each, and a presented key is hashed and looked up.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::config::{Plan, ServerConfig};
use crate::error::ApiError;

/// A tenant and its plan.
#[derive(Debug)]
pub struct Tenant {
    /// The tenant id (appears on receipts).
    pub id: String,
    /// The plan's name.
    pub plan_name: String,
    /// The plan.
    pub plan: Plan,
}

/// API key → tenant.
pub struct Tenants {
    by_key_hash: HashMap<[u8; 32], Arc<Tenant>>,
    all: Vec<Arc<Tenant>>,
}

/// The SHA-256 of an API key, as configured in `api_key_sha256`.
pub fn hash_api_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A fresh API key: `zktx_` and 32 random bytes in hex.
pub fn new_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("zktx_{}", hex::encode(bytes))
}

impl Tenants {
    /// The tenants of a (validated) configuration.
    pub fn from_config(config: &ServerConfig) -> Self {
        let mut by_key_hash = HashMap::new();
        let mut all = Vec::new();
        for t in &config.tenants {
            let tenant = Arc::new(Tenant {
                id: t.id.clone(),
                plan_name: t.plan.clone(),
                plan: config.plans[&t.plan].clone(),
            });
            for hash in &t.api_key_sha256 {
                let mut key = [0u8; 32];
                if hex::decode_to_slice(hash, &mut key).is_ok() {
                    by_key_hash.insert(key, tenant.clone());
                }
            }
            all.push(tenant);
        }
        Self { by_key_hash, all }
    }

    /// Every tenant.
    pub fn all(&self) -> &[Arc<Tenant>] {
        &self.all
    }

    /// The tenant whose key is in an `authorization: Bearer <key>` value.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Arc<Tenant>, ApiError> {
        let value = authorization.ok_or(ApiError::Unauthenticated(
            "missing API key: send `authorization: Bearer <key>`",
        ))?;
        let key = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthenticated(
                "malformed authorization: expected `Bearer <key>`",
            ))?;
        self.by_key_hash
            .get(&hash_api_key(key.trim()))
            .cloned()
            .ok_or(ApiError::Unauthenticated("unknown API key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TenantConfig;

    #[test]
    fn keys_are_matched_by_hash_only() {
        let key = new_api_key();
        let mut config = ServerConfig::default();
        config.tenants.push(TenantConfig {
            id: "acme".into(),
            plan: "pro".into(),
            api_key_sha256: vec![hex::encode(hash_api_key(&key))],
        });
        let tenants = Tenants::from_config(&config);
        let tenant = tenants
            .authenticate(Some(&format!("Bearer {key}")))
            .unwrap();
        assert_eq!(
            (tenant.id.as_str(), tenant.plan_name.as_str()),
            ("acme", "pro")
        );
        assert!(matches!(
            tenants.authenticate(None),
            Err(ApiError::Unauthenticated(_))
        ));
        assert!(tenants.authenticate(Some(&key)).is_err());
        let wrong = tenants.authenticate(Some("Bearer zktx_nope")).unwrap_err();
        assert!(
            !wrong.to_string().contains("zktx_nope"),
            "errors never echo keys"
        );
    }
}
