//! Report aggregation over known metrics: percentiles, groups, weeks, and the edge cases (open
//! incidents, reopened ones, incidents nobody acknowledged); md and csv renderings as snapshots.

mod common;

use std::collections::BTreeMap;

use common::ts;
use warroom_core::action::{ActionItem, ActionStatus, Priority};
use warroom_core::metrics::IncidentMetrics;
use warroom_core::report::{GroupBy, ReportFormat, build, percentile, render, summarize};
use warroom_core::{Config, Status};

#[test]
fn percentiles_are_nearest_rank() {
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(percentile(&ten, 50), Some(5));
    assert_eq!(percentile(&ten, 90), Some(9));
    assert_eq!(percentile(&ten, 100), Some(10));
    assert_eq!(percentile(&[1, 2], 50), Some(1), "the lower middle");
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(percentile(&[], 50), None);
    let s = summarize(vec![30, 10, 20, 40]);
    assert_eq!(s.count, 4);
    assert_eq!(s.mean_secs, Some(25));
    assert_eq!(s.median_secs, Some(20));
    assert_eq!(s.p90_secs, Some(40));
    assert_eq!(summarize(vec![1, 2]).mean_secs, Some(1), "rounded down");
    assert_eq!(summarize(Vec::new()).mean_secs, None);
}

struct M {
    id: &'static str,
    severity: &'static str,
    services: &'static [&'static str],
    declared: &'static str,
    status: Status,
    tta: Option<i64>,
    ttc: Option<i64>,
    ttr: Option<i64>,
    breached: bool,
    reopened: u32,
    rto_met: Option<bool>,
}

fn metrics(m: &M) -> IncidentMetrics {
    IncidentMetrics {
        incident_id: m.id.into(),
        severity: m.severity.into(),
        incident_type: if m.severity == "P0" {
            "security-breach".into()
        } else {
            "outage".into()
        },
        services: m.services.iter().map(|s| s.to_string()).collect(),
        status: m.status,
        declared_at: ts(m.declared),
        first_alert_at: None,
        acknowledged_at: m.tta.map(|_| ts(m.declared)),
        contained_at: None,
        resolved_at: None,
        time_to_detect_secs: None,
        time_to_acknowledge_secs: m.tta,
        time_to_contain_secs: m.ttc,
        time_to_resolve_secs: m.ttr,
        time_in_status_secs: BTreeMap::new(),
        pages: 2,
        escalations: 1,
        reopened: m.reopened,
        response_target_breached: m.breached,
        rto_secs: None,
        rto_met: m.rto_met,
        update_cadence_kept: !m.breached,
        updates_missed: u32::from(m.breached),
        longest_update_gap_secs: 0,
    }
}

fn action(id: &str, status: ActionStatus, due_at: &str) -> ActionItem {
    ActionItem {
        id: id.into(),
        title: "Add an alert on queue depth".into(),
        owner: "alice".into(),
        due: ts(due_at).to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
        due_at: ts(due_at),
        priority: Priority::P2,
        status,
        ticket: None,
        created_at: ts("2026-11-10T00:00:00Z"),
        created_by: "bob".into(),
        updated_at: ts("2026-11-10T00:00:00Z"),
    }
}

fn sample() -> Vec<(IncidentMetrics, Vec<ActionItem>)> {
    let rows = [
        M {
            id: "INC-20261103-001",
            severity: "P1",
            services: &["payments"],
            declared: "2026-11-03T10:00:00Z",
            status: Status::Closed,
            tta: Some(300),
            ttc: Some(1_800),
            ttr: Some(3_600),
            breached: false,
            reopened: 0,
            rto_met: Some(true),
        },
        M {
            id: "INC-20261105-001",
            severity: "P1",
            services: &["payments", "api"],
            declared: "2026-11-05T10:00:00Z",
            status: Status::Resolved,
            tta: Some(2_400),
            ttc: Some(3_000),
            ttr: Some(20_000),
            breached: true,
            reopened: 1,
            rto_met: Some(false),
        },
        // Open and nobody acknowledged it.
        M {
            id: "INC-20261112-001",
            severity: "P0",
            services: &[],
            declared: "2026-11-12T08:00:00Z",
            status: Status::Investigating,
            tta: None,
            ttc: None,
            ttr: None,
            breached: true,
            reopened: 0,
            rto_met: None,
        },
        M {
            id: "INC-20261120-001",
            severity: "P2",
            services: &["api"],
            declared: "2026-11-20T09:00:00Z",
            status: Status::Contained,
            tta: Some(60),
            ttc: Some(600),
            ttr: None,
            breached: false,
            reopened: 0,
            rto_met: None,
        },
        // Before the window: ignored.
        M {
            id: "INC-20261001-001",
            severity: "P1",
            services: &["api"],
            declared: "2026-10-01T09:00:00Z",
            status: Status::Closed,
            tta: Some(1),
            ttc: Some(1),
            ttr: Some(1),
            breached: false,
            reopened: 0,
            rto_met: Some(true),
        },
    ];
    rows.iter()
        .map(|m| {
            let actions = match m.id {
                "INC-20261103-001" => vec![
                    action("A1", ActionStatus::Open, "2026-11-15T00:00:00Z"),
                    action("A2", ActionStatus::Done, "2026-11-15T00:00:00Z"),
                    action("A3", ActionStatus::InProgress, "2026-12-01T00:00:00Z"),
                ],
                "INC-20261105-001" => vec![action(
                    "A1",
                    ActionStatus::Cancelled,
                    "2026-11-15T00:00:00Z",
                )],
                _ => Vec::new(),
            };
            (metrics(m), actions)
        })
        .collect()
}

