//! `zktx attest provenance|verify`: signed SLSA provenance for release
//! artifacts (an in-toto Statement in a DSSE envelope), and its check.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ed25519_dalek::SigningKey;
use zktx_governance::provenance::attestation::{binds, Attestation};
use zktx_governance::provenance::{
    self, file_sha256, statement, subjects, BuildFacts, UNOFFICIAL_BUILDER,
};

use crate::exit::{Coded, FAILURE};

/// The source repository named in signed statements unless told otherwise.
pub(crate) const SOURCE_URI: &str = "git+https://github.com/zktx/zktx";

/// The environment variable that may hold the signing key (64 hex digits).
const KEY_ENV: &str = "ZKTX_PROVENANCE_KEY";

/// `zktx attest` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write signed provenance (in-toto Statement v1, SLSA Provenance v1, DSSE, Ed25519) for artifacts.
    #[command(after_help = "\
Example:
  zktx attest provenance --artifacts dist --out dist/provenance.dsse.json --key-file /secure/release.key

Subjects are every file under --artifacts (or each --subject), by SHA-256; the source commit and
Cargo.lock's SHA-256 are recorded. The key comes from --key-file (32 raw bytes or 64 hex) or
ZKTX_PROVENANCE_KEY (64 hex), never from the repository. Without either, a throwaway key signs
and the provenance says it is unofficial. The public key is printed (and written to
--public-key-out).")]
    Provenance {
        /// The directory holding the artifacts.
        #[arg(long, value_name = "DIR")]
        artifacts: PathBuf,
        /// Where to write the envelope.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Artifacts to name (paths under --artifacts); default: every file there.
        #[arg(long, value_name = "NAME")]
        subject: Vec<String>,
        /// The signing key file.
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// The source commit (default: `git rev-parse HEAD`).
        #[arg(long, value_name = "HEX")]
        commit: Option<String>,
        /// The source repository URI.
        #[arg(long, default_value = SOURCE_URI)]
        source: String,
        /// The lock file whose digest is recorded.
        #[arg(long, value_name = "FILE", default_value = "Cargo.lock")]
        cargo_lock: PathBuf,
        /// Also write the public key (hex) here.
        #[arg(long, value_name = "FILE")]
        public_key_out: Option<PathBuf>,
        /// The cargo profile the binary was built with.
        #[arg(long, value_name = "NAME", default_value = "release")]
        cargo_profile: String,
    },
    /// Check provenance against artifacts, or a running server against provenance.
    #[command(after_help = "\
Examples:
  zktx attest verify --provenance dist/provenance.dsse.json --public-key $(cat dist/provenance.pub) --artifacts dist
  zktx attest verify --provenance dist/provenance.dsse.json --public-key $(cat dist/provenance.pub) \\
      --server http://zktx.example:8080 --receipt-key <hex>

With --artifacts: the envelope, its signature and every subject's SHA-256 against its file.
With --server: fetches the server's signed attestation (GET /v1/attestation, or gRPC with
--transport grpc), checks its signature with --receipt-key (the key you pinned; without it, the
key the document names, which shows only that it is intact), then that the provenance is the one
the server checked at start and that the running binary and every verifying key it serves are
subjects of the signed release. A software attestation: no hardware root.")]
    Verify {
        /// The DSSE envelope.
        #[arg(long, value_name = "FILE")]
        provenance: PathBuf,
        /// The release signer's public key (hex, provenance.pub).
        #[arg(long, value_name = "HEX")]
        public_key: String,
        /// The directory holding the artifacts.
        #[arg(
            long,
            value_name = "DIR",
            required_unless_present = "server",
            conflicts_with = "server"
        )]
        artifacts: Option<PathBuf>,
        /// A running server's address (http://host:port of its REST or gRPC listener).
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// With --server: rest or grpc.
        #[arg(long, value_name = "NAME", default_value = "rest", requires = "server")]
        transport: String,
        /// With --server: the server's receipt public key (hex) you pinned.
        #[arg(long, value_name = "HEX", requires = "server")]
        receipt_key: Option<String>,
    },
}

