//! The release's provenance: an in-toto Statement v1 whose predicate is
//! SLSA Provenance v1, naming each artifact (subject) by its SHA-256, the
//! source commit, `Cargo.lock`'s digest as a resolved dependency, and the
//! builder; signed in a DSSE envelope ([`super::dsse`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dsse::{self, DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The SLSA Provenance v1 predicate type.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// What a zktx release build is (the `buildType`).
pub const BUILD_TYPE: &str = "https://zktx.dev/buildtypes/release/v1";
/// The builder id of a build signed with a throwaway key.
pub const UNOFFICIAL_BUILDER: &str = "https://zktx.dev/builders/unofficial-local";

/// An artifact the statement is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Its path relative to the artifacts directory.
    pub name: String,
    /// Its digests (`sha256` hex).
    pub digest: BTreeMap<String, String>,
}

/// An in-toto Statement v1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artifacts.
    pub subject: Vec<Subject>,
    /// [`SLSA_PROVENANCE_V1`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The SLSA provenance.
    pub predicate: serde_json::Value,
}

/// What the build says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFacts {
    /// The source repository (a URI).
    pub source_uri: String,
    /// The source commit (hex).
    pub commit: String,
    /// `Cargo.lock`'s SHA-256 (hex).
    pub cargo_lock_sha256: String,
    /// Who built it (a URI); [`UNOFFICIAL_BUILDER`] with a throwaway key.
    pub builder_id: String,
    /// Whether it was signed with a configured (not throwaway) key.
    pub official: bool,
    /// The cargo profile the binary was built with (`release` for a
    /// release; CI checks the pipeline on its `dev` build).
    pub cargo_profile: String,
    /// A unique id of this build.
    pub invocation_id: String,
    /// When the build started (RFC 3339).
    pub started_on: String,
    /// When it finished (RFC 3339).
    pub finished_on: String,
}

/// The SHA-256 (hex) of a file.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

/// Subjects for `names` (paths relative to `dir`), with their SHA-256.
pub fn subjects(dir: &Path, names: &[String]) -> std::io::Result<Vec<Subject>> {
    names
        .iter()
        .map(|name| {
            Ok(Subject {
                name: name.clone(),
                digest: BTreeMap::from([("sha256".to_string(), file_sha256(&dir.join(name))?)]),
            })
        })
        .collect()
}

/// The statement about `subjects` built as `facts` say.
pub fn statement(subjects: Vec<Subject>, facts: &BuildFacts) -> Statement {
    Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: subjects,
        predicate_type: SLSA_PROVENANCE_V1.into(),
        predicate: serde_json::json!({
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "source": facts.source_uri,
                    "revision": facts.commit,
                    "official": facts.official,
                },
                "internalParameters": {
                    "cargo": format!("build --locked --profile {} -p zktx", facts.cargo_profile),
                    "profile": facts.cargo_profile,
                },
                "resolvedDependencies": [
                    {
                        "uri": format!("{}@{}", facts.source_uri, facts.commit),
                        "digest": { "gitCommit": facts.commit },
                    },
                    {
                        "name": "Cargo.lock",
                        "digest": { "sha256": facts.cargo_lock_sha256 },
                    },
                ],
            },
            "runDetails": {
                "builder": { "id": facts.builder_id },
                "metadata": {
                    "invocationId": facts.invocation_id,
                    "startedOn": facts.started_on,
                    "finishedOn": facts.finished_on,
                },
            },
        }),
    }
}

