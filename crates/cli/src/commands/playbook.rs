//! `warroom playbook list|show|attach|detach`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use warroom_core::playbook::TimeBox;

use super::{IncidentView, Out};
use crate::args::PlaybookCommand;
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{table, wrap};

/// Width of wrapped prose in `playbook show`; commands are never wrapped.
const WIDTH: usize = 92;

pub async fn run(api: &Api, out: Out, cmd: PlaybookCommand) -> Result<()> {
    match cmd {
        PlaybookCommand::List => {
            let answer = api.get("/api/v1/playbooks", &[]).await?;
            out.print(&answer, |v| {
                let list = v
                    .get("playbooks")
                    .context("the server's answer has no playbook list")?;
                let playbooks = Vec::<PlaybookView>::deserialize(list)
                    .context("the server's answer is not a playbook list")?;
                if playbooks.is_empty() {
                    return Ok("No playbooks are configured.".to_string());
                }
                Ok(playbook_table(&playbooks))
            })
        }
        PlaybookCommand::Show { id } => {
            let answer = api
                .get(&format!("/api/v1/playbooks/{}", seg(&id)), &[])
                .await?;
            out.print(&answer, |v| Ok(render(&PlaybookView::from_value(v)?)))
        }
        PlaybookCommand::Attach { incident, playbook } => {
            let id = incident_id(&incident)?;
            let path = format!("/api/v1/incidents/{}/playbooks", seg(id.as_str()));
            let answer = api.post(&path, &json!({ "playbook": playbook })).await?;
            out.print(&answer, |v| {
                let i = IncidentView::from_value(v)?;
                let tasks = attached(v)?
                    .iter()
                    .find(|a| a.playbook.id == playbook)
                    .map_or(0, |a| a.playbook.task_count());
                Ok(format!(
                    "Attached {playbook} to {}: {tasks} task{}; see `warroom task list {}`",
                    i.id,
                    plural(tasks),
                    i.id
                ))
            })
        }
        PlaybookCommand::Detach {
            incident,
            playbook,
            reason,
        } => {
            let id = incident_id(&incident)?;
            let path = format!(
                "/api/v1/incidents/{}/playbooks/{}/detach",
                seg(id.as_str()),
                seg(&playbook)
            );
            let body = match reason {
                Some(r) => json!({ "reason": r }),
                None => json!({}),
            };
            let answer = api.post(&path, &body).await?;
            out.print(&answer, |v| {
                let i = IncidentView::from_value(v)?;
                Ok(format!("Detached {playbook} from {}", i.id))
            })
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A playbook as the human views need it. Lenient, like [`IncidentView`]: fields a newer
/// server adds are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlaybookView {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub triggers: TriggersView,
    #[serde(default)]
    pub params: Vec<ParamView>,
    #[serde(default)]
    pub phases: Vec<PhaseView>,
    #[serde(default)]
    pub templates: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TriggersView {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ParamView {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PhaseView {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub time_box: String,
    #[serde(default)]
    pub tasks: Vec<TaskDef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskDef {
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub commands: Vec<String>,
    #[serde(default)]
    pub links: Vec<String>,
}

impl PlaybookView {
    fn from_value(value: &Value) -> Result<PlaybookView> {
        PlaybookView::deserialize(value).context("the server's answer is not a playbook")
    }

    fn task_count(&self) -> usize {
        self.phases.iter().map(|p| p.tasks.len()).sum()
    }
}

/// An attached playbook inside an incident's JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct AttachedView {
    pub playbook: PlaybookView,
}

/// The playbooks attached to an incident (its JSON as the API returned it).
pub fn attached(incident: &Value) -> Result<Vec<AttachedView>> {
    match incident.get("playbooks") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(list) => Vec::<AttachedView>::deserialize(list)
            .context("the server's answer has unreadable playbooks"),
    }
}

/// "type security-breach; severity P0..P1; label vector=credential", or "attached by hand".
pub fn describe_triggers(t: &TriggersView) -> String {
    let mut parts = Vec::new();
    if !t.types.is_empty() {
        parts.push(format!("type {}", t.types.join(" or ")));
    }
    if !t.services.is_empty() {
        parts.push(format!("service {}", t.services.join(" or ")));
    }
    if let Some(s) = &t.severity {
        parts.push(format!("severity {s}"));
    }
    for (k, v) in &t.labels {
        parts.push(format!("label {k}={v}"));
    }
    if parts.is_empty() {
        "attached by hand".to_string()
    } else {
        parts.join("; ")
    }
}

/// `0-15m after declaration`, `within 2d of resolve`: a time box as a phrase.
pub fn describe_time_box(text: &str) -> String {
    match TimeBox::parse(text) {
        Ok(TimeBox::SinceDeclared { .. }) => format!("{} after declaration", text.trim()),
        _ => text.trim().to_string(),
    }
}

fn playbook_table(playbooks: &[PlaybookView]) -> String {
    let rows: Vec<Vec<String>> = playbooks
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.title.clone(),
                p.task_count().to_string(),
                describe_triggers(&p.triggers),
            ]
        })
        .collect();
    table(&["ID", "TITLE", "TASKS", "ATTACHES WHEN"], &rows)
}

/// The whole playbook for reading in a terminal: prose wrapped, commands written out whole.
fn render(pb: &PlaybookView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", pb.title.trim(), pb.id);
    let _ = writeln!(out, "Attaches when: {}", describe_triggers(&pb.triggers));
    if !pb.description.trim().is_empty() {
        out.push('\n');
        for line in wrap(&pb.description, WIDTH) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !pb.params.is_empty() {
        out.push_str(
            "\nValues for the commands (warroom task commands INCIDENT TASK --param NAME=VALUE):\n",
        );
        let width = pb.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &pb.params {
            let lines = wrap(&p.description, WIDTH.saturating_sub(width + 4).max(20));
            let _ = writeln!(
                out,
                "  {:<width$}  {}",
                p.name,
                lines.first().map_or("", String::as_str)
            );
            for line in lines.iter().skip(1) {
                let _ = writeln!(out, "  {:<width$}  {line}", "");
            }
        }
    }
    for phase in &pb.phases {
        let _ = writeln!(
            out,
            "\n{} [{}] — {}",
            phase.title.trim(),
            phase.id,
            describe_time_box(&phase.time_box)
        );
        for task in &phase.tasks {
            let _ = writeln!(out, "  - {} (owner: {})", task.id, task.owner);
            for line in wrap(&task.text, WIDTH - 4) {
                let _ = writeln!(out, "    {line}");
            }
            for c in &task.commands {
                let _ = writeln!(out, "      $ {}", c.trim());
            }
            for l in &task.links {
                let _ = writeln!(out, "      see {}", l.trim());
            }
        }
    }
    if !pb.templates.is_empty() {
        let _ = writeln!(out, "\nMessages: {}", pb.templates.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PlaybookView {
        PlaybookView::from_value(&json!({
            "id": "credential-leak", "title": "Credential leak",
            "description": "Use when a secret leaked.",
            "triggers": {"types": ["security-breach"], "severity": "P0..P1", "labels": {"vector": "credential"}},
            "params": [{"name": "ip_address", "description": "Address the attacker used"}],
            "phases": [
                {"id": "contain", "title": "Contain", "time_box": "0-15m", "tasks": [
                    {"id": "block-ip", "text": "Block the attacker's address", "owner": "security-lead",
                     "commands": ["fw block {{ip_address}}"], "links": ["https://wiki/fw"]}
                ]},
                {"id": "review", "title": "Review", "time_box": "within 48h of resolve", "tasks": [
                    {"id": "postmortem", "text": "Write the postmortem", "owner": "incident-commander"}
                ]}
            ],
            "a_field_from_the_future": 1
        }))
        .expect("a playbook")
    }

    #[test]
    fn triggers_read_as_a_phrase() {
        assert_eq!(
            describe_triggers(&sample().triggers),
            "type security-breach; severity P0..P1; label vector=credential"
        );
        assert_eq!(
            describe_triggers(&TriggersView::default()),
            "attached by hand"
        );
    }

    #[test]
    fn playbooks_list_as_a_table() {
        let got = playbook_table(&[sample()]);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(
            lines,
            [
                "ID               TITLE            TASKS  ATTACHES WHEN",
                "credential-leak  Credential leak  2      type security-breach; severity P0..P1; label vector=credential",
            ]
        );
    }

    #[test]
    fn a_playbook_shows_phases_time_boxes_owners_and_commands() {
        let got = render(&sample());
        for needle in [
            "Credential leak (credential-leak)\n",
            "Attaches when: type security-breach",
            "  ip_address  Address the attacker used\n",
            "\nContain [contain] — 0-15m after declaration\n",
            "  - block-ip (owner: security-lead)\n    Block the attacker's address\n",
            "      $ fw block {{ip_address}}\n",
            "      see https://wiki/fw\n",
            "\nReview [review] — within 48h of resolve\n",
        ] {
            assert!(got.contains(needle), "{needle:?} not in:\n{got}");
        }
    }

    #[test]
    fn attached_playbooks_are_read_from_the_incident() {
        let inc = json!({"id": "INC-20261122-001", "playbooks": [
            {"playbook": {"id": "p", "title": "P", "phases": []}, "attached_at": "x", "automatic": true}
        ]});
        let got = attached(&inc).expect("attached");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].playbook.id, "p");
        assert!(attached(&json!({"id": "x"})).expect("none").is_empty());
    }
}
