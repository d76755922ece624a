//! Playbooks as code: scenario playbooks with timed phases and checklists.
//!
//! This module owns the playbook model, the trigger rules that attach a playbook to an incident,
//! phase time boxes, rendering of copy-paste commands with the incident's values, and the task
//! checklist view (due, overdue) computed at a given instant. Playbooks are snapshotted into the
//! incident's log when attached, so an incident's checklist never changes under it when the
//! config does, and the record shows exactly what the plan said.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::duration::Duration;
use crate::incident::Incident;

/// One scenario playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Id used in commands (`credential-compromise`).
    pub id: String,
    /// Title.
    pub title: String,
    /// When it applies and what the response aims at.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When it attaches automatically; no trigger means it is attached by hand only.
    #[serde(default, skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Triggers,
    /// Values responders fill in, used as `{{name}}` in commands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamDef>,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Message templates this playbook uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
}

/// Conditions for automatic attachment; every given condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Incident types, any of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Services, any of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Severity range `P0..P2` (most to least severe) or one id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Labels, all of.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Triggers {
    /// No condition at all: the playbook never attaches by itself.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.services.is_empty()
            && self.severity.is_none()
            && self.labels.is_empty()
    }
}

/// A value responders supply for commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    /// Name used as `{{name}}`.
    pub name: String,
    /// What to fill in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// One phase of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Phase id (`detect`, `contain`...).
    pub id: String,
    /// Title.
    pub title: String,
    /// When the phase's tasks are due: `0-15m`, `1h-4h`, `within 48h of resolve`.
    pub time_box: String,
    /// Checklist.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Id, unique within the playbook.
    pub id: String,
    /// What to do and why.
    pub text: String,
    /// Incident role responsible.
    pub owner: String,
    /// Copy-paste commands with `{{placeholders}}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Reference links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// When a phase's tasks are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBox {
    /// Between `start` and `end` after declaration.
    SinceDeclared {
        /// Start, seconds after declaration.
        start: i64,
        /// Deadline, seconds after declaration.
        end: i64,
    },
    /// Within this long after resolution.
    AfterResolve(Duration),
}

impl TimeBox {
    /// Parses `0-15m`, `15m-1h`, `within 48h of resolve`, `48h after resolve`.
    pub fn parse(text: &str) -> Result<TimeBox, String> {
        let t = text.trim().to_ascii_lowercase();
        let after = t
            .strip_prefix("within ")
            .and_then(|r| {
                r.strip_suffix(" of resolve")
                    .or_else(|| r.strip_suffix(" of resolution"))
            })
            .or_else(|| t.strip_suffix(" after resolve"));
        if let Some(d) = after {
            return d
                .parse::<Duration>()
                .map(TimeBox::AfterResolve)
                .map_err(|e| format!("time box {text:?}: {e}"));
        }
        let (start, end) = t.split_once('-').ok_or_else(|| {
            format!("time box {text:?}: expected START-END after declaration (0-15m, 1h-4h) or \"within 48h of resolve\"")
        })?;
        let secs = |part: &str| -> Result<i64, String> {
            if part.trim() == "0" {
                return Ok(0);
            }
            part.parse::<Duration>()
                .map(|d| d.as_secs())
                .map_err(|e| format!("time box {text:?}: {e}"))
        };
        let (start, end) = (secs(start)?, secs(end)?);
        if end <= start {
            return Err(format!(
                "time box {text:?}: the end must come after the start"
            ));
        }
        Ok(TimeBox::SinceDeclared { start, end })
    }

    /// When tasks in this box are due for `incident` (`None` while not yet known).
    pub fn due(&self, incident: &Incident) -> Option<Timestamp> {
        match self {
            TimeBox::SinceDeclared { end, .. } => incident
                .declared_at
                .checked_add(SignedDuration::from_secs(*end))
                .ok(),
            TimeBox::AfterResolve(d) => incident
                .resolved_at
                .and_then(|r| r.checked_add(d.as_signed()).ok()),
        }
    }
}

impl fmt::Display for TimeBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeBox::SinceDeclared { start, end } => {
                let show = |s: i64| {
                    if s == 0 {
                        "0".to_string()
                    } else {
                        Duration::from_secs(s).to_string()
                    }
                };
                write!(f, "{}-{}", show(*start), show(*end))
            }
            TimeBox::AfterResolve(d) => write!(f, "within {d} of resolve"),
        }
    }
}

