//! Commands: what a responder asks for, checked against the incident and the config, turned
//! into the events that record it. Pure: the caller loads the incident, supplies the time and
//! actor, and stores what comes back.

use std::collections::BTreeMap;

use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::config::Config;
use crate::escalation;
use crate::event::{Declared, EventKind};
use crate::incident::{Impact, Incident, Links};
use crate::lifecycle::{Status, TransitionError, check_status_change};
use crate::playbook::{MatchFacts, TaskState, attached_ids, matches};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest free text (notes, summaries, root cause), in characters.
pub const MAX_TEXT: usize = 20_000;
/// Longest published document (a post-incident review), in characters.
pub const MAX_DOCUMENT: usize = 500_000;
/// Most labels on one incident.
pub const MAX_LABELS: usize = 64;
/// Most services on one incident.
pub const MAX_SERVICES: usize = 32;

/// A request refused by the domain rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field has a value that can never be accepted.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// Why, and what would be accepted.
        message: String,
    },
    /// The request conflicts with the incident's current state.
    #[error("{0}")]
    Conflict(String),
}

fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

impl From<TransitionError> for DomainError {
    fn from(err: TransitionError) -> Self {
        match err {
            TransitionError::ResolveNeedsSummary
            | TransitionError::UseClose
            | TransitionError::BackToTriage => invalid("status", err.to_string()),
            TransitionError::Unchanged(_) | TransitionError::Finished(_) => {
                DomainError::Conflict(err.to_string())
            }
        }
    }
}

/// A new incident, as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// One line saying what is wrong.
    pub title: String,
    /// Incident type id; defaults to `other` (or the first configured type).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub incident_type: Option<String>,
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
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Impact known so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// Links known so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// Changes to descriptive fields; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New incident type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub incident_type: Option<String>,
    /// New set of services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// Labels to set; a `null` value removes the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, Option<String>>>,
    /// New impact assessment (replaces the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// Root cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// New links (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    /// New classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<bool>,
}

/// Who a status update can be for.
pub use crate::comms::AUDIENCES;

/// The audience whose updates the severity's `update_every` cadence counts.
pub const INTERNAL_AUDIENCE: &str = "internal";

/// A rendered (and perhaps edited) message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingDraft {
    /// Template it came from.
    pub template: String,
    /// Subject line.
    pub subject: String,
    /// Text.
    pub text: String,
    /// Recipients: channel ids, people's handles, `email:` addresses.
    pub to: Vec<String>,
    /// Notification clocks it meets; `None` means every started, unmet clock it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meets: Option<Vec<String>>,
}

/// Every change a responder can ask for on an existing incident.
// Commands are short-lived single values; boxing the patch would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// "I'm on it."
    Acknowledge,
    /// Raise or lower severity.
    ChangeSeverity {
        /// New severity id.
        severity: String,
        /// Why.
        reason: Option<String>,
    },
    /// Move between active statuses.
    ChangeStatus {
        /// New status.
        status: Status,
        /// Why.
        reason: Option<String>,
    },
    /// Give a person an incident role.
    AssignRole {
        /// Role id.
        role: String,
        /// Person.
        person: String,
    },
    /// Leave a role empty.
    UnassignRole {
        /// Role id.
        role: String,
    },
    /// Add a note to the timeline.
    AddNote {
        /// The note.
        text: String,
    },
    /// Record a status update sent to an audience (one of [`AUDIENCES`]).
    PostUpdate {
        /// Who it is for.
        audience: String,
        /// What it says.
        text: String,
    },
    /// Record a message Warroom sends from a template: the event names the recipients, and
    /// the outbox messages derive from it in the same transaction.
    SendMessage(OutgoingDraft),
    /// Record when a moment a notification clock starts from happened.
    RecordMoment {
        /// `aware`, `discovered` or `materiality-determined`.
        moment: String,
        /// When it happened.
        at: Timestamp,
    },
    /// Write (or, with empty text, clear) a section of the post-incident review.
    SetPostmortemSection {
        /// One of [`crate::postmortem::SECTIONS`].
        section: String,
        /// Markdown.
        text: String,
    },
    /// Mark a note as a key moment of the review's timeline, or unmark it.
    MarkKeyMoment {
        /// The note's sequence number (the caller checks it is a note).
        seq: u64,
        /// Mark or unmark.
        marked: bool,
    },
    /// Freeze the review as it reads now.
    PublishPostmortem {
        /// The rendered document.
        markdown: String,
    },
    /// Change descriptive fields.
    Update(IncidentPatch),
    /// Impact is over.
    Resolve {
        /// How it was resolved.
        summary: String,
    },
    /// Done after review.
    Close,
    /// Work resumes.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Page the next step of the escalation policy now (or start paging).
    Escalate,
    /// Attach a configured playbook by hand.
    AttachPlaybook {
        /// Playbook id.
        playbook: String,
    },
    /// Detach a playbook; it will not re-attach by itself.
    DetachPlaybook {
        /// Playbook id.
        playbook: String,
        /// Why.
        reason: Option<String>,
    },
    /// Check a task off.
    CompleteTask {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
    },
    /// Skip a task, saying why.
    SkipTask {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
        /// Why.
        reason: String,
    },
    /// Open a done or skipped task again.
    ReopenTask {
        /// Playbook id.
        playbook: String,
        /// Task id.
        task: String,
    },
    /// Create a follow-up action item (allowed on closed incidents too).
    AddAction(crate::action::NewAction),
    /// Change an action item (allowed on closed incidents too).
    UpdateAction {
        /// Item id (`A1`...).
        action: String,
        /// What changes.
        patch: crate::action::ActionPatch,
    },
}

