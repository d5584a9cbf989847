//! Keys, proofs, tenants and a started server for each test; every log line
//! of the process is captured for the privacy scan.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tonic::metadata::MetadataValue;
use zktx_circuits::{encoding, Fr, SetOpening, Tier};
use zktx_formats::{KeyDir, ProofEnvelope};
use zktx_proto::v1;
use zktx_prover::{generate_keys, prove_envelope, KeySource};
use zktx_server::config::{Plan, ServerConfig, TenantConfig};
use zktx_server::tenants::hash_api_key;
use zktx_server::{start, RunningServer};

/// Members of the test's private sets: distinctive, so a log scan can find them.
pub const MEMBERS_A: [u64; 3] = [7_311_942_001_137, 8_422_053_112_248, 9_533_164_223_359];
/// Set B shares one member with A.
pub const MEMBERS_B: [u64; 2] = [9_533_164_223_359, 6_200_731_890_426];

/// Valid proofs made once per test binary.
pub const PROOFS: usize = 10;

/// Keys for tiers 4 and 8, proofs under tier 4 (distinct contexts), one under tier 8.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub keys: KeyDir,
    pub openings: (SetOpening, SetOpening),
    pub proofs: Vec<ProofEnvelope>,
    pub tier8_proof: ProofEnvelope,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path().join("keys"));
        for capacity in [4, 8] {
            let tier = Tier::new(capacity).unwrap();
            keys.write(&generate_keys(tier, &KeySource::DevSeed("server-it".into())).unwrap())
                .unwrap();
        }
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let tier4 = Tier::new(4).unwrap();
        let a = SetOpening::with_random_salt(tier4, MEMBERS_A, &mut rng).unwrap();
        let b = SetOpening::with_random_salt(tier4, MEMBERS_B, &mut rng).unwrap();
        let proofs = (0..PROOFS)
            .map(|i| prove_envelope(&keys, &a, &b, 1, Fr::from(1000 + i as u64), &mut rng).unwrap())
            .collect();
        let tier8 = Tier::new(8).unwrap();
        let a8 = SetOpening::with_random_salt(tier8, MEMBERS_A, &mut rng).unwrap();
        let b8 = SetOpening::with_random_salt(tier8, MEMBERS_B, &mut rng).unwrap();
        let tier8_proof = prove_envelope(&keys, &a8, &b8, 2, Fr::from(7u64), &mut rng).unwrap();
        Fixture {
            _dir: dir,
            keys,
            openings: (a, b),
            proofs,
            tier8_proof,
        }
    })
}

/// The proof bytes of an envelope.
pub fn proof_bytes(envelope: &ProofEnvelope) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(&envelope.proof)
        .unwrap()
}

/// The same proof claiming a different k: decodes, but does not verify.
pub fn with_k(envelope: &ProofEnvelope, k: u64) -> ProofEnvelope {
    let mut e = envelope.clone();
    e.public_inputs.k = k;
    e
}

/// A submission message for an envelope.
pub fn submission(envelope: &ProofEnvelope) -> v1::ProofSubmission {
    let i = &envelope.public_inputs;
    v1::ProofSubmission {
        key_fingerprint: envelope.vk_fingerprint.clone(),
        public_inputs: Some(v1::PublicInputs {
            commit_a: i.commit_a.clone(),
            commit_b: i.commit_b.clone(),
            k: i.k,
            context: i.context.clone(),
        }),
        proof: proof_bytes(envelope),
    }
}

/// A REST body for an envelope.
pub fn rest_body(envelope: &ProofEnvelope) -> serde_json::Value {
    serde_json::json!({
        "key_fingerprint": envelope.vk_fingerprint,
        "public_inputs": envelope.public_inputs,
        "proof": envelope.proof,
    })
}

/// Captured log output of the whole test process.
pub fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        logs().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // The server's own JSON format and filter, into memory.
        tracing_subscriber::fmt()
            .json()
            .with_writer(|| Capture)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                zktx_server::telemetry::DEFAULT_FILTER,
            ))
            .init();
    });
}

/// A tenant for the test configuration.
pub struct TestTenant {
    pub id: &'static str,
    pub plan: &'static str,
    pub key: String,
}

