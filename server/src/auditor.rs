//! Readers: the endpoints that only read a tenant's records (receipts,
//! usage, entitlements, invoices, the audit export) accept the tenant's own keys and
//! its auditor keys (`zktx auditor grant`). An auditor key is read-only and
//! expiring: it never verifies or spends quota (every other endpoint
//! answers it `PERMISSION_DENIED`), it is `UNAUTHENTICATED` after its
//! expiry, it works only while the tenant's plan has auditor access and the
//! server's evidence holds, and each read it makes is in the audit chain
//! before it is answered.

use std::sync::Arc;

use zktx_governance::audit::{AuditEvent, AuditKind};
use zktx_governance::entitlements::Feature;

use crate::error::ApiError;
use crate::quota::now_ms;
use crate::service::Service;
use crate::store::auditors::{AuditorKey, AUDITOR_KEY_PREFIX};
use crate::tenants::Tenant;

/// Who is reading a tenant's records.
pub struct Reader {
    /// The tenant whose records are read.
    pub tenant: Arc<Tenant>,
    /// The auditor key, when it is an auditor reading.
    pub auditor: Option<AuditorKey>,
}

/// The key in an `authorization: Bearer <key>` value, if it is an auditor's.
fn auditor_secret(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    key.starts_with(AUDITOR_KEY_PREFIX).then_some(key)
}

impl Service {
    /// The auditor key `authorization` carries, valid now, and its tenant.
    fn auditor(&self, secret: &str) -> Result<(AuditorKey, Arc<Tenant>), ApiError> {
        let key = self
            .store()
            .auditor_key(secret)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or(ApiError::Unauthenticated("unknown API key"))?;
        if key.expires_ms <= now_ms() {
            return Err(ApiError::Unauthenticated(
                "auditor key expired: ask the tenant's operator for a new grant (`zktx auditor grant`)",
            ));
        }
        let tenant = self
            .tenant_by_id(&key.tenant)
            .ok_or(ApiError::Unauthenticated(
                "auditor key's tenant is no longer configured",
            ))?;
        Ok((key, tenant))
    }

    /// What a call that verifies or writes answers an auditor key: a valid
    /// one `PERMISSION_DENIED` (it is read-only), any other `UNAUTHENTICATED`.
    /// `refusal` is the tenant authentication's own error, kept for other keys.
    pub fn refuse_auditor(&self, authorization: Option<&str>, refusal: ApiError) -> ApiError {
        match auditor_secret(authorization) {
            Some(secret) => match self.auditor(secret) {
                Ok(_) => ApiError::PermissionDenied(
                    "an auditor key is read-only: it reads the tenant's receipts, usage, entitlements, invoices and audit export, and never verifies"
                        .into(),
                ),
                Err(e) => e,
            },
            None => refusal,
        }
    }

    /// The reader of a call to a read-only endpoint reading `what`: the
    /// tenant (`tenant`, its authentication's result, with one request
    /// taken from its rate) or an auditor key for it, whose read is audited
    /// before this returns.
    pub async fn reader(
        &self,
        tenant: Result<Arc<Tenant>, ApiError>,
        authorization: Option<&str>,
        what: &str,
    ) -> Result<Reader, ApiError> {
        let secret = match (tenant, auditor_secret(authorization)) {
            (Ok(tenant), _) => {
                self.quotas().check_rate(&tenant)?;
                return Ok(Reader {
                    tenant,
                    auditor: None,
                });
            }
            (Err(_), Some(secret)) => secret,
            (Err(e), None) => return Err(e),
        };
        let (key, tenant) = self.auditor(secret)?;
        self.require(&tenant, Feature::AuditorAccess)?;
        let event = AuditEvent::new(now_ms(), AuditKind::AuditorAccess, Some(&tenant.id))
            .with("key_id", &key.id)
            .with("read", what);
        self.store()
            .record(vec![event], Vec::new())
            .await
            .map_err(|e| ApiError::Internal(format!("audit: {e}")))?;
        Ok(Reader {
            tenant,
            auditor: Some(key),
        })
    }
}
