//! Grafana unified-alerting webhook receiver, and the check of its optional HMAC signature.
//!
//! The body is Alertmanager's (see [`super::alertmanager`], whose mapping applies) with
//! `version: "1"` and extras: `orgId`, `title`, `state`, `message`, `appVersion`, and per alert
//! `silenceURL`, `dashboardURL`, `panelURL`, `values`, `imageURL` and newer optional fields.
//! The extras go to `custom_details` and links; an alert with no `summary`/`description`
//! annotation takes the notification's `title` as summary. Labels of the internal form `__x__`
//! are removed, as Grafana itself does before sending.
//!
//! Signing (Grafana's optional `hmacConfig`): the header carries the lowercase hex
//! HMAC-SHA256 of the body under a shared secret, with no `sha256=` prefix. With a timestamp
//! header configured, the signed message is `"<unix seconds>:" + body` and the seconds travel
//! in that header. The header names are configuration because Grafana's code default
//! (`X-Grafana-Alert-Signature`) and its UI placeholder (`X-Grafana-Alerting-Signature`)
//! differ; the caller reads the configured headers and passes their values here.

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2_11::Sha256;

use super::alertmanager::{WebhookAlert, WebhookError, alert_event, nullable, put_nonempty};
use super::{AlertEvent, Image, Link, SourceKind};
use crate::duration::Duration;

/// The signature header Grafana's code uses when none is configured.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Grafana-Alert-Signature";

/// How old a signed timestamp may be before the request counts as a replay.
pub const DEFAULT_MAX_AGE_SECS: i64 = 300;

/// One notification from Grafana.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaWebhook {
    /// `"1"`.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// The group key, as in Alertmanager.
    #[serde(default, deserialize_with = "nullable")]
    pub group_key: String,
    /// Alerts left out because of `maxAlerts`.
    #[serde(default, deserialize_with = "nullable")]
    pub truncated_alerts: u64,
    /// `firing` or `resolved`.
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
    /// Contact point name.
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
    /// Grafana's URL.
    #[serde(default, rename = "externalURL", deserialize_with = "nullable")]
    pub external_url: String,
    /// Organisation id.
    #[serde(default, deserialize_with = "nullable")]
    pub org_id: i64,
    /// Templated title, e.g. `[FIRING:1] DiskFull (prod)`.
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    /// `alerting` when firing, else `ok`.
    #[serde(default, deserialize_with = "nullable")]
    pub state: String,
    /// Templated message body.
    #[serde(default, deserialize_with = "nullable")]
    pub message: String,
    /// Grafana's version (newer releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The alerts.
    #[serde(default, deserialize_with = "nullable")]
    pub alerts: Vec<GrafanaAlert>,
}

/// One alert, with Grafana's extras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaAlert {
    /// The fields shared with Alertmanager.
    #[serde(flatten)]
    pub base: WebhookAlert,
    /// Link to silence this alert.
    #[serde(default, rename = "silenceURL", deserialize_with = "nullable")]
    pub silence_url: String,
    /// Dashboard of the rule, `""` if none.
    #[serde(default, rename = "dashboardURL", deserialize_with = "nullable")]
    pub dashboard_url: String,
    /// Panel of the rule, `""` if none.
    #[serde(default, rename = "panelURL", deserialize_with = "nullable")]
    pub panel_url: String,
    /// Query results by ref id, e.g. `{"B": 44.2, "C": 1}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    /// Deprecated text rendering of the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    /// Screenshot of the panel, when image rendering is set up.
    #[serde(default, rename = "imageURL", skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Rule uid (newer releases).
    #[serde(default, rename = "ruleUID", skip_serializing_if = "Option::is_none")]
    pub rule_uid: Option<String>,
}

