//! Declaring an incident, the one-step changes to it, and its exported log.

use anyhow::Result;
use serde_json::{Map, Value, json};
use warroom_core::Status;

use super::{IncidentView, Out};
use crate::args::{DeclareArgs, ExportFormat};
use crate::client::{Api, seg};
use crate::input::{incident_id, parse_labels_with_values, split_list};
use crate::output;

pub async fn declare(api: &Api, out: Out, args: DeclareArgs) -> Result<()> {
    let body = declare_body(&args)?;
    let incident = api.post("/api/v1/incidents", &body).await?;
    out.print(&incident, |v| {
        let i = IncidentView::from_value(v)?;
        Ok(format!(
            "Declared {} ({}, {}): {}",
            i.id, i.severity, i.incident_type, i.title
        ))
    })
}

/// Only fields the user gave, so the server's defaults apply to the rest.
fn declare_body(args: &DeclareArgs) -> Result<Value> {
    let mut body = Map::new();
    body.insert("title".into(), json!(args.title));
    body.insert("severity".into(), json!(args.severity));
    if let Some(t) = &args.incident_type {
        body.insert("type".into(), json!(t));
    }
    let services = split_list(&args.services);
    if !services.is_empty() {
        body.insert("services".into(), json!(services));
    }
    let labels: Map<String, Value> = parse_labels_with_values(&args.labels)?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    if !labels.is_empty() {
        body.insert("labels".into(), Value::Object(labels));
    }
    if args.restricted {
        body.insert("restricted".into(), json!(true));
    }
    if let Some(d) = &args.description {
        body.insert("description".into(), json!(d));
    }
    Ok(Value::Object(body))
}

/// A change that is one POST or DELETE answered with the incident.
pub enum Change {
    Ack,
    Escalate,
    Assign {
        role: String,
        person: String,
    },
    Unassign {
        role: String,
    },
    Note {
        text: String,
    },
    PostUpdate {
        audience: String,
        text: String,
    },
    Severity {
        severity: String,
        reason: Option<String>,
    },
    Status {
        status: Status,
        reason: Option<String>,
    },
    Resolve {
        summary: String,
    },
    Close,
    Reopen {
        reason: String,
    },
}

pub async fn change(api: &Api, out: Out, id: &str, change: Change) -> Result<()> {
    let id = incident_id(id)?;
    let base = format!("/api/v1/incidents/{}", seg(id.as_str()));
    let incident = match &change {
        Change::Ack => api.post(&format!("{base}/acknowledge"), &json!({})).await?,
        Change::Escalate => api.post(&format!("{base}/escalate"), &json!({})).await?,
        Change::Assign { role, person } => {
            let body = json!({ "role": role, "person": person });
            api.post(&format!("{base}/roles"), &body).await?
        }
        Change::Unassign { role } => api.delete(&format!("{base}/roles/{}", seg(role))).await?,
        Change::Note { text } => {
            api.post(&format!("{base}/notes"), &json!({ "text": text }))
                .await?
        }
        Change::PostUpdate { audience, text } => {
            let body = json!({ "audience": audience, "text": text });
            api.post(&format!("{base}/updates"), &body).await?
        }
        Change::Severity { severity, reason } => {
            let body = with_reason(json!({ "severity": severity }), reason);
            api.post(&format!("{base}/severity"), &body).await?
        }
        Change::Status { status, reason } => {
            let body = with_reason(json!({ "status": status.as_str() }), reason);
            api.post(&format!("{base}/status"), &body).await?
        }
        Change::Resolve { summary } => {
            let body = json!({ "summary": summary });
            api.post(&format!("{base}/resolve"), &body).await?
        }
        Change::Close => api.post(&format!("{base}/close"), &json!({})).await?,
        Change::Reopen { reason } => {
            let body = json!({ "reason": reason });
            api.post(&format!("{base}/reopen"), &body).await?
        }
    };
    out.print(&incident, |v| {
        let i = IncidentView::from_value(v)?;
        Ok(match &change {
            Change::Ack => format!("Acknowledged {} ({})", i.id, i.status),
            Change::Escalate => {
                let step = v["escalation"]["step"].as_u64().map_or(0, |s| s + 1);
                format!("{}: escalated to step {step}", i.id)
            }
            Change::Assign { role, person } => format!("{}: {role} is now {person}", i.id),
            Change::Unassign { role } => format!("{}: {role} unassigned", i.id),
            Change::Note { .. } => format!("Note added to {}", i.id),
            Change::PostUpdate { audience, .. } => {
                format!("{}: update to {audience} recorded", i.id)
            }
            Change::Severity { .. } => format!("{}: severity {}", i.id, i.severity),
            Change::Status { .. } => format!("{}: status {}", i.id, i.status),
            Change::Resolve { .. } => format!("Resolved {}", i.id),
            Change::Close => format!("Closed {}", i.id),
            Change::Reopen { .. } => format!("Reopened {} ({})", i.id, i.status),
        })
    })
}

fn with_reason(mut body: Value, reason: &Option<String>) -> Value {
    if let (Some(reason), Some(map)) = (reason, body.as_object_mut()) {
        map.insert("reason".into(), json!(reason));
    }
    body
}

/// Prints the export as the server rendered it; `--json` alone means the JSON export.
pub async fn show(api: &Api, out: Out, id: &str, format: Option<ExportFormat>) -> Result<()> {
    let id = incident_id(id)?;
    let format = format.unwrap_or(if out.json {
        ExportFormat::Json
    } else {
        ExportFormat::Md
    });
    let path = format!("/api/v1/incidents/{}/export", seg(id.as_str()));
    let body = api
        .get_text(&path, &[("format", format.as_str().to_string())])
        .await?;
    output::emit(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declare_sends_only_what_was_given() {
        let args = DeclareArgs {
            title: "Login failures".into(),
            severity: "P1".into(),
            incident_type: None,
            services: vec![],
            labels: vec![],
            restricted: false,
            description: None,
        };
        assert_eq!(
            declare_body(&args).expect("body"),
            json!({"title": "Login failures", "severity": "P1"})
        );
        let args = DeclareArgs {
            incident_type: Some("security-breach".into()),
            services: vec!["auth,api".into(), "web".into()],
            labels: vec!["region=eu".into()],
            restricted: true,
            description: Some("spike".into()),
            ..args
        };
        assert_eq!(
            declare_body(&args).expect("body"),
            json!({
                "title": "Login failures", "severity": "P1", "type": "security-breach",
                "services": ["auth", "api", "web"], "labels": {"region": "eu"},
                "restricted": true, "description": "spike"
            })
        );
    }

    #[test]
    fn reasons_are_sent_only_when_given() {
        assert_eq!(with_reason(json!({"a": 1}), &None), json!({"a": 1}));
        assert_eq!(
            with_reason(json!({"a": 1}), &Some("why".into())),
            json!({"a": 1, "reason": "why"})
        );
    }
}
