//! Events: the append-only log that is the truth about an incident, and its hash chain.
//!
//! Each event's hash is SHA-256 over a canonical JSON rendering of the event (incident id,
//! sequence, time, actor, kind, data) together with the previous event's hash, so editing,
//! removing or reordering any stored event breaks every hash after it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::id::IncidentId;
use crate::incident::{Impact, Links};
use crate::lifecycle::Status;
use crate::playbook::Playbook;

/// `prev_hash` of the first event of every incident.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was declared: the first event of every incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// Title at declaration.
    pub title: String,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Incident type id.
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Severity id.
    pub severity: String,
    /// Services affected.
    #[serde(default)]
    pub services: Vec<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Restricted classification.
    #[serde(default)]
    pub restricted: bool,
    /// Impact known at declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// Links known at declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// A status page component whose status a publication or public update changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentChange {
    /// Component id.
    pub component: String,
    /// Status before.
    pub from: String,
    /// Status after.
    pub to: String,
}

/// Every kind of change, with its data.
// Timelines are hundreds of events, not millions: the flat layout is worth more than the bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "data",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum EventKind {
    /// The incident was declared.
    Declared(Declared),
    /// A responder acknowledged it.
    Acknowledged {},
    /// Severity changed.
    SeverityChanged {
        /// Previous severity.
        from: String,
        /// New severity.
        to: String,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Status changed (not resolve, close or reopen, which have their own events).
    StatusChanged {
        /// Previous status.
        from: Status,
        /// New status.
        to: Status,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Someone took an incident role.
    RoleAssigned {
        /// Role id.
        role: String,
        /// Person now holding it.
        person: String,
        /// Who held it before, if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaced: Option<String>,
    },
    /// A role was left empty.
    RoleUnassigned {
        /// Role id.
        role: String,
        /// Who held it.
        person: String,
    },
    /// A note on the timeline.
    NoteAdded {
        /// The note.
        text: String,
    },
    /// Title changed.
    TitleChanged {
        /// Previous title.
        from: String,
        /// New title.
        to: String,
    },
    /// Incident type changed.
    TypeChanged {
        /// Previous type.
        from: String,
        /// New type.
        to: String,
    },
    /// The set of services changed; holds the new set.
    ServicesChanged {
        /// New set of services.
        services: Vec<String>,
    },
    /// Labels set or removed.
    LabelsChanged {
        /// Labels set to these values.
        #[serde(default)]
        set: BTreeMap<String, String>,
        /// Label keys removed.
        #[serde(default)]
        removed: Vec<String>,
    },
    /// Impact assessment replaced.
    ImpactUpdated {
        /// New impact.
        impact: Impact,
    },
    /// Root cause recorded.
    RootCauseSet {
        /// The root cause.
        root_cause: String,
    },
    /// Links replaced.
    LinksUpdated {
        /// New links.
        links: Links,
    },
    /// Classification changed.
    ClassificationChanged {
        /// Whether it is now restricted.
        restricted: bool,
    },
    /// Impact is over.
    Resolved {
        /// Status before resolving.
        from: Status,
        /// How it was resolved.
        summary: String,
    },
    /// Done after review.
    Closed {},
    /// Work resumes on a resolved or closed incident.
    Reopened {
        /// Status before reopening.
        from: Status,
        /// Why.
        reason: String,
    },
    /// A playbook was attached; holds the playbook as it was then.
    PlaybookAttached {
        /// The playbook.
        playbook: Playbook,
        /// Attached by its triggers rather than by hand.
        automatic: bool,
    },
    /// A playbook was detached (it will not re-attach by itself).
    PlaybookDetached {
        /// Playbook id.
        playbook: String,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A task was done.
    TaskCompleted {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
    },
    /// A task was deliberately not done.
    TaskSkipped {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
        /// Why.
        reason: String,
    },
    /// A done or skipped task is open again.
    TaskReopened {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
    },
    /// Nobody acknowledged within the severity's response target: a breach.
    AcknowledgeTargetMissed {
        /// Severity whose target was missed.
        severity: String,
        /// The target, as configured.
        target: String,
        /// When acknowledgement was due.
        due_at: Timestamp,
    },
    /// A step of the escalation policy paged these people.
    Paged {
        /// Policy followed.
        policy: String,
        /// Position of the step in the whole run (steps x passes).
        step: usize,
        /// Which pass through the policy (0 = first).
        pass: u32,
        /// Who was paged.
        people: Vec<String>,
        /// Escalated by hand rather than by the clock.
        manual: bool,
    },
    /// Alerts from monitoring opened or joined the incident.
    AlertsAttached {
        /// Service the alerts are for.
        service: String,
        /// How many alerts joined in this step.
        count: u64,
        /// The first few of them (at most [`crate::alert_incident::LISTED_ALERTS`]).
        alerts: Vec<crate::alert_incident::AlertRef>,
        /// When the earliest of these alerts was first seen (the detection time for metrics);
        /// absent in logs written before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_seen: Option<Timestamp>,
    },
    /// Every alert attached to the incident is resolved.
    AlertsResolved {
        /// How many alerts the incident had.
        count: u64,
    },
    /// A change (deploy, config push) was reported for one of the incident's services.
    ChangeRecorded {
        /// Service it happened to.
        service: String,
        /// What changed.
        summary: String,
        /// Where it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// When the sender says it happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        happened_at: Option<Timestamp>,
        /// Links the sender gave.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        links: Vec<String>,
    },
    /// A status update went to an audience (internal, executives, customers, regulators...).
    /// Recorded by hand it has only the audience and text; sent by Warroom it also names the
    /// template, subject and recipients (the outbox messages derive from it) and the
    /// notification clocks it met.
    UpdatePosted {
        /// Who it was for.
        audience: String,
        /// What it said.
        text: String,
        /// Template it was drafted from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
        /// Subject line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// Where Warroom sent it: channel ids, people's handles, `email:` addresses.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<String>,
        /// Notification clocks (deadline rule ids) this message met.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        meets: Vec<String>,
    },
    /// A moment a notification clock can start from was recorded (`aware`, `discovered`,
    /// `materiality-determined`); recording it again corrects it.
    MomentRecorded {
        /// Which moment.
        moment: String,
        /// When it was.
        at: Timestamp,
    },
    /// A notification clock is close to running out.
    DeadlineApproaching {
        /// Deadline rule id.
        rule: String,
        /// Its name.
        name: String,
        /// When it is due.
        due_at: Timestamp,
    },
    /// A written section of the post-incident review was set (empty text clears it).
    PostmortemSectionSet {
        /// Section id (see [`crate::postmortem::SECTIONS`]).
        section: String,
        /// Its Markdown.
        text: String,
    },
    /// A note was marked (or unmarked) as a key moment of the review's timeline.
    KeyMomentMarked {
        /// Sequence number of the note.
        seq: u64,
        /// Marked, or unmarked.
        marked: bool,
    },
    /// A version of the post-incident review was frozen.
    PostmortemPublished {
        /// 1, 2, ...
        version: u32,
        /// SHA-256 of `markdown`, hex.
        sha256: String,
        /// The document as published.
        markdown: String,
    },
    /// A notification clock ran out before a matching notification was recorded.
    DeadlineMissed {
        /// Deadline rule id.
        rule: String,
        /// Its name.
        name: String,
        /// When it was due.
        due_at: Timestamp,
    },
    /// The severity's update cadence passed without an internal status update.
    UpdateDue {
        /// When the update was due.
        due_at: Timestamp,
        /// The cadence, as configured.
        cadence: String,
    },
    /// The post-incident review is due: resolved this long ago and not closed.
    ReviewDue {
        /// When the review was due.
        due_at: Timestamp,
    },
    /// A paged person's notification rule reached another contact method, because nobody had
    /// acknowledged by then.
    PageRepeated {
        /// Who.
        person: String,
        /// Id of the person's contact method used.
        contact_method: String,
        /// The rule's delay after the page.
        after_minutes: u32,
        /// Escalation step whose page this follows up.
        step: usize,
    },
    /// A notification reached its destination.
    NotificationDelivered {
        /// Message id (its idempotency key).
        message: String,
        /// `webhook`, `slack` or `email`.
        channel: String,
        /// Where it went, without secrets.
        destination: String,
        /// Attempts it took.
        attempts: u32,
    },
    /// A notification was given up on after its retries.
    NotificationDead {
        /// Message id (its idempotency key).
        message: String,
        /// `webhook`, `slack` or `email`.
        channel: String,
        /// Where it was going, without secrets.
        destination: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// Every step has been paged and nobody acknowledged.
    EscalationExhausted {
        /// Policy followed.
        policy: String,
    },
    /// A playbook phase's time box ended with tasks still open.
    PhaseDeadlinePassed {
        /// Playbook id.
        playbook: String,
        /// Phase id.
        phase: String,
        /// When the phase was due.
        due_at: Timestamp,
        /// Task ids still open.
        open_tasks: Vec<String>,
    },
    /// The incident was put on the public status page.
    StatusPagePublished {
        /// Public id of the page entry.
        page_id: String,
        /// Public title.
        title: String,
        /// Public status.
        status: String,
        /// The first public update.
        message: String,
        /// Component statuses it changed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<ComponentChange>,
    },
    /// A public update was posted on the status page.
    StatusPageUpdated {
        /// Public id of the page entry.
        page_id: String,
        /// Public status after the update.
        status: String,
        /// What the public was told.
        message: String,
        /// Component statuses it changed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<ComponentChange>,
    },
    /// A follow-up action item was created.
    ActionItemCreated {
        /// Item id within the incident (`A1`...).
        action: String,
        /// What to do.
        title: String,
        /// Who owns it.
        owner: String,
        /// Due date in the owner's calendar.
        due: jiff::civil::Date,
        /// When it becomes overdue (end of the due date in the owner's time zone).
        due_at: Timestamp,
        /// How urgent.
        priority: crate::action::Priority,
        /// External ticket link.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<String>,
    },
    /// An action item changed; only the fields that changed are present.
    ActionItemUpdated {
        /// Item id.
        action: String,
        /// New title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// New owner.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
        /// New due date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<jiff::civil::Date>,
        /// New overdue instant (follows the due date and the owner's zone).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<Timestamp>,
        /// New priority.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<crate::action::Priority>,
        /// New status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<crate::action::ActionStatus>,
        /// New ticket link; empty means removed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<String>,
    },
    /// An open action item reached its due instant; its owner is reminded.
    ActionItemDue {
        /// Item id.
        action: String,
        /// Owner reminded.
        owner: String,
        /// When it fell due.
        due_at: Timestamp,
    },
    /// Evidence was collected: its content (by hash) is in the vault.
    EvidenceAdded {
        /// SHA-256 of the content, lowercase hex.
        sha256: String,
        /// Size in bytes.
        size: u64,
        /// File name as given.
        file_name: String,
        /// Media type as given.
        media_type: String,
        /// What it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Where it was collected, as the collector says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collected_from: Option<String>,
        /// The address it was uploaded from, as the server saw it.
        source: String,
    },
    /// Someone looked at a piece of evidence's record.
    EvidenceViewed {
        /// SHA-256 of the content.
        sha256: String,
    },
    /// Someone downloaded a piece of evidence (recorded before the content was sent).
    EvidenceDownloaded {
        /// SHA-256 of the content.
        sha256: String,
    },
    /// An indicator of compromise was reported on the incident (again, when seen again).
    IndicatorRecorded {
        /// What it is.
        kind: crate::indicator::IndicatorKind,
        /// The indicator, normalised.
        value: String,
        /// When it was first seen, as reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_seen: Option<Timestamp>,
        /// When it was last seen, as reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seen: Option<Timestamp>,
        /// Context.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Evidence was handed to someone or exported.
    EvidenceTransferred {
        /// SHA-256 of the content.
        sha256: String,
        /// Who received it.
        to: String,
        /// Why, or under what authority.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl EventKind {
    /// The kind's name as stored and shown (`severity_changed`...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Declared(_) => "declared",
            EventKind::Acknowledged {} => "acknowledged",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::RoleAssigned { .. } => "role_assigned",
            EventKind::RoleUnassigned { .. } => "role_unassigned",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::TitleChanged { .. } => "title_changed",
            EventKind::TypeChanged { .. } => "type_changed",
            EventKind::ServicesChanged { .. } => "services_changed",
            EventKind::LabelsChanged { .. } => "labels_changed",
            EventKind::ImpactUpdated { .. } => "impact_updated",
            EventKind::RootCauseSet { .. } => "root_cause_set",
            EventKind::LinksUpdated { .. } => "links_updated",
            EventKind::ClassificationChanged { .. } => "classification_changed",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Closed {} => "closed",
            EventKind::Reopened { .. } => "reopened",
            EventKind::PlaybookAttached { .. } => "playbook_attached",
            EventKind::PlaybookDetached { .. } => "playbook_detached",
            EventKind::TaskCompleted { .. } => "task_completed",
            EventKind::TaskSkipped { .. } => "task_skipped",
            EventKind::TaskReopened { .. } => "task_reopened",
            EventKind::AcknowledgeTargetMissed { .. } => "acknowledge_target_missed",
            EventKind::Paged { .. } => "paged",
            EventKind::PageRepeated { .. } => "page_repeated",
            EventKind::UpdatePosted { .. } => "update_posted",
            EventKind::MomentRecorded { .. } => "moment_recorded",
            EventKind::DeadlineApproaching { .. } => "deadline_approaching",
            EventKind::DeadlineMissed { .. } => "deadline_missed",
            EventKind::PostmortemSectionSet { .. } => "postmortem_section_set",
            EventKind::KeyMomentMarked { .. } => "key_moment_marked",
            EventKind::PostmortemPublished { .. } => "postmortem_published",
            EventKind::AlertsAttached { .. } => "alerts_attached",
            EventKind::AlertsResolved { .. } => "alerts_resolved",
            EventKind::ChangeRecorded { .. } => "change_recorded",
            EventKind::UpdateDue { .. } => "update_due",
            EventKind::ReviewDue { .. } => "review_due",
            EventKind::NotificationDelivered { .. } => "notification_delivered",
            EventKind::NotificationDead { .. } => "notification_dead",
            EventKind::EscalationExhausted { .. } => "escalation_exhausted",
            EventKind::PhaseDeadlinePassed { .. } => "phase_deadline_passed",
            EventKind::StatusPagePublished { .. } => "status_page_published",
            EventKind::StatusPageUpdated { .. } => "status_page_updated",
            EventKind::ActionItemCreated { .. } => "action_item_created",
            EventKind::ActionItemUpdated { .. } => "action_item_updated",
            EventKind::ActionItemDue { .. } => "action_item_due",
            EventKind::EvidenceAdded { .. } => "evidence_added",
            EventKind::EvidenceViewed { .. } => "evidence_viewed",
            EventKind::EvidenceDownloaded { .. } => "evidence_downloaded",
            EventKind::EvidenceTransferred { .. } => "evidence_transferred",
            EventKind::IndicatorRecorded { .. } => "indicator_recorded",
        }
    }

    /// Splits into the stored form: kind name and data as JSON.
    pub fn to_parts(&self) -> (&'static str, serde_json::Value) {
        let data = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("data"),
            _ => None,
        };
        (self.name(), data.unwrap_or_else(|| serde_json::json!({})))
    }

    /// Rebuilds from the stored form.
    pub fn from_parts(kind: &str, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "data": data }))
    }

    /// One line for humans: what changed.
    pub fn describe(&self) -> String {
        fn with_reason(text: String, reason: &Option<String>) -> String {
            match reason {
                Some(r) if !r.is_empty() => format!("{text}: {r}"),
                _ => text,
            }
        }
        match self {
            EventKind::Declared(d) => {
                let mut text = format!("Declared {} {}: {}", d.severity, d.incident_type, d.title);
                if !d.services.is_empty() {
                    let _ = write!(text, " (services: {})", d.services.join(", "));
                }
                if d.restricted {
                    text.push_str(" [restricted]");
                }
                text
            }
            EventKind::Acknowledged {} => "Acknowledged".to_string(),
            EventKind::SeverityChanged { from, to, reason } => {
                with_reason(format!("Severity {from} -> {to}"), reason)
            }
            EventKind::StatusChanged { from, to, reason } => {
                with_reason(format!("Status {from} -> {to}"), reason)
            }
            EventKind::RoleAssigned {
                role,
                person,
                replaced,
            } => match replaced {
                Some(prev) => format!("{role}: {person} (replaces {prev})"),
                None => format!("{role}: {person}"),
            },
            EventKind::RoleUnassigned { role, person } => format!("{role}: {person} stood down"),
            EventKind::NoteAdded { text } => text.clone(),
            EventKind::TitleChanged { to, .. } => format!("Title: {to}"),
            EventKind::TypeChanged { from, to } => format!("Type {from} -> {to}"),
            EventKind::ServicesChanged { services } => format!("Services: {}", services.join(", ")),
            EventKind::LabelsChanged { set, removed } => {
                let mut parts: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
                parts.extend(removed.iter().map(|k| format!("-{k}")));
                format!("Labels: {}", parts.join(", "))
            }
            EventKind::ImpactUpdated { impact } => format!("Impact: {}", describe_impact(impact)),
            EventKind::RootCauseSet { root_cause } => format!("Root cause: {root_cause}"),
            EventKind::LinksUpdated { links } => {
                let parts: Vec<String> = [
                    ("ticket", &links.ticket),
                    ("chat", &links.chat_channel),
                    ("dashboard", &links.dashboard),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
                .collect();
                format!("Links: {}", parts.join(", "))
            }
            EventKind::ClassificationChanged { restricted } => if *restricted {
                "Classified restricted"
            } else {
                "Classified normal"
            }
            .to_string(),
            EventKind::Resolved { summary, .. } => format!("Resolved: {summary}"),
            EventKind::Closed {} => "Closed".to_string(),
            EventKind::Reopened { reason, .. } => format!("Reopened: {reason}"),
            EventKind::PlaybookAttached {
                playbook,
                automatic,
            } => format!(
                "Playbook {} attached{}: {}",
                playbook.id,
                if *automatic {
                    " (matched its triggers)"
                } else {
                    ""
                },
                playbook.title
            ),
            EventKind::PlaybookDetached { playbook, reason } => {
                with_reason(format!("Playbook {playbook} detached"), reason)
            }
            EventKind::TaskCompleted { playbook, task } => format!("Task {playbook}/{task} done"),
            EventKind::TaskSkipped {
                playbook,
                task,
                reason,
            } => {
                format!("Task {playbook}/{task} skipped: {reason}")
            }
            EventKind::TaskReopened { playbook, task } => {
                format!("Task {playbook}/{task} reopened")
            }
            EventKind::Paged {
                policy,
                step,
                pass,
                people,
                manual,
            } => format!(
                "{} step {} of {policy}{}: {}",
                if *manual {
                    "Escalated by hand to"
                } else {
                    "Paged"
                },
                step + 1,
                if *pass > 0 {
                    format!(" (pass {})", pass + 1)
                } else {
                    String::new()
                },
                if people.is_empty() {
                    "nobody is on call".to_string()
                } else {
                    people.join(", ")
                }
            ),
            EventKind::UpdatePosted {
                audience,
                text,
                template,
                subject,
                to,
                meets,
            } => {
                let mut line = match (template, subject) {
                    (Some(t), Some(subject)) => {
                        format!("Message to {audience} ({t}): {subject}")
                    }
                    _ => format!("Update to {audience}: {text}"),
                };
                if !to.is_empty() {
                    line.push_str(&format!(" — sent to {}", to.join(", ")));
                }
                if !meets.is_empty() {
                    line.push_str(&format!(" — meets {}", meets.join(", ")));
                }
                line
            }
            EventKind::MomentRecorded { moment, at } => {
                format!("Moment recorded: {moment} at {at}")
            }
            EventKind::DeadlineApproaching { name, due_at, .. } => {
                format!("Notification deadline approaching: {name}, due {due_at}")
            }
            EventKind::PostmortemSectionSet { section, text } if text.is_empty() => {
                format!("Review section {section} cleared")
            }
            EventKind::PostmortemSectionSet { section, .. } => {
                format!("Review section {section} written")
            }
            EventKind::KeyMomentMarked { seq, marked: true } => {
                format!("Event {seq} marked as a key moment")
            }
            EventKind::KeyMomentMarked { seq, marked: false } => {
                format!("Event {seq} no longer a key moment")
            }
            EventKind::PostmortemPublished {
                version, sha256, ..
            } => format!("Post-incident review version {version} published (sha256 {sha256})"),
            EventKind::DeadlineMissed { name, due_at, .. } => {
                format!("Notification deadline missed: {name} was due {due_at}")
            }
            EventKind::AlertsAttached {
                service,
                count,
                alerts,
                ..
            } => {
                let first = alerts
                    .first()
                    .map_or(String::new(), |a| format!(": {}", a.summary));
                if *count == 1 {
                    format!("Alert on {service}{first}")
                } else {
                    format!("{count} alerts on {service}{first}")
                }
            }
            EventKind::AlertsResolved { count } => {
                format!(
                    "All {count} alert{} resolved",
                    if *count == 1 { "" } else { "s" }
                )
            }
            EventKind::ChangeRecorded {
                service, summary, ..
            } => format!("Change on {service}: {summary}"),
            EventKind::UpdateDue { cadence, .. } => {
                format!("Status update overdue (every {cadence} at this severity)")
            }
            EventKind::ReviewDue { .. } => {
                "Post-incident review due (resolved 48 hours ago)".to_string()
            }
            EventKind::PageRepeated {
                person,
                contact_method,
                after_minutes,
                step,
            } => format!(
                "Paged {person} again by {contact_method}, {after_minutes} min after step {} \
                 (not acknowledged)",
                step + 1
            ),
            EventKind::NotificationDelivered {
                channel,
                destination,
                attempts,
                ..
            } => format!(
                "Notification delivered by {channel} to {destination} ({attempts} attempt{})",
                if *attempts == 1 { "" } else { "s" }
            ),
            EventKind::NotificationDead {
                channel,
                destination,
                attempts,
                error,
                ..
            } => {
                format!(
                    "Notification by {channel} to {destination} given up after {attempts} attempts: {error}"
                )
            }
            EventKind::EscalationExhausted { policy } => {
                format!("Escalation policy {policy} exhausted: nobody acknowledged")
            }
            EventKind::AcknowledgeTargetMissed {
                severity, target, ..
            } => {
                format!("Not acknowledged within the {severity} target of {target}")
            }
            EventKind::PhaseDeadlinePassed {
                playbook,
                phase,
                open_tasks,
                ..
            } => format!(
                "Phase {playbook}/{phase} time box ended with {} open task{}: {}",
                open_tasks.len(),
                if open_tasks.len() == 1 { "" } else { "s" },
                open_tasks.join(", ")
            ),
            EventKind::StatusPagePublished {
                title,
                status,
                message,
                components,
                ..
            } => format!(
                "Published to the status page as \"{title}\" ({status}){}: {message}",
                describe_component_changes(components)
            ),
            EventKind::StatusPageUpdated {
                status,
                message,
                components,
                ..
            } => format!(
                "Status page update ({status}){}: {message}",
                describe_component_changes(components)
            ),
            EventKind::ActionItemCreated {
                action,
                title,
                owner,
                due,
                priority,
                ..
            } => format!("Action item {action} ({priority}, {owner}, due {due}): {title}"),
            EventKind::ActionItemUpdated {
                action,
                title,
                owner,
                due,
                priority,
                status,
                ticket,
                ..
            } => {
                let mut parts = Vec::new();
                if let Some(v) = status {
                    parts.push(format!("status {v}"));
                }
                if let Some(v) = owner {
                    parts.push(format!("owner {v}"));
                }
                if let Some(v) = due {
                    parts.push(format!("due {v}"));
                }
                if let Some(v) = priority {
                    parts.push(format!("priority {v}"));
                }
                if let Some(v) = ticket {
                    parts.push(if v.is_empty() {
                        "ticket removed".to_string()
                    } else {
                        format!("ticket {v}")
                    });
                }
                if let Some(v) = title {
                    parts.push(format!("title {v}"));
                }
                format!("Action item {action}: {}", parts.join(", "))
            }
            EventKind::ActionItemDue { action, owner, .. } => {
                format!("Action item {action} is due (owner {owner})")
            }
            EventKind::EvidenceAdded {
                sha256,
                size,
                file_name,
                collected_from,
                ..
            } => {
                let from = collected_from
                    .as_deref()
                    .map(|f| format!(" from {f}"))
                    .unwrap_or_default();
                format!("Evidence added: {file_name} ({size} bytes{from}), SHA-256 {sha256}")
            }
            EventKind::EvidenceViewed { sha256 } => format!("Evidence {sha256} viewed"),
            EventKind::EvidenceDownloaded { sha256 } => format!("Evidence {sha256} downloaded"),
            EventKind::EvidenceTransferred { sha256, to, reason } => {
                with_reason(format!("Evidence {sha256} transferred to {to}"), reason)
            }
            EventKind::IndicatorRecorded {
                kind, value, note, ..
            } => with_reason(format!("Indicator ({kind}): {value}"), note),
        }
    }
}

