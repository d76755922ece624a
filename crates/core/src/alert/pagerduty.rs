//! PagerDuty Events API v2: `POST /v2/enqueue` alert events and `POST /v2/change/enqueue`
//! change events, validated the way PagerDuty does, with its response bodies.
//!
//! The body is read as untyped JSON first and checked field by field, so that a bad event gets
//! every problem listed in PagerDuty's `errors` array phrasing (`'payload.summary' is missing or
//! blank`) instead of a serde message about the first one. Unknown fields are ignored, as
//! PagerDuty does, so newer senders keep working.
//!
//! Deliberate differences from PagerDuty, all in the accepting direction, so that any sender that
//! works against PagerDuty works here by changing only the URL:
//! - `routing_key`: PagerDuty wants exactly 32 characters. Warroom issues its own integration
//!   keys, so any non-empty key up to [`MAX_ROUTING_KEY_CHARS`] is accepted here; whether the key
//!   exists is the caller's check.
//! - `payload.summary` over 1024 characters is cut with a trailing `…` rather than refused
//!   (see [`super::truncate_summary`]).
//! - `payload.timestamp` in a format we cannot read is ignored (receive time is used), and
//!   images whose `src` is not HTTPS, or links without `href`, are dropped: these are decorations
//!   and must not cost the page.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Action, AlertEvent, AlertSeverity, Image, Link, MAX_DEDUP_KEY_CHARS, SourceKind};

/// Largest accepted body, in bytes: PagerDuty's 512 KB, as Alertmanager enforces it.
pub const MAX_EVENT_BYTES: usize = 512_000;

/// Longest accepted routing key. Ours are shorter; this only bounds what we store and log.
pub const MAX_ROUTING_KEY_CHARS: usize = 255;

/// The errors of a rejected event, phrased like PagerDuty's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Event object is invalid: {}", errors.join("; "))]
pub struct InvalidEvent {
    /// One sentence per problem.
    pub errors: Vec<String>,
}

impl InvalidEvent {
    fn one(message: impl Into<String>) -> Self {
        Self {
            errors: vec![message.into()],
        }
    }

    /// The 400 body for this rejection.
    pub fn response(&self) -> EnqueueResponse {
        EnqueueResponse::invalid(self.errors.clone())
    }
}

/// The body of every `/v2/enqueue` and `/v2/change/enqueue` answer.
///
/// `202`: `{"status":"success","message":"Event processed","dedup_key":"…"}`;
/// `400`: `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnqueueResponse {
    /// `success` or `invalid event` (the only field PagerDuty's schema requires).
    pub status: String,
    /// Human-readable outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The alert's key, given or generated; alert events only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// What was wrong, on 400 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

impl EnqueueResponse {
    /// The 202 body for an alert event; `dedup_key` is the event's or the generated one.
    pub fn accepted(dedup_key: impl Into<String>) -> Self {
        Self {
            status: "success".into(),
            message: Some("Event processed".into()),
            dedup_key: Some(dedup_key.into()),
            errors: None,
        }
    }

    /// The 202 body for a change event. PagerDuty does not document this message; senders
    /// only look at the status code and `status`.
    pub fn change_accepted() -> Self {
        Self {
            status: "success".into(),
            message: Some("Change event processed".into()),
            dedup_key: None,
            errors: None,
        }
    }

    /// The 400 body.
    pub fn invalid(errors: Vec<String>) -> Self {
        Self {
            status: "invalid event".into(),
            message: Some("Event object is invalid".into()),
            dedup_key: None,
            errors: Some(errors),
        }
    }
}

/// A change event (`/v2/change/enqueue`): a deploy or config change to show on the timelines of
/// the service's incidents. It has no action, dedup key or severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Integration key it came through.
    pub routing_key: String,
    /// What changed, at most 1024 characters.
    pub summary: String,
    /// What made the change (`payload.source`).
    pub source: Option<String>,
    /// When it happened, if the sender said (and we could read it).
    pub timestamp: Option<Timestamp>,
    /// Free-form details.
    pub custom_details: Value,
    /// Links (the only context change events have).
    pub links: Vec<Link>,
}

