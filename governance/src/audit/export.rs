//! A tenant's audit export: JSON Lines that check without the database.
//!
//! ```text
//! {"type":"header","format":"zktx-audit-export-v1","tenant":"acme","from_ms":…,"to_ms":…,"start_seq":41,"start_hash":"…"}
//! {"type":"entry", …the entry's fields…}          the tenant's entries and the server's own
//! {"type":"link","seq":43,"content_digest":"…"}   another tenant's entry, by its digest only
//! …
//! {"type":"head", …the signed head…}
//! ```
//! Every entry from the first one at or after `from` up to the signed head is
//! there, in order: in full when it concerns the tenant (or no tenant) and
//! falls in the period, otherwise as a link. `start_seq`/`start_hash` are the
//! position and hash of the entry before the first line (0 and zeros when the
//! export starts at the beginning). A reader rebuilds every hash from there to
//! the head and checks the head's signature: an entry edited, left out, added
//! or moved breaks the walk, and another tenant's entries show nothing but a
//! digest.

use serde::{Deserialize, Serialize};

use super::chain::{ChainBreak, ChainTip, ChainWalker, SignedHead};
use super::entry::{parse_hash, AuditEntry};

/// The export format's name, in its header.
pub const EXPORT_FORMAT: &str = "zktx-audit-export-v1";

/// The first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportHeader {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The tenant the export is for.
    pub tenant: String,
    /// The period's start (Unix milliseconds, inclusive), if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<i64>,
    /// The period's end (Unix milliseconds, exclusive), if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<i64>,
    /// The position of the entry before the first line.
    pub start_seq: u64,
    /// The hash of the entry before the first line (hex).
    pub start_hash: String,
}

/// Another tenant's entry, or one outside the period: its digest only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLink {
    /// The entry's position.
    pub seq: u64,
    /// Its content digest (hex).
    pub content_digest: String,
}

/// One line of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExportLine {
    /// The first line.
    Header(ExportHeader),
    /// An entry in full.
    Entry(AuditEntry),
    /// An entry by its digest.
    Link(ExportLink),
    /// The signed head, last.
    Head(SignedHead),
}

/// Which entries an export shows in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportScope {
    /// The tenant.
    pub tenant: String,
    /// Inclusive start (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Exclusive end (Unix milliseconds).
    pub to_ms: Option<i64>,
}

impl ExportScope {
    /// Whether `entry` is shown in full.
    pub fn shows(&self, entry: &AuditEntry) -> bool {
        entry.tenant.as_ref().is_none_or(|t| *t == self.tenant) && self.in_period(entry.at_ms)
    }

    fn in_period(&self, at_ms: i64) -> bool {
        self.from_ms.is_none_or(|from| at_ms >= from) && self.to_ms.is_none_or(|to| at_ms < to)
    }
}

/// The start of UTC day `text` (`YYYY-MM-DD`), in Unix milliseconds.
pub fn day_start_ms(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, &format).ok()?;
    Some(day.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Builds an export line by line; the caller feeds every entry from the
/// first one at or after the period's start to the head, in order.
pub struct ExportWriter {
    scope: ExportScope,
    started: bool,
}

impl ExportWriter {
    /// A writer for `scope`.
    pub fn new(scope: ExportScope) -> Self {
        Self {
            scope,
            started: false,
        }
    }

    /// The line for `entry`; before the first entry's, the header.
    pub fn lines_for(&mut self, entry: &AuditEntry) -> Vec<ExportLine> {
        let mut lines = Vec::with_capacity(2);
        if !self.started {
            self.started = true;
            lines.push(self.header(entry.seq - 1, &entry.prev_hash));
        }
        lines.push(if self.scope.shows(entry) {
            ExportLine::Entry(entry.clone())
        } else {
            ExportLine::Link(ExportLink {
                seq: entry.seq,
                content_digest: hex::encode(entry.content_digest()),
            })
        });
        lines
    }

    /// The closing lines: the header too if no entry was fed (the chain
    /// after the start is empty, `tip` being where it ends), then the head.
    pub fn finish(mut self, tip: ChainTip, head: SignedHead) -> Vec<ExportLine> {
        let mut lines = Vec::new();
        if !self.started {
            self.started = true;
            lines.push(self.header(tip.seq, &hex::encode(tip.hash)));
        }
        lines.push(ExportLine::Head(head));
        lines
    }

    fn header(&self, start_seq: u64, start_hash: &str) -> ExportLine {
        ExportLine::Header(ExportHeader {
            format: EXPORT_FORMAT.into(),
            tenant: self.scope.tenant.clone(),
            from_ms: self.scope.from_ms,
            to_ms: self.scope.to_ms,
            start_seq,
            start_hash: start_hash.to_string(),
        })
    }
}

/// Why an export does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A line is not valid JSON of a known line type.
    #[error("line {line}: {message}")]
    Malformed {
        /// The line (from 1).
        line: usize,
        /// What is wrong (names the field, never the value).
        message: String,
    },
    /// The lines are not header, entries and links, head.
    #[error("line {line}: {message}")]
    Structure {
        /// The line (from 1).
        line: usize,
        /// What is wrong.
        message: &'static str,
    },
    /// The chain is broken.
    #[error("line {line}: {source}")]
    Chain {
        /// The line (from 1).
        line: usize,
        /// The break.
        source: ChainBreak,
    },
}

