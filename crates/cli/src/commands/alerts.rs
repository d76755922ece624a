//! `warroom alerts list|show|ack|resolve` and `warroom integration create|list`.

use anyhow::Result;
use serde_json::{Value, json};

use super::Out;
use crate::args::{AlertsCommand, IntegrationCommand};
use crate::client::{Api, seg};
use crate::output::{self, field, table};

pub async fn run(api: &Api, out: Out, cmd: AlertsCommand) -> Result<()> {
    match cmd {
        AlertsCommand::List {
            status,
            service,
            incident,
            since,
            limit,
            cursor,
            all,
        } => {
            let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
            for (name, value) in [
                ("status", status),
                ("service", service),
                ("incident", incident),
                ("since", since),
            ] {
                if let Some(v) = value {
                    query.push((name, v));
                }
            }
            list(api, out, query, cursor, all).await
        }
        AlertsCommand::Show { id } => {
            let answer = api
                .get(&format!("/api/v1/alerts/{}", seg(&id)), &[])
                .await?;
            out.print(&answer, |v| Ok(alert_detail(v)))
        }
        AlertsCommand::Ack { id } => {
            let answer = api
                .post(
                    &format!("/api/v1/alerts/{}/acknowledge", seg(&id)),
                    &json!({}),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!("Acknowledged alert {}.", field(v, "id")))
            })
        }
        AlertsCommand::Resolve { id } => {
            let answer = api
                .post(&format!("/api/v1/alerts/{}/resolve", seg(&id)), &json!({}))
                .await?;
            out.print(&answer, |v| {
                Ok(format!("Resolved alert {}.", field(v, "id")))
            })
        }
    }
}

pub async fn integration(api: &Api, out: Out, cmd: IntegrationCommand) -> Result<()> {
    match cmd {
        IntegrationCommand::Create { service, name } => {
            let mut body = json!({ "service": service });
            if let Some(n) = name {
                body["name"] = json!(n);
            }
            let answer = api.post("/api/v1/integrations", &body).await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Created integration {} ({}) for service {}.\nRouting key (shown once; it is stored hashed): {}\n\n\
                     PagerDuty Events API v2:  POST /v2/enqueue with \"routing_key\": \"{}\"\n\
                     Alertmanager / Grafana / generic events: Authorization: Bearer {}",
                    field(v, "id"),
                    field(v, "name"),
                    field(v, "service"),
                    field(v, "routing_key"),
                    field(v, "routing_key"),
                    field(v, "routing_key"),
                ))
            })
        }
        IntegrationCommand::List => {
            let answer = api.get("/api/v1/integrations", &[]).await?;
            out.print(&answer, |v| {
                let rows: Vec<Vec<String>> = v["integrations"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .map(|i| {
                                vec![
                                    field(i, "id"),
                                    field(i, "name"),
                                    field(i, "service"),
                                    output::time_field(i, "created_at"),
                                    integration_state(i),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(if rows.is_empty() {
                    "No integrations yet: warroom integration create --service SERVICE".into()
                } else {
                    table(&["ID", "NAME", "SERVICE", "CREATED", "KEY"], &rows)
                })
            })
        }
        IntegrationCommand::Rotate { id, grace } => {
            let mut body = json!({});
            if let Some(g) = grace {
                body["grace"] = json!(g);
            }
            let answer = api
                .post(&format!("/api/v1/integrations/{}/rotate", seg(&id)), &body)
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Rotated the routing key of integration {} ({}).\n\
                     New routing key (shown once; it is stored hashed): {}\n\
                     The old key keeps working until {}: move every sender to the new key before then.",
                    field(v, "id"),
                    field(v, "service"),
                    field(v, "routing_key"),
                    output::time_field(v, "previous_key_until"),
                ))
            })
        }
        IntegrationCommand::Revoke { id } => {
            let answer = api
                .delete(&format!("/api/v1/integrations/{}", seg(&id)))
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Revoked integration {}: its routing keys are refused from now on.",
                    field(v, "id")
                ))
            })
        }
    }
}

