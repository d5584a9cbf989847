//! Deployment profiles, and what each refuses at start.

use serde::{Deserialize, Serialize};
use zktx_formats::KeyOrigin;

/// How strict the server is about its keys and its policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Development: dev keys and an unpinned policy are allowed, and said so at start.
    #[default]
    Dev,
    /// Staging: like prod, but dev keys are allowed (with a warning).
    Staging,
    /// Production: no dev keys; the policy bundle's hash must equal the pinned one.
    Prod,
}

impl Profile {
    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Staging => "staging",
            Profile::Prod => "prod",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "dev" => Ok(Profile::Dev),
            "staging" => Ok(Profile::Staging),
            "prod" => Ok(Profile::Prod),
            _ => Err(ProfileError::Unknown),
        }
    }
}

/// A start the profile refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    /// Not one of the three names.
    #[error("profile: expected dev, staging or prod")]
    Unknown,
    /// A verifying key is a development key.
    #[error("the {profile} profile refuses development keys: tier {tier} (key {fingerprint}) was derived from a public seed; import keys from a setup ceremony (`zktx keys import`)")]
    DevKeys {
        /// The profile.
        profile: Profile,
        /// The key's tier.
        tier: usize,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// No pinned hash in prod.
    #[error("the prod profile needs the policy bundle's hash pinned (policy.pinned_sha256); this bundle's is {found}")]
    Unpinned {
        /// The loaded bundle's hash.
        found: String,
    },
    /// The bundle is not the pinned one.
    #[error(
        "the policy bundle's hash {found} differs from the pinned {pinned}; its files: {files}"
    )]
    PinMismatch {
        /// The pinned hash.
        pinned: String,
        /// The loaded bundle's hash.
        found: String,
        /// Each file's name and hash, to see which changed.
        files: String,
    },
}

/// One verifying key the server loaded, as the start checks see it.
#[derive(Clone, Debug)]
pub struct LoadedKey {
    /// Slots per side.
    pub tier: usize,
    /// The key's fingerprint.
    pub fingerprint: String,
    /// Where it came from.
    pub origin: KeyOrigin,
}

/// The start checks of `profile`: `Err` for a start it refuses, else the
/// warnings to print (what `dev` allows that `prod` would not).
pub fn check_start(
    profile: Profile,
    keys: &[LoadedKey],
    bundle_sha256: &str,
    file_hashes: &[(String, String)],
    pinned_sha256: Option<&str>,
) -> Result<Vec<String>, ProfileError> {
    let mut warnings = Vec::new();
    for key in keys {
        if key.origin == KeyOrigin::DevSeed {
            if profile == Profile::Prod {
                return Err(ProfileError::DevKeys {
                    profile,
                    tier: key.tier,
                    fingerprint: key.fingerprint.clone(),
                });
            }
            warnings.push(format!(
                "{profile} profile: tier {} uses development keys (anyone can forge proofs); prod refuses them",
                key.tier
            ));
        }
    }
    match pinned_sha256 {
        Some(pinned) if !pinned.eq_ignore_ascii_case(bundle_sha256) => {
            return Err(ProfileError::PinMismatch {
                pinned: pinned.to_string(),
                found: bundle_sha256.to_string(),
                files: file_hashes
                    .iter()
                    .map(|(name, hash)| format!("{name} {hash}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Some(_) => {}
        None if profile == Profile::Prod => {
            return Err(ProfileError::Unpinned {
                found: bundle_sha256.to_string(),
            });
        }
        None => warnings.push(format!(
            "{profile} profile: the policy bundle's hash is not pinned ({bundle_sha256}); prod requires a pin"
        )),
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(origin: KeyOrigin) -> LoadedKey {
        LoadedKey {
            tier: 16,
            fingerprint: "ab".repeat(32),
            origin,
        }
    }

    #[test]
    fn prod_refuses_dev_keys_and_an_unpinned_or_changed_bundle() {
        let files = [("admission.rego".to_string(), "cd".repeat(32))];
        let dev = [key(KeyOrigin::DevSeed)];
        let ceremony = [key(KeyOrigin::Ceremony)];
        let sha = "ef".repeat(32);
        assert!(matches!(
            check_start(Profile::Prod, &dev, &sha, &files, Some(&sha)),
            Err(ProfileError::DevKeys { tier: 16, .. })
        ));
        assert!(matches!(
            check_start(Profile::Prod, &ceremony, &sha, &files, None),
            Err(ProfileError::Unpinned { .. })
        ));
        let error = check_start(
            Profile::Prod,
            &ceremony,
            &sha,
            &files,
            Some(&"00".repeat(32)),
        )
        .unwrap_err();
        assert!(error.to_string().contains("admission.rego"), "{error}");
        assert_eq!(
            check_start(Profile::Prod, &ceremony, &sha, &files, Some(&sha)),
            Ok(vec![])
        );
    }

    #[test]
    fn dev_allows_both_and_says_so() {
        let warnings = check_start(
            Profile::Dev,
            &[key(KeyOrigin::DevSeed)],
            &"ef".repeat(32),
            &[],
            None,
        )
        .unwrap();
        assert_eq!(warnings.len(), 2);
        assert!("qa".parse::<Profile>().is_err());
        assert_eq!("prod".parse::<Profile>(), Ok(Profile::Prod));
    }
}
