//! The incident as it stands now: a fold of its events.
//!
//! [`Incident::apply`] is the only way state changes, so the projection a store keeps and a
//! replay of the log can never disagree.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::id::IncidentId;
use crate::lifecycle::Status;
use crate::playbook::{AttachedPlaybook, TaskProgress, TaskState};

/// Who and what is affected. Every field is optional: impact is often unknown at first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Impact {
    /// Number of users affected, best estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_affected: Option<u64>,
    /// What data is affected (e.g. "email addresses of EU customers").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_affected: Option<String>,
    /// Services impacted, beyond those the incident is filed against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services_impacted: Vec<String>,
    /// Estimated cost, free text with currency (e.g. "USD 12,000").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost: Option<String>,
}

/// Where responders coordinate and track the incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Links {
    /// Ticket in the team's tracker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Chat channel of the incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_channel: Option<String>,
    /// Dashboard showing the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

/// The current state of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-YYYYMMDD-NNN`.
    pub id: IncidentId,
    /// Number of events applied; the sequence number of the last event.
    pub version: u64,
    /// One line saying what is wrong.
    pub title: String,
    /// Longer description given at declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Incident type id from config (e.g. `security-breach`).
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Severity id from config (e.g. `P1`).
    pub severity: String,
    /// Lifecycle status.
    pub status: Status,
    /// Services the incident is filed against.
    pub services: Vec<String>,
    /// Free key/value labels.
    pub labels: BTreeMap<String, String>,
    /// Restricted incidents are visible only to participants, security and admins.
    pub restricted: bool,
    /// Incident role id -> person holding it.
    pub roles: BTreeMap<String, String>,
    /// Who and what is affected.
    pub impact: Impact,
    /// Root cause once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// How it was resolved; required to resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_summary: Option<String>,
    /// Ticket, chat channel, dashboard.
    pub links: Links,
    /// Who declared it.
    pub reporter: String,
    /// Everyone who declared, acted on or held a role in the incident.
    pub participants: BTreeSet<String>,
    /// When it was declared.
    pub declared_at: Timestamp,
    /// First acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    /// Who acknowledged first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// First time it reached `contained` (or later) since the last reopen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contained_at: Option<Timestamp>,
    /// When it was resolved; cleared by reopening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// When it was closed; cleared by reopening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Time of the last event.
    pub updated_at: Timestamp,
    /// Playbooks attached, with task progress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbooks: Vec<AttachedPlaybook>,
    /// Where paging stands, once the incident has paged anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<crate::escalation::EscalationState>,
    /// When the acknowledgement target was missed, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_target_missed_at: Option<Timestamp>,
    /// How many alerts have been attached.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub alerts: u64,
    /// When the last internal status update was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_at: Option<Timestamp>,
    /// When a reminder last said a status update is overdue; cleared by the next internal
    /// update, so while it is set the incident owes its stakeholders an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_reminded_at: Option<Timestamp>,
    /// Playbooks detached by hand; they do not re-attach by themselves.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub detached_playbooks: BTreeSet<String>,
    /// Moments notification clocks start from (`aware`, `discovered`,
    /// `materiality-determined`), as last recorded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub moments: BTreeMap<String, Timestamp>,
    /// Notification clocks (deadline rule ids) met, with when.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deadlines_met: BTreeMap<String, Timestamp>,
    /// The post-incident review's written sections.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub postmortem_sections: BTreeMap<String, String>,
    /// Notes marked as key moments of the review's timeline (by sequence number).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub key_moments: BTreeSet<u64>,
    /// Published versions of the review (the text is in their events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postmortems: Vec<crate::postmortem::Published>,
    /// Follow-up action items, in order of creation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::action::ActionItem>,
}

/// The log cannot be folded: it does not start with a declaration, or declares twice, or skips
/// a sequence number. A store that reports this has corrupted data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// The first event of a log must be `declared`.
    #[error("event {seq} of {id}: the log must start with a declaration")]
    NotDeclared {
        /// Incident the event belongs to.
        id: String,
        /// Offending sequence number.
        seq: u64,
    },
    /// Only the first event may be a declaration.
    #[error("event {seq} of {id}: declared twice")]
    DeclaredTwice {
        /// Incident the event belongs to.
        id: String,
        /// Offending sequence number.
        seq: u64,
    },
    /// Sequence numbers must be 1, 2, 3...
    #[error("event {seq} of {id}: expected sequence number {expected}")]
    Gap {
        /// Incident the event belongs to.
        id: String,
        /// Offending sequence number.
        seq: u64,
        /// What it should have been.
        expected: u64,
    },
}

impl Incident {
    /// Replays a whole log.
    pub fn fold<'a>(
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Option<Incident>, FoldError> {
        let mut state: Option<Incident> = None;
        for event in events {
            state = Some(Incident::apply(state, event)?);
        }
        Ok(state)
    }

