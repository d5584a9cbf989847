//! Per-tenant limits: a token bucket on requests (governor) and a daily proof
//! quota. The daily count is rebuilt from the store's usage events at start,
//! so it survives a restart; it only grows when the store reports events
//! durable, so a cancelled request can never leave it out of step.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use zktx_governance::audit::{AuditKind, Tally};

use crate::error::ApiError;
use crate::store::utc_day;
use crate::tenants::Tenant;

#[derive(Debug, Default)]
struct Daily {
    /// Durable usage events on `day`.
    used: u64,
    /// Proofs admitted but not yet durable (or not yet released).
    reserved: u64,
    day: i64,
}

/// Rate limits and daily quotas for every tenant.
pub struct Quotas {
    limiters: HashMap<String, DefaultDirectRateLimiter>,
    daily: Arc<Mutex<HashMap<String, Daily>>>,
    clock: DefaultClock,
    /// Where refusals are counted for the audit chain.
    tally: Option<Arc<Tally>>,
    /// Refusals by reason, for metrics.
    denials: Option<prometheus::IntCounterVec>,
}

/// Proofs admitted against a tenant's daily quota; released when dropped
/// (the store's durable usage events take their place).
#[derive(Debug)]
pub struct Reservation {
    daily: Arc<Mutex<HashMap<String, Daily>>>,
    tenant: String,
    count: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(d) = self.daily.lock().expect("quota lock").get_mut(&self.tenant) {
            d.reserved = d.reserved.saturating_sub(self.count);
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Quotas {
    /// Limits for `tenants`, with no usage yet (see [`Quotas::restore`]).
    pub fn new(tenants: &[Arc<Tenant>]) -> Self {
        let today = utc_day(now_ms());
        let mut limiters = HashMap::new();
        let mut daily = HashMap::new();
        for t in tenants {
            let rate = NonZeroU32::new(t.plan.requests_per_second).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(t.plan.burst).unwrap_or(NonZeroU32::MIN);
            limiters.insert(
                t.id.clone(),
                RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            );
            daily.insert(
                t.id.clone(),
                Daily {
                    used: 0,
                    reserved: 0,
                    day: today,
                },
            );
        }
        Self {
            limiters,
            daily: Arc::new(Mutex::new(daily)),
            clock: DefaultClock::default(),
            tally: None,
            denials: None,
        }
    }

    /// The same, counting every refusal in `tally` (audited as
    /// `quota_denial` entries, by tenant and reason).
    pub fn audited(mut self, tally: Arc<Tally>) -> Self {
        self.tally = Some(tally);
        self
    }

    /// The same, counting every refusal in `denials` by reason
    /// (`rate_limit`, `daily_quota`).
    pub fn counted(mut self, denials: prometheus::IntCounterVec) -> Self {
        self.denials = Some(denials);
        self
    }

    fn audit(&self, tenant: &Tenant, reason: &str, now: i64) {
        if let Some(denials) = &self.denials {
            denials.with_label_values(&[reason]).inc();
        }
        if let Some(tally) = &self.tally {
            tally.record(
                AuditKind::QuotaDenial,
                &tenant.id,
                &[("reason", reason)],
                now,
            );
        }
    }

    /// Takes one request from the tenant's bucket.
    pub fn check_rate(&self, tenant: &Tenant) -> Result<(), ApiError> {
        let Some(limiter) = self.limiters.get(&tenant.id) else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            self.audit(tenant, "rate_limit", now_ms());
            ApiError::RateLimited {
                plan: tenant.plan_name.clone(),
                retry_after: not_until.wait_time_from(self.clock.now()),
            }
        })
    }

    /// Admits `count` proofs against today's quota, or refuses all of them.
    pub fn reserve(&self, tenant: &Tenant, count: u64) -> Result<Reservation, ApiError> {
        self.reserve_at(tenant, count, now_ms())
    }

    fn reserve_at(&self, tenant: &Tenant, count: u64, now: i64) -> Result<Reservation, ApiError> {
        let today = utc_day(now);
        let mut daily = self.daily.lock().expect("quota lock");
        let d = daily.entry(tenant.id.clone()).or_default();
        if d.day != today {
            d.day = today;
            d.used = 0;
        }
        if d.used + d.reserved + count > tenant.plan.daily_proofs {
            let next_day_ms = (today + 1) * 86_400_000;
            drop(daily);
            self.audit(tenant, "daily_quota", now);
            return Err(ApiError::QuotaExhausted {
                plan: tenant.plan_name.clone(),
                limit: tenant.plan.daily_proofs,
                retry_after: Duration::from_millis((next_day_ms - now).max(0) as u64),
            });
        }
        d.reserved += count;
        Ok(Reservation {
            daily: self.daily.clone(),
            tenant: tenant.id.clone(),
            count,
        })
    }

