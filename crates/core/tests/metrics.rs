//! Per-incident metrics over hand-built timelines with known answers, and properties of the
//! time math over random timelines.

mod common;

use common::{Log, ts};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use warroom_core::alert_incident::AlertRef;
use warroom_core::metrics::{IncidentMetrics, compute};
use warroom_core::{Config, Declaration, EventKind, Status};

fn declare(severity: &str, at: &str) -> Log {
    let decl = Declaration {
        title: "Checkout errors".into(),
        severity: severity.into(),
        services: vec!["payments".into()],
        ..Declaration::default()
    };
    Log::declare(&decl, &Config::builtin(), ts(at), "alice").expect("declared")
}

fn status(from: Status, to: Status) -> EventKind {
    EventKind::StatusChanged {
        from,
        to,
        reason: None,
    }
}

fn resolved(from: Status) -> EventKind {
    EventKind::Resolved {
        from,
        summary: "fixed".into(),
    }
}

fn internal_update() -> EventKind {
    EventKind::UpdatePosted {
        audience: "internal".into(),
        text: "still on it".into(),
        template: None,
        subject: None,
        to: Vec::new(),
        meets: Vec::new(),
    }
}

fn paged(step: usize) -> EventKind {
    EventKind::Paged {
        policy: "default".into(),
        step,
        pass: 0,
        people: vec!["alice".into()],
        manual: false,
    }
}

fn metrics(log: &Log, now: &str) -> IncidentMetrics {
    compute(&log.events, &Config::builtin(), ts(now)).expect("a declared log has metrics")
}

fn time_in(m: &IncidentMetrics, s: Status) -> i64 {
    m.time_in_status_secs.get(&s).copied().unwrap_or(0)
}

#[test]
fn a_clean_incident_has_every_time_and_kept_its_cadence() {
    // P1: acknowledge within 30m, update every 30m, RTO 4h.
    let mut log = declare("P1", "2026-11-22T10:00:00Z");
    log.append(
        EventKind::AlertsAttached {
            service: "payments".into(),
            count: 2,
            alerts: vec![AlertRef {
                id: "a1".into(),
                summary: "5xx".into(),
                severity: warroom_core::alert::AlertSeverity::Critical,
            }],
            first_seen: Some(ts("2026-11-22T09:55:00Z")),
        },
        ts("2026-11-22T10:00:30Z"),
        "warroom",
    );
    log.append(paged(0), ts("2026-11-22T10:00:30Z"), "warroom");
    log.append(
        EventKind::Acknowledged {},
        ts("2026-11-22T10:10:00Z"),
        "bob",
    );
    log.append(
        status(Status::Triage, Status::Investigating),
        ts("2026-11-22T10:10:00Z"),
        "bob",
    );
    log.append(internal_update(), ts("2026-11-22T10:20:00Z"), "bob");
    log.append(
        status(Status::Investigating, Status::Contained),
        ts("2026-11-22T10:45:00Z"),
        "bob",
    );
    // Exactly one cadence after the last update: still on time.
    log.append(internal_update(), ts("2026-11-22T10:50:00Z"), "bob");
    log.append(
        resolved(Status::Contained),
        ts("2026-11-22T11:15:00Z"),
        "bob",
    );
    log.append(EventKind::Closed {}, ts("2026-11-22T12:00:00Z"), "carol");

    let m = metrics(&log, "2026-11-23T00:00:00Z");
    assert_eq!(m.status, Status::Closed);
    assert_eq!(m.time_to_detect_secs, Some(300));
    assert_eq!(m.time_to_acknowledge_secs, Some(600));
    assert_eq!(m.time_to_contain_secs, Some(2_700));
    assert_eq!(m.time_to_resolve_secs, Some(4_500));
    assert_eq!(time_in(&m, Status::Triage), 600);
    assert_eq!(time_in(&m, Status::Investigating), 2_100);
    assert_eq!(time_in(&m, Status::Contained), 1_800);
    assert_eq!(time_in(&m, Status::Resolved), 2_700);
    assert_eq!(
        time_in(&m, Status::Closed),
        0,
        "closed is the end, not counted"
    );
    assert_eq!((m.pages, m.escalations, m.reopened), (1, 0, 0));
    assert!(!m.response_target_breached);
    assert_eq!(m.rto_secs, Some(4 * 3_600));
    assert_eq!(m.rto_met, Some(true));
    assert!(m.update_cadence_kept);
    assert_eq!(m.updates_missed, 0);
    assert_eq!(m.longest_update_gap_secs, 30 * 60);
}