/// Now, as RFC 3339 (UTC).
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Every file under `dir`, relative, sorted; `skip` left out.
fn files_under(dir: &Path, skip: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at)
            .with_context(|| format!("artifacts: cannot read {}", at.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if !skip.iter().any(|s| s == &path) {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The configured signing key: `key_file` (32 raw bytes or 64 hex), else
/// `ZKTX_PROVENANCE_KEY`; `None` when neither is given.
pub(crate) fn signing_key(key_file: Option<&Path>) -> anyhow::Result<Option<SigningKey>> {
    let text = match key_file {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("key-file: cannot read {}", path.display()))?;
            if let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(Some(SigningKey::from_bytes(&seed)));
            }
            String::from_utf8(bytes).context("key-file: neither 32 raw bytes nor 64 hex digits")?
        }
        None => match std::env::var(KEY_ENV) {
            Ok(text) => text,
            Err(_) => return Ok(None),
        },
    };
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|_| anyhow::anyhow!("signing key: expected 64 hex digits (32 bytes)"))?;
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// What a signed statement says about the build: the builder is
/// `ZKTX_BUILDER_ID` (or the release builder) with a configured key, the
/// unofficial builder with a throwaway one.
pub(crate) fn build_facts(
    commit: String,
    source_uri: String,
    cargo_lock_sha256: String,
    official: bool,
    cargo_profile: String,
    started_on: String,
) -> BuildFacts {
    BuildFacts {
        source_uri,
        commit,
        cargo_lock_sha256,
        builder_id: if official {
            std::env::var("ZKTX_BUILDER_ID")
                .unwrap_or_else(|_| "https://zktx.dev/builders/release".into())
        } else {
            UNOFFICIAL_BUILDER.into()
        },
        official,
        invocation_id: hex::encode(rand::random::<[u8; 16]>()),
        started_on,
        finished_on: now_rfc3339(),
        cargo_profile,
    }
}

/// Runs `zktx attest`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Provenance {
            artifacts,
            out,
            subject,
            key_file,
            commit,
            source,
            cargo_lock,
            public_key_out,
            cargo_profile,
        } => {
            let started = now_rfc3339();
            let names = if subject.is_empty() {
                files_under(&artifacts, std::slice::from_ref(&out))?
            } else {
                subject
            };
            anyhow::ensure!(
                !names.is_empty(),
                "artifacts: no files to name in {}",
                artifacts.display()
            );
            let commit = match commit {
                Some(commit) => commit,
                None => {
                    let output = std::process::Command::new("git")
                        .args(["rev-parse", "HEAD"])
                        .output()
                        .context("commit: not given, and git could not be run")?;
                    anyhow::ensure!(
                        output.status.success(),
                        "commit: not given, and this is not a git checkout"
                    );
                    String::from_utf8_lossy(&output.stdout).trim().to_string()
                }
            };
            let lock = file_sha256(&cargo_lock)
                .with_context(|| format!("cargo-lock: cannot read {}", cargo_lock.display()))?;
            let (key, official) = match signing_key(key_file.as_deref())? {
                Some(key) => (key, true),
                None => (SigningKey::generate(&mut rand::rngs::OsRng), false),
            };
            let subjects =
                subjects(&artifacts, &names).context("subject: an artifact is unreadable")?;
            let facts = build_facts(commit, source, lock, official, cargo_profile, started);
            let envelope = provenance::sign(&statement(subjects, &facts), &key);
            std::fs::write(&out, envelope)
                .with_context(|| format!("out: cannot write {}", out.display()))?;
            let public = hex::encode(key.verifying_key().to_bytes());
            if let Some(path) = public_key_out {
                std::fs::write(&path, format!("{public}\n"))
                    .with_context(|| format!("public-key-out: cannot write {}", path.display()))?;
            }
            println!(
                "provenance for {} artifacts written to {}",
                names.len(),
                out.display()
            );
            println!(
                "signed by {public}{}",
                if official {
                    ""
                } else {
                    " (a throwaway key: UNOFFICIAL provenance)"
                }
            );
            Ok(())
        }
        Command::Verify {
            provenance: file,
            public_key,
            artifacts,
            server,
            transport,
            receipt_key,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("provenance: cannot read {}", file.display()))?;
            match (artifacts, server) {
                (Some(artifacts), _) => verify_artifacts(&text, &public_key, &artifacts),
                (None, Some(server)) => super::block_on(
                    "zktx-attest",
                    verify_server(&text, &public_key, &server, &transport, receipt_key),
                )?,
                (None, None) => anyhow::bail!("give --artifacts DIR or --server URL"),
            }
        }
    }
}

