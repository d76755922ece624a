//! Table-driven checks of the command rules: every refusal names the right error and field,
//! and every command asks for the right permission level.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::{Log, ts};
use warroom_core::command::{self, MAX_TITLE};
use warroom_core::{
    Command, Config, Declaration, DomainError, Impact, IncidentPatch, Links, Role, Status,
};

static CONFIG: LazyLock<Config> = LazyLock::new(Config::builtin);

/// What a refusal must look like.
#[derive(Debug, Clone, Copy)]
enum Want {
    Invalid(&'static str),
    Conflict,
}

fn check(case: &str, got: Result<impl std::fmt::Debug, DomainError>, want: Want) {
    match (want, got) {
        (
            Want::Invalid(field),
            Err(DomainError::Invalid {
                field: got,
                message,
            }),
        ) => {
            assert_eq!(got, field, "{case}: wrong field (message: {message})");
            assert!(!message.is_empty(), "{case}: empty message");
        }
        (Want::Conflict, Err(DomainError::Conflict(message))) => {
            assert!(!message.is_empty(), "{case}: empty message");
        }
        (want, got) => panic!("{case}: wanted {want:?}, got {got:?}"),
    }
}

fn base() -> Declaration {
    Declaration {
        title: "Login failures spike".into(),
        severity: "P1".into(),
        services: vec!["auth".into()],
        ..Declaration::default()
    }
}

fn note(text: &str) -> Command {
    Command::AddNote { text: text.into() }
}

fn resolve(summary: &str) -> Command {
    Command::Resolve {
        summary: summary.into(),
    }
}

fn status(status: Status) -> Command {
    Command::ChangeStatus {
        status,
        reason: None,
    }
}

fn assign(role: &str, person: &str) -> Command {
    Command::AssignRole {
        role: role.into(),
        person: person.into(),
    }
}

fn patch(p: IncidentPatch) -> Command {
    Command::Update(p)
}

#[test]
fn declaration_errors_name_their_field() {
    let long_label_value = "v".repeat(257);
    let cases: Vec<(&str, Declaration, Want)> = vec![
        (
            "unknown severity",
            Declaration {
                severity: "P9".into(),
                ..base()
            },
            Want::Invalid("severity"),
        ),
        (
            "severity ids are case sensitive",
            Declaration {
                severity: "p1".into(),
                ..base()
            },
            Want::Invalid("severity"),
        ),
        (
            "empty title",
            Declaration {
                title: String::new(),
                ..base()
            },
            Want::Invalid("title"),
        ),
        (
            "blank title",
            Declaration {
                title: " \t ".into(),
                ..base()
            },
            Want::Invalid("title"),
        ),
        (
            "over-long title",
            Declaration {
                title: "x".repeat(MAX_TITLE + 1),
                ..base()
            },
            Want::Invalid("title"),
        ),
        (
            "two-line title",
            Declaration {
                title: "first\nsecond".into(),
                ..base()
            },
            Want::Invalid("title"),
        ),
        (
            "unknown type",
            Declaration {
                incident_type: Some("alien-invasion".into()),
                ..base()
            },
            Want::Invalid("type"),
        ),
        (
            "label key with spaces",
            Declaration {
                labels: BTreeMap::from([("customer tier".into(), "gold".into())]),
                ..base()
            },
            Want::Invalid("labels"),
        ),
        (
            "empty label key",
            Declaration {
                labels: BTreeMap::from([(String::new(), "x".into())]),
                ..base()
            },
            Want::Invalid("labels"),
        ),
        (
            "over-long label value",
            Declaration {
                labels: BTreeMap::from([("region".into(), long_label_value)]),
                ..base()
            },
            Want::Invalid("labels"),
        ),
        (
            "unknown service",
            Declaration {
                services: vec!["autth".into()],
                ..base()
            },
            Want::Invalid("services"),
        ),
        (
            "empty service name",
            Declaration {
                services: vec![String::new()],
                ..base()
            },
            Want::Invalid("services"),
        ),
        (
            "description with a control character",
            Declaration {
                description: Some("beep\u{7}".into()),
                ..base()
            },
            Want::Invalid("description"),
        ),
        (
            "impact on an unknown service",
            Declaration {
                impact: Some(Impact {
                    services_impacted: vec!["mainframe".into()],
                    ..Impact::default()
                }),
                ..base()
            },
            Want::Invalid("impact.services_impacted"),
        ),
        (
            "two-line ticket link",
            Declaration {
                links: Some(Links {
                    ticket: Some("SEC-1\nSEC-2".into()),
                    ..Links::default()
                }),
                ..base()
            },
            Want::Invalid("links.ticket"),
        ),
    ];
    for (case, decl, want) in cases {
        check(case, command::declare(&decl, &CONFIG), want);
    }
}

#[test]
fn declaration_limits_are_inclusive_and_input_is_normalised() {
    let decl = Declaration {
        title: format!("  {}  ", "é".repeat(MAX_TITLE)),
        services: vec![" auth ".into(), "auth".into(), "web".into()],
        ..base()
    };
    let log = Log::declare(&decl, &CONFIG, ts("2026-11-22T10:00:00Z"), "maria")
        .expect("a title of exactly MAX_TITLE characters is accepted");
    let inc = &log.incident;
    assert_eq!(inc.title, "é".repeat(MAX_TITLE));
    assert_eq!(inc.services, ["auth", "web"]);
    assert_eq!(inc.incident_type, "other", "type defaults to other");
    assert_eq!(inc.status, Status::Triage);
    assert_eq!(inc.reporter, "maria");
    assert_eq!(inc.version, 1);
}

#[test]
fn command_errors_name_their_field() {
    let closed: Vec<Command> = vec![resolve("rolled back"), Command::Close];
    let resolved: Vec<Command> = vec![resolve("rolled back")];
    let cases: Vec<(&str, Vec<Command>, Command, Want)> = vec![
        (
            "acknowledge twice",
            vec![Command::Acknowledge],
            Command::Acknowledge,
            Want::Conflict,
        ),
        (
            "acknowledge a resolved incident",
            resolved.clone(),
            Command::Acknowledge,
            Want::Conflict,
        ),
        ("close in triage", vec![], Command::Close, Want::Conflict),
        (
            "close while contained",
            vec![status(Status::Contained)],
            Command::Close,
            Want::Conflict,
        ),
        (
            "close while recovering",
            vec![status(Status::Recovering)],
            Command::Close,
            Want::Conflict,
        ),
        (
            "close twice",
            closed.clone(),
            Command::Close,
            Want::Conflict,
        ),
        (
            "resolve with an empty summary",
            vec![],
            resolve(""),
            Want::Invalid("summary"),
        ),
        (
            "resolve with a blank summary",
            vec![],
            resolve("  \n "),
            Want::Invalid("summary"),
        ),
        (
            "resolve twice",
            resolved.clone(),
            resolve("again"),
            Want::Conflict,
        ),
        (
            "status to resolved",
            vec![],
            status(Status::Resolved),
            Want::Invalid("status"),
        ),
        (
            "status to closed",
            resolved.clone(),
            status(Status::Closed),
            Want::Conflict,
        ),
        (
            "status to closed while open",
            vec![],
            status(Status::Closed),
            Want::Invalid("status"),
        ),
        (
            "status back to triage",
            vec![Command::Acknowledge],
            status(Status::Triage),
            Want::Invalid("status"),
        ),
        (
            "status unchanged",
            vec![status(Status::Contained)],
            status(Status::Contained),
            Want::Conflict,
        ),
        (
            "status change on a resolved incident",
            resolved.clone(),
            status(Status::Investigating),
            Want::Conflict,
        ),
        (
            "status reason with a control character",
            vec![],
            Command::ChangeStatus {
                status: Status::Contained,
                reason: Some("\u{1b}[31m".into()),
            },
            Want::Invalid("reason"),
        ),
        (
            "unknown severity",
            vec![],
            Command::ChangeSeverity {
                severity: "SEV1".into(),
                reason: None,
            },
            Want::Invalid("severity"),
        ),
        (
            "same severity",
            vec![],
            Command::ChangeSeverity {
                severity: "P1".into(),
                reason: None,
            },
            Want::Conflict,
        ),
        (
            "severity of a closed incident",
            closed.clone(),
            Command::ChangeSeverity {
                severity: "P0".into(),
                reason: None,
            },
            Want::Conflict,
        ),
        (
            "assign an unknown role",
            vec![],
            assign("commander", "alice"),
            Want::Invalid("role"),
        ),
        (
            "assign a person with a space",
            vec![],
            assign("scribe", "alice smith"),
            Want::Invalid("person"),
        ),
        (
            "assign nobody",
            vec![],
            assign("scribe", "  "),
            Want::Invalid("person"),
        ),
        (
            "assign the holder again",
            vec![assign("scribe", "alice")],
            assign("scribe", " alice "),
            Want::Conflict,
        ),
        (
            "assign on a closed incident",
            closed.clone(),
            assign("scribe", "alice"),
            Want::Conflict,
        ),
        (
            "unassign an unknown role",
            vec![],
            Command::UnassignRole {
                role: "boss".into(),
            },
            Want::Invalid("role"),
        ),
        (
            "unassign an empty role",
            vec![],
            Command::UnassignRole {
                role: "scribe".into(),
            },
            Want::Conflict,
        ),
        ("empty note", vec![], note(""), Want::Invalid("text")),
        ("blank note", vec![], note(" \t\n"), Want::Invalid("text")),
        (
            "note with a control character",
            vec![],
            note("bell\u{7}"),
            Want::Invalid("text"),
        ),
        (
            "over-long note",
            vec![],
            note(&"n".repeat(command::MAX_TEXT + 1)),
            Want::Invalid("text"),
        ),
        (
            "reopen an open incident",
            vec![],
            Command::Reopen {
                reason: "again".into(),
            },
            Want::Conflict,
        ),
        (
            "reopen without a reason",
            resolved.clone(),
            Command::Reopen { reason: " ".into() },
            Want::Invalid("reason"),
        ),
        (
            "update with an empty title",
            vec![],
            patch(IncidentPatch {
                title: Some(String::new()),
                ..IncidentPatch::default()
            }),
            Want::Invalid("title"),
        ),
        (
            "update with an over-long title",
            vec![],
            patch(IncidentPatch {
                title: Some("t".repeat(MAX_TITLE + 1)),
                ..IncidentPatch::default()
            }),
            Want::Invalid("title"),
        ),
        (
            "update with a label key with spaces",
            vec![],
            patch(IncidentPatch {
                labels: Some(BTreeMap::from([("bad key".into(), Some("x".into()))])),
                ..IncidentPatch::default()
            }),
            Want::Invalid("labels"),
        ),
        (
            "remove a label with a bad key",
            vec![],
            patch(IncidentPatch {
                labels: Some(BTreeMap::from([("bad key".into(), None)])),
                ..IncidentPatch::default()
            }),
            Want::Invalid("labels"),
        ),
        (
            "update with an unknown service",
            vec![],
            patch(IncidentPatch {
                services: Some(vec!["auth".into(), "nope".into()]),
                ..IncidentPatch::default()
            }),
            Want::Invalid("services"),
        ),
        (
            "update with an unknown type",
            vec![],
            patch(IncidentPatch {
                incident_type: Some("Outage".into()),
                ..IncidentPatch::default()
            }),
            Want::Invalid("type"),
        ),
        (
            "update with a root cause holding a control character",
            vec![],
            patch(IncidentPatch {
                root_cause: Some("nul\0".into()),
                ..IncidentPatch::default()
            }),
            Want::Invalid("root_cause"),
        ),
        (
            "update a closed incident",
            closed.clone(),
            patch(IncidentPatch {
                title: Some("New title".into()),
                ..IncidentPatch::default()
            }),
            Want::Conflict,
        ),
    ];
    for (case, setup, cmd, want) in cases {
        let mut log = Log::declare(&base(), &CONFIG, ts("2026-11-22T10:00:00Z"), "maria")
            .expect("base declaration is valid");
        for step in &setup {
            log.must(step, &CONFIG, "2026-11-22T10:05:00Z", "tomas");
        }
        let before = log.incident.clone();
        check(case, command::decide(&log.incident, &cmd, &CONFIG), want);
        assert_eq!(log.incident, before, "{case}: refusal changed the incident");
    }
}

#[test]
fn accepted_commands_produce_the_expected_events() {
    let mut log = Log::declare(&base(), &CONFIG, ts("2026-11-22T10:00:00Z"), "maria")
        .expect("valid declaration");
    let names = |cmd: &Command, log: &Log| -> Vec<&'static str> {
        command::decide(&log.incident, cmd, &CONFIG)
            .unwrap_or_else(|err| panic!("{cmd:?} refused: {err}"))
            .iter()
            .map(|k| k.name())
            .collect()
    };
    // Acknowledging in triage also starts the investigation.
    assert_eq!(
        names(&Command::Acknowledge, &log),
        ["acknowledged", "status_changed"]
    );
    log.must(
        &Command::Acknowledge,
        &CONFIG,
        "2026-11-22T10:01:00Z",
        "tomas",
    );
    assert_eq!(log.incident.status, Status::Investigating);
    assert_eq!(log.incident.acknowledged_by.as_deref(), Some("tomas"));
    // A patch that changes nothing records nothing.
    let same = patch(IncidentPatch {
        title: Some(" Login failures spike ".into()),
        services: Some(vec!["auth".into()]),
        ..IncidentPatch::default()
    });
    assert_eq!(names(&same, &log), Vec::<&str>::new());
    // Acknowledging outside triage does not move the status.
    let mut contained = log.clone();
    contained.must(
        &status(Status::Contained),
        &CONFIG,
        "2026-11-22T10:02:00Z",
        "tomas",
    );
    contained.must(&resolve("fixed"), &CONFIG, "2026-11-22T10:03:00Z", "tomas");
    contained.must(
        &Command::Reopen {
            reason: "back".into(),
        },
        &CONFIG,
        "2026-11-22T10:04:00Z",
        "tomas",
    );
    assert_eq!(contained.incident.status, Status::Investigating);
    assert_eq!(contained.incident.contained_at, None);
    assert_eq!(contained.incident.resolution_summary, None);
    // Reassigning a role records whom it replaces.
    log.must(
        &assign("scribe", "alice"),
        &CONFIG,
        "2026-11-22T10:05:00Z",
        "tomas",
    );
    let kinds = command::decide(&log.incident, &assign("scribe", "bob"), &CONFIG)
        .expect("reassignment is allowed");
    assert_eq!(
        kinds,
        [warroom_core::EventKind::RoleAssigned {
            role: "scribe".into(),
            person: "bob".into(),
            replaced: Some("alice".into()),
        }]
    );
    assert_eq!(
        warroom_core::event::verify_chain(&log.stored()),
        Ok(()),
        "the log the commands produced is a valid chain"
    );
}