#[test]
fn a_silence_longer_than_the_cadence_is_counted_once() {
    let mut log = declare("P1", "2026-11-22T10:00:00Z");
    log.append(internal_update(), ts("2026-11-22T10:20:00Z"), "bob");
    // 40 minutes of silence at a 30-minute cadence, with a note in the middle.
    log.append(
        EventKind::NoteAdded { text: "x".into() },
        ts("2026-11-22T10:55:00Z"),
        "bob",
    );
    log.append(internal_update(), ts("2026-11-22T11:00:00Z"), "bob");
    // Updates to other audiences do not count.
    log.append(
        EventKind::UpdatePosted {
            audience: "customers".into(),
            text: "we are on it".into(),
            template: None,
            subject: None,
            to: Vec::new(),
            meets: Vec::new(),
        },
        ts("2026-11-22T11:20:00Z"),
        "bob",
    );
    log.append(resolved(Status::Triage), ts("2026-11-22T11:40:00Z"), "bob");
    let m = metrics(&log, "2026-11-22T20:00:00Z");
    assert!(!m.update_cadence_kept);
    assert_eq!(m.updates_missed, 2, "10:20-11:00 and 11:00-11:40");
    assert_eq!(m.longest_update_gap_secs, 40 * 60);
    // Never acknowledged, never contained by status, but resolving contains.
    assert_eq!(m.time_to_acknowledge_secs, None);
    assert_eq!(m.time_to_contain_secs, Some(100 * 60));
    assert_eq!(m.time_to_detect_secs, None, "declared by hand, no alert");
}

#[test]
fn lowering_the_severity_relaxes_the_cadence_from_then_on() {
    // P1 (30m) lowered to P2 (2h) at 10:20: a 90-minute silence is then within the cadence.
    let mut log = declare("P1", "2026-11-22T10:00:00Z");
    log.append(
        EventKind::SeverityChanged {
            from: "P1".into(),
            to: "P2".into(),
            reason: None,
        },
        ts("2026-11-22T10:20:00Z"),
        "bob",
    );
    log.append(internal_update(), ts("2026-11-22T11:30:00Z"), "bob");
    let m = metrics(&log, "2026-11-22T12:00:00Z");
    assert!(m.update_cadence_kept, "{m:?}");
    assert_eq!(m.severity, "P2");
    assert_eq!(m.rto_secs, Some(24 * 3_600));
}

#[test]
fn reopening_sums_status_times_and_resolve_counts_to_the_last_resolution() {
    // P2: update every 2h, RTO 24h.
    let mut log = declare("P2", "2026-11-22T10:00:00Z");
    log.append(
        EventKind::Acknowledged {},
        ts("2026-11-22T10:30:00Z"),
        "bob",
    );
    log.append(
        status(Status::Triage, Status::Investigating),
        ts("2026-11-22T10:30:00Z"),
        "bob",
    );
    log.append(
        resolved(Status::Investigating),
        ts("2026-11-22T11:00:00Z"),
        "bob",
    );
    log.append(
        EventKind::Reopened {
            from: Status::Resolved,
            reason: "back".into(),
        },
        ts("2026-11-22T12:00:00Z"),
        "carol",
    );

    // While reopened: no resolve time, contain time stays the first one.
    let open = metrics(&log, "2026-11-22T12:30:00Z");
    assert_eq!(open.status, Status::Investigating);
    assert_eq!(open.time_to_resolve_secs, None);
    assert_eq!(open.resolved_at, None);
    assert_eq!(open.time_to_contain_secs, Some(3_600));
    assert_eq!(open.rto_met, None, "still within the RTO");
    assert_eq!(open.reopened, 1);

    log.append(
        status(Status::Investigating, Status::Contained),
        ts("2026-11-22T13:00:00Z"),
        "bob",
    );
    log.append(
        resolved(Status::Contained),
        ts("2026-11-22T14:00:00Z"),
        "bob",
    );
    let m = metrics(&log, "2026-11-22T15:00:00Z");
    assert_eq!(m.time_to_acknowledge_secs, Some(1_800));
    assert_eq!(m.time_to_contain_secs, Some(3_600));
    assert_eq!(m.time_to_resolve_secs, Some(4 * 3_600));
    assert_eq!(m.resolved_at, Some(ts("2026-11-22T14:00:00Z")));
    assert_eq!(time_in(&m, Status::Triage), 1_800);
    assert_eq!(time_in(&m, Status::Investigating), 1_800 + 3_600);
    assert_eq!(time_in(&m, Status::Contained), 3_600);
    assert_eq!(time_in(&m, Status::Resolved), 3_600 + 3_600, "until now");
    assert_eq!(m.rto_met, Some(true));
    // The cadence restarted at the reopen: 12:00 -> 14:00 is exactly 2h.
    assert!(m.update_cadence_kept);
    assert_eq!(m.longest_update_gap_secs, 2 * 3_600);
}

