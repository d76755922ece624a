//! The post-incident review: generated from the timeline with the written sections and key
//! moments (snapshot), frozen versions with their hash, and the review reminder that stops once
//! a review is published.

mod common;

use common::{Log, ts};
use warroom_core::command::{Command, IncidentPatch};
use warroom_core::lifecycle::Status;
use warroom_core::postmortem::{self, digest, review_due};
use warroom_core::timer::{TimerKind, desired_timers};
use warroom_core::{Config, Declaration, EventKind};

fn outage(config: &Config) -> Log {
    let decl = Declaration {
        title: "Checkout errors after payment gateway deploy".into(),
        severity: "P1".into(),
        incident_type: Some("outage".into()),
        services: vec!["payments".into()],
        ..Declaration::default()
    };
    let mut log =
        Log::declare_all(&decl, config, ts("2026-11-24T14:02:00Z"), "bob").expect("declared");
    let steps: Vec<(Command, &str, &str)> = vec![
        (Command::Acknowledge, "2026-11-24T14:06:00Z", "bob"),
        (
            Command::AssignRole {
                role: "incident-commander".into(),
                person: "bob".into(),
            },
            "2026-11-24T14:07:00Z",
            "bob",
        ),
        (
            Command::AddNote {
                text: "Error rate | 38% on /checkout since the 14:00 deploy".into(),
            },
            "2026-11-24T14:10:00Z",
            "bob",
        ),
        (
            Command::AddNote {
                text: "Coffee ordered".into(),
            },
            "2026-11-24T14:11:00Z",
            "carol",
        ),
        (
            Command::ChangeStatus {
                status: Status::Recovering,
                reason: Some("rolled back".into()),
            },
            "2026-11-24T14:25:00Z",
            "bob",
        ),
        (
            Command::Update(IncidentPatch {
                root_cause: Some(
                    "The new gateway client dropped idempotency keys on retry.".into(),
                ),
                ..IncidentPatch::default()
            }),
            "2026-11-24T15:00:00Z",
            "bob",
        ),
        (
            Command::Resolve {
                summary: "Rolled back to the previous gateway client".into(),
            },
            "2026-11-24T15:10:00Z",
            "bob",
        ),
    ];
    for (cmd, at, actor) in steps {
        log.must(&cmd, config, at, actor);
    }
    log
}

fn note_seq(log: &Log, starts: &str) -> u64 {
    log.events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::NoteAdded { text } if text.starts_with(starts)))
        .map(|e| e.seq)
        .expect("note")
}

#[test]
fn the_review_is_written_from_the_timeline_and_its_sections() {
    let config = Config::builtin();
    let mut log = outage(&config);
    let error_note = note_seq(&log, "Error rate");
    for (section, text) in [
        (
            "summary",
            "Checkout failed for 38% of attempts for 23 minutes after a deploy.",
        ),
        (
            "what-went-well",
            "- The alert fired within two minutes.\n- Rollback took four minutes.",
        ),
        ("what-went-wrong", "- The canary did not exercise retries."),
        (
            "lessons-learned",
            "Retries are part of the contract; test them.",
        ),
    ] {
        log.must(
            &Command::SetPostmortemSection {
                section: section.into(),
                text: text.into(),
            },
            &config,
            "2026-11-25T10:00:00Z",
            "bob",
        );
    }
    log.must(
        &Command::AddAction(warroom_core::action::NewAction {
            title: "Exercise retries in the canary".into(),
            owner: "alice".into(),
            due: "2026-12-04".parse().expect("date"),
            priority: None,
            ticket: Some("https://tracker.example.com/PAY-231".into()),
        }),
        &config,
        "2026-11-25T10:00:30Z",
        "bob",
    );
    log.must(
        &Command::MarkKeyMoment {
            seq: error_note,
            marked: true,
        },
        &config,
        "2026-11-25T10:01:00Z",
        "bob",
    );
    let draft = postmortem::render(
        &log.incident,
        &log.events,
        &config,
        ts("2026-11-25T10:05:00Z"),
    )
    .expect("renders");
    insta::assert_snapshot!("outage_review", draft.body);
    assert!(
        draft.body.contains("38% on /checkout"),
        "a key moment is in the timeline"
    );
    assert!(!draft.body.contains("Coffee"), "an unmarked note is not");
    // Unknown sections and other events are refused by name.
    let err = log
        .run(
            &Command::SetPostmortemSection {
                section: "verdict".into(),
                text: "x".into(),
            },
            &config,
            ts("2026-11-25T10:06:00Z"),
            "bob",
        )
        .expect_err("unknown section");
    assert!(err.to_string().starts_with("section:"), "{err}");
}

