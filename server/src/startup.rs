//! Wiring: keys, store, signer, verifier, micro-batcher, both listeners; and a
//! graceful shutdown (stop accepting, answer what is queued, flush the store).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zktx_circuits::encoding;
use zktx_formats::{DataDir, FormatError, KeyDir};
use zktx_governance::audit::Tally;
use zktx_governance::entitlements::Evidence;
use zktx_prover::ProverError;
use zktx_verifier::{
    BatchConfig, BatchVerifier, CacheConfig, PairingBackend, PreparedKeyRegistry, VerdictCache,
    VerifyError,
};

use crate::admission::Admission;
use crate::attestation::Attestor;
use crate::batcher::{BatcherConfig, BatcherTask, MicroBatcher};
use crate::config::{ConfigError, ServerConfig};
use crate::connections::{self, ConnectionTracker};
use crate::grpc::GrpcApi;
use crate::metrics::Metrics;
use crate::quota::{now_ms, Quotas};
use crate::receipt::{ReceiptSigner, SignerError};
use crate::service::{CircuitInfo, Service, ServiceParts};
use crate::store::{utc_day, AuditSetup, Store, StoreError, TenantRow};
use crate::tenants::Tenants;
use crate::{audit, listen, rest, sandbox, webhooks};

/// The largest HTTP/2 header list a gRPC call may send (bytes).
const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Keys could not be read or generated.
    #[error("keys: {0}")]
    Keys(#[from] ProverError),
    /// A key directory or sandbox file could not be read or written.
    #[error("files: {0}")]
    Files(#[from] FormatError),
    /// A verifying key did not load.
    #[error("verifying keys: {0}")]
    Verifier(#[from] VerifyError),
    /// There are no verifying keys to serve.
    #[error("no verifying keys in {0}: run `zktx setup` or `zktx keys import` into it, or start with --sandbox")]
    NoKeys(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The receipt-signing key could not be loaded.
    #[error(transparent)]
    Receipt(#[from] SignerError),
    /// A sandbox precondition failed.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// The admission policy bundle is missing or unusable (fail-closed).
    #[error("admission policy: {0}")]
    Policy(#[from] zktx_governance::PolicyError),
    /// The deployment profile refuses this start.
    #[error("profile: {0}")]
    Profile(#[from] zktx_governance::ProfileError),
    /// The release provenance is missing (prod) or does not cover this
    /// binary and its keys.
    #[error(transparent)]
    Release(#[from] crate::attestation::AttestationError),
    /// A listener or thread pool could not be set up.
    #[error("{0}")]
    Io(String),
}

/// A started server.
pub struct RunningServer {
    /// Where gRPC listens.
    pub grpc_addr: SocketAddr,
    /// Where REST listens.
    pub http_addr: SocketAddr,
    /// The demo tenant's API key, in sandbox mode.
    pub sandbox_api_key: Option<String>,
    /// Tiers whose dev keys were generated at this start (sandbox mode).
    pub generated_tiers: Vec<usize>,
    /// The configuration in force (sandbox additions included).
    pub config: ServerConfig,
    service: Arc<Service>,
    stop: watch::Sender<bool>,
    grpc_task: JoinHandle<Result<(), tonic::transport::Error>>,
    http_task: JoinHandle<std::io::Result<()>>,
    batcher_task: BatcherTask,
    health: tonic_health::server::HealthReporter,
}

impl RunningServer {
    /// The service (for in-process inspection).
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Graceful shutdown: stop accepting connections and new work, answer
    /// every queued proof, then flush and close the store. Connections still
    /// open after `limits.shutdown_grace_secs` (a stream its caller keeps
    /// open) are closed.
    pub async fn shutdown(mut self) {
        self.health
            .set_not_serving::<zktx_proto::v1::verifier_server::VerifierServer<GrpcApi>>()
            .await;
        self.service.drain();
        let _ = self.stop.send(true);
        let grace = Duration::from_secs(self.config.limits.shutdown_grace_secs);
        let listeners = async {
            let _ = (&mut self.grpc_task).await;
            let _ = (&mut self.http_task).await;
        };
        if tokio::time::timeout(grace, listeners).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "connections still open after the shutdown grace period: closing them"
            );
            self.grpc_task.abort();
            self.http_task.abort();
        }
        self.batcher_task.finished().await;
        self.service.store().close();
        tracing::info!("shut down: queue drained, store flushed");
    }
}

async fn wait_for_stop(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

fn circuits(keys: &KeyDir) -> Result<Vec<CircuitInfo>, ServerError> {
    keys.tiers()?
        .into_iter()
        .map(|tier| {
            let manifest = keys.manifest(tier)?;
            Ok(CircuitInfo {
                circuit: encoding::circuit_id(tier),
                tier: tier.capacity(),
                key_fingerprint: manifest.vk_fingerprint,
                constraints: manifest.constraints as u64,
                dev_keys: manifest.dev_keys,
                origin: manifest.origin,
            })
        })
        .collect()
}

/// The admission gate: the configured bundle (or the built-in one), loaded
/// and checked (fail-closed), then the profile's start checks on the keys
/// and the bundle's pinned hash. What the profile allows but prod would not
/// is logged as a warning.
fn admission(
    config: &ServerConfig,
    circuits: &[CircuitInfo],
    metrics: &Metrics,
    tally: Arc<Tally>,
) -> Result<Admission, ServerError> {
    use zktx_governance::{check_start, LoadedKey, PolicyBundle, PolicyGate};
    let bundle = match &config.policy.dir {
        Some(dir) => PolicyBundle::load(dir)?,
        None => PolicyBundle::builtin(),
    };
    let gate = PolicyGate::new(bundle)?;
    let loaded: Vec<LoadedKey> = circuits
        .iter()
        .map(|c| LoadedKey {
            tier: c.tier,
            fingerprint: c.key_fingerprint.clone(),
            origin: c.origin,
        })
        .collect();
    let origins = circuits
        .iter()
        .map(|c| (c.key_fingerprint.clone(), c.origin))
        .collect();
    let bundle = gate.bundle();
    let warnings = check_start(
        config.profile,
        &loaded,
        bundle.sha256(),
        &bundle.file_hashes(),
        config.policy.pinned_sha256.as_deref(),
    )?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        profile = %config.profile,
        policy_sha256 = %bundle.sha256(),
        policy_version = %bundle.version(),
        source = %config
            .policy
            .dir
            .as_ref()
            .map_or("built-in".to_string(), |d| d.display().to_string()),
        "admission policy loaded"
    );
    metrics
        .policy_info
        .with_label_values(&[bundle.sha256(), bundle.version(), config.profile.name()])
        .set(1);
    let admission = Admission::new(Arc::new(gate), config.profile, origins, tally);
    if config.policy.bypass_for_benchmarks {
        tracing::error!("admission policy BYPASSED: a benchmark's comparison run, never a service");
        return Ok(admission.bypassed_for_benchmarks());
    }
    Ok(admission)
}

/// Starts a server as configured; returns once both listeners are bound.
/// Runs on a multi-threaded tokio runtime (key loading and sandbox key
/// generation block in place).
pub async fn start(mut config: ServerConfig) -> Result<RunningServer, ServerError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        ServerError::Io(format!("data directory {}: {e}", config.data_dir.display()))
    })?;
    let keys = KeyDir::new(config.keys_dir());
    let (mut sandbox_api_key, mut generated_tiers) = (None, Vec::new());
    if config.sandbox {
        sandbox::check_loopback(&config)?;
        generated_tiers = tokio::task::block_in_place(|| sandbox::ensure_dev_keys(&keys))?;
        let data_dir = config.data_dir.clone();
        sandbox_api_key = sandbox::ensure_demo_tenant(&mut config, &data_dir)?;
        sandbox::ensure_load_tenants(&mut config, &data_dir)?;
        config.validate()?;
    }
    let circuits = circuits(&keys)?;
    if circuits.is_empty() {
        return Err(ServerError::NoKeys(keys.root().display().to_string()));
    }
    // The policy and the profile's checks before the keys are loaded: a
    // start they refuse fails fast.
    let metrics = Metrics::new();
    let tally = Arc::new(Tally::default());
    let admission = admission(&config, &circuits, &metrics, tally.clone())?;
    // The release check (prod refuses to start without provenance covering
    // this binary and its keys) before the keys are prepared or anything is
    // opened or served.
    let signer =
        ReceiptSigner::load_or_create(&DataDir::new(&config.data_dir).receipt_signing_key())?;
    let receipt_public_key = signer.public_key_hex();
    let attestor = Arc::new(tokio::task::block_in_place(|| {
        Attestor::at_start(
            &config,
            &circuits,
            admission.gate().bundle().sha256(),
            signer.key(),
        )
    })?);
    let registry = Arc::new(tokio::task::block_in_place(|| {
        PreparedKeyRegistry::load(&keys)
    })?);
    for c in &circuits {
        let origin = serde_json::to_value(c.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        metrics
            .verifying_key_info
            .with_label_values(&[&c.tier.to_string(), &c.key_fingerprint, &origin])
            .set(1);
    }

    // The evidence some plan features are gated on: every key from a
    // ceremony, and a pinned policy (a wrong pin refused the start above).
    let evidence = Evidence {
        ceremony_keys: circuits
            .iter()
            .all(|c| c.origin == zktx_formats::KeyOrigin::Ceremony),
        policy_pinned: config.policy.pinned_sha256.is_some(),
    };
    let tenants = Tenants::from_config(&config);
    let quotas = Quotas::new(tenants.all())
        .audited(tally.clone())
        .counted(metrics.quota_denials.clone());
    if config.audit_bypass_for_benchmarks {
        tracing::error!("audit chain BYPASSED for receipt groups: a benchmark's comparison run, never a service");
    }
    let store = Arc::new(Store::open(
        &DataDir::new(&config.data_dir).store(),
        signer,
        quotas.usage_hook(),
        AuditSetup {
            policy_sha256: admission.gate().bundle().sha256().to_string(),
            tally,
            bypass_for_benchmarks: config.audit_bypass_for_benchmarks,
        },
    )?);
    store.time_commits(metrics.store_commit_seconds.clone());
    metrics
        .queue_capacity
        .set(i64::try_from(config.batch.queue_capacity).unwrap_or(i64::MAX));
    quotas.restore(&store.usage_on(utc_day(now_ms()))?);
    let webhook_targets = webhooks::Targets::from_config(&config)?;
    let tenant_rows: Vec<TenantRow> = config
        .tenants
        .iter()
        .map(|t| TenantRow {
            id: t.id.clone(),
            plan: t.plan.clone(),
            edition: config.plans[&t.plan].edition_of(&t.plan).name().to_string(),
            webhook_url: webhook_targets.url(&t.id).map(str::to_string),
        })
        .collect();
    store.sync_tenants(&tenant_rows, now_ms())?;
    audit::record_start(&store, &config, &circuits, now_ms()).await?;

    let cache = Arc::new(VerdictCache::new(CacheConfig {
        max_entries: config.cache.max_entries,
        ttl: Duration::from_secs(config.cache.ttl_secs),
    }));
    let backend: PairingBackend = config
        .batch
        .backend
        .parse()
        .map_err(|_| ServerError::Io("unknown backend".into()))?;
    let verifier = BatchVerifier::new(
        registry.clone(),
        BatchConfig {
            threads: config.batch.threads,
            backend,
        },
    )
    .map_err(|e| ServerError::Io(e.to_string()))?
    .with_cache(cache.clone());
    let (batcher, batcher_task) = MicroBatcher::start(
        Arc::new(verifier),
        BatcherConfig {
            max_size: config.batch.max_size,
            max_age: Duration::from_millis(config.batch.max_age_ms),
            queue_capacity: config.batch.queue_capacity,
        },
        metrics.clone(),
    );
    let service = Arc::new(Service::new(ServiceParts {
        tenants,
        quotas,
        store,
        receipt_public_key,
        registry,
        circuits,
        batcher,
        cache,
        metrics,
        admission,
        evidence,
        attestor,
    }));

    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|e| ServerError::Io(format!("cannot listen on {addr}: {e}")))
    };
    let grpc_listener = bind(config.grpc_addr).await?;
    let http_listener = bind(config.http_addr).await?;
    let grpc_addr = grpc_listener
        .local_addr()
        .map_err(|e| ServerError::Io(e.to_string()))?;
    let http_addr = http_listener
        .local_addr()
        .map_err(|e| ServerError::Io(e.to_string()))?;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<zktx_proto::v1::verifier_server::VerifierServer<GrpcApi>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(zktx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Io(format!("reflection: {e}")))?;

    // Connections: capped per listener below the open-file limit.
    let limits = config.limits.clone();
    let open_files = connections::raise_open_file_limit();
    let cap = connections::connection_cap(limits.max_connections, open_files, 2);
    if cap < limits.max_connections {
        tracing::warn!(
            configured = limits.max_connections,
            cap,
            open_files,
            "limits.max_connections lowered to fit the open-file limit"
        );
    }
    let idle = Duration::from_secs(limits.idle_timeout_secs);
    let grpc_connections = ConnectionTracker::new("grpc", cap, idle, service.metrics().clone());
    let http_connections = ConnectionTracker::new("http", cap, idle, service.metrics().clone());

    let (stop, stop_rx) = watch::channel(false);
    webhooks::spawn(
        DataDir::new(&config.data_dir).store(),
        webhook_targets,
        stop_rx.clone(),
    );
    // Every bound a caller could grow: messages (sized for the largest
    // plan's batch; smaller per message type, see zktx_proto::codec), streams
    // per connection, flow-control windows (the most unread data a
    // connection holds), header lists, and dead peers (keep-alive pings).
    let max_message = zktx_proto::codec::max_batch_message_bytes(config.largest_batch());
    let verifier = zktx_proto::v1::verifier_server::VerifierServer::new(GrpcApi::new(
        service.clone(),
        limits.stream_in_flight,
    ))
    .max_decoding_message_size(max_message);
    let grpc = tonic::transport::Server::builder()
        .max_concurrent_streams(limits.max_streams_per_connection)
        .initial_stream_window_size(limits.stream_window_bytes)
        .initial_connection_window_size(limits.connection_window_bytes)
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .http2_keepalive_interval(Some(Duration::from_secs(limits.keepalive_interval_secs)))
        .http2_keepalive_timeout(Some(Duration::from_secs(limits.keepalive_timeout_secs)))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(verifier);
    let grpc_task = tokio::spawn(grpc.serve_with_incoming_shutdown(
        listen::tracked_incoming(grpc_listener, grpc_connections),
        wait_for_stop(stop_rx.clone()),
    ));
    let http_task = tokio::spawn(listen::serve_rest(
        http_listener,
        http_connections,
        rest::router(service.clone()),
        Duration::from_millis(limits.header_read_timeout_ms),
        wait_for_stop(stop_rx),
    ));
    tracing::info!(%grpc_addr, %http_addr, sandbox = config.sandbox, "listening");
    Ok(RunningServer {
        grpc_addr,
        http_addr,
        sandbox_api_key,
        generated_tiers,
        config,
        service,
        stop,
        grpc_task,
        http_task,
        batcher_task,
        health,
    })
}
