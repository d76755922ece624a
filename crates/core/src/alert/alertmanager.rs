//! Alertmanager webhook receiver (payload `version: "4"`): one [`AlertEvent`] per alert.
//!
//! Mapping:
//! - `firing` -> trigger, `resolved` -> resolve (Alertmanager never acknowledges);
//! - dedup key: the alert's `fingerprint`, or when absent (older Alertmanagers) the same
//!   fingerprint computed from the labels ([`super::label_fingerprint`]), so upgrading the
//!   sender does not duplicate alerts;
//! - summary: annotation `summary`, else `description`, else label `alertname`;
//! - severity: label `severity` through [`AlertSeverity::from_label`], `error` when absent or
//!   unknown;
//! - source: label `instance`, else `job`; class: `alertname`; component/group: labels of that
//!   name if present;
//! - timestamp: `startsAt` for firing alerts, `endsAt` for resolved ones (a firing alert's
//!   `endsAt` is Go's zero time and is dropped);
//! - the group key goes to [`AlertEvent::group_key`] for grouping; annotations, times and the
//!   sender's URLs go to `custom_details`; `generatorURL` becomes a link.
//!
//! Fields added by newer versions (`notification_reason`, `routeLabels`) are optional, unknown
//! fields are ignored, and Go's `null` for an empty map or string is read as empty. The routing
//! key is not in the body: the caller sets it from the integration that authenticated.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use super::{Action, AlertEvent, AlertSeverity, Link, SourceKind, label_fingerprint};

/// A webhook body that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} webhook body: {message}")]
pub struct WebhookError {
    /// Which format was expected (`Alertmanager`, `Grafana`).
    pub format: &'static str,
    /// What serde said, with line and column.
    pub message: String,
}

/// One notification from Alertmanager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Payload version, `"4"`. Not enforced: a body that parses is accepted.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// The aggregation group's key, e.g. `{}:{alertname="HighLatency"}`.
    #[serde(default, deserialize_with = "nullable")]
    pub group_key: String,
    /// Alerts left out because of the receiver's `max_alerts`.
    #[serde(default, deserialize_with = "nullable")]
    pub truncated_alerts: u64,
    /// `firing`, or `resolved` when every alert is.
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
    /// The receiver's name (regex-quoted by Alertmanager).
    #[serde(default, deserialize_with = "nullable")]
    pub receiver: String,
    /// Labels the group is formed on.
    #[serde(default, deserialize_with = "nullable")]
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share.
    #[serde(default, deserialize_with = "nullable")]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share.
    #[serde(default, deserialize_with = "nullable")]
    pub common_annotations: BTreeMap<String, String>,
    /// The Alertmanager's own URL.
    #[serde(default, rename = "externalURL", deserialize_with = "nullable")]
    pub external_url: String,
    /// Why this notification was sent (Alertmanager 0.33+).
    #[serde(
        default,
        rename = "notification_reason",
        skip_serializing_if = "Option::is_none"
    )]
    pub notification_reason: Option<String>,
    /// Labels of the matching route (Alertmanager 0.34+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_labels: Option<BTreeMap<String, String>>,
    /// The alerts.
    #[serde(default, deserialize_with = "nullable")]
    pub alerts: Vec<WebhookAlert>,
}

/// Whether one alert is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Active.
    Firing,
    /// Over.
    Resolved,
}

/// One alert inside a notification (the part Alertmanager and Grafana share).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAlert {
    /// Firing or resolved.
    pub status: AlertState,
    /// Identifying labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Descriptive annotations (`summary`, `description`, `runbook_url`...).
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 start time.
    #[serde(default, deserialize_with = "nullable")]
    pub starts_at: String,
    /// RFC 3339 end time; Go's zero time while firing.
    #[serde(default, deserialize_with = "nullable")]
    pub ends_at: String,
    /// Link to the rule's expression in Prometheus (or Grafana).
    #[serde(default, rename = "generatorURL", deserialize_with = "nullable")]
    pub generator_url: String,
    /// 16 hex digits identifying the label set; absent from old versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Webhook {
    /// Reads a webhook body.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body).map_err(|e| WebhookError {
            format: "Alertmanager",
            message: e.to_string(),
        })
    }

    /// One event per alert, in the body's order.
    pub fn events(&self) -> Vec<AlertEvent> {
        self.alerts
            .iter()
            .map(|a| {
                let mut event = alert_event(SourceKind::Alertmanager, a, &self.group_key, None);
                if let Value::Object(details) = &mut event.custom_details {
                    put_nonempty(details, "receiver", &self.receiver);
                    put_nonempty(details, "external_url", &self.external_url);
                }
                event
            })
            .collect()
    }
}

