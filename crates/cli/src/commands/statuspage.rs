//! `warroom statuspage component|incident|update|maintenance`: the public status page.
//!
//! Statuses are checked here against the same vocabularies the server uses, so a typo fails
//! before any request with the flag named; the server checks everything again.

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use warroom_core::statuspage::{ComponentStatus, Impact, IncidentStatus, MaintenanceStatus};
use warroom_core::{Clock as _, SystemClock};

use super::Out;
use crate::args::{ComponentCommand, MaintenanceCommand, StatuspageCommand};
use crate::client::{Api, seg};
use crate::input::point_in_time;
use crate::output::{self, field, table};

pub async fn run(api: &Api, out: Out, cmd: StatuspageCommand) -> Result<()> {
    match cmd {
        StatuspageCommand::Component(ComponentCommand::List) => {
            let answer = api.get("/api/v1/statuspage/components", &[]).await?;
            out.print(&answer, |v| Ok(component_table(v)))
        }
        StatuspageCommand::Component(ComponentCommand::Set { id, status }) => {
            let status = word::<ComponentStatus>("STATUS", &status)?;
            let answer = api
                .post(
                    &format!("/api/v1/statuspage/components/{}", seg(&id)),
                    &json!({ "status": status }),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Component {} is now {}.",
                    field(v, "id"),
                    field(v, "status")
                ))
            })
        }
        StatuspageCommand::Incident {
            id, publish: false, ..
        } => {
            let answer = api
                .get(&format!("/api/v1/statuspage/incidents/{}", seg(&id)), &[])
                .await?;
            out.print(&answer, |v| Ok(entry_view(v)))
        }
        StatuspageCommand::Incident {
            id,
            publish: true,
            title,
            status,
            message,
            components,
            impact,
        } => {
            let mut body = json!({ "components": component_changes(&components)? });
            if let Some(t) = title {
                body["title"] = json!(t);
            }
            if let Some(s) = status {
                body["status"] = json!(word::<IncidentStatus>("--status", &s)?);
            }
            if let Some(m) = message {
                body["message"] = json!(m);
            }
            if let Some(i) = impact {
                body["impact"] = json!(word::<Impact>("--impact", &i)?);
            }
            let answer = api
                .post(
                    &format!("/api/v1/statuspage/incidents/{}/publish", seg(&id)),
                    &body,
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Published {id} to the status page as {} \"{}\" ({}).",
                    field(v, "id"),
                    field(v, "name"),
                    field(v, "status")
                ))
            })
        }
        StatuspageCommand::Update {
            id,
            status,
            message,
            components,
            impact,
        } => {
            let mut body =
                json!({ "message": message, "components": component_changes(&components)? });
            if let Some(s) = status {
                body["status"] = json!(word::<IncidentStatus>("--status", &s)?);
            }
            if let Some(i) = impact {
                body["impact"] = json!(word::<Impact>("--impact", &i)?);
            }
            let answer = api
                .post(
                    &format!("/api/v1/statuspage/incidents/{}/updates", seg(&id)),
                    &body,
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Posted a public update to {} ({}).",
                    field(v, "id"),
                    field(v, "status")
                ))
            })
        }
        StatuspageCommand::Maintenance(MaintenanceCommand::Create {
            title,
            components,
            start,
            end,
            message,
        }) => {
            let now = SystemClock.now();
            let mut body = json!({
                "title": title,
                "components": components,
                "scheduled_for": point_in_time("--start", &start, now)?,
                "scheduled_until": point_in_time("--end", &end, now)?,
            });
            if let Some(m) = message {
                body["message"] = json!(m);
            }
            let answer = api.post("/api/v1/statuspage/maintenances", &body).await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Scheduled maintenance {} \"{}\" from {} to {}.",
                    field(v, "id"),
                    field(v, "name"),
                    output::time_field(v, "scheduled_for"),
                    output::time_field(v, "scheduled_until")
                ))
            })
        }
        StatuspageCommand::Maintenance(MaintenanceCommand::List) => {
            let answer = api.get("/api/v1/statuspage/maintenances", &[]).await?;
            out.print(&answer, |v| Ok(maintenance_table(v)))
        }
        StatuspageCommand::Maintenance(MaintenanceCommand::Update {
            id,
            status,
            message,
        }) => {
            let status = word::<MaintenanceStatus>("--status", &status)?;
            let answer = api
                .post(
                    &format!("/api/v1/statuspage/maintenances/{}/updates", seg(&id)),
                    &json!({ "status": status, "message": message }),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Maintenance {} is now {}.",
                    field(v, "id"),
                    field(v, "status")
                ))
            })
        }
    }
}

