//! The post-incident review document: generated from the timeline, with the sections people
//! write stored as events, and frozen versions whose hash is recorded.
//!
//! The document is the `postmortem` message template (replaceable in config like any other)
//! rendered over the comms context plus what only a review needs: the written sections, a
//! timeline of the moments that matter, and the response measured from the events. The
//! generated parts are always current because they are rendered on every read; a published
//! version is the exact text of that moment, kept in its event, with its SHA-256.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::comms::context::{self, duration_text, time_text};
use crate::comms::{Draft, TemplateError};
use crate::config::Config;
use crate::event::{Event, EventKind};
use crate::incident::Incident;
use crate::lifecycle::Status;

/// The template the document is rendered from.
pub const TEMPLATE_ID: &str = "postmortem";

/// The sections people write. Root cause and impact are the incident's own fields.
pub const SECTIONS: &[&str] = &[
    "summary",
    "what-went-well",
    "what-went-wrong",
    "lessons-learned",
    "links",
];

/// A published version, as the incident keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// 1, 2, ...
    pub version: u32,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// SHA-256 of the Markdown, hex.
    pub sha256: String,
}

/// The hex SHA-256 a published version is recorded with.
pub fn digest(markdown: &str) -> String {
    hex::encode(Sha256::digest(markdown.as_bytes()))
}

/// When the review is due: [`crate::timer::REVIEW_DUE_AFTER`] after resolution, until a version
/// is published after that resolution.
pub fn review_due(inc: &Incident) -> Option<Timestamp> {
    let resolved = inc.resolved_at?;
    let reviewed = inc.postmortems.last().is_some_and(|p| p.at >= resolved);
    if reviewed || inc.status == Status::Closed {
        return None;
    }
    resolved.checked_add(crate::timer::REVIEW_DUE_AFTER).ok()
}

fn span(from: Timestamp, to: Option<Timestamp>) -> String {
    to.map(|t| duration_text(t.duration_since(from)))
        .unwrap_or_default()
}

/// The moments a review walks through: detection, declaration, acknowledgement, paging,
/// severity and status changes, resolution, reopening, and the notes marked as key moments.
fn key_timeline(inc: &Incident, events: &[Event]) -> Vec<Value> {
    let mut first_alert_seen = false;
    events
        .iter()
        .filter(|e| match &e.kind {
            EventKind::AlertsAttached { .. } => !std::mem::replace(&mut first_alert_seen, true),
            EventKind::NoteAdded { .. } => inc.key_moments.contains(&e.seq),
            EventKind::Declared(_)
            | EventKind::Acknowledged {}
            | EventKind::Paged { .. }
            | EventKind::AcknowledgeTargetMissed { .. }
            | EventKind::SeverityChanged { .. }
            | EventKind::StatusChanged { .. }
            | EventKind::Resolved { .. }
            | EventKind::Reopened { .. }
            | EventKind::Closed {} => true,
            _ => false,
        })
        .map(|e| {
            json!({
                "at": time_text(e.at),
                "seq": e.seq,
                "kind": e.kind.name(),
                "actor": e.actor,
                "text": e.kind.describe(),
            })
        })
        .collect()
}

/// The response measured from the events, for the document.
fn measures(inc: &Incident, events: &[Event], config: &Config) -> Value {
    let detected = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::AlertsAttached { .. }))
        .map_or(inc.declared_at, |e| e.at.min(inc.declared_at));
    let pages = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Paged { .. }))
        .count();
    let severity = config.severity(&inc.severity);
    let rto = severity.and_then(|s| s.rto);
    let rto_met = match (rto, inc.resolved_at) {
        (Some(rto), Some(resolved)) => {
            if resolved.duration_since(inc.declared_at) <= rto.as_signed() {
                "met"
            } else {
                "missed"
            }
        }
        (Some(_), None) => "open",
        (None, _) => "",
    };
    let updates = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::UpdatePosted { .. }))
        .count();
    let overdue_updates = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::UpdateDue { .. }))
        .count();
    json!({
        "detected_at": time_text(detected),
        "time_to_declare": span(detected, Some(inc.declared_at)),
        "time_to_acknowledge": span(inc.declared_at, inc.acknowledged_at),
        "time_to_contain": span(inc.declared_at, inc.contained_at),
        "time_to_resolve": span(inc.declared_at, inc.resolved_at),
        "pages": pages,
        "acknowledge_target": severity.map(|s| s.acknowledge_within.to_string()).unwrap_or_default(),
        "acknowledge_target_missed": inc.acknowledge_target_missed_at.is_some(),
        "rto": rto.map(|r| r.to_string()).unwrap_or_default(),
        "rto_result": rto_met,
        "updates_sent": updates,
        "updates_overdue": overdue_updates,
    })
}

/// Adds what a review needs to a comms context: `postmortem` (`sections`, `timeline`,
/// `version`, `published`, `review_due_at`, `review_overdue`), `metrics` and `action_items`.
pub(crate) fn extend(
    ctx: &mut Value,
    inc: &Incident,
    events: &[Event],
    config: &Config,
    now: Timestamp,
) {
    let sections: serde_json::Map<String, Value> = SECTIONS
        .iter()
        .map(|s| {
            (
                s.replace('-', "_"),
                Value::String(inc.postmortem_sections.get(*s).cloned().unwrap_or_default()),
            )
        })
        .collect();
    let due = review_due(inc);
    let published: Vec<Value> = inc
        .postmortems
        .iter()
        .map(|p| json!({ "version": p.version, "at": time_text(p.at), "by": p.by, "sha256": p.sha256 }))
        .collect();
    if let Value::Object(map) = ctx {
        map.insert(
            "postmortem".into(),
            json!({
                "sections": sections,
                "timeline": key_timeline(inc, events),
                "version": inc.postmortems.len() + 1,
                "published": published,
                "review_due_at": due.map(time_text).unwrap_or_default(),
                "review_overdue": due.is_some_and(|d| d <= now),
            }),
        );
        map.insert("metrics".into(), measures(inc, events, config));
        let person_name = |id: &str| {
            config
                .person(id)
                .map_or_else(|| id.to_string(), |p| p.name.clone())
        };
        let actions: Vec<Value> = inc
            .actions
            .iter()
            .filter(|a| a.status != crate::action::ActionStatus::Cancelled)
            .map(|a| {
                json!({
                    "id": a.id,
                    "title": a.title,
                    "owner": person_name(&a.owner),
                    "due": a.due.to_string(),
                    "priority": a.priority.as_str(),
                    "status": a.status.as_str(),
                    "ticket": a.ticket.clone().unwrap_or_default(),
                    "done": a.status == crate::action::ActionStatus::Done,
                    "overdue": a.is_overdue(now),
                })
            })
            .collect();
        map.insert("action_items".into(), Value::Array(actions));
    }
}

/// Why the document cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostmortemError {
    /// The config has no `postmortem` template (a team removed it).
    #[error("no `postmortem` message template is configured")]
    NoTemplate,
    /// The template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The document as Markdown, current as of `now`.
pub fn render(
    inc: &Incident,
    events: &[Event],
    config: &Config,
    now: Timestamp,
) -> Result<Draft, PostmortemError> {
    let template = config
        .template(TEMPLATE_ID)
        .ok_or(PostmortemError::NoTemplate)?;
    Ok(template.render(&context::full(inc, events, config, now))?)
}
