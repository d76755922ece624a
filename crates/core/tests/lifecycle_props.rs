//! Property tests of the lifecycle: random sequences of commands, plausible and not, run
//! against a declared incident the way a store runs them (decide, seal, apply). After every
//! step the incident must be consistent, a refused command must leave everything as it was,
//! the incrementally applied state must equal a replay of the log, and (once a run is over)
//! the stored log must verify. The config carries three small playbooks (one triggered by
//! severity, one by a label and type, one attached by hand only), and a model of attachment
//! and task progress is kept alongside the incident and compared with it after every step.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use common::Log;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::sample::select;
use warroom_core::command::{self, MAX_TEXT, MAX_TITLE};
use warroom_core::config::{SourceFile, load};
use warroom_core::event::{EventKind, verify_chain};
use warroom_core::playbook::{TaskProgress, TaskState, find_task, task_views};
use warroom_core::{
    Command, Config, Declaration, DomainError, Impact, Incident, IncidentPatch, Links, Status,
};

/// The built-in scheme, roles, types and services, plus these playbooks.
// No escalation policy: paging has its own tests; here `escalate` is always refused.
const PLAYBOOKS: &str = "\
escalation_policies: []
playbooks:
  - id: major
    title: Major incident
    triggers:
      severity: P0..P1
    phases:
      - id: mobilise
        title: Mobilise
        time_box: 0-15m
        tasks:
          - id: page
            text: Page the commander
            owner: incident-commander
          - id: notify
            text: Tell stakeholders
            owner: communications-lead
            commands:
              - 'notify --incident {{incident_id}} --severity {{severity}}'
      - id: review
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: postmortem
            text: Write the postmortem
            owner: incident-commander
  - id: us-region
    title: US region
    triggers:
      types: [outage, security-breach]
      labels:
        region: us-east
    phases:
      - id: act
        title: Act
        time_box: 0-1h
        tasks:
          - id: notify
            text: Tell the US on-call
            owner: operations-lead
          - id: failover
            text: Fail over to us-west
            owner: technical-lead
  - id: manual
    title: Attached by hand
    phases:
      - id: all
        title: All
        time_box: 0-4h
        tasks:
          - id: checklist
            text: Work through the checklist
            owner: scribe
";

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    load(&[SourceFile::new("playbooks.yaml", PLAYBOOKS)])
        .unwrap_or_else(|err| panic!("test config: {err}"))
});

/// The playbooks of `PLAYBOOKS`, in config order, with their tasks: the model's own copy.
const MODEL_PLAYBOOKS: [(&str, &[&str]); 3] = [
    ("major", &["page", "notify", "postmortem"]),
    ("us-region", &["notify", "failover"]),
    ("manual", &["checklist"]),
];

/// The triggers of `PLAYBOOKS`, as the model reads them.
fn model_triggers(playbook: &str, inc: &Incident) -> bool {
    match playbook {
        "major" => matches!(inc.severity.as_str(), "P0" | "P1"),
        "us-region" => {
            matches!(inc.incident_type.as_str(), "outage" | "security-breach")
                && inc.labels.get("region").map(String::as_str) == Some("us-east")
        }
        _ => false,
    }
}

fn model_tasks(playbook: &str) -> Option<&'static [&'static str]> {
    MODEL_PLAYBOOKS
        .iter()
        .find(|(id, _)| *id == playbook)
        .map(|(_, tasks)| *tasks)
}

// ---------------------------------------------------------------------------------------------
// Palettes: each mixes values the rules accept with values they must refuse.

fn severity_id() -> impl Strategy<Value = String> {
    select(vec!["P0", "P1", "P2", "P3", "P4", "p1", "", " P1", "SEV1"]).prop_map(String::from)
}

fn role_id() -> impl Strategy<Value = String> {
    select(vec![
        "incident-commander",
        "deputy-commander",
        "technical-lead",
        "communications-lead",
        "security-lead",
        "scribe",
        "commander",
        "Scribe",
        "",
    ])
    .prop_map(String::from)
}

fn person() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec!["alice", "bob", " carol ", "dave@example.com"]).prop_map(String::from),
        1 => select(vec!["", "   ", "dave smith", "tab\there"]).prop_map(String::from),
        1 => Just("p".repeat(65)),
    ]
}

/// Free text: good, blank, or refused (control characters, too long).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec![
            "Rolled back deploy 4512",
            "Sessions trace back to one token | rotating now, \"admin-sync\" account",
            "line one\nline two\r\n\tindented",
            "  padded on both sides  ",
            "ünïcödé – naïve café ✓",
        ])
        .prop_map(String::from),
        2 => select(vec!["", "   ", "\n\t"]).prop_map(String::from),
        1 => select(vec!["bell\u{7}", "escape \u{1b}[31m red", "nul\0"]).prop_map(String::from),
        1 => Just("n".repeat(MAX_TEXT + 1)),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    select(Status::ALL.to_vec())
}

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["Database failover stuck", "  Padded title  ", "Login failures spike"])
            .prop_map(String::from),
        1 => select(vec!["", "  ", "two\nlines", "tab\tinside"]).prop_map(String::from),
        1 => Just("t".repeat(MAX_TITLE + 1)),
        1 => Just("é".repeat(MAX_TITLE)),
    ]
}

fn services() -> impl Strategy<Value = Vec<String>> {
    select(vec![
        vec![],
        vec!["auth"],
        vec!["auth", "web", " auth "],
        vec!["payments", "database"],
        vec!["nope"],
        vec!["auth", ""],
    ])
    .prop_map(|v| v.into_iter().map(String::from).collect())
}

fn labels_patch() -> impl Strategy<Value = BTreeMap<String, Option<String>>> {
    let key = select(vec![
        "region",
        "team/owner",
        "env.tier",
        "bad key",
        "",
        "ünï",
    ]);
    let value = prop_oneof![
        3 => select(vec!["eu", "us-east", "a | b, \"c\""]).prop_map(|v| Some(v.to_string())),
        2 => Just(None),
        1 => select(vec!["two\nlines"]).prop_map(|v| Some(v.to_string())),
        1 => Just(Some("v".repeat(257))),
    ];
    prop::collection::btree_map(key.prop_map(String::from), value, 0..3)
}

fn impact() -> impl Strategy<Value = Impact> {
    select(vec![
        Impact::default(),
        Impact {
            users_affected: Some(1200),
            data_affected: Some("email addresses of EU customers".into()),
            services_impacted: vec!["web".into()],
            estimated_cost: Some("USD 12,000".into()),
        },
        Impact {
            services_impacted: vec!["mainframe".into()],
            ..Impact::default()
        },
        Impact {
            data_affected: Some("bad\u{7}".into()),
            ..Impact::default()
        },
    ])
}

