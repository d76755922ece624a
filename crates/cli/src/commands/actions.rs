//! `warroom actions add|update|list`: follow-up action items.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

use super::Out;
use crate::args::{ActionListArgs, ActionsCommand};
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{self, table};

/// Checked here so `--due friday` fails with the expected shape instead of a server round trip.
fn due_date(text: &str) -> Result<String> {
    let text = text.trim();
    text.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| anyhow!("invalid --due {text:?}: use a date like 2026-12-01"))
}

pub async fn run(api: &Api, out: Out, cmd: ActionsCommand) -> Result<()> {
    match cmd {
        ActionsCommand::Add {
            incident,
            title,
            owner,
            due,
            priority,
            ticket,
        } => {
            let id = incident_id(&incident)?;
            let mut body = json!({ "title": title, "owner": owner, "due": due_date(&due)? });
            if let Some(p) = priority {
                body["priority"] = json!(p.to_lowercase());
            }
            if let Some(t) = ticket {
                body["ticket"] = json!(t);
            }
            let path = format!("/api/v1/incidents/{}/actions", seg(id.as_str()));
            let item = api.post(&path, &body).await?;
            out.print(&item, |v| Ok(format!("{id} {}", describe(v))))
        }
        ActionsCommand::Update {
            incident,
            action,
            status,
            title,
            owner,
            due,
            priority,
            ticket,
        } => {
            let id = incident_id(&incident)?;
            let mut body = Map::new();
            for (key, value) in [
                ("status", status.map(|s| s.replace('-', "_"))),
                ("title", title),
                ("owner", owner),
                ("due", due.as_deref().map(due_date).transpose()?),
                ("priority", priority.map(|p| p.to_lowercase())),
                ("ticket", ticket),
            ] {
                if let Some(v) = value {
                    body.insert(key.into(), json!(v));
                }
            }
            if body.is_empty() {
                bail!(
                    "nothing to change: give at least one of --status, --title, --owner, --due, --priority, --ticket"
                );
            }
            let path = format!(
                "/api/v1/incidents/{}/actions/{}",
                seg(id.as_str()),
                seg(&action)
            );
            let item = api.patch(&path, &Value::Object(body)).await?;
            out.print(&item, |v| Ok(format!("{id} {}", describe(v))))
        }
        ActionsCommand::List(args) => list(api, out, args).await,
    }
}

/// `A1 [p2, open] alice, due 2026-12-01: Add an alert on queue depth`
fn describe(item: &Value) -> String {
    format!(
        "{} [{}, {}] {}, due {}: {}",
        output::field(item, "id"),
        output::field(item, "priority"),
        output::field(item, "status"),
        output::field(item, "owner"),
        output::field(item, "due"),
        output::field(item, "title"),
    )
}

async fn list(api: &Api, out: Out, args: ActionListArgs) -> Result<()> {
    let mut query = Vec::new();
    if let Some(owner) = args.owner {
        query.push(("owner", owner));
    }
    if args.overdue {
        query.push(("overdue", "true".to_string()));
    }
    if args.open {
        query.push(("open", "true".to_string()));
    }
    if let Some(incident) = args.incident {
        query.push(("incident", incident_id(&incident)?.to_string()));
    }
    let answer = api.get("/api/v1/actions", &query).await?;
    out.print(&answer, |v| {
        let items = v
            .get("actions")
            .and_then(Value::as_array)
            .context("the server's answer has no action list")?;
        if items.is_empty() {
            return Ok("No action items.".into());
        }
        Ok(action_table(items))
    })
}

fn action_table(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|a| {
            let overdue = a.get("overdue").and_then(Value::as_bool) == Some(true);
            vec![
                output::field(a, "incident_id"),
                output::field(a, "id"),
                output::field(a, "priority"),
                if overdue {
                    format!("{} (overdue)", output::field(a, "status"))
                } else {
                    output::field(a, "status")
                },
                output::field(a, "owner"),
                output::field(a, "due"),
                output::truncate(&output::field(a, "title"), 60),
            ]
        })
        .collect();
    table(
        &[
            "INCIDENT", "ID", "PRIORITY", "STATUS", "OWNER", "DUE", "TITLE",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_before_asking_the_server() {
        assert_eq!(due_date(" 2026-12-01 ").expect("date"), "2026-12-01");
        let err = due_date("friday").expect_err("not a date").to_string();
        assert!(err.contains("--due") && err.contains("2026-12-01"), "{err}");
    }

    #[test]
    fn items_read_as_a_table() {
        let got = action_table(&[json!({
            "incident_id": "INC-20261122-001", "id": "A1", "priority": "p2", "status": "open",
            "owner": "alice", "due": "2026-11-24", "title": "Alert on queue depth", "overdue": true
        })]);
        assert_eq!(
            got,
            "INCIDENT          ID  PRIORITY  STATUS          OWNER  DUE         TITLE\n\
             INC-20261122-001  A1  p2        open (overdue)  alice  2026-11-24  Alert on queue depth"
        );
    }
}