const SINCE: &str = "2026-11-01T00:00:00Z";
const NOW: &str = "2026-11-22T12:00:00Z";

#[test]
fn totals_cover_the_window_with_open_reopened_and_unacknowledged_incidents() {
    let r = build(&sample(), &Config::builtin(), None, ts(SINCE), ts(NOW));
    let t = &r.total;
    assert_eq!(t.incidents, 4, "the October incident is outside the window");
    assert_eq!(
        (t.open, t.resolved, t.reopened, t.unacknowledged),
        (2, 2, 1, 1)
    );
    // Only acknowledged incidents have a time to acknowledge: 60, 300, 2400.
    assert_eq!(t.time_to_acknowledge.count, 3);
    assert_eq!(t.time_to_acknowledge.mean_secs, Some(920));
    assert_eq!(t.time_to_acknowledge.median_secs, Some(300));
    assert_eq!(t.time_to_acknowledge.p90_secs, Some(2_400));
    // Only resolved incidents have a time to resolve.
    assert_eq!(t.time_to_resolve.count, 2);
    assert_eq!(t.time_to_resolve.median_secs, Some(3_600));
    assert_eq!(t.time_to_contain.count, 3);
    assert_eq!(
        (
            t.response_target_breaches,
            t.rto_missed,
            t.update_cadence_missed
        ),
        (2, 1, 2)
    );
    assert_eq!(t.escalations, 4);
    assert_eq!((t.actions_open, t.actions_overdue), (2, 1));
    assert!(r.groups.is_empty());
    let weeks: Vec<(&str, u64)> = r
        .weeks
        .iter()
        .map(|w| (w.key.as_str(), w.incidents))
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-W44", 0),
            ("2026-W45", 2),
            ("2026-W46", 1),
            ("2026-W47", 1)
        ]
    );
}

#[test]
fn groups_follow_the_severity_scheme_and_services_count_each_incident_once_per_service() {
    let by_sev = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Severity),
        ts(SINCE),
        ts(NOW),
    );
    let keys: Vec<(&str, u64)> = by_sev
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.incidents))
        .collect();
    assert_eq!(keys, [("P0", 1), ("P1", 2), ("P2", 1)]);

    let by_service = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Service),
        ts(SINCE),
        ts(NOW),
    );
    let keys: Vec<(&str, u64)> = by_service
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.incidents))
        .collect();
    assert_eq!(keys, [("(none)", 1), ("api", 2), ("payments", 2)]);

    let by_type = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Type),
        ts(SINCE),
        ts(NOW),
    );
    let keys: Vec<&str> = by_type.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["outage", "security-breach"]);
}

#[test]
fn an_empty_window_reports_zeros_without_averages() {
    let r = build(
        &[],
        &Config::builtin(),
        Some(GroupBy::Severity),
        ts(SINCE),
        ts(NOW),
    );
    assert_eq!(r.total.incidents, 0);
    assert_eq!(r.total.time_to_resolve.mean_secs, None);
    assert!(r.groups.is_empty());
    let csv = render(&r, ReportFormat::Csv);
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("total,all,0,0,0,0,0,0,,,,")),
        "{csv}"
    );
}

#[test]
fn markdown_report() {
    let r = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Severity),
        ts(SINCE),
        ts(NOW),
    );
    insta::assert_snapshot!(render(&r, ReportFormat::Markdown));
}

#[test]
fn csv_report() {
    let r = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Service),
        ts(SINCE),
        ts(NOW),
    );
    let csv = render(&r, ReportFormat::Csv);
    let width = csv.lines().next().map(|l| l.split(',').count());
    assert!(
        csv.lines().all(|l| Some(l.split(',').count()) == width),
        "ragged rows"
    );
    insta::assert_snapshot!(csv);
}

#[test]
fn json_report_round_trips() {
    let r = build(
        &sample(),
        &Config::builtin(),
        Some(GroupBy::Type),
        ts(SINCE),
        ts(NOW),
    );
    let text = render(&r, ReportFormat::Json);
    let back: warroom_core::report::Report = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, r);
}

mod props {
    use proptest::prelude::*;
    use warroom_core::report::{percentile, summarize};

    proptest! {
        #[test]
        fn percentiles_are_observed_values_in_order(
            mut values in prop::collection::vec(-1_000_000i64..1_000_000, 1..200),
            p in 1u32..=100,
        ) {
            values.sort_unstable();
            let v = percentile(&values, p).expect("non-empty");
            prop_assert!(values.contains(&v));
            // Nearest rank: at least p% of the values are at or below it, and fewer below it.
            let at_or_below = values.iter().filter(|x| **x <= v).count() as u64;
            let below = values.iter().filter(|x| **x < v).count() as u64;
            let n = values.len() as u64;
            prop_assert!(at_or_below * 100 >= u64::from(p) * n);
            prop_assert!(below * 100 < u64::from(p) * n);
            if p < 100 {
                prop_assert!(percentile(&values, p + 1).expect("non-empty") >= v);
            }
            let s = summarize(values.clone());
            let (min, max) = (values[0], values[values.len() - 1]);
            prop_assert!(s.mean_secs.is_some_and(|m| (min..=max).contains(&m)));
            prop_assert!(s.median_secs <= s.p90_secs);
        }
    }
}

#[test]
fn weeks_are_consecutive_iso_weeks_across_a_year_end() {
    let r = build(
        &[],
        &Config::builtin(),
        None,
        ts("2026-12-20T23:00:00Z"),
        ts("2027-01-12T08:00:00Z"),
    );
    let weeks: Vec<&str> = r.weeks.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        weeks,
        ["2026-W51", "2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    );
}
