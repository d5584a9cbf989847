//! The request loops: open loop at a fixed rate (latency from each call's
//! scheduled time, so a slow server cannot hide its queueing), closed loop
//! with N callers, and a ramp of open-loop steps that finds the knee.
//! Every loop is bounded in calls and in time, and every call by a timeout.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use zktx_verifier::BatchItem;

use crate::client::{bearer, hang_up, verify_frame, Client, Transport};
use crate::cpu::own_cpu_seconds;
use crate::mix::{Answer, Kind, Mix};
use crate::probe::ServerSample;
use crate::report::{Recorder, Report};
use crate::LoadError;

/// The open loop's pacing step: every tick starts the calls whose scheduled
/// time has come. Calls started together leave in one write on a connection
/// and the generator wakes once for them, so a longer tick costs the machine
/// less per call (at 2000 calls/s, going from 1 ms to 2 ms took about 7
/// core-µs off each call; see `docs/perf.md`). Latency counts from each
/// call's scheduled time, so the wait for its tick (1 ms on average, 2 ms at
/// most) is counted against the server: the reading errs on the slow side.
pub const TICK: Duration = Duration::from_millis(2);

/// How calls are paced.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Calls start at this rate (calls per second) whatever the server does.
    Open {
        /// Calls per second.
        rate: f64,
    },
    /// This many callers, each starting its next call when the last is answered.
    Closed {
        /// Concurrent callers.
        callers: usize,
    },
}

/// The bounds of one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// No call starts after this.
    pub duration: Duration,
    /// No more calls than this.
    pub max_calls: u64,
    /// Each call is abandoned (and counted DEADLINE_EXCEEDED) after this.
    pub call_timeout: Duration,
}

/// The proofs and keys a run sends: per load tenant, distinct re-randomised
/// proofs cycling over the statements, so that valid proofs are fresh work (no
/// replay, no cache hit) until a tenant's proofs run out and wrap around.
pub struct Material {
    /// The tenants' API keys.
    pub keys: Vec<String>,
    /// Proofs by tenant (all tenants have the same number).
    pub proofs: Vec<Vec<BatchItem>>,
    /// An API key whose daily quota is used up, for over-quota requests.
    pub capped_key: Option<String>,
    /// Each proof's unary `Verify` request, framed once (by tenant, as `proofs`).
    frames: Vec<Vec<Bytes>>,
    /// Each tenant's `authorization` header value.
    bearers: Vec<HeaderValue>,
    cursors: Vec<AtomicUsize>,
    next_tenant: AtomicUsize,
    recent: Mutex<VecDeque<(usize, Vec<BatchItem>)>>,
}

impl Material {
    /// Material from tenants' keys and their proofs. Each proof's unary
    /// request is encoded here, once: a valid unary call then sends bytes
    /// made before the run (see [`Client::verify_framed`]).
    pub fn new(
        keys: Vec<String>,
        proofs: Vec<Vec<BatchItem>>,
        capped_key: Option<String>,
    ) -> Result<Self, LoadError> {
        let cursors = proofs.iter().map(|_| AtomicUsize::new(0)).collect();
        let frames = proofs
            .iter()
            .map(|pool| pool.iter().map(verify_frame).collect())
            .collect::<Result<_, _>>()?;
        let bearers = keys
            .iter()
            .map(|key| bearer(key))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            keys,
            proofs,
            capped_key,
            frames,
            bearers,
            cursors,
            next_tenant: AtomicUsize::new(0),
            recent: Mutex::new(VecDeque::new()),
        })
    }

    /// The index of `tenant`'s next proof (wrapping around when they run out).
    fn take_index(&self, tenant: usize) -> usize {
        self.cursors[tenant].fetch_add(1, Ordering::Relaxed) % self.proofs[tenant].len()
    }

    /// The next `n` proofs of `tenant` (wrapping around when they run out).
    pub fn take(&self, tenant: usize, n: usize) -> Vec<BatchItem> {
        let pool = &self.proofs[tenant];
        let start = self.cursors[tenant].fetch_add(n, Ordering::Relaxed);
        (start..start + n)
            .map(|i| pool[i % pool.len()].clone())
            .collect()
    }

    /// A tenant no earlier batch call of this material used (wrapping around).
    pub fn fresh_tenant(&self) -> usize {
        self.next_tenant.fetch_add(1, Ordering::Relaxed) % self.keys.len()
    }

    /// `n` proofs of `tenant` without using them up.
    fn peek(&self, tenant: usize, n: usize) -> Vec<BatchItem> {
        let pool = &self.proofs[tenant];
        (0..n).map(|i| pool[i % pool.len()].clone()).collect()
    }

    fn remember(&self, tenant: usize, items: Vec<BatchItem>) {
        let mut recent = self.recent.lock().expect("recent lock");
        if recent.len() >= 1024 {
            recent.pop_front();
        }
        recent.push_back((tenant, items));
    }

    fn recall(&self, pick: usize) -> Option<(usize, Vec<BatchItem>)> {
        let recent = self.recent.lock().expect("recent lock");
        (!recent.is_empty()).then(|| recent[pick % recent.len()].clone())
    }
}

