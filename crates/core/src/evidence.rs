//! Evidence: files and text artefacts attached to an incident, identified by the SHA-256 of
//! their content, with a chain of custody on the incident's timeline.
//!
//! The content itself lives outside the database (the server's vault); what the rules here
//! decide is what a piece of evidence is called and described as, which names are acceptable,
//! and which timeline events record its custody (`evidence_added`, `evidence_viewed`,
//! `evidence_downloaded`, `evidence_transferred`). Because those events are in the hash-chained
//! log, the record of who collected, looked at and handed over each item is tamper-evident.

use serde::{Deserialize, Serialize};

use crate::command::DomainError;
use crate::event::EventKind;

/// Longest file name, in characters.
pub const MAX_FILE_NAME: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 4000;
/// Longest "collected from" (host, system, person), in characters.
pub const MAX_COLLECTED_FROM: usize = 500;
/// Longest name of a party evidence is transferred to, in characters.
pub const MAX_PARTY: usize = 200;
/// Longest transfer reason, in characters.
pub const MAX_REASON: usize = 2000;
/// Longest media type, in characters (RFC 6838 allows 127 per part).
pub const MAX_MEDIA_TYPE: usize = 255;
/// The media type of content whose type nobody gave.
pub const DEFAULT_MEDIA_TYPE: &str = "application/octet-stream";

fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

/// A SHA-256 as 64 lowercase hex digits; `field` names the request field at fault.
pub fn parse_sha256(field: &str, text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(
            field,
            format!("{field}: expected a SHA-256 as 64 hex digits"),
        ));
    }
    Ok(text.to_ascii_lowercase())
}

/// What the collector says about a piece of evidence, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceInfo {
    /// File name (no directories).
    pub file_name: String,
    /// Media type, lowercase, without parameters (`text/plain`).
    pub media_type: String,
    /// What it is and why it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where it was collected (host, system, account), as the collector says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_from: Option<String>,
}

