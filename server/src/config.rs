//! Server configuration: defaults, then a TOML file, then `ZKTX_*` environment
//! variables, then command-line flags (figment layers them in that order).
//! Tests build a [`ServerConfig`] directly; nothing here reads the process
//! environment unless [`ServerConfig::figment`] is asked to.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use crate::telemetry::TelemetrySettings;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
pub use zktx_governance::entitlements::Edition;
pub use zktx_governance::Profile;

/// Everything `zktx serve` can be told.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the store, the receipt-signing key and (by default) the keys live.
    pub data_dir: PathBuf,
    /// The verifying keys (a `zktx setup` output directory); default `<data_dir>/keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_dir: Option<PathBuf>,
    /// The gRPC listener; port 0 picks a free one.
    pub grpc_addr: SocketAddr,
    /// The REST listener (also `/metrics`, `/healthz`, `/readyz`, `/openapi.json`).
    pub http_addr: SocketAddr,
    /// Sandbox mode: dev keys for the small tiers and a demo tenant are created if missing.
    pub sandbox: bool,
    /// Micro-batching.
    pub batch: BatchSettings,
    /// The verdict cache in front of the queue.
    pub cache: CacheSettings,
    /// Plans by name. A file that defines any `[plans.*]` replaces the
    /// built-in plans ([`default_plans`]) as a whole, so no plan silently
    /// inherits a built-in plan's fields.
    #[serde(default)]
    pub plans: BTreeMap<String, Plan>,
    /// Tenants and their hashed API keys.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// Bounds on connections, streams and idle time.
    #[serde(default)]
    pub limits: Limits,
    /// The deployment profile: `dev` (the sandbox), `staging` or `prod`
    /// (no development keys, the policy bundle's hash pinned).
    #[serde(default)]
    pub profile: Profile,
    /// The admission policy bundle.
    #[serde(default)]
    pub policy: PolicySettings,
    /// The release this server was built as: its signed provenance and the
    /// release signing key, checked at start (required in prod).
    #[serde(default)]
    pub release: ReleaseSettings,
    /// `invoice.created` webhooks by tenant id (`[webhooks.acme]`): where to
    /// POST and the environment variable holding the HMAC secret (never the
    /// secret itself). Delivered only when the tenant's plan has webhooks.
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookSettings>,
    /// Request spans: exported over OTLP only when an endpoint is set.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    /// Receipt groups are not chained in the audit log: only for the
    /// service bench, which measures the chain as a ratio against the same
    /// run without it. Not deserialized; a server started with it logs an error.
    #[serde(skip)]
    pub audit_bypass_for_benchmarks: bool,
}

/// Where the admission policy comes from (see `docs/governance.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// A bundle directory (`*.rego`, `data.json`, `waivers.json`); absent:
    /// the bundle built into zktx (`governance/policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// The bundle's expected SHA-256 (`zktx policy hash`); required in prod,
    /// and checked at start in every profile when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_sha256: Option<String>,
    /// No admission decisions at all: only for the service bench, which
    /// measures the gate as a ratio against the same run without it. No file,
    /// variable or flag can set it (it is not deserialized), and a server
    /// started with it logs an error.
    #[serde(skip)]
    pub bypass_for_benchmarks: bool,
}

/// The release provenance the server checks itself against at start
/// (`docs/supply-chain.md`): in prod both are required, the provenance must
/// be signed with this key as an official release, and the running binary
/// and every verifying key must be among its subjects. In other profiles
/// they are optional; when given they are checked the same way, except that
/// an unofficial (throwaway-key) release is accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseSettings {
    /// The release's `provenance.dsse.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<PathBuf>,
    /// The release signing public key (64 hex digits, `provenance.pub`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// One tenant's webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The receiver (`http://` or `https://`).
    pub url: String,
    /// The environment variable that holds the HMAC-SHA256 secret.
    pub secret_env: String,
}