/// Why provenance does not check.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// The envelope is not JSON of the DSSE shape.
    #[error("provenance: not a DSSE envelope ({0})")]
    Envelope(String),
    /// The envelope's signature or type does not check.
    #[error("provenance: {0}")]
    Dsse(#[from] DsseError),
    /// The payload is not an in-toto Statement v1 with SLSA Provenance v1.
    #[error("provenance: the payload is not an in-toto Statement v1 with an SLSA Provenance v1 predicate ({0})")]
    Statement(String),
    /// A subject's file is missing.
    #[error("subject {name}: missing from the artifacts directory")]
    Missing {
        /// The subject.
        name: String,
    },
    /// The payload is not a zktx attestation document.
    #[error("attestation: not a zktx attestation document ({0})")]
    Attestation(String),
    /// Provenance signed with a throwaway key where an official one is required.
    #[error("provenance: signed with a throwaway key (UNOFFICIAL); the prod profile needs a release signed with the configured key")]
    Unofficial,
    /// A binary or key is not among the provenance's subjects.
    #[error("provenance: {what} is not among the release's subjects (its SHA-256 is not signed)")]
    NotReleased {
        /// What is missing.
        what: String,
    },
    /// A subject's file has another digest.
    #[error(
        "subject {name}: its SHA-256 differs from the provenance's (the artifact was changed)"
    )]
    Digest {
        /// The subject.
        name: String,
    },
}

/// What checked provenance says.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The statement.
    pub statement: Statement,
    /// Whether it was signed with a configured key.
    pub official: bool,
}

/// Signs `statement` with `key` in a DSSE envelope (pretty JSON).
pub fn sign(statement: &Statement, key: &ed25519_dalek::SigningKey) -> String {
    let payload = serde_json::to_vec(statement).expect("a statement serialises");
    let envelope = dsse::sign(IN_TOTO_PAYLOAD_TYPE, &payload, key);
    serde_json::to_string_pretty(&envelope).expect("an envelope serialises")
}

/// Checks `envelope_json` with `public_key` (hex): the envelope, its
/// signature, and that the payload is an in-toto Statement v1 with an SLSA
/// Provenance v1 predicate and at least one subject. The subjects' files
/// are not read (see [`verify`]).
pub fn open(envelope_json: &str, public_key: &str) -> Result<Verified, ProvenanceError> {
    let envelope: Envelope = serde_json::from_str(envelope_json)
        .map_err(|e| ProvenanceError::Envelope(e.classify_name()))?;
    let key = dsse::public_key(public_key)?;
    let payload = dsse::verify(&envelope, IN_TOTO_PAYLOAD_TYPE, &key)?;
    let statement: Statement = serde_json::from_slice(&payload)
        .map_err(|e| ProvenanceError::Statement(e.classify_name()))?;
    if statement.statement_type != STATEMENT_TYPE {
        return Err(ProvenanceError::Statement("_type".into()));
    }
    if statement.predicate_type != SLSA_PROVENANCE_V1 {
        return Err(ProvenanceError::Statement("predicateType".into()));
    }
    if statement.subject.is_empty() {
        return Err(ProvenanceError::Statement("no subject".into()));
    }
    let official = statement.predicate["buildDefinition"]["externalParameters"]["official"]
        .as_bool()
        .unwrap_or(false);
    Ok(Verified {
        statement,
        official,
    })
}

impl Verified {
    /// The subject whose SHA-256 is `sha256` (hex), if any.
    pub fn subject_with(&self, sha256: &str) -> Option<&Subject> {
        self.statement.subject.iter().find(|s| {
            s.digest
                .get("sha256")
                .is_some_and(|d| d.eq_ignore_ascii_case(sha256))
        })
    }
}

/// Checks `envelope_json` with `public_key` (hex) as [`open`] does, then
/// every subject's SHA-256 against its file under `artifacts`.
pub fn verify(
    envelope_json: &str,
    public_key: &str,
    artifacts: &Path,
) -> Result<Verified, ProvenanceError> {
    let verified = open(envelope_json, public_key)?;
    for subject in &verified.statement.subject {
        let path = artifacts.join(&subject.name);
        if subject.name.contains("..") || !path.is_file() {
            return Err(ProvenanceError::Missing {
                name: subject.name.clone(),
            });
        }
        let actual = file_sha256(&path).map_err(|_| ProvenanceError::Missing {
            name: subject.name.clone(),
        })?;
        if subject.digest.get("sha256") != Some(&actual) {
            return Err(ProvenanceError::Digest {
                name: subject.name.clone(),
            });
        }
    }
    Ok(verified)
}

