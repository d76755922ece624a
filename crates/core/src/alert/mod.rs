//! Alerts: the normalised event every receiver produces, and the alert's own lifecycle.
//!
//! Each receiver (PagerDuty Events API v2, Alertmanager and Grafana webhooks, generic JSON) turns
//! its wire format into [`AlertEvent`]s, so deduplication, routing and grouping are written once.
//! An [`Alert`] is what a run of events with one dedup key folds into: it is triggered,
//! acknowledged or resolved, independently of any incident it opened or joined. [`apply`] is the
//! pure transition function; the store looks the open alert up by (routing key, dedup key) and
//! persists what it returns.
//!
//! Nothing here reads the clock or generates ids: receive time and new ids come from the caller.

pub mod alertmanager;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
pub mod policy;
pub mod routing;

pub use policy::AlertPolicy;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The longest summary kept, in characters. PagerDuty's limit; longer ones are cut (see
/// [`truncate_summary`]) so every source obeys the same bound in storage and UIs.
pub const MAX_SUMMARY_CHARS: usize = 1024;

/// The longest dedup key accepted, in characters (PagerDuty's limit).
pub const MAX_DEDUP_KEY_CHARS: usize = 255;

/// Which receiver an event came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// PagerDuty Events API v2 (`POST /v2/enqueue`), including Alertmanager's pagerduty receiver.
    Pagerduty,
    /// Alertmanager webhook, version 4.
    Alertmanager,
    /// Grafana unified-alerting webhook.
    Grafana,
    /// Warroom's own generic JSON event.
    Generic,
}

impl SourceKind {
    /// All kinds, in declaration order.
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Pagerduty,
        SourceKind::Alertmanager,
        SourceKind::Grafana,
        SourceKind::Generic,
    ];

    /// The name used in config files and the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Pagerduty => "pagerduty",
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::Grafana => "grafana",
            SourceKind::Generic => "generic",
        }
    }

    /// Reads a name written by [`SourceKind::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Something is wrong: open an alert, or count a repeat on the open one.
    Trigger,
    /// Someone is on it (only PagerDuty and generic senders send this).
    Acknowledge,
    /// The condition cleared.
    Resolve,
}

impl Action {
    /// The name used on the wire (PagerDuty's `event_action`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Trigger => "trigger",
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
        }
    }

    /// Reads a name written by [`Action::as_str`]; exact, like PagerDuty.
    pub fn parse(text: &str) -> Option<Self> {
        [Action::Trigger, Action::Acknowledge, Action::Resolve]
            .into_iter()
            .find(|a| a.as_str() == text)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert's severity, PagerDuty's four levels. Distinct from the incident severity scheme
/// (P0..P3 or whatever the config says): routing rules map one onto the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// Wake someone up.
    Critical,
    /// Broken, needs attention soon.
    Error,
    /// Degraded or about to break.
    Warning,
    /// For the record.
    Info,
}

impl AlertSeverity {
    /// All levels, most severe first.
    pub const ALL: [AlertSeverity; 4] = [
        AlertSeverity::Critical,
        AlertSeverity::Error,
        AlertSeverity::Warning,
        AlertSeverity::Info,
    ];

