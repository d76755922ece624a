//! Warroom's generic JSON event (`POST /api/v1/events`), for scripts, cron jobs and health
//! checks that speak no monitoring protocol.
//!
//! ```json
//! {"summary": "nightly backup of orders-db failed",   // required for a trigger
//!  "severity": "error",            // critical | error | warning | info; default error
//!  "source": "backup-cron@ops-2",  // host or tool that noticed
//!  "dedup_key": "backup/orders-db",// ties trigger and resolve together; generated if absent
//!  "action": "trigger",            // trigger | acknowledge | resolve; default trigger
//!  "service": "orders",            // service id; routing rules may override it
//!  "labels": {"env": "prod"},      // string -> string, for routing rules
//!  "details": {"exit_code": 3},    // any JSON, kept with the alert
//!  "timestamp": "2026-11-25T02:10:00Z"}  // when it happened; default receive time
//! ```
//!
//! Unlike the third-party formats, unknown fields are refused: the only senders are scripts
//! written against this page, and a typo such as `sevrity` should fail loudly rather than page
//! with the wrong severity. Severity is case-insensitive here, for hand-written scripts.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Action, AlertEvent, AlertSeverity, MAX_DEDUP_KEY_CHARS, SourceKind, parse_timestamp};

/// The body as sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericEvent {
    /// What is wrong; required for a trigger.
    #[serde(default)]
    pub summary: Option<String>,
    /// `critical`, `error`, `warning` or `info`.
    #[serde(default)]
    pub severity: Option<String>,
    /// Host or tool that noticed.
    #[serde(default)]
    pub source: Option<String>,
    /// Identifies the alert across events; required to acknowledge or resolve.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// `trigger` (default), `acknowledge` or `resolve`.
    #[serde(default)]
    pub action: Option<String>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// Labels for routing rules.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Free-form details.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
    /// RFC 3339 time of the problem.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// Why a generic event was refused; `field` names the offending field for the API's error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenericError {
    /// Not JSON, or not this shape (unknown field, wrong type).
    #[error("invalid event body: {0}")]
    Body(String),
    /// A field has a bad value.
    #[error("{field}: {message}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl GenericError {
    /// The offending field, if one is known.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            GenericError::Body(_) => None,
            GenericError::Field { field, .. } => Some(field),
        }
    }

    fn field_error(field: &'static str, message: impl Into<String>) -> Self {
        GenericError::Field {
            field,
            message: message.into(),
        }
    }
}

/// Reads and validates a generic event body.
pub fn parse_event(body: &[u8]) -> Result<AlertEvent, GenericError> {
    let raw: GenericEvent =
        serde_json::from_slice(body).map_err(|e| GenericError::Body(e.to_string()))?;
    raw.into_event()
}