fn links() -> impl Strategy<Value = Links> {
    select(vec![
        Links::default(),
        Links {
            ticket: Some("SEC-1423".into()),
            chat_channel: Some("#inc-auth".into()),
            dashboard: Some("https://grafana.example.com/d/auth".into()),
        },
        Links {
            ticket: Some("SEC-1\nSEC-2".into()),
            ..Links::default()
        },
    ])
}

fn patch() -> impl Strategy<Value = IncidentPatch> {
    (
        prop::option::weighted(0.3, title()),
        prop::option::weighted(0.3, select(vec!["outage", "security-breach", "meteor"])),
        prop::option::weighted(0.3, services()),
        prop::option::weighted(0.3, labels_patch()),
        prop::option::weighted(0.2, impact()),
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.2, links()),
        prop::option::weighted(0.3, any::<bool>()),
    )
        .prop_map(
            |(title, ty, services, labels, impact, root_cause, links, restricted)| IncidentPatch {
                title,
                incident_type: ty.map(String::from),
                services,
                labels,
                impact,
                root_cause,
                links,
                restricted,
            },
        )
}

fn playbook_id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec!["major", "us-region", "manual"]).prop_map(String::from),
        1 => select(vec!["ghost", "", "Major"]).prop_map(String::from),
    ]
}

fn task_id() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(vec!["page", "notify", "postmortem", "failover", "checklist"])
            .prop_map(String::from),
        1 => select(vec!["nope", "", "major/page"]).prop_map(String::from),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        2 => playbook_id().prop_map(|playbook| Command::AttachPlaybook { playbook }),
        2 => (playbook_id(), prop::option::of(text()))
            .prop_map(|(playbook, reason)| Command::DetachPlaybook { playbook, reason }),
        3 => (playbook_id(), task_id())
            .prop_map(|(playbook, task)| Command::CompleteTask { playbook, task }),
        3 => (playbook_id(), task_id(), text())
            .prop_map(|(playbook, task, reason)| Command::SkipTask { playbook, task, reason }),
        2 => (playbook_id(), task_id())
            .prop_map(|(playbook, task)| Command::ReopenTask { playbook, task }),
        2 => Just(Command::Acknowledge),
        1 => Just(Command::Escalate),
        2 => (severity_id(), prop::option::of(text()))
            .prop_map(|(severity, reason)| Command::ChangeSeverity { severity, reason }),
        3 => (status(), prop::option::of(text()))
            .prop_map(|(status, reason)| Command::ChangeStatus { status, reason }),
        2 => (role_id(), person()).prop_map(|(role, person)| Command::AssignRole { role, person }),
        1 => role_id().prop_map(|role| Command::UnassignRole { role }),
        2 => text().prop_map(|text| Command::AddNote { text }),
        2 => (select(vec!["internal", "customers", "press"]), text())
            .prop_map(|(audience, text)| Command::PostUpdate { audience: audience.into(), text }),
        1 => (select(vec!["summary", "lessons-learned", "verdict"]), text())
            .prop_map(|(section, text)| Command::SetPostmortemSection { section: section.into(), text }),
        1 => (0u64..12, any::<bool>()).prop_map(|(seq, marked)| Command::MarkKeyMoment { seq, marked }),
        1 => text().prop_map(|markdown| Command::PublishPostmortem { markdown }),
        1 => (select(vec!["aware", "discovered", "noticed"]), 0i64..1_000_000)
            .prop_map(|(moment, secs)| Command::RecordMoment {
                moment: moment.into(),
                at: jiff::Timestamp::from_second(1_790_000_000 + secs).expect("in range"),
            }),
        2 => patch().prop_map(Command::Update),
        3 => text().prop_map(|summary| Command::Resolve { summary }),
        2 => Just(Command::Close),
        2 => text().prop_map(|reason| Command::Reopen { reason }),
    ]
}

fn declaration() -> impl Strategy<Value = Declaration> {
    (
        select(vec!["Login failures spike", "  Checkout latency over 5s  "]),
        prop::option::of(select(vec!["outage", "security-breach", "other"])),
        select(vec!["P0", "P1", "P2", "P3"]),
        select(vec![vec![], vec!["auth"], vec!["web", "payments", "web"]]),
        select(vec![Some("eu"), Some("us-east"), None]),
        any::<bool>(),
    )
        .prop_map(
            |(title, ty, severity, services, region, restricted)| Declaration {
                title: title.into(),
                incident_type: ty.map(String::from),
                severity: severity.into(),
                services: services.into_iter().map(String::from).collect(),
                labels: region
                    .map(|r| BTreeMap::from([("region".to_string(), r.to_string())]))
                    .unwrap_or_default(),
                restricted,
                ..Declaration::default()
            },
        )
}

/// One step: who asks, how long after the previous step, and what.
#[derive(Debug, Clone)]
struct Step {
    actor: String,
    after_micros: i64,
    cmd: Command,
}

fn step() -> impl Strategy<Value = Step> {
    (
        select(vec!["maria", "tomas", "priya", "li"]),
        prop_oneof![1 => Just(0i64), 4 => 1i64..7_200_000_000],
        command(),
    )
        .prop_map(|(actor, after_micros, cmd)| Step {
            actor: actor.into(),
            after_micros,
            cmd,
        })
}

// ---------------------------------------------------------------------------------------------
// The model: what the rules say should happen, written from the rules rather than the code.

fn has_control(s: &str, newlines_ok: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(newlines_ok && matches!(c, '\n' | '\r' | '\t')))
}

fn text_ok(s: &str) -> bool {
    s.chars().count() <= MAX_TEXT && !has_control(s, true)
}

fn text_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn title_ok(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().count() <= MAX_TITLE && !has_control(t, false)
}

fn person_ok(s: &str) -> bool {
    let p = s.trim();
    !p.is_empty() && p.chars().count() <= 64 && !p.chars().any(char::is_whitespace)
}

fn services_ok(services: &[String]) -> bool {
    services.len() <= 32 && services.iter().all(|s| CONFIG.accepts_service(s.trim()))
}

fn label_ok(key: &str, value: Option<&String>) -> bool {
    let key_ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    key_ok && value.is_none_or(|v| v.chars().count() <= 256 && !has_control(v, false))
}

fn impact_ok(i: &Impact) -> bool {
    [&i.data_affected, &i.estimated_cost]
        .into_iter()
        .flatten()
        .all(|t| text_ok(t))
        && services_ok(&i.services_impacted)
}

fn links_ok(l: &Links) -> bool {
    [&l.ticket, &l.chat_channel, &l.dashboard]
        .into_iter()
        .flatten()
        .all(|v| v.chars().count() <= 2048 && !has_control(v, false))
}