#[test]
fn publishing_freezes_a_version_and_ends_the_review_reminder() {
    let config = Config::builtin();
    let mut log = outage(&config);
    let review = |log: &Log| {
        desired_timers(&log.incident, &config)
            .into_iter()
            .filter(|t| matches!(t.kind, TimerKind::ReviewReminder))
            .count()
    };
    assert_eq!(review(&log), 1);
    assert_eq!(review_due(&log.incident), Some(ts("2026-11-26T15:10:00Z")));
    let now = ts("2026-11-27T09:00:00Z");
    let draft = postmortem::render(&log.incident, &log.events, &config, now).expect("renders");
    assert!(draft.body.contains("(OVERDUE)"), "{}", draft.body);
    log.must(
        &Command::PublishPostmortem {
            markdown: draft.body.clone(),
        },
        &config,
        "2026-11-27T09:00:00Z",
        "bob",
    );
    let published = log.incident.postmortems.last().expect("published").clone();
    assert_eq!(
        (published.version, published.sha256.clone()),
        (1, digest(&draft.body))
    );
    assert_eq!(published.sha256.len(), 64);
    assert_eq!(review(&log), 0);
    assert_eq!(review_due(&log.incident), None);
    // The next version numbers on; the frozen text stays in its event.
    log.must(
        &Command::SetPostmortemSection {
            section: "summary".into(),
            text: "Revised.".into(),
        },
        &config,
        "2026-11-27T10:00:00Z",
        "bob",
    );
    let again = postmortem::render(&log.incident, &log.events, &config, now).expect("renders");
    assert_ne!(again.body, draft.body);
    log.must(
        &Command::PublishPostmortem {
            markdown: again.body.clone(),
        },
        &config,
        "2026-11-27T10:01:00Z",
        "bob",
    );
    let versions: Vec<u32> = log.incident.postmortems.iter().map(|p| p.version).collect();
    assert_eq!(versions, [1, 2]);
    let frozen = log.events.iter().find_map(|e| match &e.kind {
        EventKind::PostmortemPublished {
            version: 1,
            markdown,
            ..
        } => Some(markdown.clone()),
        _ => None,
    });
    assert_eq!(frozen.as_deref(), Some(draft.body.as_str()));
    // Reopening and resolving again makes a review due again.
    log.must(
        &Command::Reopen {
            reason: "errors are back".into(),
        },
        &config,
        "2026-11-28T08:00:00Z",
        "bob",
    );
    log.must(
        &Command::Resolve {
            summary: "Fixed the client".into(),
        },
        &config,
        "2026-11-28T09:00:00Z",
        "bob",
    );
    assert_eq!(review_due(&log.incident), Some(ts("2026-11-30T09:00:00Z")));
}

#[test]
fn an_open_incident_cannot_be_published() {
    let config = Config::builtin();
    let decl = Declaration {
        title: "Slow search".into(),
        severity: "P3".into(),
        ..Declaration::default()
    };
    let mut log =
        Log::declare_all(&decl, &config, ts("2026-11-24T14:02:00Z"), "bob").expect("declared");
    let err = log
        .run(
            &Command::PublishPostmortem {
                markdown: "# Review".into(),
            },
            &config,
            ts("2026-11-24T15:00:00Z"),
            "bob",
        )
        .expect_err("open");
    assert!(err.to_string().contains("resolved"), "{err}");
}
