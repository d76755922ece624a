//! `warroom task list|done|skip|reopen|commands`: working an incident's checklist.
//!
//! A task is named by its checklist number, its id or `playbook/task`; the name is resolved
//! against the incident as fetched, with the same rule the server documents
//! (`warroom_core::playbook::find_task`).

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use warroom_core::playbook::{ParamDef, find_task, placeholders, task_views};
use warroom_core::{Clock as _, Incident, SystemClock};

use super::checklist::{self, TaskItem};
use super::playbook::attached;
use super::{IncidentView, Out};
use crate::args::TaskCommand;
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{Colour, emit, emit_json, truncate};

pub async fn run(api: &Api, out: Out, cmd: TaskCommand) -> Result<()> {
    match cmd {
        TaskCommand::List { incident } => list(api, out, &incident).await,
        TaskCommand::Done { incident, task } => {
            change(api, out, &incident, &task, Action::Done).await
        }
        TaskCommand::Skip {
            incident,
            task,
            reason,
        } => change(api, out, &incident, &task, Action::Skip(reason)).await,
        TaskCommand::Reopen { incident, task } => {
            change(api, out, &incident, &task, Action::Reopen).await
        }
        TaskCommand::Commands {
            incident,
            task,
            params,
        } => commands(api, out, &incident, &task, &params).await,
    }
}

fn incident_path(id: &str) -> Result<String> {
    let id = incident_id(id)?;
    Ok(format!("/api/v1/incidents/{}", seg(id.as_str())))
}

fn tasks_of(answer: &Value) -> Result<Vec<TaskItem>> {
    let list = answer
        .get("tasks")
        .context("the server's answer has no task list")?;
    Vec::<TaskItem>::deserialize(list).context("the server's task list is unreadable")
}

async fn list(api: &Api, out: Out, incident: &str) -> Result<()> {
    let base = incident_path(incident)?;
    let tasks_path = format!("{base}/tasks");
    if out.json {
        return emit_json(&api.get(&tasks_path, &[]).await?);
    }
    let (incident, answer) = tokio::try_join!(api.get(&base, &[]), api.get(&tasks_path, &[]))?;
    let tasks = tasks_of(&answer)?;
    let i = IncidentView::from_value(&incident)?;
    if tasks.is_empty() {
        return emit(&format!(
            "No playbook is attached to {id}. Attach one with `warroom playbook attach {id} PLAYBOOK` \
             (see `warroom playbook list`).",
            id = i.id
        ));
    }
    let titles: BTreeMap<String, String> = attached(&incident)?
        .into_iter()
        .map(|a| (a.playbook.id, a.playbook.title))
        .collect();
    let header = format!("{}: {} ({}, {})", i.id, i.title, i.severity, i.status);
    emit(&checklist::render(
        &header,
        &titles,
        &tasks,
        SystemClock.now(),
        Colour::for_stdout(),
    ))
}

/// The incident as the API returned it, as the domain type `find_task` reads.
async fn fetch_incident(api: &Api, base: &str) -> Result<Incident> {
    let value = api.get(base, &[]).await?;
    Incident::deserialize(&value).context("the server's answer is not an incident")
}

/// (playbook id, task id) for what the user typed, or an error naming the incident.
fn resolve(incident: &Incident, reference: &str) -> Result<(String, String)> {
    find_task(incident, reference.trim()).map_err(|e| anyhow!("{}: {e}", incident.id))
}

/// `task 3 credential-leak/block-ip (Block the attacker's address)`: what a reference resolved
/// to, as confirmations print it.
pub fn describe_task(incident: &Incident, playbook: &str, task: &str) -> String {
    let views = task_views(incident, incident.updated_at, &BTreeMap::new());
    match views
        .iter()
        .find(|v| v.playbook == playbook && v.task == task)
    {
        Some(v) => {
            let text = v.text.split_whitespace().collect::<Vec<_>>().join(" ");
            format!(
                "task {} {playbook}/{task} ({})",
                v.number,
                truncate(&text, 48)
            )
        }
        None => format!("task {playbook}/{task}"),
    }
}

enum Action {
    Done,
    Skip(String),
    Reopen,
}

