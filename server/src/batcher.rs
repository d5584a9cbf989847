//! The micro-batcher: single proofs from every connection are coalesced into
//! batches for the [`BatchVerifier`].
//!
//! A batch closes when it holds `max_size` proofs or its oldest proof has
//! waited `max_age`; if the verifier is still busy with the previous batch,
//! the closed batch keeps taking proofs (up to `max_size`) until it is free,
//! so batches grow with load instead of queueing behind each other.
//! The queue is bounded in proofs by a semaphore: a caller that does not fit
//! is refused at once ([`ApiError::Overloaded`]), so memory stays bounded.
//! Jobs whose deadline has passed, or whose caller has gone, are dropped
//! before verification.
//!
//! Why not `tower-batch-control`: its queue applies back-pressure
//! (`poll_ready` waits) where we must refuse at once, it has no per-request
//! deadline to skip expired work, and a job here carries many proofs (the
//! batch RPC) that must stay together and count against the bound as such.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use zktx_verifier::{BatchItem, BatchVerifier, ItemOutcome};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// When a batch closes, and how many proofs may wait.
#[derive(Clone, Copy, Debug)]
pub struct BatcherConfig {
    /// Proofs at which a batch closes.
    pub max_size: usize,
    /// Age of the oldest proof at which a batch closes.
    pub max_age: Duration,
    /// Proofs queued or being verified at most.
    pub queue_capacity: usize,
}

struct Job {
    items: Vec<BatchItem>,
    deadline: Option<Instant>,
    reply: oneshot::Sender<Result<Vec<ItemOutcome>, ApiError>>,
    _permits: OwnedSemaphorePermit,
}

/// A handle for submitting proofs; cheap to share behind an `Arc`.
pub struct MicroBatcher {
    sender: std::sync::Mutex<Option<mpsc::UnboundedSender<Job>>>,
    queue: Queue,
    metrics: Metrics,
}

/// The bound on queued proofs.
#[derive(Clone)]
struct Queue {
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl Queue {
    fn depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }
}

/// The collector task; await it after [`MicroBatcher::close`] to drain the queue.
pub struct BatcherTask(JoinHandle<()>);

impl BatcherTask {
    /// Waits until every queued batch has been verified and answered.
    pub async fn finished(self) {
        let _ = self.0.await;
    }
}

impl MicroBatcher {
    /// Starts the collector on the current tokio runtime.
    pub fn start(
        verifier: Arc<BatchVerifier>,
        config: BatcherConfig,
        metrics: Metrics,
    ) -> (Self, BatcherTask) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = Queue {
            permits: Arc::new(Semaphore::new(config.queue_capacity)),
            capacity: config.queue_capacity,
        };
        let task = tokio::spawn(collect(
            receiver,
            verifier,
            config,
            queue.clone(),
            metrics.clone(),
        ));
        let batcher = Self {
            sender: std::sync::Mutex::new(Some(sender)),
            queue,
            metrics,
        };
        (batcher, BatcherTask(task))
    }

    /// Verifies `items` in the next batch; the outcomes come back in order.
    /// Refuses at once when the queue cannot take them all; gives up with
    /// [`ApiError::DeadlineExceeded`] at `deadline`.
    pub async fn verify(
        &self,
        items: Vec<BatchItem>,
        deadline: Option<Instant>,
    ) -> Result<Vec<ItemOutcome>, ApiError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let Some(sender) = self.sender.lock().expect("batcher lock").clone() else {
            return Err(ApiError::ShuttingDown);
        };
        let permits = u32::try_from(items.len())
            .ok()
            .and_then(|n| self.queue.permits.clone().try_acquire_many_owned(n).ok())
            .ok_or_else(|| {
                self.metrics.shed.inc();
                ApiError::Overloaded
            })?;
        self.update_depth();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            items,
            deadline,
            reply,
            _permits: permits,
        };
        if sender.send(job).is_err() {
            return Err(ApiError::ShuttingDown);
        }
        let answer = async {
            answer
                .await
                .unwrap_or(Err(ApiError::Internal("verification was abandoned".into())))
        };
        let result = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), answer)
                .await
                .unwrap_or(Err(ApiError::DeadlineExceeded)),
            None => answer.await,
        };
        self.update_depth();
        result
    }

    /// Proofs queued or being verified.
    pub fn depth(&self) -> usize {
        self.queue.depth()
    }

    fn update_depth(&self) {
        self.metrics.queue_depth.set(self.depth() as i64);
    }
}

