//! The service itself, behind both front ends: authenticate, check the plan,
//! validate, answer replays from the store, meter, verify through the verdict
//! cache and the micro-batcher, sign receipts and make them durable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use zktx_formats::EnvelopeInputs;
use zktx_verifier::decode::{decode_public_inputs, PROOF_COMPRESSED};
use zktx_verifier::{
    BatchItem, DecodeError, Invalid, KeyFingerprint, PreparedKeyRegistry, StatementDigest, Verdict,
    VerdictCache, VerdictKey,
};

use crate::admission::{Admission, Route};
use crate::batcher::MicroBatcher;
use crate::error::ApiError;
use crate::inflight::{share, InFlight, Pending, StatementKey};
use crate::metrics::Metrics;
use crate::quota::{now_ms, Quotas};
use crate::receipt::{Receipt, ReceiptVerdict};
use crate::store::{ReceiptRecord, Store};
use crate::tenants::{Tenant, Tenants};
use zktx_governance::entitlements::Evidence;
pub use zktx_proto::rest::UsageReport;

/// One proof as a caller submits it (either front end converts to this).
#[derive(Clone, Debug)]
pub struct Submission {
    /// Hex fingerprint of the verifying key.
    pub key_fingerprint: String,
    /// The public inputs, as in a proof file.
    pub inputs: EnvelopeInputs,
    /// The compressed proof.
    pub proof: Vec<u8>,
}

/// The answer for one verified (or replayed) proof.
#[derive(Clone, Debug)]
pub struct Verification {
    /// Valid or invalid.
    pub verdict: ReceiptVerdict,
    /// Why it is invalid; empty when valid.
    pub reason: String,
    /// The signed, durable receipt.
    pub receipt: Receipt,
    /// Whether this is an earlier receipt for the same valid statement.
    pub replayed: bool,
}

/// What one item of a call came to.
pub type ItemResult = Result<Verification, ApiError>;

/// A circuit this server verifies.
#[derive(Clone, Debug)]
pub struct CircuitInfo {
    /// The circuit identifier.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// The verifying key's fingerprint.
    pub key_fingerprint: String,
    /// R1CS constraints.
    pub constraints: u64,
    /// Whether the keys come from a development seed.
    pub dev_keys: bool,
    /// Where the keys came from (the admission policy's `key_origin`).
    pub origin: zktx_formats::KeyOrigin,
}

/// The parts the service is built from.
pub struct ServiceParts {
    /// Tenants by API key.
    pub tenants: Tenants,
    /// Rate limits and daily quotas.
    pub quotas: Quotas,
    /// The embedded store.
    pub store: Arc<Store>,
    /// The receipt-signing public key (hex); the store signs receipts.
    pub receipt_public_key: String,
    /// Verifying keys by fingerprint.
    pub registry: Arc<PreparedKeyRegistry>,
    /// The circuits, for listing.
    pub circuits: Vec<CircuitInfo>,
    /// The micro-batcher.
    pub batcher: MicroBatcher,
    /// The verdict cache in front of the queue (shared with the batch verifier).
    pub cache: Arc<VerdictCache>,
    /// Metrics.
    pub metrics: Metrics,
    /// The admission policy gate.
    pub admission: Admission,
    /// What the server can show for itself (gates some plan features).
    pub evidence: Evidence,
    /// The signed attestation of what is running.
    pub attestor: Arc<crate::attestation::Attestor>,
}

/// The service.
pub struct Service {
    parts: ServiceParts,
    draining: AtomicBool,
    inflight: InFlight,
}

/// A submission that passed validation.
struct Checked {
    item: BatchItem,
    statement: StatementDigest,
    verdict_key: VerdictKey,
    circuit: String,
}

impl Service {
    /// A service from its parts.
    pub fn new(parts: ServiceParts) -> Self {
        Self {
            parts,
            draining: AtomicBool::new(false),
            inflight: InFlight::new(),
        }
    }

    /// The tenant an `authorization` value names. An auditor key is refused
    /// here (read-only endpoints take it through [`Service::reader`]).
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Arc<Tenant>, ApiError> {
        self.parts
            .tenants
            .authenticate(authorization)
            .map_err(|e| self.refuse_auditor(authorization, e))
    }

    /// The configured tenant `id`.
    pub fn tenant_by_id(&self, id: &str) -> Option<Arc<Tenant>> {
        self.parts
            .tenants
            .all()
            .iter()
            .find(|t| t.id == id)
            .cloned()
    }

