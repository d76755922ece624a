//! Snapshots of the incident-log exports for one realistic incident, plus structural checks
//! that the Markdown tables, the CSV and the JSON survive awkward characters.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::Log;
use warroom_core::export::{Format, render};
use warroom_core::{
    Command, Config, Declaration, Event, Impact, Incident, IncidentPatch, Links, Status,
};

/// The built-in config without its playbook library: these snapshots are about the export
/// format, and must not change whenever a built-in playbook does (the checklist section has its
/// own snapshot in `playbook_export.rs`).
static CONFIG: LazyLock<Config> = LazyLock::new(|| Config {
    playbooks: Vec::new(),
    ..Config::builtin()
});

/// A security breach worked from declaration to closure, with fixed times.
fn breach() -> Log {
    let config = &*CONFIG;
    let decl = Declaration {
        title: "Suspicious admin logins from unknown IPs".into(),
        incident_type: Some("security-breach".into()),
        severity: "P1".into(),
        services: vec!["auth".into(), "web".into()],
        labels: BTreeMap::from([
            ("region".into(), "eu".into()),
            ("detected-by".into(), "siem".into()),
        ]),
        restricted: true,
        description: Some(
            "The SIEM flagged 43 successful admin logins from addresses outside our network \
             within ten minutes."
                .into(),
        ),
        impact: None,
        links: Some(Links {
            ticket: Some("SEC-1423".into()),
            chat_channel: Some("#inc-admin-logins".into()),
            dashboard: None,
        }),
    };
    let mut log = Log::declare(&decl, config, common::ts("2026-11-22T09:14:03Z"), "maria")
        .expect("valid declaration");
    let steps: Vec<(&str, &str, Command)> = vec![
        ("2026-11-22T09:16:40Z", "tomas", Command::Acknowledge),
        (
            "2026-11-22T09:18:00Z",
            "tomas",
            Command::AssignRole {
                role: "incident-commander".into(),
                person: "tomas".into(),
            },
        ),
        (
            "2026-11-22T09:19:30Z",
            "tomas",
            Command::AssignRole {
                role: "security-lead".into(),
                person: "priya".into(),
            },
        ),
        (
            "2026-11-22T09:25:12Z",
            "priya",
            Command::AddNote {
                text: "Sessions trace back to one token | rotating now, \"admin-sync\" account \
                       disabled"
                    .into(),
            },
        ),
        (
            "2026-11-22T09:31:00Z",
            "tomas",
            Command::ChangeSeverity {
                severity: "P0".into(),
                reason: Some("customer data exposed".into()),
            },
        ),
        (
            "2026-11-22T09:40:00Z",
            "priya",
            Command::Update(IncidentPatch {
                impact: Some(Impact {
                    users_affected: Some(1200),
                    data_affected: Some("email addresses of EU customers".into()),
                    services_impacted: vec![],
                    estimated_cost: Some("USD 12,000".into()),
                }),
                ..IncidentPatch::default()
            }),
        ),
        (
            "2026-11-22T09:52:00Z",
            "priya",
            Command::ChangeStatus {
                status: Status::Contained,
                reason: Some("token revoked, all admin sessions killed".into()),
            },
        ),
        (
            "2026-11-22T10:05:00Z",
            "tomas",
            Command::AssignRole {
                role: "communications-lead".into(),
                person: "li".into(),
            },
        ),
        (
            "2026-11-22T10:30:00Z",
            "priya",
            Command::ChangeStatus {
                status: Status::Recovering,
                reason: None,
            },
        ),
        (
            "2026-11-22T11:45:00Z",
            "priya",
            Command::Update(IncidentPatch {
                root_cause: Some(
                    "A CI job printed the admin-sync token to a public build log.".into(),
                ),
                ..IncidentPatch::default()
            }),
        ),
        (
            "2026-11-22T12:10:00Z",
            "tomas",
            Command::Resolve {
                summary: "Revoked the leaked token, forced re-login for all admins, scrubbed \
                          the build log and rotated the CI secrets."
                    .into(),
            },
        ),
        ("2026-11-24T15:00:00Z", "tomas", Command::Close),
    ];
    for (at, actor, cmd) in &steps {
        log.must(cmd, config, at, actor);
    }
    log
}

fn rendered(format: Format) -> (Log, String) {
    let log = breach();
    let text = render(format, &log.incident, &log.events, log.incident.updated_at);
    (log, text)
}

#[test]
fn the_breach_is_closed_and_its_chain_verifies() {
    let log = breach();
    let inc = &log.incident;
    assert_eq!(inc.status, Status::Closed);
    assert_eq!(inc.severity, "P0");
    assert_eq!(inc.version, 14);
    assert_eq!(inc.roles.len(), 3);
    assert_eq!(
        warroom_core::event::verify_chain(&log.stored()),
        Ok(()),
        "the exported log is a valid chain"
    );
}