impl Command {
    /// The least role allowed to issue this command.
    pub fn required_role(&self) -> Role {
        match self {
            Command::Acknowledge
            | Command::ChangeStatus { .. }
            | Command::AddNote { .. }
            | Command::PostUpdate { .. }
            | Command::SendMessage(_)
            | Command::RecordMoment { .. }
            | Command::SetPostmortemSection { .. }
            | Command::MarkKeyMoment { .. }
            | Command::Resolve { .. }
            | Command::CompleteTask { .. }
            | Command::SkipTask { .. }
            | Command::ReopenTask { .. }
            | Command::AddAction(_)
            | Command::UpdateAction { .. }
            | Command::Escalate => Role::Responder,
            Command::Update(patch) if patch.restricted.is_none() => Role::Responder,
            Command::Update(_)
            | Command::ChangeSeverity { .. }
            | Command::AssignRole { .. }
            | Command::UnassignRole { .. }
            | Command::Close
            | Command::Reopen { .. }
            | Command::AttachPlaybook { .. }
            | Command::PublishPostmortem { .. }
            | Command::DetachPlaybook { .. } => Role::Commander,
        }
    }
}

/// Checks a declaration and produces the first event of the new incident.
pub fn declare(d: &Declaration, config: &Config) -> Result<EventKind, DomainError> {
    let title = check_title("title", &d.title)?;
    let incident_type = match &d.incident_type {
        Some(t) => check_type(t, config)?,
        None => config
            .incident_type("other")
            .or(config.incident_types.first())
            .map(|t| t.id.clone())
            .ok_or_else(|| invalid("type", "no incident types are configured"))?,
    };
    let severity = check_severity(&d.severity, config)?;
    let services = check_services(&d.services, config)?;
    for (k, v) in &d.labels {
        check_label(k, Some(v))?;
    }
    if d.labels.len() > MAX_LABELS {
        return Err(invalid("labels", format!("at most {MAX_LABELS} labels")));
    }
    let description = d
        .description
        .as_deref()
        .map(|t| check_text("description", t))
        .transpose()?;
    let impact = d
        .impact
        .as_ref()
        .map(|i| check_impact(i, config))
        .transpose()?;
    if let Some(links) = &d.links {
        check_links(links)?;
    }
    Ok(EventKind::Declared(Declared {
        title,
        description,
        incident_type,
        severity,
        services,
        labels: d.labels.clone(),
        restricted: d.restricted,
        impact,
        links: d.links.clone(),
    }))
}

/// Checks `cmd` against the incident and config; returns the events recording it, followed by
/// the attachment of every playbook whose triggers the change makes match.
pub fn decide(
    inc: &Incident,
    cmd: &Command,
    config: &Config,
) -> Result<Vec<EventKind>, DomainError> {
    decide_with_overrides(inc, cmd, config, &[])
}

