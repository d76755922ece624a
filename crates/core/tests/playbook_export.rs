//! The Markdown export of an incident working through a playbook: done, skipped, overdue and
//! not-yet-due tasks, commands with the incident's values filled in, at a fixed instant.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::{Log, ts};
use warroom_core::config::{SourceFile, load};
use warroom_core::export::{Format, render};
use warroom_core::{Command, Config, Declaration};

const PLAYBOOK: &str = "\
playbooks:
  - id: credential-compromise
    title: Credential compromise
    description: A password, token or key is in the wrong hands.
    triggers:
      types: [security-breach]
      severity: P0..P1
    params:
      - name: ip_address
        description: Address the attacker used
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: revoke
            text: Revoke the leaked token
            owner: security-lead
            commands:
              - 'vault token revoke --incident {{incident_id}}'
          - id: block-ip
            text: Block the attacker's address at the edge
            owner: operations-lead
            commands:
              - 'edge block {{ip_address}} --service {{service}} --reason \"{{incident_id}}\"'
          - id: sessions
            text: Kill every session of the affected accounts
            owner: technical-lead
      - id: eradicate
        title: Eradicate
        time_box: 15m-1h
        tasks:
          - id: audit
            text: Audit what the token reached
            owner: security-lead
            commands:
              - 'audit-log search --since {{declared_at}} --region {{label.region}}'
      - id: review
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: postmortem
            text: Write the postmortem
            owner: incident-commander
";

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    load(&[SourceFile::new("playbook.yaml", PLAYBOOK)])
        .unwrap_or_else(|err| panic!("test config: {err}"))
});

/// Declared at 09:00 (the playbook attaches by its triggers); by 09:40 one contain task is done,
/// one skipped, one still open past its 09:15 deadline.
fn incident() -> Log {
    let decl = Declaration {
        title: "Deploy token leaked in a public build log".into(),
        incident_type: Some("security-breach".into()),
        severity: "P1".into(),
        services: vec!["auth".into()],
        labels: BTreeMap::from([("region".into(), "eu".into())]),
        ..Declaration::default()
    };
    let mut log = Log::declare_all(&decl, &CONFIG, ts("2026-05-04T09:00:00Z"), "maria")
        .expect("valid declaration");
    let steps = [
        ("2026-05-04T09:02:00Z", "tomas", Command::Acknowledge),
        (
            "2026-05-04T09:03:00Z",
            "tomas",
            Command::AssignRole {
                role: "security-lead".into(),
                person: "priya".into(),
            },
        ),
        (
            "2026-05-04T09:09:00Z",
            "priya",
            Command::CompleteTask {
                playbook: "credential-compromise".into(),
                task: "revoke".into(),
            },
        ),
        (
            "2026-05-04T09:12:00Z",
            "tomas",
            Command::SkipTask {
                playbook: "credential-compromise".into(),
                task: "block-ip".into(),
                reason: "the token was used from a cloud provider's shared range".into(),
            },
        ),
    ];
    for (at, actor, cmd) in &steps {
        log.must(cmd, &CONFIG, at, actor);
    }
    log
}

#[test]
fn markdown_export_with_a_checklist() {
    let log = incident();
    let text = render(
        Format::Markdown,
        &log.incident,
        &log.events,
        ts("2026-05-04T09:40:00Z"),
    );
    assert!(
        text.contains("2 of 5 tasks done or skipped; 1 overdue."),
        "{text}"
    );
    insta::assert_snapshot!("markdown_with_checklist", text);
}

#[test]
fn overdue_marks_follow_the_instant_given() {
    let log = incident();
    let md = |now: &str| render(Format::Markdown, &log.incident, &log.events, ts(now));
    let early = md("2026-05-04T09:14:00Z");
    assert!(early.contains("; 0 overdue."), "{early}");
    assert!(!early.contains("**OVERDUE**"));
    let late = md("2026-05-04T10:00:01Z");
    assert!(late.contains("; 2 overdue."), "{late}");
    assert_eq!(late.matches("**OVERDUE**").count(), 2);
    // The JSON export carries the same checklist.
    let json: serde_json::Value = serde_json::from_str(&render(
        Format::Json,
        &log.incident,
        &log.events,
        ts("2026-05-04T10:00:01Z"),
    ))
    .expect("JSON");
    let overdue: Vec<&str> = json["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["overdue"] == true)
        .filter_map(|t| t["task"].as_str())
        .collect();
    assert_eq!(overdue, ["sessions", "audit"]);
}

#[test]
fn an_incident_without_playbooks_has_no_checklist_section() {
    let decl = Declaration {
        title: "Search is slow".into(),
        severity: "P3".into(),
        ..Declaration::default()
    };
    let log = Log::declare_all(&decl, &CONFIG, ts("2026-05-04T09:00:00Z"), "maria")
        .expect("valid declaration");
    assert!(log.incident.playbooks.is_empty());
    let text = render(
        Format::Markdown,
        &log.incident,
        &log.events,
        ts("2026-05-04T09:00:00Z"),
    );
    assert!(!text.contains("## Playbooks"), "{text}");
}