/// Reads a webhook body straight into events.
pub fn parse_events(body: &[u8]) -> Result<Vec<AlertEvent>, WebhookError> {
    Webhook::parse(body).map(|w| w.events())
}

/// The event for one alert; `fallback_summary` is used before `alertname` (Grafana's title).
pub(crate) fn alert_event(
    kind: SourceKind,
    alert: &WebhookAlert,
    group_key: &str,
    fallback_summary: Option<&str>,
) -> AlertEvent {
    let label = |name: &str| alert.labels.get(name).filter(|v| !v.is_empty()).cloned();
    let annotation = |name: &str| {
        alert
            .annotations
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let summary = annotation("summary")
        .or_else(|| annotation("description"))
        .or(fallback_summary.filter(|s| !s.trim().is_empty()))
        .map(str::to_string)
        .or_else(|| label("alertname"))
        .unwrap_or_else(|| format!("{kind} alert"));
    let action = match alert.status {
        AlertState::Firing => Action::Trigger,
        AlertState::Resolved => Action::Resolve,
    };
    let mut event = AlertEvent::new(kind, action, summary);
    event.dedup_key = Some(
        alert
            .fingerprint
            .clone()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| label_fingerprint(&alert.labels)),
    );
    event.severity = Some(
        alert
            .labels
            .get("severity")
            .and_then(|s| AlertSeverity::from_label(s))
            .unwrap_or(AlertSeverity::Error),
    );
    event.source = label("instance").or_else(|| label("job"));
    event.class = label("alertname");
    event.component = label("component");
    event.group = label("group");
    event.group_key = Some(group_key.to_string()).filter(|k| !k.is_empty());
    event.labels = alert.labels.clone();
    let starts = real_time(&alert.starts_at);
    let ends = real_time(&alert.ends_at);
    event.timestamp = match alert.status {
        AlertState::Firing => starts,
        AlertState::Resolved => ends.or(starts),
    };
    let mut details = Map::new();
    details.insert("annotations".into(), json!(alert.annotations));
    put_nonempty(&mut details, "starts_at", &alert.starts_at);
    if ends.is_some() {
        put_nonempty(&mut details, "ends_at", &alert.ends_at);
    }
    event.custom_details = Value::Object(details);
    if !alert.generator_url.is_empty() {
        event.links.push(Link {
            href: alert.generator_url.clone(),
            text: Some("Source".into()),
        });
    }
    event
}

/// A timestamp, unless it is missing, unreadable, or Go's zero time (year 1).
fn real_time(text: &str) -> Option<jiff::Timestamp> {
    super::parse_timestamp(text).filter(|t| t.as_second() > 0)
}

pub(crate) fn put_nonempty(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.into(), Value::String(value.to_string()));
    }
}