/// What a checked export holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    /// The tenant.
    pub tenant: String,
    /// Entries shown in full.
    pub entries: Vec<AuditEntry>,
    /// Entries shown by digest.
    pub links: u64,
    /// The signed head.
    pub head: SignedHead,
    /// The key the head was checked with (hex).
    pub public_key: String,
}

/// Checks an export's text. The head's signature is checked with
/// `public_key` when given (the server's published receipt key), otherwise
/// with the key the head names (which proves integrity, not origin).
pub fn verify_export(text: &str, public_key: Option<&str>) -> Result<ExportSummary, ExportError> {
    let mut lines = Vec::new();
    for (i, raw) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut json = serde_json::Deserializer::from_str(raw);
        let line: ExportLine =
            serde_path_to_error::deserialize(&mut json).map_err(|e| ExportError::Malformed {
                line: i + 1,
                message: format!("field `{}`: {}", e.path(), describe(e.inner())),
            })?;
        lines.push((i + 1, line));
    }
    let Some((_, ExportLine::Header(header))) = lines.first() else {
        return Err(ExportError::Structure {
            line: 1,
            message: "the first line must be the header",
        });
    };
    if header.format != EXPORT_FORMAT {
        return Err(ExportError::Structure {
            line: 1,
            message: "unknown `format` (expected zktx-audit-export-v1)",
        });
    }
    let start_hash = parse_hash(&header.start_hash).ok_or(ExportError::Malformed {
        line: 1,
        message: "field `start_hash` is not a 64-hex hash".into(),
    })?;
    let scope = ExportScope {
        tenant: header.tenant.clone(),
        from_ms: header.from_ms,
        to_ms: header.to_ms,
    };
    let mut walker = ChainWalker::new(ChainTip {
        seq: header.start_seq,
        hash: start_hash,
    });
    let (mut entries, mut links) = (Vec::new(), 0);
    let last = lines.len() - 1;
    for (index, (line, item)) in lines.iter().enumerate().skip(1) {
        let chain = |source| ExportError::Chain {
            line: *line,
            source,
        };
        match item {
            ExportLine::Entry(entry) if index < last => {
                if !scope.shows(entry) {
                    return Err(ExportError::Structure {
                        line: *line,
                        message:
                            "an entry of another tenant or outside the period is shown in full",
                    });
                }
                walker.next_entry(entry).map_err(chain)?;
                entries.push(entry.clone());
            }
            ExportLine::Link(link) if index < last => {
                let digest = parse_hash(&link.content_digest).ok_or(ExportError::Malformed {
                    line: *line,
                    message: "field `content_digest` is not a 64-hex hash".into(),
                })?;
                walker.next_link(link.seq, None, &digest).map_err(chain)?;
                links += 1;
            }
            ExportLine::Head(head) if index == last => {
                let key = public_key.unwrap_or(&head.public_key).to_string();
                walker.finish(head, &key).map_err(chain)?;
                return Ok(ExportSummary {
                    tenant: header.tenant.clone(),
                    entries,
                    links,
                    head: head.clone(),
                    public_key: key,
                });
            }
            _ => {
                return Err(ExportError::Structure {
                    line: *line,
                    message:
                        "expected entries and links after the header, and the signed head last",
                })
            }
        }
    }
    Err(ExportError::Structure {
        line: lines.len() + 1,
        message: "the export ends without its signed head (it was cut short)",
    })
}