/// Severity ranks (0 = most severe) a trigger's `severity` covers.
pub fn severity_range(text: &str, config: &Config) -> Result<(usize, usize), String> {
    let rank = |id: &str| {
        config.severity_rank(id.trim()).ok_or_else(|| {
            let known: Vec<&str> = config.severities.iter().map(|s| s.id.as_str()).collect();
            format!(
                "unknown severity {:?} in {text:?}; expected one of {}",
                id.trim(),
                known.join(", ")
            )
        })
    };
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (rank(a)?, rank(b)?);
            if a > b {
                return Err(format!(
                    "severity range {text:?} must go from the most to the least severe"
                ));
            }
            Ok((a, b))
        }
        None => rank(text).map(|r| (r, r)),
    }
}

/// What the triggers look at.
#[derive(Debug, Clone, Copy)]
pub struct MatchFacts<'a> {
    /// Incident type.
    pub incident_type: &'a str,
    /// Services.
    pub services: &'a [String],
    /// Severity.
    pub severity: &'a str,
    /// Labels.
    pub labels: &'a BTreeMap<String, String>,
}

/// Whether `playbook` should attach to an incident with these facts.
pub fn matches(playbook: &Playbook, facts: MatchFacts<'_>, config: &Config) -> bool {
    let t = &playbook.triggers;
    if t.is_empty() {
        return false;
    }
    let type_ok = t.types.is_empty() || t.types.iter().any(|x| x == facts.incident_type);
    let service_ok = t.services.is_empty() || t.services.iter().any(|s| facts.services.contains(s));
    let severity_ok = match &t.severity {
        None => true,
        Some(range) => match (
            severity_range(range, config),
            config.severity_rank(facts.severity),
        ) {
            (Ok((lo, hi)), Some(r)) => (lo..=hi).contains(&r),
            _ => false,
        },
    };
    let labels_ok = t.labels.iter().all(|(k, v)| facts.labels.get(k) == Some(v));
    type_ok && service_ok && severity_ok && labels_ok
}

/// Placeholders every command may use, whatever the playbook.
pub const BUILTIN_PLACEHOLDERS: [&str; 7] = [
    "incident_id",
    "title",
    "severity",
    "status",
    "service",
    "services",
    "declared_at",
];

/// The `{{name}}` placeholders in a command, in order of appearance.
pub fn placeholders(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = command;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push(after[..close].trim().to_string());
        rest = &after[close + 2..];
    }
    out
}

/// Whether a placeholder name is one a playbook may use (given its declared params).
pub fn placeholder_known(name: &str, params: &[ParamDef]) -> bool {
    BUILTIN_PLACEHOLDERS.contains(&name)
        || name.strip_prefix("label.").is_some_and(|k| !k.is_empty())
        || params.iter().any(|p| p.name == name)
}

/// Renders a command with the incident's values and the given params. A value that is not known
/// yet becomes a visible `<NAME>` marker, never an empty string, so a pasted command cannot
/// silently run against the wrong target.
pub fn render_command(
    command: &str,
    incident: &Incident,
    params: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        out.push_str(&lookup(name, incident, params).unwrap_or_else(|| missing(name)));
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(name: &str, inc: &Incident, params: &BTreeMap<String, String>) -> Option<String> {
    if let Some(v) = params.get(name).filter(|v| !v.is_empty()) {
        return Some(v.clone());
    }
    let value = match name {
        "incident_id" => inc.id.to_string(),
        "title" => inc.title.clone(),
        "severity" => inc.severity.clone(),
        "status" => inc.status.to_string(),
        "service" => inc.services.first()?.clone(),
        "services" if !inc.services.is_empty() => inc.services.join(","),
        "declared_at" => inc.declared_at.to_string(),
        _ => inc
            .labels
            .get(name.strip_prefix("label.").unwrap_or(name))?
            .clone(),
    };
    Some(value).filter(|v| !v.is_empty())
}

fn missing(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("<{upper}>")
}

/// A checklist item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not done yet.
    Open,
    /// Done.
    Done,
    /// Deliberately not done, with a reason.
    Skipped,
}

/// What happened to a task, recorded in the incident's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// Done or skipped.
    pub state: TaskState,
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A playbook attached to an incident, with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedPlaybook {
    /// The playbook as it was when attached.
    pub playbook: Playbook,
    /// When.
    pub attached_at: Timestamp,
    /// Who (the actor of the event; the reporter for automatic attachment).
    pub attached_by: String,
    /// Attached by its triggers rather than by hand.
    pub automatic: bool,
    /// Task id -> what happened to it; absent means open.
    #[serde(default)]
    pub progress: BTreeMap<String, TaskProgress>,
}

