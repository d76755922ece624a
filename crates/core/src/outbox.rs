//! The notification outbox, decided purely: what an outgoing message is, the states its delivery
//! moves through, and when a failed attempt is retried.
//!
//! A message is written to the outbox in the same transaction as the event that caused it, and
//! delivered afterwards by the engine, at least once. Its `id` is derived from what caused it
//! (the same cause and destination always give the same id), so writing it twice is a no-op,
//! and receivers get it as an idempotency key to drop the duplicates at-least-once allows.
//!
//! ```text
//! pending -> sending -> delivered
//!               |  \--> failed -> sending -> ...   (retried after `backoff`)
//!               \-----> dead                        (after `max_attempts`, or a permanent error)
//! ```
//!
//! A `sending` message whose lease expired (its sender crashed) is claimed again as if it had
//! failed, with the same id.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::event::{Event, EventKind};
use crate::incident::Incident;
use crate::people::{ContactKind, ContactMethod};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    /// A generic webhook: JSON POST, signed with HMAC-SHA256 when a secret is set.
    Webhook {
        /// Receiver URL.
        url: String,
        /// Shared secret for the `X-Warroom-Signature` header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    /// A Slack incoming webhook.
    Slack {
        /// The incoming webhook URL (a secret in itself).
        webhook_url: String,
    },
    /// Email over SMTP.
    Email {
        /// Recipient address.
        to: String,
    },
}

impl Channel {
    /// `webhook`, `slack` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Webhook { .. } => "webhook",
            Channel::Slack { .. } => "slack",
            Channel::Email { .. } => "email",
        }
    }

    /// Where it goes, safe to show: no secrets, no query strings, and only the host of a Slack
    /// webhook (its path is the credential).
    pub fn destination(&self) -> String {
        match self {
            Channel::Webhook { url, .. } => strip_query(url),
            Channel::Slack { webhook_url } => {
                let rest = webhook_url
                    .split_once("://")
                    .map_or(webhook_url.as_str(), |(_, r)| r);
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("{host}/…")
            }
            Channel::Email { to } => to.clone(),
        }
    }
}

fn strip_query(url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let url = url.split('?').next().unwrap_or(url);
    match (url.find("://"), url.rfind('@')) {
        // user:password@host: drop the credentials.
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// One notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// Idempotency key, derived from the cause and the destination ([`message_id`]).
    pub id: String,
    /// Incident it is about.
    pub incident_id: String,
    /// Where it goes.
    pub channel: Channel,
    /// Subject line (email subject, first line elsewhere).
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// Structured content (the webhook body's `data`).
    pub payload: serde_json::Value,
}

/// The idempotency key for a message caused by `cause` (a timer key, an event's
/// `incident_id/seq`...) and sent to `channel`: `msg_` and 32 hex digits of a SHA-256.
pub fn message_id(cause: &str, channel: &Channel) -> String {
    let mut h = Sha256::new();
    h.update(cause.as_bytes());
    h.update([0u8]);
    h.update(
        serde_json::to_string(channel)
            .unwrap_or_default()
            .as_bytes(),
    );
    let digest = hex::encode(h.finalize());
    format!("msg_{}", &digest[..32])
}

/// The cause to derive message ids from for messages an event sends: its place in its
/// incident's log, which never changes once written.
pub fn event_cause(event: &Event) -> String {
    format!("event:{}#{}", event.incident_id, event.seq)
}

/// Where a message's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Written, never tried.
    Pending,
    /// Claimed by an engine until its lease runs out.
    Sending,
    /// The receiver accepted it.
    Delivered,
    /// The last attempt failed; it is retried at `next_attempt_at`.
    Failed,
    /// Given up: too many attempts, or an error no retry can fix.
    Dead,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => DeliveryStatus::Pending,
            "sending" => DeliveryStatus::Sending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            "dead" => DeliveryStatus::Dead,
            other => return Err(format!("unknown delivery status {other:?}")),
        })
    }
}

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry waits up to this long.
    pub base: SignedDuration,
    /// No wait is longer than this.
    pub cap: SignedDuration,
    /// After this many failed attempts the message is dead.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: SignedDuration::from_secs(10),
            cap: SignedDuration::from_mins(30),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// The longest wait after the `attempt`-th failed attempt (1-based): `base * 2^(attempt-1)`,
    /// capped.
    pub fn ceiling(&self, attempt: u32) -> SignedDuration {
        let exp = attempt.saturating_sub(1).min(30);
        let micros = self.base.as_micros().saturating_mul(1i128 << exp);
        let cap = self.cap.as_micros();
        let micros = micros.min(cap).max(0);
        SignedDuration::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    /// Exponential backoff with full jitter: a wait uniformly in `[0, ceiling(attempt)]`, picked
    /// by `random` (in `[0, 1)`; values outside are clamped). Full jitter spreads retries of
    /// many messages that failed together instead of sending them back in a burst.
    pub fn backoff(&self, attempt: u32, random: f64) -> SignedDuration {
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let ceiling = self.ceiling(attempt).as_micros() as f64;
        SignedDuration::from_micros((ceiling * random) as i64)
    }

    /// What to record after an attempt: `attempts_before` is how many attempts were made before
    /// this one.
    pub fn after_attempt(
        &self,
        attempts_before: u32,
        result: Result<(), AttemptError>,
        now: Timestamp,
        random: f64,
    ) -> Outcome {
        let attempt = attempts_before.saturating_add(1);
        match result {
            Ok(()) => Outcome::Delivered,
            Err(AttemptError::Permanent(error)) => Outcome::Dead { error },
            Err(AttemptError::Transient(error)) if attempt >= self.max_attempts => {
                Outcome::Dead { error }
            }
            Err(AttemptError::Transient(error)) => Outcome::Failed {
                error,
                next_attempt_at: now
                    .saturating_add(self.backoff(attempt, random))
                    .unwrap_or(now),
            },
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// Worth retrying: timeouts, connection errors, 5xx, 429.
    Transient(String),
    /// Retrying cannot help: the receiver refused the message itself (4xx), a bad address.
    Permanent(String),
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Transient(e) | AttemptError::Permanent(e) => f.write_str(e),
        }
    }
}