/// Reads `null` as the type's default: Go encodes an empty map or slice as `null`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like Debian's Alertmanager 0.25: no notification_reason, no routeLabels.
    const AM_025: &str = r#"{
      "receiver": "warroom\\-db",
      "status": "firing",
      "alerts": [
        {
          "status": "firing",
          "labels": {"alertname": "PostgresReplicationLag", "cluster": "orders", "instance": "pg-orders-2:9187", "job": "postgres", "severity": "page"},
          "annotations": {"summary": "Replica pg-orders-2 is 94s behind", "runbook_url": "https://runbooks.example.org/pg-lag"},
          "startsAt": "2026-11-25T10:15:30.123+01:00",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=pg_replication_lag+%3E+60",
          "fingerprint": "3fa9c07e11d2b845"
        },
        {
          "status": "resolved",
          "labels": {"alertname": "PostgresReplicationLag", "cluster": "orders", "instance": "pg-orders-3:9187", "job": "postgres", "severity": "warning"},
          "annotations": {"description": "Replica lag back under threshold"},
          "startsAt": "2026-11-25T09:40:00Z",
          "endsAt": "2026-11-25T10:05:00Z",
          "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=pg_replication_lag+%3E+60",
          "fingerprint": "77c01e5a9b2d3f60"
        }
      ],
      "groupLabels": {"alertname": "PostgresReplicationLag"},
      "commonLabels": {"alertname": "PostgresReplicationLag", "cluster": "orders", "job": "postgres"},
      "commonAnnotations": {},
      "externalURL": "http://alertmanager.example.org:9093",
      "version": "4",
      "groupKey": "{}/{team=\"db\"}:{alertname=\"PostgresReplicationLag\"}",
      "truncatedAlerts": 0
    }"#;

    #[test]
    fn parses_debian_025_shape() {
        let hook = Webhook::parse(AM_025.as_bytes()).expect("valid");
        assert_eq!(hook.version, "4");
        assert_eq!(hook.notification_reason, None);
        let events = hook.events();
        assert_eq!(events.len(), 2);

        let firing = &events[0];
        assert_eq!(firing.kind, SourceKind::Alertmanager);
        assert_eq!(firing.action, Action::Trigger);
        assert_eq!(firing.dedup_key.as_deref(), Some("3fa9c07e11d2b845"));
        assert_eq!(firing.summary, "Replica pg-orders-2 is 94s behind");
        assert_eq!(firing.severity, Some(AlertSeverity::Critical), "page");
        assert_eq!(firing.source.as_deref(), Some("pg-orders-2:9187"));
        assert_eq!(firing.class.as_deref(), Some("PostgresReplicationLag"));
        assert_eq!(
            firing.group_key.as_deref(),
            Some("{}/{team=\"db\"}:{alertname=\"PostgresReplicationLag\"}")
        );
        assert_eq!(
            firing.timestamp,
            Some("2026-11-25T09:15:30.123Z".parse().expect("time"))
        );
        assert_eq!(firing.routing_key, None, "set by the caller");
        assert_eq!(
            firing.custom_details["annotations"]["runbook_url"],
            "https://runbooks.example.org/pg-lag"
        );
        assert_eq!(firing.custom_details.get("ends_at"), None, "zero time");
        assert_eq!(firing.custom_details["receiver"], "warroom\\-db");
        assert_eq!(firing.links[0].text.as_deref(), Some("Source"));

        let resolved = &events[1];
        assert_eq!(resolved.action, Action::Resolve);
        assert_eq!(resolved.summary, "Replica lag back under threshold");
        assert_eq!(resolved.severity, Some(AlertSeverity::Warning));
        assert_eq!(
            resolved.timestamp,
            Some("2026-11-25T10:05:00Z".parse().expect("time"))
        );
    }

    #[test]
    fn newer_fields_and_unknown_ones() {
        let body = r#"{
          "version": "4", "groupKey": "{}:{alertname=\"NodeDown\"}", "status": "resolved",
          "receiver": "warroom", "externalURL": "http://am:9093",
          "notification_reason": "all alerts resolved",
          "routeLabels": {"team": "infra"},
          "some_future_field": {"x": 1},
          "groupLabels": null, "commonLabels": null, "commonAnnotations": null,
          "alerts": [{"status": "resolved", "labels": {"alertname": "NodeDown", "instance": "edge-4"},
                      "annotations": null, "startsAt": "2026-11-25T08:00:00Z", "endsAt": "2026-11-25T08:12:00Z",
                      "generatorURL": "", "fingerprint": "0b0e5c8a7f2d1e39", "anotherNewThing": true}]
        }"#;
        let hook = Webhook::parse(body.as_bytes()).expect("valid");
        assert_eq!(
            hook.notification_reason.as_deref(),
            Some("all alerts resolved")
        );
        assert_eq!(
            hook.route_labels
                .as_ref()
                .and_then(|l| l.get("team"))
                .map(String::as_str),
            Some("infra")
        );
        let events = hook.events();
        assert_eq!(events[0].summary, "NodeDown", "falls back to alertname");
        assert_eq!(
            events[0].severity,
            Some(AlertSeverity::Error),
            "no severity label"
        );
        assert!(events[0].links.is_empty());
    }

    #[test]
    fn fingerprint_fallback_is_stable_and_label_based() {
        let body = |labels: &str| {
            format!(
                r#"{{"version":"4","groupKey":"g","status":"firing","alerts":[{{"status":"firing","labels":{labels},"annotations":{{}},"startsAt":"2026-11-25T08:00:00Z","endsAt":"0001-01-01T00:00:00Z"}}]}}"#
            )
        };
        let a = parse_events(body(r#"{"alertname":"HighCPU","host":"web-1"}"#).as_bytes())
            .expect("valid");
        let b = parse_events(body(r#"{"host":"web-1","alertname":"HighCPU"}"#).as_bytes())
            .expect("valid");
        let c = parse_events(body(r#"{"alertname":"HighCPU","host":"web-2"}"#).as_bytes())
            .expect("valid");
        assert_eq!(
            a[0].dedup_key, b[0].dedup_key,
            "label order does not matter"
        );
        assert_ne!(a[0].dedup_key, c[0].dedup_key);
        assert_eq!(a[0].dedup_key.as_deref().map(str::len), Some(16));
    }

    #[test]
    fn bad_bodies() {
        let err = parse_events(b"{\"alerts\":[{\"status\":\"pending\"}]}").expect_err("bad");
        assert!(err.message.contains("pending"), "{err}");
        assert!(parse_events(b"not json").is_err());
        assert_eq!(parse_events(b"{}").map(|e| e.len()), Ok(0));
    }
}
