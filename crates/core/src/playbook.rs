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
        out.push_str(&lookup(name, incident, params).unwrap_or_else(|| missing_marker(name)));
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

/// The visible `<NAME>` marker a placeholder renders as while its value is unknown.
pub fn missing_marker(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, Declaration, decide, declaration_events};
    use crate::config::{SourceFile, load};
    use crate::event::{Event, EventKind, GENESIS_HASH, NewEvent};
    use crate::id::IncidentId;

    /// Three playbooks with triggers of every kind, plus one attached by hand only. `rotate` is
    /// a task id in two playbooks, so a bare `rotate` is ambiguous.
    const PLAYBOOKS: &str = "\
playbooks:
  - id: credential-leak
    title: Credential leak
    triggers:
      types: [security-breach]
      severity: P0..P1
    params:
      - name: ip_address
        description: Address the attacker used
      - name: account
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: block-ip
            text: Block the attacker's address
            owner: security-lead
            commands:
              - 'fw block {{ip_address}} --reason {{incident_id}}'
          - id: rotate
            text: Rotate the leaked credential
            owner: technical-lead
            commands:
              - 'vault rotate {{account}} --service {{service}}'
      - id: eradicate
        title: Eradicate
        time_box: 15m-1h
        tasks:
          - id: audit
            text: Audit what the credential reached
            owner: security-lead
      - id: review
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: postmortem
            text: Write the postmortem
            owner: incident-commander
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

    fn config() -> Config {
        load(&[SourceFile::new("playbooks.yaml", PLAYBOOKS)])
            .unwrap_or_else(|e| panic!("test config: {e}"))
    }

    fn ts(text: &str) -> Timestamp {
        text.parse()
            .unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"))
    }

    /// An incident built the way a store builds it: declaration events, then commands, each
    /// sealed and applied at its time.
    struct Built {
        incident: Incident,
        prev: String,
    }

    impl Built {
        fn declare(decl: &Declaration, config: &Config, at: &str) -> Built {
            let at = ts(at);
            let kinds = declaration_events(decl, config)
                .unwrap_or_else(|e| panic!("declaration refused: {e}"));
            let mut built: Option<Built> = None;
            for kind in kinds {
                built = Some(Built::push(
                    built,
                    IncidentId::new(at, 1),
                    kind,
                    at,
                    "maria",
                ));
            }
            built.expect("a declaration records at least one event")
        }

        fn push(
            before: Option<Built>,
            id: IncidentId,
            kind: EventKind,
            at: Timestamp,
            actor: &str,
        ) -> Built {
            let (state, prev, seq) = match before {
                Some(b) => {
                    let seq = b.incident.version + 1;
                    (Some(b.incident), b.prev, seq)
                }
                None => (None, GENESIS_HASH.to_string(), 1),
            };
            let event = Event::seal(
                id,
                seq,
                NewEvent {
                    at,
                    actor: actor.to_string(),
                    kind,
                },
                &prev,
            );
            let incident = Incident::apply(state, &event)
                .unwrap_or_else(|e| panic!("event does not apply: {e}"));
            Built {
                incident,
                prev: event.hash,
            }
        }

        fn run(self, cmd: Command, config: &Config, at: &str, actor: &str) -> Built {
            let kinds = decide(&self.incident, &cmd, config)
                .unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"));
            let id = self.incident.id.clone();
            let mut built = self;
            for kind in kinds {
                built = Built::push(Some(built), id.clone(), kind, ts(at), actor);
            }
            built
        }
    }

    fn breach() -> Declaration {
        Declaration {
            title: "Leaked deploy key".into(),
            incident_type: Some("security-breach".into()),
            severity: "P1".into(),
            services: vec!["auth".into(), "web".into()],
            labels: BTreeMap::from([("region".to_string(), "eu".to_string())]),
            ..Declaration::default()
        }
    }

    /// The breach, declared at 10:00 (credential-leak attaches by its triggers), with
    /// manual-only attached by hand.
    fn incident() -> Incident {
        let config = config();
        Built::declare(&breach(), &config, "2026-03-01T10:00:00Z")
            .run(
                Command::AttachPlaybook {
                    playbook: "manual-only".into(),
                },
                &config,
                "2026-03-01T10:01:00Z",
                "tomas",
            )
            .incident
    }

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // --- TimeBox ----------------------------------------------------------------------------

    #[test]
    fn time_boxes_parse() {
        let since = |start, end| Ok(TimeBox::SinceDeclared { start, end });
        assert_eq!(TimeBox::parse("0-15m"), since(0, 900));
        assert_eq!(TimeBox::parse("15m-1h"), since(900, 3_600));
        assert_eq!(TimeBox::parse("1h-4h"), since(3_600, 14_400));
        assert_eq!(TimeBox::parse(" 1h30m - 2h "), since(5_400, 7_200));
        let after = Ok(TimeBox::AfterResolve(Duration::from_secs(48 * 3_600)));
        assert_eq!(TimeBox::parse("within 48h of resolve"), after);
        assert_eq!(TimeBox::parse("48h after resolve"), after);
        assert_eq!(TimeBox::parse("Within 2d of Resolution"), after);
    }

    #[test]
    fn bad_time_boxes_say_what_is_expected() {
        let shape = |t: &str| {
            format!(
                "time box {t:?}: expected START-END after declaration (0-15m, 1h-4h) or \"within 48h of resolve\""
            )
        };
        let order = |t: &str| format!("time box {t:?}: the end must come after the start");
        assert_eq!(TimeBox::parse("15m"), Err(shape("15m")));
        assert_eq!(TimeBox::parse("soon"), Err(shape("soon")));
        assert_eq!(TimeBox::parse(""), Err(shape("")));
        assert_eq!(TimeBox::parse("1h-15m"), Err(order("1h-15m")));
        assert_eq!(TimeBox::parse("0-0"), Err(order("0-0")));
        assert_eq!(TimeBox::parse("1h-1h"), Err(order("1h-1h")));
        // A bad duration names the time box and the duration's own complaint.
        let err = TimeBox::parse("0-15 minutes").expect_err("not a duration");
        assert!(
            err.starts_with("time box \"0-15 minutes\": invalid duration"),
            "{err}"
        );
        let err = TimeBox::parse("within a while of resolve").expect_err("not a duration");
        assert!(
            err.starts_with("time box \"within a while of resolve\": invalid duration"),
            "{err}"
        );
        let err = TimeBox::parse("-15m").expect_err("no start");
        assert!(
            err.starts_with("time box \"-15m\": invalid duration \"\""),
            "{err}"
        );
    }

    #[test]
    fn time_boxes_display_as_they_parse() {
        for text in [
            "0-15m",
            "15m-1h",
            "1h-4h",
            "1h30m-2h",
            "within 2d of resolve",
            "within 90m of resolve",
        ] {
            let tb = TimeBox::parse(text).unwrap_or_else(|e| panic!("{e}"));
            let shown = tb.to_string();
            assert_eq!(TimeBox::parse(&shown), Ok(tb), "{text} shown as {shown}");
        }
        assert_eq!(
            TimeBox::SinceDeclared { start: 0, end: 900 }.to_string(),
            "0-15m"
        );
        assert_eq!(
            TimeBox::SinceDeclared {
                start: 900,
                end: 3_600
            }
            .to_string(),
            "15m-1h"
        );
        let tb = TimeBox::parse("48h after resolve").expect("valid");
        assert_eq!(tb.to_string(), "within 2d of resolve");
    }

    #[test]
    fn time_boxes_fall_due_from_declaration_or_resolution() {
        let config = config();
        let built = Built::declare(&breach(), &config, "2026-03-01T10:00:00Z");
        let contain = TimeBox::parse("0-15m").expect("valid");
        let eradicate = TimeBox::parse("15m-1h").expect("valid");
        let review = TimeBox::parse("within 48h of resolve").expect("valid");
        assert_eq!(
            contain.due(&built.incident),
            Some(ts("2026-03-01T10:15:00Z"))
        );
        assert_eq!(
            eradicate.due(&built.incident),
            Some(ts("2026-03-01T11:00:00Z"))
        );
        assert_eq!(review.due(&built.incident), None, "not resolved yet");

        let built = built.run(
            Command::Resolve {
                summary: "key revoked".into(),
            },
            &config,
            "2026-03-01T12:30:00Z",
            "tomas",
        );
        assert_eq!(
            review.due(&built.incident),
            Some(ts("2026-03-03T12:30:00Z"))
        );
        assert_eq!(
            contain.due(&built.incident),
            Some(ts("2026-03-01T10:15:00Z")),
            "declaration still counts"
        );

        let built = built.run(
            Command::Reopen {
                reason: "still leaking".into(),
            },
            &config,
            "2026-03-01T13:00:00Z",
            "tomas",
        );
        assert_eq!(
            review.due(&built.incident),
            None,
            "reopening clears the resolution"
        );
    }

    // --- Triggers ---------------------------------------------------------------------------

    #[test]
    fn severity_ranges_go_from_most_to_least_severe() {
        let config = Config::builtin();
        assert_eq!(severity_range("P0..P2", &config), Ok((0, 2)));
        assert_eq!(severity_range("P1", &config), Ok((1, 1)));
        assert_eq!(severity_range(" P1 .. P3 ", &config), Ok((1, 3)));
        assert_eq!(severity_range("P2..P2", &config), Ok((2, 2)));
        assert_eq!(
            severity_range("P2..P0", &config),
            Err("severity range \"P2..P0\" must go from the most to the least severe".to_string())
        );
        assert_eq!(
            severity_range("P9", &config),
            Err("unknown severity \"P9\" in \"P9\"; expected one of P0, P1, P2, P3".to_string())
        );
        assert_eq!(
            severity_range("P0..SEV1", &config),
            Err(
                "unknown severity \"SEV1\" in \"P0..SEV1\"; expected one of P0, P1, P2, P3"
                    .to_string()
            )
        );
        assert!(severity_range("", &config).is_err());
        assert!(
            severity_range("p1", &config).is_err(),
            "ids are case-sensitive"
        );
    }

    fn playbook(triggers: Triggers) -> Playbook {
        Playbook {
            id: "pb".into(),
            title: "Playbook".into(),
            description: String::new(),
            triggers,
            params: Vec::new(),
            phases: Vec::new(),
            templates: Vec::new(),
        }
    }

    #[test]
    fn each_trigger_kind_must_hold() {
        let config = Config::builtin();
        let services = vec!["auth".to_string(), "web".to_string()];
        let labels = BTreeMap::from([
            ("region".to_string(), "eu".to_string()),
            ("team".to_string(), "iam".to_string()),
        ]);
        let facts = MatchFacts {
            incident_type: "security-breach",
            services: &services,
            severity: "P1",
            labels: &labels,
        };
        let with = |f: fn(&mut Triggers)| {
            let mut t = Triggers::default();
            f(&mut t);
            playbook(t)
        };
        let yes = |pb: &Playbook| matches(pb, facts, &config);

        // Types: any of.
        assert!(yes(&with(
            |t| t.types = vec!["outage".into(), "security-breach".into()]
        )));
        assert!(!yes(&with(|t| t.types = vec!["outage".into()])));
        // Services: any of.
        assert!(yes(&with(
            |t| t.services = vec!["web".into(), "payments".into()]
        )));
        assert!(!yes(&with(|t| t.services = vec!["payments".into()])));
        // Severity: within the range, ends included.
        assert!(yes(&with(|t| t.severity = Some("P0..P1".into()))));
        assert!(yes(&with(|t| t.severity = Some("P1..P3".into()))));
        assert!(yes(&with(|t| t.severity = Some("P1".into()))));
        assert!(!yes(&with(|t| t.severity = Some("P2..P3".into()))));
        assert!(!yes(&with(|t| t.severity = Some("P0".into()))));
        // A range that does not read never matches.
        assert!(!yes(&with(|t| t.severity = Some("P3..P0".into()))));
        // Labels: all of, values compared exactly.
        assert!(yes(&with(
            |t| t.labels = BTreeMap::from([("region".into(), "eu".into())])
        )));
        assert!(yes(&with(|t| {
            t.labels = BTreeMap::from([
                ("region".into(), "eu".into()),
                ("team".into(), "iam".into()),
            ])
        })));
        assert!(!yes(&with(|t| {
            t.labels = BTreeMap::from([("region".into(), "eu".into()), ("tier".into(), "1".into())])
        })));
        assert!(!yes(&with(
            |t| t.labels = BTreeMap::from([("region".into(), "EU".into())])
        )));
        // Every given condition must hold.
        assert!(yes(&with(|t| {
            t.types = vec!["security-breach".into()];
            t.severity = Some("P0..P1".into());
            t.services = vec!["auth".into()];
        })));
        assert!(!yes(&with(|t| {
            t.types = vec!["security-breach".into()];
            t.severity = Some("P2..P3".into());
        })));
        // No trigger at all: attached by hand only, whatever the incident.
        assert!(Triggers::default().is_empty());
        assert!(!yes(&playbook(Triggers::default())));
        // An incident severity the scheme does not know matches no severity trigger.
        let odd = MatchFacts {
            severity: "SEV1",
            ..facts
        };
        assert!(!matches(
            &with(|t| t.severity = Some("P0..P3".into())),
            odd,
            &config
        ));
    }

    // --- Commands ---------------------------------------------------------------------------

    #[test]
    fn commands_render_every_builtin_placeholder() {
        let inc = incident();
        let all = "{{incident_id}}|{{title}}|{{severity}}|{{status}}|{{service}}|{{services}}|{{declared_at}}";
        assert_eq!(
            render_command(all, &inc, &BTreeMap::new()),
            "INC-20260301-001|Leaked deploy key|P1|triage|auth|auth,web|2026-03-01T10:00:00Z"
        );
        assert_eq!(
            render_command(
                "geo {{label.region}} / {{ label.region }}",
                &inc,
                &BTreeMap::new()
            ),
            "geo eu / eu"
        );
        assert_eq!(
            render_command("no placeholders", &inc, &BTreeMap::new()),
            "no placeholders"
        );
        // Every built-in one is covered above.
        for name in BUILTIN_PLACEHOLDERS {
            assert!(
                all.contains(&format!("{{{{{name}}}}}")),
                "{name} not tested"
            );
        }
    }

    #[test]
    fn params_fill_in_and_override() {
        let inc = incident();
        let p = params(&[
            ("ip_address", "203.0.113.7"),
            ("account", "deploy-bot"),
            ("severity", "SEV-A"),
        ]);
        assert_eq!(
            render_command(
                "fw block {{ip_address}} for {{account}} at {{severity}}",
                &inc,
                &p
            ),
            "fw block 203.0.113.7 for deploy-bot at SEV-A"
        );
        // A value is pasted as is, never expanded again.
        let p = params(&[("account", "{{title}}")]);
        assert_eq!(
            render_command("vault rotate {{account}}", &inc, &p),
            "vault rotate {{title}}"
        );
        // A param named like a label falls back to the label when not given.
        assert_eq!(render_command("{{region}}", &inc, &BTreeMap::new()), "eu");
    }

    #[test]
    fn missing_values_render_as_visible_markers() {
        let inc = incident();
        let none = BTreeMap::new();
        assert_eq!(
            render_command("fw block {{ip_address}}", &inc, &none),
            "fw block <IP_ADDRESS>"
        );
        assert_eq!(
            render_command("fw block {{ ip_address }}", &inc, &none),
            "fw block <IP_ADDRESS>"
        );
        // An empty value is as good as none.
        assert_eq!(
            render_command(
                "fw block {{ip_address}}",
                &inc,
                &params(&[("ip_address", "")])
            ),
            "fw block <IP_ADDRESS>"
        );
        assert_eq!(
            render_command("{{label.data-class}}", &inc, &none),
            "<LABEL_DATA_CLASS>"
        );
        // No services yet: the service placeholders are markers too.
        let config = config();
        let bare = Declaration {
            services: Vec::new(),
            ..breach()
        };
        let bare = Built::declare(&bare, &config, "2026-03-01T10:00:00Z").incident;
        assert_eq!(
            render_command("{{service}} {{services}}", &bare, &none),
            "<SERVICE> <SERVICES>"
        );
        // An unclosed placeholder is left as written.
        assert_eq!(
            render_command("echo {{title}} {{oops", &inc, &none),
            "echo Leaked deploy key {{oops"
        );
        for cmd in [
            "{{ip_address}}",
            "{{account}}",
            "{{label.x}}",
            "{{service}}",
        ] {
            let out = render_command(cmd, &bare, &none);
            assert!(
                !out.is_empty() && out.starts_with('<') && out.ends_with('>'),
                "{cmd} -> {out:?}"
            );
        }
    }

    #[test]
    fn placeholders_are_listed_and_checked() {
        assert_eq!(
            placeholders("a {{x}} b {{ label.y }} {{z"),
            ["x", "label.y"]
        );
        let params = [ParamDef {
            name: "ip_address".into(),
            description: String::new(),
        }];
        assert!(placeholder_known("incident_id", &params));
        assert!(placeholder_known("ip_address", &params));
        assert!(placeholder_known("label.region", &params));
        assert!(!placeholder_known("label.", &params));
        assert!(!placeholder_known("account", &params));
    }

    // --- Checklist --------------------------------------------------------------------------

    #[test]
    fn tasks_are_found_by_number_id_or_playbook_and_id() {
        let inc = incident();
        let found = |r: &str| find_task(&inc, r);
        let pair = |p: &str, t: &str| Ok((p.to_string(), t.to_string()));
        // Numbers follow the checklist: credential-leak (4 tasks), then manual-only.
        assert_eq!(found("1"), pair("credential-leak", "block-ip"));
        assert_eq!(found("4"), pair("credential-leak", "postmortem"));
        assert_eq!(found("5"), pair("manual-only", "rotate"));
        assert_eq!(
            found("0"),
            Err("no task number 0; the checklist has 5".to_string())
        );
        assert_eq!(
            found("6"),
            Err("no task number 6; the checklist has 5".to_string())
        );
        assert_eq!(found("audit"), pair("credential-leak", "audit"));
        assert_eq!(found("manual-only/rotate"), pair("manual-only", "rotate"));
        assert_eq!(
            found("credential-leak/rotate"),
            pair("credential-leak", "rotate")
        );
        assert_eq!(
            found("rotate"),
            Err("\"rotate\" is ambiguous: credential-leak/rotate, manual-only/rotate".to_string())
        );
        assert_eq!(
            found("nope"),
            Err("no task \"nope\" in the attached playbooks".to_string())
        );
        assert_eq!(
            found("manual-only/audit"),
            Err("no task \"manual-only/audit\" in the attached playbooks".to_string())
        );
        assert_eq!(
            found("nope/rotate"),
            Err("no task \"nope/rotate\" in the attached playbooks".to_string())
        );

        let config = config();
        let quiet = Declaration {
            severity: "P3".into(),
            ..breach()
        };
        let quiet = Built::declare(&quiet, &config, "2026-03-01T10:00:00Z").incident;
        assert!(quiet.playbooks.is_empty());
        assert_eq!(
            find_task(&quiet, "1"),
            Err("no playbook is attached to this incident".to_string())
        );
    }

    fn view<'a>(views: &'a [TaskView], task: &str) -> &'a TaskView {
        views
            .iter()
            .find(|v| v.playbook == "credential-leak" && v.task == task)
            .unwrap_or_else(|| panic!("no view of {task}"))
    }

    #[test]
    fn task_views_show_state_due_times_and_rendered_commands() {
        let config = config();
        let built = Built::declare(&breach(), &config, "2026-03-01T10:00:00Z")
            .run(
                Command::AssignRole {
                    role: "security-lead".into(),
                    person: "priya".into(),
                },
                &config,
                "2026-03-01T10:02:00Z",
                "tomas",
            )
            .run(
                Command::CompleteTask {
                    playbook: "credential-leak".into(),
                    task: "rotate".into(),
                },
                &config,
                "2026-03-01T10:05:00Z",
                "li",
            )
            .run(
                Command::SkipTask {
                    playbook: "credential-leak".into(),
                    task: "audit".into(),
                    reason: "  the key had no access  ".into(),
                },
                &config,
                "2026-03-01T10:06:00Z",
                "priya",
            );
        let inc = &built.incident;
        let p = params(&[("ip_address", "203.0.113.7")]);

        // Before the contain deadline nothing is overdue.
        let views = task_views(inc, ts("2026-03-01T10:14:59Z"), &p);
        let numbers: Vec<usize> = views.iter().map(|v| v.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        assert!(views.iter().all(|v| !v.overdue), "{views:#?}");
        let block = view(&views, "block-ip");
        assert_eq!(block.state, TaskState::Open);
        assert_eq!(
            (
                block.phase.as_str(),
                block.phase_title.as_str(),
                block.time_box.as_str()
            ),
            ("contain", "Contain", "0-15m")
        );
        assert_eq!(block.due_at, Some(ts("2026-03-01T10:15:00Z")));
        assert_eq!(block.owner, "security-lead");
        assert_eq!(block.owner_person.as_deref(), Some("priya"));
        assert_eq!(
            block.commands,
            ["fw block 203.0.113.7 --reason INC-20260301-001"]
        );
        assert_eq!(
            (block.by.as_deref(), block.at, block.reason.as_deref()),
            (None, None, None)
        );
        let rotate = view(&views, "rotate");
        assert_eq!(rotate.state, TaskState::Done);
        assert_eq!(
            (rotate.by.as_deref(), rotate.at),
            (Some("li"), Some(ts("2026-03-01T10:05:00Z")))
        );
        assert_eq!(rotate.owner_person, None, "nobody is technical lead");
        assert_eq!(rotate.commands, ["vault rotate <ACCOUNT> --service auth"]);
        let audit = view(&views, "audit");
        assert_eq!(audit.state, TaskState::Skipped);
        assert_eq!(audit.reason.as_deref(), Some("the key had no access"));
        assert_eq!(audit.due_at, Some(ts("2026-03-01T11:00:00Z")));
        let review = view(&views, "postmortem");
        assert_eq!(review.due_at, None, "due only once resolved");

        // Exactly at the deadline is still in time; a second later the open task is overdue,
        // the done one is not.
        let views = task_views(inc, ts("2026-03-01T10:15:00Z"), &p);
        assert!(!view(&views, "block-ip").overdue);
        let views = task_views(inc, ts("2026-03-01T10:15:01Z"), &p);
        assert!(view(&views, "block-ip").overdue);
        assert!(!view(&views, "rotate").overdue);
        // Long after every declaration deadline: the skipped task is not overdue, and the
        // review is not due while the incident is open.
        let views = task_views(inc, ts("2026-03-09T00:00:00Z"), &p);
        assert!(!view(&views, "audit").overdue);
        assert!(!view(&views, "postmortem").overdue);

        // Once resolved, the review falls due 48 hours later.
        let built = built.run(
            Command::Resolve {
                summary: "key revoked".into(),
            },
            &config,
            "2026-03-01T12:00:00Z",
            "tomas",
        );
        let views = task_views(&built.incident, ts("2026-03-03T11:59:59Z"), &p);
        let review = view(&views, "postmortem");
        assert_eq!(review.due_at, Some(ts("2026-03-03T12:00:00Z")));
        assert!(!review.overdue);
        let views = task_views(&built.incident, ts("2026-03-03T12:00:01Z"), &p);
        assert!(view(&views, "postmortem").overdue);
        assert!(
            view(&views, "block-ip").overdue,
            "resolving does not close tasks"
        );
    }

    #[test]
    fn attached_playbooks_are_snapshots_with_their_own_numbers() {
        let inc = incident();
        assert_eq!(
            attached_ids(&inc),
            BTreeSet::from(["credential-leak", "manual-only"])
        );
        let auto = &inc.playbooks[0];
        assert!(auto.automatic);
        assert_eq!(auto.attached_by, "maria");
        assert_eq!(Some(&auto.playbook), config().playbook("credential-leak"));
        let by_hand = &inc.playbooks[1];
        assert!(!by_hand.automatic);
        assert_eq!(
            (by_hand.attached_by.as_str(), by_hand.attached_at),
            ("tomas", ts("2026-03-01T10:01:00Z"))
        );
        let views = task_views(&inc, ts("2026-03-01T10:01:00Z"), &BTreeMap::new());
        assert_eq!(views.len(), 5);
        assert_eq!(
            (
                views[4].number,
                views[4].playbook.as_str(),
                views[4].task.as_str()
            ),
            (5, "manual-only", "rotate")
        );
    }
}