/// One task as a responder sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    /// 1-based position in the incident's whole checklist; a short handle for the CLI.
    pub number: usize,
    /// Playbook id.
    pub playbook: String,
    /// Phase id.
    pub phase: String,
    /// Phase title.
    pub phase_title: String,
    /// Time box as written.
    pub time_box: String,
    /// Task id.
    pub task: String,
    /// What to do.
    pub text: String,
    /// Responsible role, and who holds it now if anyone.
    pub owner: String,
    /// Person holding the owner role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_person: Option<String>,
    /// Open, done or skipped.
    pub state: TaskState,
    /// Who closed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When it was closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// Open and past due.
    pub overdue: bool,
    /// Commands with the incident's values filled in.
    pub commands: Vec<String>,
    /// Reference links.
    pub links: Vec<String>,
}

/// The incident's whole checklist at `now`, commands rendered with `params`.
pub fn task_views(
    incident: &Incident,
    now: Timestamp,
    params: &BTreeMap<String, String>,
) -> Vec<TaskView> {
    let mut out = Vec::new();
    for attached in &incident.playbooks {
        let pb = &attached.playbook;
        for phase in &pb.phases {
            let due_at = TimeBox::parse(&phase.time_box)
                .ok()
                .and_then(|tb| tb.due(incident));
            for task in &phase.tasks {
                let progress = attached.progress.get(&task.id);
                let state = progress.map_or(TaskState::Open, |p| p.state);
                out.push(TaskView {
                    number: out.len() + 1,
                    playbook: pb.id.clone(),
                    phase: phase.id.clone(),
                    phase_title: phase.title.clone(),
                    time_box: phase.time_box.clone(),
                    task: task.id.clone(),
                    text: task.text.clone(),
                    owner: task.owner.clone(),
                    owner_person: incident.roles.get(&task.owner).cloned(),
                    state,
                    by: progress.map(|p| p.by.clone()),
                    at: progress.map(|p| p.at),
                    reason: progress.and_then(|p| p.reason.clone()),
                    due_at,
                    overdue: state == TaskState::Open && due_at.is_some_and(|d| d < now),
                    commands: task
                        .commands
                        .iter()
                        .map(|c| render_command(c, incident, params))
                        .collect(),
                    links: task.links.clone(),
                });
            }
        }
    }
    out
}

/// Finds a task by checklist number (`3`), task id (`block-ip`, when unique) or
/// `playbook/task`. Returns (playbook id, task id).
pub fn find_task(incident: &Incident, reference: &str) -> Result<(String, String), String> {
    let all: Vec<(usize, &str, &str)> = incident
        .playbooks
        .iter()
        .flat_map(|a| {
            a.playbook.phases.iter().flat_map(move |ph| {
                ph.tasks
                    .iter()
                    .map(move |t| (a.playbook.id.as_str(), t.id.as_str()))
            })
        })
        .enumerate()
        .map(|(i, (p, t))| (i + 1, p, t))
        .collect();
    if all.is_empty() {
        return Err("no playbook is attached to this incident".into());
    }
    if let Ok(n) = reference.parse::<usize>() {
        return all
            .iter()
            .find(|(i, _, _)| *i == n)
            .map(|(_, p, t)| (p.to_string(), t.to_string()))
            .ok_or_else(|| format!("no task number {n}; the checklist has {}", all.len()));
    }
    let hits: Vec<&(usize, &str, &str)> = match reference.split_once('/') {
        Some((p, t)) => all
            .iter()
            .filter(|(_, pp, tt)| *pp == p && *tt == t)
            .collect(),
        None => all.iter().filter(|(_, _, tt)| *tt == reference).collect(),
    };
    match hits.as_slice() {
        [(_, p, t)] => Ok((p.to_string(), t.to_string())),
        [] => Err(format!("no task {reference:?} in the attached playbooks")),
        many => {
            let names: Vec<String> = many.iter().map(|(_, p, t)| format!("{p}/{t}")).collect();
            Err(format!("{reference:?} is ambiguous: {}", names.join(", ")))
        }
    }
}

/// The ids of playbooks attached (now) to `incident`.
pub fn attached_ids(incident: &Incident) -> BTreeSet<&str> {
    incident
        .playbooks
        .iter()
        .map(|a| a.playbook.id.as_str())
        .collect()
}