fn describe_component_changes(changes: &[ComponentChange]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {} -> {}", c.component, c.from, c.to))
        .collect();
    format!(" [{}]", parts.join(", "))
}

/// Impact in one line; "unknown" when nothing is known yet.
pub fn describe_impact(impact: &Impact) -> String {
    let mut parts = Vec::new();
    if let Some(n) = impact.users_affected {
        parts.push(format!("{n} users"));
    }
    if let Some(d) = &impact.data_affected {
        parts.push(format!("data: {d}"));
    }
    if !impact.services_impacted.is_empty() {
        parts.push(format!("services: {}", impact.services_impacted.join(", ")));
    }
    if let Some(c) = &impact.estimated_cost {
        parts.push(format!("cost: {c}"));
    }
    if parts.is_empty() {
        "unknown".to_string()
    } else {
        parts.join("; ")
    }
}

/// An event before the store gives it a place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// What happened.
    pub kind: EventKind,
}

/// A sealed event: placed in its incident's log and chained to the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Incident the event belongs to.
    pub incident_id: IncidentId,
    /// 1-based position in the incident's log.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// What happened, with its data.
    #[serde(flatten)]
    pub kind: EventKind,
    /// Hash of the previous event (or [`GENESIS_HASH`]).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

impl Event {
    /// Places `new` at `seq` after an event with hash `prev_hash`, computing its hash.
    pub fn seal(incident_id: IncidentId, seq: u64, new: NewEvent, prev_hash: &str) -> Event {
        let (kind, data) = new.kind.to_parts();
        let hash = chain_hash(
            incident_id.as_str(),
            seq,
            new.at,
            &new.actor,
            kind,
            &data,
            prev_hash,
        );
        Event {
            incident_id,
            seq,
            at: new.at,
            actor: new.actor,
            kind: new.kind,
            prev_hash: prev_hash.to_string(),
            hash,
        }
    }
}