/// The test plans: `open` (generous), `tier4only`, `tight` (2-request burst),
/// `small` (daily quota of 4 proofs).
pub fn plans() -> Vec<(&'static str, Plan)> {
    let plan = |rps, burst, daily, max_batch, tiers: Option<Vec<usize>>| Plan {
        requests_per_second: rps,
        burst,
        daily_proofs: daily,
        max_batch,
        tiers,
        edition: None,
    };
    vec![
        ("open", plan(10_000, 10_000, 1_000_000, 64, None)),
        (
            "tier4only",
            plan(10_000, 10_000, 1_000_000, 64, Some(vec![4])),
        ),
        ("tight", plan(5, 2, 1_000_000, 64, None)),
        ("small", plan(10_000, 10_000, 4, 8, None)),
    ]
}

/// A server on ephemeral ports with one tenant per test plan.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub data: Arc<tempfile::TempDir>,
    pub tenants: Vec<TestTenant>,
}

/// A configuration over `data` with the fixture's keys and the test tenants.
pub fn config(data: &std::path::Path, tenants: &[TestTenant]) -> ServerConfig {
    let mut config = ServerConfig {
        data_dir: data.to_path_buf(),
        keys_dir: Some(fixture().keys.root().to_path_buf()),
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    config.batch.threads = 2;
    for (name, plan) in plans() {
        config.plans.insert(name.into(), plan);
    }
    config.tenants = tenants
        .iter()
        .map(|t| TenantConfig {
            id: t.id.into(),
            plan: t.plan.into(),
            api_key_sha256: vec![hex::encode(hash_api_key(&t.key))],
        })
        .collect();
    config
}

/// Fresh tenants, one per plan, with random keys.
pub fn tenants() -> Vec<TestTenant> {
    plans()
        .into_iter()
        .map(|(plan, _)| TestTenant {
            id: plan,
            plan,
            key: zktx_server::tenants::new_api_key(),
        })
        .collect()
}

impl TestServer {
    /// Starts a server; `tweak` adjusts the configuration first.
    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        capture_logs();
        let data = Arc::new(tempfile::tempdir().unwrap());
        let tenants = tenants();
        let mut config = config(data.path(), &tenants);
        tweak(&mut config);
        let server = start(config).await.unwrap();
        Self {
            server: Some(server),
            data,
            tenants,
        }
    }

    /// Starts a server with the default test configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Restarts on the same data directory and tenants (a graceful shutdown first).
    pub async fn restart(mut self) -> Self {
        self.server.take().unwrap().shutdown().await;
        let config = config(self.data.path(), &self.tenants);
        let server = start(config).await.unwrap();
        Self {
            server: Some(server),
            data: self.data,
            tenants: self.tenants,
        }
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().unwrap()
    }

    pub fn key(&self, plan: &str) -> &str {
        &self.tenants.iter().find(|t| t.plan == plan).unwrap().key
    }

    pub async fn grpc(&self) -> v1::verifier_client::VerifierClient<tonic::transport::Channel> {
        v1::verifier_client::VerifierClient::connect(format!("http://{}", self.server().grpc_addr))
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server().http_addr)
    }

    /// A GET on the REST listener, with `key` as bearer token if given.
    pub async fn get(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().await.unwrap()
    }

    /// A GET whose answer is JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: Option<&str>,
    ) -> T {
        self.get(path, key).await.json().await.unwrap()
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// A request carrying `key` as its bearer token.
pub fn authed<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {key}").parse().unwrap();
    request.metadata_mut().insert("authorization", value);
    request
}

/// The hex of a field element, as set members never appear (salts do).
pub fn fr_hex(x: &Fr) -> String {
    encoding::fr_to_hex(x)
}

/// A `Verify` request for an envelope.
pub fn verify_request(envelope: &ProofEnvelope) -> v1::VerifyRequest {
    v1::VerifyRequest {
        submission: Some(submission(envelope)),
    }
}

/// A JSON POST on the REST listener, with `key` as bearer token if given.
pub async fn rest_post(
    t: &TestServer,
    key: Option<&str>,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(t.url(path)).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

/// A response's status and JSON body.
pub async fn error_body(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