/// Validates a `/v2/enqueue` body and turns it into an [`AlertEvent`].
///
/// On success the event's `dedup_key` is `None` only for a trigger that sent none: the caller
/// generates one and returns it in [`EnqueueResponse::accepted`].
pub fn parse_event(body: &[u8]) -> Result<AlertEvent, InvalidEvent> {
    let root = read_object(body)?;
    let mut errors = Vec::new();

    let routing_key = routing_key(&root, &mut errors);
    let action = match string_field(&root, "event_action", "event_action", &mut errors) {
        Some(text) => match Action::parse(&text) {
            Some(a) => Some(a),
            None => {
                errors.push(
                    "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"
                        .into(),
                );
                None
            }
        },
        None => {
            missing(&mut errors, "event_action");
            None
        }
    };

    let dedup_key = match string_field(&root, "dedup_key", "dedup_key", &mut errors) {
        Some(key) if key.chars().count() > MAX_DEDUP_KEY_CHARS => {
            errors.push(format!(
                "Length of 'dedup_key' is incorrect (should be at most {MAX_DEDUP_KEY_CHARS} characters)"
            ));
            None
        }
        // The key is stored as text, which PostgreSQL cannot hold a NUL in; refused here,
        // alone, rather than failing the batch of other senders' events it would be written
        // with.
        Some(key) if key.contains('\0') => {
            errors.push("'dedup_key' must not contain a NUL character".into());
            None
        }
        other => other,
    };
    if matches!(action, Some(Action::Acknowledge | Action::Resolve)) && dedup_key.is_none() {
        errors.push("'dedup_key' is missing or blank".into());
    }

    // A trigger needs a valid payload; acknowledge/resolve may carry one (Alertmanager sends it
    // on resolve), which is kept for its summary but never refused.
    let strict = matches!(action, Some(Action::Trigger));
    let mut payload_errors = Vec::new();
    let payload = match root.get("payload") {
        None | Some(Value::Null) => {
            if strict {
                payload_errors.push("'payload' is missing".to_string());
            }
            None
        }
        Some(Value::Object(p)) => Some(read_payload(p, &mut payload_errors)),
        Some(_) => {
            payload_errors.push("'payload' must be an object".to_string());
            None
        }
    };
    if strict {
        errors.extend(payload_errors);
    }

    let images = read_images(&root, &mut errors);
    let links = read_links(&root, &mut errors);
    let client = string_field(&root, "client", "client", &mut errors);
    let client_url = string_field(&root, "client_url", "client_url", &mut errors);

    let (Some(routing_key), Some(action), true) = (routing_key, action, errors.is_empty()) else {
        return Err(InvalidEvent { errors });
    };
    let payload = payload.unwrap_or_default();
    let mut event = AlertEvent::new(SourceKind::Pagerduty, action, payload.summary);
    event.routing_key = Some(routing_key);
    event.dedup_key = dedup_key;
    event.severity = payload.severity;
    event.source = payload.source;
    event.component = payload.component;
    event.group = payload.group;
    event.class = payload.class;
    event.custom_details = payload.custom_details;
    event.timestamp = payload.timestamp;
    event.links = links;
    event.images = images;
    if action == Action::Trigger {
        event.client = client;
        event.client_url = client_url;
    }
    Ok(event)
}

/// Validates a `/v2/change/enqueue` body.
pub fn parse_change_event(body: &[u8]) -> Result<ChangeEvent, InvalidEvent> {
    let root = read_object(body)?;
    let mut errors = Vec::new();
    let routing_key = routing_key(&root, &mut errors);
    let mut summary = None;
    let mut source = None;
    let mut timestamp = None;
    let mut custom_details = Value::Null;
    match root.get("payload") {
        Some(Value::Object(p)) => {
            summary = string_field(p, "summary", "payload.summary", &mut errors);
            if summary.is_none() {
                missing(&mut errors, "payload.summary");
            }
            source = string_field(p, "source", "payload.source", &mut errors);
            timestamp = string_field(p, "timestamp", "payload.timestamp", &mut errors)
                .and_then(|t| super::parse_timestamp(&t));
            custom_details = p.get("custom_details").cloned().unwrap_or(Value::Null);
        }
        None | Some(Value::Null) => errors.push("'payload' is missing".into()),
        Some(_) => errors.push("'payload' must be an object".into()),
    }
    let links = read_links(&root, &mut errors);
    let (Some(routing_key), Some(summary), true) = (routing_key, summary, errors.is_empty()) else {
        return Err(InvalidEvent { errors });
    };
    Ok(ChangeEvent {
        routing_key,
        summary: super::truncate_summary(&summary),
        source,
        timestamp,
        custom_details,
        links,
    })
}

