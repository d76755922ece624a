//! Communications against the built-in config: every built-in template rendered for a
//! realistic incident (snapshots), sending and the clocks it meets, and the notification
//! deadlines with an injected clock across weekends, holidays, time zones and DST.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::{Log, ts};
use jiff::Timestamp;
use proptest::prelude::*;
use warroom_core::calendar::BusinessCalendar;
use warroom_core::command::{Command, IncidentPatch, OutgoingDraft};
use warroom_core::comms::deadline::{DeadlineState, Within, deadlines};
use warroom_core::comms::{Deadline, context};
use warroom_core::config::{SourceFile, load};
use warroom_core::lifecycle::Status;
use warroom_core::outbox::{message_sends, notifications};
use warroom_core::timer::{TimerKind, desired_timers, fire};
use warroom_core::{Config, Declaration, EventKind, Impact};

/// A credential-stuffing breach of EU customers' data, worked for an hour and a half.
fn breach(config: &Config) -> Log {
    let decl = Declaration {
        title: "Credential stuffing against customer logins".into(),
        severity: "P1".into(),
        incident_type: Some("security-breach".into()),
        services: vec!["auth".into()],
        labels: BTreeMap::from([
            ("personal-data".into(), "yes".into()),
            ("jurisdiction".into(), "EU".into()),
        ]),
        description: Some("Failed logins at 40x baseline from a rotating set of addresses.".into()),
        ..Declaration::default()
    };
    let mut log =
        Log::declare_all(&decl, config, ts("2026-11-20T09:12:00Z"), "alice").expect("declared");
    let steps: Vec<(Command, &str, &str)> = vec![
        (Command::Acknowledge, "2026-11-20T09:14:00Z", "alice"),
        (
            Command::AssignRole {
                role: "incident-commander".into(),
                person: "alice".into(),
            },
            "2026-11-20T09:15:00Z",
            "alice",
        ),
        (
            Command::AssignRole {
                role: "communications-lead".into(),
                person: "carol".into(),
            },
            "2026-11-20T09:16:00Z",
            "alice",
        ),
        (
            Command::ChangeSeverity {
                severity: "P0".into(),
                reason: Some("account takeovers confirmed".into()),
            },
            "2026-11-20T09:40:00Z",
            "alice",
        ),
        (
            Command::Update(IncidentPatch {
                impact: Some(Impact {
                    users_affected: Some(1200),
                    data_affected: Some("names, email addresses and order history".into()),
                    ..Impact::default()
                }),
                ..IncidentPatch::default()
            }),
            "2026-11-20T09:50:00Z",
            "alice",
        ),
        (
            Command::ChangeStatus {
                status: Status::Contained,
                reason: Some("rate limits and address blocks hold".into()),
            },
            "2026-11-20T10:05:00Z",
            "alice",
        ),
        (
            Command::AddNote {
                text: "INTERNAL ONLY: attacker list in the evidence vault".into(),
            },
            "2026-11-20T10:10:00Z",
            "sam",
        ),
    ];
    for (cmd, at, actor) in steps {
        log.must(&cmd, config, at, actor);
    }
    log
}

fn render_all(log: &Log, config: &Config, now: &str) -> BTreeMap<String, String> {
    let ctx = context::build(&log.incident, &log.events, config, ts(now));
    config
        .message_templates
        .iter()
        .map(|t| {
            let d = t
                .render(&ctx)
                .unwrap_or_else(|e| panic!("built-in template fails: {e}"));
            (
                t.id.clone(),
                format!("Subject: {}\n\n{}", d.subject, d.body),
            )
        })
        .collect()
}

