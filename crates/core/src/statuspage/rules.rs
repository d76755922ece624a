//! The change rules: a request and the page's current state in, the new state and the events
//! for the internal timeline out. Pure; the store runs them inside its transaction.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{
    AffectedComponent, ComponentState, ComponentStatus, DEFAULT_FIRST_MESSAGE, EntryKind,
    EntryStatus, Impact, IncidentStatus, MAX_PUBLIC_BODY, MAX_PUBLIC_TITLE, MaintenanceStatus,
    NEUTRAL_TITLE, PageEntry, PageUpdate, StatusPageConfig,
};
use crate::command::DomainError;
use crate::event::{ComponentChange, EventKind};
use crate::incident::Incident;

/// What a change rule sees besides the request.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// The page's configuration.
    pub config: &'a StatusPageConfig,
    /// Stored component statuses.
    pub components: &'a [ComponentState],
    /// Components listed by other unfinished entries (so resolving one incident does not mark
    /// a component another incident still affects as operational).
    pub held_elsewhere: &'a BTreeSet<String>,
    /// Now.
    pub at: Timestamp,
    /// Id for a new entry, if the change creates one.
    pub new_entry_id: &'a str,
    /// Id for a new update.
    pub new_update_id: &'a str,
    /// Who asks (recorded on component changes and updates, for the audit trail).
    pub actor: &'a str,
}

/// What a change writes: the entry as it now is (with all its updates), the component statuses
/// that changed, and the events for the internal incident's timeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageChange {
    /// The entry created or changed.
    pub entry: Option<PageEntry>,
    /// Components whose status changed.
    pub components: Vec<ComponentState>,
    /// Events for the linked incident (none for maintenance or a bare component change).
    pub events: Vec<EventKind>,
}

/// Putting an incident on the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishRequest {
    /// Public title; default [`NEUTRAL_TITLE`].
    pub title: Option<String>,
    /// Public status; default investigating.
    pub status: Option<IncidentStatus>,
    /// First public update; default [`DEFAULT_FIRST_MESSAGE`].
    pub message: Option<String>,
    /// Component statuses to set.
    pub components: BTreeMap<String, ComponentStatus>,
    /// Impact; default derived from the components.
    pub impact: Option<Impact>,
}

/// A public update of a published incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRequest {
    /// New public status; default unchanged.
    pub status: Option<IncidentStatus>,
    /// What the public is told.
    pub message: String,
    /// Component statuses to set.
    pub components: BTreeMap<String, ComponentStatus>,
    /// New impact; default: the worst of the old one and the components'.
    pub impact: Option<Impact>,
}

/// Announcing planned work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceRequest {
    /// Public title.
    pub title: String,
    /// Components the work touches.
    pub components: Vec<String>,
    /// Window start.
    pub scheduled_for: Timestamp,
    /// Window end.
    pub scheduled_until: Timestamp,
    /// First update; default a sentence built from the window.
    pub message: Option<String>,
}

/// Progress on planned work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceUpdateRequest {
    /// New status.
    pub status: MaintenanceStatus,
    /// What the public is told.
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

/// Trimmed, non-empty, not too long, and free of control characters (XML, and so the feed,
/// cannot carry most of them; line breaks and tabs are fine in update bodies, not in titles).
fn checked_text(field: &str, text: &str, max: usize) -> Result<String, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    let multiline = field == "message";
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(invalid(
            field,
            if multiline {
                "must not contain control characters other than line breaks and tabs"
            } else {
                "must not contain control characters or line breaks"
            },
        ));
    }
    if text.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok(text.to_string())
}