/// [`decide`], with the schedule overrides live now, so any page it sends goes to whoever
/// an override puts on call.
pub fn decide_with_overrides(
    inc: &Incident,
    cmd: &Command,
    config: &Config,
    overrides: &[crate::schedule::Override],
) -> Result<Vec<EventKind>, DomainError> {
    let mut events = decide_change(inc, cmd, config, overrides)?;
    let may_change_matching = events.iter().any(|e| {
        matches!(
            e,
            EventKind::SeverityChanged { .. }
                | EventKind::TypeChanged { .. }
                | EventKind::ServicesChanged { .. }
                | EventKind::LabelsChanged { .. }
        )
    });
    if may_change_matching {
        let after = inc.preview(&events, inc.updated_at, &inc.reporter);
        events.extend(playbooks_to_attach(&after, config));
        // Raising an unacknowledged incident to a paging severity starts paging.
        let pages = config.severity(&after.severity).is_some_and(|s| s.pages);
        if pages
            && after.escalation.is_none()
            && after.acknowledged_at.is_none()
            && after.status.is_open()
            && let Some(policy) = escalation::policy_for(config, &after)
        {
            events.push(escalation::page(
                config,
                policy,
                0,
                &after.roles,
                overrides,
                inc.updated_at,
                false,
            ));
        }
    }
    Ok(events)
}

/// Everything a declaration records: the declaration, then the attachment of every playbook
/// whose triggers match it.
pub fn declaration_events(d: &Declaration, config: &Config) -> Result<Vec<EventKind>, DomainError> {
    let declared = declare(d, config)?;
    let mut events = playbooks_for_declaration(&declared, config);
    events.insert(0, declared);
    Ok(events)
}

/// The first page for a new declaration at `at`, when its severity pages and a policy applies;
/// schedules are answered with the live `overrides`.
pub fn page_for_declaration(
    declared: &EventKind,
    config: &Config,
    overrides: &[crate::schedule::Override],
    at: jiff::Timestamp,
) -> Option<EventKind> {
    let EventKind::Declared(d) = declared else {
        return None;
    };
    if !config.severity(&d.severity)?.pages {
        return None;
    }
    let policy = escalation::policy_for_services(config, &d.services)?;
    Some(escalation::page(
        config,
        policy,
        0,
        &BTreeMap::new(),
        overrides,
        at,
        false,
    ))
}

/// Playbooks whose triggers match a new declaration: the events that follow `declared`.
pub fn playbooks_for_declaration(declared: &EventKind, config: &Config) -> Vec<EventKind> {
    let EventKind::Declared(d) = declared else {
        return Vec::new();
    };
    let facts = MatchFacts {
        incident_type: &d.incident_type,
        services: &d.services,
        severity: &d.severity,
        labels: &d.labels,
    };
    config
        .playbooks
        .iter()
        .filter(|pb| matches(pb, facts, config))
        .map(|pb| EventKind::PlaybookAttached {
            playbook: pb.clone(),
            automatic: true,
        })
        .collect()
}

fn playbooks_to_attach(inc: &Incident, config: &Config) -> Vec<EventKind> {
    let facts = MatchFacts {
        incident_type: &inc.incident_type,
        services: &inc.services,
        severity: &inc.severity,
        labels: &inc.labels,
    };
    let attached = attached_ids(inc);
    config
        .playbooks
        .iter()
        .filter(|pb| !attached.contains(pb.id.as_str()) && !inc.detached_playbooks.contains(&pb.id))
        .filter(|pb| matches(pb, facts, config))
        .map(|pb| EventKind::PlaybookAttached {
            playbook: pb.clone(),
            automatic: true,
        })
        .collect()
}