/// The hash of an event from its stored parts.
pub fn chain_hash(
    incident_id: &str,
    seq: u64,
    at: Timestamp,
    actor: &str,
    kind: &str,
    data: &serde_json::Value,
    prev_hash: &str,
) -> String {
    let body = serde_json::json!({
        "incident_id": incident_id,
        "seq": seq,
        "at": at.to_string(),
        "actor": actor,
        "kind": kind,
        "data": data,
        "prev_hash": prev_hash,
    });
    let mut hasher = Sha256::new();
    hasher.update(canonical_json(&body).as_bytes());
    hex::encode(hasher.finalize())
}

/// JSON with object keys sorted at every level and no insignificant whitespace, so the same
/// value always gives the same bytes whatever map type serde_json was built with.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// An event as it sits in the database, before any interpretation: what `verify` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Incident id column.
    pub incident_id: String,
    /// Sequence column.
    pub seq: i64,
    /// Time column, microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Actor column.
    pub actor: String,
    /// Kind column.
    pub kind: String,
    /// Data column, JSON text.
    pub payload: String,
    /// Previous-hash column.
    pub prev_hash: String,
    /// Hash column.
    pub hash: String,
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Incident whose chain is broken.
    pub incident_id: String,
    /// First event that does not check out.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks one incident's stored log (ordered by sequence): numbering, links and hashes.