#[test]
fn markdown_export() {
    let (_, text) = rendered(Format::Markdown);
    insta::assert_snapshot!("markdown", text);
}

#[test]
fn csv_export() {
    let (_, text) = rendered(Format::Csv);
    insta::assert_snapshot!("csv", text);
}

#[test]
fn json_export() {
    let (_, text) = rendered(Format::Json);
    insta::assert_snapshot!("json", text);
}

/// Splits a Markdown table row into cells the way GitHub's parser (cmark-gfm) does, and returns
/// each cell's visible text: a backslash escapes any ASCII punctuation (itself included), only
/// unescaped pipes separate cells, and escapes are then removed.
fn markdown_cells(row: &str) -> Vec<String> {
    let inner = row
        .strip_prefix('|')
        .and_then(|r| r.strip_suffix('|'))
        .unwrap_or_else(|| panic!("not a table row: {row:?}"));
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        let cell = cells.last_mut().expect("a cell");
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => {
                cell.push(chars.next().expect("peeked"));
            }
            '|' => cells.push(String::new()),
            c => cell.push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

#[test]
fn markdown_timeline_has_one_well_formed_row_per_event() {
    let (log, text) = rendered(Format::Markdown);
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "## Timeline")
        .skip(4) // heading, blank line, header row, separator
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), log.events.len());
    for (row, event) in rows.iter().zip(&log.events) {
        let cells = markdown_cells(row);
        assert_eq!(cells.len(), 4, "{row}");
        assert_eq!(cells[1], event.kind.name());
        assert_eq!(cells[2], event.actor);
        assert_eq!(cells[3], event.kind.describe());
    }
    let head = &log.events.last().expect("events").hash;
    assert!(text.contains(&format!("chain head `{head}`")));
    assert!(text.contains("> **Restricted.**"));
}

/// A small RFC 4180 reader: records of fields, quotes doubled inside quoted fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "last record not terminated by CRLF"
    );
    records
}

#[test]
fn csv_reads_back_to_the_timeline() {
    let (log, text) = rendered(Format::Csv);
    let records = parse_csv(&text);
    assert_eq!(
        records[0],
        ["time", "sequence", "event", "actor", "details", "hash"]
    );
    assert_eq!(records.len(), log.events.len() + 1);
    for (record, event) in records[1..].iter().zip(&log.events) {
        assert_eq!(record.len(), 6, "{record:?}");
        assert_eq!(record[0], event.at.to_string());
        assert_eq!(record[1], event.seq.to_string());
        assert_eq!(record[2], event.kind.name());
        assert_eq!(record[3], event.actor);
        assert_eq!(record[4], event.kind.describe());
        assert_eq!(record[5], event.hash);
    }
}

#[test]
fn json_reads_back_to_the_incident_and_events() {
    let (log, text) = rendered(Format::Json);
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let incident: Incident =
        serde_json::from_value(value["incident"].clone()).expect("incident reads back");
    assert_eq!(incident, log.incident);
    let events: Vec<Event> =
        serde_json::from_value(value["events"].clone()).expect("events read back");
    assert_eq!(events, log.events);
}

#[test]
fn awkward_notes_stay_in_their_markdown_cell() {
    let notes = [
        "grep 'a|b' found it",
        r"literal \| in a regex",
        r"two \\| backslashes",
        r"C:\temp\logs",
        r"trailing backslash \",
        "pipe at the end |",
        "| pipe at the start",
        "multi\nline, with \"quotes\"",
    ];
    let mut log = breach();
    for note in notes {
        log.must(
            &Command::Reopen {
                reason: note.into(),
            },
            &CONFIG,
            "2026-11-25T09:00:00Z",
            "li",
        );
        log.must(
            &Command::Resolve {
                summary: note.into(),
            },
            &CONFIG,
            "2026-11-25T09:01:00Z",
            "li",
        );
        log.must(
            &Command::AddNote { text: note.into() },
            &CONFIG,
            "2026-11-25T09:02:00Z",
            "li",
        );
    }
    let text = render(
        Format::Markdown,
        &log.incident,
        &log.events,
        log.incident.updated_at,
    );
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "## Timeline")
        .skip(4)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), log.events.len());
    for (row, event) in rows.iter().zip(&log.events) {
        let cells = markdown_cells(row);
        assert_eq!(cells.len(), 4, "row split into the wrong cells: {row}");
        assert_eq!(cells[3], event.kind.describe().replace('\n', " "), "{row}");
    }
}
