//! Chaos runs against a `zktx serve` child process:
//! - [`kill_and_restart`]: SIGKILL mid-load, restart, then check that every
//!   receipt a client received is still there, that usage counts cover every
//!   acknowledged proof, and how long recovery took;
//! - [`disconnects`]: callers that hang up mid-request and mid-stream, then
//!   check that the queue drains and memory stays near its baseline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use zktx_proto::v1;

use crate::client::{authed, submission, Client, Target, Transport};
use crate::driver::{Driver, Limits, Material, Pace};
use crate::mix::Mix;
use crate::probe::ServerSample;
use crate::process::ServerProcess;
use crate::LoadError;

/// What the kill-and-restart run found.
#[derive(Clone, Debug, Serialize)]
pub struct KillReport {
    /// Valid proofs sent.
    pub sent: u64,
    /// Answered `valid` with a receipt before or after the kill.
    pub acknowledged: u64,
    /// Failed because the server was down or died mid-call.
    pub failed: u64,
    /// Acknowledged receipts found again after the restart, byte for byte.
    pub receipts_present: u64,
    /// Tenants whose metered proofs today are fewer than their acknowledged
    /// fresh (not replayed) proofs.
    pub tenants_short: u64,
    /// From SIGKILL to the restarted server listening, ms.
    pub restart_ms: f64,
    /// From SIGKILL to the first acknowledged proof after the restart, ms.
    pub recovery_ms: Option<f64>,
}

impl KillReport {
    /// Whether nothing acknowledged was lost.
    pub fn held(&self) -> bool {
        self.acknowledged > 0
            && self.receipts_present == self.acknowledged
            && self.tenants_short == 0
            && self.recovery_ms.is_some()
    }
}

/// Acknowledged proofs: tenant, receipt, when the answer came, and whether
/// it was a replay (answered with an earlier receipt, not metered).
type Acks = Arc<Mutex<Vec<(usize, v1::Receipt, Instant, bool)>>>;

/// Sends valid proofs at `rate` for `before + after`, SIGKILLs the server
/// `before` into it (with calls in flight) and restarts it at once; calls
/// made while it is down fail, and calls go to the restarted server as soon
/// as it listens. Then checks every acknowledged receipt and the tenants'
/// usage on the restarted server (left running).
pub async fn kill_and_restart(
    server: &mut ServerProcess,
    target: Target,
    material: &Arc<Material>,
    rate: f64,
    before: Duration,
    after: Duration,
) -> Result<(KillReport, Target), LoadError> {
    let acks: Acks = Arc::default();
    let failed = Arc::new(Mutex::new(0u64));
    let client = Arc::new(Client::connect(target, 2, Transport::Unary, &[]).await?);
    let current = Arc::new(Mutex::new(client));
    let sender = tokio::spawn(send_for(
        current.clone(),
        material.clone(),
        rate,
        before + after,
        acks.clone(),
        failed.clone(),
    ));
    tokio::time::sleep(before).await;
    let killed = Instant::now();
    let (ready, _) = tokio::task::block_in_place(|| {
        server.kill();
        server.start(Duration::from_secs(120))
    })?;
    let restart_ms = killed.elapsed().as_secs_f64() * 1e3;
    let client = Arc::new(Client::connect(ready.target, 2, Transport::Unary, &[]).await?);
    *current.lock().expect("client") = client.clone();
    let sent = sender
        .await
        .map_err(|e| LoadError::Server(format!("the sending task failed: {e}")))?;
    let recovery_ms = acks
        .lock()
        .expect("acks")
        .iter()
        .filter(|(_, _, at, _)| *at > killed)
        .map(|(_, _, at, _)| at.duration_since(killed).as_secs_f64() * 1e3)
        .reduce(f64::min);

    let acks = acks.lock().expect("acks").clone();
    let mut present = 0;
    let mut by_tenant: HashMap<usize, u64> = HashMap::new();
    for (tenant, receipt, _, replayed) in &acks {
        if !replayed {
            *by_tenant.entry(*tenant).or_default() += 1;
        }
        let tenant_client = client.api(0).with_api_key(material.keys[*tenant].as_str());
        if let Ok(found) = tenant_client.receipt(&receipt.id).await {
            present += u64::from(found == zktx_proto::receipt::from_message(receipt.clone()));
        }
    }
    let mut short = 0;
    for (tenant, acknowledged) in by_tenant {
        let usage = client
            .api(0)
            .with_api_key(material.keys[tenant].as_str())
            .usage()
            .await
            .map_err(|e| LoadError::Server(format!("usage: {e}")))?;
        short += u64::from(usage.proofs_today < acknowledged);
    }
    let failed = *failed.lock().expect("failed");
    Ok((
        KillReport {
            sent,
            acknowledged: acks.len() as u64,
            failed,
            receipts_present: present,
            tenants_short: short,
            restart_ms,
            recovery_ms,
        },
        ready.target,
    ))
}