#[test]
fn every_built_in_template_renders_for_an_open_breach() {
    let config = Config::builtin();
    let log = breach(&config);
    let drafts = render_all(&log, &config, "2026-11-20T10:30:00Z");
    assert_eq!(drafts.len(), 11, "{:?}", drafts.keys());
    for (id, text) in &drafts {
        insta::assert_snapshot!(format!("open_{id}"), text);
    }
    // What customers and the public read never carries internal notes or the people.
    for id in [
        "customer-affected",
        "customer-investigating",
        "status-page-update",
    ] {
        for secret in [
            "INTERNAL ONLY",
            "Alice",
            "Carol",
            "attacker",
            "personal-data",
        ] {
            assert!(!drafts[id].contains(secret), "{id} leaks {secret:?}");
        }
    }
}

#[test]
fn resolution_templates_render_for_the_resolved_breach() {
    let config = Config::builtin();
    let mut log = breach(&config);
    log.must(
        &Command::Update(IncidentPatch {
            root_cause: Some(
                "Reused passwords from a third-party leak; no rate limit per account.".into(),
            ),
            ..IncidentPatch::default()
        }),
        &config,
        "2026-11-20T10:40:00Z",
        "alice",
    );
    log.must(
        &Command::Resolve {
            summary: "Per-account rate limits, forced resets for the 1200 accounts".into(),
        },
        &config,
        "2026-11-20T10:52:00Z",
        "alice",
    );
    let drafts = render_all(&log, &config, "2026-11-20T11:00:00Z");
    for id in [
        "internal-resolved",
        "customer-resolved",
        "status-page-update",
        "regulator-final-report",
    ] {
        insta::assert_snapshot!(format!("resolved_{id}"), &drafts[id]);
    }
}

fn draft(template: &str, to: &[&str]) -> Command {
    Command::SendMessage(OutgoingDraft {
        template: template.into(),
        subject: "Subject".into(),
        text: "Text".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        meets: None,
    })
}

fn deadline<'a>(list: &'a [Deadline], rule: &str) -> &'a Deadline {
    list.iter()
        .find(|d| d.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {list:?}"))
}

#[test]
fn sending_records_recipients_meets_the_clock_and_writes_one_message_per_channel() {
    let config = Config::builtin();
    let mut log = breach(&config);
    let before = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        ts("2026-11-20T10:30:00Z"),
    );
    let art33 = deadline(&before, "gdpr-art33");
    assert_eq!(art33.state, DeadlineState::Open);
    assert_eq!(
        art33.due_at,
        Some(ts("2026-11-23T09:12:00Z")),
        "72 h from the declaration"
    );
    // Art. 34 needs high risk; it does not apply yet.
    assert!(before.iter().all(|d| d.rule != "gdpr-art34"));

    // An internal message does not meet a regulator's clock, even when asked to.
    let refused = log.run(
        &Command::SendMessage(OutgoingDraft {
            meets: Some(vec!["gdpr-art33".into()]),
            ..match draft("internal-update", &["incident-room"]) {
                Command::SendMessage(d) => d,
                _ => unreachable!(),
            }
        }),
        &config,
        ts("2026-11-20T10:31:00Z"),
        "carol",
    );
    assert!(refused.is_err_and(|e| e.to_string().contains("meets")));
    for bad in [vec![], vec!["nobody"], vec!["email:not-an-address"]] {
        let err = log
            .run(
                &draft("regulator-notification", &bad),
                &config,
                ts("2026-11-20T10:31:00Z"),
                "carol",
            )
            .expect_err("bad recipients");
        assert!(err.to_string().starts_with("to:"), "{err}");
    }

    log.must(
        &draft(
            "regulator-notification",
            &["email:dpa@example.eu", "incident-room", "carol"],
        ),
        &config,
        "2026-11-20T10:32:00Z",
        "carol",
    );
    let sent = log.events.last().expect("event");
    let EventKind::UpdatePosted {
        audience,
        template,
        to,
        meets,
        ..
    } = &sent.kind
    else {
        panic!("not recorded as an update: {:?}", sent.kind);
    };
    assert_eq!(audience, "regulators");
    assert_eq!(template.as_deref(), Some("regulator-notification"));
    assert_eq!(to, &["email:dpa@example.eu", "incident-room", "carol"]);
    assert_eq!(meets, &["gdpr-art33"]);
    assert_eq!(sent.actor, "carol");
    let after = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        ts("2026-11-20T10:33:00Z"),
    );
    assert_eq!(deadline(&after, "gdpr-art33").state, DeadlineState::Met);
    // A regulator message is not an internal update: the cadence still counts.
    assert_eq!(log.incident.last_update_at, None);

    // The email, the incident room's webhook and carol's webhook share a URL: one message
    // per distinct channel, with ids that are stable for the event.
    let messages = message_sends(&config, &log.incident, std::slice::from_ref(sent));
    let kinds: Vec<&str> = messages.iter().map(|m| m.channel.kind()).collect();
    assert_eq!(kinds, ["email", "webhook"], "{messages:?}");
    assert_eq!(
        messages,
        message_sends(&config, &log.incident, std::slice::from_ref(sent))
    );
    assert!(
        messages
            .iter()
            .all(|m| m.subject == "Subject" && m.text == "Text")
    );
}

