//! The iCalendar feed of a fixed schedule over two weeks that span the spring change in
//! Europe/Berlin (2026-03-29, 02:00 -> 03:00).

use std::collections::BTreeSet;

use jiff::Timestamp;
use warroom_core::config::{Config, SourceFile, load};
use warroom_core::ical::{calendar_entries, ics_feed};
use warroom_core::schedule::{Override, shifts_overlapping};

const CONFIG: &str = "\
people:
  - id: jane
    name: Doe, Jane
    time_zone: Europe/Berlin
  - id: ben
    name: Ben Okafor
    time_zone: Europe/London
  - id: kai
    name: Kai Müller-Lüdenscheidt; Platform\\Infra, databases and payment systems
    time_zone: Europe/Berlin
schedules:
  - id: primary
    name: Primary; EU
    time_zone: Europe/Berlin
    layers:
      - id: daily
        rotation:
          type: daily
          handoff: '09:00'
          start: 2026-03-23
          members:
            - jane
            - ben
";

fn config() -> Config {
    load(&[SourceFile::new("oncall.yaml", CONFIG)]).expect("config loads")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn overrides() -> Vec<Override> {
    vec![Override {
        id: "swap-1".into(),
        schedule: "primary".into(),
        person: "kai".into(),
        start: ts("2026-03-31T10:00:00Z"),
        end: ts("2026-04-01T16:00:00Z"),
    }]
}

fn feed(from: &str, to: &str) -> String {
    let config = config();
    let schedule = config.schedule("primary").expect("schedule");
    let shifts = shifts_overlapping(schedule, &overrides(), ts(from), ts(to));
    ics_feed(
        &format!("{} on call", schedule.name),
        &calendar_entries(&config, &shifts),
        "warroom.test",
    )
}

fn uids(feed: &str) -> BTreeSet<String> {
    feed.split("\r\n")
        .filter_map(|l| l.strip_prefix("UID:"))
        .map(String::from)
        .collect()
}

#[test]
fn two_weeks_across_the_spring_change() {
    // Mon 2026-03-23 09:00 CET to Mon 2026-04-06 09:00 CEST.
    let text = feed("2026-03-23T08:00:00Z", "2026-04-06T07:00:00Z");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "unfolded line {line:?}");
    }
    // The hand-off stays at 09:00 local: 08:00Z before the change, 07:00Z after.
    assert!(text.contains("DTSTART:20260328T080000Z\r\nDTEND:20260329T070000Z\r\n"));
    insta::assert_snapshot!(text.replace("\r\n", "\u{240d}\n"));
}

#[test]
fn uids_are_the_same_whatever_range_is_fetched() {
    let wide = uids(&feed("2026-03-23T08:00:00Z", "2026-04-06T07:00:00Z"));
    let narrow = uids(&feed("2026-03-25T12:00:00Z", "2026-04-01T12:00:00Z"));
    assert!(!narrow.is_empty());
    assert!(narrow.is_subset(&wide), "{narrow:?} not in {wide:?}");
    assert_eq!(
        feed("2026-03-25T12:00:00Z", "2026-04-01T12:00:00Z"),
        feed("2026-03-25T12:00:00Z", "2026-04-01T12:00:00Z")
    );
}