/// The payload's fields, as far as they were valid.
#[derive(Default)]
struct Payload {
    summary: String,
    source: Option<String>,
    severity: Option<AlertSeverity>,
    timestamp: Option<Timestamp>,
    component: Option<String>,
    group: Option<String>,
    class: Option<String>,
    custom_details: Value,
}

fn read_payload(p: &Map<String, Value>, errors: &mut Vec<String>) -> Payload {
    let mut out = Payload::default();
    match string_field(p, "summary", "payload.summary", errors) {
        Some(s) => out.summary = s,
        None => missing(errors, "payload.summary"),
    }
    match string_field(p, "source", "payload.source", errors) {
        Some(s) => out.source = Some(s),
        None => missing(errors, "payload.source"),
    }
    match string_field(p, "severity", "payload.severity", errors) {
        Some(s) => match AlertSeverity::parse(&s) {
            Some(level) => out.severity = Some(level),
            None => errors.push(
                "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
                    .into(),
            ),
        },
        None => missing(errors, "payload.severity"),
    }
    out.timestamp = string_field(p, "timestamp", "payload.timestamp", errors)
        .and_then(|t| super::parse_timestamp(&t));
    out.component = string_field(p, "component", "payload.component", errors);
    out.group = string_field(p, "group", "payload.group", errors);
    out.class = string_field(p, "class", "payload.class", errors);
    out.custom_details = p.get("custom_details").cloned().unwrap_or(Value::Null);
    out
}

/// Adds "missing or blank" unless a type error for the same field is already listed.
fn missing(errors: &mut Vec<String>, path: &str) {
    let quoted = format!("'{path}'");
    if !errors.iter().any(|e| e.contains(&quoted)) {
        errors.push(format!("{quoted} is missing or blank"));
    }
}

fn read_object(body: &[u8]) -> Result<Map<String, Value>, InvalidEvent> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(InvalidEvent::one(format!(
            "Event object is too large (maximum {MAX_EVENT_BYTES} bytes)"
        )));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(InvalidEvent::one("Event object must be a JSON object")),
        Err(e) => Err(InvalidEvent::one(format!(
            "Event object is not valid JSON ({e})"
        ))),
    }
}

fn routing_key(root: &Map<String, Value>, errors: &mut Vec<String>) -> Option<String> {
    let key = string_field(root, "routing_key", "routing_key", errors);
    match key {
        None => {
            missing(errors, "routing_key");
            None
        }
        Some(k) if k.chars().count() > MAX_ROUTING_KEY_CHARS => {
            errors.push(format!(
                "Length of 'routing_key' is incorrect (should be at most {MAX_ROUTING_KEY_CHARS} characters)"
            ));
            None
        }
        Some(k) => Some(k),
    }
}

/// A non-blank string, or `None` (with an error if it was there but not a string).
fn string_field(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(format!("'{path}' must be a string"));
            None
        }
    }
}

fn read_images(root: &Map<String, Value>, errors: &mut Vec<String>) -> Vec<Image> {
    let Some(list) = array_field(root, "images", errors) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Value::Object(obj) = item else {
            errors.push(format!("'images[{i}]' must be an object"));
            continue;
        };
        let path = |f: &str| format!("images[{i}].{f}");
        let src = string_field(obj, "src", &path("src"), errors);
        let href = string_field(obj, "href", &path("href"), errors);
        let alt = string_field(obj, "alt", &path("alt"), errors);
        if let Some(src) = src.filter(|s| s.starts_with("https://")) {
            out.push(Image { src, href, alt });
        }
    }
    out
}

fn read_links(root: &Map<String, Value>, errors: &mut Vec<String>) -> Vec<Link> {
    let Some(list) = array_field(root, "links", errors) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Value::Object(obj) = item else {
            errors.push(format!("'links[{i}]' must be an object"));
            continue;
        };
        let href = string_field(obj, "href", &format!("links[{i}].href"), errors);
        let text = string_field(obj, "text", &format!("links[{i}].text"), errors);
        if let Some(href) = href {
            out.push(Link { href, text });
        }
    }
    out
}