/// The recorded result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the receiver.
    Delivered,
    /// Failed; try again at `next_attempt_at`.
    Failed {
        /// What went wrong.
        error: String,
        /// When to retry.
        next_attempt_at: Timestamp,
    },
    /// Failed for good.
    Dead {
        /// What went wrong last.
        error: String,
    },
}

impl Outcome {
    /// The status this outcome leaves the message in.
    pub fn status(&self) -> DeliveryStatus {
        match self {
            Outcome::Delivered => DeliveryStatus::Delivered,
            Outcome::Failed { .. } => DeliveryStatus::Failed,
            Outcome::Dead { .. } => DeliveryStatus::Dead,
        }
    }
}

/// A message's delivery record as shown on the API and the CLI (no secrets: the channel is
/// shown by kind and [`Channel::destination`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Idempotency key.
    pub id: String,
    /// Incident it is about.
    pub incident_id: String,
    /// `webhook`, `slack` or `email`.
    pub channel: String,
    /// Where it goes.
    pub destination: String,
    /// Subject line.
    pub subject: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When it was written.
    pub created_at: Timestamp,
    /// Next attempt (failed), lease deadline (sending), first attempt (pending).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    /// When the last attempt started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
    /// When it was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    /// The last attempt's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Roles whose holder is reminded of a due status update or review, first held wins: the
/// communications lead owns updates, and the commander owns everything nobody else does.
pub const REMINDED_ROLES: &[&str] = &["communications-lead", "incident-commander"];

