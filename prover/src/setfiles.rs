//! Set files: identifier lists in, commitment (public) and opening (private) files out.

use std::{
    collections::HashSet,
    fs,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use zktx_circuits::{encoding, ids, Fr, SetOpening, Tier};

use zktx_formats::{write_with_mode, FormatError};

use crate::ProverError;

/// Identifiers read from a file, hashed to ids.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentifierList {
    /// Distinct ids, in first-seen order.
    pub ids: Vec<u64>,
    /// Identifier lines read (header excluded).
    pub lines: usize,
    /// Lines whose id repeated an earlier one (same identifier after normalisation).
    pub duplicates: usize,
}

impl std::fmt::Debug for IdentifierList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifierList")
            .field("distinct", &self.ids.len())
            .field("lines", &self.lines)
            .field("duplicates", &self.duplicates)
            .finish()
    }
}

/// Reads one identifier per line (UTF-8, `\n` or `\r\n`), normalises and
/// hashes each, and refuses an empty or non-UTF-8 line, or the line at which
/// the set outgrows the tier, naming the line. Errors never quote the line.
pub fn read_identifiers(
    path: &Path,
    tier: Tier,
    skip_header: bool,
) -> Result<IdentifierList, ProverError> {
    let bytes = fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let refuse = |line: usize, reason: String| ProverError::IdentifierLine {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut raw_lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if raw_lines.last().is_some_and(|l| l.is_empty()) {
        raw_lines.pop(); // the newline that ends the last line
    }
    let mut seen = HashSet::new();
    let mut list = IdentifierList {
        ids: Vec::new(),
        lines: 0,
        duplicates: 0,
    };
    for (index, raw) in raw_lines.iter().enumerate().skip(usize::from(skip_header)) {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text =
            std::str::from_utf8(raw).map_err(|_| refuse(number, "not valid UTF-8".into()))?;
        let id =
            ids::identifier_to_id(text).map_err(|_| refuse(number, "empty identifier".into()))?;
        list.lines += 1;
        if !seen.insert(id) {
            list.duplicates += 1;
            continue;
        }
        if seen.len() > tier.capacity() {
            return Err(refuse(
                number,
                format!(
                    "the set exceeds tier {} (at most {} distinct identifiers); use a larger --tier",
                    tier.capacity(),
                    tier.capacity()
                ),
            ));
        }
        list.ids.push(id);
    }
    Ok(list)
}

/// Commitment file format identifier.
pub const COMMITMENT_FORMAT: &str = "zktx-set-commitment";
/// Opening file format identifier.
pub const OPENING_FORMAT: &str = "zktx-set-opening";
/// Version of both set file formats.
pub const SET_FILE_VERSION: u32 = 1;

/// The public commitment file (`PREFIX.commitment.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentFile {
    /// Always [`COMMITMENT_FORMAT`].
    pub format: String,
    /// Always [`SET_FILE_VERSION`].
    pub version: u32,
    /// The circuit identifier, tier included.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// The commitment (64 hex digits).
    pub commitment: String,
}

/// The private opening file (`PREFIX.opening.json`, mode 0600).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningFile {
    /// Always [`OPENING_FORMAT`].
    pub format: String,
    /// Always [`SET_FILE_VERSION`].
    pub version: u32,
    /// The circuit identifier, tier included.
    pub circuit: String,
    /// Slots per side.
    pub tier: usize,
    /// The commitment this opens (64 hex digits).
    pub commitment: String,
    /// PRIVATE: the salt (64 hex digits).
    pub salt: String,
    /// PRIVATE: the member ids, 16 hex digits each, ascending.
    pub ids: Vec<String>,
}

/// Paths of the two set files for a prefix.
pub fn set_file_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    (with(".commitment.json"), with(".opening.json"))
}

