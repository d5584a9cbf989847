//! A policy bundle: the `.rego` files, `data.json` and `waivers.json` of one
//! directory, with one SHA-256 over all of them.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::PolicyError;
use super::waiver::{Waivers, WAIVERS_FILE};

/// The rule the gate evaluates.
pub const DECISION_RULE: &str = "data.zktx.admission.decision";

/// The data file's name in a bundle.
pub const DATA_FILE: &str = "data.json";

/// The bundle shipped with zktx (`governance/policy/`), used when the
/// configuration names none: file name and contents.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "admission.rego",
        include_str!("../../policy/admission.rego"),
    ),
    (DATA_FILE, include_str!("../../policy/data.json")),
    (WAIVERS_FILE, include_str!("../../policy/waivers.json")),
];

/// A loaded, checked bundle.
#[derive(Clone, Debug)]
pub struct PolicyBundle {
    files: Vec<(String, String)>,
    sha256: String,
    version: String,
    data: serde_json::Value,
    waivers: Waivers,
}

impl PolicyBundle {
    /// Loads the bundle in `dir`: every `*.rego` file, `data.json` (required)
    /// and `waivers.json` (optional); other files and subdirectories (such as
    /// `tests/`) are not part of it. A missing directory, a directory
    /// without a `.rego` file, or a file that does not parse is an error:
    /// a missing policy refuses to start.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let entries = std::fs::read_dir(dir).map_err(|e| PolicyError::read(dir, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| PolicyError::read(dir, e))?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let wanted = name.ends_with(".rego") || name == DATA_FILE || name == WAIVERS_FILE;
            if !wanted || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::read(&path, e))?;
            files.push((name.to_string(), text));
        }
        if !files.iter().any(|(name, _)| name.ends_with(".rego")) {
            return Err(PolicyError::NoPolicy(dir.to_path_buf()));
        }
        if !files.iter().any(|(name, _)| name == DATA_FILE) {
            return Err(PolicyError::read(dir.join(DATA_FILE), "not found"));
        }
        Self::from_files(files)
    }

    /// The bundle shipped with zktx ([`BUILTIN_FILES`]).
    pub fn builtin() -> Self {
        let files = BUILTIN_FILES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        Self::from_files(files).expect("the built-in policy bundle is valid (tested)")
    }

    /// A bundle from `(file name, contents)` pairs; `data.json` must be an
    /// object with `bundle.version` (a string); the `.rego` files are parsed
    /// when a gate is made from the bundle.
    pub fn from_files(mut files: Vec<(String, String)>) -> Result<Self, PolicyError> {
        files.sort();
        let data_text = files
            .iter()
            .find(|(name, _)| name == DATA_FILE)
            .map(|(_, text)| text.as_str())
            .ok_or_else(|| PolicyError::data(DATA_FILE, "the bundle has no data.json"))?;
        let data: serde_json::Value = serde_json::from_str(data_text)
            .map_err(|e| PolicyError::data(DATA_FILE, e.to_string()))?;
        if !data.is_object() {
            return Err(PolicyError::data(DATA_FILE, "not a JSON object"));
        }
        let version = data
            .pointer("/bundle/version")
            .and_then(|v| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| PolicyError::data(DATA_FILE, "bundle.version is missing or empty"))?
            .to_string();
        let waivers = match files.iter().find(|(name, _)| name == WAIVERS_FILE) {
            Some((_, text)) => Waivers::parse(text)?,
            None => Waivers::default(),
        };
        let sha256 = bundle_sha256(&files);
        Ok(Self {
            files,
            sha256,
            version,
            data,
            waivers,
        })
    }

    /// Hex SHA-256 of the bundle: over each file in name order, its name,
    /// a zero byte, its length (8 bytes, big-endian) and its contents. Any
    /// change to a policy, its data or its waivers changes it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// `bundle.version` from `data.json`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Each file's name and hex SHA-256, in name order (to see which file
    /// changed when the bundle's hash differs from a pinned one).
    pub fn file_hashes(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(name, text)| (name.clone(), hex::encode(Sha256::digest(text.as_bytes()))))
            .collect()
    }

    /// The `.rego` files: name and source.
    pub fn policies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter(|(name, _)| name.ends_with(".rego"))
            .map(|(name, text)| (name.as_str(), text.as_str()))
    }

    /// The data document.
    pub fn data(&self) -> &serde_json::Value {
        &self.data
    }

    /// The bundle's waivers.
    pub fn waivers(&self) -> &Waivers {
        &self.waivers
    }
}

fn bundle_sha256(files: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_bundle_loads_and_its_hash_covers_every_file() {
        let bundle = PolicyBundle::builtin();
        assert_eq!(bundle.version(), "1.0.0");
        assert_eq!(bundle.sha256().len(), 64);
        assert_eq!(bundle.file_hashes().len(), BUILTIN_FILES.len());
        for (changed, _) in BUILTIN_FILES {
            let files = BUILTIN_FILES
                .iter()
                .map(|(name, text)| {
                    let text = if name == changed {
                        format!("{text} ")
                    } else {
                        text.to_string()
                    };
                    (name.to_string(), text)
                })
                .collect();
            let other = PolicyBundle::from_files(files).unwrap();
            assert_ne!(other.sha256(), bundle.sha256(), "{changed}");
        }
    }

    #[test]
    fn a_directory_without_policy_or_data_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nothing-here");
        assert!(matches!(
            PolicyBundle::load(&missing),
            Err(PolicyError::Read { .. })
        ));
        assert!(matches!(
            PolicyBundle::load(dir.path()),
            Err(PolicyError::NoPolicy(_))
        ));
        std::fs::write(dir.path().join("a.rego"), "package x\n").unwrap();
        let error = PolicyBundle::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("data.json"), "{error}");
        std::fs::write(dir.path().join("data.json"), "{\"bundle\": {}}").unwrap();
        let error = PolicyBundle::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("bundle.version"), "{error}");
        std::fs::write(
            dir.path().join("data.json"),
            "{\"bundle\": {\"version\": \"2\"}}",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not part of it").unwrap();
        let bundle = PolicyBundle::load(dir.path()).unwrap();
        assert_eq!(bundle.file_hashes().len(), 2);
    }
}