/// The messages that tell someone about `events` an incident just recorded, caused by `cause`
/// (for a timer: its key, which fires once). Only events someone must act on are sent: a missed
/// acknowledgement target and a passed phase deadline go to `channels`; a due status update or
/// review goes to the holder of the first of [`REMINDED_ROLES`] who is a configured person with
/// a contact method, else to `channels`; a due action item goes to its owner's contact methods,
/// else to `channels`.
pub fn notifications(
    cause: &str,
    config: &Config,
    incident: &Incident,
    events: &[EventKind],
    channels: &[Channel],
) -> Vec<OutgoingMessage> {
    let mut out = Vec::new();
    let role_holder: Option<Vec<Channel>> = REMINDED_ROLES
        .iter()
        .filter_map(|role| incident.roles.get(*role))
        .filter_map(|holder| config.person(holder))
        .map(|person| {
            person
                .contact_methods
                .iter()
                .filter_map(|m| contact_channel(m.kind, &m.address))
                .collect::<Vec<_>>()
        })
        .find(|c| !c.is_empty());
    for (i, kind) in events.iter().enumerate() {
        let mut to = channels;
        let owner_channels: Vec<Channel>;
        let subject = match kind {
            EventKind::ActionItemDue { action, owner, .. } => {
                owner_channels = config
                    .person(owner)
                    .map(|p| {
                        p.contact_methods
                            .iter()
                            .filter_map(|m| contact_channel(m.kind, &m.address))
                            .collect()
                    })
                    .unwrap_or_default();
                if !owner_channels.is_empty() {
                    to = &owner_channels;
                }
                let title = incident
                    .actions
                    .iter()
                    .find(|a| &a.id == action)
                    .map_or("", |a| a.title.as_str());
                format!("{} action item {action} is due: {title}", incident.id)
            }
            EventKind::UpdateDue { cadence, .. } => {
                to = role_holder.as_deref().unwrap_or(channels);
                format!(
                    "[{}] {} {}: a status update is due (every {cadence})",
                    incident.severity, incident.id, incident.title
                )
            }
            EventKind::ReviewDue { .. } => {
                to = role_holder.as_deref().unwrap_or(channels);
                format!(
                    "[{}] {} {}: the post-incident review is due",
                    incident.severity, incident.id, incident.title
                )
            }
            EventKind::DeadlineApproaching { name, due_at, .. } => {
                to = role_holder.as_deref().unwrap_or(channels);
                format!(
                    "[{}] {} {}: notification deadline approaching: {name}, due {}",
                    incident.severity,
                    incident.id,
                    incident.title,
                    crate::comms::context::time_text(*due_at)
                )
            }
            EventKind::DeadlineMissed { name, due_at, .. } => {
                to = role_holder.as_deref().unwrap_or(channels);
                format!(
                    "[{}] {} {}: notification deadline MISSED: {name} was due {}",
                    incident.severity,
                    incident.id,
                    incident.title,
                    crate::comms::context::time_text(*due_at)
                )
            }
            EventKind::AcknowledgeTargetMissed {
                severity, target, ..
            } => format!(
                "[{}] {} {}: not acknowledged within {target}",
                severity, incident.id, incident.title
            ),
            EventKind::PhaseDeadlinePassed {
                playbook,
                phase,
                open_tasks,
                ..
            } => format!(
                "[{}] {} {}: phase {playbook}/{phase} is past its time box ({} open tasks)",
                incident.severity,
                incident.id,
                incident.title,
                open_tasks.len()
            ),
            _ => continue,
        };
        let text = format!(
            "{subject}\n\nIncident {} ({}, {}), status {}.\n{}",
            incident.id,
            incident.severity,
            incident.incident_type,
            incident.status.as_str(),
            kind.describe()
        );
        let (name, data) = kind.to_parts();
        for channel in to {
            out.push(OutgoingMessage {
                id: message_id(&format!("{cause}#{i}"), channel),
                incident_id: incident.id.to_string(),
                channel: channel.clone(),
                subject: subject.clone(),
                text: text.clone(),
                payload: serde_json::json!({
                    "incident_id": incident.id.as_str(),
                    "title": incident.title,
                    "severity": incident.severity,
                    "status": incident.status.as_str(),
                    "event": name,
                    "data": data,
                }),
            });
        }
    }
    out
}

/// Everything a batch of newly written events sends: the pages ([`page_messages`]) and the
/// messages sent from templates ([`message_sends`]).
pub fn event_messages(
    config: &Config,
    incident: &Incident,
    events: &[Event],
) -> Vec<OutgoingMessage> {
    let mut out = page_messages(config, incident, events);
    out.extend(message_sends(config, incident, events));
    out
}