async fn change(
    api: &Api,
    out: Out,
    incident: &str,
    reference: &str,
    action: Action,
) -> Result<()> {
    let base = incident_path(incident)?;
    let before = fetch_incident(api, &base).await?;
    let (playbook, task) = resolve(&before, reference)?;
    let (verb, done, body) = match &action {
        Action::Done => ("done", "done", json!({})),
        Action::Skip(reason) => ("skip", "skipped", json!({ "reason": reason })),
        Action::Reopen => ("reopen", "reopened", json!({})),
    };
    let path = format!(
        "{base}/playbooks/{}/tasks/{}/{verb}",
        seg(&playbook),
        seg(&task)
    );
    let answer = api.post(&path, &body).await?;
    out.print(&answer, |v| {
        let after = Incident::deserialize(v).context("the server's answer is not an incident")?;
        Ok(format!(
            "{}: {} {done}",
            after.id,
            describe_task(&after, &playbook, &task)
        ))
    })
}

/// `NAME=VALUE` of `--param`; the value may hold `=` and may be empty.
pub fn parse_param(text: &str) -> Result<(String, String)> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("invalid --param {text:?}: expected NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        bail!("invalid --param {text:?}: the name is empty");
    }
    Ok((name.to_string(), value.to_string()))
}

/// One stderr line per placeholder still unfilled in `rendered`: which `--param` to pass.
pub fn unfilled_hints(
    templates: &[String],
    rendered: &[String],
    params: &[ParamDef],
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut hints = Vec::new();
    for name in templates.iter().flat_map(|t| placeholders(t)) {
        let mark = warroom_core::playbook::missing_marker(&name);
        if seen.contains(&name) || !rendered.iter().any(|r| r.contains(&mark)) {
            continue;
        }
        let about = params
            .iter()
            .find(|p| p.name == name && !p.description.trim().is_empty())
            .map(|p| format!(" ({})", p.description.trim()))
            .unwrap_or_default();
        hints.push(format!(
            "note: {mark} is not filled in: pass --param {name}=VALUE{about}"
        ));
        seen.push(name);
    }
    hints
}

/// Notes for `--param` names none of the task's commands use (a typo, most likely).
fn unused_params(templates: &[String], given: &[(String, String)]) -> Vec<String> {
    let used: Vec<String> = templates.iter().flat_map(|t| placeholders(t)).collect();
    given
        .iter()
        .filter(|(name, _)| !used.contains(name))
        .map(|(name, _)| format!("note: --param {name} is not used by this task's commands"))
        .collect()
}

