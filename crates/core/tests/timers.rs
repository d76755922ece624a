//! The timers an incident needs and what they record when they fire, against the built-in
//! config and an injected clock: the "next business day" acknowledgement target, status-update
//! reminders on the severity's cadence, the post-incident review after resolution, and delayed
//! notification rules.

mod common;

use common::{Log, ts};
use warroom_core::command::Command;
use warroom_core::config::{SourceFile, load};
use warroom_core::outbox::{Channel, notifications, page_messages};
use warroom_core::timer::{TimerKind, TimerSpec, desired_timers, fire};
use warroom_core::{Config, Declaration, EventKind, Incident};

fn declare(severity: &str, at: &str) -> Log {
    let decl = Declaration {
        title: "Checkout errors".into(),
        severity: severity.into(),
        ..Declaration::default()
    };
    Log::declare_all(&decl, &Config::builtin(), ts(at), "alice").expect("declared")
}

fn timers_of(inc: &Incident, config: &Config, pick: fn(&TimerKind) -> bool) -> Vec<TimerSpec> {
    desired_timers(inc, config)
        .into_iter()
        .filter(|t| pick(&t.kind))
        .collect()
}

fn is_ack(k: &TimerKind) -> bool {
    matches!(k, TimerKind::AcknowledgeDeadline { .. })
}
fn is_update(k: &TimerKind) -> bool {
    matches!(k, TimerKind::UpdateReminder)
}
fn is_review(k: &TimerKind) -> bool {
    matches!(k, TimerKind::ReviewReminder)
}

/// Fires `timer` at `now` and appends what it records.
fn fire_into(log: &mut Log, config: &Config, timer: &TimerSpec, now: &str) -> Vec<EventKind> {
    let kinds = fire(timer, &log.incident, config, &[], ts(now));
    for k in &kinds {
        log.append(k.clone(), ts(now), "warroom");
    }
    kinds
}

#[test]
fn next_business_day_acknowledgement_is_timed_on_the_working_calendar() {
    let config = Config::builtin();
    // Friday evening (UTC calendar by default): due Monday 09:00.
    let mut log = declare("P3", "2026-11-27T18:00:00Z");
    let ack = timers_of(&log.incident, &config, is_ack);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].due_at, ts("2026-11-30T09:00:00Z"));
    assert!(fire_into(&mut log, &config, &ack[0], "2026-11-30T08:59:59Z").is_empty());
    let recorded = fire_into(&mut log, &config, &ack[0], "2026-11-30T09:00:00Z");
    assert!(matches!(
        recorded.first(),
        Some(EventKind::AcknowledgeTargetMissed { target, .. }) if target == "next business day"
    ));

    // A team in Berlin with a holiday on Monday: Tuesday 09:00 Berlin.
    let calendar = "business_hours:\n  time_zone: Europe/Berlin\n  holidays: [2026-11-30]\n";
    let config = load(&[SourceFile::new("calendar.yaml", calendar)]).expect("config");
    let log = declare("P3", "2026-11-27T18:00:00Z");
    let ack = timers_of(&log.incident, &config, is_ack);
    assert_eq!(ack[0].due_at, ts("2026-12-01T08:00:00Z"));
}