/// Runs calls of a workload against one server (cheap to clone: shared parts).
#[derive(Clone)]
pub struct Driver {
    client: Arc<Client>,
    material: Arc<Material>,
    transport: Transport,
    mix: Mix,
    max_batch: usize,
    seed: u64,
    /// The direct batch verifier's rate on this machine, if calibrated.
    direct: Option<f64>,
}

impl Driver {
    /// A driver; `max_batch` is the plan's largest batch (oversized calls send one more).
    pub fn new(
        client: Arc<Client>,
        material: Arc<Material>,
        transport: Transport,
        mix: Mix,
        max_batch: usize,
    ) -> Self {
        Self {
            client,
            material,
            transport,
            mix,
            max_batch,
            seed: 0x5eed,
            direct: None,
        }
    }

    /// Reports each run's rate as a ratio to `proofs_per_sec`, the direct
    /// batch verifier's rate on this machine (see [`crate::calibrate`]).
    pub fn with_direct_rate(mut self, proofs_per_sec: f64) -> Self {
        self.direct = Some(proofs_per_sec);
        self
    }

    /// Proofs per call.
    pub fn proofs_per_call(&self) -> usize {
        match self.transport {
            Transport::Batch(n) => n,
            _ => 1,
        }
    }

    /// One run: paces calls until `limits`, then reports (with the server's
    /// CPU share, and its gauges before and after, once its queue drained).
    pub async fn run(&self, name: &str, pace: Pace, limits: Limits, progress: bool) -> Report {
        let recorder = Arc::new(Recorder::default());
        let before = self.sample().await;
        let own_before = own_cpu_seconds();
        let bar = progress_bar(progress, name, limits);
        let started = Instant::now();
        let offered = match pace {
            Pace::Open { rate } => {
                self.open_loop(rate, limits, &recorder, &bar).await;
                Some(rate)
            }
            Pace::Closed { callers } => {
                self.closed_loop(callers, limits, &recorder, &bar).await;
                None
            }
        };
        let wall = started.elapsed();
        let own = own_cpu_seconds().zip(own_before).map(|(a, b)| a - b);
        bar.finish_and_clear();
        let after_load = self.sample().await;
        let mut report = recorder.report(name, wall, offered);
        let server = before.as_ref().zip(after_load.as_ref());
        report.add_costs(server, own, self.direct);
        report.server_before = before;
        report.server_after = self.settled().await.or(after_load);
        report
    }