fn array_field<'a>(
    root: &'a Map<String, Value>,
    name: &str,
    errors: &mut Vec<String>,
) -> Option<&'a Vec<Value>> {
    match root.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items),
        Some(_) => {
            errors.push(format!("'{name}' must be an array"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).expect("test body")
    }

    fn trigger() -> Value {
        json!({
            "routing_key": "wr_int_7f3c2a9e4b1d",
            "event_action": "trigger",
            "dedup_key": "checkout-latency/eu-west-1",
            "payload": {
                "summary": "Checkout p99 latency above 2s in eu-west-1",
                "source": "checkout-api-7.eu-west-1.internal",
                "severity": "critical",
                "timestamp": "2026-11-25T14:02:11.480+0000",
                "component": "checkout-api",
                "group": "payments",
                "class": "latency",
                "custom_details": {"p99_ms": 2310, "region": "eu-west-1"}
            },
            "images": [
                {"src": "https://grafana.example.net/render/d/checkout.png", "href": "https://grafana.example.net/d/checkout", "alt": "p99 graph"},
                {"src": "http://insecure.example.net/x.png"}
            ],
            "links": [{"href": "https://runbooks.example.net/checkout-latency", "text": "Runbook"}],
            "client": "Nagios",
            "client_url": "https://nagios.example.net/checkout"
        })
    }

    #[test]
    fn full_trigger() {
        let e = parse_event(&bytes(&trigger())).expect("valid trigger");
        assert_eq!(e.kind, SourceKind::Pagerduty);
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.routing_key.as_deref(), Some("wr_int_7f3c2a9e4b1d"));
        assert_eq!(e.dedup_key.as_deref(), Some("checkout-latency/eu-west-1"));
        assert_eq!(e.summary, "Checkout p99 latency above 2s in eu-west-1");
        assert_eq!(e.severity, Some(AlertSeverity::Critical));
        assert_eq!(
            e.source.as_deref(),
            Some("checkout-api-7.eu-west-1.internal")
        );
        assert_eq!(e.component.as_deref(), Some("checkout-api"));
        assert_eq!(e.group.as_deref(), Some("payments"));
        assert_eq!(e.class.as_deref(), Some("latency"));
        assert_eq!(e.custom_details["p99_ms"], 2310);
        assert_eq!(
            e.timestamp,
            Some("2026-11-25T14:02:11.48Z".parse().expect("time"))
        );
        assert_eq!(e.images.len(), 1, "the http:// image is dropped");
        assert_eq!(e.images[0].alt.as_deref(), Some("p99 graph"));
        assert_eq!(e.links[0].text.as_deref(), Some("Runbook"));
        assert_eq!(e.client.as_deref(), Some("Nagios"));
    }

    #[test]
    fn trigger_without_dedup_key_is_accepted() {
        let mut body = trigger();
        body.as_object_mut().map(|o| o.remove("dedup_key"));
        let e = parse_event(&bytes(&body)).expect("valid");
        assert_eq!(e.dedup_key, None);
    }

    #[test]
    fn bare_resolve_and_acknowledge() {
        for action in ["acknowledge", "resolve"] {
            let body = json!({"routing_key": "wr_int_7f3c2a9e4b1d", "event_action": action, "dedup_key": "k-1"});
            let e = parse_event(&bytes(&body)).expect("valid");
            assert_eq!(e.action.as_str(), action);
            assert_eq!(e.summary, "");
            assert_eq!(e.severity, None);
        }
    }

    #[test]
    fn resolve_with_bad_payload_is_still_accepted() {
        let body = json!({"routing_key": "rk", "event_action": "resolve", "dedup_key": "k-1",
                          "payload": {"summary": "all good", "severity": "fine"}});
        let e = parse_event(&bytes(&body)).expect("valid");
        assert_eq!(e.summary, "all good");
        assert_eq!(e.severity, None);
    }

    #[test]
    fn resolve_needs_dedup_key() {
        let body = json!({"routing_key": "rk", "event_action": "resolve"});
        let err = parse_event(&bytes(&body)).expect_err("invalid");
        assert_eq!(err.errors, vec!["'dedup_key' is missing or blank"]);
    }

    #[test]
    fn a_dedup_key_with_a_nul_is_refused_by_name() {
        let body = json!({"routing_key": "rk", "event_action": "trigger", "dedup_key": "a\u{0}b",
            "payload": {"summary": "s", "source": "h", "severity": "info"}});
        let err = parse_event(&bytes(&body)).expect_err("invalid");
        assert_eq!(
            err.errors,
            vec!["'dedup_key' must not contain a NUL character"]
        );
    }

    #[test]
    fn lists_every_problem() {
        let body = json!({
            "event_action": "trigger",
            "dedup_key": "x".repeat(256),
            "payload": {"summary": "", "severity": "sev1", "source": 42}
        });
        let err = parse_event(&bytes(&body)).expect_err("invalid");
        assert_eq!(
            err.errors,
            vec![
                "'routing_key' is missing or blank",
                "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
                "'payload.summary' is missing or blank",
                "'payload.source' must be a string",
                "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
            ]
        );
        let response = serde_json::to_value(err.response()).expect("json");
        assert_eq!(
            response,
            json!({"status": "invalid event", "message": "Event object is invalid", "errors": err.errors})
        );
    }

    #[test]
    fn bad_action_and_missing_payload() {
        let body = json!({"routing_key": "rk", "event_action": "escalate"});
        let err = parse_event(&bytes(&body)).expect_err("invalid");
        assert_eq!(
            err.errors,
            vec!["'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"]
        );
        let body = json!({"routing_key": "rk", "event_action": "trigger"});
        let err = parse_event(&bytes(&body)).expect_err("invalid");
        assert_eq!(err.errors, vec!["'payload' is missing"]);
    }

    #[test]
    fn routing_key_length_is_ours() {
        let mut body = trigger();
        body["routing_key"] = json!("k".repeat(256));
        let err = parse_event(&bytes(&body)).expect_err("too long");
        assert!(err.errors[0].starts_with("Length of 'routing_key' is incorrect"));
        body["routing_key"] = json!("R0123456789abcdef0123456789abcde");
        assert!(parse_event(&bytes(&body)).is_ok(), "a PagerDuty-shaped key");
    }

    #[test]
    fn long_summary_is_cut_not_refused() {
        let mut body = trigger();
        body["payload"]["summary"] = json!("a".repeat(5000));
        let e = parse_event(&bytes(&body)).expect("accepted");
        assert_eq!(e.summary.chars().count(), 1024);
        assert!(e.summary.ends_with('…'));
    }

    #[test]
    fn unreadable_timestamp_is_ignored() {
        let mut body = trigger();
        body["payload"]["timestamp"] = json!("last tuesday");
        let e = parse_event(&bytes(&body)).expect("accepted");
        assert_eq!(e.timestamp, None);
    }

    #[test]
    fn not_json_or_not_object_or_too_big() {
        assert!(parse_event(b"{nope").is_err());
        let err = parse_event(b"[1,2]").expect_err("array");
        assert_eq!(err.errors, vec!["Event object must be a JSON object"]);
        let mut body = trigger();
        body["payload"]["custom_details"] = json!({"blob": "z".repeat(MAX_EVENT_BYTES)});
        let err = parse_event(&bytes(&body)).expect_err("too big");
        assert!(err.errors[0].contains("too large"));
    }

    #[test]
    fn accepted_body_is_pagerdutys() {
        let body = serde_json::to_value(EnqueueResponse::accepted("k-9")).expect("json");
        assert_eq!(
            body,
            json!({"status": "success", "message": "Event processed", "dedup_key": "k-9"})
        );
        let round: EnqueueResponse =
            serde_json::from_value(json!({"status": "success"})).expect("only status is required");
        assert_eq!(round.status, "success");
    }

    /// What Alertmanager ≥ 0.30's `pagerduty_config` (with `routing_key` and `url` pointed at
    /// us) posts: 64-hex dedup key, no timestamp, JSON `firing` arrays in custom_details.
    #[test]
    fn alertmanager_pagerduty_receiver_trigger() {
        let body = json!({
            "routing_key": "wr_int_3d0c81f6a2e94b57",
            "dedup_key": "5f1f2f8d0b6c3c2e8a4f7b9d1e0c6a5b4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
            "event_action": "trigger",
            "payload": {
                "summary": "[FIRING:2] DiskAlmostFull (storage prod)",
                "source": "Alertmanager",
                "severity": "error",
                "custom_details": {
                    "firing": [
                        {"status": "firing", "labels": {"alertname": "DiskAlmostFull", "instance": "st-1:9100"},
                         "annotations": {"summary": "/var at 93%"}, "startsAt": "2026-11-25T09:00:00Z",
                         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom:9090/graph", "fingerprint": "a1b2c3d4e5f60718"},
                        {"status": "firing", "labels": {"alertname": "DiskAlmostFull", "instance": "st-2:9100"},
                         "annotations": {"summary": "/var at 95%"}, "startsAt": "2026-11-25T09:01:00Z",
                         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom:9090/graph", "fingerprint": "0718a1b2c3d4e5f6"}
                    ],
                    "num_firing": 2,
                    "num_resolved": 0,
                    "resolved": []
                }
            },
            "client": "Alertmanager",
            "client_url": "http://am.example.net:9093/#/alerts?receiver=warroom",
            "links": [{"href": "http://prom:9090/alerts", "text": "Prometheus"}]
        });
        let e = parse_event(&bytes(&body)).expect("AM's body must parse");
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.dedup_key.as_deref().map(str::len), Some(64));
        assert_eq!(e.timestamp, None);
        assert_eq!(e.severity, Some(AlertSeverity::Error));
        assert_eq!(e.custom_details["num_firing"], 2);
        assert_eq!(e.client.as_deref(), Some("Alertmanager"));
    }

    /// Alertmanager ≤ 0.29 renders custom_details as text, and on resolve still sends a payload.
    #[test]
    fn alertmanager_pagerduty_receiver_old_resolve() {
        let body = json!({
            "routing_key": "wr_int_3d0c81f6a2e94b57",
            "dedup_key": "5f1f2f8d0b6c3c2e8a4f7b9d1e0c6a5b4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
            "event_action": "resolve",
            "payload": {
                "summary": "[RESOLVED] DiskAlmostFull (storage prod)",
                "source": "Alertmanager",
                "severity": "error",
                "custom_details": {"firing": "", "num_firing": "0", "num_resolved": "2",
                                   "resolved": "Labels:\n - alertname = DiskAlmostFull\n"}
            },
            "client": "Alertmanager",
            "client_url": "http://am.example.net:9093/#/alerts?receiver=warroom"
        });
        let e = parse_event(&bytes(&body)).expect("AM's body must parse");
        assert_eq!(e.action, Action::Resolve);
        assert_eq!(e.summary, "[RESOLVED] DiskAlmostFull (storage prod)");
        assert_eq!(e.client, None, "client is only kept on triggers");
    }

    #[test]
    fn change_event() {
        let body = json!({
            "routing_key": "wr_int_3d0c81f6a2e94b57",
            "payload": {
                "summary": "Deployed checkout-api v4.12.0 to eu-west-1",
                "source": "argo-cd",
                "timestamp": "2026-11-25T13:55:00Z",
                "custom_details": {"commit": "9e1c2f0", "actor": "deploy-bot"}
            },
            "links": [{"href": "https://ci.example.net/pipelines/88121", "text": "Pipeline"}]
        });
        let c = parse_change_event(&bytes(&body)).expect("valid change");
        assert_eq!(c.summary, "Deployed checkout-api v4.12.0 to eu-west-1");
        assert_eq!(c.source.as_deref(), Some("argo-cd"));
        assert_eq!(c.custom_details["commit"], "9e1c2f0");
        assert_eq!(c.links.len(), 1);
        assert!(c.timestamp.is_some());

        let err = parse_change_event(&bytes(&json!({"payload": {}}))).expect_err("invalid");
        assert_eq!(
            err.errors,
            vec![
                "'routing_key' is missing or blank",
                "'payload.summary' is missing or blank"
            ]
        );
    }

    #[test]
    fn custom_details_survive_the_queue_round_trip_exactly() {
        // Found by fuzzing: without serde_json's exact float parsing, 8.888888888888889e60
        // read back as 8.888888888888888e60 after one write and read.
        let mut body = trigger();
        body["payload"]["custom_details"] =
            json!({ "p99_ms": 8.888888888888889e60, "ratio": 0.93 });
        let event = parse_event(&bytes(&body)).expect("valid");
        let text = serde_json::to_string(&event).expect("json");
        let back: AlertEvent = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, event, "{text}");
        let raw = br#"{"routing_key":"rk","payload":{"summary":"s","custom_details":{"n":8888888888888888888888888888888888888888888888888888888882310}}}"#;
        let change = parse_change_event(raw).expect("valid");
        let again: ChangeEvent =
            serde_json::from_str(&serde_json::to_string(&change).expect("json")).expect("reads");
        assert_eq!(again, change);
    }
}