/// What one caller can hold open, and for how long. The README's "Bounds"
/// section states what each costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Open connections per listener. At the cap, the connection that has
    /// been silent longest is closed to admit a new one. Lowered at start to
    /// fit the open-file limit (raised first to its hard limit).
    pub max_connections: usize,
    /// REST: a request's headers must arrive within this (milliseconds); a
    /// keep-alive connection waiting for its next request is closed after it too.
    pub header_read_timeout_ms: u64,
    /// Either listener: a connection from which no byte has arrived for this
    /// long (seconds) is closed.
    pub idle_timeout_secs: u64,
    /// gRPC: HTTP/2 pings on a connection every this many seconds...
    pub keepalive_interval_secs: u64,
    /// ...and the connection is closed if a ping is not answered within this.
    pub keepalive_timeout_secs: u64,
    /// gRPC: concurrent HTTP/2 streams (calls) per connection, advertised in
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub max_streams_per_connection: u32,
    /// gRPC: proofs one `VerifyStream` may have in flight; its next messages
    /// wait (HTTP/2 flow control pushes back on the caller).
    pub stream_in_flight: usize,
    /// gRPC: HTTP/2 receive window per stream (bytes).
    pub stream_window_bytes: u32,
    /// gRPC: HTTP/2 receive window per connection (bytes): the most unread
    /// request data a connection can hold, whatever its streams.
    pub connection_window_bytes: u32,
    /// At shutdown, how long open calls and streams may take to finish
    /// (seconds) before their connections are closed.
    pub shutdown_grace_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_timeout_ms: 10_000,
            idle_timeout_secs: 300,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 20,
            max_streams_per_connection: 128,
            stream_in_flight: 64,
            stream_window_bytes: 64 * 1024,
            connection_window_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
        }
    }
}

/// How single proofs are coalesced into batches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// A batch closes when it holds this many proofs...
    pub max_size: usize,
    /// ...or when its oldest proof has waited this long (milliseconds).
    pub max_age_ms: u64,
    /// The most proofs queued or being verified; beyond it callers are shed at once.
    pub queue_capacity: usize,
    /// Verification threads (0: one per core).
    pub threads: usize,
    /// `blst` (default) or `arkworks`.
    pub backend: String,
}

/// The verdict cache.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Most verdicts kept.
    pub max_entries: u64,
    /// How long a verdict is kept (seconds).
    pub ttl_secs: u64,
}

/// A plan: what a tenant may do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Sustained requests per second (token bucket refill rate).
    pub requests_per_second: u32,
    /// Requests allowed in a burst (token bucket size).
    pub burst: u32,
    /// Proofs verified per UTC day (replays of a valid statement are free).
    pub daily_proofs: u64,
    /// The largest batch one call may carry.
    pub max_batch: usize,
    /// Tiers (slots per side) the plan may use; absent means every tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<usize>>,
    /// The plan's column of the entitlement matrix (`starter`, `pro`,
    /// `enterprise`: its on/off features and its price). Absent: the plan's
    /// name when it is one of those, otherwise `enterprise` (see
    /// [`Plan::edition_of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<Edition>,
}

impl Plan {
    /// The edition of this plan, configured as `name`: its `edition`, else
    /// the edition its name is, else `enterprise` (the sandbox's and custom
    /// contracts' default; set `edition` to sell less).
    pub fn edition_of(&self, name: &str) -> Edition {
        self.edition
            .or_else(|| Edition::from_name(name))
            .unwrap_or(Edition::Enterprise)
    }

    /// Whether the plan allows circuits of `tier` slots per side.
    pub fn allows_tier(&self, tier: usize) -> bool {
        self.tiers
            .as_ref()
            .is_none_or(|tiers| tiers.contains(&tier))
    }
}

/// A tenant: an id, a plan and the SHA-256 of each of its API keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Lower-case letters, digits, `-` and `_`; appears on receipts.
    pub id: String,
    /// The plan's name in [`ServerConfig::plans`].
    pub plan: String,
    /// Hex SHA-256 of each API key (`zktx apikey new` makes one).
    pub api_key_sha256: Vec<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The layered sources did not form a valid configuration.
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A value is out of range or inconsistent.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("zktx-data"),
            keys_dir: None,
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            sandbox: false,
            batch: BatchSettings {
                max_size: 256,
                max_age_ms: 2,
                queue_capacity: 8192,
                threads: 0,
                backend: "blst".into(),
            },
            cache: CacheSettings {
                max_entries: 100_000,
                ttl_secs: 3600,
            },
            plans: default_plans(),
            tenants: Vec::new(),
            limits: Limits::default(),
            profile: Profile::Dev,
            policy: PolicySettings::default(),
            release: ReleaseSettings::default(),
            webhooks: BTreeMap::new(),
            telemetry: TelemetrySettings::default(),
            audit_bypass_for_benchmarks: false,
        }
    }
}

