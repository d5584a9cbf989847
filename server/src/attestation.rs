//! The server's signed attestation ("what answered me"): at start it
//! describes itself (the running binary's SHA-256, the release provenance
//! it checked, the policy bundle, its verifying keys, its profile), signs
//! that with the receipt key, and serves it at `GET /v1/attestation` and
//! gRPC `GetAttestation`. A software attestation with no hardware root.
//!
//! With release provenance configured (`[release]`, required in prod), the
//! provenance is checked before the server listens: its signature with the
//! release key, and the running binary and every verifying key among its
//! subjects; prod also refuses a throwaway-key (unofficial) release. Without
//! it, the binary's digest is computed on first request, off the start path.

use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use tokio::sync::OnceCell;
use zktx_governance::provenance::attestation::{
    binds, Attestation, AttestedKey, ATTESTATION_TYPE, LABEL,
};
use zktx_governance::provenance::{self, file_sha256};
use zktx_governance::Profile;

use crate::config::ServerConfig;
use crate::service::CircuitInfo;

/// Why the release check refused a start.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    /// `[release]` names one of provenance and public_key without the other.
    #[error("release: provenance and public_key go together (give both or neither)")]
    Incomplete,
    /// The prod profile has no release provenance configured.
    #[error("the prod profile needs the release's signed provenance: set [release] provenance (provenance.dsse.json) and public_key (provenance.pub), from scripts/release.sh")]
    Missing,
    /// A file could not be read.
    #[error("release: cannot read {what}: {message}")]
    Read {
        /// Which file.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The provenance does not check, or does not cover this binary or a key.
    #[error("release: {0}")]
    Provenance(#[from] provenance::ProvenanceError),
}

/// What the attestation says besides the binary's digest.
struct Facts {
    provenance_sha256: Option<String>,
    provenance_verified: bool,
    policy_sha256: String,
    profile: Profile,
    keys: Vec<AttestedKey>,
    started_at: String,
}

/// Makes and keeps the signed attestation.
pub struct Attestor {
    facts: Facts,
    key: SigningKey,
    signed: OnceCell<Arc<str>>,
}

impl std::fmt::Debug for Attestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attestor").finish_non_exhaustive()
    }
}

fn binary_sha256() -> Result<String, AttestationError> {
    let read = |message: String| AttestationError::Read {
        what: "the running executable",
        message,
    };
    let exe = std::env::current_exe().map_err(|e| read(e.to_string()))?;
    file_sha256(&exe).map_err(|e| read(e.to_string()))
}

fn attested_keys(circuits: &[CircuitInfo]) -> Vec<AttestedKey> {
    circuits
        .iter()
        .map(|c| AttestedKey {
            tier: c.tier,
            fingerprint: c.key_fingerprint.clone(),
            origin: serde_json::to_value(c.origin)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        })
        .collect()
}

impl Attestor {
    /// Checks the release provenance as `config` and its profile require
    /// (blocking: it reads the executable when provenance is configured),
    /// and prepares the attestation signed with `key`.
    pub fn at_start(
        config: &ServerConfig,
        circuits: &[CircuitInfo],
        policy_sha256: &str,
        key: &SigningKey,
    ) -> Result<Self, AttestationError> {
        let keys = attested_keys(circuits);
        let mut facts = Facts {
            provenance_sha256: None,
            provenance_verified: false,
            policy_sha256: policy_sha256.to_string(),
            profile: config.profile,
            keys,
            started_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let signed = OnceCell::new();
        match (&config.release.provenance, &config.release.public_key) {
            (Some(path), Some(public_key)) => {
                let text = read_provenance(path)?;
                let verified = provenance::open(&text, public_key)?;
                let binary = binary_sha256()?;
                binds(
                    &verified,
                    &binary,
                    &facts.keys,
                    config.profile == Profile::Prod,
                )?;
                facts.provenance_sha256 =
                    Some(zktx_formats::fingerprint::sha256_hex(text.as_bytes()));
                facts.provenance_verified = true;
                tracing::info!(
                    official = verified.official,
                    subjects = verified.statement.subject.len(),
                    "release provenance checked: this binary and every verifying key are signed release subjects"
                );
                let attestor = Self {
                    facts,
                    key: key.clone(),
                    signed,
                };
                let envelope = attestor.sign(binary);
                attestor.signed.set(envelope).expect("a new cell is empty");
                return Ok(attestor);
            }
            (None, None) if config.profile == Profile::Prod => {
                return Err(AttestationError::Missing)
            }
            (None, None) => tracing::warn!(
                profile = %config.profile,
                "no release provenance configured ([release]): the attestation cannot tie this binary to a release; prod requires it"
            ),
            _ => return Err(AttestationError::Incomplete),
        }
        Ok(Self {
            facts,
            key: key.clone(),
            signed,
        })
    }

    fn sign(&self, binary_sha256: String) -> Arc<str> {
        let facts = &self.facts;
        Attestation {
            doc_type: ATTESTATION_TYPE.into(),
            label: LABEL.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            binary_sha256,
            provenance_sha256: facts.provenance_sha256.clone(),
            provenance_verified: facts.provenance_verified,
            policy_sha256: facts.policy_sha256.clone(),
            profile: facts.profile.name().into(),
            keys: facts.keys.clone(),
            receipt_public_key: hex::encode(self.key.verifying_key().as_bytes()),
            started_at: facts.started_at.clone(),
        }
        .sign(&self.key)
        .into()
    }

    /// The signed attestation (a DSSE envelope, JSON). The first call
    /// without configured provenance hashes the executable on a blocking
    /// thread; later calls return the same document.
    pub async fn envelope(self: &Arc<Self>) -> Result<Arc<str>, String> {
        let this = self.clone();
        self.signed
            .get_or_try_init(|| async move {
                let binary = tokio::task::spawn_blocking(binary_sha256)
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(this.sign(binary))
            })
            .await
            .cloned()
    }
}

fn read_provenance(path: &Path) -> Result<String, AttestationError> {
    // A DSSE envelope of a release is a few kilobytes; refuse anything huge.
    const MAX_BYTES: u64 = 1 << 20;
    let read = |message: String| AttestationError::Read {
        what: "the release provenance",
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| read(format!("{}: {e}", path.display())))?
        .len();
    if size > MAX_BYTES {
        return Err(read(format!(
            "{} is larger than {MAX_BYTES} bytes",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| read(format!("{}: {e}", path.display())))
}