/// The fields of a patch the rules refuse.
fn bad_patch_fields(p: &IncidentPatch) -> Vec<&'static str> {
    let mut bad = Vec::new();
    if p.title.as_deref().is_some_and(|t| !title_ok(t)) {
        bad.push("title");
    }
    if p.incident_type
        .as_deref()
        .is_some_and(|t| CONFIG.incident_type(t).is_none())
    {
        bad.push("type");
    }
    if p.services.as_deref().is_some_and(|s| !services_ok(s)) {
        bad.push("services");
    }
    if p.labels
        .as_ref()
        .is_some_and(|l| l.iter().any(|(k, v)| !label_ok(k, v.as_ref())))
    {
        bad.push("labels");
    }
    if p.impact.as_ref().is_some_and(|i| !impact_ok(i)) {
        bad.push("impact.data_affected");
        bad.push("impact.estimated_cost");
        bad.push("impact.services_impacted");
    }
    if p.root_cause.as_deref().is_some_and(|t| !text_ok(t)) {
        bad.push("root_cause");
    }
    if p.links.as_ref().is_some_and(|l| !links_ok(l)) {
        bad.push("links.ticket");
        bad.push("links.chat_channel");
        bad.push("links.dashboard");
    }
    bad
}

/// Why the model expects a refusal.
#[derive(Debug, Clone, PartialEq)]
enum Refusal {
    /// The incident's state (or a no-op request) conflicts.
    Conflict,
    /// One of these fields is refused.
    Invalid(Vec<&'static str>),
}

fn invalid(field: &'static str) -> Result<(), Refusal> {
    Err(Refusal::Invalid(vec![field]))
}

fn reason_ok(reason: Option<&String>) -> Result<(), Refusal> {
    match reason {
        Some(r) if !text_ok(r) => invalid("reason"),
        _ => Ok(()),
    }
}

/// Playbooks as the model sees them: which are attached (in order, by hand or by triggers),
/// what happened to their tasks, and which were detached by hand.
#[derive(Debug, Clone, Default, PartialEq)]
struct PlaybookModel {
    /// (playbook id, attached automatically, task id -> state); an absent task is open.
    attached: Vec<(String, bool, BTreeMap<String, TaskState>)>,
    /// Detached by hand, not attached since.
    detached: BTreeSet<String>,
}

impl PlaybookModel {
    fn get(&self, playbook: &str) -> Option<&BTreeMap<String, TaskState>> {
        self.attached
            .iter()
            .find(|(id, _, _)| id == playbook)
            .map(|(_, _, p)| p)
    }

    fn progress(&mut self, playbook: &str) -> &mut BTreeMap<String, TaskState> {
        let at = self
            .attached
            .iter()
            .position(|(id, _, _)| id == playbook)
            .unwrap_or_else(|| panic!("{playbook} is not attached in the model"));
        &mut self.attached[at].2
    }

    /// The incident's own record, in the model's terms.
    fn of(inc: &Incident) -> PlaybookModel {
        PlaybookModel {
            attached: inc
                .playbooks
                .iter()
                .map(|a| {
                    let progress = a
                        .progress
                        .iter()
                        .map(|(t, p)| (t.clone(), p.state))
                        .collect();
                    (a.playbook.id.clone(), a.automatic, progress)
                })
                .collect(),
            detached: inc.detached_playbooks.clone(),
        }
    }

    /// Playbooks whose triggers match `inc` and that are neither attached nor detached: what
    /// must attach by itself now. In config order.
    fn due(&self, inc: &Incident) -> Vec<&'static str> {
        MODEL_PLAYBOOKS
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| self.get(id).is_none() && !self.detached.contains(*id))
            .filter(|id| model_triggers(id, inc))
            .collect()
    }

    /// An accepted `cmd` that left the incident as `after`: updates the model and returns the
    /// playbooks that must have attached by their triggers.
    fn accept(&mut self, cmd: &Command, after: &Incident) -> Vec<&'static str> {
        match cmd {
            Command::AttachPlaybook { playbook } => {
                self.detached.remove(playbook);
                self.attached
                    .push((playbook.clone(), false, BTreeMap::new()));
            }
            Command::DetachPlaybook { playbook, .. } => {
                self.attached.retain(|(id, _, _)| id != playbook);
                self.detached.insert(playbook.clone());
            }
            Command::CompleteTask { playbook, task } => {
                self.progress(playbook)
                    .insert(task.clone(), TaskState::Done);
            }
            Command::SkipTask { playbook, task, .. } => {
                self.progress(playbook)
                    .insert(task.clone(), TaskState::Skipped);
            }
            Command::ReopenTask { playbook, task } => {
                self.progress(playbook).remove(task);
            }
            _ => {}
        }
        // Only a change of severity, type, services or labels can make a trigger match; every
        // other command must find nothing due (checked by `check_playbooks` before each step).
        self.attach_due(after)
    }

    /// Attaches what is due for `inc`, as its triggers would; returns those playbooks.
    fn attach_due(&mut self, inc: &Incident) -> Vec<&'static str> {
        let due = self.due(inc);
        for id in &due {
            self.attached.push((id.to_string(), true, BTreeMap::new()));
        }
        due
    }
}

