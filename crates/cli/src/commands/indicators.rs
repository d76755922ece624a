//! `warroom indicator add|list|search`: indicators of compromise.

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use super::Out;
use crate::args::IndicatorCommand;
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{field, table, time_field};

fn time(flag: &str, text: Option<String>) -> Result<Option<String>> {
    text.map(|t| {
        t.trim()
            .parse::<jiff::Timestamp>()
            .map(|ts| ts.to_string())
            .map_err(|_| {
                anyhow!("invalid --{flag} {t:?}: use an RFC 3339 time like 2026-11-22T10:00:00Z")
            })
    })
    .transpose()
}

fn rows(items: &[Value], with_incident: bool) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let mut row = vec![
                field(i, "kind"),
                field(i, "value"),
                time_field(i, "first_seen"),
                time_field(i, "last_seen"),
                field(i, "note"),
            ];
            if with_incident {
                row.insert(0, field(i, "incident_id"));
            }
            row
        })
        .collect();
    let mut headers = vec!["KIND", "VALUE", "FIRST SEEN", "LAST SEEN", "NOTE"];
    if with_incident {
        headers.insert(0, "INCIDENT");
    }
    table(&headers, &rows)
}

pub async fn run(api: &Api, out: Out, cmd: IndicatorCommand) -> Result<()> {
    match cmd {
        IndicatorCommand::Add {
            incident,
            kind,
            value,
            first_seen,
            last_seen,
            note,
        } => {
            let id = incident_id(&incident)?;
            let mut body = json!({ "kind": kind.trim().to_lowercase(), "value": value });
            if let Some(t) = time("first-seen", first_seen)? {
                body["first_seen"] = json!(t);
            }
            if let Some(t) = time("last-seen", last_seen)? {
                body["last_seen"] = json!(t);
            }
            if let Some(n) = note {
                body["note"] = json!(n);
            }
            let path = format!("/api/v1/incidents/{}/indicators", seg(id.as_str()));
            let answer = api.post(&path, &body).await?;
            out.print(&answer, |v| {
                let i = &v["indicator"];
                Ok(format!(
                    "{id} {} {} ({})",
                    field(i, "kind"),
                    field(i, "value"),
                    field(v, "change")
                ))
            })
        }
        IndicatorCommand::List { incident } => {
            let id = incident_id(&incident)?;
            let path = format!("/api/v1/incidents/{}/indicators", seg(id.as_str()));
            let answer = api.get(&path, &[]).await?;
            out.print(&answer, |v| {
                let items = v["indicators"].as_array().cloned().unwrap_or_default();
                Ok(if items.is_empty() {
                    format!("{id} has no indicators")
                } else {
                    rows(&items, false)
                })
            })
        }
        IndicatorCommand::Search { value, kind } => {
            let mut query = vec![("value", value.clone())];
            if let Some(k) = kind {
                query.push(("kind", k));
            }
            let answer = api.get("/api/v1/indicators", &query).await?;
            out.print(&answer, |v| {
                let items = v["matches"].as_array().cloned().unwrap_or_default();
                Ok(if items.is_empty() {
                    format!("{value} is not recorded on any incident you can see")
                } else {
                    rows(&items, true)
                })
            })
        }
    }
}