async fn collect(
    mut receiver: mpsc::UnboundedReceiver<Job>,
    verifier: Arc<BatchVerifier>,
    config: BatcherConfig,
    queue: Queue,
    metrics: Metrics,
) {
    // One batch verifies at a time: the verifier already uses every core.
    let verifier_free = Arc::new(Semaphore::new(1));
    // Batches being verified or answered (one may answer while the next verifies).
    let mut running = tokio::task::JoinSet::new();
    while let Some(first) = receiver.recv().await {
        let closes_at = tokio::time::Instant::now() + config.max_age;
        let mut size = first.items.len();
        let mut jobs = vec![first];
        let mut open = true;
        // Fill until full or old enough.
        while size < config.max_size {
            tokio::select! {
                biased;
                job = receiver.recv() => match job {
                    Some(job) => { size += job.items.len(); jobs.push(job); }
                    None => { open = false; break; }
                },
                _ = tokio::time::sleep_until(closes_at) => break,
            }
        }
        // Keep filling while the verifier is busy.
        let permit = loop {
            if size >= config.max_size || !open {
                break verifier_free
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("never closed");
            }
            tokio::select! {
                biased;
                permit = verifier_free.clone().acquire_owned() => break permit.expect("never closed"),
                job = receiver.recv() => match job {
                    Some(job) => { size += job.items.len(); jobs.push(job); }
                    None => open = false,
                },
            }
        };
        let verifier = verifier.clone();
        let metrics = metrics.clone();
        let queue = queue.clone();
        while running.try_join_next().is_some() {}
        running.spawn_blocking(move || {
            run_batch(&verifier, jobs, &metrics, permit);
            metrics.queue_depth.set(queue.depth() as i64);
        });
    }
    // Closed and drained: wait for the last batches to be answered.
    while running.join_next().await.is_some() {}
}

/// Verifies the live jobs' proofs as one batch and answers each job.
/// `verifier_free` is released as soon as the verifier is done, before the
/// answers go out: the collector is then woken ahead of the callers it
/// answers, so the next batch starts without waiting behind them.
fn run_batch(
    verifier: &BatchVerifier,
    jobs: Vec<Job>,
    metrics: &Metrics,
    verifier_free: OwnedSemaphorePermit,
) {
    let now = Instant::now();
    let (mut live, gone): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|job| !job.reply.is_closed() && job.deadline.is_none_or(|d| d > now));
    for job in gone {
        let _ = job.reply.send(Err(ApiError::DeadlineExceeded));
    }
    if live.is_empty() {
        return;
    }
    let counts: Vec<usize> = live.iter().map(|job| job.items.len()).collect();
    let items: Vec<BatchItem> = live
        .iter_mut()
        .flat_map(|job| std::mem::take(&mut job.items))
        .collect();
    let started = Instant::now();
    let report = verifier.verify(&items);
    let took = started.elapsed();
    drop(verifier_free);
    metrics.batch_size.observe(items.len() as f64);
    metrics
        .verify_per_proof
        .observe(took.as_secs_f64() / items.len() as f64);
    let mut outcomes = report.outcomes.into_iter();
    for (job, count) in live.into_iter().zip(counts) {
        let mine: Vec<ItemOutcome> = outcomes.by_ref().take(count).collect();
        let _ = job.reply.send(Ok(mine));
    }
}

impl MicroBatcher {
    /// Stops taking new proofs; queued ones are still verified and answered
    /// (await the [`BatcherTask`] for that).
    pub fn close(&self) {
        drop(self.sender.lock().expect("batcher lock").take());
    }
}
