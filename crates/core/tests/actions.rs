//! Action items: creation and updates through commands, validation naming the field, the due
//! instant in the owner's time zone, the due reminder timer and who it notifies.

mod common;

use common::{Log, ts};
use warroom_core::action::{ActionPatch, ActionStatus, NewAction, Priority};
use warroom_core::command::{Command, DomainError};
use warroom_core::outbox::{Channel, notifications};
use warroom_core::timer::{TimerKind, desired_timers, fire};
use warroom_core::{Config, Declaration, EventKind, Status};

fn log() -> Log {
    let decl = Declaration {
        title: "Checkout errors".into(),
        severity: "P2".into(),
        ..Declaration::default()
    };
    Log::declare(&decl, &Config::builtin(), ts("2026-11-22T10:00:00Z"), "bob").expect("declared")
}

fn add(owner: &str, due: &str) -> Command {
    Command::AddAction(NewAction {
        title: "Alert on queue depth".into(),
        owner: owner.into(),
        due: due.parse().expect("date"),
        priority: None,
        ticket: Some("https://tracker.example/OPS-1".into()),
    })
}

fn field_of(err: DomainError) -> String {
    match err {
        DomainError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn an_item_is_due_at_the_end_of_its_date_in_the_owners_time_zone() {
    let config = Config::builtin();
    let mut log = log();
    log.run(
        &add("alice", "2026-11-30"),
        &config,
        ts("2026-11-22T11:00:00Z"),
        "bob",
    )
    .expect("added");
    let item = &log.incident.actions[0];
    assert_eq!(item.id, "A1");
    assert_eq!(item.owner, "alice");
    assert_eq!(item.priority, Priority::P3, "the default");
    assert_eq!(item.status, ActionStatus::Open);
    // Alice lives in Europe/Berlin (UTC+1 in winter): 1 December 00:00 local.
    assert_eq!(item.due_at, ts("2026-11-30T23:00:00Z"));
    assert!(!item.is_overdue(ts("2026-11-30T22:59:59Z")));
    assert!(item.is_overdue(ts("2026-11-30T23:00:00Z")));

    log.run(
        &add("bob", "2026-11-30"),
        &config,
        ts("2026-11-22T11:00:00Z"),
        "bob",
    )
    .expect("added");
    assert_eq!(log.incident.actions[1].id, "A2");
    // Bob is in Europe/London: midnight UTC in winter.
    assert_eq!(log.incident.actions[1].due_at, ts("2026-12-01T00:00:00Z"));
}

#[test]
fn bad_input_names_the_field() {
    let config = Config::builtin();
    let mut log = log();
    let at = ts("2026-11-22T11:00:00Z");
    assert_eq!(
        field_of(
            log.run(&add("mallory", "2026-11-30"), &config, at, "bob")
                .expect_err("unknown")
        ),
        "owner"
    );
    let mut bad = NewAction {
        title: " ".into(),
        owner: "alice".into(),
        due: "2026-11-30".parse().expect("date"),
        priority: Some(Priority::P1),
        ticket: None,
    };
    assert_eq!(
        field_of(
            log.run(&Command::AddAction(bad.clone()), &config, at, "bob")
                .expect_err("empty")
        ),
        "title"
    );
    bad.title = "ok".into();
    bad.ticket = Some("javascript:alert(1)".into());
    assert_eq!(
        field_of(
            log.run(&Command::AddAction(bad), &config, at, "bob")
                .expect_err("scheme")
        ),
        "ticket"
    );
    let update = Command::UpdateAction {
        action: "A9".into(),
        patch: ActionPatch {
            status: Some(ActionStatus::Done),
            ..ActionPatch::default()
        },
    };
    assert_eq!(
        field_of(
            log.run(&update, &config, at, "bob")
                .expect_err("no such item")
        ),
        "action"
    );
    assert!(log.incident.actions.is_empty());
}

#[test]
fn updates_record_only_what_changed_and_work_after_close() {
    let config = Config::builtin();
    let mut log = log();
    let at = ts("2026-11-22T11:00:00Z");
    log.run(&add("alice", "2026-11-30"), &config, at, "bob")
        .expect("added");
    log.run(
        &Command::Resolve {
            summary: "rolled back".into(),
        },
        &config,
        at,
        "bob",
    )
    .expect("resolved");
    log.run(&Command::Close, &config, at, "bob")
        .expect("closed");
    assert_eq!(log.incident.status, Status::Closed);

    // Changing the owner moves the due instant to the new owner's zone.
    let patch = ActionPatch {
        owner: Some("bob".into()),
        status: Some(ActionStatus::InProgress),
        priority: Some(Priority::P3),
        ..ActionPatch::default()
    };
    log.run(
        &Command::UpdateAction {
            action: "a1".into(),
            patch,
        },
        &config,
        ts("2026-11-23T09:00:00Z"),
        "alice",
    )
    .expect("updated after close");
    match &log.events.last().expect("event").kind {
        EventKind::ActionItemUpdated {
            action,
            owner,
            due_at,
            status,
            priority,
            due,
            ..
        } => {
            assert_eq!(action, "A1");
            assert_eq!(owner.as_deref(), Some("bob"));
            assert_eq!(*due_at, Some(ts("2026-12-01T00:00:00Z")));
            assert_eq!(*status, Some(ActionStatus::InProgress));
            assert_eq!(*priority, None, "unchanged fields are left out");
            assert_eq!(*due, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    let item = &log.incident.actions[0];
    assert_eq!(
        (item.owner.as_str(), item.status),
        ("bob", ActionStatus::InProgress)
    );
    assert_eq!(item.updated_at, ts("2026-11-23T09:00:00Z"));

    let same = ActionPatch {
        status: Some(ActionStatus::InProgress),
        ..ActionPatch::default()
    };
    assert!(matches!(
        log.run(
            &Command::UpdateAction {
                action: "A1".into(),
                patch: same
            },
            &config,
            at,
            "bob"
        ),
        Err(DomainError::Conflict(_))
    ));
    let clear = ActionPatch {
        ticket: Some(String::new()),
        ..ActionPatch::default()
    };
    log.run(
        &Command::UpdateAction {
            action: "A1".into(),
            patch: clear,
        },
        &config,
        at,
        "bob",
    )
    .expect("cleared");
    assert_eq!(log.incident.actions[0].ticket, None);
}

#[test]
fn a_due_item_reminds_its_owner_once_and_a_done_one_never() {
    let config = Config::builtin();
    let mut log = log();
    log.run(
        &add("alice", "2026-11-30"),
        &config,
        ts("2026-11-22T11:00:00Z"),
        "bob",
    )
    .expect("added");
    log.run(
        &add("bob", "2026-12-05"),
        &config,
        ts("2026-11-22T11:00:00Z"),
        "bob",
    )
    .expect("added");
    let done = ActionPatch {
        status: Some(ActionStatus::Done),
        ..ActionPatch::default()
    };
    log.run(
        &Command::UpdateAction {
            action: "A2".into(),
            patch: done,
        },
        &config,
        ts("2026-11-22T12:00:00Z"),
        "bob",
    )
    .expect("done");

    let timers: Vec<_> = desired_timers(&log.incident, &config)
        .into_iter()
        .filter(|t| matches!(t.kind, TimerKind::ActionDue { .. }))
        .collect();
    assert_eq!(timers.len(), 1, "only the open item: {timers:?}");
    let timer = &timers[0];
    assert_eq!(timer.due_at, ts("2026-11-30T23:00:00Z"));
    assert!(
        fire(
            timer,
            &log.incident,
            &config,
            &[],
            ts("2026-11-30T22:59:00Z")
        )
        .is_empty(),
        "not yet due"
    );
    let kinds = fire(
        timer,
        &log.incident,
        &config,
        &[],
        ts("2026-11-30T23:00:00Z"),
    );
    assert_eq!(
        kinds,
        [EventKind::ActionItemDue {
            action: "A1".into(),
            owner: "alice".into(),
            due_at: ts("2026-11-30T23:00:00Z"),
        }]
    );
    let fallback = [Channel::Email {
        to: "oncall@example.com".into(),
    }];
    let messages = notifications(&timer.key, &config, &log.incident, &kinds, &fallback);
    assert!(!messages.is_empty());
    // Alice's own contact method, not the fallback channel.
    assert!(
        messages.iter().all(|m| m.channel != fallback[0]),
        "{messages:?}"
    );
    assert!(messages[0].subject.contains("A1"));

    // Once done, the reminder is stale.
    let done = ActionPatch {
        status: Some(ActionStatus::Done),
        ..ActionPatch::default()
    };
    log.run(
        &Command::UpdateAction {
            action: "A1".into(),
            patch: done,
        },
        &config,
        ts("2026-11-29T12:00:00Z"),
        "alice",
    )
    .expect("done");
    assert!(
        fire(
            timer,
            &log.incident,
            &config,
            &[],
            ts("2026-11-30T23:00:00Z")
        )
        .is_empty()
    );
}

#[test]
fn action_events_round_trip_through_their_stored_form() {
    let config = Config::builtin();
    let mut log = log();
    log.run(
        &add("alice", "2026-11-30"),
        &config,
        ts("2026-11-22T11:00:00Z"),
        "bob",
    )
    .expect("added");
    for e in &log.events {
        let (name, data) = e.kind.to_parts();
        assert_eq!(EventKind::from_parts(name, data).expect("parses"), e.kind);
    }
    // A stored incident from before action items existed still parses.
    let mut json = serde_json::to_value(&log.incident).expect("json");
    json.as_object_mut().expect("object").remove("actions");
    let old: warroom_core::Incident = serde_json::from_value(json).expect("parses");
    assert!(old.actions.is_empty());
}

mod props {
    use jiff::civil::Date;
    use proptest::prelude::*;
    use warroom_core::Config;
    use warroom_core::action::due_instant;

    proptest! {
        // Zone conversions are slow in debug builds; 64 dates over 55 years are plenty.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The due instant is the first moment of the next day where the owner lives: the
        /// owner's whole due date is still before it.
        #[test]
        fn due_instant_ends_the_owners_due_date(days in 0i32..20_000, who in 0usize..8) {
            let config = Config::builtin();
            let person = &config.people[who % config.people.len()];
            let due = Date::constant(2000, 1, 1)
                .checked_add(jiff::Span::new().days(days))
                .expect("in range");
            let at = due_instant(&config, &person.id, due).expect("in range");
            let tz = person.time_zone.tz().clone();
            prop_assert_eq!(at.to_zoned_datetime(tz.clone()).date(), due.tomorrow().expect("in range"));
            let before = at.checked_sub(jiff::SignedDuration::from_micros(1)).expect("in range");
            prop_assert_eq!(before.to_zoned_datetime(tz).date(), due);
        }
    }
}