#[test]
fn an_unacknowledged_incident_breaches_and_escalates() {
    let mut log = declare("P1", "2026-11-22T10:00:00Z");
    log.append(paged(0), ts("2026-11-22T10:00:00Z"), "warroom");
    log.append(
        EventKind::AcknowledgeTargetMissed {
            severity: "P1".into(),
            target: "30m".into(),
            due_at: ts("2026-11-22T10:30:00Z"),
        },
        ts("2026-11-22T10:30:00Z"),
        "warroom",
    );
    log.append(paged(1), ts("2026-11-22T10:30:00Z"), "warroom");
    log.append(paged(2), ts("2026-11-22T10:45:00Z"), "warroom");

    let m = metrics(&log, "2026-11-22T12:00:00Z");
    assert_eq!(m.time_to_acknowledge_secs, None);
    assert!(m.response_target_breached);
    assert_eq!((m.pages, m.escalations), (3, 2));
    assert_eq!(m.rto_met, None, "2h into a 4h RTO");
    assert_eq!(time_in(&m, Status::Triage), 2 * 3_600);
    assert!(!m.update_cadence_kept);
    assert_eq!(m.updates_missed, 1);

    let late = metrics(&log, "2026-11-22T14:00:01Z");
    assert_eq!(late.rto_met, Some(false), "the RTO passed unresolved");
}

#[test]
fn an_alert_seen_after_the_declaration_did_not_detect_it() {
    let mut log = declare("P2", "2026-11-22T10:00:00Z");
    log.append(
        EventKind::AlertsAttached {
            service: "payments".into(),
            count: 1,
            alerts: Vec::new(),
            first_seen: Some(ts("2026-11-22T10:05:00Z")),
        },
        ts("2026-11-22T10:05:01Z"),
        "warroom",
    );
    let m = metrics(&log, "2026-11-22T11:00:00Z");
    assert_eq!(m.first_alert_at, Some(ts("2026-11-22T10:05:00Z")));
    assert_eq!(m.time_to_detect_secs, None);
}

#[test]
fn a_log_without_a_declaration_has_no_metrics() {
    assert!(compute(&[], &Config::builtin(), ts("2026-11-22T10:00:00Z")).is_none());
}

/// One step of a random timeline: wait, then try something.
#[derive(Debug, Clone, Copy)]
enum Step {
    Ack,
    To(Status),
    Resolve,
    Close,
    Reopen,
    Update,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Ack),
        Just(Step::To(Status::Investigating)),
        Just(Step::To(Status::Contained)),
        Just(Step::To(Status::Recovering)),
        Just(Step::Resolve),
        Just(Step::Close),
        Just(Step::Reopen),
        Just(Step::Update),
    ]
}

proptest! {
    // Each case seals up to 40 events; fewer cases keep the suite quick on a shared machine.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn status_times_add_up_and_milestones_are_ordered(
        steps in prop::collection::vec((0i64..20_000, step()), 0..40),
        tail in 0i64..100_000,
    ) {
        let start: Timestamp = ts("2026-11-22T10:00:00Z");
        let mut log = declare("P1", "2026-11-22T10:00:00Z");
        let mut at = start;
        let mut closed_at = None;
        for (wait, s) in steps {
            at = at.checked_add(SignedDuration::from_secs(wait)).expect("in range");
            let cur = log.incident.status;
            let kind = match s {
                Step::Ack if log.incident.acknowledged_at.is_none() && cur.is_open() => EventKind::Acknowledged {},
                Step::To(to) if cur.is_open() && cur != to => status(cur, to),
                Step::Resolve if cur.is_open() => resolved(cur),
                Step::Close if cur == Status::Resolved => EventKind::Closed {},
                Step::Reopen if !cur.is_open() => EventKind::Reopened { from: cur, reason: "again".into() },
                Step::Update if cur.is_open() => internal_update(),
                _ => continue,
            };
            closed_at = match kind {
                EventKind::Closed {} => Some(at),
                EventKind::Reopened { .. } => None,
                _ => closed_at,
            };
            log.append(kind, at, "bob");
        }
        let now = at.checked_add(SignedDuration::from_secs(tail)).expect("in range");
        let m = compute(&log.events, &Config::builtin(), now).expect("metrics");
        let total: i64 = m.time_in_status_secs.values().sum();
        let end = closed_at.unwrap_or(now);
        prop_assert_eq!(total, end.duration_since(start).as_secs());
        prop_assert!(m.time_in_status_secs.values().all(|v| *v >= 0));
        prop_assert_eq!(m.status, log.incident.status);
        prop_assert_eq!(m.resolved_at.is_some(), !m.status.is_open());
        if let (Some(c), Some(r)) = (m.time_to_contain_secs, m.time_to_resolve_secs) {
            prop_assert!(c <= r, "contained after resolved: {m:?}");
        }
        if let Some(r) = m.time_to_resolve_secs {
            prop_assert!(m.time_to_contain_secs.is_some());
            prop_assert_eq!(Some((0..=4 * 3_600).contains(&r)), m.rto_met);
        }
        prop_assert_eq!(m.acknowledged_at, log.incident.acknowledged_at);
        prop_assert_eq!(m.update_cadence_kept, m.updates_missed == 0);
        prop_assert!(m.longest_update_gap_secs <= now.duration_since(start).as_secs());
        // A gap longer than the cadence is always reported as a miss.
        if m.longest_update_gap_secs > 30 * 60 {
            prop_assert!(!m.update_cadence_kept);
        }
    }
}