fn optional_text(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(invalid(field, format!("{field}: at most {max} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            field,
            format!("{field}: control characters are not allowed"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// The file name without any directory part a client may have sent (`C:\logs\a.txt` and
/// `/var/log/a.txt` both become `a.txt`), checked.
pub fn parse_file_name(text: &str) -> Result<String, DomainError> {
    let base = text.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(invalid("file_name", "file_name: give the file's name"));
    }
    if base.chars().count() > MAX_FILE_NAME {
        return Err(invalid(
            "file_name",
            format!("file_name: at most {MAX_FILE_NAME} characters"),
        ));
    }
    if base.chars().any(char::is_control) {
        return Err(invalid(
            "file_name",
            "file_name: control characters are not allowed",
        ));
    }
    Ok(base.to_string())
}

/// A media type `type/subtype` (parameters such as `; charset=utf-8` are dropped), lowercase;
/// the default when none is given.
pub fn parse_media_type(text: Option<&str>) -> Result<String, DomainError> {
    let Some(text) = text
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .filter(|t| !t.is_empty())
    else {
        return Ok(DEFAULT_MEDIA_TYPE.to_string());
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match text.split_once('/') {
        Some((kind, sub)) if text.len() <= MAX_MEDIA_TYPE && token(kind) && token(sub) => {
            Ok(text.to_ascii_lowercase())
        }
        _ => Err(invalid(
            "media_type",
            format!("media_type: {text:?} is not a media type like text/plain"),
        )),
    }
}

impl EvidenceInfo {
    /// Checks what a client sent; every error names its field.
    pub fn parse(
        file_name: Option<&str>,
        media_type: Option<&str>,
        description: Option<&str>,
        collected_from: Option<&str>,
    ) -> Result<Self, DomainError> {
        let file_name = parse_file_name(file_name.unwrap_or(""))?;
        Ok(Self {
            file_name,
            media_type: parse_media_type(media_type)?,
            description: optional_text("description", description, MAX_DESCRIPTION)?,
            collected_from: optional_text("collected_from", collected_from, MAX_COLLECTED_FROM)?,
        })
    }

    /// The event recording that this content (`sha256`, `size` bytes) was collected, uploaded
    /// from `source` (the client's address as the server saw it).
    pub fn added_event(&self, sha256: &str, size: u64, source: &str) -> EventKind {
        EventKind::EvidenceAdded {
            sha256: sha256.to_string(),
            size,
            file_name: self.file_name.clone(),
            media_type: self.media_type.clone(),
            description: self.description.clone(),
            collected_from: self.collected_from.clone(),
            source: source.to_string(),
        }
    }
}

/// A hand-over of evidence to someone (a forensic firm, law enforcement, legal), or its export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Who receives it.
    pub to: String,
    /// Why, or under what authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Transfer {
    /// Checks the transfer and turns it into its custody event.
    pub fn event(&self, sha256: &str) -> Result<EventKind, DomainError> {
        let to = optional_text("to", Some(&self.to), MAX_PARTY)?
            .ok_or_else(|| invalid("to", "to: say who receives the evidence"))?;
        Ok(EventKind::EvidenceTransferred {
            sha256: sha256.to_string(),
            to,
            reason: optional_text("reason", self.reason.as_deref(), MAX_REASON)?,
        })
    }
}

/// The SHA-256 a custody event is about, if it is one.
pub fn custody_subject(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::EvidenceAdded { sha256, .. }
        | EventKind::EvidenceViewed { sha256 }
        | EventKind::EvidenceDownloaded { sha256 }
        | EventKind::EvidenceTransferred { sha256, .. } => Some(sha256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(err: DomainError) -> String {
        match err {
            DomainError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn hashes_are_64_hex_digits_normalised_to_lowercase() {
        let upper = "AB".repeat(32);
        assert_eq!(parse_sha256("sha256", &upper).expect("ok"), "ab".repeat(32));
        assert_eq!(
            field(parse_sha256("sha256", "abc").expect_err("short")),
            "sha256"
        );
        assert!(parse_sha256("x", &"g".repeat(64)).is_err());
    }

    #[test]
    fn file_names_lose_their_directories_and_must_be_printable() {
        assert_eq!(
            parse_file_name("/var/log/auth.log").expect("ok"),
            "auth.log"
        );
        assert_eq!(parse_file_name(r"C:\dumps\mem.raw").expect("ok"), "mem.raw");
        assert_eq!(
            field(parse_file_name("dir/").expect_err("empty")),
            "file_name"
        );
        assert_eq!(field(parse_file_name("..").expect_err("dots")), "file_name");
        assert!(parse_file_name("a\u{7}b").is_err());
        assert!(parse_file_name(&"a".repeat(MAX_FILE_NAME + 1)).is_err());
    }

    #[test]
    fn media_types_default_drop_parameters_and_reject_junk() {
        assert_eq!(parse_media_type(None).expect("ok"), DEFAULT_MEDIA_TYPE);
        assert_eq!(
            parse_media_type(Some("Text/Plain; charset=utf-8")).expect("ok"),
            "text/plain"
        );
        assert_eq!(
            field(parse_media_type(Some("not a type")).expect_err("junk")),
            "media_type"
        );
        assert!(parse_media_type(Some("text/")).is_err());
    }

    #[test]
    fn info_names_the_bad_field() {
        let long = "x".repeat(MAX_DESCRIPTION + 1);
        let err = EvidenceInfo::parse(Some("a.txt"), None, Some(&long), None).expect_err("long");
        assert_eq!(field(err), "description");
        let err = EvidenceInfo::parse(Some("a.txt"), None, None, Some("h\u{0}")).expect_err("nul");
        assert_eq!(field(err), "collected_from");
        let ok = EvidenceInfo::parse(
            Some("a.txt"),
            Some("text/plain"),
            Some(" "),
            Some(" web-1 "),
        )
        .expect("ok");
        assert_eq!(ok.description, None);
        assert_eq!(ok.collected_from.as_deref(), Some("web-1"));
    }

    #[test]
    fn transfers_need_a_recipient() {
        let t = Transfer {
            to: "  ".into(),
            reason: None,
        };
        assert_eq!(field(t.event("ab").expect_err("empty")), "to");
        let t = Transfer {
            to: "Acme Forensics".into(),
            reason: Some("case 42".into()),
        };
        assert_eq!(custody_subject(&t.event("ab").expect("ok")), Some("ab"));
    }
}
