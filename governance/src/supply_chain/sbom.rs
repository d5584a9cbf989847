//! What the gate needs from a CycloneDX JSON SBOM: each component's name,
//! version, package URL and licence, the described application included.

use serde::Serialize;

use super::licence;

/// Components above this count are refused (the zktx binary has ~300).
pub const MAX_COMPONENTS: usize = 20_000;

/// An SBOM that is not CycloneDX JSON of the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Not JSON, or a field of the wrong type (the path names it).
    #[error("SBOM: {0}")]
    Shape(String),
}

/// One component, with its licence read as choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Component {
    /// The crate's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its package URL (`pkg:cargo/...`), when the SBOM has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The licence as the SBOM states it (expressions joined with AND when
    /// several are listed), or `NONE`.
    pub licence_expression: String,
    /// The expression in disjunctive normal form (see [`licence::choices`]);
    /// empty when the component has no licence or it does not parse, which
    /// the gate refuses.
    pub licence_choices: Vec<Vec<String>>,
}

/// The parts of a CycloneDX SBOM the gate reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sbom {
    /// `specVersion`.
    pub spec_version: String,
    /// The described component (`metadata.component`), then every entry
    /// of `components`.
    pub components: Vec<Component>,
}

fn text<'a>(value: &'a serde_json::Value, pointer: &str) -> Result<&'a str, SbomError> {
    value
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .ok_or_else(|| SbomError::Shape(format!("{pointer} is missing or not a string")))
}

fn component(value: &serde_json::Value, at: &str) -> Result<Component, SbomError> {
    let name = text(value, "/name").map_err(|_| SbomError::Shape(format!("{at}.name")))?;
    let version = value
        .pointer("/version")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let mut parts = Vec::new();
    if let Some(licenses) = value.get("licenses") {
        let list = licenses
            .as_array()
            .ok_or_else(|| SbomError::Shape(format!("{at}.licenses is not an array")))?;
        for (i, entry) in list.iter().enumerate() {
            let part = entry
                .get("expression")
                .and_then(|e| e.as_str())
                .or_else(|| entry.pointer("/license/id").and_then(|e| e.as_str()))
                .or_else(|| entry.pointer("/license/name").and_then(|e| e.as_str()))
                .ok_or_else(|| {
                    SbomError::Shape(format!(
                        "{at}.licenses[{i}] has no expression, license.id or license.name"
                    ))
                })?;
            parts.push(part.to_string());
        }
    }
    let (licence_expression, licence_choices) = if parts.is_empty() {
        ("NONE".to_string(), Vec::new())
    } else {
        let expression = if parts.len() == 1 {
            parts.remove(0)
        } else {
            parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let choices = licence::choices(&expression).unwrap_or_default();
        (expression, choices)
    };
    Ok(Component {
        name: name.to_string(),
        version,
        purl: value
            .get("purl")
            .and_then(|p| p.as_str())
            .map(str::to_string),
        licence_expression,
        licence_choices,
    })
}

impl Sbom {
    /// Reads a CycloneDX JSON document (`bomFormat` must be `CycloneDX`).
    pub fn parse(json: &[u8]) -> Result<Self, SbomError> {
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| SbomError::Shape(e.to_string()))?;
        if text(&value, "/bomFormat")? != "CycloneDX" {
            return Err(SbomError::Shape("bomFormat is not CycloneDX".into()));
        }
        let spec_version = text(&value, "/specVersion")?.to_string();
        let mut components = Vec::new();
        if let Some(main) = value.pointer("/metadata/component") {
            components.push(component(main, "metadata.component")?);
        }
        if let Some(list) = value.get("components") {
            let list = list
                .as_array()
                .ok_or_else(|| SbomError::Shape("components is not an array".into()))?;
            if list.len() > MAX_COMPONENTS {
                return Err(SbomError::Shape(format!(
                    "more than {MAX_COMPONENTS} components"
                )));
            }
            for (i, entry) in list.iter().enumerate() {
                components.push(component(entry, &format!("components[{i}]"))?);
            }
        }
        Ok(Self {
            spec_version,
            components,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_licences_are_read() {
        let json = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
          "metadata": {"component": {"name": "zktx", "version": "0.1.0",
             "licenses": [{"expression": "Apache-2.0"}]}},
          "components": [
            {"name": "a", "version": "1", "purl": "pkg:cargo/a@1",
             "licenses": [{"expression": "MIT OR Apache-2.0"}]},
            {"name": "b", "version": "2", "licenses": [{"license": {"id": "MIT"}},
               {"license": {"id": "Unicode-3.0"}}]},
            {"name": "c", "version": "3"},
            {"name": "d", "version": "4", "licenses": [{"expression": "MIT AND AND"}]}
          ]}"#;
        let sbom = Sbom::parse(json).unwrap();
        let names: Vec<_> = sbom.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["zktx", "a", "b", "c", "d"]);
        assert_eq!(sbom.components[1].licence_choices.len(), 2);
        assert_eq!(
            sbom.components[2].licence_expression,
            "(MIT) AND (Unicode-3.0)"
        );
        assert_eq!(sbom.components[2].licence_choices, [["MIT", "Unicode-3.0"]]);
        assert_eq!(sbom.components[3].licence_expression, "NONE");
        assert!(sbom.components[3].licence_choices.is_empty());
        assert!(sbom.components[4].licence_choices.is_empty());
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(Sbom::parse(b"not json").is_err());
        assert!(Sbom::parse(br#"{"bomFormat": "SPDX", "specVersion": "2"}"#).is_err());
        let error = Sbom::parse(
            br#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [{"version": "1"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("components[0].name"), "{error}");
    }
}
