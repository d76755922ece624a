//! People, teams and schedules in config files: loading, defaults, and located errors.

use warroom_core::config::{SourceFile, load};
use warroom_core::schedule::{Day, RotationKind, who_is_on_call};

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile::new(*name, *text))
        .collect();
    match load(&files) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

const PEOPLE: &str = "\
people:
  - id: ann
    name: Ann
    time_zone: Europe/Berlin
    contact_methods:
      - id: mail
        type: email
        address: ann@example.com
    notification_rules:
      - contact_method: mail
        after_minutes: 0
  - id: ben
    name: Ben
    time_zone: America/New_York
";

#[test]
fn a_valid_setup_loads() {
    let schedules = "\
schedules:
  - id: ops
    name: Ops
    time_zone: Asia/Kolkata
    layers:
      - id: base
        rotation:
          type: custom
          length: 12h
          handoff: '08:30'
          start: 2026-03-01
          members: [ann, ben]
      - id: weekends
        rotation:
          type: weekly
          start: 2026-03-07
          members:
            - ben
        restrictions:
          - days: [Sat, sunday]
            from: '00:00'
            to: '00:00'
teams:
  - id: core
    name: Core
    members: [ann, ben]
";
    let config = load(&[
        SourceFile::new("people.yaml", PEOPLE),
        SourceFile::new("ops.yaml", schedules),
    ])
    .expect("loads");
    let ops = config.schedule("ops").expect("ops");
    assert_eq!(ops.time_zone.name(), "Asia/Kolkata");
    assert_eq!(ops.layers[0].rotation.kind, RotationKind::Custom);
    assert_eq!(
        ops.layers[0].rotation.length.map(|d| d.to_string()),
        Some("12h".into())
    );
    assert_eq!(ops.layers[1].rotation.handoff.to_string(), "09:00");
    assert_eq!(ops.layers[1].restrictions[0].days, [Day::Sat, Day::Sun]);
    assert_eq!(config.team("core").map(|t| t.members.len()), Some(2));
    assert_eq!(
        config.person("ann").map(|p| p.time_zone.name()),
        Some("Europe/Berlin")
    );
    // Sat 2026-03-07 12:00 IST: the weekend layer (ben); Monday: the base layer.
    let sat = who_is_on_call(ops, &[], "2026-03-07T06:30:00Z".parse().expect("ts"));
    assert_eq!(sat.map(|o| o.person), Some("ben".into()));
    // The example people, teams and schedules are replaced as a set.
    assert!(config.person("alice").is_none());
    assert!(config.schedule("primary").is_none());
    // The effective config round-trips.
    let again = load(&[SourceFile::new("all.yaml", config.to_yaml())]).expect("re-loads");
    assert_eq!(again, config);
}

#[test]
fn the_example_set_applies_only_when_no_file_defines_any_of_it() {
    let config = load(&[SourceFile::new("people.yaml", PEOPLE)]).expect("loads");
    assert!(config.schedules.is_empty() && config.teams.is_empty());
    let config = load(&[SourceFile::new("none.yaml", "people: []\n")]).expect("loads");
    assert!(config.people.is_empty() && config.schedules.is_empty());
    let config = load(&[]).expect("loads");
    assert!(config.schedule("primary").is_some());
}

#[test]
fn unknown_people_in_teams_and_layers_are_located() {
    let text = "\
teams:
  - id: core
    name: Core
    members:
      - ann
      - bob
      - ann
schedules:
  - id: ops
    name: Ops
    time_zone: UTC
    layers:
      - id: base
        rotation:
          type: daily
          start: 2026-03-01
          members:
            - ben
            - dave
";
    assert_eq!(
        problems(&[("people.yaml", PEOPLE), ("x.yaml", text)]),
        [
            "x.yaml:6:7: unknown person \"bob\"; expected one of ann, ben",
            "x.yaml:7:7: person \"ann\" is listed twice",
            "x.yaml:19:13: unknown person \"dave\"; expected one of ann, ben",
        ]
    );
}