/// The messages `update_posted` events sent from templates: one per channel each recipient
/// resolves to now (recipients were checked when the event was decided). Ids derive from the
/// event and the channel, so each is written once.
pub fn message_sends(
    config: &Config,
    incident: &Incident,
    events: &[Event],
) -> Vec<OutgoingMessage> {
    let mut out = Vec::new();
    for event in events {
        let EventKind::UpdatePosted {
            audience,
            text,
            template,
            subject,
            to,
            ..
        } = &event.kind
        else {
            continue;
        };
        let subject = subject.clone().unwrap_or_else(|| {
            format!("[{}] {} {}", incident.severity, incident.id, incident.title)
        });
        let mut channels: Vec<Channel> = Vec::new();
        for recipient in to {
            for channel in crate::comms::recipient::resolve(recipient, config).unwrap_or_default() {
                if !channels.contains(&channel) {
                    channels.push(channel);
                }
            }
        }
        for channel in channels {
            out.push(OutgoingMessage {
                id: message_id(&event_cause(event), &channel),
                incident_id: incident.id.to_string(),
                channel,
                subject: subject.clone(),
                text: text.clone(),
                payload: serde_json::json!({
                    "incident_id": incident.id.as_str(),
                    "event": "message",
                    "audience": audience,
                    "template": template,
                    "subject": subject,
                    "text": text,
                    "sent_by": event.actor,
                }),
            });
        }
    }
    out
}

/// The pages a batch of newly written events sends: for every `paged` event, one message per
/// paged person and contact method their notification rules use at once (`after_minutes: 0`;
/// every email, Slack and webhook method when they have no rules); for every `page_repeated`
/// event, one message by the method its delayed rule names. Phone numbers are kept for display
/// only. Ids derive from the event and the person, so each page is written once.
pub fn page_messages(
    config: &Config,
    incident: &Incident,
    events: &[Event],
) -> Vec<OutgoingMessage> {
    let mut out = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::Paged {
                policy,
                step,
                manual,
                people,
                ..
            } => {
                let page = Page {
                    incident,
                    event,
                    policy,
                    step: *step,
                    manual: *manual,
                    again: false,
                };
                for person_id in people {
                    let Some(person) = config.person(person_id) else {
                        continue;
                    };
                    let immediate: Vec<&ContactMethod> = if person.notification_rules.is_empty() {
                        person.contact_methods.iter().collect()
                    } else {
                        person
                            .notification_rules
                            .iter()
                            .filter(|r| r.after_minutes == 0)
                            .filter_map(|r| person.contact_method(&r.contact_method))
                            .collect()
                    };
                    out.extend(
                        immediate
                            .into_iter()
                            .filter_map(|m| page.message(person_id, m)),
                    );
                }
            }
            EventKind::PageRepeated {
                person,
                contact_method,
                step,
                ..
            } => {
                let policy = incident
                    .escalation
                    .as_ref()
                    .map_or("", |s| s.policy.as_str());
                let page = Page {
                    incident,
                    event,
                    policy,
                    step: *step,
                    manual: false,
                    again: true,
                };
                if let Some(method) = config
                    .person(person)
                    .and_then(|p| p.contact_method(contact_method))
                {
                    out.extend(page.message(person, method));
                }
            }
            _ => {}
        }
    }
    out
}

/// What a page says, whichever contact method carries it.
struct Page<'a> {
    incident: &'a Incident,
    event: &'a Event,
    policy: &'a str,
    step: usize,
    manual: bool,
    /// A delayed notification rule following up an unanswered page.
    again: bool,
}

/// The channel a contact method is reached by; none for a phone number, kept for display only.
/// The outbox channel for a contact address; none for a phone number, kept for display only.
pub(crate) fn contact_channel(kind: ContactKind, address: &str) -> Option<Channel> {
    Some(match kind {
        ContactKind::Email => Channel::Email {
            to: address.to_string(),
        },
        ContactKind::Slack => Channel::Slack {
            webhook_url: address.to_string(),
        },
        ContactKind::Webhook => Channel::Webhook {
            url: address.to_string(),
            secret: None,
        },
        ContactKind::Phone => return None,
    })
}