#[test]
fn business_hours_errors_point_at_the_field() {
    let bad = "business_hours:\n  time_zone: Mars/Olympus\n  days: [mon, funday]\n  start: \"18:00\"\n  end: \"09:00\"\n  holidays: [2026-13-01]\n";
    let err = load(&[SourceFile::new("calendar.yaml", bad)])
        .expect_err("invalid")
        .to_string();
    for want in [
        "calendar.yaml:2:3: unknown time zone \"Mars/Olympus\"",
        "calendar.yaml:3:3: unknown day \"funday\"",
        "calendar.yaml:6:3: invalid date \"2026-13-01\"",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let backwards = "business_hours:\n  time_zone: UTC\n  start: \"18:00\"\n  end: \"09:00\"\n";
    let err = load(&[SourceFile::new("c.yaml", backwards)])
        .expect_err("end before start")
        .to_string();
    assert!(
        err.contains("c.yaml:4:3: `end` (09:00) must be after `start` (18:00)"),
        "{err}"
    );
}

#[test]
fn status_updates_are_due_on_the_cadence_and_reminded_until_posted() {
    let config = Config::builtin();
    // P1 asks for an update every 30 minutes.
    let mut log = declare("P1", "2026-11-25T10:00:00Z");
    let first = timers_of(&log.incident, &config, is_update);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].due_at, ts("2026-11-25T10:30:00Z"));

    // An internal update at 10:20 moves the due time; the old timer fires as a no-op.
    log.must(
        &Command::PostUpdate {
            audience: "internal".into(),
            text: "Rolling back the 09:55 deploy".into(),
        },
        &config,
        "2026-11-25T10:20:00Z",
        "alice",
    );
    assert!(fire_into(&mut log, &config, &first[0], "2026-11-25T10:30:00Z").is_empty());
    // A customer update does not count for the internal cadence.
    log.must(
        &Command::PostUpdate {
            audience: "customers".into(),
            text: "We are investigating errors at checkout".into(),
        },
        &config,
        "2026-11-25T10:25:00Z",
        "alice",
    );
    let second = timers_of(&log.incident, &config, is_update);
    assert_eq!(second[0].due_at, ts("2026-11-25T10:50:00Z"));
    let recorded = fire_into(&mut log, &config, &second[0], "2026-11-25T10:50:00Z");
    assert_eq!(
        recorded,
        [EventKind::UpdateDue {
            due_at: ts("2026-11-25T10:50:00Z"),
            cadence: "30m".into()
        }]
    );
    assert_eq!(
        log.incident.update_reminded_at,
        Some(ts("2026-11-25T10:50:00Z"))
    );
    // Still nothing posted: the next reminder is one cadence later, and firing the same timer
    // again records nothing.
    assert!(fire_into(&mut log, &config, &second[0], "2026-11-25T10:51:00Z").is_empty());
    let third = timers_of(&log.incident, &config, is_update);
    assert_eq!(third[0].due_at, ts("2026-11-25T11:20:00Z"));
    log.must(
        &Command::PostUpdate {
            audience: "internal".into(),
            text: "Rollback done, error rate falling".into(),
        },
        &config,
        "2026-11-25T11:00:00Z",
        "alice",
    );
    assert_eq!(log.incident.update_reminded_at, None);
    assert_eq!(
        timers_of(&log.incident, &config, is_update)[0].due_at,
        ts("2026-11-25T11:30:00Z")
    );
    // Resolved incidents owe no more updates.
    log.must(
        &Command::Resolve {
            summary: "Rolled back".into(),
        },
        &config,
        "2026-11-25T11:10:00Z",
        "alice",
    );
    assert!(timers_of(&log.incident, &config, is_update).is_empty());
}

#[test]
fn reminders_go_to_the_communications_lead_or_else_the_notify_channels() {
    let config = Config::builtin();
    let mut log = declare("P1", "2026-11-25T10:00:00Z");
    let due = EventKind::UpdateDue {
        due_at: ts("2026-11-25T10:30:00Z"),
        cadence: "30m".into(),
    };
    let fallback = Channel::Email {
        to: "incidents@example.com".into(),
    };
    let to = |log: &Log| -> Vec<String> {
        notifications(
            "update:x",
            &config,
            &log.incident,
            std::slice::from_ref(&due),
            std::slice::from_ref(&fallback),
        )
        .into_iter()
        .map(|m| m.channel.destination())
        .collect()
    };
    assert_eq!(to(&log), ["incidents@example.com"]);
    // The commander is a configured person (the example's bob): reminded on his webhook.
    log.must(
        &Command::AssignRole {
            role: "incident-commander".into(),
            person: "bob".into(),
        },
        &config,
        "2026-11-25T10:01:00Z",
        "alice",
    );
    assert_eq!(to(&log), ["http://127.0.0.1:9099/hook"]);
    // Someone outside the config as communications lead: the commander still gets it.
    log.must(
        &Command::AssignRole {
            role: "communications-lead".into(),
            person: "dana-pr".into(),
        },
        &config,
        "2026-11-25T10:02:00Z",
        "alice",
    );
    assert_eq!(to(&log), ["http://127.0.0.1:9099/hook"]);
}

