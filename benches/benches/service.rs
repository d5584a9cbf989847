//! The service under load, against the batch verifier called directly, in one run:
//!
//! 1. `direct`: [`BatchVerifier`] on the proofs in batches of the
//!    micro-batcher's size (256), 2 threads, blst: the ceiling.
//! 2. `unary`: every proof as its own gRPC `Verify` call over loopback,
//!    `ZKTX_BENCH_INFLIGHT` (default 128) calls in flight over 4 connections,
//!    through the micro-batcher, each answered with a durable signed receipt.
//! 3. `batch-rpc`: `VerifyBatch` calls of 100 proofs, 4 in flight.
//!
//! Every request is fresh work: item `i` is a re-randomised proof of statement
//! `i % 100` submitted by tenant `i / 100`, so no (tenant, statement) pair
//! repeats (no replay) and no proof bytes repeat (no cache hit); each phase
//! gets a fresh server and store. Client and server share the machine.
//! Not criterion: throughput and tail latency under concurrency are not a
//! per-iteration time. Prints a table and writes `target/zktx-bench/service.json`.
//! `ZKTX_BENCH_PROOFS` sets the number of proofs (default 4000, a multiple of 100).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::metadata::MetadataValue;
use zktx_benches::proof_items;
use zktx_circuits::Tier;
use zktx_proto::v1;
use zktx_prover::{generate_keys, KeyDir, KeySource};
use zktx_server::config::{Plan, ServerConfig, TenantConfig};
use zktx_server::tenants::hash_api_key;
use zktx_verifier::{BatchConfig, BatchItem, BatchVerifier, PairingBackend, PreparedKeyRegistry};

const STATEMENTS: usize = 100;
const MICRO_BATCH: usize = 256;
const CONNECTIONS: usize = 4;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

struct Phase {
    name: &'static str,
    proofs_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn submission(item: &BatchItem) -> v1::ProofSubmission {
    v1::ProofSubmission {
        key_fingerprint: item.key.clone(),
        public_inputs: Some(v1::PublicInputs {
            commit_a: item.inputs.commit_a.clone(),
            commit_b: item.inputs.commit_b.clone(),
            k: item.inputs.k,
            context: item.inputs.context.clone(),
        }),
        proof: item.proof.clone(),
    }
}

fn authed<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {key}").parse().expect("ASCII key");
    request.metadata_mut().insert("authorization", value);
    request
}

async fn start_server(
    keys: &KeyDir,
    tenants: &[String],
) -> (zktx_server::RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = ServerConfig {
        data_dir: data.path().to_path_buf(),
        keys_dir: Some(keys.root().to_path_buf()),
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        ..ServerConfig::default()
    };
    config.batch.threads = 2;
    config.batch.max_size = MICRO_BATCH;
    config.plans.insert(
        "bench".into(),
        Plan {
            requests_per_second: 1_000_000,
            burst: 1_000_000,
            daily_proofs: u64::MAX / 2,
            max_batch: 1_000,
            tiers: None,
        },
    );
    config.tenants = tenants
        .iter()
        .enumerate()
        .map(|(i, key)| TenantConfig {
            id: format!("bench-{i}"),
            plan: "bench".into(),
            api_key_sha256: vec![hex::encode(hash_api_key(key))],
        })
        .collect();
    (
        zktx_server::start(config).await.expect("server starts"),
        data,
    )
}

async fn connections(
    addr: std::net::SocketAddr,
) -> Vec<v1::verifier_client::VerifierClient<tonic::transport::Channel>> {
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("uri")
            .tcp_nodelay(true)
            .connect()
            .await
            .expect("connect");
        clients.push(v1::verifier_client::VerifierClient::new(channel));
    }
    clients
}

async fn unary(
    keys: &KeyDir,
    items: &Arc<Vec<BatchItem>>,
    tenants: &Arc<Vec<String>>,
    inflight: usize,
) -> Phase {
    let (server, _data) = start_server(keys, tenants).await;
    let clients = connections(server.grpc_addr).await;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..inflight {
        let (mut client, next, items, tenants) = (
            clients[worker % CONNECTIONS].clone(),
            next.clone(),
            items.clone(),
            tenants.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    return latencies;
                }
                let request = v1::VerifyRequest {
                    submission: Some(submission(&items[i])),
                };
                let sent = Instant::now();
                let response = client
                    .verify(authed(request, &tenants[i / STATEMENTS]))
                    .await
                    .expect("verify");
                assert_eq!(response.into_inner().verdict, v1::Verdict::Valid as i32);
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("worker"));
    }
    let took = started.elapsed();
    server.shutdown().await;
    summarise("unary", latencies, items.len(), took)
}