fn decide_change(
    inc: &Incident,
    cmd: &Command,
    config: &Config,
    overrides: &[crate::schedule::Override],
) -> Result<Vec<EventKind>, DomainError> {
    let closed = inc.status == Status::Closed;
    let refuse_if_closed = || {
        if closed {
            Err(DomainError::Conflict(
                "the incident is closed: reopen it first".into(),
            ))
        } else {
            Ok(())
        }
    };
    match cmd {
        Command::AddAction(new) => Ok(vec![crate::action::create(inc, new, config)?]),
        Command::UpdateAction { action, patch } => {
            Ok(vec![crate::action::update(inc, action, patch, config)?])
        }
        Command::Acknowledge => {
            if !inc.status.is_open() {
                return Err(DomainError::Conflict(format!(
                    "the incident is {}",
                    inc.status
                )));
            }
            if let (Some(by), Some(at)) = (&inc.acknowledged_by, inc.acknowledged_at) {
                return Err(DomainError::Conflict(format!(
                    "already acknowledged by {by} at {at}"
                )));
            }
            let mut events = vec![EventKind::Acknowledged {}];
            if inc.status == Status::Triage {
                events.push(EventKind::StatusChanged {
                    from: Status::Triage,
                    to: Status::Investigating,
                    reason: Some("acknowledged".into()),
                });
            }
            Ok(events)
        }
        Command::ChangeSeverity { severity, reason } => {
            refuse_if_closed()?;
            let to = check_severity(severity, config)?;
            if to == inc.severity {
                return Err(DomainError::Conflict(format!("severity is already {to}")));
            }
            Ok(vec![EventKind::SeverityChanged {
                from: inc.severity.clone(),
                to,
                reason: check_reason(reason)?,
            }])
        }
        Command::ChangeStatus { status, reason } => {
            check_status_change(inc.status, *status)?;
            Ok(vec![EventKind::StatusChanged {
                from: inc.status,
                to: *status,
                reason: check_reason(reason)?,
            }])
        }
        Command::AssignRole { role, person } => {
            refuse_if_closed()?;
            let role = check_role(role, config)?;
            let person = check_person(person)?;
            let replaced = inc.roles.get(&role).cloned();
            if replaced.as_deref() == Some(person.as_str()) {
                return Err(DomainError::Conflict(format!("{person} is already {role}")));
            }
            Ok(vec![EventKind::RoleAssigned {
                role,
                person,
                replaced,
            }])
        }
        Command::UnassignRole { role } => {
            refuse_if_closed()?;
            let role = check_role(role, config)?;
            match inc.roles.get(&role) {
                Some(person) => Ok(vec![EventKind::RoleUnassigned {
                    role,
                    person: person.clone(),
                }]),
                None => Err(DomainError::Conflict(format!("nobody holds {role}"))),
            }
        }
        Command::AddNote { text } => {
            refuse_if_closed()?;
            let text = check_text("text", text)?;
            if text.is_empty() {
                return Err(invalid("text", "a note must not be empty"));
            }
            Ok(vec![EventKind::NoteAdded { text }])
        }
        Command::PostUpdate { audience, text } => {
            refuse_if_closed()?;
            if !AUDIENCES.contains(&audience.as_str()) {
                return Err(invalid(
                    "audience",
                    format!(
                        "unknown audience {audience:?}; expected one of {}",
                        AUDIENCES.join(", ")
                    ),
                ));
            }
            let text = check_text("text", text)?;
            if text.is_empty() {
                return Err(invalid("text", "an update must not be empty"));
            }
            // Recorded by hand, it met the clocks that take any message to its audience.
            let meets = crate::comms::deadline::met_by_message(
                inc,
                &config.comms.deadlines,
                audience,
                None,
            );
            Ok(vec![EventKind::UpdatePosted {
                audience: audience.clone(),
                text,
                template: None,
                subject: None,
                to: Vec::new(),
                meets,
            }])
        }
        Command::SendMessage(draft) => {
            refuse_if_closed()?;
            send_message(inc, draft, config)
        }
        Command::SetPostmortemSection { section, text } => {
            if !crate::postmortem::SECTIONS.contains(&section.as_str()) {
                return Err(invalid(
                    "section",
                    format!(
                        "unknown section {section:?}; expected one of {}",
                        crate::postmortem::SECTIONS.join(", ")
                    ),
                ));
            }
            let text = check_text("text", text)?;
            if inc
                .postmortem_sections
                .get(section)
                .map(String::as_str)
                .unwrap_or("")
                == text
            {
                return Ok(Vec::new());
            }
            Ok(vec![EventKind::PostmortemSectionSet {
                section: section.clone(),
                text,
            }])
        }
        Command::MarkKeyMoment { seq, marked } => {
            if *seq == 0 || *seq > inc.version {
                return Err(invalid("seq", format!("no event {seq} in this incident")));
            }
            if inc.key_moments.contains(seq) == *marked {
                return Ok(Vec::new());
            }
            Ok(vec![EventKind::KeyMomentMarked {
                seq: *seq,
                marked: *marked,
            }])
        }
        Command::PublishPostmortem { markdown } => {
            if inc.resolved_at.is_none() {
                return Err(DomainError::Conflict(
                    "a review is published once the incident is resolved".into(),
                ));
            }
            if markdown.trim().is_empty() {
                return Err(invalid("markdown", "the document is empty"));
            }
            if markdown.chars().count() > MAX_DOCUMENT {
                return Err(invalid(
                    "markdown",
                    format!("at most {MAX_DOCUMENT} characters"),
                ));
            }
            let version = u32::try_from(inc.postmortems.len() + 1).unwrap_or(u32::MAX);
            Ok(vec![EventKind::PostmortemPublished {
                version,
                sha256: crate::postmortem::digest(markdown),
                markdown: markdown.clone(),
            }])
        }
        Command::RecordMoment { moment, at } => {
            refuse_if_closed()?;
            if !crate::comms::deadline::MOMENTS.contains(&moment.as_str()) {
                return Err(invalid(
                    "moment",
                    format!(
                        "unknown moment {moment:?}; expected one of {}",
                        crate::comms::deadline::MOMENTS.join(", ")
                    ),
                ));
            }
            Ok(vec![EventKind::MomentRecorded {
                moment: moment.clone(),
                at: *at,
            }])
        }
        Command::Update(patch) => {
            refuse_if_closed()?;
            update(inc, patch, config)
        }
        Command::Resolve { summary } => {
            if !inc.status.is_open() {
                return Err(DomainError::Conflict(format!(
                    "the incident is already {}",
                    inc.status
                )));
            }
            let summary = check_text("summary", summary)?;
            if summary.is_empty() {
                return Err(invalid(
                    "summary",
                    "resolving needs a summary of what fixed it",
                ));
            }
            Ok(vec![EventKind::Resolved {
                from: inc.status,
                summary,
            }])
        }
        Command::Close => match (inc.status, &inc.resolution_summary) {
            (Status::Resolved, Some(_)) => Ok(vec![EventKind::Closed {}]),
            (Status::Closed, _) => Err(DomainError::Conflict(
                "the incident is already closed".into(),
            )),
            _ => Err(DomainError::Conflict(format!(
                "only a resolved incident can be closed; it is {}",
                inc.status
            ))),
        },
        Command::Escalate => {
            if !inc.status.is_open() {
                return Err(DomainError::Conflict(format!(
                    "the incident is {}",
                    inc.status
                )));
            }
            let at = inc.updated_at;
            match &inc.escalation {
                Some(state) if state.exhausted => Err(DomainError::Conflict(format!(
                    "escalation policy {} is exhausted",
                    state.policy
                ))),
                Some(_) => escalation::escalate(config, inc, overrides, at, true)
                    .map(|e| vec![e])
                    .ok_or_else(|| DomainError::Conflict("the escalation policy no longer exists".into())),
                None => escalation::policy_for(config, inc)
                    .map(|p| vec![escalation::page(config, p, 0, &inc.roles, overrides, at, true)])
                    .ok_or_else(|| {
                        DomainError::Conflict(
                            "no escalation policy applies: give a service an escalation_policy or define `default`".into(),
                        )
                    }),
            }
        }
        Command::AttachPlaybook { playbook } => {
            refuse_if_closed()?;
            let pb = config.playbook(playbook).ok_or_else(|| {
                let known: Vec<&str> = config.playbooks.iter().map(|p| p.id.as_str()).collect();
                invalid(
                    "playbook",
                    format!(
                        "unknown playbook {playbook:?}; expected one of {}",
                        known.join(", ")
                    ),
                )
            })?;
            if attached_ids(inc).contains(playbook.as_str()) {
                return Err(DomainError::Conflict(format!(
                    "playbook {playbook} is already attached"
                )));
            }
            Ok(vec![EventKind::PlaybookAttached {
                playbook: pb.clone(),
                automatic: false,
            }])
        }
        Command::DetachPlaybook { playbook, reason } => {
            refuse_if_closed()?;
            if !attached_ids(inc).contains(playbook.as_str()) {
                return Err(DomainError::Conflict(format!(
                    "playbook {playbook} is not attached"
                )));
            }
            Ok(vec![EventKind::PlaybookDetached {
                playbook: playbook.clone(),
                reason: check_reason(reason)?,
            }])
        }
        Command::CompleteTask { playbook, task }
        | Command::SkipTask { playbook, task, .. }
        | Command::ReopenTask { playbook, task } => {
            refuse_if_closed()?;
            let attached = inc
                .playbooks
                .iter()
                .find(|a| &a.playbook.id == playbook)
                .ok_or_else(|| {
                    invalid(
                        "playbook",
                        format!("playbook {playbook:?} is not attached to this incident"),
                    )
                })?;
            let exists = attached
                .playbook
                .phases
                .iter()
                .any(|ph| ph.tasks.iter().any(|t| &t.id == task));
            if !exists {
                return Err(invalid(
                    "task",
                    format!("playbook {playbook} has no task {task:?}"),
                ));
            }
            let current = attached.progress.get(task).map(|p| p.state);
            let (playbook, task) = (playbook.clone(), task.clone());
            match cmd {
                Command::CompleteTask { .. } if current == Some(TaskState::Done) => Err(
                    DomainError::Conflict(format!("task {playbook}/{task} is already done")),
                ),
                Command::CompleteTask { .. } => {
                    Ok(vec![EventKind::TaskCompleted { playbook, task }])
                }
                Command::SkipTask { reason, .. } => {
                    let reason = check_text("reason", reason)?;
                    if reason.is_empty() {
                        return Err(invalid("reason", "say why the task is skipped"));
                    }
                    if current == Some(TaskState::Skipped) {
                        return Err(DomainError::Conflict(format!(
                            "task {playbook}/{task} is already skipped"
                        )));
                    }
                    Ok(vec![EventKind::TaskSkipped {
                        playbook,
                        task,
                        reason,
                    }])
                }
                _ if current.is_none() => Err(DomainError::Conflict(format!(
                    "task {playbook}/{task} is already open"
                ))),
                _ => Ok(vec![EventKind::TaskReopened { playbook, task }]),
            }
        }
        Command::Reopen { reason } => {
            if inc.status.is_open() {
                return Err(DomainError::Conflict(format!(
                    "the incident is open ({})",
                    inc.status
                )));
            }
            let reason = check_text("reason", reason)?;
            if reason.is_empty() {
                return Err(invalid("reason", "say why the incident is reopened"));
            }
            Ok(vec![EventKind::Reopened {
                from: inc.status,
                reason,
            }])
        }
    }
}

