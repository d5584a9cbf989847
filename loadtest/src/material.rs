//! What a run sends, assembled from the tenants' API keys and the cached
//! fixtures: each tenant gets its own re-randomisations of every statement.

use std::path::Path;

use zktx_circuits::Tier;
use zktx_formats::datadir::read_api_keys;
use zktx_formats::{DataDir, KeyDir};

use crate::driver::Material;
use crate::fixtures::{rerandomised, FixtureCache};
use crate::LoadError;

/// The API keys a run uses.
#[derive(Clone, Debug)]
pub struct TenantKeys {
    /// Keys of tenants with room in their plans; calls cycle over them.
    pub load: Vec<String>,
    /// A key whose daily quota is zero, for over-quota requests.
    pub capped: Option<String>,
}

impl TenantKeys {
    /// The keys a sandbox server (`zktx serve`) keeps in its data directory.
    pub fn sandbox(data_dir: &Path) -> Result<Self, LoadError> {
        let data = DataDir::new(data_dir);
        let load = read_api_keys(&data.load_api_keys())?;
        let capped = read_api_keys(&data.capped_api_key())
            .ok()
            .and_then(|k| k.into_iter().next());
        Ok(Self { load, capped })
    }

    /// Keys from a file, one per line (blank lines and `#` comments skipped).
    pub fn from_file(path: &Path, capped: Option<String>) -> Result<Self, LoadError> {
        Ok(Self {
            load: read_api_keys(path)?,
            capped,
        })
    }
}

/// How many tenants a run's material covers and how many distinct proofs each gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Tenants (at most the keys there are).
    pub tenants: usize,
    /// Distinct proofs per tenant (cycling over the statements).
    pub per_tenant: usize,
}

impl Shape {
    /// About `proofs` single fresh proofs: each tenant proves each statement once.
    pub fn for_proofs(proofs: usize, statements: usize) -> Self {
        Self {
            tenants: proofs.div_ceil(statements.max(1)).max(1),
            per_tenant: statements,
        }
    }

    /// `calls` batch calls of `size` proofs, each call from its own tenant (a
    /// statement may repeat within a call, with its own bytes, and is still
    /// verified; across calls of one tenant it would be a replay).
    pub fn for_batches(calls: usize, size: usize) -> Self {
        Self {
            tenants: calls.max(1),
            per_tenant: size.max(1),
        }
    }
}

/// Material of `shape` at `tier`: `statements` statements (proved once,
/// cached), re-randomised into distinct proofs for each tenant, so every valid
/// proof is fresh work until a tenant's pool wraps around (answers then are
/// replays, and reports count them).
pub fn build(
    cache: &FixtureCache,
    keys: &KeyDir,
    tier: Tier,
    statements: usize,
    tenants: TenantKeys,
    shape: Shape,
) -> Result<Material, LoadError> {
    if statements == 0 {
        return Err(LoadError::Invalid("statements must be at least 1".into()));
    }
    let (envelopes, vk) = cache.statements(keys, tier, statements)?;
    let used = shape.tenants.clamp(1, tenants.load.len());
    let proofs = (0..used)
        .map(|t| {
            rerandomised(
                &vk,
                &envelopes,
                shape.per_tenant.max(1),
                1 + t as u64,
                false,
            )
        })
        .collect();
    Material::new(tenants.load[..used].to_vec(), proofs, tenants.capped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            Shape::for_proofs(300, 128),
            Shape {
                tenants: 3,
                per_tenant: 128
            }
        );
        assert_eq!(Shape::for_proofs(0, 128).tenants, 1);
        assert_eq!(
            Shape::for_batches(24, 500),
            Shape {
                tenants: 24,
                per_tenant: 500
            }
        );
    }
}