/// What the rules say `cmd` does to `inc`: accepted, or refused and why. State comes first: a
/// finished incident refuses before its arguments are looked at.
fn predict(inc: &Incident, model: &PlaybookModel, cmd: &Command) -> Result<(), Refusal> {
    let open = inc.status.is_open();
    let closed = inc.status == Status::Closed;
    match cmd {
        // Action items follow their own rules (and are allowed on closed incidents); they are
        // not generated here but tested in tests/actions.rs.
        Command::AddAction(_) | Command::UpdateAction { .. } => {
            unreachable!("action items are not generated by this model")
        }
        Command::Acknowledge => {
            if !open || inc.acknowledged_at.is_some() {
                return Err(Refusal::Conflict);
            }
            Ok(())
        }
        Command::ChangeSeverity { severity, reason } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if CONFIG.severity(severity).is_none() {
                return invalid("severity");
            }
            if *severity == inc.severity {
                return Err(Refusal::Conflict);
            }
            reason_ok(reason.as_ref())
        }
        Command::ChangeStatus { status, reason } => {
            if !open || *status == inc.status {
                return Err(Refusal::Conflict);
            }
            if matches!(status, Status::Triage | Status::Resolved | Status::Closed) {
                return invalid("status");
            }
            reason_ok(reason.as_ref())
        }
        Command::AssignRole { role, person } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if CONFIG.role(role).is_none() {
                return invalid("role");
            }
            if !person_ok(person) {
                return invalid("person");
            }
            if inc.roles.get(role).map(String::as_str) == Some(person.trim()) {
                return Err(Refusal::Conflict);
            }
            Ok(())
        }
        Command::UnassignRole { role } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if CONFIG.role(role).is_none() {
                return invalid("role");
            }
            if !inc.roles.contains_key(role) {
                return Err(Refusal::Conflict);
            }
            Ok(())
        }
        Command::AddNote { text } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if !text_ok(text) || text_blank(text) {
                return invalid("text");
            }
            Ok(())
        }
        Command::PostUpdate { audience, text } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if !warroom_core::comms::AUDIENCES.contains(&audience.as_str()) {
                return invalid("audience");
            }
            if !text_ok(text) || text_blank(text) {
                return invalid("text");
            }
            Ok(())
        }
        Command::RecordMoment { moment, .. } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if !warroom_core::comms::deadline::MOMENTS.contains(&moment.as_str()) {
                return invalid("moment");
            }
            Ok(())
        }
        Command::SetPostmortemSection { section, text } => {
            if !warroom_core::postmortem::SECTIONS.contains(&section.as_str()) {
                return invalid("section");
            }
            if !text_ok(text) {
                return invalid("text");
            }
            Ok(())
        }
        Command::MarkKeyMoment { seq, .. } => {
            if *seq == 0 || *seq > inc.version {
                return invalid("seq");
            }
            Ok(())
        }
        Command::PublishPostmortem { markdown } => {
            if inc.resolved_at.is_none() {
                return Err(Refusal::Conflict);
            }
            if markdown.trim().is_empty() {
                return invalid("markdown");
            }
            Ok(())
        }
        // Not generated: sending needs recipients from config (tests/comms.rs covers it).
        Command::SendMessage(_) => Ok(()),
        Command::Update(p) => {
            if closed {
                return Err(Refusal::Conflict);
            }
            let bad = bad_patch_fields(p);
            if bad.is_empty() {
                Ok(())
            } else {
                Err(Refusal::Invalid(bad))
            }
        }
        Command::Resolve { summary } => {
            if !open {
                return Err(Refusal::Conflict);
            }
            if !text_ok(summary) || text_blank(summary) {
                return invalid("summary");
            }
            Ok(())
        }
        Command::Close => {
            if inc.status != Status::Resolved {
                return Err(Refusal::Conflict);
            }
            Ok(())
        }
        Command::Reopen { reason } => {
            if open {
                return Err(Refusal::Conflict);
            }
            if !text_ok(reason) || text_blank(reason) {
                return invalid("reason");
            }
            Ok(())
        }
        // With no policy configured, escalating is a conflict whatever the state.
        Command::Escalate => Err(Refusal::Conflict),
        Command::AttachPlaybook { playbook } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            if model_tasks(playbook).is_none() {
                return invalid("playbook");
            }
            if model.get(playbook).is_some() {
                return Err(Refusal::Conflict);
            }
            Ok(())
        }
        Command::DetachPlaybook { playbook, reason } => {
            if closed || model.get(playbook).is_none() {
                return Err(Refusal::Conflict);
            }
            reason_ok(reason.as_ref())
        }
        Command::CompleteTask { playbook, task }
        | Command::SkipTask { playbook, task, .. }
        | Command::ReopenTask { playbook, task } => {
            if closed {
                return Err(Refusal::Conflict);
            }
            let Some(progress) = model.get(playbook) else {
                return invalid("playbook");
            };
            if !model_tasks(playbook).is_some_and(|tasks| tasks.contains(&task.as_str())) {
                return invalid("task");
            }
            let state = progress.get(task).copied();
            match cmd {
                Command::CompleteTask { .. } if state == Some(TaskState::Done) => {
                    Err(Refusal::Conflict)
                }
                Command::SkipTask { reason, .. } if !text_ok(reason) || text_blank(reason) => {
                    invalid("reason")
                }
                Command::SkipTask { .. } if state == Some(TaskState::Skipped) => {
                    Err(Refusal::Conflict)
                }
                Command::ReopenTask { .. } if state.is_none() => Err(Refusal::Conflict),
                _ => Ok(()),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// What must hold of every incident and its log, whatever happened before.
fn check_invariants(log: &Log) -> Result<(), TestCaseError> {
    let inc = &log.incident;
    let events = &log.events;

    prop_assert_eq!(
        inc.version,
        events.len() as u64,
        "version counts the events"
    );
    for (i, e) in events.iter().enumerate() {
        prop_assert_eq!(e.seq, i as u64 + 1);
        prop_assert_eq!(&e.incident_id, &inc.id);
    }

    match inc.status {
        Status::Resolved => {
            prop_assert!(inc.resolved_at.is_some(), "resolved without resolved_at");
            prop_assert!(
                inc.resolution_summary
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
                "resolved without a summary"
            );
            prop_assert!(inc.closed_at.is_none(), "resolved but closed_at set");
        }
        Status::Closed => {
            prop_assert!(inc.closed_at.is_some(), "closed without closed_at");
            prop_assert!(inc.resolved_at.is_some(), "closed but never resolved");
            prop_assert!(
                inc.resolution_summary
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
                "closed without a summary"
            );
        }
        _ => {
            prop_assert!(inc.resolved_at.is_none(), "open but resolved_at set");
            prop_assert!(inc.closed_at.is_none(), "open but closed_at set");
            prop_assert!(inc.resolution_summary.is_none(), "open but has a summary");
        }
    }
    if matches!(
        inc.status,
        Status::Contained | Status::Recovering | Status::Resolved | Status::Closed
    ) {
        prop_assert!(
            inc.contained_at.is_some(),
            "{} without contained_at",
            inc.status
        );
    }
    if inc.status == Status::Triage {
        prop_assert!(inc.contained_at.is_none());
    }
    prop_assert_eq!(
        inc.acknowledged_by.is_some(),
        inc.acknowledged_at.is_some(),
        "acknowledged_by set iff acknowledged_at set"
    );

    // Times are in order and never after the last event.
    let last = events.last().map(|e| e.at);
    prop_assert_eq!(
        Some(inc.updated_at),
        last,
        "updated_at is the last event's time"
    );
    prop_assert_eq!(inc.declared_at, events[0].at);
    for t in [
        inc.acknowledged_at,
        inc.contained_at,
        inc.resolved_at,
        inc.closed_at,
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(inc.declared_at <= t && t <= inc.updated_at);
    }
    if let (Some(c), Some(r)) = (inc.contained_at, inc.resolved_at) {
        prop_assert!(c <= r, "contained after resolved");
    }
    if let (Some(r), Some(c)) = (inc.resolved_at, inc.closed_at) {
        prop_assert!(r <= c, "resolved after closed");
    }

    // Only configured ids are ever held.
    prop_assert!(
        CONFIG.severity(&inc.severity).is_some(),
        "severity {}",
        inc.severity
    );
    prop_assert!(CONFIG.incident_type(&inc.incident_type).is_some());
    prop_assert!(inc.services.iter().all(|s| CONFIG.accepts_service(s)));
    for (role, person) in &inc.roles {
        prop_assert!(CONFIG.role(role).is_some(), "unconfigured role {role}");
        prop_assert!(
            person_ok(person) && person.trim() == person,
            "person {person:?}"
        );
        prop_assert!(
            inc.participants.contains(person),
            "{person} is not a participant"
        );
    }
    prop_assert!(inc.title == inc.title.trim() && title_ok(&inc.title));
    prop_assert!(inc.labels.iter().all(|(k, v)| label_ok(k, Some(v))));
    for e in events {
        prop_assert!(inc.participants.contains(&e.actor), "{} missing", e.actor);
    }
    prop_assert_eq!(&inc.reporter, &events[0].actor);

    // A replay of the whole log gives the same incident.
    let folded = Incident::fold(events.iter());
    prop_assert_eq!(
        folded,
        Ok(Some(inc.clone())),
        "fold differs from incremental apply"
    );
    Ok(())
}

/// The stored form of the whole log verifies and reads back to the same events. Checked once
/// a run is over: every step asserts the log only grows, and a chain that verifies has every
/// prefix verify, so checking after each step would find nothing more (and costs a quadratic
/// amount of hashing now that attachments carry whole playbooks).
fn check_stored(log: &Log) -> Result<(), TestCaseError> {
    let events = &log.events;
    let rows = log.stored();
    prop_assert_eq!(verify_chain(&rows), Ok(()));
    for (row, e) in rows.iter().zip(events) {
        let data = serde_json::from_str(&row.payload).map_err(|err| {
            TestCaseError::fail(format!("payload of {} is not JSON: {err}", row.seq))
        })?;
        let kind = EventKind::from_parts(&row.kind, data)
            .map_err(|err| TestCaseError::fail(format!("kind of {} unreadable: {err}", row.seq)))?;
        prop_assert_eq!(&kind, &e.kind);
        prop_assert_eq!(Timestamp::from_microsecond(row.at_micros).ok(), Some(e.at));
    }
    Ok(())
}

/// What an accepted command must have done.
#[allow(clippy::too_many_arguments)]
fn check_effect(
    before: &Incident,
    after: &Incident,
    cmd: &Command,
    added: usize,
    auto: usize,
    at: Timestamp,
    actor: &str,
    log: &Log,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(after.version, before.version + added as u64);
    if added == 0 {
        prop_assert_eq!(after, before, "no events but the incident changed");
        return Ok(());
    }
    prop_assert_eq!(after.updated_at, at);
    prop_assert!(after.participants.contains(actor));
    prop_assert!(after.participants.is_superset(&before.participants));
    prop_assert_eq!(&after.reporter, &before.reporter);
    prop_assert_eq!(after.declared_at, before.declared_at);
    let new = &log.events[log.events.len() - added..];
    match cmd {
        Command::AddAction(_) | Command::UpdateAction { .. } => {
            prop_assert_eq!(
                after.actions.len(),
                before.actions.len() + usize::from(matches!(cmd, Command::AddAction(_)))
            );
        }
        Command::Acknowledge => {
            prop_assert_eq!(after.acknowledged_by.as_deref(), Some(actor));
            prop_assert_eq!(after.acknowledged_at, Some(at));
            let want = if before.status == Status::Triage {
                Status::Investigating
            } else {
                before.status
            };
            prop_assert_eq!(after.status, want);
        }
        Command::ChangeSeverity { severity, .. } => {
            prop_assert_eq!(&after.severity, severity);
            prop_assert_eq!(added, 1 + auto);
        }
        Command::ChangeStatus { status, .. } => {
            prop_assert_eq!(after.status, *status);
            prop_assert_eq!(added, 1);
        }
        Command::AssignRole { role, person } => {
            prop_assert_eq!(
                after.roles.get(role).map(String::as_str),
                Some(person.trim())
            );
            prop_assert!(after.roles.len() >= before.roles.len());
        }
        Command::UnassignRole { role } => {
            prop_assert!(!after.roles.contains_key(role));
            prop_assert_eq!(after.roles.len() + 1, before.roles.len());
        }
        Command::PostUpdate { audience, text } => {
            let EventKind::UpdatePosted {
                audience: posted_to,
                text: posted,
                template,
                to,
                ..
            } = &new[0].kind
            else {
                return Err(TestCaseError::fail(format!(
                    "not an update: {:?}",
                    new[0].kind
                )));
            };
            prop_assert_eq!(posted_to, audience);
            prop_assert_eq!(posted, text.trim());
            prop_assert!(template.is_none() && to.is_empty());
            if audience == "internal" {
                prop_assert_eq!(after.last_update_at, Some(at));
                prop_assert_eq!(after.update_reminded_at, None);
            } else {
                prop_assert_eq!(after.last_update_at, before.last_update_at);
            }
        }
        Command::RecordMoment { moment, at: when } => {
            prop_assert_eq!(after.moments.get(moment), Some(when));
        }
        Command::SendMessage(_) => {
            return Err(TestCaseError::fail("sending is not generated here"));
        }
        Command::SetPostmortemSection { section, text } => {
            let text = text.trim();
            prop_assert_eq!(
                after.postmortem_sections.get(section).map(String::as_str),
                (!text.is_empty()).then_some(text)
            );
        }
        Command::MarkKeyMoment { seq, marked } => {
            prop_assert_eq!(after.key_moments.contains(seq), *marked);
        }
        Command::PublishPostmortem { markdown } => {
            prop_assert_eq!(after.postmortems.len(), before.postmortems.len() + 1);
            let last = after.postmortems.last().expect("published");
            prop_assert_eq!(last.version as usize, after.postmortems.len());
            prop_assert_eq!(&last.sha256, &warroom_core::postmortem::digest(markdown));
            prop_assert_eq!(
                warroom_core::timer::desired_timers(after, &CONFIG)
                    .iter()
                    .filter(|t| matches!(t.kind, warroom_core::timer::TimerKind::ReviewReminder))
                    .count(),
                0,
                "a published review is no longer due"
            );
        }
        Command::AddNote { text } => {
            prop_assert_eq!(
                &new[0].kind,
                &EventKind::NoteAdded {
                    text: text.trim().to_string()
                }
            );
            let mut unchanged = after.clone();
            unchanged.version = before.version;
            unchanged.updated_at = before.updated_at;
            unchanged.participants = before.participants.clone();
            prop_assert_eq!(&unchanged, before, "a note changed the incident");
        }
        Command::Update(p) => {
            if let Some(t) = &p.title {
                prop_assert_eq!(&after.title, t.trim());
            }
            if let Some(t) = &p.incident_type {
                prop_assert_eq!(&after.incident_type, t);
            }
            if let Some(s) = &p.services {
                let mut want: Vec<&str> = Vec::new();
                for s in s.iter().map(|s| s.trim()) {
                    if !want.contains(&s) {
                        want.push(s);
                    }
                }
                prop_assert_eq!(&after.services, &want);
            }
            if let Some(l) = &p.labels {
                for (k, v) in l {
                    prop_assert_eq!(after.labels.get(k), v.as_ref(), "label {}", k);
                }
            }
            if let Some(i) = &p.impact {
                prop_assert_eq!(&after.impact, i);
            }
            if let Some(l) = &p.links {
                prop_assert_eq!(&after.links, l);
            }
            if let Some(r) = p.restricted {
                prop_assert_eq!(after.restricted, r);
            }
            match &p.root_cause {
                Some(r) if !r.trim().is_empty() => {
                    prop_assert_eq!(after.root_cause.as_deref(), Some(r.trim()));
                }
                _ => prop_assert_eq!(&after.root_cause, &before.root_cause),
            }
            prop_assert_eq!(after.status, before.status);
            prop_assert_eq!(&after.severity, &before.severity);
            prop_assert_eq!(&after.roles, &before.roles);
        }
        Command::Resolve { summary } => {
            prop_assert!(before.status.is_open());
            prop_assert_eq!(after.status, Status::Resolved);
            prop_assert_eq!(after.resolution_summary.as_deref(), Some(summary.trim()));
            prop_assert_eq!(after.resolved_at, Some(at));
        }
        Command::Close => {
            prop_assert_eq!(
                before.status,
                Status::Resolved,
                "closed from {}",
                before.status
            );
            prop_assert_eq!(after.status, Status::Closed);
            prop_assert_eq!(after.closed_at, Some(at));
            prop_assert_eq!(after.resolved_at, before.resolved_at);
        }
        Command::Reopen { .. } => {
            prop_assert!(
                matches!(before.status, Status::Resolved | Status::Closed),
                "reopened from {}",
                before.status
            );
            prop_assert_eq!(after.status, Status::Investigating);
        }
        Command::Escalate => prop_assert!(false, "escalate was accepted without a policy"),
        Command::AttachPlaybook { playbook } => {
            prop_assert_eq!(added, 1);
            let a = after
                .playbooks
                .last()
                .ok_or_else(|| TestCaseError::fail("attached nothing"))?;
            prop_assert_eq!(Some(&a.playbook), CONFIG.playbook(playbook));
            prop_assert!(!a.automatic, "attached by hand");
            prop_assert_eq!((a.attached_by.as_str(), a.attached_at), (actor, at));
            prop_assert!(a.progress.is_empty(), "a fresh checklist");
            prop_assert!(!after.detached_playbooks.contains(playbook));
            prop_assert_eq!(
                &after.playbooks[..after.playbooks.len() - 1],
                &before.playbooks[..]
            );
            only_playbooks_changed(before, after)?;
        }
        Command::DetachPlaybook { playbook, reason } => {
            prop_assert_eq!(added, 1);
            let want_reason = reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from);
            prop_assert_eq!(
                &new[0].kind,
                &EventKind::PlaybookDetached {
                    playbook: playbook.clone(),
                    reason: want_reason
                }
            );
            prop_assert!(after.detached_playbooks.contains(playbook));
            let kept: Vec<_> = before
                .playbooks
                .iter()
                .filter(|a| &a.playbook.id != playbook)
                .cloned()
                .collect();
            prop_assert_eq!(&after.playbooks, &kept, "only {} went", playbook);
            only_playbooks_changed(before, after)?;
        }
        Command::CompleteTask { playbook, task }
        | Command::SkipTask { playbook, task, .. }
        | Command::ReopenTask { playbook, task } => {
            prop_assert_eq!(added, 1);
            let progress = |inc: &Incident| {
                inc.playbooks
                    .iter()
                    .find(|a| &a.playbook.id == playbook)
                    .map(|a| a.progress.clone())
            };
            let mut want = progress(before)
                .ok_or_else(|| TestCaseError::fail("task of a playbook not attached"))?;
            match cmd {
                Command::CompleteTask { .. } => {
                    want.insert(
                        task.clone(),
                        TaskProgress {
                            state: TaskState::Done,
                            by: actor.to_string(),
                            at,
                            reason: None,
                        },
                    );
                }
                Command::SkipTask { reason, .. } => {
                    want.insert(
                        task.clone(),
                        TaskProgress {
                            state: TaskState::Skipped,
                            by: actor.to_string(),
                            at,
                            reason: Some(reason.trim().to_string()),
                        },
                    );
                }
                _ => {
                    want.remove(task);
                }
            }
            prop_assert_eq!(progress(after), Some(want));
            let mut rest_after = after.playbooks.clone();
            let mut rest_before = before.playbooks.clone();
            for a in rest_after.iter_mut().chain(rest_before.iter_mut()) {
                a.progress.clear();
            }
            prop_assert_eq!(rest_after, rest_before, "only the task's progress changed");
            only_playbooks_changed(before, after)?;
        }
    }
    Ok(())
}

/// Nothing but the playbooks (and the bookkeeping of any event) differs.
fn only_playbooks_changed(before: &Incident, after: &Incident) -> Result<(), TestCaseError> {
    let mut same = after.clone();
    same.version = before.version;
    same.updated_at = before.updated_at;
    same.participants = before.participants.clone();
    same.playbooks = before.playbooks.clone();
    same.detached_playbooks = before.detached_playbooks.clone();
    prop_assert_eq!(&same, before, "a playbook command changed something else");
    Ok(())
}

/// The last `added` events of `log`: what a step recorded, ending with the attachments its
/// change made due (`auto`, in config order). Those must be attached by the step's actor at its
/// time, from the config, with an empty checklist.
fn check_auto(
    log: &Log,
    added: usize,
    auto: &[&str],
    at: Timestamp,
    actor: &str,
) -> Result<(), TestCaseError> {
    prop_assert!(
        added >= auto.len(),
        "{} events for {} attachments",
        added,
        auto.len()
    );
    let new = &log.events[log.events.len() - added..];
    let (own, attached) = new.split_at(added - auto.len());
    for e in own {
        prop_assert!(
            !matches!(
                e.kind,
                EventKind::PlaybookAttached {
                    automatic: true,
                    ..
                }
            ),
            "unexpected automatic attachment {:?}",
            e.kind
        );
    }
    for (e, id) in attached.iter().zip(auto) {
        let want = CONFIG
            .playbook(id)
            .ok_or_else(|| TestCaseError::fail(format!("{id} is not configured")))?;
        prop_assert_eq!(
            &e.kind,
            &EventKind::PlaybookAttached {
                playbook: want.clone(),
                automatic: true
            }
        );
        let a = log
            .incident
            .playbooks
            .iter()
            .find(|a| a.playbook.id == *id)
            .ok_or_else(|| TestCaseError::fail(format!("{id} not attached")))?;
        prop_assert_eq!((a.attached_by.as_str(), a.attached_at), (actor, at));
        prop_assert!(a.automatic && a.progress.is_empty());
    }
    Ok(())
}

/// What must hold of the playbooks at every step, and agreement with the model.
fn check_playbooks(log: &Log, model: &PlaybookModel) -> Result<(), TestCaseError> {
    let inc = &log.incident;
    prop_assert_eq!(
        &PlaybookModel::of(inc),
        model,
        "incident and model disagree"
    );
    // Every playbook whose triggers match is attached, or was detached by hand.
    prop_assert_eq!(
        model.due(inc),
        Vec::<&str>::new(),
        "matching but not attached"
    );
    let mut ids = BTreeSet::new();
    let mut total = 0;
    for a in &inc.playbooks {
        let id = a.playbook.id.as_str();
        prop_assert!(ids.insert(id), "{} attached twice", id);
        prop_assert!(
            !inc.detached_playbooks.contains(id),
            "{} attached and detached",
            id
        );
        prop_assert_eq!(Some(&a.playbook), CONFIG.playbook(id), "snapshot of {}", id);
        prop_assert!(
            !(a.automatic && a.playbook.triggers.is_empty()),
            "{} has no triggers but attached by itself",
            id
        );
        prop_assert!(inc.participants.contains(&a.attached_by));
        prop_assert!(inc.declared_at <= a.attached_at && a.attached_at <= inc.updated_at);
        let tasks = model_tasks(id).ok_or_else(|| TestCaseError::fail("unknown playbook"))?;
        total += tasks.len();
        // Progress exists only for tasks of attached playbooks.
        for (task, p) in &a.progress {
            prop_assert!(
                tasks.contains(&task.as_str()),
                "progress of {}/{}",
                id,
                task
            );
            prop_assert_ne!(p.state, TaskState::Open, "open tasks have no progress");
            prop_assert_eq!(
                p.reason.is_some(),
                p.state == TaskState::Skipped,
                "a reason iff skipped"
            );
            if let Some(r) = &p.reason {
                prop_assert!(!r.is_empty() && r.trim() == r, "reason {:?}", r);
            }
            prop_assert!(inc.participants.contains(&p.by));
            prop_assert!(a.attached_at <= p.at && p.at <= inc.updated_at);
        }
    }
    // The checklist shows every task of every attached playbook, numbered in order.
    let views = task_views(inc, inc.updated_at, &BTreeMap::new());
    prop_assert_eq!(views.len(), total);
    for (i, v) in views.iter().enumerate() {
        prop_assert_eq!(v.number, i + 1);
        let state = model
            .get(&v.playbook)
            .and_then(|p| p.get(&v.task).copied())
            .unwrap_or(TaskState::Open);
        prop_assert_eq!(v.state, state, "{}/{}", &v.playbook, &v.task);
        prop_assert!(!v.overdue || v.state == TaskState::Open);
        prop_assert_eq!(
            find_task(inc, &v.number.to_string()),
            Ok((v.playbook.clone(), v.task.clone()))
        );
    }
    // The incident as a projection survives JSON, playbooks and all.
    let json = serde_json::to_string(inc).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: Incident =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, inc);
    Ok(())
}