fn update(
    inc: &Incident,
    patch: &IncidentPatch,
    config: &Config,
) -> Result<Vec<EventKind>, DomainError> {
    let mut events = Vec::new();
    if let Some(title) = &patch.title {
        let to = check_title("title", title)?;
        if to != inc.title {
            events.push(EventKind::TitleChanged {
                from: inc.title.clone(),
                to,
            });
        }
    }
    if let Some(t) = &patch.incident_type {
        let to = check_type(t, config)?;
        if to != inc.incident_type {
            events.push(EventKind::TypeChanged {
                from: inc.incident_type.clone(),
                to,
            });
        }
    }
    if let Some(services) = &patch.services {
        let services = check_services(services, config)?;
        if services != inc.services {
            events.push(EventKind::ServicesChanged { services });
        }
    }
    if let Some(labels) = &patch.labels {
        let mut set = BTreeMap::new();
        let mut removed = Vec::new();
        for (k, v) in labels {
            check_label(k, v.as_ref())?;
            match v {
                Some(v) if inc.labels.get(k) != Some(v) => {
                    set.insert(k.clone(), v.clone());
                }
                None if inc.labels.contains_key(k) => removed.push(k.clone()),
                _ => {}
            }
        }
        let after = inc.labels.len() + set.keys().filter(|k| !inc.labels.contains_key(*k)).count()
            - removed.len();
        if after > MAX_LABELS {
            return Err(invalid("labels", format!("at most {MAX_LABELS} labels")));
        }
        if !set.is_empty() || !removed.is_empty() {
            events.push(EventKind::LabelsChanged { set, removed });
        }
    }
    if let Some(impact) = &patch.impact {
        let impact = check_impact(impact, config)?;
        if impact != inc.impact {
            events.push(EventKind::ImpactUpdated { impact });
        }
    }
    if let Some(root_cause) = &patch.root_cause {
        let root_cause = check_text("root_cause", root_cause)?;
        if inc.root_cause.as_ref() != Some(&root_cause) && !root_cause.is_empty() {
            events.push(EventKind::RootCauseSet { root_cause });
        }
    }
    if let Some(links) = &patch.links {
        check_links(links)?;
        if *links != inc.links {
            events.push(EventKind::LinksUpdated {
                links: links.clone(),
            });
        }
    }
    if let Some(restricted) = patch.restricted
        && restricted != inc.restricted
    {
        events.push(EventKind::ClassificationChanged { restricted });
    }
    Ok(events)
}