#[test]
fn bad_time_zones_are_located() {
    let people = "\
people:
  - id: ann
    name: Ann
    time_zone: Europe/Berln
";
    let schedules = "\
schedules:
  - id: ops
    name: Ops
    time_zone: Mars/Olympus_Mons
    layers:
      - id: base
        rotation:
          type: weekly
          start: 2026-03-02
          members: [ann]
";
    assert_eq!(
        problems(&[("p.yaml", people), ("s.yaml", schedules)]),
        [
            "p.yaml:4:5: unknown time zone \"Europe/Berln\": use an IANA name such as Europe/Berlin, America/New_York or UTC",
            "s.yaml:4:5: unknown time zone \"Mars/Olympus_Mons\": use an IANA name such as Europe/Berlin, America/New_York or UTC",
        ]
    );
}

#[test]
fn bad_handoffs_days_and_windows_are_located() {
    let text = "\
schedules:
  - id: ops
    name: Ops
    time_zone: Europe/Berlin
    layers:
      - id: base
        rotation:
          type: daily
          handoff: 9am
          start: 2026-03-01
          members: [ann]
        restrictions:
          - days:
              - mon
              - fr
            from: '09:00'
            to: '25:00'
          - days: [mon, tues]
            from: '09:00'
            to: '17:00'
";
    assert_eq!(
        problems(&[("people.yaml", PEOPLE), ("s.yaml", text)]),
        [
            "s.yaml:9:11: invalid time \"9am\": expected HH:MM, 00:00 to 23:59",
            "s.yaml:15:15: unknown day \"fr\": expected one of mon, tue, wed, thu, fri, sat, sun",
            "s.yaml:17:13: invalid time \"25:00\": expected HH:MM, 00:00 to 23:59",
            // A flow list is located at its key.
            "s.yaml:18:13: unknown day \"tues\": expected one of mon, tue, wed, thu, fri, sat, sun",
        ]
    );
}

#[test]
fn rotation_shapes_are_checked() {
    let text = "\
schedules:
  - id: ops
    name: Ops
    time_zone: UTC
    layers:
      - id: a
        rotation:
          type: custom
          start: 2026-03-01
          members: [ann]
      - id: a
        rotation:
          type: custom
          length: 30m
          start: 2026/03/01
          members: []
      - id: c
        rotation:
          type: weekly
          length: 7d
          start: 2026-03-01
          members: [ann]
  - id: empty
    name: Empty
    time_zone: UTC
    layers: []
";
    assert_eq!(
        problems(&[("people.yaml", PEOPLE), ("s.yaml", text)]),
        [
            "s.yaml:7:9: a custom rotation needs `length` (e.g. 12h or 3d)",
            "s.yaml:11:9: duplicate layer id \"a\" in schedule \"ops\"",
            "s.yaml:14:11: a custom rotation must be at least 1h long, not 30m",
            "s.yaml:15:11: invalid date \"2026/03/01\": expected YYYY-MM-DD",
            "s.yaml:16:11: a rotation needs at least one member",
            "s.yaml:20:11: `length` applies only to custom rotations; a weekly turn is 7 local days at the hand-off time",
            "s.yaml:26:5: a schedule needs at least one layer",
        ]
    );
}

#[test]
fn contact_methods_and_rules_are_checked() {
    let people = "\
people:
  - id: ann
    name: Ann
    time_zone: UTC
    contact_methods:
      - id: hook
        type: webhook
        address: 127.0.0.1:9099
      - id: hook
        type: phone
        address: '+49 30 1234'
    notification_rules:
      - contact_method: sms
        after_minutes: 5
  - id: ann
    name: Ann again
    time_zone: UTC
";
    assert_eq!(
        problems(&[("p.yaml", people)]),
        [
            "p.yaml:8:9: invalid webhook URL \"127.0.0.1:9099\": expected an https:// or http:// URL",
            "p.yaml:9:9: duplicate contact method id \"hook\" for \"ann\"",
            "p.yaml:13:9: unknown contact method \"sms\"; expected one of hook",
            "p.yaml:15:5: duplicate id \"ann\" in `people`",
        ]
    );
    let bad_type = "people:\n  - id: x\n    name: X\n    time_zone: UTC\n    contact_methods:\n      - id: a\n        type: pager\n        address: '1'\n";
    let got = problems(&[("t.yaml", bad_type)]);
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .starts_with("t.yaml:7:15: people[0].contact_methods[0].type: unknown variant `pager`"),
        "{}",
        got[0]
    );
}

#[test]
fn each_section_is_defined_once() {
    let again = "# more people\npeople: []\n";
    assert_eq!(
        problems(&[("a.yaml", PEOPLE), ("b.yaml", again)]),
        ["b.yaml:2:1: section `people` is already defined in a.yaml"]
    );
}