#[test]
fn clocks_remind_then_fire_once_and_go_quiet_when_met() {
    let config = Config::builtin();
    let mut log = breach(&config);
    let timers: Vec<_> = desired_timers(&log.incident, &config)
        .into_iter()
        .filter(|t| {
            matches!(
                t.kind,
                TimerKind::DeadlineReminder { .. } | TimerKind::DeadlineDue { .. }
            )
        })
        .collect();
    assert_eq!(timers.len(), 2, "{timers:?}");
    let remind = &timers[0];
    assert_eq!(remind.due_at, ts("2026-11-22T09:12:00Z"), "24 h before");
    assert!(
        fire(
            remind,
            &log.incident,
            &config,
            &[],
            ts("2026-11-22T09:11:59Z")
        )
        .is_empty()
    );
    let recorded = fire(
        remind,
        &log.incident,
        &config,
        &[],
        ts("2026-11-22T09:12:00Z"),
    );
    assert!(
        matches!(&recorded[..], [EventKind::DeadlineApproaching { rule, due_at, .. }]
            if rule == "gdpr-art33" && *due_at == ts("2026-11-23T09:12:00Z")),
        "{recorded:?}"
    );
    // The reminder reaches the communications lead (carol's webhook).
    let out = notifications(&remind.key, &config, &log.incident, &recorded, &[]);
    assert_eq!(out.len(), 1);
    assert!(
        out[0].subject.contains("deadline approaching"),
        "{}",
        out[0].subject
    );
    for k in recorded {
        log.append(k, ts("2026-11-22T09:12:00Z"), "warroom");
    }
    // Recording the moment of awareness earlier moves the clock: new timers, new keys.
    log.must(
        &Command::RecordMoment {
            moment: "aware".into(),
            at: ts("2026-11-20T08:00:00Z"),
        },
        &config,
        "2026-11-22T10:00:00Z",
        "sam",
    );
    let due = desired_timers(&log.incident, &config)
        .into_iter()
        .find(|t| matches!(t.kind, TimerKind::DeadlineDue { .. }))
        .expect("due timer");
    assert_eq!(due.due_at, ts("2026-11-23T08:00:00Z"));
    assert!(
        fire(
            &timers[1],
            &log.incident,
            &config,
            &[],
            ts("2026-11-23T09:12:00Z")
        )
        .is_empty(),
        "the clock from the declaration is stale once awareness is recorded earlier"
    );
    // Met before it runs out: the due timer has nothing left to say.
    log.must(
        &draft("regulator-notification", &["email:dpa@example.eu"]),
        &config,
        "2026-11-23T07:30:00Z",
        "carol",
    );
    assert!(
        fire(
            &due,
            &log.incident,
            &config,
            &[],
            ts("2026-11-23T08:00:00Z")
        )
        .is_empty()
    );
    assert!(
        desired_timers(&log.incident, &config)
            .iter()
            .all(|t| !matches!(t.kind, TimerKind::DeadlineDue { .. }))
    );
}