    /// Metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.parts.metrics
    }

    /// What the server can show for itself: ceremony keys, a pinned policy.
    pub fn evidence(&self) -> Evidence {
        self.parts.evidence
    }

    /// The signed attestation (a DSSE envelope, JSON): what is running,
    /// signed with the receipt key.
    pub async fn attestation(&self) -> Result<Arc<str>, ApiError> {
        self.parts.attestor.envelope().await.map_err(|message| {
            tracing::error!(%message, "the attestation could not be made");
            ApiError::Internal(
                "the attestation could not be made; the operator has been alerted".into(),
            )
        })
    }

    /// The receipt-signing public key (hex).
    pub fn receipt_public_key(&self) -> String {
        self.parts.receipt_public_key.clone()
    }

    /// The circuits this server verifies.
    pub fn circuits(&self) -> &[CircuitInfo] {
        &self.parts.circuits
    }

    /// Rate limits and quotas.
    pub fn quotas(&self) -> &Quotas {
        &self.parts.quotas
    }

    /// The tenant's plan and today's metered proofs.
    pub fn usage(&self, tenant: &Tenant) -> UsageReport {
        UsageReport {
            tenant: tenant.id.clone(),
            plan: tenant.plan_name.clone(),
            utc_day: crate::store::utc_day(now_ms()),
            proofs_today: self.parts.quotas.usage(&tenant.id).0,
            daily_quota: tenant.plan.daily_proofs,
            max_batch: tenant.plan.max_batch,
            requests_per_second: tenant.plan.requests_per_second,
        }
    }

    /// Whether the service takes new work (not draining, store reachable).
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst) && self.parts.store.ping().is_ok()
    }

    /// Stops taking work; queued proofs are still verified (see [`crate::RunningServer`]).
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.parts.batcher.close();
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.parts.store
    }

    /// A receipt the tenant was issued.
    pub fn receipt(&self, tenant: &Tenant, id: &str) -> Result<Receipt, ApiError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::invalid("id", "a receipt id is 32 hex digits"));
        }
        match self.parts.store.receipt(id) {
            Ok(Some(receipt)) if receipt.tenant == tenant.id => Ok(receipt),
            // Another tenant's receipt is reported as absent, not as forbidden.
            Ok(_) => Err(ApiError::NotFound(
                "id: this tenant holds no receipt with this id".into(),
            )),
            Err(e) => Err(ApiError::Internal(e.to_string())),
        }
    }

    /// The admission policy gate.
    pub fn admission(&self) -> &Admission {
        &self.parts.admission
    }

    /// Verifies one proof that arrived by `route`.
    pub async fn verify_one(
        &self,
        tenant: &Tenant,
        submission: Submission,
        deadline: Option<Instant>,
        route: Route,
    ) -> ItemResult {
        let mut results = self
            .verify_many(tenant, vec![submission], deadline, "", route)
            .await?;
        results.pop().expect("one result per submission")
    }

    /// Refuses a call of `count` proofs over the plan's largest batch; the
    /// front ends call this before any per-item work.
    pub fn check_batch_size(
        &self,
        tenant: &Tenant,
        count: usize,
        field: &str,
    ) -> Result<(), ApiError> {
        if count > tenant.plan.max_batch {
            return Err(ApiError::invalid(
                field,
                format!(
                    "{count} proofs in one call; plan `{}` allows at most {}",
                    tenant.plan_name, tenant.plan.max_batch
                ),
            ));
        }
        Ok(())
    }

    /// Verifies a batch whose items were converted from the wire one by one:
    /// items that did not convert keep their error, in place. Every item,
    /// converted or not, counts against the plan's largest batch.
    pub async fn verify_converted(
        &self,
        tenant: &Tenant,
        items: Vec<Result<Submission, ApiError>>,
        deadline: Option<Instant>,
        route: Route,
    ) -> Result<Vec<ItemResult>, ApiError> {
        self.check_batch_size(tenant, items.len(), "items")?;
        let mut results: Vec<Option<ItemResult>> = Vec::with_capacity(items.len());
        let (mut submissions, mut places) = (Vec::new(), Vec::new());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Ok(s) => {
                    places.push(i);
                    submissions.push(s);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let verified = self
            .verify_many(tenant, submissions, deadline, "items", route)
            .await?;
        for (place, result) in places.into_iter().zip(verified) {
            results[place] = Some(result);
        }
        Ok(finished(results))
    }

    /// Verifies a batch: the call fails as a whole only for auth, rate, quota,
    /// size, overload and deadline; everything about one item is in its result.
    /// `field_prefix` (e.g. `items`) qualifies item fields in errors.
    ///
    /// Every proof is decoded and verified, replay or not: a `valid` verdict
    /// always means that the submitted proof verifies for its inputs. A valid
    /// statement the tenant already holds a receipt for is answered with that
    /// receipt (`replayed`, not metered); so is one whose first valid proof is
    /// being committed by another item or call (see [`crate::inflight`]).
    pub async fn verify_many(
        &self,
        tenant: &Tenant,
        submissions: Vec<Submission>,
        deadline: Option<Instant>,
        field_prefix: &str,
        route: Route,
    ) -> Result<Vec<ItemResult>, ApiError> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(ApiError::ShuttingDown);
        }
        let item_prefix = |i: usize| {
            if field_prefix.is_empty() {
                String::new()
            } else {
                format!("{field_prefix}[{i}].")
            }
        };
        self.check_batch_size(
            tenant,
            submissions.len(),
            if field_prefix.is_empty() {
                "items"
            } else {
                field_prefix
            },
        )?;
        self.parts.quotas.check_rate(tenant)?;

        let mut results: Vec<Option<ItemResult>> = vec![None; submissions.len()];
        let mut pending: Vec<(usize, Checked, Option<Receipt>)> = Vec::new();
        for (i, submission) in submissions.into_iter().enumerate() {
            match self.check(tenant, submission, &item_prefix(i), route) {
                Err(e) => results[i] = Some(Err(e)),
                Ok(checked) => match self.earlier_receipt(tenant, &checked.statement) {
                    Err(e) => results[i] = Some(Err(e)),
                    Ok(earlier) => pending.push((i, checked, earlier)),
                },
            }
        }
        if pending.is_empty() {
            return Ok(finished(results));
        }

        // Statements the tenant holds a valid receipt for are not metered
        // again if this proof is valid too, so they need no quota up front.
        let fresh = pending.iter().filter(|(_, _, e)| e.is_none()).count() as u64;
        let mut reservations = Vec::new();
        if fresh > 0 {
            reservations.push(self.parts.quotas.reserve(tenant, fresh)?);
        }
        let verdicts = self.verdicts(&pending, deadline).await?;

        // Sort the verdicts: decode errors and replays are answered now; the
        // rest get receipts, in item order so a call's receipts keep its
        // order in their group. `earlier`: the statement was proved before.
        let mut to_issue: Vec<(usize, Checked, ReceiptVerdict, bool)> = Vec::new();
        for ((i, checked, earlier), verdict) in pending.into_iter().zip(verdicts) {
            match verdict {
                Verdict::Valid => match earlier {
                    Some(receipt) => results[i] = Some(Ok(self.replayed(receipt))),
                    None => to_issue.push((i, checked, ReceiptVerdict::Valid, false)),
                },
                Verdict::Invalid(Invalid::Rejected) => {
                    to_issue.push((i, checked, ReceiptVerdict::Invalid, earlier.is_some()))
                }
                Verdict::Invalid(Invalid::Decode(error)) => {
                    results[i] = Some(Err(decode_error(&item_prefix(i), &error)));
                }
                Verdict::Invalid(other) => {
                    results[i] = Some(Err(ApiError::Internal(format!(
                        "unexpected verdict: {other}"
                    ))));
                }
            }
        }
        // An invalid proof of a statement once proved valid is fresh work:
        // it is metered, so it needs the quota it was not given up front.
        let unreserved = to_issue.iter().filter(|(.., earlier)| *earlier).count() as u64;
        if unreserved > 0 {
            match self.parts.quotas.reserve(tenant, unreserved) {
                Ok(reservation) => reservations.push(reservation),
                Err(e) => to_issue.retain(|(i, .., earlier)| {
                    if *earlier {
                        results[*i] = Some(Err(e.clone()));
                    }
                    !*earlier
                }),
            }
        }

        let issued_at_ms = now_ms();
        let mut records = Vec::new();
        let mut issued: Vec<(usize, ReceiptVerdict, String)> = Vec::new();
        let mut record = |records: &mut Vec<ReceiptRecord>, i, checked, verdict| {
            records.push(receipt_record(tenant, checked, verdict, issued_at_ms));
            let reason = match verdict {
                ReceiptVerdict::Valid => String::new(),
                ReceiptVerdict::Invalid => Invalid::Rejected.to_string(),
            };
            issued.push((i, verdict, reason));
        };

        // Leaders and followers are decided, and the commit registered, under
        // one lock: no other call can claim a statement in between.
        let (commit, registration, followers, local) = {
            let claims = self.inflight.lock();
            // Statements this call leads: the place of each one's receipt.
            let mut leaders: HashMap<[u8; 32], usize> = HashMap::new();
            let mut followers: Vec<(usize, Pending)> = Vec::new();
            let mut local: Vec<(usize, usize)> = Vec::new();
            for (i, checked, verdict, _) in to_issue {
                if verdict == ReceiptVerdict::Invalid {
                    record(&mut records, i, checked, verdict);
                    continue;
                }
                if let Some(&index) = leaders.get(&checked.statement.0) {
                    local.push((i, index));
                    continue;
                }
                let key: StatementKey = (tenant.id.clone(), checked.statement.0);
                if let Some(pending) = claims.pending(&key) {
                    followers.push((i, pending));
                    continue;
                }
                // Committed since the check above (its entry already gone)?
                match self.earlier_receipt(tenant, &checked.statement) {
                    Err(e) => results[i] = Some(Err(e)),
                    Ok(Some(receipt)) => results[i] = Some(Ok(self.replayed(receipt))),
                    Ok(None) => {
                        leaders.insert(checked.statement.0, records.len());
                        record(&mut records, i, checked, ReceiptVerdict::Valid);
                    }
                }
            }
            // The rows are with the store's writer before the commit is registered.
            let commit = if records.is_empty() {
                share(std::future::ready(Ok::<_, crate::store::StoreError>(
                    Vec::new(),
                )))
            } else {
                share(self.parts.store.commit(records))
            };
            let leaders = leaders
                .into_iter()
                .map(|(statement, index)| ((tenant.id.clone(), statement), index))
                .collect();
            let registration = claims.register(&commit, leaders);
            (commit, registration, followers, local)
        };

        // Durable (and signed) before anyone sees a receipt.
        let receipts = commit.await.map_err(ApiError::Internal)?;
        drop(registration);
        drop(reservations);
        for (i, index) in local {
            results[i] = Some(Ok(self.replayed(receipts[index].clone())));
        }
        // Nobody else waits on this commit (its entries are gone) unless a
        // follower took it meanwhile: then the receipts are copied, not moved.
        let receipts = Arc::try_unwrap(receipts).unwrap_or_else(|shared| (*shared).clone());
        for ((i, verdict, reason), receipt) in issued.into_iter().zip(receipts) {
            self.parts
                .metrics
                .receipts
                .with_label_values(&[verdict.as_str()])
                .inc();
            results[i] = Some(Ok(Verification {
                verdict,
                reason,
                receipt,
                replayed: false,
            }));
        }
        for (i, pending) in followers {
            results[i] = Some(pending.receipt().await.map(|r| self.replayed(r)));
        }
        Ok(finished(results))
    }

    /// Verdicts for checked items: from the cache, else from the micro-batcher.
    async fn verdicts(
        &self,
        pending: &[(usize, Checked, Option<Receipt>)],
        deadline: Option<Instant>,
    ) -> Result<Vec<Verdict>, ApiError> {
        let cache = &self.parts.cache;
        let mut verdicts: Vec<Option<Verdict>> = pending
            .iter()
            .map(|(_, c, _)| cache.get(&c.verdict_key))
            .collect();
        let hits = verdicts.iter().filter(|v| v.is_some()).count() as u64;
        self.parts
            .metrics
            .cache
            .with_label_values(&["hit"])
            .inc_by(hits);
        self.parts
            .metrics
            .cache
            .with_label_values(&["miss"])
            .inc_by(pending.len() as u64 - hits);
        let misses: Vec<BatchItem> = pending
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_none())
            .map(|((_, c, _), _)| c.item.clone())
            .collect();
        let mut outcomes = self
            .parts
            .batcher
            .verify(misses, deadline)
            .await?
            .into_iter();
        for verdict in verdicts.iter_mut().filter(|v| v.is_none()) {
            *verdict = outcomes.next().map(|o| o.verdict);
        }
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or(Verdict::Invalid(Invalid::Rejected)))
            .collect())
    }

    /// Field-by-field validation, the plan's circuits, the admission policy,
    /// and the statement digest.
    fn check(
        &self,
        tenant: &Tenant,
        submission: Submission,
        prefix: &str,
        route: Route,
    ) -> Result<Checked, ApiError> {
        let field = |name: &str| format!("{prefix}{name}");
        let fingerprint = KeyFingerprint::parse(&submission.key_fingerprint)
            .map_err(|_| ApiError::invalid(field("key_fingerprint"), "must be 64 hex digits"))?;
        let key = self.parts.registry.get(&fingerprint).ok_or_else(|| {
            ApiError::NotFound(format!(
                "{}: no verifying key with this fingerprint on this server (see ListCircuits)",
                field("key_fingerprint")
            ))
        })?;
        let tier = key.key().tier();
        if !tenant.plan.allows_tier(tier.capacity()) {
            return Err(ApiError::PermissionDenied(format!(
                "plan `{}` does not include circuits of tier {}",
                tenant.plan_name,
                tier.capacity()
            )));
        }
        let public = decode_public_inputs(&submission.inputs).map_err(|e| match e {
            DecodeError::PublicInput { name, reason } => {
                ApiError::invalid(field(&format!("public_inputs.{name}")), reason)
            }
            other => ApiError::invalid(field("public_inputs"), other.to_string()),
        })?;
        if submission.proof.len() != PROOF_COMPRESSED {
            return Err(ApiError::invalid(
                field("proof"),
                format!(
                    "must be {PROOF_COMPRESSED} bytes (compressed A | B | C), got {}",
                    submission.proof.len()
                ),
            ));
        }
        let circuit = zktx_circuits::encoding::circuit_id(tier);
        let key = hex::encode(fingerprint.0);
        self.parts.admission.admit(
            &self.parts.metrics,
            tenant,
            &key,
            &circuit,
            tier.capacity(),
            submission.inputs.k,
            route,
        )?;
        Ok(Checked {
            statement: StatementDigest::new(&fingerprint, &public),
            verdict_key: VerdictKey::new(&fingerprint, &public, &submission.proof),
            circuit,
            item: BatchItem {
                key,
                proof: submission.proof,
                inputs: submission.inputs,
            },
        })
    }

    /// The earlier valid receipt the tenant holds for this statement, if any.
    fn earlier_receipt(
        &self,
        tenant: &Tenant,
        statement: &StatementDigest,
    ) -> Result<Option<Receipt>, ApiError> {
        self.parts
            .store
            .valid_receipt_for(&tenant.id, &statement.to_string())
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// An answer with an earlier receipt of the same valid statement.
    fn replayed(&self, receipt: Receipt) -> Verification {
        self.parts.metrics.replays.inc();
        Verification {
            verdict: ReceiptVerdict::Valid,
            reason: String::new(),
            receipt,
            replayed: true,
        }
    }
}