/// A serde error's message without any quoted value from the input.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let kind = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Data => {
            if text.starts_with("missing field") || text.starts_with("unknown field") {
                return text.split(" at line").next().unwrap_or(&text).to_string();
            }
            "wrong type or value"
        }
    };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::entry::{AuditEvent, AuditKind};
    use super::*;
    use ed25519_dalek::SigningKey;

    fn setup() -> (Vec<AuditEntry>, SignedHead, String) {
        let key = SigningKey::from_bytes(&[3; 32]);
        let mut tip = ChainTip::EMPTY;
        let policy = "ee".repeat(32);
        let events = [
            AuditEvent::new(10, AuditKind::ServerStarted, None),
            AuditEvent::new(20, AuditKind::QuotaDenial, Some("acme")).with("count", 2),
            AuditEvent::new(30, AuditKind::QuotaDenial, Some("globex")).with("count", 1),
            AuditEvent::new(40, AuditKind::ReceiptGroup, None).with("size", 3),
            AuditEvent::new(50, AuditKind::PolicyDenial, Some("acme")).with("rule", "r"),
            AuditEvent::new(60, AuditKind::AuditorAccess, Some("acme")),
        ];
        let entries: Vec<_> = events.into_iter().map(|e| tip.append(e, &policy)).collect();
        let head = SignedHead::sign(tip, 70, &key);
        (entries, head, hex::encode(key.verifying_key().to_bytes()))
    }

    fn export(entries: &[AuditEntry], head: &SignedHead, scope: ExportScope) -> String {
        let mut writer = ExportWriter::new(scope.clone());
        let start = entries
            .iter()
            .position(|e| scope.from_ms.is_none_or(|f| e.at_ms >= f))
            .unwrap_or(entries.len());
        let mut lines = Vec::new();
        for e in &entries[start..] {
            lines.extend(writer.lines_for(e));
        }
        let tip = ChainTip {
            seq: head.seq,
            hash: parse_hash(&head.hash).unwrap(),
        };
        lines.extend(writer.finish(tip, head.clone()));
        lines
            .iter()
            .map(|l| serde_json::to_string(l).unwrap() + "\n")
            .collect()
    }

    #[test]
    fn an_export_shows_the_tenant_and_links_the_rest() {
        let (entries, head, pk) = setup();
        let scope = ExportScope {
            tenant: "acme".into(),
            from_ms: Some(15),
            to_ms: Some(55),
        };
        let text = export(&entries, &head, scope);
        assert!(
            !text.contains("globex"),
            "another tenant shows only as a digest"
        );
        let summary = verify_export(&text, Some(&pk)).unwrap();
        let seqs: Vec<u64> = summary.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 4, 5]);
        assert_eq!(
            summary.links, 2,
            "globex's entry, and the one after the period"
        );
        assert_eq!(summary.head.seq, 6);
        // Verified against the key the head names when none is pinned.
        assert!(verify_export(&text, None).is_ok());
    }

    #[test]
    fn every_tamper_of_an_export_is_refused() {
        let (entries, head, pk) = setup();
        let scope = ExportScope {
            tenant: "acme".into(),
            from_ms: None,
            to_ms: None,
        };
        let text = export(&entries, &head, scope);
        let lines: Vec<&str> = text.lines().collect();
        let join = |ls: Vec<&str>| ls.join("\n");
        // Edited entry.
        let edited = text.replace("\"count\":\"2\"", "\"count\":\"1\"");
        assert_ne!(edited, text);
        assert!(matches!(
            verify_export(&edited, Some(&pk)),
            Err(ExportError::Chain {
                source: ChainBreak::HashMismatch { seq: 2 },
                ..
            })
        ));
        // Deleted entry.
        let mut deleted = lines.clone();
        deleted.remove(3);
        assert!(verify_export(&join(deleted), Some(&pk)).is_err());
        // Reordered.
        let mut reordered = lines.clone();
        reordered.swap(2, 3);
        assert!(verify_export(&join(reordered), Some(&pk)).is_err());
        // Inserted: a copy of an entry.
        let mut inserted = lines.clone();
        inserted.insert(3, lines[2]);
        assert!(verify_export(&join(inserted), Some(&pk)).is_err());
        // Truncated: the head gone, or the last entries gone.
        let truncated = lines[..lines.len() - 1].to_vec();
        assert!(matches!(
            verify_export(&join(truncated), Some(&pk)),
            Err(ExportError::Structure { .. })
        ));
        let mut cut = lines[..lines.len() - 2].to_vec();
        cut.push(lines[lines.len() - 1]);
        assert!(matches!(
            verify_export(&join(cut), Some(&pk)),
            Err(ExportError::Chain {
                source: ChainBreak::HeadMismatch { .. },
                ..
            })
        ));
        // Another key.
        let other = hex::encode(SigningKey::from_bytes(&[4; 32]).verifying_key().to_bytes());
        assert!(verify_export(&text, Some(&other)).is_err());
        // Garbage names the line and never echoes it.
        let garbage = format!(
            "{}\n{{\"type\":\"entry\",\"seq\":\"secret-value\"}}",
            lines[0]
        );
        let error = verify_export(&garbage, Some(&pk)).unwrap_err().to_string();
        assert!(error.starts_with("line 2"), "{error}");
        assert!(!error.contains("secret-value"), "{error}");
    }

    #[test]
    fn an_export_of_an_empty_period_still_checks() {
        let (entries, head, pk) = setup();
        let scope = ExportScope {
            tenant: "acme".into(),
            from_ms: Some(1_000),
            to_ms: None,
        };
        let text = export(&entries, &head, scope);
        let summary = verify_export(&text, Some(&pk)).unwrap();
        assert!(summary.entries.is_empty());
        assert_eq!(summary.head.seq, 6);
    }
}