#[test]
fn a_late_notification_is_met_late_and_a_missed_clock_is_recorded() {
    let config = Config::builtin();
    let mut log = breach(&config);
    let due = desired_timers(&log.incident, &config)
        .into_iter()
        .find(|t| matches!(t.kind, TimerKind::DeadlineDue { .. }))
        .expect("due timer");
    let missed = fire(
        &due,
        &log.incident,
        &config,
        &[],
        ts("2026-11-23T09:12:00Z"),
    );
    assert!(
        matches!(&missed[..], [EventKind::DeadlineMissed { rule, .. }] if rule == "gdpr-art33")
    );
    for k in missed {
        log.append(k, ts("2026-11-23T09:12:00Z"), "warroom");
    }
    let now = ts("2026-11-23T10:00:00Z");
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    assert_eq!(deadline(&list, "gdpr-art33").state, DeadlineState::Overdue);
    assert_eq!(deadline(&list, "gdpr-art33").seconds_left, Some(-48 * 60));
    log.must(
        &draft("regulator-notification", &["email:dpa@example.eu"]),
        &config,
        "2026-11-23T10:00:00Z",
        "carol",
    );
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    assert_eq!(deadline(&list, "gdpr-art33").state, DeadlineState::MetLate);
}

/// The built-in config with the business calendar in `zone`, with `holidays`.
fn with_calendar(zone: &str, holidays: &[&str]) -> Config {
    let holidays = holidays
        .iter()
        .map(|h| format!("    - {h}\n"))
        .collect::<String>();
    let text = format!(
        "business_hours:\n  time_zone: {zone}\n  days: [mon, tue, wed, thu, fri]\n  start: \"09:00\"\n  end: \"17:00\"\n  holidays:\n{holidays}"
    );
    load(&[SourceFile::new("calendar.yaml", text)]).expect("calendar config")
}

fn sec_incident(config: &Config, declared: &str) -> Log {
    let decl = Declaration {
        title: "Ransomware on the billing cluster".into(),
        severity: "P0".into(),
        incident_type: Some("security-breach".into()),
        labels: BTreeMap::from([("sec-registrant".into(), "yes".into())]),
        ..Declaration::default()
    };
    Log::declare_all(&decl, config, ts(declared), "alice").expect("declared")
}

#[test]
fn sec_clock_starts_at_materiality_and_counts_business_days_past_weekends_and_holidays() {
    // New York, with Thanksgiving (Thursday 26 November 2026) and the day after as holidays.
    let config = with_calendar("America/New_York", &["2026-11-26", "2026-11-27"]);
    let mut log = sec_incident(&config, "2026-11-24T14:00:00Z");
    let now = ts("2026-11-24T15:00:00Z");
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    let sec = deadline(&list, "sec-8k-105");
    assert_eq!(
        sec.state,
        DeadlineState::NotStarted,
        "no determination, no clock"
    );
    assert_eq!(sec.due_at, None);
    assert!(
        desired_timers(&log.incident, &config)
            .iter()
            .all(|t| !matches!(t.kind, TimerKind::DeadlineDue { .. }))
    );
    // Determined material on Wednesday 25 November, 16:30 in New York (21:30 UTC).
    log.must(
        &Command::RecordMoment {
            moment: "materiality-determined".into(),
            at: ts("2026-11-25T21:30:00Z"),
        },
        &config,
        "2026-11-25T21:35:00Z",
        "alice",
    );
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    // Business days: Mon 30 Nov, Tue 1, Wed 2, Thu 3 Dec; same local time, 16:30 EST.
    assert_eq!(
        deadline(&list, "sec-8k-105").due_at,
        Some(ts("2026-12-03T21:30:00Z"))
    );
}