/// Writes `PREFIX.commitment.json` and `PREFIX.opening.json` (0600); refuses to
/// overwrite either unless `force`, since a new salt orphans the old commitment.
pub fn write_set_files(
    prefix: &Path,
    opening: &SetOpening,
    force: bool,
) -> Result<(PathBuf, PathBuf), ProverError> {
    let (commitment_path, opening_path) = set_file_paths(prefix);
    for path in [&commitment_path, &opening_path] {
        if !force && path.exists() {
            return Err(FormatError::WouldOverwrite { path: path.clone() }.into());
        }
    }
    let tier = opening.tier();
    let commitment = encoding::fr_to_hex(&opening.commitment());
    let public = CommitmentFile {
        format: COMMITMENT_FORMAT.into(),
        version: SET_FILE_VERSION,
        circuit: encoding::circuit_id(tier),
        tier: tier.capacity(),
        commitment: commitment.clone(),
    };
    let private = OpeningFile {
        format: OPENING_FORMAT.into(),
        version: SET_FILE_VERSION,
        circuit: encoding::circuit_id(tier),
        tier: tier.capacity(),
        commitment,
        salt: encoding::fr_to_hex(&opening.salt()),
        ids: opening
            .members()
            .iter()
            .map(|id| format!("{id:016x}"))
            .collect(),
    };
    write_with_mode(
        &opening_path,
        &serde_json::to_vec_pretty(&private).expect("serialises"),
        0o600,
    )?;
    zktx_formats::write_atomically(
        &commitment_path,
        &serde_json::to_vec_pretty(&public).expect("serialises"),
    )?;
    Ok((commitment_path, opening_path))
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, ProverError> {
    let bytes = fs::read(path).map_err(|e| FormatError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| {
        FormatError::Json {
            path: path.to_path_buf(),
            what,
            source,
        }
        .into()
    })
}

/// The header fields both set files share.
trait SetFileHeader {
    fn header(&self) -> (&str, u32, usize, &str);
}

impl SetFileHeader for OpeningFile {
    fn header(&self) -> (&str, u32, usize, &str) {
        (&self.format, self.version, self.tier, &self.circuit)
    }
}

impl SetFileHeader for CommitmentFile {
    fn header(&self) -> (&str, u32, usize, &str) {
        (&self.format, self.version, self.tier, &self.circuit)
    }
}

/// Checks a set file's format, version and circuit; returns its tier.
fn checked_tier(
    path: &Path,
    file: &impl SetFileHeader,
    expected: &str,
) -> Result<Tier, ProverError> {
    let (format, version, tier, circuit) = file.header();
    let bad = |reason: String| -> ProverError {
        FormatError::BadFile {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    };
    if format != expected || version != SET_FILE_VERSION {
        return Err(bad(format!(
            "expected a {expected} v{SET_FILE_VERSION} file"
        )));
    }
    let tier = Tier::new(tier)?;
    if circuit != encoding::circuit_id(tier) {
        return Err(bad(format!(
            "circuit {circuit:?} is not {}",
            encoding::circuit_id(tier)
        )));
    }
    Ok(tier)
}

/// Parses a canonical field element from a set file's field.
fn field(path: &Path, name: &'static str, text: &str) -> Result<Fr, ProverError> {
    encoding::fr_from_hex(text).map_err(|source| {
        FormatError::FieldHex {
            path: path.to_path_buf(),
            field: name,
            source,
        }
        .into()
    })
}

/// Reads an opening file, checking that it opens the commitment it names.
pub fn read_opening(path: &Path) -> Result<SetOpening, ProverError> {
    let file: OpeningFile = read_json(path, "set opening")?;
    let tier = checked_tier(path, &file, OPENING_FORMAT)?;
    let salt = field(path, "salt", &file.salt)?;
    let commitment = field(path, "commitment", &file.commitment)?;
    let ids = file
        .ids
        .iter()
        .enumerate()
        .map(|(i, text)| {
            u64::from_str_radix(text, 16).map_err(|_| FormatError::BadFile {
                path: path.to_path_buf(),
                reason: format!("ids[{i}] is not a 16-digit hex id"),
            })
        })
        .collect::<Result<Vec<u64>, _>>()?;
    let opening = SetOpening::new(tier, salt, ids)?;
    if opening.commitment() != commitment {
        return Err(FormatError::BadFile {
            path: path.to_path_buf(),
            reason: "the salt and ids do not open the commitment in this file".into(),
        }
        .into());
    }
    Ok(opening)
}

/// Reads a commitment file: its tier and commitment.
pub fn read_commitment(path: &Path) -> Result<(Tier, Fr), ProverError> {
    let file: CommitmentFile = read_json(path, "set commitment")?;
    let tier = checked_tier(path, &file, COMMITMENT_FORMAT)?;
    Ok((tier, field(path, "commitment", &file.commitment)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tier(n: usize) -> Tier {
        Tier::new(n).unwrap()
    }

    #[test]
    fn reads_lines_and_reports_problems_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("set.csv");
        fs::write(&path, "email\r\nA@x.com\r\nb@x.com\r\na@x.com\r\n").unwrap();
        let list = read_identifiers(&path, tier(4), true).unwrap();
        assert_eq!((list.ids.len(), list.lines, list.duplicates), (2, 3, 1));

        fs::write(&path, "a\n\nb\n").unwrap();
        let err = read_identifiers(&path, tier(4), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("empty"), "{err}");

        fs::write(&path, b"a\n\xff\xfe\n").unwrap();
        let err = read_identifiers(&path, tier(4), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");

        fs::write(&path, "secret-one\nsecret-two\nsecret-three\n").unwrap();
        let err = read_identifiers(&path, tier(2), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("tier 2"), "{err}");
        assert!(
            !err.contains("secret"),
            "errors never quote identifiers: {err}"
        );
    }

    #[test]
    fn set_files_round_trip_private_mode_and_no_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("partner");
        let opening = SetOpening::new(tier(4), Fr::from(5u64), [7, 3]).unwrap();
        let (c, o) = write_set_files(&prefix, &opening, false).unwrap();
        assert_eq!(
            fs::metadata(&o).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_opening(&o).unwrap(), opening);
        assert_eq!(
            read_commitment(&c).unwrap(),
            (tier(4), opening.commitment())
        );
        assert!(matches!(
            write_set_files(&prefix, &opening, false),
            Err(ProverError::Format(FormatError::WouldOverwrite { .. }))
        ));
        assert!(write_set_files(&prefix, &opening, true).is_ok());

        // An opening edited to other ids no longer opens its commitment.
        let mut file: OpeningFile = serde_json::from_slice(&fs::read(&o).unwrap()).unwrap();
        file.ids[0] = format!("{:016x}", 4);
        fs::write(&o, serde_json::to_vec(&file).unwrap()).unwrap();
        assert!(matches!(
            read_opening(&o),
            Err(ProverError::Format(FormatError::BadFile { .. }))
        ));
    }
}