#[test]
fn the_review_is_due_two_days_after_resolution_unless_closed() {
    let config = Config::builtin();
    let mut log = declare("P2", "2026-11-25T10:00:00Z");
    assert!(timers_of(&log.incident, &config, is_review).is_empty());
    log.must(
        &Command::Resolve {
            summary: "Cache flushed".into(),
        },
        &config,
        "2026-11-25T12:00:00Z",
        "alice",
    );
    let review = timers_of(&log.incident, &config, is_review);
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].due_at, ts("2026-11-27T12:00:00Z"));
    assert_eq!(
        fire_into(&mut log, &config, &review[0], "2026-11-27T12:00:00Z"),
        [EventKind::ReviewDue {
            due_at: ts("2026-11-27T12:00:00Z")
        }]
    );
    // Closing (the review is done) removes the need; a reopened incident owes none until
    // it is resolved again, with a new due time.
    let mut closed = declare("P2", "2026-11-25T10:00:00Z");
    closed.must(
        &Command::Resolve {
            summary: "Cache flushed".into(),
        },
        &config,
        "2026-11-25T12:00:00Z",
        "alice",
    );
    closed.must(&Command::Close, &config, "2026-11-26T09:00:00Z", "alice");
    assert!(fire_into(&mut closed, &config, &review[0], "2026-11-27T12:00:00Z").is_empty());
    assert!(timers_of(&closed.incident, &config, is_review).is_empty());
}

#[test]
fn delayed_notification_rules_follow_the_current_step_until_acknowledged() {
    let people = r#"
people:
  - id: erin
    name: Erin
    time_zone: UTC
    contact_methods:
      - id: mail
        type: email
        address: erin@example.com
      - id: hook
        type: webhook
        address: https://hooks.example.com/erin
      - id: phone
        type: phone
        address: "+1 555 0102"
    notification_rules:
      - contact_method: hook
        after_minutes: 0
      - contact_method: mail
        after_minutes: 3
      - contact_method: phone
        after_minutes: 1
teams: []
schedules: []
escalation_policies:
  - id: default
    name: Erin only
    steps:
      - targets: [{ person: erin }]
        escalate_after: 10m
    repeat: 1
"#;
    let config = load(&[SourceFile::new("erin.yaml", people)]).expect("config");
    let decl = Declaration {
        title: "API down".into(),
        severity: "P0".into(),
        ..Declaration::default()
    };
    let mut log = Log::declare_all(&decl, &config, ts("2026-11-25T03:00:00Z"), "alertmanager")
        .expect("declared");
    // Paging is decided by the store at declaration; do what it does.
    let declared = log.events[0].kind.clone();
    let paged = warroom_core::command::page_for_declaration(
        &declared,
        &config,
        &[],
        ts("2026-11-25T03:00:00Z"),
    )
    .expect("a P0 pages");
    log.append(paged, ts("2026-11-25T03:00:00Z"), "warroom");
    let rules: Vec<TimerSpec> = timers_of(&log.incident, &config, |k| {
        matches!(k, TimerKind::NotificationRule { .. })
    });
    // The phone rule is display-only and the immediate rule went with the page.
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].due_at, ts("2026-11-25T03:03:00Z"));
    let recorded = fire_into(&mut log, &config, &rules[0], "2026-11-25T03:03:00Z");
    assert_eq!(
        recorded,
        [EventKind::PageRepeated {
            person: "erin".into(),
            contact_method: "mail".into(),
            after_minutes: 3,
            step: 0
        }]
    );
    let sent = page_messages(&config, &log.incident, &log.events[log.events.len() - 1..]);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].channel.destination(), "erin@example.com");
    assert!(
        sent[0].subject.contains("still unacknowledged"),
        "{}",
        sent[0].subject
    );

    // The next pass pages her again: a new follow-up for the new step; acknowledging ends it.
    let step = timers_of(&log.incident, &config, |k| {
        matches!(k, TimerKind::EscalationStep { .. })
    });
    fire_into(&mut log, &config, &step[0], "2026-11-25T03:10:00Z");
    let rules = timers_of(&log.incident, &config, |k| {
        matches!(k, TimerKind::NotificationRule { .. })
    });
    assert_eq!(rules[0].due_at, ts("2026-11-25T03:13:00Z"));
    log.must(
        &Command::Acknowledge,
        &config,
        "2026-11-25T03:11:00Z",
        "erin",
    );
    assert!(fire_into(&mut log, &config, &rules[0], "2026-11-25T03:13:00Z").is_empty());
}