#[test]
fn elapsed_clocks_are_exact_across_dst_and_month_clocks_follow_the_calendar() {
    let config = with_calendar("Europe/Berlin", &[]);
    let calendar = &config.business_hours;
    // Berlin leaves summer time on 25 October 2026: 72 hours are 72 hours.
    let aware = ts("2026-10-24T08:00:00Z");
    let within: Within = "72h".parse().expect("period");
    assert_eq!(
        within.due(aware, calendar),
        Some(ts("2026-10-27T08:00:00Z"))
    );
    // A month from 31 January is the last day of February, at the same local time.
    let month: Within = "1 month".parse().expect("period");
    assert_eq!(
        month.due(ts("2026-01-31T09:00:00Z"), calendar),
        Some(ts("2026-02-28T09:00:00Z"))
    );
    // Across the DST change a month keeps the local time (10:00 Berlin both sides).
    assert_eq!(
        month.due(ts("2026-10-10T08:00:00Z"), calendar),
        Some(ts("2026-11-10T09:00:00Z"))
    );
}

#[test]
fn breach_facts_set_later_start_the_clocks_and_moments_are_checked() {
    let config = Config::builtin();
    let decl = Declaration {
        title: "Exposed backup bucket".into(),
        severity: "P2".into(),
        incident_type: Some("data-breach".into()),
        ..Declaration::default()
    };
    let mut log =
        Log::declare_all(&decl, &config, ts("2026-11-20T09:00:00Z"), "sam").expect("declared");
    let now = ts("2026-11-20T10:00:00Z");
    assert!(
        deadlines(
            &log.incident,
            &config.comms.deadlines,
            &config.business_hours,
            now
        )
        .is_empty()
    );
    log.must(
        &Command::Update(IncidentPatch {
            labels: Some(BTreeMap::from([
                ("phi".into(), Some("yes".into())),
                ("personal-data".into(), Some("yes".into())),
                ("jurisdiction".into(), Some("US".into())),
            ])),
            ..IncidentPatch::default()
        }),
        &config,
        "2026-11-20T09:30:00Z",
        "sam",
    );
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    let rules: Vec<&str> = list.iter().map(|d| d.rule.as_str()).collect();
    assert_eq!(rules, ["hipaa-individuals", "us-state-breach"]);
    assert_eq!(
        deadline(&list, "hipaa-individuals").due_at,
        Some(ts("2027-01-19T09:00:00Z"))
    );
    let state = deadline(&list, "us-state-breach");
    assert_eq!((state.due_at, state.state), (None, DeadlineState::Open));
    assert!(state.guidance.contains("without unreasonable delay"));
    // One letter meets both duties to the people affected.
    log.must(
        &draft("breach-notification-letter", &["email:notify@example.com"]),
        &config,
        "2026-11-21T09:00:00Z",
        "sam",
    );
    let list = deadlines(
        &log.incident,
        &config.comms.deadlines,
        &config.business_hours,
        now,
    );
    assert!(
        list.iter().all(|d| d.state == DeadlineState::Met),
        "{list:?}"
    );
    let err = log
        .run(
            &Command::RecordMoment {
                moment: "noticed".into(),
                at: ts("2026-11-20T08:00:00Z"),
            },
            &config,
            now,
            "sam",
        )
        .expect_err("unknown moment");
    assert!(err.to_string().starts_with("moment:"), "{err}");
}