    /// The name used on the wire and in config.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertSeverity::Critical => "critical",
            AlertSeverity::Error => "error",
            AlertSeverity::Warning => "warning",
            AlertSeverity::Info => "info",
        }
    }

    /// Reads one of the four names exactly (PagerDuty is strict about case).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Maps the free-form `severity` label of Prometheus/Grafana rules onto the four levels.
    ///
    /// Teams write anything there, so this accepts the common vocabularies case-insensitively:
    /// - critical: `critical`, `crit`, `fatal`, `emergency`, `emerg`, `alert`, `page`,
    ///   `disaster`, `p0`, `p1`, `sev0`, `sev1`
    /// - error: `error`, `err`, `major`, `high`, `p2`, `sev2`
    /// - warning: `warning`, `warn`, `minor`, `medium`, `average`, `p3`, `sev3`
    /// - info: `info`, `informational`, `notice`, `low`, `none`, `ok`, `debug`, `p4`, `p5`,
    ///   `sev4`, `sev5`
    ///
    /// Anything else, or no label, is `None`; receivers then use `error`, which is what
    /// Alertmanager's own PagerDuty integration sends when the severity is empty.
    pub fn from_label(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase();
        let level = match t.as_str() {
            "critical" | "crit" | "fatal" | "emergency" | "emerg" | "alert" | "page"
            | "disaster" | "p0" | "p1" | "sev0" | "sev1" => AlertSeverity::Critical,
            "error" | "err" | "major" | "high" | "p2" | "sev2" => AlertSeverity::Error,
            "warning" | "warn" | "minor" | "medium" | "average" | "p3" | "sev3" => {
                AlertSeverity::Warning
            }
            "info" | "informational" | "notice" | "low" | "none" | "ok" | "debug" | "p4" | "p5"
            | "sev4" | "sev5" => AlertSeverity::Info,
            _ => return None,
        };
        Some(level)
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link attached to an event (PagerDuty `links[]`, Alertmanager `generatorURL`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// Text to show instead of the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// An image attached to an event (PagerDuty `images[]`, Grafana `imageURL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Image URL (HTTPS for PagerDuty senders).
    pub src: String,
    /// Where clicking the image leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// One incoming event, whatever its wire format.
///
/// Receivers fill in what their format carries and leave the rest empty; the caller then sets
/// what only it knows (the routing key of an authenticated Alertmanager or Grafana integration,
/// a generated dedup key for a trigger that had none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Which receiver parsed it.
    pub kind: SourceKind,
    /// The integration key it came through; in the body for PagerDuty, from the credentials for
    /// the webhook and generic receivers (set by the caller).
    pub routing_key: Option<String>,
    /// Trigger, acknowledge or resolve.
    pub action: Action,
    /// Identifies the alert across events. `None` only for a trigger that came without one; the
    /// caller generates a key (PagerDuty returns it in the 202 body).
    pub dedup_key: Option<String>,
    /// One line saying what is wrong, at most [`MAX_SUMMARY_CHARS`]. Empty for a PagerDuty
    /// acknowledge/resolve sent without a payload.
    pub summary: String,
    /// The sender's severity. Always set on triggers; `None` on an acknowledge/resolve that did
    /// not say, since those never change the alert's severity.
    pub severity: Option<AlertSeverity>,
    /// The emitting host or tool (PagerDuty `payload.source`, Alertmanager `instance` label).
    pub source: Option<String>,
    /// Part of the source that is broken (`payload.component`).
    pub component: Option<String>,
    /// Logical grouping of sources (`payload.group`).
    pub group: Option<String>,
    /// Class or type of the problem (`payload.class`, the `alertname` label).
    pub class: Option<String>,
    /// The service the sender names (generic events only); routing rules may override it.
    pub service: Option<String>,
    /// Alertmanager/Grafana group key: alerts notified together, for grouping into incidents.
    pub group_key: Option<String>,
    /// Key/value labels (Prometheus labels; empty for PagerDuty).
    pub labels: BTreeMap<String, String>,
    /// Everything else the sender attached, as JSON (`custom_details`, annotations...).
    pub custom_details: serde_json::Value,
    /// When the sender says the event happened; `None` if it did not say (then receive time is
    /// used). Informational: ordering and windows use receive time.
    pub timestamp: Option<Timestamp>,
    /// Links to dashboards, runbooks, the generating query.
    pub links: Vec<Link>,
    /// Images such as graph snapshots.
    pub images: Vec<Image>,
    /// Name of the sending tool (PagerDuty `client`).
    pub client: Option<String>,
    /// The sending tool's page for this event (PagerDuty `client_url`).
    pub client_url: Option<String>,
}

impl AlertEvent {
    /// An event with only the required parts set, for receivers to fill in.
    pub fn new(kind: SourceKind, action: Action, summary: impl Into<String>) -> Self {
        Self {
            kind,
            routing_key: None,
            action,
            dedup_key: None,
            summary: truncate_summary(&summary.into()),
            severity: None,
            source: None,
            component: None,
            group: None,
            class: None,
            service: None,
            group_key: None,
            labels: BTreeMap::new(),
            custom_details: serde_json::Value::Null,
            timestamp: None,
            links: Vec::new(),
            images: Vec::new(),
            client: None,
            client_url: None,
        }
    }
}

/// Cuts `text` to [`MAX_SUMMARY_CHARS`] characters, ending it with `…` when it was longer.
///
/// PagerDuty documents 1024 characters as the summary's maximum; Alertmanager cuts its summaries
/// to exactly that with a trailing `…`. Cutting rather than rejecting keeps every sender that
/// works against PagerDuty working here: a page is never lost over a long title.
pub fn truncate_summary(text: &str) -> String {
    if text.chars().count() <= MAX_SUMMARY_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Firing, nobody has acknowledged it.
    Triggered,
    /// Firing, someone is on it.
    Acknowledged,
    /// Over. A later trigger with the same key opens a new alert.
    Resolved,
}

impl AlertStatus {
    /// The name used in the API and CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertStatus::Triggered => "triggered",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// True until resolved: the alert still takes events for its dedup key.
    pub fn is_open(&self) -> bool {
        !matches!(self, AlertStatus::Resolved)
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert: the events with one dedup key on one routing key, folded together, from the first
/// trigger to the resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Store-assigned id.
    pub id: String,
    /// Receiver of the opening event.
    pub kind: SourceKind,
    /// The dedup key (given or generated).
    pub dedup_key: String,
    /// The integration it came through; dedup is scoped to it.
    pub routing_key: Option<String>,
    /// Triggered, acknowledged or resolved.
    pub status: AlertStatus,
    /// Latest trigger's summary.
    pub summary: String,
    /// Latest trigger's severity.
    pub severity: AlertSeverity,
    /// Service the routing chose, if any.
    pub service: Option<String>,
    /// Latest trigger's labels.
    pub labels: BTreeMap<String, String>,
    /// Receive time of the opening trigger.
    pub first_seen: Timestamp,
    /// Receive time of the latest event folded in.
    pub last_seen: Timestamp,
    /// Events folded in: the opening trigger, repeats, and the acknowledge and resolve that
    /// changed it. Ignored events (see [`Ignored`]) do not count.
    pub count: u64,
    /// The incident it opened or joined.
    pub incident_id: Option<String>,
    /// When it was first acknowledged.
    pub acknowledged_at: Option<Timestamp>,
    /// When it resolved.
    pub resolved_at: Option<Timestamp>,
}

impl Alert {
    /// A new alert from a trigger, when [`apply`] says [`Transition::Open`].
    ///
    /// `dedup_key` is the event's key or, when it had none, the one the caller generated;
    /// `service` is what routing decided. `now` is the receive time, not the sender's timestamp,
    /// since senders' clocks drift and some (Alertmanager's PagerDuty integration) send none.
    pub fn open(
        id: String,
        event: &AlertEvent,
        dedup_key: String,
        service: Option<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            kind: event.kind,
            dedup_key,
            routing_key: event.routing_key.clone(),
            status: AlertStatus::Triggered,
            summary: event.summary.clone(),
            severity: event.severity.unwrap_or(AlertSeverity::Error),
            service,
            labels: event.labels.clone(),
            first_seen: now,
            last_seen: now,
            count: 1,
            incident_id: None,
            acknowledged_at: None,
            resolved_at: None,
        }
    }
}

/// What applying an event to the alert for its key does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "short-lived return value, matched once; boxing would only add an allocation"
)]
pub enum Transition {
    /// A trigger and no open alert for its key: the caller creates one with [`Alert::open`]
    /// (after routing, which decides the service and whether to record it at all).
    Open,
    /// The open alert changed; persist the new version.
    Changed {
        /// The alert after the event.
        alert: Alert,
        /// What happened to it.
        effect: Effect,
    },
    /// Nothing to change. PagerDuty still answers 202 here; the caller can log or report why.
    Ignored(Ignored),
}

