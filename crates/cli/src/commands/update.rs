//! `warroom update`: a PATCH built from flags. Impact and links are replaced whole by the API,
//! so for those the current values are fetched and only the given fields changed.

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{IncidentView, Out};
use crate::args::{Changes, UpdateArgs};
use crate::client::{Api, seg};
use crate::input::{incident_id, parse_label, split_list};

pub async fn run(api: &Api, out: Out, args: UpdateArgs) -> Result<()> {
    let id = incident_id(&args.id)?;
    let path = format!("/api/v1/incidents/{}", seg(id.as_str()));
    let current = if needs_current(&args.changes) {
        Some(api.get(&path, &[]).await?)
    } else {
        None
    };
    let body = patch_body(&args.changes, current.as_ref())?;
    let incident = api.patch(&path, &body).await?;
    out.print(&incident, |v| {
        let i = IncidentView::from_value(v)?;
        Ok(format!("Updated {}", i.id))
    })
}

fn impact_changes(c: &Changes) -> Vec<(&'static str, Option<Value>)> {
    let mut out = Vec::new();
    if let Some(n) = c.users_affected {
        out.push(("users_affected", Some(json!(n))));
    }
    out.extend(text_change("data_affected", &c.data_affected));
    out.extend(text_change("estimated_cost", &c.estimated_cost));
    out
}

fn links_changes(c: &Changes) -> Vec<(&'static str, Option<Value>)> {
    let mut out = Vec::new();
    out.extend(text_change("ticket", &c.ticket));
    out.extend(text_change("chat_channel", &c.chat_channel));
    out.extend(text_change("dashboard", &c.dashboard));
    out
}

/// An empty text removes the field.
fn text_change(key: &'static str, value: &Option<String>) -> Option<(&'static str, Option<Value>)> {
    value.as_ref().map(|v| {
        let v = v.trim();
        (key, (!v.is_empty()).then(|| json!(v)))
    })
}

fn needs_current(c: &Changes) -> bool {
    !impact_changes(c).is_empty() || !links_changes(c).is_empty()
}

/// `current`'s object with the changes applied (`None` removes a key). Keys this CLI does not
/// know survive, so a newer server's fields are not wiped.
fn merge_object(current: Option<&Value>, changes: &[(&str, Option<Value>)]) -> Value {
    let mut map = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in changes {
        match value {
            Some(v) => {
                map.insert((*key).to_string(), v.clone());
            }
            None => {
                map.remove(*key);
            }
        }
    }
    Value::Object(map)
}

/// The PATCH body; `current` is the incident as fetched, needed when impact or links change.
fn patch_body(c: &Changes, current: Option<&Value>) -> Result<Value> {
    let mut body = Map::new();
    if let Some(title) = &c.title {
        body.insert("title".into(), json!(title));
    }
    if let Some(t) = &c.incident_type {
        body.insert("type".into(), json!(t));
    }
    if let Some(services) = &c.services {
        body.insert("services".into(), json!(split_list(services)));
    }
    if let Some(labels) = &c.labels {
        let mut map = Map::new();
        for text in labels {
            let (key, value) = parse_label(text)?;
            map.insert(key, value.map_or(Value::Null, Value::String));
        }
        body.insert("labels".into(), Value::Object(map));
    }
    if let Some(root_cause) = &c.root_cause {
        body.insert("root_cause".into(), json!(root_cause));
    }
    let impact = impact_changes(c);
    if !impact.is_empty() {
        let now = current.and_then(|i| i.get("impact"));
        body.insert("impact".into(), merge_object(now, &impact));
    }
    let links = links_changes(c);
    if !links.is_empty() {
        let now = current.and_then(|i| i.get("links"));
        body.insert("links".into(), merge_object(now, &links));
    }
    if let Some(restricted) = c.restricted {
        body.insert("restricted".into(), json!(restricted));
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_fields_need_no_fetch() {
        let c = Changes {
            title: Some("New title".into()),
            services: Some(vec!["auth,api".into()]),
            restricted: Some(false),
            ..Changes::default()
        };
        assert!(!needs_current(&c));
        assert_eq!(
            patch_body(&c, None).expect("body"),
            json!({"title": "New title", "services": ["auth", "api"], "restricted": false})
        );
    }

    #[test]
    fn an_empty_label_value_removes_the_label() {
        let c = Changes {
            labels: Some(vec!["region=us".into(), "team=".into()]),
            ..Changes::default()
        };
        assert_eq!(
            patch_body(&c, None).expect("body"),
            json!({"labels": {"region": "us", "team": null}})
        );
        let bad = Changes {
            labels: Some(vec!["oops".into()]),
            ..Changes::default()
        };
        assert!(patch_body(&bad, None).is_err());
    }

    #[test]
    fn impact_and_links_are_merged_into_the_current_values() {
        let current = json!({
            "id": "INC-20261122-001",
            "impact": {"users_affected": 10, "data_affected": "emails", "services_impacted": ["web"]},
            "links": {"ticket": "T-1", "dashboard": "https://dash"}
        });
        let c = Changes {
            users_affected: Some(1200),
            data_affected: Some(String::new()),
            estimated_cost: Some("USD 5,000".into()),
            chat_channel: Some("#inc".into()),
            dashboard: Some("".into()),
            ..Changes::default()
        };
        assert!(needs_current(&c));
        assert_eq!(
            patch_body(&c, Some(&current)).expect("body"),
            json!({
                "impact": {"users_affected": 1200, "services_impacted": ["web"], "estimated_cost": "USD 5,000"},
                "links": {"ticket": "T-1", "chat_channel": "#inc"}
            })
        );
    }

    #[test]
    fn missing_current_objects_start_empty() {
        let c = Changes {
            ticket: Some("T-9".into()),
            ..Changes::default()
        };
        assert_eq!(
            patch_body(&c, Some(&json!({"id": "x"}))).expect("body"),
            json!({"links": {"ticket": "T-9"}})
        );
    }
}