/// A new receipt to commit for a verified proof: metered.
fn receipt_record(
    tenant: &Tenant,
    checked: Checked,
    verdict: ReceiptVerdict,
    issued_at_ms: i64,
) -> ReceiptRecord {
    ReceiptRecord {
        receipt: Receipt {
            id: new_receipt_id(issued_at_ms),
            tenant: tenant.id.clone(),
            circuit: checked.circuit,
            key_fingerprint: checked.item.key,
            statement_digest: checked.statement.to_string(),
            verdict,
            issued_at_ms,
            signature: String::new(),
            batch: None,
        },
        metered: true,
    }
}

/// Every item's result, once each has one.
fn finished(results: Vec<Option<ItemResult>>) -> Vec<ItemResult> {
    results
        .into_iter()
        .map(|r| r.expect("every item answered"))
        .collect()
}

/// A proof that does not decode is the caller's error, with the field named.
fn decode_error(prefix: &str, error: &DecodeError) -> ApiError {
    ApiError::invalid(format!("{prefix}proof"), error.to_string())
}

/// 32 hex digits: the issue time in milliseconds (48 bits, so ids sort by
/// time and new rows append to the store's id index instead of touching a
/// random page each) and 80 random bits from a CSPRNG (seeded by the OS), so
/// an id cannot be guessed.
fn new_receipt_id(issued_at_ms: i64) -> String {
    let mut id = [0u8; 16];
    id[..6].copy_from_slice(&issued_at_ms.to_be_bytes()[2..]);
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id[6..]);
    hex::encode(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_ids_sort_by_time_and_cannot_be_guessed() {
        let (early, late) = (
            new_receipt_id(1_700_000_000_000),
            new_receipt_id(1_700_000_000_001),
        );
        assert_eq!(early.len(), 32);
        assert!(early.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(&early[..12], &format!("{:012x}", 1_700_000_000_000i64));
        assert!(early < late);
        // Same millisecond, different random parts.
        let ids: std::collections::HashSet<String> =
            (0..64).map(|_| new_receipt_id(1_700_000_000_000)).collect();
        assert_eq!(ids.len(), 64);
    }
}