fn verify_artifacts(text: &str, public_key: &str, artifacts: &Path) -> anyhow::Result<()> {
    match provenance::verify(text, public_key, artifacts) {
        Ok(verified) => {
            for s in &verified.statement.subject {
                println!(
                    "ok  {}  sha256:{}",
                    s.name,
                    s.digest.get("sha256").map_or("", String::as_str)
                );
            }
            println!(
                "provenance verified: {} subjects, signature by {public_key}{}",
                verified.statement.subject.len(),
                if verified.official {
                    ""
                } else {
                    "; UNOFFICIAL (signed with a throwaway key)"
                }
            );
            Ok(())
        }
        Err(e) => {
            eprintln!("provenance NOT verified: {e}");
            Err(Coded { code: FAILURE }.into())
        }
    }
}

/// Checks that the server at `server` runs the release `text` describes.
async fn verify_server(
    text: &str,
    public_key: &str,
    server: &str,
    transport: &str,
    receipt_key: Option<String>,
) -> anyhow::Result<()> {
    let protocol = match transport {
        "rest" => zktx_client::Protocol::Rest,
        "grpc" => zktx_client::Protocol::Grpc,
        _ => anyhow::bail!("transport: expected rest or grpc"),
    };
    // The attestation needs no API key.
    let client = zktx_client::Client::builder(server, "")
        .protocol(protocol)
        .connect()
        .await
        .context("server")?;
    let envelope = client.attestation().await.context("GetAttestation")?;
    let envelope = serde_json::to_string(&envelope)?;
    let key = match &receipt_key {
        Some(hex_key) => provenance::dsse::public_key(hex_key).context("receipt-key")?,
        None => {
            eprintln!(
                "note: no --receipt-key pinned: the document is checked against the key it names, \
                 which shows it is intact, not who signed it"
            );
            Attestation::claimed_key(&envelope).context("attestation")?
        }
    };
    let fail = |message: String| -> anyhow::Result<()> {
        eprintln!("server NOT verified: {message}");
        Err(Coded { code: FAILURE }.into())
    };
    let doc = match Attestation::open(&envelope, &key) {
        Ok(doc) => doc,
        Err(e) => return fail(e.to_string()),
    };
    let verified = match provenance::open(text, public_key) {
        Ok(verified) => verified,
        Err(e) => return fail(e.to_string()),
    };
    let provenance_sha256 = zktx_formats::fingerprint::sha256_hex(text.as_bytes());
    match &doc.provenance_sha256 {
        Some(digest) if digest.eq_ignore_ascii_case(&provenance_sha256) => {}
        Some(_) => {
            return fail("the server checked another provenance at start than this one".into())
        }
        None => eprintln!(
            "note: the server was started without release provenance ([release]); checking its binary and keys against this one"
        ),
    }
    if let Err(e) = binds(&verified, &doc.binary_sha256, &doc.keys, false) {
        return fail(format!("{e}: the running server is not this release"));
    }
    let binary = verified
        .subject_with(&doc.binary_sha256)
        .map_or("?", |s| s.name.as_str());
    println!("{} ({})", doc.label, server);
    println!(
        "binary   sha256:{}  = release subject {binary}",
        doc.binary_sha256
    );
    for key in &doc.keys {
        println!(
            "key      tier {:<5} {} ({})  = a release subject",
            key.tier, key.fingerprint, key.origin
        );
    }
    println!("policy   sha256:{}", doc.policy_sha256);
    println!(
        "profile  {}   started {}   provenance checked at start: {}",
        doc.profile, doc.started_at, doc.provenance_verified
    );
    println!(
        "server verified: it runs the release signed by {public_key}{}{}",
        if verified.official {
            ""
        } else {
            " (UNOFFICIAL: a throwaway key)"
        },
        if receipt_key.is_some() {
            ", attested with the pinned receipt key"
        } else {
            ", attested with the key it names (not pinned)"
        }
    );
    Ok(())
}