impl GenericEvent {
    /// Validates the fields and builds the event.
    pub fn into_event(self) -> Result<AlertEvent, GenericError> {
        let blank_to_none = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let action = match self.action.as_deref().map(str::trim) {
            None | Some("") => Action::Trigger,
            Some(text) => Action::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
                GenericError::field_error(
                    "action",
                    format!("{text:?} is not one of trigger, acknowledge, resolve"),
                )
            })?,
        };
        let severity = match self.severity.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(AlertSeverity::parse(&text.to_ascii_lowercase()).ok_or_else(
                || {
                    GenericError::field_error(
                        "severity",
                        format!("{text:?} is not one of critical, error, warning, info"),
                    )
                },
            )?),
        };
        let dedup_key = blank_to_none(self.dedup_key);
        if let Some(key) = &dedup_key
            && key.chars().count() > MAX_DEDUP_KEY_CHARS
        {
            return Err(GenericError::field_error(
                "dedup_key",
                format!("longer than {MAX_DEDUP_KEY_CHARS} characters"),
            ));
        }
        // Stored as text, which PostgreSQL cannot hold a NUL in (see the PagerDuty parser).
        if dedup_key.as_deref().is_some_and(|k| k.contains('\0')) {
            return Err(GenericError::field_error(
                "dedup_key",
                "must not contain a NUL character",
            ));
        }
        let summary = blank_to_none(self.summary);
        match action {
            Action::Trigger if summary.is_none() => {
                return Err(GenericError::field_error(
                    "summary",
                    "required to trigger an alert",
                ));
            }
            Action::Acknowledge | Action::Resolve if dedup_key.is_none() => {
                return Err(GenericError::field_error(
                    "dedup_key",
                    format!("required to {action} an alert"),
                ));
            }
            _ => {}
        }
        let timestamp = match blank_to_none(self.timestamp) {
            None => None,
            Some(text) => Some(parse_timestamp(&text).ok_or_else(|| {
                GenericError::field_error("timestamp", format!("{text:?} is not an RFC 3339 time"))
            })?),
        };
        let mut event = AlertEvent::new(SourceKind::Generic, action, summary.unwrap_or_default());
        event.severity = match action {
            Action::Trigger => Some(severity.unwrap_or(AlertSeverity::Error)),
            _ => severity,
        };
        event.dedup_key = dedup_key;
        event.source = blank_to_none(self.source);
        event.service = blank_to_none(self.service);
        event.labels = self.labels;
        event.custom_details = self.details.unwrap_or(serde_json::Value::Null);
        event.timestamp = timestamp;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_event() {
        let body = br#"{"summary":"TLS certificate for shop.example.com expires in 5 days",
            "severity":"Warning","source":"certwatch@ops-1","dedup_key":"cert/shop.example.com",
            "service":"storefront","labels":{"env":"prod","team":"web"},
            "details":{"not_after":"2026-11-30T00:00:00Z"},"timestamp":"2026-11-25T06:00:00+01:00"}"#;
        let e = parse_event(body).expect("valid");
        assert_eq!(e.kind, SourceKind::Generic);
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.severity, Some(AlertSeverity::Warning));
        assert_eq!(e.source.as_deref(), Some("certwatch@ops-1"));
        assert_eq!(e.service.as_deref(), Some("storefront"));
        assert_eq!(e.labels.get("team").map(String::as_str), Some("web"));
        assert_eq!(e.custom_details["not_after"], "2026-11-30T00:00:00Z");
        assert_eq!(
            e.timestamp,
            Some("2026-11-25T05:00:00Z".parse().expect("time"))
        );
    }

    #[test]
    fn minimal_trigger_defaults() {
        let e = parse_event(br#"{"summary":"ping to gw-2 failed"}"#).expect("valid");
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.severity, Some(AlertSeverity::Error));
        assert_eq!(e.dedup_key, None, "the caller generates one");
    }

    #[test]
    fn resolve_needs_only_key() {
        let e = parse_event(br#"{"action":"resolve","dedup_key":"ping/gw-2"}"#).expect("valid");
        assert_eq!(e.action, Action::Resolve);
        assert_eq!(e.severity, None);
        let err = parse_event(br#"{"action":"resolve"}"#).expect_err("no key");
        assert_eq!(err.field(), Some("dedup_key"));
    }

    #[test]
    fn rejections_name_the_field() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (br#"{"severity":"error"}"#, Some("summary")),
            (br#"{"summary":"x","severity":"urgent"}"#, Some("severity")),
            (br#"{"summary":"x","action":"snooze"}"#, Some("action")),
            (br#"{"summary":"x","timestamp":"noon"}"#, Some("timestamp")),
            (br#"{"summary":"x","sevrity":"info"}"#, None),
            (br#"{"summary":"x","labels":{"n":1}}"#, None),
        ];
        for (body, field) in cases {
            let err = parse_event(body).expect_err("invalid");
            assert_eq!(err.field(), field, "{err}");
        }
        let long = format!(r#"{{"summary":"x","dedup_key":"{}"}}"#, "k".repeat(256));
        let err = parse_event(long.as_bytes()).expect_err("too long");
        assert_eq!(err.field(), Some("dedup_key"));
        let err = parse_event(br#"{"summary":"x","dedup_key":"a\u0000b"}"#).expect_err("NUL");
        assert_eq!(err.field(), Some("dedup_key"));
        assert!(err.to_string().contains("NUL"), "{err}");
        let err = parse_event(br#"{"summary":"x","sevrity":"info"}"#).expect_err("typo");
        assert!(err.to_string().contains("sevrity"), "{err}");
    }
}