impl GrafanaWebhook {
    /// Reads a webhook body.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body).map_err(|e| WebhookError {
            format: "Grafana",
            message: e.to_string(),
        })
    }

    /// One event per alert, in the body's order.
    pub fn events(&self) -> Vec<AlertEvent> {
        self.alerts.iter().map(|a| self.event(a)).collect()
    }

    fn event(&self, alert: &GrafanaAlert) -> AlertEvent {
        let mut base = alert.base.clone();
        base.labels.retain(|k, _| !is_internal(k));
        base.annotations.retain(|k, _| !is_internal(k));
        let mut event = alert_event(
            SourceKind::Grafana,
            &base,
            &self.group_key,
            Some(&self.title),
        );
        if let Value::Object(details) = &mut event.custom_details {
            put_nonempty(details, "receiver", &self.receiver);
            put_nonempty(details, "external_url", &self.external_url);
            put_nonempty(details, "title", &self.title);
            put_nonempty(details, "message", &self.message);
            if self.org_id != 0 {
                details.insert("org_id".into(), self.org_id.into());
            }
            if let Some(values) = &alert.values {
                details.insert("values".into(), values.clone());
            }
            if let Some(uid) = &alert.rule_uid {
                put_nonempty(details, "rule_uid", uid);
            }
        }
        for (url, text) in [
            (&alert.dashboard_url, "Dashboard"),
            (&alert.panel_url, "Panel"),
            (&alert.silence_url, "Silence"),
        ] {
            if !url.is_empty() {
                event.links.push(Link {
                    href: url.clone(),
                    text: Some(text.into()),
                });
            }
        }
        if let Some(src) = alert.image_url.as_ref().filter(|s| !s.is_empty()) {
            event.images.push(Image {
                src: src.clone(),
                href: None,
                alt: None,
            });
        }
        event
    }
}

/// Reads a webhook body straight into events.
pub fn parse_events(body: &[u8]) -> Result<Vec<AlertEvent>, WebhookError> {
    GrafanaWebhook::parse(body).map(|w| w.events())
}

/// `__alert_rule_uid__`, `__values__` and the like: Grafana's internal labels.
fn is_internal(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// How a Grafana integration's signature is checked, as it appears in config.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// The shared secret set in Grafana's contact point.
    pub secret: String,
    /// Header carrying the signature.
    #[serde(default = "default_header")]
    pub header: String,
    /// Header carrying the signed Unix time, when Grafana is set to send one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// Oldest accepted signed time (default 5m), against replays; only with `timestamp_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Duration>,
}

fn default_header() -> String {
    DEFAULT_SIGNATURE_HEADER.to_string()
}

impl std::fmt::Debug for SignatureConfig {
    /// Leaves the secret out, so configs can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureConfig")
            .field("secret", &"<redacted>")
            .field("header", &self.header)
            .field("timestamp_header", &self.timestamp_header)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature header was not sent.
    #[error("missing signature header {0}")]
    Missing(String),
    /// The timestamp header was configured but not sent.
    #[error("missing timestamp header {0}")]
    MissingTimestamp(String),
    /// The signature is not hex.
    #[error("signature is not a hex HMAC-SHA256")]
    Malformed,
    /// The timestamp is not whole Unix seconds.
    #[error("timestamp is not Unix seconds")]
    BadTimestamp,
    /// The timestamp is too far from now.
    #[error("signed timestamp is {0}s away from now, more than allowed")]
    Stale(i64),
    /// The signature does not match the body.
    #[error("signature does not match")]
    Mismatch,
}

impl SignatureConfig {
    /// A config with the default header and no timestamp.
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            header: default_header(),
            timestamp_header: None,
            max_age: None,
        }
    }

    /// Checks a request: `signature` and `timestamp` are the values of the headers named
    /// [`SignatureConfig::header`] and [`SignatureConfig::timestamp_header`], `body` the raw
    /// bytes as received, `now` the receive time.
    pub fn verify(
        &self,
        body: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
        now: Timestamp,
    ) -> Result<(), SignatureError> {
        let signature = signature.ok_or_else(|| SignatureError::Missing(self.header.clone()))?;
        let signed_time = match &self.timestamp_header {
            None => None,
            Some(name) => {
                let text =
                    timestamp.ok_or_else(|| SignatureError::MissingTimestamp(name.clone()))?;
                let secs: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| SignatureError::BadTimestamp)?;
                let max_age = self.max_age.map_or(DEFAULT_MAX_AGE_SECS, |d| d.as_secs());
                let skew = now.as_second().saturating_sub(secs);
                if skew.saturating_abs() > max_age {
                    return Err(SignatureError::Stale(skew));
                }
                Some(text)
            }
        };
        verify_hmac(self.secret.as_bytes(), signed_time, body, signature)
    }
}