/// Open loop of unary valid proofs to whichever server `current` points at;
/// returns how many were sent.
async fn send_for(
    current: Arc<Mutex<Arc<Client>>>,
    material: Arc<Material>,
    rate: f64,
    duration: Duration,
    acks: Acks,
    failed: Arc<Mutex<u64>>,
) -> u64 {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate) as u64 + 1;
        for i in sent..due {
            let n = i as usize;
            let client = current.lock().expect("client").clone();
            let tenant = n % material.keys.len();
            let item = material.take(tenant, 1).remove(0);
            let key = material.keys[tenant].clone();
            let (mut grpc, acks, failed) = (client.grpc(n), acks.clone(), failed.clone());
            tasks.spawn(async move {
                let request = v1::VerifyRequest {
                    submission: Some(submission(&item)),
                };
                let answer = tokio::time::timeout(
                    Duration::from_secs(30),
                    grpc.verify(authed(request, &key)),
                )
                .await;
                match answer {
                    Ok(Ok(response)) => {
                        let response = response.into_inner();
                        match response.receipt {
                            Some(receipt) if response.verdict == v1::Verdict::Valid as i32 => {
                                acks.lock().expect("acks").push((
                                    tenant,
                                    receipt,
                                    Instant::now(),
                                    response.replayed,
                                ));
                            }
                            _ => *failed.lock().expect("failed") += 1,
                        }
                    }
                    _ => *failed.lock().expect("failed") += 1,
                }
            });
        }
        sent = due;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    while tasks.join_next().await.is_some() {}
    sent
}

/// What the disconnect run found.
#[derive(Clone, Debug, Serialize)]
pub struct DisconnectReport {
    /// The server after a warm-up of the same load without disconnects.
    pub baseline: ServerSample,
    /// The server after the disconnect load and the dropped streams, once settled.
    pub after: ServerSample,
    /// Calls that hung up mid-request.
    pub requests_abandoned: u64,
    /// Streams dropped with messages in flight.
    pub streams_dropped: u64,
    /// Resident memory growth from the baseline, MiB.
    pub growth_mib: f64,
}

impl DisconnectReport {
    /// The bound on memory growth that counts as returning to the baseline.
    pub const GROWTH_LIMIT_MIB: f64 = 64.0;

    /// Whether the queue drained and memory stayed near the baseline.
    pub fn held(&self) -> bool {
        self.after.queue_depth == 0.0 && self.growth_mib <= Self::GROWTH_LIMIT_MIB
    }
}

/// Warms up with valid unary calls at `rate` for `duration`, then runs the
/// same with half the callers hanging up after 1 ms, then drops `streams`
/// streams with 64 messages each in flight; compares the settled server with
/// the warmed-up baseline.
pub async fn disconnects(
    target: Target,
    material: &Arc<Material>,
    max_batch: usize,
    rate: f64,
    duration: Duration,
    streams: usize,
) -> Result<DisconnectReport, LoadError> {
    let client = Arc::new(Client::connect(target, 2, Transport::Unary, &[]).await?);
    let limits = Limits {
        duration,
        max_calls: (rate * duration.as_secs_f64()).ceil() as u64,
        call_timeout: Duration::from_secs(30),
    };
    // The same load twice: valid calls only (the baseline), then half of them hanging up.
    let mut runs = Vec::new();
    for (name, mix) in [
        ("warm-up", Mix::valid_only()),
        (
            "disconnects",
            "valid=1,disconnect=1".parse().expect("a valid mix"),
        ),
    ] {
        let driver = Driver::new(
            client.clone(),
            material.clone(),
            Transport::Unary,
            mix,
            max_batch,
        );
        runs.push(driver.run(name, Pace::Open { rate }, limits, false).await);
    }
    let (warmed, run) = (&runs[0], &runs[1]);
    let baseline = warmed
        .server_after
        .ok_or_else(|| LoadError::Server("no metrics from the server".into()))?;
    let requests_abandoned = run
        .answers
        .get("disconnect")
        .map_or(0, |a| a.values().sum());
    for s in 0..streams {
        let tenant = s % material.keys.len();
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let mut grpc = client.grpc(s);
        let request = authed(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
            &material.keys[tenant],
        );
        let call = tokio::spawn(async move { grpc.verify_stream(request).await });
        for (sequence, item) in material.take(tenant, 64).iter().enumerate() {
            let message = v1::VerifyStreamRequest {
                sequence: sequence as u64,
                submission: Some(submission(item)),
            };
            if sender.send(message).await.is_err() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        // Hang up: the request stream and the call go away unanswered.
        call.abort();
        drop(sender);
    }
    let after = settled(&client).await?;
    Ok(DisconnectReport {
        growth_mib: (after.resident_bytes - baseline.resident_bytes) / 1048576.0,
        baseline,
        after,
        requests_abandoned,
        streams_dropped: streams as u64,
    })
}

/// The server's gauges once its queue is empty (up to 30 s), after a pause
/// that lets dropped calls be noticed.
async fn settled(client: &Client) -> Result<ServerSample, LoadError> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sample = ServerSample::parse(&client.metrics().await?);
        if sample.queue_depth == 0.0 || Instant::now() >= deadline {
            return Ok(sample);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