fn start() -> Timestamp {
    common::ts("2026-11-22T10:00:00Z")
}

/// Runs `steps` from `decl`, checking every step; returns the log.
fn run(decl: &Declaration, steps: &[Step]) -> Result<Log, TestCaseError> {
    let mut at = start();
    let mut log = Log::declare_all(decl, &CONFIG, at, "maria")
        .map_err(|err| TestCaseError::fail(format!("declaration refused: {err}")))?;
    let mut model = PlaybookModel::default();
    let auto = model.attach_due(&log.incident);
    prop_assert_eq!(log.events.len(), 1 + auto.len());
    check_auto(&log, auto.len(), &auto, at, "maria")?;
    check_invariants(&log)?;
    check_playbooks(&log, &model)?;
    for step in steps {
        at = at
            .checked_add(SignedDuration::from_micros(step.after_micros))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        let before = log.clone();
        let predicted = predict(&log.incident, &model, &step.cmd);
        match log.run(&step.cmd, &CONFIG, at, &step.actor) {
            Ok(added) => {
                prop_assert_eq!(
                    predicted,
                    Ok(()),
                    "accepted {:?} in {}",
                    &step.cmd,
                    before.incident.status
                );
                let auto = model.accept(&step.cmd, &log.incident);
                check_auto(&log, added, &auto, at, &step.actor)?;
                check_effect(
                    &before.incident,
                    &log.incident,
                    &step.cmd,
                    added,
                    auto.len(),
                    at,
                    &step.actor,
                    &log,
                )?;
                prop_assert_eq!(&log.events[..before.events.len()], &before.events[..]);
            }
            Err(err) => {
                match (&predicted, &err) {
                    (Err(Refusal::Conflict), DomainError::Conflict(_)) => {}
                    (Err(Refusal::Invalid(fields)), DomainError::Invalid { field, .. })
                        if fields.contains(&field.as_str()) => {}
                    _ => {
                        return Err(TestCaseError::fail(format!(
                            "{:?} in {}: model says {predicted:?}, decide said {err:?}",
                            step.cmd, before.incident.status
                        )));
                    }
                }
                prop_assert_eq!(
                    &log.incident,
                    &before.incident,
                    "refusal changed the incident"
                );
                prop_assert_eq!(&log.events, &before.events, "refusal changed the log");
                // Refusing is a pure decision: asking again gives the same answer.
                prop_assert_eq!(command::decide(&log.incident, &step.cmd, &CONFIG), Err(err));
            }
        }
        check_invariants(&log)?;
        check_playbooks(&log, &model)?;
    }
    check_stored(&log)?;
    Ok(log)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_the_incident_consistent(
        decl in declaration(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        run(&decl, &steps)?;
    }

    #[test]
    fn any_edit_to_a_stored_event_breaks_the_chain_there(
        decl in declaration(),
        steps in prop::collection::vec(step(), 1..30),
        pick in any::<prop::sample::Index>(),
        edit in 0..5u8,
    ) {
        let log = run(&decl, &steps)?;
        let mut rows = log.stored();
        let i = pick.index(rows.len());
        let seq = rows[i].seq;
        match edit {
            0 => rows[i].actor.push('x'),
            1 => rows[i].at_micros += 1,
            2 => rows[i].payload = r#"{"text":"edited"}"#.to_string(),
            3 => rows[i].kind = if rows[i].kind == "note_added" {
                "closed".into()
            } else {
                "note_added".into()
            },
            _ => rows[i].incident_id = "INC-20261122-002".into(),
        }
        let err = verify_chain(&rows).expect_err("an edited event must not verify");
        prop_assert_eq!(err.seq, seq);
    }

    #[test]
    fn removing_or_swapping_events_breaks_the_chain(
        decl in declaration(),
        steps in prop::collection::vec(step(), 2..30),
        pick in any::<prop::sample::Index>(),
        swap in any::<bool>(),
    ) {
        let log = run(&decl, &steps)?;
        let mut rows = log.stored();
        prop_assume!(rows.len() >= 2);
        // Not the last event: dropping the tail of a log leaves a shorter valid chain, which
        // only the stored head can reveal.
        let i = pick.index(rows.len() - 1);
        if swap {
            rows.swap(i, i + 1);
        } else {
            rows.remove(i);
        }
        let err = verify_chain(&rows).expect_err("a reordered log must not verify");
        prop_assert_eq!(err.seq, rows[i].seq);
    }
}

/// A hand-written walk through the whole lifecycle, so the properties above are known to reach
/// resolved, closed and reopened states and not only refuse.
#[test]
fn full_lifecycle_is_reachable() {
    let steps: Vec<Step> = [
        Command::Acknowledge,
        Command::ChangeStatus {
            status: Status::Contained,
            reason: None,
        },
        Command::Resolve {
            summary: "fixed".into(),
        },
        Command::Close,
        Command::Reopen {
            reason: "it came back".into(),
        },
        Command::ChangeStatus {
            status: Status::Recovering,
            reason: Some("   ".into()),
        },
        Command::Resolve {
            summary: "fixed for real".into(),
        },
        Command::Close,
    ]
    .into_iter()
    .map(|cmd| Step {
        actor: "tomas".into(),
        after_micros: 60_000_000,
        cmd,
    })
    .collect();
    let decl = Declaration {
        title: "Checkout down".into(),
        severity: "P0".into(),
        ..Declaration::default()
    };
    let log = run(&decl, &steps).expect("every step is valid");
    assert_eq!(log.incident.status, Status::Closed);
    assert_eq!(
        log.incident.version, 11,
        "P0 attaches the major playbook; acknowledging in triage adds two events"
    );
    assert_eq!(
        log.incident.resolution_summary.as_deref(),
        Some("fixed for real")
    );
    assert_eq!(
        log.incident.resolved_at,
        start().checked_add(SignedDuration::from_mins(7)).ok()
    );
    assert_eq!(
        log.incident.contained_at,
        start().checked_add(SignedDuration::from_mins(6)).ok(),
        "contained_at restarts after a reopen"
    );
    let kinds: Vec<&str> = log.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "playbook_attached",
            "acknowledged",
            "status_changed",
            "status_changed",
            "resolved",
            "closed",
            "reopened",
            "status_changed",
            "resolved",
            "closed"
        ]
    );
}