/// Checks a Grafana signature: `signature` is hex HMAC-SHA256(`secret`, body), or of
/// `"<timestamp>:" + body` when `timestamp` is given (the header's text, exactly as sent).
/// The comparison is constant-time. A `sha256=` prefix is tolerated, though Grafana sends none.
pub fn verify_hmac(
    secret: &[u8],
    timestamp: Option<&str>,
    body: &[u8],
    signature: &str,
) -> Result<(), SignatureError> {
    let hex_text = signature.trim();
    let hex_text = hex_text.strip_prefix("sha256=").unwrap_or(hex_text);
    let expected = hex::decode(hex_text).map_err(|_| SignatureError::Malformed)?;
    let mac = mac(secret, timestamp, body);
    // `verify_slice` compares in constant time; a wrong length is simply a mismatch.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The hex signature Grafana would send; for tests and for documenting a setup.
pub fn sign(secret: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

fn mac(secret: &[u8], timestamp: Option<&str>, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    if let Some(ts) = timestamp {
        mac.update(ts.as_bytes());
        mac.update(b":");
    }
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Action, AlertSeverity};

    const BODY: &str = r#"{
      "receiver": "warroom-webhook",
      "status": "firing",
      "orgId": 1,
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "ApiErrorRate", "grafana_folder": "Payments", "service": "billing-api", "severity": "warning", "__alert_rule_uid__": "c9d7e2"},
        "annotations": {"__dashboardUid__": "pay-01", "runbook_url": "https://runbooks.example.org/billing-errors"},
        "startsAt": "2026-11-25T11:51:03.157076+01:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example.org/alerting/grafana/c9d7e2/view?orgId=1",
        "fingerprint": "9d0e6c43b71a25f8",
        "silenceURL": "https://grafana.example.org/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DApiErrorRate",
        "dashboardURL": "https://grafana.example.org/d/pay-01?orgId=1",
        "panelURL": "https://grafana.example.org/d/pay-01?orgId=1&viewPanel=4",
        "values": {"B": 7.25, "C": 1},
        "valueString": "[ var='B' labels={service=billing-api} value=7.25 ]",
        "imageURL": "https://grafana.example.org/public/img/attachments/x1.png",
        "ruleUID": "c9d7e2"
      }],
      "groupLabels": {"alertname": "ApiErrorRate", "grafana_folder": "Payments"},
      "commonLabels": {"alertname": "ApiErrorRate", "grafana_folder": "Payments", "service": "billing-api", "severity": "warning"},
      "commonAnnotations": {},
      "externalURL": "https://grafana.example.org/",
      "version": "1",
      "groupKey": "{}/{__grafana_receiver__=\"warroom-webhook\"}:{alertname=\"ApiErrorRate\", grafana_folder=\"Payments\"}",
      "truncatedAlerts": 0,
      "title": "[FIRING:1] ApiErrorRate Payments (billing-api warning)",
      "state": "alerting",
      "message": "**Firing**\n\nValue: B=7.25, C=1\nLabels:\n - alertname = ApiErrorRate\n"
    }"#;

    #[test]
    fn parses_grafana_body() {
        let hook = GrafanaWebhook::parse(BODY.as_bytes()).expect("valid");
        assert_eq!((hook.version.as_str(), hook.org_id), ("1", 1));
        assert_eq!(hook.state, "alerting");
        let events = hook.events();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.kind, SourceKind::Grafana);
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.dedup_key.as_deref(), Some("9d0e6c43b71a25f8"));
        assert_eq!(
            e.summary, "[FIRING:1] ApiErrorRate Payments (billing-api warning)",
            "no summary annotation: the title"
        );
        assert_eq!(e.severity, Some(AlertSeverity::Warning));
        assert!(!e.labels.contains_key("__alert_rule_uid__"));
        assert_eq!(
            e.labels.get("grafana_folder").map(String::as_str),
            Some("Payments")
        );
        assert!(
            e.custom_details["annotations"]
                .get("__dashboardUid__")
                .is_none()
        );
        assert_eq!(e.custom_details["values"]["B"], 7.25);
        assert_eq!(e.custom_details["org_id"], 1);
        let texts: Vec<_> = e.links.iter().filter_map(|l| l.text.as_deref()).collect();
        assert_eq!(texts, ["Source", "Dashboard", "Panel", "Silence"]);
        assert_eq!(e.images.len(), 1);
        assert_eq!(
            e.timestamp,
            Some("2026-11-25T10:51:03.157076Z".parse().expect("time"))
        );
    }

    #[test]
    fn resolved_with_summary_annotation() {
        let body = r#"{"version":"1","status":"resolved","state":"ok","orgId":3,"title":"[RESOLVED] X",
          "alerts":[{"status":"resolved","labels":{"alertname":"QueueBacklog"},
          "annotations":{"summary":"Backlog drained"},"startsAt":"2026-11-25T08:00:00Z",
          "endsAt":"2026-11-25T08:30:00Z","generatorURL":"","fingerprint":"1a2b3c4d5e6f7a8b",
          "silenceURL":"","dashboardURL":"","panelURL":"","values":null}]}"#;
        let events = parse_events(body.as_bytes()).expect("valid");
        assert_eq!(events[0].action, Action::Resolve);
        assert_eq!(events[0].summary, "Backlog drained");
        assert!(events[0].links.is_empty());
    }

    const SECRET: &[u8] = b"s3cr3t-shared-with-grafana";

    #[test]
    fn signature_without_timestamp() {
        let body = BODY.as_bytes();
        let sig = sign(SECRET, None, body);
        assert_eq!(sig.len(), 64);
        let now = Timestamp::from_second(1_795_000_000).expect("time");
        let config = SignatureConfig::new("s3cr3t-shared-with-grafana");
        assert_eq!(config.verify(body, Some(&sig), None, now), Ok(()));
        assert_eq!(
            config.verify(body, Some(&sig.to_uppercase()), None, now),
            Ok(())
        );
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            config.verify(&tampered, Some(&sig), None, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            config.verify(body, None, None, now),
            Err(SignatureError::Missing(DEFAULT_SIGNATURE_HEADER.into()))
        );
        assert_eq!(
            config.verify(body, Some("zz"), None, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            config.verify(body, Some(&sig[..32]), None, now),
            Err(SignatureError::Mismatch),
            "short signatures do not match"
        );
        let other = SignatureConfig::new("another secret");
        assert_eq!(
            other.verify(body, Some(&sig), None, now),
            Err(SignatureError::Mismatch)
        );
    }

    /// RFC 4231 test case 2, to pin the HMAC itself.
    #[test]
    fn hmac_known_answer() {
        assert_eq!(
            sign(b"Jefe", None, b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signature_with_timestamp() {
        let body = BODY.as_bytes();
        let config: SignatureConfig = yaml_serde::from_str(
            "secret: s3cr3t-shared-with-grafana\nheader: X-Grafana-Alerting-Signature\ntimestamp_header: X-Grafana-Alerting-Timestamp\nmax_age: 2m\n",
        )
        .expect("config");
        assert_eq!(config.header, "X-Grafana-Alerting-Signature");
        let now = Timestamp::from_second(1_795_000_000).expect("time");
        let ts = "1794999950";
        let sig = sign(SECRET, Some(ts), body);
        assert_ne!(sig, sign(SECRET, None, body), "the timestamp is signed");
        assert_eq!(config.verify(body, Some(&sig), Some(ts), now), Ok(()));
        assert_eq!(
            config.verify(body, Some(&sig), Some("1794999951"), now),
            Err(SignatureError::Mismatch),
            "a different timestamp breaks the signature"
        );
        assert_eq!(
            config.verify(body, Some(&sig), None, now),
            Err(SignatureError::MissingTimestamp(
                "X-Grafana-Alerting-Timestamp".into()
            ))
        );
        let later = Timestamp::from_second(1_795_000_200).expect("time");
        assert_eq!(
            config.verify(body, Some(&sig), Some(ts), later),
            Err(SignatureError::Stale(250))
        );
        assert_eq!(
            config.verify(body, Some(&sig), Some("soon"), now),
            Err(SignatureError::BadTimestamp)
        );
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }
}