    async fn open_loop(
        &self,
        rate: f64,
        limits: Limits,
        recorder: &Arc<Recorder>,
        bar: &ProgressBar,
    ) {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let mut sent: u64 = 0;
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while sent < limits.max_calls {
            ticks.tick().await;
            let elapsed = started.elapsed();
            if elapsed >= limits.duration {
                break;
            }
            let due = ((elapsed.as_secs_f64() * rate) as u64 + 1).min(limits.max_calls);
            for i in sent..due {
                let scheduled = started + Duration::from_secs_f64(i as f64 / rate);
                // Boxed: the task then moves a pointer, not the call's whole state.
                let call = Box::pin(self.call(i as usize, limits.call_timeout));
                let (recorder, bar) = (recorder.clone(), bar.clone());
                tasks.spawn(async move {
                    let (kind, answers) = call.await;
                    recorder.record(kind, scheduled.elapsed(), &answers);
                    bar.inc(1);
                });
            }
            sent = due;
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn closed_loop(
        &self,
        callers: usize,
        limits: Limits,
        recorder: &Arc<Recorder>,
        bar: &ProgressBar,
    ) {
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..callers.max(1) {
            let (next, recorder, bar) = (next.clone(), recorder.clone(), bar.clone());
            let this = self.clone();
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i as u64 >= limits.max_calls || started.elapsed() >= limits.duration {
                        return;
                    }
                    let sent = Instant::now();
                    let (kind, answers) = this.call(i, limits.call_timeout).await;
                    recorder.record(kind, sent.elapsed(), &answers);
                    bar.inc(1);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Call `i` of the run: its kind is drawn from the mix (deterministic in
    /// `i`); a call not answered within `timeout` counts as DEADLINE_EXCEEDED.
    fn call(
        &self,
        i: usize,
        timeout: Duration,
    ) -> impl std::future::Future<Output = (Kind, Vec<Answer>)> + Send + 'static {
        let mut rng =
            ChaCha20Rng::seed_from_u64(self.seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut kind = self.mix.draw(&mut rng);
        let material = self.material.clone();
        let client = self.client.clone();
        let transport = self.transport;
        let n = self.proofs_per_call();
        // Batch calls each take a tenant of their own: a statement a tenant
        // already had verified would be a replay. Single proofs (unary, REST,
        // each tenant's own streams) take the tenants in turn.
        let tenant = match transport {
            Transport::Batch(_) => material.fresh_tenant(),
            _ => i % material.keys.len(),
        };
        let max_batch = self.max_batch;
        // Valid unary calls send the request framed before the run.
        let framed =
            kind == Kind::Valid && transport == Transport::Unary && client.has_lean_unary();
        // Only a mix with repeated calls needs the answered proofs kept.
        let remember = self.mix.share(Kind::Repeated) > 0.0;
        async move {
            if framed {
                let index = material.take_index(tenant);
                let frame = material.frames[tenant][index].clone();
                let call = client.verify_framed(i, &material.bearers[tenant], frame);
                let answer = tokio::time::timeout(timeout, call)
                    .await
                    .unwrap_or(Answer::Status("DEADLINE_EXCEEDED"));
                if remember && answer.satisfies(Answer::Valid) {
                    material.remember(tenant, vec![material.proofs[tenant][index].clone()]);
                }
                return (kind, vec![answer]);
            }
            let mut key = material.keys[tenant].clone();
            let mut owner = tenant;
            let mut batch = false;
            let items = match kind {
                Kind::Valid | Kind::Disconnect => material.take(tenant, n),
                Kind::Invalid => {
                    let mut items = material.take(tenant, n);
                    items.iter_mut().for_each(|item| item.inputs.k += 1);
                    items
                }
                Kind::Malformed => {
                    let mut items = material.take(tenant, n);
                    for (j, item) in items.iter_mut().enumerate() {
                        // A statement never proved valid: the refusal is about
                        // the bytes alone.
                        item.inputs.k += 1;
                        if (i + j).is_multiple_of(2) {
                            item.proof.truncate(item.proof.len() - 1);
                        } else {
                            // Flip x's low bit: A is then (almost surely) not on the curve.
                            item.proof[47] ^= 1;
                        }
                    }
                    items
                }
                Kind::Repeated => match material.recall(i) {
                    Some((earlier, items)) => {
                        owner = earlier;
                        key = material.keys[earlier].clone();
                        items
                    }
                    None => {
                        kind = Kind::Valid;
                        material.take(tenant, n)
                    }
                },
                Kind::Garbled => material.peek(tenant, 1),
                Kind::Oversized => {
                    batch = true;
                    material.peek(tenant, max_batch + 1)
                }
                Kind::OverQuota => match &material.capped_key {
                    Some(capped) => {
                        key = capped.clone();
                        material.peek(tenant, n)
                    }
                    None => {
                        kind = Kind::Valid;
                        material.take(tenant, n)
                    }
                },
            };
            if kind == Kind::Disconnect {
                let call = client.send(transport, i, &key, &items, false);
                let gone = hang_up(call, Duration::from_millis(1)).await;
                return (kind, vec![gone; items.len()]);
            }
            if kind == Kind::Garbled {
                let call = client.send_garbled(transport, i, &key, &items[0]);
                let answer = tokio::time::timeout(timeout, call)
                    .await
                    .unwrap_or(Answer::Status("DEADLINE_EXCEEDED"));
                return (kind, vec![answer]);
            }
            let call = client.send(transport, i, &key, &items, batch);
            let mut answers = tokio::time::timeout(timeout, call)
                .await
                .unwrap_or_else(|_| vec![Answer::Status("DEADLINE_EXCEEDED"); items.len()]);
            if kind == Kind::Oversized {
                // Refused as a whole: one answer for the call, not one per proof.
                answers.truncate(1);
            }
            if remember && kind == Kind::Valid && answers.iter().all(|a| a.satisfies(Answer::Valid))
            {
                material.remember(owner, items);
            }
            (kind, answers)
        }
    }

    async fn sample(&self) -> Option<ServerSample> {
        self.client
            .metrics()
            .await
            .ok()
            .map(|t| ServerSample::parse(&t))
    }

    /// The server's gauges once its queue is empty (waiting up to 10 s).
    async fn settled(&self) -> Option<ServerSample> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sample = self.sample().await?;
            if sample.queue_depth == 0.0 || Instant::now() >= deadline {
                return Some(sample);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn progress_bar(show: bool, name: &str, limits: Limits) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(limits.max_calls.min(u64::MAX / 2));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{elapsed_precise}] {bar:40} {pos} calls ({per_sec})")
            .expect("a valid template"),
    );
    bar.set_message(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A ramp: open-loop steps from `start` calls/s, each `factor` times the
/// last, each lasting `step`, at most `max_steps`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RampPlan {
    /// The first step's rate, calls per second.
    pub start: f64,
    /// Each step's rate over the last's.
    pub factor: f64,
    /// Steps at most.
    pub max_steps: usize,
    /// Each step's length.
    pub step: Duration,
    /// A step holds with p99 at most this (ms).
    pub p99_ms: f64,
    /// ... and an error rate at most this.
    pub max_error_rate: f64,
}

/// One step of a ramp.
#[derive(Clone, Debug, Serialize)]
pub struct RampStep {
    /// The step's report.
    pub report: Report,
    /// Whether the step held: p99 within the objective, at least 95% of the
    /// offered proofs answered correctly, and the error rate within bounds.
    pub held: bool,
}

/// A ramp's steps and its knee.
#[derive(Clone, Debug, Serialize)]
pub struct Ramp {
    /// The steps, in order.
    pub steps: Vec<RampStep>,
    /// The highest offered rate (proofs per second) that held, if any did.
    pub knee_proofs_per_sec: Option<f64>,
    /// The knee over the direct batch verifier's rate on this machine.
    pub knee_ratio_to_direct: Option<f64>,
    /// Why the ramp stopped.
    pub stopped: String,
}

impl Driver {
    /// Open-loop steps as `plan` says, until one does not hold.
    pub async fn ramp(&self, plan: &RampPlan, progress: bool) -> Ramp {
        let mut steps = Vec::new();
        let mut knee = None;
        let mut stopped = format!("{} steps held", plan.max_steps);
        let mut rate = plan.start;
        let step = plan.step;
        for _ in 0..plan.max_steps {
            let limits = Limits {
                duration: step,
                max_calls: (rate * step.as_secs_f64()).ceil() as u64,
                call_timeout: Duration::from_secs(30),
            };
            let name = format!("ramp at {rate:.0} calls/s");
            let report = self.run(&name, Pace::Open { rate }, limits, progress).await;
            let answerable = self.mix.share(Kind::Valid)
                + self.mix.share(Kind::Invalid)
                + self.mix.share(Kind::Repeated);
            let expected = rate * self.proofs_per_call() as f64 * answerable;
            let held = report.latency_ms.p99 <= plan.p99_ms
                && report.verdicts_per_sec >= 0.95 * expected
                && report.error_rate <= plan.max_error_rate;
            if held && report.replays == 0 {
                knee = Some(rate * self.proofs_per_call() as f64);
            }
            let replays = report.replays;
            steps.push(RampStep { report, held });
            if replays > 0 {
                // Answers from earlier receipts: the step did not measure verification.
                stopped = format!(
                    "the fresh proofs ran out ({replays} replays): raise --statements or use a new server"
                );
                break;
            }
            if !held {
                stopped = format!("the step at {rate:.0} calls/s did not hold");
                break;
            }
            rate *= plan.factor;
        }
        Ramp {
            steps,
            knee_proofs_per_sec: knee,
            knee_ratio_to_direct: knee.zip(self.direct).map(|(k, d)| k / d),
            stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zktx_formats::EnvelopeInputs;
    use zktx_proto::v1;

    fn item(n: u8) -> BatchItem {
        BatchItem {
            key: "ab".repeat(32),
            proof: vec![n; 192],
            inputs: EnvelopeInputs {
                commit_a: format!("{n:02x}").repeat(32),
                commit_b: "cd".repeat(32),
                k: u64::from(n),
                context: "ef".repeat(32),
            },
        }
    }

    #[test]
    fn material_frames_each_proof_once_and_wraps_around() {
        let proofs = vec![vec![item(1), item(2)], vec![item(3)]];
        let material = Material::new(vec!["key-0".into(), "key-1".into()], proofs, None).unwrap();
        assert_eq!(material.bearers[1], "Bearer key-1");
        for (tenant, pool) in material.proofs.iter().enumerate() {
            for (index, proof) in pool.iter().enumerate() {
                let frame = &material.frames[tenant][index];
                let length = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]);
                assert_eq!((frame[0], length as usize), (0, frame.len() - 5));
                let request = <v1::VerifyRequest as prost::Message>::decode(&frame[5..]).unwrap();
                let submission = request.submission.unwrap();
                assert_eq!(submission.proof, proof.proof);
                assert_eq!(submission.public_inputs.unwrap().k, proof.inputs.k);
            }
        }
        let order: Vec<usize> = (0..3).map(|_| material.take_index(0)).collect();
        assert_eq!(order, [0, 1, 0]);
    }

    #[test]
    fn an_api_key_that_is_no_header_value_is_refused_without_echoing_it() {
        let error = Material::new(vec!["bad\nkey".into()], vec![vec![item(1)]], None)
            .err()
            .unwrap();
        assert!(!error.to_string().contains("bad"));
    }
}
