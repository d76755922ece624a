//! Indicators of compromise recorded on an incident (IP addresses, domains, URLs, file hashes,
//! email addresses, accounts), normalised so the same indicator written two ways is found as
//! one, and searchable across incidents to find related ones.
//!
//! Recording is an `indicator_recorded` event on the timeline; the store keeps one row per
//! incident, kind and value with the widest first/last seen reported so far.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::command::DomainError;
use crate::event::EventKind;

/// Longest URL or account, in characters.
pub const MAX_VALUE: usize = 2048;
/// Longest note, in characters.
pub const MAX_NOTE: usize = 2000;

/// What an indicator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// An IPv4 or IPv6 address.
    Ip,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// A file hash: MD5, SHA-1 or SHA-256 in hex.
    Hash,
    /// An email address.
    Email,
    /// A user account.
    Account,
}

impl IndicatorKind {
    /// Every kind.
    pub const ALL: [IndicatorKind; 6] = [
        IndicatorKind::Ip,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Hash,
        IndicatorKind::Email,
        IndicatorKind::Account,
    ];

    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Hash => "hash",
            IndicatorKind::Email => "email",
            IndicatorKind::Account => "account",
        }
    }

    /// `value` in its one canonical form, or why it is not one of these; errors name `field`.
    pub fn normalise(self, field: &str, value: &str) -> Result<String, DomainError> {
        let value = value.trim();
        let bad = |why: String| invalid(field, format!("{field}: {why}"));
        if value.is_empty() {
            return Err(bad(format!("give the {}", self.as_str())));
        }
        if value.chars().count() > MAX_VALUE || value.chars().any(char::is_control) {
            return Err(bad(format!(
                "at most {MAX_VALUE} characters, no control characters"
            )));
        }
        match self {
            IndicatorKind::Ip => value
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
                .map_err(|_| bad(format!("{value:?} is not an IPv4 or IPv6 address"))),
            IndicatorKind::Domain => domain(value).map_err(bad),
            IndicatorKind::Url => url(value).map_err(bad),
            IndicatorKind::Hash => {
                let ok_len = matches!(value.len(), 32 | 40 | 64);
                if ok_len && value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(value.to_ascii_lowercase())
                } else {
                    Err(bad(format!(
                        "{value:?} is not an MD5, SHA-1 or SHA-256 in hex (32, 40 or 64 digits)"
                    )))
                }
            }
            IndicatorKind::Email => {
                let (local, host) = value
                    .rsplit_once('@')
                    .ok_or_else(|| bad(format!("{value:?} is not an email address")))?;
                if local.is_empty() || local.chars().any(char::is_whitespace) {
                    return Err(bad(format!("{value:?} is not an email address")));
                }
                let host = domain(host).map_err(bad)?;
                // Compared without case: almost every mail system ignores it.
                Ok(format!("{}@{host}", local.to_lowercase()))
            }
            IndicatorKind::Account => Ok(value.to_string()),
        }
    }

    /// What a hash's length says it is.
    pub fn hash_algorithm(value: &str) -> Option<&'static str> {
        match value.len() {
            32 => Some("md5"),
            40 => Some("sha1"),
            64 => Some("sha256"),
            _ => None,
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndicatorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown kind {s:?}: expected ip, domain, url, hash, email or account")
            })
    }
}

fn invalid(field: &str, message: String) -> DomainError {
    DomainError::Invalid {
        field: field.to_string(),
        message,
    }
}

fn domain(text: &str) -> Result<String, String> {
    let name = text.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() <= 253 && name.contains('.') && name.split('.').all(label_ok) {
        Ok(name)
    } else {
        Err(format!(
            "{text:?} is not a domain name (letters, digits and hyphens in dot-separated labels; internationalised names in their xn-- form)"
        ))
    }
}

fn url(text: &str) -> Result<String, String> {
    let not = || format!("{text:?} is not a URL like https://host/path");
    let (scheme, rest) = text.split_once("://").ok_or_else(not)?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || text.chars().any(char::is_whitespace) {
        return Err(not());
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return Err(not());
    }
    // Scheme and host compare without case; user info, path and query keep theirs.
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    Ok(format!(
        "{}://{userinfo}{}{path}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// An indicator as a client reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIndicator {
    /// What it is.
    pub kind: IndicatorKind,
    /// The indicator itself.
    pub value: String,
    /// When it was first seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// When it was last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// Context: where it showed up, how confident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl NewIndicator {
    /// Checks and normalises the indicator into its timeline event; errors name the field.
    pub fn event(&self) -> Result<EventKind, DomainError> {
        let value = self.kind.normalise("value", &self.value)?;
        if let (Some(first), Some(last)) = (self.first_seen, self.last_seen)
            && last < first
        {
            return Err(invalid(
                "last_seen",
                "last_seen: must not be before first_seen".into(),
            ));
        }
        let note = match self
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            None => None,
            Some(n) if n.chars().count() > MAX_NOTE => {
                return Err(invalid(
                    "note",
                    format!("note: at most {MAX_NOTE} characters"),
                ));
            }
            Some(n) => Some(n.to_string()),
        };
        Ok(EventKind::IndicatorRecorded {
            kind: self.kind,
            value,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(kind: IndicatorKind, v: &str) -> String {
        kind.normalise("value", v).expect("valid")
    }

    fn field_of(kind: IndicatorKind, v: &str) -> String {
        match kind.normalise("value", v) {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected a field error for {v:?}, got {other:?}"),
        }
    }

    #[test]
    fn the_same_indicator_written_two_ways_normalises_to_one() {
        use IndicatorKind::*;
        assert_eq!(norm(Ip, " 203.0.113.7 "), "203.0.113.7");
        assert_eq!(norm(Ip, "[2001:DB8:0:0::1]"), "2001:db8::1");
        assert_eq!(norm(Domain, "Evil.Example.COM."), "evil.example.com");
        assert_eq!(
            norm(Url, "HTTPS://Evil.Example.com/Login?Next=/A"),
            "https://evil.example.com/Login?Next=/A"
        );
        assert_eq!(norm(Hash, &"AB".repeat(20)), "ab".repeat(20));
        assert_eq!(norm(Email, "Ceo@Example.COM"), "ceo@example.com");
        assert_eq!(norm(Account, " CORP\\svc-backup "), "CORP\\svc-backup");
    }

    #[test]
    fn junk_is_refused_naming_the_field() {
        use IndicatorKind::*;
        for (kind, v) in [
            (Ip, "999.1.1.1"),
            (Domain, "localhost"),
            (Domain, "-bad-.com"),
            (Url, "evil.example.com/x"),
            (Url, "https:///path"),
            (Hash, "abc"),
            (Hash, &"g".repeat(32)),
            (Email, "no-at-sign"),
            (Account, "   "),
        ] {
            assert_eq!(field_of(kind, v), "value", "{kind} {v:?}");
        }
    }

    #[test]
    fn seen_times_must_be_in_order() {
        let t: Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
        let n = NewIndicator {
            kind: IndicatorKind::Ip,
            value: "10.0.0.1".into(),
            first_seen: Some(t),
            last_seen: Some(t - jiff::SignedDuration::from_secs(1)),
            note: None,
        };
        match n.event() {
            Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "last_seen"),
            other => panic!("{other:?}"),
        }
        assert_eq!(IndicatorKind::hash_algorithm(&"a".repeat(40)), Some("sha1"));
        assert_eq!("Domain".parse::<IndicatorKind>(), Ok(IndicatorKind::Domain));
    }
}