    /// Applies one event to the state before it (`None` before the declaration).
    pub fn apply(state: Option<Incident>, event: &Event) -> Result<Incident, FoldError> {
        let expected = state.as_ref().map_or(1, |s| s.version + 1);
        if event.seq != expected {
            return Err(FoldError::Gap {
                id: event.incident_id.to_string(),
                seq: event.seq,
                expected,
            });
        }
        let mut inc = match (state, &event.kind) {
            (None, EventKind::Declared(d)) => Incident {
                id: event.incident_id.clone(),
                version: 0,
                title: d.title.clone(),
                description: d.description.clone(),
                incident_type: d.incident_type.clone(),
                severity: d.severity.clone(),
                status: Status::Triage,
                services: d.services.clone(),
                labels: d.labels.clone(),
                restricted: d.restricted,
                roles: BTreeMap::new(),
                impact: d.impact.clone().unwrap_or_default(),
                root_cause: None,
                resolution_summary: None,
                links: d.links.clone().unwrap_or_default(),
                reporter: event.actor.clone(),
                participants: BTreeSet::new(),
                declared_at: event.at,
                acknowledged_at: None,
                acknowledged_by: None,
                contained_at: None,
                resolved_at: None,
                closed_at: None,
                updated_at: event.at,
                playbooks: Vec::new(),
                acknowledge_target_missed_at: None,
                alerts: 0,
                last_update_at: None,
                update_reminded_at: None,
                escalation: None,
                detached_playbooks: BTreeSet::new(),
                moments: BTreeMap::new(),
                deadlines_met: BTreeMap::new(),
                postmortem_sections: BTreeMap::new(),
                key_moments: BTreeSet::new(),
                postmortems: Vec::new(),
                actions: Vec::new(),
            },
            (None, _) => {
                return Err(FoldError::NotDeclared {
                    id: event.incident_id.to_string(),
                    seq: event.seq,
                });
            }
            (Some(_), EventKind::Declared(_)) => {
                return Err(FoldError::DeclaredTwice {
                    id: event.incident_id.to_string(),
                    seq: event.seq,
                });
            }
            (Some(mut inc), kind) => {
                inc.apply_change(kind, event.at, &event.actor);
                inc
            }
        };
        inc.version = event.seq;
        inc.updated_at = event.at;
        inc.participants.insert(event.actor.clone());
        Ok(inc)
    }

    /// The state after `kinds`, without the bookkeeping of a real append: what a command's
    /// events would lead to (used to see which playbooks would then match).
    pub fn preview(&self, kinds: &[EventKind], at: Timestamp, actor: &str) -> Incident {
        let mut next = self.clone();
        for kind in kinds {
            next.apply_change(kind, at, actor);
        }
        next
    }