impl Page<'_> {
    /// The message to `person_id` by `method`; none for a phone number.
    fn message(&self, person_id: &str, method: &ContactMethod) -> Option<OutgoingMessage> {
        let incident = self.incident;
        let channel = contact_channel(method.kind, &method.address)?;
        let subject = format!(
            "[{}] PAGE{} {}: {}",
            incident.severity,
            if self.again {
                " (still unacknowledged)"
            } else {
                ""
            },
            incident.id,
            incident.title
        );
        let how = if self.manual {
            "escalated by hand"
        } else if self.again {
            "paged, and nobody has acknowledged yet,"
        } else {
            "paged"
        };
        let text = format!(
            "{subject}\n\nYou were {how} for incident {} ({}, {}), status {}: escalation policy \
             {}, step {}.\nAcknowledge to stop the escalation: warroom ack {}",
            incident.id,
            incident.severity,
            incident.incident_type,
            incident.status.as_str(),
            self.policy,
            self.step + 1,
            incident.id
        );
        Some(OutgoingMessage {
            id: message_id(
                &format!("{}:{person_id}", event_cause(self.event)),
                &channel,
            ),
            incident_id: incident.id.to_string(),
            channel,
            subject,
            text,
            payload: serde_json::json!({
                "type": if self.again { "page_repeated" } else { "page" },
                "incident_id": incident.id.as_str(),
                "title": incident.title,
                "severity": incident.severity,
                "status": incident.status.as_str(),
                "person": person_id,
                "policy": self.policy,
                "step": self.step,
                "manual": self.manual,
                "event_seq": self.event.seq,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid time")
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let p = RetryPolicy {
            base: SignedDuration::from_secs(10),
            cap: SignedDuration::from_mins(5),
            max_attempts: 8,
        };
        let ceilings: Vec<i64> = (1..=7).map(|a| p.ceiling(a).as_secs()).collect();
        assert_eq!(ceilings, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(p.backoff(3, 0.0), SignedDuration::ZERO);
        assert_eq!(p.backoff(3, 0.5), SignedDuration::from_secs(20));
        assert_eq!(p.backoff(3, 1.0), SignedDuration::from_secs(40));
        assert_eq!(p.backoff(3, f64::NAN), SignedDuration::ZERO);
        assert_eq!(p.backoff(3, 7.0), SignedDuration::from_secs(40));
        // Huge attempt numbers neither overflow nor exceed the cap.
        assert_eq!(p.ceiling(u32::MAX), SignedDuration::from_mins(5));
    }

    #[test]
    fn failures_retry_until_max_attempts_then_die() {
        let p = RetryPolicy::default();
        let now = ts("2026-11-22T10:00:00Z");
        let fail = || Err(AttemptError::Transient("HTTP 500".into()));
        assert_eq!(
            p.after_attempt(0, fail(), now, 0.5),
            Outcome::Failed {
                error: "HTTP 500".into(),
                next_attempt_at: ts("2026-11-22T10:00:05Z")
            }
        );
        assert_eq!(
            p.after_attempt(6, fail(), now, 0.5).status(),
            DeliveryStatus::Failed
        );
        assert_eq!(
            p.after_attempt(7, fail(), now, 0.5),
            Outcome::Dead {
                error: "HTTP 500".into()
            }
        );
        assert_eq!(
            p.after_attempt(0, Err(AttemptError::Permanent("HTTP 404".into())), now, 0.5),
            Outcome::Dead {
                error: "HTTP 404".into()
            }
        );
        assert_eq!(p.after_attempt(7, Ok(()), now, 0.5), Outcome::Delivered);
    }

    #[test]
    fn ids_are_deterministic_per_cause_and_destination() {
        let a = Channel::Email {
            to: "a@example.com".into(),
        };
        let b = Channel::Email {
            to: "b@example.com".into(),
        };
        assert_eq!(message_id("ack:INC-1", &a), message_id("ack:INC-1", &a));
        assert_ne!(message_id("ack:INC-1", &a), message_id("ack:INC-1", &b));
        assert_ne!(message_id("ack:INC-1", &a), message_id("ack:INC-2", &a));
        assert_eq!(message_id("x", &a).len(), 4 + 32);
    }

    #[test]
    fn destinations_never_show_secrets() {
        let w = Channel::Webhook {
            url: "https://u:pw@hooks.example.com/in?token=s3".into(),
            secret: Some("k".into()),
        };
        assert_eq!(w.destination(), "https://hooks.example.com/in");
        let s = Channel::Slack {
            webhook_url: "https://hooks.slack.com/services/T0/B0/XYZ".into(),
        };
        assert_eq!(s.destination(), "hooks.slack.com/…");
        assert_eq!(
            Channel::Email {
                to: "oncall@example.com".into()
            }
            .destination(),
            "oncall@example.com"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Sending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
            DeliveryStatus::Dead,
        ] {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
        }
        assert!("lost".parse::<DeliveryStatus>().is_err());
    }
}