/// A status word, or an error naming the flag and the words it takes.
fn word<T>(flag: &str, text: &str) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(|e| anyhow!("{flag}: {e}"))
}

/// `api=major_outage` pairs as the API's `components` object.
fn component_changes(pairs: &[String]) -> Result<BTreeMap<String, ComponentStatus>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (id, status) = pair
            .split_once('=')
            .filter(|(id, _)| !id.trim().is_empty())
            .with_context(|| format!("--component: expected COMPONENT=STATUS, got {pair:?}"))?;
        out.insert(
            id.trim().to_string(),
            word::<ComponentStatus>("--component", status)?,
        );
    }
    Ok(out)
}

fn component_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["components"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| {
                    vec![
                        field(c, "id"),
                        field(c, "name"),
                        field(c, "group"),
                        field(c, "status"),
                        output::time_field(c, "updated_at"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return "No components are configured (see `status_page.components`).".into();
    }
    table(&["ID", "NAME", "GROUP", "STATUS", "CHANGED"], &rows)
}

fn maintenance_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["maintenances"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|m| {
                    vec![
                        field(m, "id"),
                        field(m, "status"),
                        output::time_field(m, "scheduled_for"),
                        output::time_field(m, "scheduled_until"),
                        output::truncate(&field(m, "name"), 50),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return "No maintenance scheduled.".into();
    }
    table(&["ID", "STATUS", "FROM", "UNTIL", "TITLE"], &rows)
}

fn entry_view(v: &Value) -> String {
    let mut lines = vec![
        format!(
            "{}  \"{}\"  {}  impact {}",
            field(v, "id"),
            field(v, "name"),
            field(v, "status"),
            field(v, "impact")
        ),
        format!("Published {}", output::time_field(v, "created_at")),
    ];
    if let Some(components) = v["components"].as_array().filter(|c| !c.is_empty()) {
        let ids: Vec<&str> = components.iter().filter_map(Value::as_str).collect();
        lines.push(format!("Components: {}", ids.join(", ")));
    }
    lines.push("Public updates, newest first:".into());
    for u in v["updates"].as_array().into_iter().flatten() {
        lines.push(format!(
            "  {}  {:<13}  {}",
            output::time_field(u, "created_at"),
            field(u, "status"),
            field(u, "body")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_pairs_are_checked_before_sending() {
        let got = component_changes(&["api=major-outage".into(), "web=operational".into()])
            .expect("valid");
        assert_eq!(got["api"], ComponentStatus::MajorOutage);
        let err = component_changes(&["api".into()])
            .expect_err("refused")
            .to_string();
        assert!(
            err.starts_with("--component: expected COMPONENT=STATUS"),
            "{err}"
        );
        let err = component_changes(&["api=down".into()])
            .expect_err("refused")
            .to_string();
        assert!(
            err.starts_with("--component: unknown component status"),
            "{err}"
        );
    }

    #[test]
    fn an_entry_reads_as_its_updates() {
        let text = entry_view(&json!({
            "id": "sp_1", "name": "API errors", "status": "identified", "impact": "major",
            "created_at": "2026-11-25T10:00:00Z", "components": ["api"],
            "updates": [
                { "status": "identified", "body": "Found it.", "created_at": "2026-11-25T10:30:00Z" },
                { "status": "investigating", "body": "Looking.", "created_at": "2026-11-25T10:00:00Z" }
            ]
        }));
        assert!(
            text.starts_with("sp_1  \"API errors\"  identified  impact major"),
            "{text}"
        );
        assert!(text.contains("Components: api"));
        let updates: Vec<&str> = text.lines().skip(4).collect();
        assert_eq!(updates.len(), 2, "{text}");
        assert!(updates[0].contains("Found it."));
    }
}