    /// Records usage events the store made durable.
    pub fn record_durable(&self, tenant: &str, day: i64, count: u64) {
        record(&self.daily, tenant, day, count);
    }

    /// A hook for [`crate::store::Store::open`]: the store reports each group
    /// commit's usage events here.
    pub fn usage_hook(&self) -> crate::store::UsageHook {
        let daily = self.daily.clone();
        Box::new(move |tenant: &str, day: i64, count: u64| record(&daily, tenant, day, count))
    }

    /// Sets today's durable usage from the store (at start).
    pub fn restore(&self, usage_today: &HashMap<String, u64>) {
        let today = utc_day(now_ms());
        let mut daily = self.daily.lock().expect("quota lock");
        for (tenant, used) in usage_today {
            let d = daily.entry(tenant.clone()).or_default();
            *d = Daily {
                used: *used,
                reserved: d.reserved,
                day: today,
            };
        }
    }

    /// (durable, reserved) proofs today for a tenant.
    pub fn usage(&self, tenant: &str) -> (u64, u64) {
        let daily = self.daily.lock().expect("quota lock");
        daily.get(tenant).map_or((0, 0), |d| (d.used, d.reserved))
    }
}

fn record(daily: &Mutex<HashMap<String, Daily>>, tenant: &str, day: i64, count: u64) {
    let mut daily = daily.lock().expect("quota lock");
    let d = daily.entry(tenant.to_string()).or_default();
    if d.day == day {
        d.used += count;
    } else if day > d.day {
        *d = Daily {
            used: count,
            reserved: d.reserved,
            day,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_plans;

    fn tenant(daily: u64) -> Arc<Tenant> {
        let mut plan = default_plans()["starter"].clone();
        plan.daily_proofs = daily;
        plan.burst = 2;
        Arc::new(Tenant {
            id: "acme".into(),
            plan_name: "starter".into(),
            plan,
        })
    }

    #[test]
    fn the_daily_quota_counts_durable_and_reserved_proofs() {
        let t = tenant(3);
        let quotas = Quotas::new(std::slice::from_ref(&t));
        quotas.restore(&HashMap::from([("acme".to_string(), 1)]));
        let r = quotas.reserve(&t, 2).unwrap();
        assert!(matches!(
            quotas.reserve(&t, 1),
            Err(ApiError::QuotaExhausted { .. })
        ));
        quotas.record_durable("acme", utc_day(now_ms()), 2);
        drop(r);
        assert_eq!(quotas.usage("acme"), (3, 0));
        let err = quotas.reserve(&t, 1).unwrap_err();
        assert!(err.retry_after_secs().unwrap() <= 86_400);
    }

    #[test]
    fn the_quota_refills_on_the_next_utc_day() {
        let t = tenant(1);
        let quotas = Quotas::new(std::slice::from_ref(&t));
        let now = now_ms();
        drop(quotas.reserve_at(&t, 1, now).unwrap());
        quotas.record_durable("acme", utc_day(now), 1);
        assert!(quotas.reserve_at(&t, 1, now).is_err());
        let tomorrow = (utc_day(now) + 1) * 86_400_000 + 1;
        quotas.reserve_at(&t, 1, tomorrow).unwrap();
    }

    #[test]
    fn a_dropped_reservation_gives_its_proofs_back() {
        let t = tenant(2);
        let quotas = Quotas::new(std::slice::from_ref(&t));
        drop(quotas.reserve(&t, 2).unwrap());
        quotas.reserve(&t, 2).unwrap();
    }

    #[test]
    fn the_bucket_refuses_past_its_burst() {
        let t = tenant(100);
        let quotas = Quotas::new(std::slice::from_ref(&t));
        quotas.check_rate(&t).unwrap();
        quotas.check_rate(&t).unwrap();
        match quotas.check_rate(&t) {
            Err(ApiError::RateLimited { retry_after, .. }) => {
                assert!(retry_after <= Duration::from_secs(1))
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }
}