    fn apply_change(&mut self, kind: &EventKind, at: Timestamp, actor: &str) {
        match kind {
            EventKind::Declared(_) => {}
            EventKind::Acknowledged {} => {
                if self.acknowledged_at.is_none() {
                    self.acknowledged_at = Some(at);
                    self.acknowledged_by = Some(actor.to_string());
                }
            }
            EventKind::SeverityChanged { to, .. } => self.severity = to.clone(),
            EventKind::StatusChanged { to, .. } => self.enter_status(*to, at),
            EventKind::RoleAssigned { role, person, .. } => {
                self.roles.insert(role.clone(), person.clone());
                self.participants.insert(person.clone());
            }
            EventKind::RoleUnassigned { role, .. } => {
                self.roles.remove(role);
            }
            EventKind::NoteAdded { .. } => {}
            EventKind::TitleChanged { to, .. } => self.title = to.clone(),
            EventKind::TypeChanged { to, .. } => self.incident_type = to.clone(),
            EventKind::ServicesChanged { services } => self.services = services.clone(),
            EventKind::LabelsChanged { set, removed } => {
                for key in removed {
                    self.labels.remove(key);
                }
                self.labels
                    .extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            EventKind::ImpactUpdated { impact } => self.impact = impact.clone(),
            EventKind::RootCauseSet { root_cause } => self.root_cause = Some(root_cause.clone()),
            EventKind::LinksUpdated { links } => self.links = links.clone(),
            EventKind::ClassificationChanged { restricted } => self.restricted = *restricted,
            EventKind::Resolved { summary, .. } => {
                self.resolution_summary = Some(summary.clone());
                self.enter_status(Status::Resolved, at);
            }
            EventKind::Closed {} => self.enter_status(Status::Closed, at),
            EventKind::PlaybookAttached {
                playbook,
                automatic,
            } => {
                self.detached_playbooks.remove(&playbook.id);
                self.playbooks.retain(|a| a.playbook.id != playbook.id);
                self.playbooks.push(AttachedPlaybook {
                    playbook: playbook.clone(),
                    attached_at: at,
                    attached_by: actor.to_string(),
                    automatic: *automatic,
                    progress: BTreeMap::new(),
                });
            }
            EventKind::PlaybookDetached { playbook, .. } => {
                self.playbooks.retain(|a| &a.playbook.id != playbook);
                self.detached_playbooks.insert(playbook.clone());
            }
            EventKind::TaskCompleted { playbook, task } => {
                self.set_task(playbook, task, TaskState::Done, at, actor, None)
            }
            EventKind::TaskSkipped {
                playbook,
                task,
                reason,
            } => self.set_task(
                playbook,
                task,
                TaskState::Skipped,
                at,
                actor,
                Some(reason.clone()),
            ),
            EventKind::AcknowledgeTargetMissed { .. } => {
                self.acknowledge_target_missed_at.get_or_insert(at);
            }
            EventKind::PhaseDeadlinePassed { .. } => {}
            EventKind::Paged {
                policy,
                step,
                people,
                ..
            } => {
                self.escalation = Some(crate::escalation::EscalationState {
                    policy: policy.clone(),
                    step: *step,
                    paged_at: at,
                    people: people.clone(),
                    exhausted: false,
                });
                // Whoever is paged must be able to see the incident, restricted or not.
                self.participants.extend(people.iter().cloned());
            }
            EventKind::NotificationDelivered { .. }
            | EventKind::NotificationDead { .. }
            | EventKind::PageRepeated { .. }
            | EventKind::ReviewDue { .. }
            | EventKind::ChangeRecorded { .. }
            | EventKind::StatusPagePublished { .. }
            | EventKind::StatusPageUpdated { .. } => {}
            EventKind::AlertsAttached { count, .. } => {
                self.alerts = self.alerts.saturating_add(*count);
            }
            EventKind::AlertsResolved { .. } | EventKind::ActionItemDue { .. } => {}
            // The evidence table is the store's projection of these; the incident's state only
            // gains the actor as a participant, as for any event.
            EventKind::EvidenceAdded { .. }
            | EventKind::EvidenceViewed { .. }
            | EventKind::EvidenceDownloaded { .. }
            | EventKind::EvidenceTransferred { .. }
            | EventKind::IndicatorRecorded { .. } => {}
            EventKind::ActionItemCreated { .. } | EventKind::ActionItemUpdated { .. } => {
                crate::action::apply(&mut self.actions, kind, at, actor)
            }
            EventKind::UpdatePosted {
                audience, meets, ..
            } => {
                if audience == crate::command::INTERNAL_AUDIENCE {
                    self.last_update_at = Some(at);
                    self.update_reminded_at = None;
                }
                for rule in meets {
                    self.deadlines_met.entry(rule.clone()).or_insert(at);
                }
            }
            EventKind::MomentRecorded { moment, at } => {
                self.moments.insert(moment.clone(), *at);
            }
            EventKind::DeadlineApproaching { .. } | EventKind::DeadlineMissed { .. } => {}
            EventKind::PostmortemSectionSet { section, text } => {
                if text.is_empty() {
                    self.postmortem_sections.remove(section);
                } else {
                    self.postmortem_sections
                        .insert(section.clone(), text.clone());
                }
            }
            EventKind::KeyMomentMarked { seq, marked } => {
                if *marked {
                    self.key_moments.insert(*seq);
                } else {
                    self.key_moments.remove(seq);
                }
            }
            EventKind::PostmortemPublished {
                version, sha256, ..
            } => self.postmortems.push(crate::postmortem::Published {
                version: *version,
                at,
                by: actor.to_string(),
                sha256: sha256.clone(),
            }),
            EventKind::UpdateDue { .. } => self.update_reminded_at = Some(at),
            EventKind::EscalationExhausted { .. } => {
                if let Some(state) = self.escalation.as_mut() {
                    state.exhausted = true;
                }
            }
            EventKind::TaskReopened { playbook, task } => {
                if let Some(a) = self
                    .playbooks
                    .iter_mut()
                    .find(|a| &a.playbook.id == playbook)
                {
                    a.progress.remove(task);
                }
            }
            EventKind::Reopened { .. } => {
                self.resolution_summary = None;
                self.resolved_at = None;
                self.closed_at = None;
                self.contained_at = None;
                self.status = Status::Investigating;
            }
        }
    }

    fn set_task(
        &mut self,
        playbook: &str,
        task: &str,
        state: TaskState,
        at: Timestamp,
        by: &str,
        reason: Option<String>,
    ) {
        if let Some(a) = self
            .playbooks
            .iter_mut()
            .find(|a| a.playbook.id == playbook)
        {
            a.progress.insert(
                task.to_string(),
                TaskProgress {
                    state,
                    by: by.to_string(),
                    at,
                    reason,
                },
            );
        }
    }

    fn enter_status(&mut self, to: Status, at: Timestamp) {
        self.status = to;
        if matches!(
            to,
            Status::Contained | Status::Recovering | Status::Resolved
        ) {
            self.contained_at.get_or_insert(at);
        }
        match to {
            Status::Resolved => self.resolved_at = Some(at),
            Status::Closed => self.closed_at = Some(at),
            _ => {}
        }
    }

    /// Text the free-text search looks in.
    pub fn search_text(&self) -> String {
        let mut text = format!("{} {}", self.id, self.title);
        for part in [
            &self.description,
            &self.root_cause,
            &self.resolution_summary,
        ]
        .into_iter()
        .flatten()
        {
            text.push(' ');
            text.push_str(part);
        }
        text.to_lowercase()
    }
}

/// For `skip_serializing_if`: zero counts are left out of the JSON.
fn is_zero(n: &u64) -> bool {
    *n == 0
}
