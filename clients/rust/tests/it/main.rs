//! The client against a real sandbox server started by each test (loopback,
//! dev keys, the sandbox's tenants, its store in a temporary directory), with
//! tier 4 keys and test tenants added: every method on both transports, each
//! error code, retries and deadlines, receipts offline.

mod errors;
mod example;
mod methods;

use std::net::SocketAddr;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zktx_circuits::{Fr, SetOpening, Tier};
use zktx_client::{Client, Proof, Protocol, RetryPolicy};
use zktx_formats::{KeyDir, ProofEnvelope};
use zktx_prover::{generate_keys, prove_envelope, KeySource};
use zktx_server::config::{Plan, ServerConfig, TenantConfig};
use zktx_server::tenants::hash_api_key;
use zktx_server::RunningServer;

/// Proofs made once per test binary.
pub const PROOFS: usize = 12;

/// Tier 4 keys and valid proofs with distinct contexts.
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The key directory.
    pub keys: KeyDir,
    /// Valid proof files.
    pub envelopes: Vec<ProofEnvelope>,
}

/// The fixture, made on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path().join("keys"));
        let tier = Tier::new(4).unwrap();
        keys.write(&generate_keys(tier, &KeySource::DevSeed("client-it".into())).unwrap())
            .unwrap();
        // The sandbox's own tiers, made once here rather than by each server.
        zktx_server::sandbox::ensure_dev_keys(&keys).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let a = SetOpening::with_random_salt(tier, [11, 12, 13], &mut rng).unwrap();
        let b = SetOpening::with_random_salt(tier, [13, 14], &mut rng).unwrap();
        let envelopes = (0..PROOFS)
            .map(|i| prove_envelope(&keys, &a, &b, 1, Fr::from(500 + i as u64), &mut rng).unwrap())
            .collect();
        Fixture {
            _dir: dir,
            keys,
            envelopes,
        }
    })
}

/// Proof `i` of the fixture, as the client sends it.
pub fn proof(i: usize) -> Proof {
    Proof::from_envelope(&fixture().envelopes[i]).unwrap()
}

/// The test's own tenants, beside the sandbox's: `open` (room for
/// everything, batches of 8), `slow` (one request a second) and `narrow` (a
/// plan without tier 4). The sandbox's `capped` tenant (a daily quota of zero)
/// is called with the key its data directory holds (see [`capped_key`]).
pub const TENANTS: [&str; 3] = ["open", "slow", "narrow"];

/// A running server and its tenants' API keys.
pub struct TestServer {
    /// The server.
    pub server: RunningServer,
    data: tempfile::TempDir,
}

fn plan(
    requests_per_second: u32,
    burst: u32,
    daily_proofs: u64,
    tiers: Option<Vec<usize>>,
) -> Plan {
    Plan {
        requests_per_second,
        burst,
        daily_proofs,
        max_batch: 8,
        tiers,
        edition: None,
    }
}

/// The API key of tenant `id` (a test's own: nothing secret).
pub fn api_key(id: &str) -> String {
    format!("zk_test_{id}_key")
}

/// The sandbox's capped tenant's key, read as any client beside a sandbox
/// reads it: from the documented data-directory layout.
pub fn capped_key(data: &std::path::Path) -> String {
    let file = zktx_formats::DataDir::new(data).capped_api_key();
    zktx_formats::datadir::read_api_keys(&file)
        .unwrap()
        .remove(0)
}

/// The configuration of a test server on the given loopback addresses.
pub fn config(data: &std::path::Path, grpc: SocketAddr, http: SocketAddr) -> ServerConfig {
    let mut config = ServerConfig {
        data_dir: data.to_path_buf(),
        keys_dir: Some(fixture().keys.root().to_path_buf()),
        grpc_addr: grpc,
        http_addr: http,
        sandbox: true,
        ..ServerConfig::default()
    };
    config
        .plans
        .insert("open".into(), plan(100_000, 100_000, 1_000_000, None));
    config
        .plans
        .insert("slow".into(), plan(1, 1, 1_000_000, None));
    config.plans.insert(
        "narrow".into(),
        plan(100_000, 100_000, 1_000_000, Some(vec![16])),
    );
    config.tenants = TENANTS
        .iter()
        .map(|id| TenantConfig {
            id: (*id).into(),
            plan: (*id).into(),
            api_key_sha256: vec![hex::encode(hash_api_key(&api_key(id)))],
        })
        .collect();
    config
}

impl TestServer {
    /// A server on ephemeral loopback ports.
    pub async fn start() -> Self {
        fixture();
        let data = tempfile::tempdir().unwrap();
        let any = "127.0.0.1:0".parse().unwrap();
        let server = zktx_server::start(config(data.path(), any, any))
            .await
            .unwrap();
        Self { server, data }
    }

    /// The sandbox's capped tenant's API key.
    pub fn capped_key(&self) -> String {
        capped_key(self.data.path())
    }

    /// The address a client of `protocol` calls.
    pub fn address(&self, protocol: Protocol) -> String {
        match protocol {
            Protocol::Grpc => format!("http://{}", self.server.grpc_addr),
            Protocol::Rest => format!("http://{}", self.server.http_addr),
        }
    }

    /// A client of tenant `id` over `protocol`, without retries.
    pub async fn client(&self, protocol: Protocol, id: &str) -> Client {
        Client::builder(self.address(protocol), api_key(id))
            .protocol(protocol)
            .retry(RetryPolicy::none())
            .connect()
            .await
            .unwrap()
    }

    /// The count of `method`'s requests answered with `code`, from `/metrics`.
    pub async fn requests(&self, method: &str, code: &str) -> u64 {
        let text = reqwest::get(format!("http://{}/metrics", self.server.http_addr))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let needle = format!("zktx_requests_total{{code=\"{code}\",method=\"{method}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&needle))
            .map_or(0, |n| n.trim().parse().unwrap())
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Both transports.
pub const PROTOCOLS: [Protocol; 2] = [Protocol::Grpc, Protocol::Rest];