fn at_minutes(steps: Vec<(&str, Command)>) -> Vec<Step> {
    steps
        .into_iter()
        .map(|(actor, cmd)| Step {
            actor: actor.into(),
            after_micros: 60_000_000,
            cmd,
        })
        .collect()
}

fn task(playbook: &str, task: &str) -> (String, String) {
    (playbook.to_string(), task.to_string())
}

/// A hand-written walk through the playbook rules, so the properties above are known to reach
/// automatic attachment on a change, detachment that sticks, attachment by hand and every task
/// transition.
#[test]
fn playbook_rules_are_reachable() {
    let complete = |p: &str, t: &str| {
        let (playbook, task) = task(p, t);
        Command::CompleteTask { playbook, task }
    };
    let severity = |s: &str| Command::ChangeSeverity {
        severity: s.into(),
        reason: None,
    };
    let region = |r: Option<&str>| {
        Command::Update(IncidentPatch {
            labels: Some(BTreeMap::from([(
                "region".to_string(),
                r.map(String::from),
            )])),
            ..IncidentPatch::default()
        })
    };
    let steps = at_minutes(vec![
        // Declared P2 outage in eu: nothing matches.
        ("tomas", severity("P1")),
        ("tomas", complete("major", "page")),
        (
            "priya",
            Command::SkipTask {
                playbook: "major".into(),
                task: "notify".into(),
                reason: " status page is down too ".into(),
            },
        ),
        (
            "tomas",
            Command::ReopenTask {
                playbook: "major".into(),
                task: "notify".into(),
            },
        ),
        ("priya", complete("major", "notify")),
        (
            "tomas",
            Command::DetachPlaybook {
                playbook: "major".into(),
                reason: Some("not that bad after all".into()),
            },
        ),
        // Still matches, but a detached playbook stays detached...
        ("tomas", severity("P0")),
        // ...while a label change attaches the one that now matches.
        ("li", region(Some("us-east"))),
        // Attached again by hand, with a fresh checklist.
        (
            "tomas",
            Command::AttachPlaybook {
                playbook: "major".into(),
            },
        ),
        (
            "tomas",
            Command::AttachPlaybook {
                playbook: "manual".into(),
            },
        ),
        ("li", complete("us-region", "failover")),
        // No longer matching does not detach.
        ("li", region(None)),
    ]);
    let decl = Declaration {
        title: "EU checkout down".into(),
        incident_type: Some("outage".into()),
        severity: "P2".into(),
        labels: BTreeMap::from([("region".to_string(), "eu".to_string())]),
        ..Declaration::default()
    };
    let log = run(&decl, &steps).expect("every step is valid");
    let kinds: Vec<&str> = log.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "severity_changed",
            "playbook_attached",
            "task_completed",
            "task_skipped",
            "task_reopened",
            "task_completed",
            "playbook_detached",
            "severity_changed",
            "labels_changed",
            "playbook_attached",
            "playbook_attached",
            "playbook_attached",
            "task_completed",
            "labels_changed",
        ]
    );
    let inc = &log.incident;
    let attached: Vec<(&str, bool)> = inc
        .playbooks
        .iter()
        .map(|a| (a.playbook.id.as_str(), a.automatic))
        .collect();
    assert_eq!(
        attached,
        [("us-region", true), ("major", false), ("manual", false)]
    );
    assert!(inc.detached_playbooks.is_empty());
    assert!(
        inc.playbooks[1].progress.is_empty(),
        "re-attaching starts over"
    );
    assert_eq!(
        inc.playbooks[0].progress.get("failover").map(|p| p.state),
        Some(TaskState::Done)
    );
    assert_eq!(
        find_task(inc, "notify").map(|_| ()),
        Err("\"notify\" is ambiguous: us-region/notify, major/notify".to_string())
    );
    assert_eq!(find_task(inc, "2"), Ok(task("us-region", "failover")));
    assert_eq!(
        find_task(inc, "major/postmortem"),
        Ok(task("major", "postmortem"))
    );

    // Closing freezes the checklist.
    let mut log = log;
    let at = log.incident.updated_at;
    log.must(
        &Command::Resolve {
            summary: "fixed".into(),
        },
        &CONFIG,
        &at.to_string(),
        "tomas",
    );
    log.must(&Command::Close, &CONFIG, &at.to_string(), "tomas");
    for cmd in [
        complete("major", "page"),
        Command::AttachPlaybook {
            playbook: "manual".into(),
        },
        Command::DetachPlaybook {
            playbook: "major".into(),
            reason: None,
        },
    ] {
        assert!(
            matches!(
                command::decide(&log.incident, &cmd, &CONFIG),
                Err(DomainError::Conflict(_))
            ),
            "{cmd:?} on a closed incident"
        );
    }
}
