//! What a template sees: the incident with every name resolved and every time written out for
//! people, so templates stay plain sentences.
//!
//! The variables (all strings unless noted; absent facts are empty strings or empty lists, so
//! `{% if incident.root_cause %}` works in strict mode):
//!
//! - `incident`: `id`, `title`, `description`, `type`, `type_name`, `severity`,
//!   `severity_name`, `status`, `services` (list), `labels` (map), `restricted` (bool),
//!   `declared_at`, `acknowledged_at`, `contained_at`, `resolved_at`, `duration` ("2h 5m" so
//!   far or in all), `root_cause`, `resolution_summary`, `reporter`, `links` (`ticket`,
//!   `chat_channel`, `dashboard`), `alerts` (number).
//! - `impact`: `users_affected` (number or empty), `data_affected`, `services_impacted`
//!   (list), `estimated_cost`, `summary` (one sentence of all of it).
//! - `roles`: list of `{id, name, person, person_name}`; `commander` and `comms_lead`: the
//!   holder's name or empty.
//! - `timeline`: every event as `{at, kind, actor, text}`; `milestones`: the declaration,
//!   acknowledgement, severity and status changes, resolution and reopening only.
//! - `next_update_at`: when the next internal update is due (empty once resolved).
//! - `deadlines`: the notification clocks that apply (`name`, `due_at`, `state`, `reference`).
//! - `organisation`: `name`, `contact`, `privacy_contact`, `status_page_url`.
//! - `now`: the time of rendering.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::config::Config;
use crate::event::{Event, EventKind, describe_impact};
use crate::incident::Incident;

/// How templates write an instant: UTC to the minute, which every reader can place.
pub fn time_text(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn maybe_time(at: Option<Timestamp>) -> String {
    at.map(time_text).unwrap_or_default()
}

/// A duration for people: `3d 4h`, `2h 5m`, `12m`, `under a minute`.
pub fn duration_text(d: SignedDuration) -> String {
    let mins = d.as_secs().max(0) / 60;
    let (days, hours, minutes) = (mins / 1440, mins / 60 % 24, mins % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn is_milestone(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Declared(_)
            | EventKind::Acknowledged {}
            | EventKind::SeverityChanged { .. }
            | EventKind::StatusChanged { .. }
            | EventKind::Resolved { .. }
            | EventKind::Reopened { .. }
            | EventKind::Closed {}
    )
}

/// The template context for `inc` with its `events`, rendered at `now`.
pub fn build(inc: &Incident, events: &[Event], config: &Config, now: Timestamp) -> Value {
    let person_name = |id: &str| {
        config
            .person(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let roles: Vec<Value> = inc
        .roles
        .iter()
        .map(|(role, person)| {
            json!({
                "id": role,
                "name": config.role(role).map_or(role.as_str(), |r| r.name.as_str()),
                "person": person,
                "person_name": person_name(person),
            })
        })
        .collect();
    let holder = |role: &str| {
        inc.roles
            .get(role)
            .map(|p| person_name(p))
            .unwrap_or_default()
    };
    let end = inc.resolved_at.unwrap_or(now);
    let entry = |e: &Event| {
        json!({
            "at": time_text(e.at),
            "kind": e.kind.name(),
            "actor": e.actor,
            "text": e.kind.describe(),
        })
    };
    let deadlines: Vec<Value> =
        super::deadline::deadlines(inc, &config.comms.deadlines, &config.business_hours, now)
            .into_iter()
            .map(|d| {
                json!({
                    "name": d.name,
                    "reference": d.reference,
                    "audience": d.audience,
                    "due_at": maybe_time(d.due_at),
                    "guidance": d.guidance,
                    "state": d.state.as_str(),
                })
            })
            .collect();
    json!({
        "incident": {
            "id": inc.id.as_str(),
            "title": inc.title,
            "description": inc.description.clone().unwrap_or_default(),
            "type": inc.incident_type,
            "type_name": config.incident_type(&inc.incident_type).map_or(inc.incident_type.as_str(), |t| t.name.as_str()),
            "severity": inc.severity,
            "severity_name": config.severity(&inc.severity).map_or(inc.severity.as_str(), |s| s.name.as_str()),
            "status": inc.status.as_str(),
            "services": inc.services,
            "labels": inc.labels,
            "restricted": inc.restricted,
            "declared_at": time_text(inc.declared_at),
            "acknowledged_at": maybe_time(inc.acknowledged_at),
            "contained_at": maybe_time(inc.contained_at),
            "resolved_at": maybe_time(inc.resolved_at),
            "duration": duration_text(end.duration_since(inc.declared_at)),
            "root_cause": inc.root_cause.clone().unwrap_or_default(),
            "resolution_summary": inc.resolution_summary.clone().unwrap_or_default(),
            "reporter": person_name(&inc.reporter),
            "links": {
                "ticket": inc.links.ticket.clone().unwrap_or_default(),
                "chat_channel": inc.links.chat_channel.clone().unwrap_or_default(),
                "dashboard": inc.links.dashboard.clone().unwrap_or_default(),
            },
            "alerts": inc.alerts,
        },
        "impact": {
            "users_affected": inc.impact.users_affected.map_or(Value::String(String::new()), Value::from),
            "data_affected": inc.impact.data_affected.clone().unwrap_or_default(),
            "services_impacted": inc.impact.services_impacted,
            "estimated_cost": inc.impact.estimated_cost.clone().unwrap_or_default(),
            "summary": describe_impact(&inc.impact),
        },
        "roles": roles,
        "commander": holder("incident-commander"),
        "comms_lead": holder("communications-lead"),
        "timeline": events.iter().map(entry).collect::<Vec<_>>(),
        "milestones": events.iter().filter(|e| is_milestone(&e.kind)).map(entry).collect::<Vec<_>>(),
        "next_update_at": maybe_time(crate::timer::next_update_due(inc, config)),
        "deadlines": deadlines,
        // Every field, empty or not: templates test them in strict mode.
        "organisation": {
            "name": config.comms.organisation.name,
            "contact": config.comms.organisation.contact,
            "privacy_contact": config.comms.organisation.privacy_contact,
            "status_page_url": config.comms.organisation.status_page_url,
        },
        "now": time_text(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        let text = |secs| duration_text(SignedDuration::from_secs(secs));
        assert_eq!(text(30), "under a minute");
        assert_eq!(text(12 * 60), "12m");
        assert_eq!(text(2 * 3600), "2h");
        assert_eq!(text(2 * 3600 + 5 * 60), "2h 5m");
        assert_eq!(text(3 * 86400 + 4 * 3600 + 59), "3d 4h");
        assert_eq!(text(86400), "1d");
        assert_eq!(text(-5), "under a minute");
    }
}