/// How an open alert changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Another trigger for an open alert: counted, summary/severity/labels refreshed.
    Repeated,
    /// It was triggered and is now acknowledged.
    Acknowledged,
    /// It is now resolved.
    Resolved,
}

/// Why an event changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Acknowledge or resolve for a key with no alert at all.
    NoAlert,
    /// Acknowledge or resolve for an alert that is already resolved; PagerDuty drops these.
    AlreadyResolved,
    /// Acknowledge for an alert already acknowledged.
    AlreadyAcknowledged,
}

impl Ignored {
    /// A sentence for logs and API responses.
    pub fn describe(&self) -> &'static str {
        match self {
            Ignored::NoAlert => "no open alert has this dedup key",
            Ignored::AlreadyResolved => "the alert with this dedup key is already resolved",
            Ignored::AlreadyAcknowledged => "the alert is already acknowledged",
        }
    }
}

/// Applies `event` to `current`, the latest alert with the event's routing and dedup key (or
/// `None` if there is none), at receive time `now`.
///
/// PagerDuty's rules: a trigger on an open alert is a repeat (an acknowledged alert stays
/// acknowledged, as in PagerDuty); a trigger when the latest alert is resolved, or when there is
/// none, opens a new alert; acknowledge and resolve apply only to an open alert and are
/// otherwise dropped. Resolving an acknowledged alert is allowed; acknowledging twice is not a
/// change. The caller is trusted to pass the alert that matches the event's keys.
pub fn apply(current: Option<&Alert>, event: &AlertEvent, now: Timestamp) -> Transition {
    let open = current.filter(|a| a.status.is_open());
    let Some(alert) = open else {
        return match (event.action, current) {
            (Action::Trigger, _) => Transition::Open,
            (_, None) => Transition::Ignored(Ignored::NoAlert),
            (_, Some(_)) => Transition::Ignored(Ignored::AlreadyResolved),
        };
    };
    let mut next = alert.clone();
    let effect = match event.action {
        Action::Trigger => {
            if !event.summary.is_empty() {
                next.summary = event.summary.clone();
            }
            if let Some(severity) = event.severity {
                next.severity = severity;
            }
            if !event.labels.is_empty() {
                next.labels = event.labels.clone();
            }
            Effect::Repeated
        }
        Action::Acknowledge => {
            if alert.status == AlertStatus::Acknowledged {
                return Transition::Ignored(Ignored::AlreadyAcknowledged);
            }
            next.status = AlertStatus::Acknowledged;
            next.acknowledged_at = Some(now);
            Effect::Acknowledged
        }
        Action::Resolve => {
            next.status = AlertStatus::Resolved;
            next.resolved_at = Some(now);
            Effect::Resolved
        }
    };
    next.count = next.count.saturating_add(1);
    next.last_seen = next.last_seen.max(now);
    Transition::Changed {
        alert: next,
        effect,
    }
}