/// Starter, Pro and Enterprise, and the sandbox's own plan.
pub fn default_plans() -> BTreeMap<String, Plan> {
    let from_row = |edition: Edition| {
        let row = edition.row();
        (
            edition.name().to_string(),
            Plan {
                requests_per_second: row.requests_per_second,
                burst: row.burst,
                daily_proofs: row.daily_proofs,
                max_batch: row.max_batch,
                tiers: row.tiers.map(<[usize]>::to_vec),
                edition: Some(edition),
            },
        )
    };
    let mut plans: BTreeMap<String, Plan> = Edition::ALL.into_iter().map(from_row).collect();
    plans.insert(
        "sandbox".into(),
        Plan {
            requests_per_second: 10_000,
            burst: 20_000,
            daily_proofs: 10_000_000,
            max_batch: 1_000,
            tiers: None,
            edition: Some(Edition::Enterprise),
        },
    );
    plans
}

impl ServerConfig {
    /// The layered sources: `base` (usually [`ServerConfig::default`]), then
    /// `file` (if given), then `ZKTX_*` variables for the top-level paths and
    /// addresses. A binary merges its flags on top and calls
    /// [`ServerConfig::from_figment`].
    pub fn figment(base: ServerConfig, file: Option<&Path>) -> Figment {
        let base = ServerConfig {
            plans: BTreeMap::new(),
            ..base
        };
        let mut figment = Figment::from(Serialized::defaults(base));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.merge(Env::prefixed("ZKTX_").only(&[
            "data_dir",
            "keys_dir",
            "grpc_addr",
            "http_addr",
        ]))
    }

    /// The largest batch any plan allows: what message and body size bounds
    /// must leave room for.
    pub fn largest_batch(&self) -> usize {
        self.plans.values().map(|p| p.max_batch).max().unwrap_or(1)
    }