#[test]
fn required_role_of_every_command() {
    let cases: Vec<(Command, Role)> = vec![
        (Command::Acknowledge, Role::Responder),
        (
            Command::ChangeSeverity {
                severity: "P0".into(),
                reason: None,
            },
            Role::Commander,
        ),
        (status(Status::Contained), Role::Responder),
        (assign("scribe", "alice"), Role::Commander),
        (
            Command::UnassignRole {
                role: "scribe".into(),
            },
            Role::Commander,
        ),
        (note("hello"), Role::Responder),
        (patch(IncidentPatch::default()), Role::Responder),
        (
            patch(IncidentPatch {
                title: Some("t".into()),
                root_cause: Some("r".into()),
                ..IncidentPatch::default()
            }),
            Role::Responder,
        ),
        (
            patch(IncidentPatch {
                restricted: Some(true),
                ..IncidentPatch::default()
            }),
            Role::Commander,
        ),
        (
            patch(IncidentPatch {
                restricted: Some(false),
                title: Some("t".into()),
                ..IncidentPatch::default()
            }),
            Role::Commander,
        ),
        (resolve("done"), Role::Responder),
        (Command::Close, Role::Commander),
        (
            Command::Reopen {
                reason: "again".into(),
            },
            Role::Commander,
        ),
    ];
    for (cmd, role) in cases {
        assert_eq!(cmd.required_role(), role, "{cmd:?}");
    }
}