/// Parses a sender's timestamp leniently: RFC 3339 / ISO 8601 with an offset (`Z`, `+02:00` or
/// PagerDuty's documented `+0000`), or without one, read as UTC.
///
/// Returns `None` for anything else: a sender's timestamp is informational, so a format we do not
/// know must not cost the event.
pub(crate) fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    // `+0000` / `-0530`: jiff wants a colon in the offset.
    // Checked split: the last five bytes may start inside a multi-byte character.
    if let Some((head, tail)) = text
        .len()
        .checked_sub(5)
        .filter(|&at| at > 0)
        .and_then(|at| text.split_at_checked(at))
    {
        let tb = tail.as_bytes();
        if (tb[0] == b'+' || tb[0] == b'-') && tb[1..].iter().all(u8::is_ascii_digit) {
            let fixed = format!("{head}{}:{}", &tail[..3], &tail[3..]);
            if let Ok(ts) = fixed.parse::<Timestamp>() {
                return Some(ts);
            }
        }
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// Alertmanager's alert fingerprint: FNV-1a 64 over the labels sorted by name, each name and
/// value followed by a 0xFF byte, as 16 lowercase hex digits.
///
/// Used as the dedup key when a webhook alert has no `fingerprint` (older Alertmanagers). Being
/// the very value newer versions send, an upgrade of the sender does not duplicate open alerts.
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[0xff]);
        add(value.as_bytes());
        add(&[0xff]);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + secs).expect("valid test time")
    }

    fn event(action: Action) -> AlertEvent {
        let mut e = AlertEvent::new(SourceKind::Pagerduty, action, "disk full on db-3");
        e.routing_key = Some("rk-payments".into());
        e.dedup_key = Some("disk/db-3".into());
        if action == Action::Trigger {
            e.severity = Some(AlertSeverity::Warning);
        }
        e
    }

    fn opened() -> Alert {
        Alert::open(
            "al-1".into(),
            &event(Action::Trigger),
            "disk/db-3".into(),
            Some("payments".into()),
            at(0),
        )
    }

    #[test]
    fn open_takes_event_fields_and_receive_time() {
        let a = opened();
        assert_eq!(a.status, AlertStatus::Triggered);
        assert_eq!(a.severity, AlertSeverity::Warning);
        assert_eq!(a.routing_key.as_deref(), Some("rk-payments"));
        assert_eq!(a.service.as_deref(), Some("payments"));
        assert_eq!((a.first_seen, a.last_seen, a.count), (at(0), at(0), 1));
    }

    #[test]
    fn trigger_without_alert_opens() {
        assert_eq!(
            apply(None, &event(Action::Trigger), at(0)),
            Transition::Open
        );
    }

    #[test]
    fn repeat_trigger_counts_and_refreshes() {
        let mut e = event(Action::Trigger);
        e.summary = "disk 99% full on db-3".into();
        e.severity = Some(AlertSeverity::Critical);
        let Transition::Changed { alert, effect } = apply(Some(&opened()), &e, at(30)) else {
            panic!("expected a change");
        };
        assert_eq!(effect, Effect::Repeated);
        assert_eq!(alert.count, 2);
        assert_eq!(alert.summary, "disk 99% full on db-3");
        assert_eq!(alert.severity, AlertSeverity::Critical);
        assert_eq!((alert.first_seen, alert.last_seen), (at(0), at(30)));
        assert_eq!(alert.status, AlertStatus::Triggered);
    }

    #[test]
    fn trigger_on_acknowledged_alert_stays_acknowledged() {
        let Transition::Changed { alert, .. } =
            apply(Some(&opened()), &event(Action::Acknowledge), at(10))
        else {
            panic!("expected a change");
        };
        assert_eq!(alert.acknowledged_at, Some(at(10)));
        let Transition::Changed { alert, effect } =
            apply(Some(&alert), &event(Action::Trigger), at(20))
        else {
            panic!("expected a change");
        };
        assert_eq!(effect, Effect::Repeated);
        assert_eq!(alert.status, AlertStatus::Acknowledged);
        assert_eq!(alert.count, 3);
    }

    #[test]
    fn resolve_then_events() {
        let Transition::Changed { alert, effect } =
            apply(Some(&opened()), &event(Action::Resolve), at(60))
        else {
            panic!("expected a change");
        };
        assert_eq!(effect, Effect::Resolved);
        assert_eq!(alert.resolved_at, Some(at(60)));
        assert_eq!(
            apply(Some(&alert), &event(Action::Resolve), at(61)),
            Transition::Ignored(Ignored::AlreadyResolved)
        );
        assert_eq!(
            apply(Some(&alert), &event(Action::Acknowledge), at(61)),
            Transition::Ignored(Ignored::AlreadyResolved)
        );
        assert_eq!(
            apply(Some(&alert), &event(Action::Trigger), at(62)),
            Transition::Open
        );
    }

    #[test]
    fn ack_or_resolve_of_unknown_key_is_ignored() {
        for action in [Action::Acknowledge, Action::Resolve] {
            assert_eq!(
                apply(None, &event(action), at(0)),
                Transition::Ignored(Ignored::NoAlert)
            );
        }
    }

    #[test]
    fn double_ack_is_ignored() {
        let Transition::Changed { alert, .. } =
            apply(Some(&opened()), &event(Action::Acknowledge), at(5))
        else {
            panic!("expected a change");
        };
        assert_eq!(
            apply(Some(&alert), &event(Action::Acknowledge), at(6)),
            Transition::Ignored(Ignored::AlreadyAcknowledged)
        );
    }

    #[test]
    fn summaries_are_cut_to_1024_chars() {
        let long = "é".repeat(2000);
        let cut = truncate_summary(&long);
        assert_eq!(cut.chars().count(), MAX_SUMMARY_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_summary("short"), "short");
        let exact = "x".repeat(MAX_SUMMARY_CHARS);
        assert_eq!(truncate_summary(&exact), exact);
    }

    #[test]
    fn severity_labels_map_to_four_levels() {
        assert_eq!(
            AlertSeverity::from_label("CRITICAL"),
            Some(AlertSeverity::Critical)
        );
        assert_eq!(
            AlertSeverity::from_label("page"),
            Some(AlertSeverity::Critical)
        );
        assert_eq!(
            AlertSeverity::from_label("major"),
            Some(AlertSeverity::Error)
        );
        assert_eq!(
            AlertSeverity::from_label(" warn "),
            Some(AlertSeverity::Warning)
        );
        assert_eq!(AlertSeverity::from_label("low"), Some(AlertSeverity::Info));
        assert_eq!(AlertSeverity::from_label("spicy"), None);
        assert_eq!(
            AlertSeverity::parse("Critical"),
            None,
            "wire names are exact"
        );
    }

    #[test]
    fn timestamps_in_sender_formats() {
        let want: Timestamp = "2026-03-04T05:06:07.250Z".parse().expect("test time");
        for text in [
            "2026-03-04T05:06:07.250Z",
            "2026-03-04T05:06:07.250+0000",
            "2026-03-04T06:06:07.250+01:00",
            "2026-03-04T00:36:07.250-0430",
            "2026-03-04T05:06:07.250",
        ] {
            assert_eq!(parse_timestamp(text), Some(want), "{text}");
        }
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn timestamps_ending_inside_a_character_are_refused_not_a_panic() {
        // Found by the alertmanager fuzz target: the offset check sliced five bytes from the
        // end, which here falls inside U+035B, and panicked the receiver.
        for text in [
            "2026-11-25T10˚ʞƝ͛3f60",
            "2026-11-25T10:00͛",
            "ʞƝ͛",
            "x͛0000",
            "é+0000",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert_eq!(parse_timestamp("͛+0000"), None);
    }

    #[test]
    fn fingerprint_matches_prometheus() {
        // Known values from Prometheus' own signature tests (model.LabelSet.Fingerprint).
        assert_eq!(label_fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let labels: BTreeMap<String, String> = [
            ("name".to_string(), "garland, briggs".to_string()),
            ("fear".to_string(), "love is not enough".to_string()),
        ]
        .into();
        assert_eq!(
            label_fingerprint(&labels),
            format!("{:016x}", 5_799_056_148_416_392_346_u64)
        );
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            3 => Just(Action::Trigger),
            1 => Just(Action::Acknowledge),
            2 => Just(Action::Resolve),
        ]
    }

    proptest! {
        /// Replays random event sequences for one key against a store of alerts and checks the
        /// lifecycle against a tiny independent model.
        #[test]
        fn lifecycle_state_machine(steps in proptest::collection::vec(action(), 0..60)) {
            let mut alerts: Vec<Alert> = Vec::new();
            // Model: status of the latest alert, or None if none yet.
            let mut model: Option<AlertStatus> = None;
            let mut applied_per_alert: Vec<u64> = Vec::new();
            for (i, action) in steps.iter().copied().enumerate() {
                let now = at(i64::try_from(i).unwrap_or(0) * 7);
                let e = event(action);
                let t = apply(alerts.last(), &e, now);
                let expected_model = match (model, action) {
                    (None | Some(AlertStatus::Resolved), Action::Trigger) => Some(AlertStatus::Triggered),
                    (Some(s), Action::Trigger) => Some(s),
                    (Some(AlertStatus::Triggered), Action::Acknowledge) => Some(AlertStatus::Acknowledged),
                    (Some(AlertStatus::Triggered | AlertStatus::Acknowledged), Action::Resolve) => Some(AlertStatus::Resolved),
                    (other, _) => other,
                };
                match t {
                    Transition::Open => {
                        prop_assert_eq!(action, Action::Trigger);
                        prop_assert!(alerts.last().is_none_or(|a| !a.status.is_open()));
                        alerts.push(Alert::open(format!("al-{i}"), &e, "disk/db-3".into(), None, now));
                        applied_per_alert.push(1);
                    }
                    Transition::Changed { alert, effect } => {
                        let before = alerts.last().cloned();
                        prop_assert!(before.as_ref().is_some_and(|a| a.status.is_open()));
                        let before = before.unwrap_or_else(|| unreachable!());
                        prop_assert_eq!(&alert.id, &before.id);
                        prop_assert_eq!(alert.count, before.count + 1);
                        prop_assert_eq!(alert.first_seen, before.first_seen);
                        prop_assert_eq!(alert.last_seen, now);
                        match effect {
                            Effect::Repeated => prop_assert_eq!(alert.status, before.status),
                            Effect::Acknowledged => prop_assert_eq!(alert.status, AlertStatus::Acknowledged),
                            Effect::Resolved => {
                                prop_assert_eq!(alert.status, AlertStatus::Resolved);
                                prop_assert_eq!(alert.resolved_at, Some(now));
                            }
                        }
                        let last = alerts.len() - 1;
                        alerts[last] = alert;
                        applied_per_alert[last] += 1;
                    }
                    Transition::Ignored(why) => {
                        prop_assert_ne!(action, Action::Trigger);
                        match why {
                            Ignored::NoAlert => prop_assert!(alerts.is_empty()),
                            Ignored::AlreadyResolved => prop_assert!(alerts.last().is_some_and(|a| a.status == AlertStatus::Resolved)),
                            Ignored::AlreadyAcknowledged => prop_assert!(alerts.last().is_some_and(|a| a.status == AlertStatus::Acknowledged)),
                        }
                    }
                }
                model = expected_model;
                prop_assert_eq!(alerts.last().map(|a| a.status), model);
                // At most one open alert per key, and it is the latest.
                let open = alerts.iter().filter(|a| a.status.is_open()).count();
                prop_assert!(open <= 1);
                prop_assert!(alerts.iter().rev().skip(1).all(|a| !a.status.is_open()));
            }
            for (a, n) in alerts.iter().zip(&applied_per_alert) {
                prop_assert_eq!(a.count, *n);
                prop_assert!(a.first_seen <= a.last_seen);
                prop_assert_eq!(a.resolved_at.is_some(), a.status == AlertStatus::Resolved);
                if let Some(ack) = a.acknowledged_at {
                    prop_assert!(a.first_seen <= ack && ack <= a.last_seen);
                }
            }
        }
    }
}