async fn commands(
    api: &Api,
    out: Out,
    incident: &str,
    reference: &str,
    params: &[String],
) -> Result<()> {
    let given = params
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<Vec<_>>>()?;
    let base = incident_path(incident)?;
    let inc = fetch_incident(api, &base).await?;
    let (playbook, task) = resolve(&inc, reference)?;
    let query: Vec<(&str, String)> = given
        .iter()
        .map(|(k, v)| ("param", format!("{k}={v}")))
        .collect();
    let answer = api.get(&format!("{base}/tasks"), &query).await?;
    let index = tasks_of(&answer)?
        .iter()
        .position(|t| t.playbook == playbook && t.task == task)
        .ok_or_else(|| anyhow!("the server's checklist has no task {playbook}/{task}"))?;
    let raw = &answer["tasks"][index];
    let item = TaskItem::deserialize(raw).context("the server's task is unreadable")?;
    let snapshot = inc.playbooks.iter().find(|a| a.playbook.id == playbook);
    let templates: Vec<String> = snapshot
        .and_then(|a| {
            a.playbook
                .phases
                .iter()
                .flat_map(|p| &p.tasks)
                .find(|t| t.id == task)
        })
        .map(|t| t.commands.clone())
        .unwrap_or_default();
    let defs = snapshot.map_or(&[][..], |a| &a.playbook.params[..]);
    if out.json {
        emit_json(raw)?;
    } else if item.commands.is_empty() {
        eprintln!("note: {playbook}/{task} has no commands");
    } else {
        emit(&item.commands.join("\n"))?;
    }
    for line in unused_params(&templates, &given)
        .into_iter()
        .chain(unfilled_hints(&templates, &item.commands, defs))
    {
        eprintln!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use warroom_core::config::{SourceFile, load};
    use warroom_core::event::{Event, EventKind, GENESIS_HASH, NewEvent};
    use warroom_core::{Command, Declaration, IncidentId, command};

    use super::*;

    const PLAYBOOK: &str = "\
playbooks:
  - id: credential-leak
    title: Credential leak
    triggers: {types: [security-breach]}
    params:
      - name: ip_address
        description: Address the attacker used
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: block-ip
            text: Block the attacker's address at the edge firewall
            owner: security-lead
            commands: ['fw block {{ip_address}} --reason {{incident_id}}', 'fw show {{ ip_address }} {{label.region}}']
          - id: rotate
            text: Rotate the leaked credential
            owner: technical-lead
  - id: manual-only
    title: Manual only
    phases:
      - id: all
        title: Everything
        time_box: 0-1h
        tasks:
          - id: rotate
            text: Rotate again
            owner: technical-lead
";

    /// An incident declared as a security breach (credential-leak attaches by itself), with
    /// manual-only attached by hand and block-ip done.
    fn incident() -> Incident {
        let config = load(&[SourceFile::new("p.yaml", PLAYBOOK)]).expect("config");
        let at: jiff::Timestamp = "2026-03-01T10:00:00Z".parse().expect("ts");
        let id = IncidentId::new(at, 1);
        let decl = Declaration {
            title: "Leaked key".into(),
            incident_type: Some("security-breach".into()),
            severity: "P1".into(),
            ..Declaration::default()
        };
        let mut kinds: Vec<EventKind> =
            command::declaration_events(&decl, &config).expect("declares");
        let mut state: Option<Incident> = None;
        let mut prev = GENESIS_HASH.to_string();
        let mut seq = 0;
        let mut apply = |kinds: Vec<EventKind>, state: &mut Option<Incident>| {
            for kind in kinds {
                seq += 1;
                let event = Event::seal(
                    id.clone(),
                    seq,
                    NewEvent {
                        at,
                        actor: "maria".into(),
                        kind,
                    },
                    &prev,
                );
                *state = Some(Incident::apply(state.take(), &event).expect("applies"));
                prev = event.hash;
            }
        };
        apply(std::mem::take(&mut kinds), &mut state);
        for cmd in [
            Command::AttachPlaybook {
                playbook: "manual-only".into(),
            },
            Command::CompleteTask {
                playbook: "credential-leak".into(),
                task: "block-ip".into(),
            },
        ] {
            let now = state.clone().expect("declared");
            let kinds = command::decide(&now, &cmd, &config).expect("allowed");
            apply(kinds, &mut state);
        }
        state.expect("declared")
    }

    #[test]
    fn references_resolve_and_describe_themselves() {
        let inc = incident();
        let show = |r: &str| {
            resolve(&inc, r)
                .map(|(p, t)| describe_task(&inc, &p, &t))
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            show("1"),
            Ok("task 1 credential-leak/block-ip (Block the attacker's address at the edge firewa…)".into())
        );
        assert_eq!(show(" block-ip "), show("1"));
        assert_eq!(
            show("manual-only/rotate"),
            Ok("task 3 manual-only/rotate (Rotate again)".into())
        );
        assert_eq!(
            show("rotate"),
            Err(format!(
                "{}: \"rotate\" is ambiguous: credential-leak/rotate, manual-only/rotate",
                inc.id
            ))
        );
        assert_eq!(
            show("9"),
            Err(format!("{}: no task number 9; the checklist has 3", inc.id))
        );
        assert_eq!(describe_task(&inc, "gone", "x"), "task gone/x");
    }

    #[test]
    fn params_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_param("ip_address=203.0.113.7").expect("ok"),
            ("ip_address".into(), "203.0.113.7".into())
        );
        assert_eq!(
            parse_param("q=a=b").expect("ok"),
            ("q".into(), "a=b".into())
        );
        assert_eq!(parse_param("x=").expect("ok"), ("x".into(), String::new()));
        assert!(parse_param("ip_address").is_err());
        assert!(parse_param("=1").is_err());
    }

    #[test]
    fn unfilled_placeholders_say_which_param_to_pass() {
        let inc = incident();
        let pb = &inc.playbooks[0].playbook;
        let templates = pb.phases[0].tasks[0].commands.clone();
        let rendered = vec![
            format!("fw block <IP_ADDRESS> --reason {}", inc.id),
            "fw show <IP_ADDRESS> <LABEL_REGION>".to_string(),
        ];
        assert_eq!(
            unfilled_hints(&templates, &rendered, &pb.params),
            [
                "note: <IP_ADDRESS> is not filled in: pass --param ip_address=VALUE (Address the attacker used)",
                "note: <LABEL_REGION> is not filled in: pass --param label.region=VALUE",
            ]
        );
        let filled = vec![
            format!("fw block 203.0.113.7 --reason {}", inc.id),
            "fw show 203.0.113.7 eu".to_string(),
        ];
        assert!(unfilled_hints(&templates, &filled, &pb.params).is_empty());
        let given = [
            ("ip_address".to_string(), "1".to_string()),
            ("ip_adress".to_string(), "1".to_string()),
        ];
        assert_eq!(
            unused_params(&templates, &given),
            ["note: --param ip_adress is not used by this task's commands"]
        );
    }
}
