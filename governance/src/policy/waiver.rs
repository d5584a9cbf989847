//! Waivers: a named exception to one policy rule, with a reason, an owner,
//! a scope and an expiry. A waiver lifts a denial only before its expiry,
//! checked at each decision, so it stops working when it expires without a
//! restart.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::PolicyError;
use super::gate::Denial;
use super::input::PolicyInput;

/// The waivers file's name in a bundle.
pub const WAIVERS_FILE: &str = "waivers.json";

/// One waiver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// A unique id, quoted in audit entries (e.g. `W-2026-014`).
    pub id: String,
    /// The policy rule it lifts (a denial's `rule`).
    pub rule: String,
    /// The tenant it covers; absent: every tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Why the exception is acceptable.
    pub reason: String,
    /// Who answers for it (a person or a team).
    pub owner: String,
    /// When it stops working (RFC 3339, e.g. `2026-12-31T00:00:00Z`).
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl Waiver {
    /// Whether the waiver lifts `denial` for `input` at `now`.
    pub fn covers(&self, denial: &Denial, input: &PolicyInput, now: OffsetDateTime) -> bool {
        now < self.expires
            && self.rule == denial.rule
            && self.tenant.as_ref().is_none_or(|t| *t == input.tenant)
    }
}

/// One use of a waiver, for the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaiverUse {
    /// The waiver's id.
    pub waiver: String,
    /// The rule it lifted.
    pub rule: String,
    /// Its owner.
    pub owner: String,
}

/// The waivers of a bundle (`waivers.json`: `{"waivers": [...]}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waivers {
    /// Every waiver, expired ones included (they are kept as history).
    pub waivers: Vec<Waiver>,
}

impl Waivers {
    /// Parses and checks a waivers file: ids unique, no empty field.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut json = serde_json::Deserializer::from_str(text);
        let waivers: Waivers = serde_path_to_error::deserialize(&mut json)
            .map_err(|e| PolicyError::data(WAIVERS_FILE, format!("{}: {}", e.path(), e.inner())))?;
        let mut ids = std::collections::BTreeSet::new();
        for (i, waiver) in waivers.waivers.iter().enumerate() {
            for (field, value) in [
                ("id", &waiver.id),
                ("rule", &waiver.rule),
                ("reason", &waiver.reason),
                ("owner", &waiver.owner),
            ] {
                if value.trim().is_empty() {
                    return Err(PolicyError::data(
                        WAIVERS_FILE,
                        format!("waivers[{i}].{field} is empty"),
                    ));
                }
            }
            if waiver.tenant.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return Err(PolicyError::data(
                    WAIVERS_FILE,
                    format!("waivers[{i}].tenant is empty (leave it out to cover every tenant)"),
                ));
            }
            if !ids.insert(waiver.id.as_str()) {
                return Err(PolicyError::data(
                    WAIVERS_FILE,
                    format!("waivers[{i}].id repeats an earlier waiver's id"),
                ));
            }
        }
        Ok(waivers)
    }

    /// The first unexpired waiver that lifts `denial` for `input` at `now`.
    pub fn find(
        &self,
        denial: &Denial,
        input: &PolicyInput,
        now: OffsetDateTime,
    ) -> Option<&Waiver> {
        self.waivers.iter().find(|w| w.covers(denial, input, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"waivers": [{"id": "W-1", "rule": "single-party-keys-in-prod",
        "tenant": "acme", "reason": "ceremony scheduled", "owner": "security",
        "expires": "2026-12-31T00:00:00Z"}]}"#;

    #[test]
    fn a_waivers_file_parses_and_bad_ones_name_the_field() {
        let waivers = Waivers::parse(ONE).unwrap();
        assert_eq!(waivers.waivers[0].expires.year(), 2026);
        let cases = [
            (
                ONE.replace("\"owner\": \"security\"", "\"owner\": \" \""),
                "waivers[0].owner",
            ),
            (ONE.replace("2026-12-31T00:00:00Z", "next week"), "expires"),
            (ONE.replace("\"W-1\"", "\"W-1\", \"extra\": 1"), "extra"),
            (
                ONE.replace("\"tenant\": \"acme\"", "\"tenant\": \"\""),
                "waivers[0].tenant",
            ),
        ];
        for (text, field) in cases {
            let error = Waivers::parse(&text).unwrap_err().to_string();
            assert!(error.contains(field), "{error} should name {field}");
        }
        let twice = r#"{"waivers": [W, W]}"#.replace(
            'W',
            r#"{"id": "W-1", "rule": "r", "reason": "x", "owner": "o", "expires": "2026-12-31T00:00:00Z"}"#,
        );
        let error = Waivers::parse(&twice).unwrap_err().to_string();
        assert!(error.contains("waivers[1].id"), "{error}");
    }
}