async fn batch_rpc(
    keys: &KeyDir,
    items: &Arc<Vec<BatchItem>>,
    tenants: &Arc<Vec<String>>,
) -> Phase {
    let (server, _data) = start_server(keys, tenants).await;
    let clients = connections(server.grpc_addr).await;
    let calls = items.len() / STATEMENTS;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in &clients {
        let (mut client, next, items, tenants) =
            (client.clone(), next.clone(), items.clone(), tenants.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let call = next.fetch_add(1, Ordering::Relaxed);
                if call >= calls {
                    return latencies;
                }
                let batch: Vec<_> = items[call * STATEMENTS..(call + 1) * STATEMENTS]
                    .iter()
                    .map(submission)
                    .collect();
                let sent = Instant::now();
                let response = client
                    .verify_batch(authed(
                        v1::VerifyBatchRequest { items: batch },
                        &tenants[call],
                    ))
                    .await
                    .expect("verify batch");
                assert_eq!(response.into_inner().results.len(), STATEMENTS);
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("worker"));
    }
    let took = started.elapsed();
    server.shutdown().await;
    summarise("batch-rpc (100/call)", latencies, items.len(), took)
}

fn summarise(
    name: &'static str,
    mut latencies: Vec<Duration>,
    proofs: usize,
    took: Duration,
) -> Phase {
    latencies.sort();
    Phase {
        name,
        proofs_per_sec: proofs as f64 / took.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    }
}

fn direct(keys: &KeyDir, items: &[BatchItem]) -> Phase {
    let registry = Arc::new(PreparedKeyRegistry::load(keys).expect("keys load"));
    let verifier = BatchVerifier::new(
        registry,
        BatchConfig {
            threads: 2,
            backend: PairingBackend::Blst,
        },
    )
    .expect("pool");
    let mut latencies = Vec::new();
    let started = Instant::now();
    for chunk in items.chunks(MICRO_BATCH) {
        let t = Instant::now();
        assert!(verifier.verify(chunk).all_valid());
        latencies.push(t.elapsed());
    }
    summarise(
        "direct BatchVerifier (256/batch)",
        latencies,
        items.len(),
        started.elapsed(),
    )
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: run nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let count = env_usize("ZKTX_BENCH_PROOFS", 4_000) / STATEMENTS * STATEMENTS;
    let inflight = env_usize("ZKTX_BENCH_INFLIGHT", 128);
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = KeyDir::new(dir.path().join("keys"));
    let generated = generate_keys(
        Tier::new(16).expect("tier"),
        &KeySource::DevSeed("bench-service".into()),
    )
    .expect("setup");
    keys.write(&generated).expect("write keys");
    eprintln!("proving {STATEMENTS} statements, {count} proofs...");
    let items = Arc::new(proof_items(&generated, STATEMENTS, count));
    let tenants: Arc<Vec<String>> = Arc::new(
        (0..count / STATEMENTS)
            .map(|_| zktx_server::tenants::new_api_key())
            .collect(),
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let direct = direct(&keys, &items);
    let unary = runtime.block_on(unary(&keys, &items, &tenants, inflight));
    let batch = runtime.block_on(batch_rpc(&keys, &items, &tenants));

    println!("\nservice bench: {count} proofs (tier 16), {inflight} unary calls in flight, 2 verify threads, blst");
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "phase", "proofs/s", "vs direct", "p50 ms", "p99 ms", "max ms"
    );
    for phase in [&direct, &unary, &batch] {
        println!(
            "{:<34} {:>10.0} {:>9.2} {:>9.1} {:>9.1} {:>9.1}",
            phase.name,
            phase.proofs_per_sec,
            phase.proofs_per_sec / direct.proofs_per_sec,
            phase.p50_ms,
            phase.p99_ms,
            phase.max_ms
        );
    }
    println!("(direct latencies are per 256-proof batch; batch-rpc latencies per 100-proof call)");
    let phases: Vec<serde_json::Value> = [&direct, &unary, &batch]
        .iter()
        .map(|p| {
            serde_json::json!({
                "phase": p.name, "proofs_per_sec": p.proofs_per_sec,
                "ratio_to_direct": p.proofs_per_sec / direct.proofs_per_sec,
                "p50_ms": p.p50_ms, "p99_ms": p.p99_ms, "max_ms": p.max_ms,
            })
        })
        .collect();
    let json = serde_json::json!({
        "proofs": count,
        "inflight": inflight,
        "phases": phases,
        "targets": {
            "unary_ratio_min": 0.70, "unary_p99_ms_max": 50.0, "batch_rpc_ratio_min": 0.85,
            "unary_met": unary.proofs_per_sec / direct.proofs_per_sec >= 0.70 && unary.p99_ms < 50.0,
            "batch_rpc_met": batch.proofs_per_sec / direct.proofs_per_sec >= 0.85,
        },
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/zktx-bench");
    std::fs::create_dir_all(&out).expect("output dir");
    std::fs::write(
        out.join("service.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write");
}
