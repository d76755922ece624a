//! How alerts become incidents: the events that open an incident for new alerts or attach them
//! to the service's open one, and what an incident records when its last alert resolves.
//!
//! Grouping is by service: while a service has an open incident, its new alerts join it, so an
//! alert storm opens one incident, not hundreds. The store runs these functions under the
//! service's lock, in the transaction that links the alerts, so two processes never open two
//! incidents for one storm.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertSeverity};
use crate::command::{self, Command, Declaration, MAX_TITLE};
use crate::event::{Event, EventKind, GENESIS_HASH, NewEvent};
use crate::incident::Incident;
use crate::lifecycle::Status;
use crate::{Config, IncidentId};

/// How many alerts an `alerts_attached` event lists by name; the rest are counted.
pub const LISTED_ALERTS: usize = 20;

/// An alert as an incident's timeline names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRef {
    /// Alert id.
    pub id: String,
    /// Its summary when it joined.
    pub summary: String,
    /// Its severity when it joined.
    pub severity: AlertSeverity,
}

/// An alert with what routing decided for it when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedAlert {
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// Incident severity it asks for.
    pub incident_severity: String,
    /// Playbooks routing asked to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbooks: Vec<String>,
    /// Why it opens no incident (a suppress rule, or a threshold not reached), if it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// The declaration for an incident opened by `alerts` (all on `service`): titled after the first
/// alert, at the most severe incident severity any of them asks for.
pub fn declaration_for(service: &str, alerts: &[RoutedAlert], config: &Config) -> Declaration {
    let severity = alerts
        .iter()
        .filter_map(|a| {
            config
                .severity_rank(&a.incident_severity)
                .map(|rank| (rank, &a.incident_severity))
        })
        .min()
        .map(|(_, s)| s.clone())
        .or_else(|| config.severities.last().map(|s| s.id.clone()))
        .unwrap_or_default();
    let first = alerts.first().map(|a| &a.alert);
    let summary = first.map(|a| clean(&a.summary)).unwrap_or_default();
    let title = if summary.is_empty() {
        format!("Alert on {service}")
    } else {
        summary.chars().take(MAX_TITLE).collect()
    };
    Declaration {
        title,
        severity,
        services: if config.accepts_service(service) {
            vec![service.to_string()]
        } else {
            Vec::new()
        },
        description: first.map(|a| {
            format!(
                "Opened by a {} alert on {service}: {}",
                a.kind,
                clean(&a.summary)
            )
        }),
        ..Declaration::default()
    }
}

/// Text fit for a title: control characters become spaces, runs of space collapse.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The events that link `alerts` (all on `service`) to `current`, the service's open incident,
/// or, when there is none, declare one for them (with its automatic playbooks and its page,
/// `page` deciding who is paged for the declaration). Playbooks routing asked for are attached
/// when not already there.
pub fn link_events(
    current: Option<&Incident>,
    service: &str,
    alerts: &[RoutedAlert],
    config: &Config,
    page: &dyn Fn(&EventKind) -> Option<EventKind>,
    now: Timestamp,
) -> Result<Vec<EventKind>, crate::DomainError> {
    let mut events = Vec::new();
    let mut state = match current {
        Some(inc) => inc.clone(),
        None => {
            let decl = declaration_for(service, alerts, config);
            events = command::declaration_events(&decl, config)?;
            if let Some(paged) = events.first().and_then(page) {
                events.push(paged);
            }
            fold_scratch(&events, now)?
        }
    };
    let attached = EventKind::AlertsAttached {
        service: service.to_string(),
        count: alerts.len() as u64,
        alerts: alerts
            .iter()
            .take(LISTED_ALERTS)
            .map(|a| AlertRef {
                id: a.alert.id.clone(),
                summary: a.alert.summary.chars().take(MAX_TITLE).collect(),
                severity: a.alert.severity,
            })
            .collect(),
        first_seen: alerts.iter().map(|a| a.alert.first_seen).min(),
    };
    state = apply_scratch(state, &attached, now)?;
    events.push(attached);
    let mut wanted: Vec<&String> = alerts.iter().flat_map(|a| &a.playbooks).collect();
    wanted.dedup();
    for playbook in wanted {
        let cmd = Command::AttachPlaybook {
            playbook: playbook.clone(),
        };
        // Already attached, or detached by hand: routing does not override people.
        if let Ok(kinds) = command::decide(&state, &cmd, config) {
            for k in kinds {
                state = apply_scratch(state, &k, now)?;
                events.push(k);
            }
        }
    }
    Ok(events)
}

/// What an incident records when none of its `count` alerts is open any more: that fact, and,
/// when `to_recovering` (the alert policy) and the incident is still being worked, a move to
/// `recovering`. People decide when it is resolved.
pub fn settle_events(
    inc: &Incident,
    count: u64,
    to_recovering: bool,
    config: &Config,
) -> Vec<EventKind> {
    let mut events = vec![EventKind::AlertsResolved { count }];
    let active = matches!(
        inc.status,
        Status::Triage | Status::Investigating | Status::Contained
    );
    if to_recovering && active {
        let cmd = Command::ChangeStatus {
            status: Status::Recovering,
            reason: Some("all alerts resolved".into()),
        };
        if let Ok(kinds) = command::decide(inc, &cmd, config) {
            events.extend(kinds);
        }
    }
    events
}

/// The state a not-yet-numbered incident would have after `events`, for deciding what follows
/// them; the store numbers and seals the real log.
fn fold_scratch(events: &[EventKind], now: Timestamp) -> Result<Incident, crate::DomainError> {
    let mut state: Option<Incident> = None;
    let mut prev = GENESIS_HASH.to_string();
    for (i, kind) in events.iter().enumerate() {
        let event = Event::seal(
            IncidentId::new(now, 1),
            i as u64 + 1,
            NewEvent {
                at: now,
                actor: "warroom".into(),
                kind: kind.clone(),
            },
            &prev,
        );
        prev = event.hash.clone();
        state = Some(
            Incident::apply(state, &event)
                .map_err(|e| crate::DomainError::Conflict(e.to_string()))?,
        );
    }
    state.ok_or_else(|| crate::DomainError::Conflict("nothing was declared".into()))
}

fn apply_scratch(
    inc: Incident,
    kind: &EventKind,
    now: Timestamp,
) -> Result<Incident, crate::DomainError> {
    let event = Event::seal(
        inc.id.clone(),
        inc.version + 1,
        NewEvent {
            at: now,
            actor: "warroom".into(),
            kind: kind.clone(),
        },
        GENESIS_HASH,
    );
    Incident::apply(Some(inc), &event).map_err(|e| crate::DomainError::Conflict(e.to_string()))
}