/// Applies requested component statuses, returning the changes (for the update) and the new
/// states (for the store). Unknown components are refused by name.
fn change_components(
    requested: &BTreeMap<String, ComponentStatus>,
    ctx: &PageContext<'_>,
) -> Result<(Vec<AffectedComponent>, Vec<ComponentState>), DomainError> {
    let mut affected = Vec::new();
    let mut states = Vec::new();
    for (id, status) in requested {
        if ctx.config.component(id).is_none() {
            return Err(invalid(
                &format!("components.{id}"),
                format!(
                    "no component {id:?} on the status page (configured: {})",
                    ctx.config
                        .components
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let old = ctx.components.iter().find(|c| &c.id == id);
        let old_status = old.map_or(ComponentStatus::Operational, |c| c.status);
        if old_status == *status {
            continue;
        }
        affected.push(AffectedComponent {
            code: id.clone(),
            old_status,
            new_status: *status,
        });
        states.push(ComponentState {
            id: id.clone(),
            status: *status,
            created_at: old.map_or(ctx.at, |c| c.created_at),
            updated_at: ctx.at,
            updated_by: Some(ctx.actor.to_string()),
        });
    }
    Ok((affected, states))
}

fn event_changes(affected: &[AffectedComponent]) -> Vec<ComponentChange> {
    affected
        .iter()
        .map(|a| ComponentChange {
            component: a.code.clone(),
            from: a.old_status.as_str().to_string(),
            to: a.new_status.as_str().to_string(),
        })
        .collect()
}

fn worst_impact(requested: &BTreeMap<String, ComponentStatus>) -> Impact {
    requested
        .values()
        .map(|s| s.impact())
        .filter(|i| *i != Impact::Maintenance)
        .max()
        .unwrap_or(Impact::None)
}

fn refuse_restricted(incident: &Incident) -> Result<(), DomainError> {
    if incident.restricted {
        return Err(DomainError::Conflict(format!(
            "{} is restricted: restricted incidents are never shown on the status page",
            incident.id
        )));
    }
    Ok(())
}

/// Publishes `incident` to the page. Refused for restricted incidents and for incidents
/// already published (post an update instead).
pub fn publish(
    incident: &Incident,
    existing: Option<&PageEntry>,
    req: &PublishRequest,
    ctx: &PageContext<'_>,
) -> Result<PageChange, DomainError> {
    refuse_restricted(incident)?;
    if let Some(entry) = existing {
        return Err(DomainError::Conflict(format!(
            "{} is already on the status page as {}; post an update instead",
            incident.id, entry.id
        )));
    }
    let name = checked_text(
        "title",
        req.title.as_deref().unwrap_or(NEUTRAL_TITLE),
        MAX_PUBLIC_TITLE,
    )?;
    let body = checked_text(
        "message",
        req.message.as_deref().unwrap_or(DEFAULT_FIRST_MESSAGE),
        MAX_PUBLIC_BODY,
    )?;
    let status = req.status.unwrap_or(IncidentStatus::Investigating);
    let (affected, states) = change_components(&req.components, ctx)?;
    let at = ctx.at;
    let entry = PageEntry {
        id: ctx.new_entry_id.to_string(),
        kind: EntryKind::Incident,
        incident_id: Some(incident.id.to_string()),
        name: name.clone(),
        status: EntryStatus::Incident(status),
        impact: req.impact.unwrap_or_else(|| worst_impact(&req.components)),
        components: req.components.keys().cloned().collect(),
        created_at: at,
        updated_at: at,
        monitoring_at: (status == IncidentStatus::Monitoring).then_some(at),
        resolved_at: (status == IncidentStatus::Resolved).then_some(at),
        scheduled_for: None,
        scheduled_until: None,
        updates: vec![PageUpdate {
            id: ctx.new_update_id.to_string(),
            status: EntryStatus::Incident(status),
            body: body.clone(),
            created_at: at,
            affected: affected.clone(),
            by: Some(ctx.actor.to_string()),
        }],
    };
    Ok(PageChange {
        events: vec![EventKind::StatusPagePublished {
            page_id: entry.id.clone(),
            title: name,
            status: status.as_str().to_string(),
            message: body,
            components: event_changes(&affected),
        }],
        entry: Some(entry),
        components: states,
    })
}

/// Posts a public update to `incident`'s entry. Resolving sets the incident's components back
/// to operational unless the request says otherwise or another open entry still lists them.
pub fn post_update(
    incident: &Incident,
    existing: Option<&PageEntry>,
    req: &UpdateRequest,
    ctx: &PageContext<'_>,
) -> Result<PageChange, DomainError> {
    refuse_restricted(incident)?;
    let Some(entry) = existing else {
        return Err(DomainError::Conflict(format!(
            "{} is not on the status page; publish it first",
            incident.id
        )));
    };
    let body = checked_text("message", &req.message, MAX_PUBLIC_BODY)?;
    let current = match entry.status {
        EntryStatus::Incident(s) => s,
        EntryStatus::Maintenance(_) => {
            return Err(DomainError::Conflict(format!(
                "{} is a maintenance, not an incident",
                entry.id
            )));
        }
    };
    let status = req.status.unwrap_or(current);
    let mut requested = req.components.clone();
    if status == IncidentStatus::Resolved {
        for id in &entry.components {
            if !requested.contains_key(id) && !ctx.held_elsewhere.contains(id) {
                requested.insert(id.clone(), ComponentStatus::Operational);
            }
        }
    }
    let (affected, states) = change_components(&requested, ctx)?;
    let at = ctx.at;
    let mut next = entry.clone();
    next.status = EntryStatus::Incident(status);
    next.updated_at = at;
    next.impact = req
        .impact
        .unwrap_or_else(|| next.impact.max(worst_impact(&req.components)));
    for id in req.components.keys() {
        if !next.components.contains(id) {
            next.components.push(id.clone());
        }
    }
    if status == IncidentStatus::Monitoring && next.monitoring_at.is_none() {
        next.monitoring_at = Some(at);
    }
    next.resolved_at = match (status, entry.resolved_at) {
        (IncidentStatus::Resolved, Some(earlier)) => Some(earlier),
        (IncidentStatus::Resolved, None) => Some(at),
        _ => None,
    };
    next.updates.insert(
        0,
        PageUpdate {
            id: ctx.new_update_id.to_string(),
            status: next.status,
            body: body.clone(),
            created_at: at,
            affected: affected.clone(),
            by: Some(ctx.actor.to_string()),
        },
    );
    Ok(PageChange {
        events: vec![EventKind::StatusPageUpdated {
            page_id: entry.id.clone(),
            status: status.as_str().to_string(),
            message: body,
            components: event_changes(&affected),
        }],
        entry: Some(next),
        components: states,
    })
}

/// Sets one component's status by hand (no incident involved).
pub fn set_component(
    id: &str,
    status: ComponentStatus,
    ctx: &PageContext<'_>,
) -> Result<PageChange, DomainError> {
    let (_, states) = change_components(&BTreeMap::from([(id.to_string(), status)]), ctx)?;
    Ok(PageChange {
        entry: None,
        components: states,
        events: Vec::new(),
    })
}

/// Announces planned work.
pub fn create_maintenance(
    req: &MaintenanceRequest,
    ctx: &PageContext<'_>,
) -> Result<PageChange, DomainError> {
    let name = checked_text("title", &req.title, MAX_PUBLIC_TITLE)?;
    if req.scheduled_until <= req.scheduled_for {
        return Err(invalid("scheduled_until", "must be after scheduled_for"));
    }
    let mut components = Vec::new();
    for id in &req.components {
        if ctx.config.component(id).is_none() {
            return Err(invalid(
                "components",
                format!("no component {id:?} on the status page"),
            ));
        }
        if !components.contains(id) {
            components.push(id.clone());
        }
    }
    let body = match &req.message {
        Some(m) => checked_text("message", m, MAX_PUBLIC_BODY)?,
        None => "Scheduled maintenance.".to_string(),
    };
    let status = EntryStatus::Maintenance(MaintenanceStatus::Scheduled);
    Ok(PageChange {
        entry: Some(PageEntry {
            id: ctx.new_entry_id.to_string(),
            kind: EntryKind::Maintenance,
            incident_id: None,
            name,
            status,
            impact: Impact::Maintenance,
            components,
            created_at: ctx.at,
            updated_at: ctx.at,
            monitoring_at: None,
            resolved_at: None,
            scheduled_for: Some(req.scheduled_for),
            scheduled_until: Some(req.scheduled_until),
            updates: vec![PageUpdate {
                id: ctx.new_update_id.to_string(),
                status,
                body,
                created_at: ctx.at,
                affected: Vec::new(),
                by: Some(ctx.actor.to_string()),
            }],
        }),
        components: Vec::new(),
        events: Vec::new(),
    })
}

/// Records progress on planned work.
pub fn update_maintenance(
    existing: &PageEntry,
    req: &MaintenanceUpdateRequest,
    ctx: &PageContext<'_>,
) -> Result<PageChange, DomainError> {
    if existing.kind != EntryKind::Maintenance {
        return Err(DomainError::Conflict(format!(
            "{} is an incident, not a maintenance",
            existing.id
        )));
    }
    let body = checked_text("message", &req.message, MAX_PUBLIC_BODY)?;
    let mut next = existing.clone();
    next.status = EntryStatus::Maintenance(req.status);
    next.updated_at = ctx.at;
    next.resolved_at = match (req.status, existing.resolved_at) {
        (MaintenanceStatus::Completed, Some(earlier)) => Some(earlier),
        (MaintenanceStatus::Completed, None) => Some(ctx.at),
        _ => None,
    };
    next.updates.insert(
        0,
        PageUpdate {
            id: ctx.new_update_id.to_string(),
            status: next.status,
            body,
            created_at: ctx.at,
            affected: Vec::new(),
            by: Some(ctx.actor.to_string()),
        },
    );
    Ok(PageChange {
        entry: Some(next),
        components: Vec::new(),
        events: Vec::new(),
    })
}
