//! The JSON of the common hosted status page API (`/api/v2/*.json`), so existing status
//! aggregators, chat bots and monitoring scripts read Warroom's page unchanged.
//!
//! Field names and enum values follow that API. Only public data goes in: entries carry no
//! internal incident id, and the caller passes only entries that may be public.

use serde_json::{Value, json};

use super::{EntryKind, PageEntry, PageUpdate, ShownComponent, Snapshot, group_status};

/// The `page` object every answer starts with.
pub fn page(s: &Snapshot<'_>) -> Value {
    json!({
        "id": s.config.id,
        "name": s.config.title,
        "url": s.config.base_url(),
        "time_zone": s.config.time_zone,
        "updated_at": s.json_time(s.updated_at()),
    })
}

fn status_object(s: &Snapshot<'_>) -> Value {
    let overall = s.overall();
    json!({ "indicator": overall.indicator, "description": overall.description })
}

fn component(s: &Snapshot<'_>, c: &ShownComponent<'_>, position: usize) -> Value {
    json!({
        "id": c.def.id,
        "name": c.def.name,
        "status": c.status.as_str(),
        "created_at": s.json_time(c.created_at),
        "updated_at": s.json_time(c.updated_at),
        "position": position,
        "description": c.def.description,
        "showcase": true,
        "start_date": null,
        "group_id": c.group.map(|g| g.id.clone()),
        "page_id": s.config.id,
        "group": false,
        "only_show_if_degraded": false,
    })
}

/// Components in the hosted API's flat form: groups are components with `group: true` and
/// the ids of their members; members point back with `group_id`.
fn components(s: &Snapshot<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut position = 1;
    for g in &s.config.groups {
        let members: Vec<&ShownComponent<'_>> = s
            .components
            .iter()
            .filter(|c| c.group.is_some_and(|x| x.id == g.id))
            .collect();
        let created = members.iter().map(|c| c.created_at).min();
        let updated = members.iter().map(|c| c.updated_at).max();
        out.push(json!({
            "id": g.id,
            "name": g.name,
            "status": group_status(g, &s.components).as_str(),
            "created_at": s.json_time(created.unwrap_or(jiff::Timestamp::UNIX_EPOCH)),
            "updated_at": s.json_time(updated.unwrap_or(jiff::Timestamp::UNIX_EPOCH)),
            "position": position,
            "description": g.description,
            "showcase": false,
            "start_date": null,
            "group_id": null,
            "page_id": s.config.id,
            "group": true,
            "only_show_if_degraded": false,
            "components": members.iter().map(|c| c.def.id.clone()).collect::<Vec<_>>(),
        }));
        position += 1;
    }
    for c in &s.components {
        out.push(component(s, c, position));
        position += 1;
    }
    out
}

fn update(s: &Snapshot<'_>, entry: &PageEntry, u: &PageUpdate) -> Value {
    let affected: Vec<Value> = u
        .affected
        .iter()
        .map(|a| {
            json!({
                "code": a.code,
                "name": s.component_name(&a.code),
                "old_status": a.old_status.as_str(),
                "new_status": a.new_status.as_str(),
            })
        })
        .collect();
    let at = s.json_time(u.created_at);
    json!({
        "id": u.id,
        "status": u.status.as_str(),
        "body": u.body,
        "incident_id": entry.id,
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": affected,
        "deliver_notifications": false,
        "custom_tweet": null,
        "tweet_id": null,
    })
}

/// One incident or maintenance.
pub fn incident(s: &Snapshot<'_>, entry: &PageEntry) -> Value {
    let time = |t: Option<jiff::Timestamp>| t.map(|t| s.json_time(t));
    let components: Vec<Value> = s
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| entry.components.contains(&c.def.id))
        .map(|(i, c)| component(s, c, s.config.groups.len() + i + 1))
        .collect();
    let mut v = json!({
        "id": entry.id,
        "name": entry.name,
        "status": entry.status.as_str(),
        "impact": entry.impact.as_str(),
        "created_at": s.json_time(entry.created_at),
        "updated_at": s.json_time(entry.updated_at),
        "monitoring_at": time(entry.monitoring_at),
        "resolved_at": time(entry.resolved_at),
        "started_at": s.json_time(entry.scheduled_for.unwrap_or(entry.created_at)),
        "shortlink": s.entry_url(entry),
        "page_id": s.config.id,
        "incident_updates": entry.updates.iter().map(|u| update(s, entry, u)).collect::<Vec<_>>(),
        "components": components,
        "reminder_intervals": null,
    });
    if entry.kind == EntryKind::Maintenance {
        v["scheduled_for"] = json!(time(entry.scheduled_for));
        v["scheduled_until"] = json!(time(entry.scheduled_until));
    }
    v
}

fn list<'a>(s: &Snapshot<'_>, entries: impl Iterator<Item = &'a PageEntry>) -> Vec<Value> {
    entries.map(|e| incident(s, e)).collect()
}

/// `status.json`
pub fn status(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "status": status_object(s) })
}

/// `components.json`
pub fn components_doc(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "components": components(s) })
}

/// `summary.json`: unresolved incidents, upcoming and active maintenances.
pub fn summary(s: &Snapshot<'_>) -> Value {
    let maintenances = s
        .maintenances()
        .filter(|e| !e.is_finished())
        .map(|e| incident(s, e))
        .collect::<Vec<_>>();
    json!({
        "page": page(s),
        "status": status_object(s),
        "components": components(s),
        "incidents": list(s, s.unresolved_incidents()),
        "scheduled_maintenances": maintenances,
    })
}

/// `incidents.json`: recent incidents in every state.
pub fn incidents(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "incidents": list(s, s.incidents().take(super::LISTED_ENTRIES)) })
}

/// `incidents/unresolved.json`
pub fn unresolved(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "incidents": list(s, s.unresolved_incidents()) })
}

/// `scheduled-maintenances.json`: recent maintenances in every state.
pub fn maintenances(s: &Snapshot<'_>) -> Value {
    json!({
        "page": page(s),
        "scheduled_maintenances": list(s, s.maintenances().take(super::LISTED_ENTRIES)),
    })
}

/// `scheduled-maintenances/upcoming.json`
pub fn upcoming(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "scheduled_maintenances": list(s, s.upcoming_maintenances()) })
}

/// `scheduled-maintenances/active.json`
pub fn active(s: &Snapshot<'_>) -> Value {
    json!({ "page": page(s), "scheduled_maintenances": list(s, s.active_maintenances()) })
}