    /// Extracts and checks a configuration.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let mut config: Self = figment.extract().map_err(Box::new)?;
        if config.plans.is_empty() {
            config.plans = default_plans();
        }
        config.validate()?;
        Ok(config)
    }

    /// The verifying keys' directory.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir.clone().unwrap_or_else(|| {
            zktx_formats::DataDir::new(&self.data_dir)
                .keys()
                .root()
                .to_path_buf()
        })
    }

    /// Checks ranges and references between sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        self.telemetry.validate().map_err(ConfigError::Invalid)?;
        for (tenant, hook) in &self.webhooks {
            if !self.tenants.iter().any(|t| t.id == *tenant) {
                return bad(format!("webhooks.{tenant}: no such tenant"));
            }
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                return bad(format!(
                    "webhooks.{tenant}.url: must start with http:// or https://"
                ));
            }
            if hook.secret_env.is_empty() {
                return bad(format!(
                    "webhooks.{tenant}.secret_env: must name an environment variable"
                ));
            }
        }
        if self.batch.max_size == 0 || self.batch.queue_capacity == 0 {
            return bad("batch.max_size and batch.queue_capacity must be at least 1".into());
        }
        if self
            .batch
            .backend
            .parse::<zktx_verifier::PairingBackend>()
            .is_err()
        {
            return bad(format!(
                "batch.backend `{}` is not blst or arkworks",
                self.batch.backend
            ));
        }
        let l = &self.limits;
        if l.max_connections == 0
            || l.header_read_timeout_ms == 0
            || l.idle_timeout_secs == 0
            || l.keepalive_interval_secs == 0
            || l.keepalive_timeout_secs == 0
            || l.max_streams_per_connection == 0
            || l.stream_in_flight == 0
        {
            return bad("every value in [limits] must be positive".into());
        }
        if !(65_535..=(1 << 31) - 1).contains(&l.stream_window_bytes)
            || !(65_535..=(1 << 31) - 1).contains(&l.connection_window_bytes)
        {
            return bad("limits: HTTP/2 windows are 65535 to 2^31-1 bytes".into());
        }
        for (name, plan) in &self.plans {
            if plan.requests_per_second == 0 || plan.burst == 0 || plan.max_batch == 0 {
                return bad(format!(
                    "plan `{name}`: rates and max_batch must be positive"
                ));
            }
            if plan.max_batch > self.batch.queue_capacity {
                return bad(format!(
                    "plan `{name}`: max_batch exceeds batch.queue_capacity"
                ));
            }
        }
        for tenant in &self.tenants {
            if !valid_tenant_id(&tenant.id) {
                return bad(format!(
                    "tenant id `{}`: use 1-64 lower-case letters, digits, `-` or `_`",
                    tenant.id
                ));
            }
            if !self.plans.contains_key(&tenant.plan) {
                return bad(format!("tenant `{}`: no plan `{}`", tenant.id, tenant.plan));
            }
            for hash in &tenant.api_key_sha256 {
                if hash.len() != 64 || hex::decode(hash).is_err() {
                    return bad(format!(
                        "tenant `{}`: api_key_sha256 must be 64 hex digits",
                        tenant.id
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Tenant ids: 1-64 of `[a-z0-9_-]`, starting with a letter or digit.
pub fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_and_policy_come_from_a_file_but_the_bench_bypass_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zktx.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            ServerConfig::from_figment(ServerConfig::figment(ServerConfig::default(), Some(&file)))
        };
        let config = load(
            "profile = \"prod\"\n[policy]\ndir = \"/etc/zktx/policy\"\npinned_sha256 = \"ab\"\n",
        )
        .unwrap();
        assert_eq!(config.profile, Profile::Prod);
        assert_eq!(config.policy.dir, Some(PathBuf::from("/etc/zktx/policy")));
        assert!(!config.policy.bypass_for_benchmarks);
        assert!(load("[policy]\nbypass_for_benchmarks = true\n").is_err());
        assert!(load("profile = \"production\"\n").is_err());
        assert_eq!(ServerConfig::default().profile, Profile::Dev);
    }

    #[test]
    fn a_file_overrides_defaults_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zktx.toml");
        std::fs::write(
            &file,
            "data_dir = \"/srv/zktx\"\n[batch]\nmax_size = 64\nmax_age_ms = 5\nqueue_capacity = 4096\nthreads = 1\nbackend = \"arkworks\"\n\
             [[tenants]]\nid = \"acme\"\nplan = \"pro\"\napi_key_sha256 = [\"{}\"]\n"
                .replace("{}", &"ab".repeat(32)),
        )
        .unwrap();
        let config =
            ServerConfig::from_figment(ServerConfig::figment(ServerConfig::default(), Some(&file)))
                .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/srv/zktx"));
        assert_eq!(config.batch.max_size, 64);
        assert_eq!(config.tenants[0].plan, "pro");
        assert!(
            config.plans.contains_key("starter"),
            "built-in plans when the file has none"
        );

        std::fs::write(
            &file,
            "[plans.pro]\nrequests_per_second = 1\nburst = 1\ndaily_proofs = 1\nmax_batch = 1\n",
        )
        .unwrap();
        let config =
            ServerConfig::from_figment(ServerConfig::figment(ServerConfig::default(), Some(&file)))
                .unwrap();
        assert_eq!(
            config.plans.len(),
            1,
            "a file's plans replace the built-in ones"
        );
        assert!(
            config.plans["pro"].allows_tier(1024),
            "no tiers inherited from the built-in pro"
        );

        std::fs::write(&file, "data_dri = \"/x\"\n").unwrap();
        assert!(ServerConfig::from_figment(ServerConfig::figment(
            ServerConfig::default(),
            Some(&file)
        ))
        .is_err());
    }

    #[test]
    fn the_example_configuration_loads() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/zktx.example.toml");
        let config =
            ServerConfig::from_figment(ServerConfig::figment(ServerConfig::default(), Some(&file)))
                .unwrap();
        assert_eq!(config.plans.len(), 3);
        assert_eq!(config.tenants[0].id, "acme");
    }

    #[test]
    fn inconsistent_sections_are_refused() {
        let mut config = ServerConfig::default();
        config.tenants.push(TenantConfig {
            id: "acme".into(),
            plan: "gold".into(),
            api_key_sha256: vec![],
        });
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("no plan `gold`"));
        config.tenants[0].plan = "pro".into();
        config.tenants[0].id = "Acme Corp".into();
        assert!(config.validate().is_err());
    }

    #[test]
    fn plans_limit_tiers() {
        let plans = default_plans();
        assert!(plans["starter"].allows_tier(16));
        assert!(!plans["starter"].allows_tier(1024));
        assert!(plans["enterprise"].allows_tier(1024));
    }
}
