//! `warroom list` and `warroom timeline`: tables of incidents and of one incident's events.

use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::Deserialize as _;
use serde_json::{Value, json};
use warroom_core::{Clock as _, Event, SystemClock};

use super::{IncidentView, Out};
use crate::args::ListArgs;
use crate::client::{Api, seg};
use crate::input::{incident_id, parse_labels_with_values, time_filter};
use crate::output::{self, age, emit, table, truncate};

const COMMANDER: &str = "incident-commander";

pub async fn run(api: &Api, out: Out, args: ListArgs) -> Result<()> {
    // One reading of the clock: relative filters and the ages shown agree on "now".
    let now = SystemClock.now();
    let mut query = list_query(&args, now)?;
    let (incidents, next) = if args.all {
        let all = api
            .get_all_pages(
                "/api/v1/incidents",
                &query,
                "incidents",
                args.cursor.clone(),
            )
            .await?;
        (all, None)
    } else {
        query.extend(args.cursor.clone().map(|c| ("cursor", c)));
        let page = api.get("/api/v1/incidents", &query).await?;
        if out.json {
            return output::emit_json(&page);
        }
        let items = page
            .get("incidents")
            .and_then(Value::as_array)
            .context("the server's answer has no incident list")?
            .clone();
        let next = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        (items, next)
    };
    if out.json {
        return output::emit_json(&json!({ "incidents": incidents, "next_cursor": null }));
    }
    if incidents.is_empty() {
        return emit("No incidents match.");
    }
    emit(&incident_table(&incidents, now)?)?;
    if next.is_some() {
        eprintln!("(more incidents: add --all, or a larger --limit)");
    }
    Ok(())
}

/// Query parameters as the API names them; times are normalised to RFC 3339 here so relative
/// ages work.
fn list_query(args: &ListArgs, now: Timestamp) -> Result<Vec<(&'static str, String)>> {
    let mut q = Vec::new();
    let plain = [
        ("status", &args.status),
        ("severity", &args.severity),
        ("type", &args.incident_type),
        ("service", &args.service),
        ("q", &args.search),
    ];
    for (key, value) in plain {
        if let Some(v) = value {
            q.push((key, v.trim().to_string()));
        }
    }
    for (k, v) in parse_labels_with_values(&args.labels)? {
        q.push(("label", format!("{k}={v}")));
    }
    if let Some(since) = &args.since {
        q.push(("since", time_filter("--since", since, now)?));
    }
    if let Some(until) = &args.until {
        q.push(("until", time_filter("--until", until, now)?));
    }
    if let Some(limit) = args.limit {
        q.push(("limit", limit.to_string()));
    }
    Ok(q)
}

fn incident_table(incidents: &[Value], now: Timestamp) -> Result<String> {
    let rows = incidents
        .iter()
        .map(|v| {
            let i = IncidentView::from_value(v)?;
            Ok(vec![
                i.id,
                i.severity,
                i.status,
                i.incident_type,
                truncate(&i.title, 60),
                age(now, i.declared_at),
                i.roles
                    .get(COMMANDER)
                    .cloned()
                    .unwrap_or_else(|| "-".into()),
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(table(
        &[
            "ID",
            "SEV",
            "STATUS",
            "TYPE",
            "TITLE",
            "DECLARED",
            "COMMANDER",
        ],
        &rows,
    ))
}

pub async fn timeline(api: &Api, out: Out, id: &str) -> Result<()> {
    let id = incident_id(id)?;
    let path = format!("/api/v1/incidents/{}/events", seg(id.as_str()));
    let answer = api.get(&path, &[]).await?;
    out.print(&answer, |v| {
        let events = v
            .get("events")
            .and_then(Value::as_array)
            .context("the server's answer has no event list")?;
        Ok(event_table(events))
    })
}

/// Events this CLI does not know (a newer server) still get a row, with their raw data.
fn event_table(events: &[Value]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|v| match Event::deserialize(v) {
            Ok(e) => vec![
                output::time(e.at),
                e.seq.to_string(),
                e.kind.name().to_string(),
                e.actor,
                e.kind.describe(),
            ],
            Err(_) => vec![
                v.get("at")
                    .and_then(Value::as_str)
                    .and_then(|t| t.parse::<Timestamp>().ok())
                    .map_or_else(|| output::field(v, "at"), output::time),
                output::field(v, "seq"),
                output::field(v, "kind"),
                output::field(v, "actor"),
                v.get("data").map_or_else(String::new, Value::to_string),
            ],
        })
        .collect();
    table(&["TIME (UTC)", "SEQ", "KIND", "ACTOR", "DETAILS"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filters_become_query_parameters() {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().expect("ts");
        let args = ListArgs {
            status: Some("open".into()),
            severity: Some("P0,P1".into()),
            labels: vec!["region=eu".into(), "team=id".into()],
            search: Some("login".into()),
            since: Some("24h".into()),
            limit: Some(10),
            ..ListArgs::default()
        };
        let q = list_query(&args, now).expect("query");
        assert_eq!(
            q,
            [
                ("status", "open".to_string()),
                ("severity", "P0,P1".into()),
                ("q", "login".into()),
                ("label", "region=eu".into()),
                ("label", "team=id".into()),
                ("since", "2026-11-21T12:00:00Z".into()),
                ("limit", "10".into()),
            ]
        );
    }

    #[test]
    fn incidents_render_as_a_table() {
        let now: Timestamp = "2026-11-22T13:12:00Z".parse().expect("ts");
        let incidents = [
            json!({
                "id": "INC-20261122-001", "version": 3, "title": "Login failures spike",
                "type": "security-breach", "severity": "P0", "status": "contained",
                "roles": {"incident-commander": "alice"}, "declared_at": "2026-11-22T10:00:00Z",
                "some_new_field": true
            }),
            json!({
                "id": "INC-20261122-002", "version": 1, "title": "Disk full",
                "type": "outage", "severity": "P2", "status": "triage",
                "declared_at": "2026-11-22T13:00:00Z"
            }),
        ];
        assert_eq!(
            incident_table(&incidents, now).expect("table"),
            "ID                SEV  STATUS     TYPE             TITLE                 DECLARED   COMMANDER\n\
             INC-20261122-001  P0   contained  security-breach  Login failures spike  3h12m ago  alice\n\
             INC-20261122-002  P2   triage     outage           Disk full             12m ago    -"
        );
        assert!(incident_table(&[json!({"id": 1})], now).is_err());
    }

    #[test]
    fn events_are_described_and_unknown_kinds_still_shown() {
        let events = [
            json!({
                "incident_id": "INC-20261122-001", "seq": 2, "at": "2026-11-22T10:05:00Z",
                "actor": "alice", "kind": "severity_changed",
                "data": {"from": "P1", "to": "P0", "reason": "customer data exposed"},
                "prev_hash": "a", "hash": "b"
            }),
            json!({
                "incident_id": "INC-20261122-001", "seq": 3, "at": "2026-11-22T10:06:00Z",
                "actor": "bob", "kind": "paged", "data": {"who": "carol"},
                "prev_hash": "b", "hash": "c"
            }),
        ];
        let got = event_table(&events);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(
            lines,
            [
                "TIME (UTC)           SEQ  KIND              ACTOR  DETAILS",
                "2026-11-22 10:05:00  2    severity_changed  alice  Severity P1 -> P0: customer data exposed",
                "2026-11-22 10:06:00  3    paged             bob    {\"who\":\"carol\"}",
            ]
        );
    }
}