#[test]
fn config_problems_in_templates_and_clocks_name_the_file_and_line() {
    let text = "\
message_templates:
  - id: bad-body
    name: Bad
    audience: internal
    subject: \"{{ incident.id }}\"
    body: |
      line one
      line two
      {% if %}
  - id: bad-audience
    name: Nobody
    audience: press
    subject: s
    body: b
comms:
  channels:
    - id: pager
      name: Phone
      type: phone
      address: \"+1 555 0100\"
";
    let err = load(&[SourceFile::new("team.yaml", text)]).expect_err("problems");
    let lines: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
    let joined = lines.join("\n");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("team.yaml:9:") && l.contains("template bad-body, body line 3")),
        "{joined}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("team.yaml:12:") && l.contains("audience")),
        "{joined}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("team.yaml:19:") && l.contains("phone")),
        "{joined}"
    );
    // A period that does not parse stops the file at its line.
    let text = "comms:\n  deadlines:\n    - id: contract\n      name: Contract\n      starts_at: declared\n      within: 2 fortnights\n      audience: customers\n";
    let err = load(&[SourceFile::new("team.yaml", text)]).expect_err("problems");
    let first = err.problems[0].to_string();
    assert!(
        first.starts_with("team.yaml:") && first.contains("unknown unit \"fortnights\""),
        "{first}"
    );

    let text = "\
comms:
  deadlines:
    - id: contract
      name: Customer contract
      starts_at: noticed
      audience: customers
      templates: [regulator-notification, missing]
";
    let err = load(&[SourceFile::new("team.yaml", text)]).expect_err("problems");
    let joined = err
        .problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for expected in [
        "team.yaml:5:",
        "unknown moment",
        "team.yaml:3:",
        "give `within`",
        "team.yaml:7:",
        "is for regulators, not customers",
        "unknown template \"missing\"",
    ] {
        assert!(
            joined.contains(expected),
            "missing {expected:?} in\n{joined}"
        );
    }
}

#[test]
fn a_team_template_replaces_the_built_in_one_of_the_same_id() {
    let text = "\
message_templates:
  - id: internal-update
    name: Our update
    audience: internal
    subject: \"{{ incident.id }} ({{ incident.status }})\"
    body: \"Short: {{ incident.title }}\"
";
    let config = load(&[SourceFile::new("team.yaml", text)]).expect("config");
    assert_eq!(config.message_templates.len(), 11);
    let ours = config.template("internal-update").expect("template");
    assert_eq!(ours.name, "Our update");
    assert!(
        config.template("customer-resolved").is_some(),
        "built-ins stay"
    );
}

/// One calendar per zone the property tries, loaded once.
static CALENDARS: LazyLock<BTreeMap<&'static str, BusinessCalendar>> = LazyLock::new(|| {
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
        .into_iter()
        .map(|zone| {
            let config = with_calendar(zone, &["2026-12-25", "2027-01-01"]);
            (zone, config.business_hours)
        })
        .collect()
});

proptest! {
    /// N business days later is a business day at the same local time, with exactly N
    /// business days after the start day up to and including it.
    #[test]
    fn business_day_clocks_land_on_business_days(
        start in 1_780_000_000i64..1_800_000_000,
        n in 1u32..12,
        zone in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
    ) {
        let calendar: &BusinessCalendar = &CALENDARS[zone];
        let start = Timestamp::from_second(start).expect("in range");
        let due = Within::BusinessDays(n).due(start, calendar).expect("due");
        prop_assert!(due > start);
        let tz = calendar.time_zone.tz();
        let (from, to) = (tz.to_datetime(start), tz.to_datetime(due));
        prop_assert!(calendar.is_business_day(to.date()));
        let mut count = 0;
        let mut day = from.date();
        while day < to.date() {
            day = day.tomorrow().expect("date");
            if calendar.is_business_day(day) {
                count += 1;
            }
        }
        prop_assert_eq!(count, n);
        // Same wall-clock time unless that time does not exist that day (a DST gap).
        if to.time() != from.time() {
            let gap = matches!(
                tz.to_ambiguous_timestamp(to.date().to_datetime(from.time())).offset(),
                jiff::tz::AmbiguousOffset::Gap { .. }
            );
            prop_assert!(gap, "the local time moved without a DST gap");
        }
    }
}
