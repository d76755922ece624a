//! Property tests of the lifecycle: random sequences of commands, plausible and not, run
//! against a declared incident the way a store runs them (decide, seal, apply). After every
//! step the incident must be consistent, a refused command must leave everything as it was,
//! the incrementally applied state must equal a replay of the log, and the stored log must
//! verify.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::Log;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::sample::select;
use warroom_core::command::{self, MAX_TEXT, MAX_TITLE};
use warroom_core::event::{EventKind, verify_chain};
use warroom_core::{
    Command, Config, Declaration, DomainError, Impact, Incident, IncidentPatch, Links, Status,
};

static CONFIG: LazyLock<Config> = LazyLock::new(Config::builtin);

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

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        2 => Just(Command::Acknowledge),
        2 => (severity_id(), prop::option::of(text()))
            .prop_map(|(severity, reason)| Command::ChangeSeverity { severity, reason }),
        3 => (status(), prop::option::of(text()))
            .prop_map(|(status, reason)| Command::ChangeStatus { status, reason }),
        2 => (role_id(), person()).prop_map(|(role, person)| Command::AssignRole { role, person }),
        1 => role_id().prop_map(|role| Command::UnassignRole { role }),
        2 => text().prop_map(|text| Command::AddNote { text }),
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
        any::<bool>(),
    )
        .prop_map(|(title, ty, severity, services, restricted)| Declaration {
            title: title.into(),
            incident_type: ty.map(String::from),
            severity: severity.into(),
            services: services.into_iter().map(String::from).collect(),
            labels: BTreeMap::from([("region".to_string(), "eu".to_string())]),
            restricted,
            ..Declaration::default()
        })
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

/// What the rules say `cmd` does to `inc`: accepted, or refused and why. State comes first: a
/// finished incident refuses before its arguments are looked at.
fn predict(inc: &Incident, cmd: &Command) -> Result<(), Refusal> {
    let open = inc.status.is_open();
    let closed = inc.status == Status::Closed;
    match cmd {
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

    // The stored form verifies and reads back to the same events.
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
fn check_effect(
    before: &Incident,
    after: &Incident,
    cmd: &Command,
    added: usize,
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
            prop_assert_eq!(added, 1);
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
    }
    Ok(())
}

fn start() -> Timestamp {
    common::ts("2026-11-22T10:00:00Z")
}

/// Runs `steps` from `decl`, checking every step; returns the log.
fn run(decl: &Declaration, steps: &[Step]) -> Result<Log, TestCaseError> {
    let mut at = start();
    let mut log = Log::declare(decl, &CONFIG, at, "maria")
        .map_err(|err| TestCaseError::fail(format!("declaration refused: {err}")))?;
    check_invariants(&log)?;
    for step in steps {
        at = at
            .checked_add(SignedDuration::from_micros(step.after_micros))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        let before = log.clone();
        let predicted = predict(&log.incident, &step.cmd);
        match log.run(&step.cmd, &CONFIG, at, &step.actor) {
            Ok(added) => {
                prop_assert_eq!(
                    predicted,
                    Ok(()),
                    "accepted {:?} in {}",
                    &step.cmd,
                    before.incident.status
                );
                check_effect(
                    &before.incident,
                    &log.incident,
                    &step.cmd,
                    added,
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
    }
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
        log.incident.version, 10,
        "acknowledging in triage adds two events"
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