pub fn verify_chain(events: &[StoredEvent]) -> Result<(), ChainBreak> {
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in events.iter().enumerate() {
        let broken = |reason: String| ChainBreak {
            incident_id: e.incident_id.clone(),
            seq: e.seq,
            reason,
        };
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            return Err(broken(format!(
                "sequence number {} where {expected_seq} was expected",
                e.seq
            )));
        }
        if e.prev_hash != prev {
            return Err(broken(
                "previous-hash link does not match the event before it".into(),
            ));
        }
        let at = Timestamp::from_microsecond(e.at_micros)
            .map_err(|_| broken(format!("time {} is out of range", e.at_micros)))?;
        let data: serde_json::Value = serde_json::from_str(&e.payload)
            .map_err(|err| broken(format!("data is not valid JSON: {err}")))?;
        let seq = u64::try_from(e.seq).map_err(|_| broken("negative sequence number".into()))?;
        let hash = chain_hash(
            &e.incident_id,
            seq,
            at,
            &e.actor,
            &e.kind,
            &data,
            &e.prev_hash,
        );
        if hash != e.hash {
            return Err(broken(
                "content does not match its hash (the event was altered)".into(),
            ));
        }
        prev = e.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_log() -> Vec<StoredEvent> {
        let id: IncidentId = "INC-20261122-001".parse().expect("valid id");
        let at: Timestamp = "2026-11-22T10:00:00Z".parse().expect("valid time");
        let kinds = [
            EventKind::NoteAdded {
                text: "first".into(),
            },
            EventKind::Acknowledged {},
            EventKind::NoteAdded {
                text: "third".into(),
            },
        ];
        let mut prev = GENESIS_HASH.to_string();
        let mut out = Vec::new();
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event::seal(
                id.clone(),
                i as u64 + 1,
                NewEvent {
                    at,
                    actor: "alice".into(),
                    kind,
                },
                &prev,
            );
            prev = e.hash.clone();
            let (kind, data) = e.kind.to_parts();
            out.push(StoredEvent {
                incident_id: id.to_string(),
                seq: e.seq as i64,
                at_micros: e.at.as_microsecond(),
                actor: e.actor.clone(),
                kind: kind.to_string(),
                payload: data.to_string(),
                prev_hash: e.prev_hash.clone(),
                hash: e.hash.clone(),
            });
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&sample_log()), Ok(()));
    }

    #[test]
    fn altered_payload_names_the_event() {
        let mut log = sample_log();
        log[1].payload = r#"{"x":1}"#.into();
        let err = verify_chain(&log).expect_err("must break");
        assert_eq!(err.seq, 2);
    }

    #[test]
    fn removed_event_is_detected() {
        let mut log = sample_log();
        log.remove(1);
        assert_eq!(verify_chain(&log).expect_err("must break").seq, 3);
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":[1,{"z":0,"y":1}]}}"#).expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":[1,{"y":1,"z":0}],"d":2},"b":1}"#
        );
    }

    #[test]
    fn parts_round_trip() {
        let kind = EventKind::SeverityChanged {
            from: "P1".into(),
            to: "P0".into(),
            reason: Some("data".into()),
        };
        let (name, data) = kind.to_parts();
        assert_eq!(EventKind::from_parts(name, data).expect("parses"), kind);
        let (name, data) = EventKind::Closed {}.to_parts();
        assert_eq!(
            EventKind::from_parts(name, data).expect("parses"),
            EventKind::Closed {}
        );
    }
}