pub(crate) trait Classify {
    fn classify_name(&self) -> String;
}

impl Classify for serde_json::Error {
    /// The error's kind and place, never the input's text.
    fn classify_name(&self) -> String {
        format!(
            "{:?} at line {} column {}",
            self.classify(),
            self.line(),
            self.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::SigningKey;

    fn facts() -> BuildFacts {
        BuildFacts {
            source_uri: "git+https://example.com/zktx".into(),
            commit: "ab".repeat(20),
            cargo_lock_sha256: "cd".repeat(32),
            builder_id: "https://ci.example.com/builder".into(),
            official: true,
            invocation_id: "run-1".into(),
            started_on: "2026-12-02T00:00:00Z".into(),
            finished_on: "2026-12-02T00:10:00Z".into(),
            cargo_profile: "release".into(),
        }
    }

    #[test]
    fn provenance_checks_and_every_tamper_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec![
            "zktx".to_string(),
            "sbom.cdx.json".to_string(),
            "keys/vk.bin".to_string(),
        ];
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        for (i, name) in names.iter().enumerate() {
            std::fs::write(dir.path().join(name), format!("artifact {i}")).unwrap();
        }
        let key = SigningKey::from_bytes(&[9; 32]);
        let pk = hex::encode(key.verifying_key().to_bytes());
        let statement = statement(subjects(dir.path(), &names).unwrap(), &facts());
        let envelope = sign(&statement, &key);
        let verified = verify(&envelope, &pk, dir.path()).unwrap();
        assert!(verified.official);
        assert_eq!(verified.statement.subject.len(), 3);
        assert_eq!(
            verified.statement.predicate["buildDefinition"]["resolvedDependencies"][1]["digest"]
                ["sha256"],
            "cd".repeat(32)
        );

        // The payload changed (a subject's digest swapped), re-encoded: the signature fails.
        let mut parsed: Envelope = serde_json::from_str(&envelope).unwrap();
        let mut forged = statement.clone();
        forged.subject[0]
            .digest
            .insert("sha256".into(), "00".repeat(32));
        parsed.payload =
            base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&forged).unwrap());
        let text = serde_json::to_string(&parsed).unwrap();
        assert!(matches!(
            verify(&text, &pk, dir.path()),
            Err(ProvenanceError::Dsse(_))
        ));
        // The signature changed.
        let mut parsed: Envelope = serde_json::from_str(&envelope).unwrap();
        parsed.signatures[0].sig = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let text = serde_json::to_string(&parsed).unwrap();
        assert!(matches!(
            verify(&text, &pk, dir.path()),
            Err(ProvenanceError::Dsse(_))
        ));
        // Each subject changed in turn, then missing.
        for name in &names {
            let path = dir.path().join(name);
            let original = std::fs::read(&path).unwrap();
            std::fs::write(&path, b"tampered").unwrap();
            match verify(&envelope, &pk, dir.path()) {
                Err(ProvenanceError::Digest { name: n }) => assert_eq!(&n, name),
                other => panic!("{name}: {other:?}"),
            }
            std::fs::remove_file(&path).unwrap();
            assert!(matches!(
                verify(&envelope, &pk, dir.path()),
                Err(ProvenanceError::Missing { .. })
            ));
            std::fs::write(&path, original).unwrap();
        }
        assert!(verify(&envelope, &pk, dir.path()).is_ok());
        // Another key; garbage.
        let other = hex::encode(SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes());
        assert!(verify(&envelope, &other, dir.path()).is_err());
        assert!(matches!(
            verify("{nope", &pk, dir.path()),
            Err(ProvenanceError::Envelope(_))
        ));
    }
}