fn has_control(text: &str, allow_newlines: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r')))
}

pub(crate) fn check_title(field: &str, title: &str) -> Result<String, DomainError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(invalid(field, format!("at most {MAX_TITLE} characters")));
    }
    if has_control(title, false) {
        return Err(invalid(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(title.to_string())
}

/// Most recipients one message may name.
pub const MAX_RECIPIENTS: usize = 20;

fn send_message(
    inc: &Incident,
    draft: &OutgoingDraft,
    config: &Config,
) -> Result<Vec<EventKind>, DomainError> {
    let template = config.template(&draft.template).ok_or_else(|| {
        invalid(
            "template",
            format!(
                "unknown template {:?} (`warroom comms templates` lists them)",
                draft.template
            ),
        )
    })?;
    let subject = check_text("subject", &draft.subject)?;
    if subject.is_empty() || subject.contains('\n') {
        return Err(invalid("subject", "a subject is one line of text"));
    }
    let text = check_text("text", &draft.text)?;
    if text.is_empty() {
        return Err(invalid("text", "a message must not be empty"));
    }
    if draft.to.is_empty() {
        return Err(invalid("to", "name at least one recipient"));
    }
    if draft.to.len() > MAX_RECIPIENTS {
        return Err(invalid(
            "to",
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    let mut to = Vec::new();
    for recipient in &draft.to {
        crate::comms::recipient::resolve(recipient, config)
            .map_err(|e| invalid("to", e.to_string()))?;
        let recipient = recipient.trim().to_string();
        if !to.contains(&recipient) {
            to.push(recipient);
        }
    }
    let rules = &config.comms.deadlines;
    let matching =
        crate::comms::deadline::met_by_message(inc, rules, &template.audience, Some(&template.id));
    let meets = match &draft.meets {
        None => matching,
        Some(asked) => {
            for rule in asked {
                if !matching.contains(rule) {
                    return Err(invalid(
                        "meets",
                        format!(
                            "{rule:?} is not an open notification deadline of this incident that a message to {} from template {} can meet (`warroom deadlines {}` lists them)",
                            template.audience, template.id, inc.id
                        ),
                    ));
                }
            }
            let mut asked = asked.clone();
            asked.dedup();
            asked
        }
    };
    Ok(vec![EventKind::UpdatePosted {
        audience: template.audience.clone(),
        text,
        template: Some(template.id.clone()),
        subject: Some(subject),
        to,
        meets,
    }])
}

fn check_text(field: &str, text: &str) -> Result<String, DomainError> {
    if text.chars().count() > MAX_TEXT {
        return Err(invalid(field, format!("at most {MAX_TEXT} characters")));
    }
    if has_control(text, true) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(text.trim().to_string())
}

fn check_reason(reason: &Option<String>) -> Result<Option<String>, DomainError> {
    Ok(reason
        .as_deref()
        .map(|r| check_text("reason", r))
        .transpose()?
        .filter(|r| !r.is_empty()))
}

fn check_severity(id: &str, config: &Config) -> Result<String, DomainError> {
    config.severity(id).map(|s| s.id.clone()).ok_or_else(|| {
        let known: Vec<&str> = config.severities.iter().map(|s| s.id.as_str()).collect();
        invalid(
            "severity",
            format!(
                "unknown severity {id:?}; expected one of {}",
                known.join(", ")
            ),
        )
    })
}

fn check_type(id: &str, config: &Config) -> Result<String, DomainError> {
    config
        .incident_type(id)
        .map(|t| t.id.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = config
                .incident_types
                .iter()
                .map(|t| t.id.as_str())
                .collect();
            invalid(
                "type",
                format!(
                    "unknown incident type {id:?}; expected one of {}",
                    known.join(", ")
                ),
            )
        })
}

fn check_role(id: &str, config: &Config) -> Result<String, DomainError> {
    config.role(id).map(|r| r.id.clone()).ok_or_else(|| {
        let known: Vec<&str> = config.roles.iter().map(|r| r.id.as_str()).collect();
        invalid(
            "role",
            format!("unknown role {id:?}; expected one of {}", known.join(", ")),
        )
    })
}

fn check_services(services: &[String], config: &Config) -> Result<Vec<String>, DomainError> {
    if services.len() > MAX_SERVICES {
        return Err(invalid(
            "services",
            format!("at most {MAX_SERVICES} services"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for s in services {
        let s = s.trim();
        if !config.accepts_service(s) {
            let known: Vec<&str> = config.services.iter().map(|s| s.id.as_str()).collect();
            return Err(invalid(
                "services",
                format!(
                    "unknown service {s:?}; expected one of {}",
                    known.join(", ")
                ),
            ));
        }
        if s.is_empty() || s.len() > 64 || has_control(s, false) {
            return Err(invalid("services", format!("invalid service name {s:?}")));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

/// Labels end up in URLs and filters: keys are plain, values are short single lines.
fn check_label(key: &str, value: Option<&String>) -> Result<(), DomainError> {
    let key_ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if !key_ok {
        return Err(invalid(
            "labels",
            format!("invalid label key {key:?}: use 1-64 letters, digits, '-', '_', '.' or '/'"),
        ));
    }
    if let Some(v) = value
        && (v.chars().count() > 256 || has_control(v, false))
    {
        return Err(invalid(
            "labels",
            format!("label {key:?}: value must be one line of at most 256 characters"),
        ));
    }
    Ok(())
}

fn check_person(person: &str) -> Result<String, DomainError> {
    let person = person.trim();
    if person.is_empty()
        || person.chars().count() > 64
        || person.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "person",
            "a person is a handle of 1-64 characters without spaces",
        ));
    }
    Ok(person.to_string())
}

/// Checks an impact assessment and returns it normalised like the incident's own fields.
fn check_impact(impact: &Impact, config: &Config) -> Result<Impact, DomainError> {
    let text = |field: &str, value: &Option<String>| -> Result<Option<String>, DomainError> {
        Ok(value
            .as_deref()
            .map(|t| check_text(field, t))
            .transpose()?
            .filter(|t| !t.is_empty()))
    };
    let services_impacted =
        check_services(&impact.services_impacted, config).map_err(|e| match e {
            DomainError::Invalid { message, .. } => invalid("impact.services_impacted", message),
            other => other,
        })?;
    Ok(Impact {
        users_affected: impact.users_affected,
        data_affected: text("impact.data_affected", &impact.data_affected)?,
        services_impacted,
        estimated_cost: text("impact.estimated_cost", &impact.estimated_cost)?,
    })
}

fn check_links(links: &Links) -> Result<(), DomainError> {
    for (field, value) in [
        ("links.ticket", &links.ticket),
        ("links.chat_channel", &links.chat_channel),
        ("links.dashboard", &links.dashboard),
    ] {
        if let Some(v) = value
            && (v.chars().count() > 2048 || has_control(v, false))
        {
            return Err(invalid(
                field,
                "must be one line of at most 2048 characters",
            ));
        }
    }
    Ok(())
}