/// Whether an integration's key is live, in a rotation's grace period, or revoked.
fn integration_state(i: &Value) -> String {
    if i.get("revoked_at").is_some_and(|r| !r.is_null()) {
        return format!("revoked {}", output::time_field(i, "revoked_at"));
    }
    match i.get("rotated_at") {
        Some(r) if !r.is_null() => format!(
            "rotated {}; old key until {}",
            output::time_field(i, "rotated_at"),
            output::time_field(i, "previous_key_until")
        ),
        _ => "live".to_string(),
    }
}

/// Lists alerts a page at a time; with `all`, follows `next_cursor` to the end.
async fn list(
    api: &Api,
    out: Out,
    mut query: Vec<(&'static str, String)>,
    cursor: Option<String>,
    all: bool,
) -> Result<()> {
    if all {
        let alerts = api
            .get_all_pages("/api/v1/alerts", &query, "alerts", cursor)
            .await?;
        return out.print(&json!({ "alerts": alerts, "next_cursor": null }), |v| {
            Ok(alert_table(v))
        });
    }
    query.extend(cursor.map(|c| ("cursor", c)));
    let page = api.get("/api/v1/alerts", &query).await?;
    out.print(&page, |v| Ok(alert_table(v)))?;
    if let (false, Some(next)) = (out.json, page["next_cursor"].as_str()) {
        eprintln!("(more alerts: add --cursor {next}, or --all)");
    }
    Ok(())
}

fn alert_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["alerts"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| {
                    vec![
                        field(a, "id"),
                        field(a, "status"),
                        field(a, "severity"),
                        field(a, "service"),
                        field(a, "count"),
                        field(a, "incident_id"),
                        output::time_field(a, "last_seen"),
                        field(a, "summary"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return "No alerts.".into();
    }
    table(
        &[
            "ID",
            "STATUS",
            "SEVERITY",
            "SERVICE",
            "COUNT",
            "INCIDENT",
            "LAST SEEN",
            "SUMMARY",
        ],
        &rows,
    )
}

fn alert_detail(v: &Value) -> String {
    let mut out = format!(
        "{} {} [{}] {}\n  service: {}  incident: {}  dedup key: {}\n  first seen {}, last seen {}, {} events{}\n",
        field(v, "id"),
        field(v, "status"),
        field(v, "severity"),
        field(v, "summary"),
        field(v, "service"),
        field(v, "incident_id"),
        field(v, "dedup_key"),
        output::time_field(v, "first_seen"),
        output::time_field(v, "last_seen"),
        field(v, "count"),
        match v.get("suppressed").and_then(Value::as_str) {
            Some(why) => format!("\n  opens no incident: {why}"),
            None => String::new(),
        },
    );
    if let Some(events) = v["events"].as_array() {
        for e in events {
            out.push_str(&format!(
                "  {}  {:<12} {}\n",
                output::time_field(e, "received_at"),
                field(e, "outcome"),
                e["event"]["action"].as_str().unwrap_or("-"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_render_as_a_table_and_a_detail() {
        let v = json!({ "alerts": [{
            "id": "alr_1", "status": "triggered", "severity": "critical", "service": "api",
            "count": 3, "incident_id": "INC-20261125-001", "last_seen": "2026-11-25T10:00:00Z",
            "summary": "5xx above 5%", "dedup_key": "k"
        }]});
        let t = alert_table(&v);
        assert!(
            t.lines().nth(1).is_some_and(|l| l.starts_with("alr_1")),
            "{t}"
        );
        assert!(t.contains("INC-20261125-001"), "{t}");
        assert_eq!(alert_table(&json!({ "alerts": [] })), "No alerts.");
        let mut one = v["alerts"][0].clone();
        one["events"] = json!([{ "received_at": "2026-11-25T10:00:00Z", "outcome": "opened", "event": { "action": "trigger" } }]);
        let d = alert_detail(&one);
        assert!(d.contains("dedup key: k") && d.contains("opened"), "{d}");
    }
}
