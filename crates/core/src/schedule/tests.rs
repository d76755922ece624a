use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn rotation(kind: RotationKind, handoff: &str, start: &str, members: &[&str]) -> Rotation {
    Rotation {
        kind,
        length: None,
        handoff: handoff.parse().expect("time"),
        start: start.parse().expect("date"),
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

fn custom(length: &str, handoff: &str, start: &str, members: &[&str]) -> Rotation {
    Rotation {
        length: Some(length.parse().expect("duration")),
        ..rotation(RotationKind::Custom, handoff, start, members)
    }
}

fn layer(id: &str, rotation: Rotation) -> Layer {
    Layer {
        id: id.into(),
        rotation,
        restrictions: Vec::new(),
    }
}

fn restricted(id: &str, rotation: Rotation, restrictions: &[(&[Day], &str, &str)]) -> Layer {
    Layer {
        restrictions: restrictions
            .iter()
            .map(|(days, from, to)| Restriction {
                days: days.to_vec(),
                from: from.parse().expect("from"),
                to: to.parse().expect("to"),
            })
            .collect(),
        ..layer(id, rotation)
    }
}

fn schedule(zone: &str, layers: Vec<Layer>) -> Schedule {
    Schedule {
        id: "s".into(),
        name: "S".into(),
        time_zone: TimeZoneName::new(zone).expect("zone"),
        layers,
    }
}

fn ov(id: &str, person: &str, start: &str, end: &str) -> Override {
    Override {
        id: id.into(),
        schedule: "s".into(),
        person: person.into(),
        start: ts(start),
        end: ts(end),
    }
}

/// `person start..end` in the schedule's local time, for readable assertions.
fn show(s: &Schedule, shifts: &[Shift]) -> Vec<String> {
    let tz = s.time_zone.tz();
    shifts
        .iter()
        .map(|x| {
            format!(
                "{} {}..{}",
                x.person,
                tz.to_datetime(x.start).strftime("%a %m-%d %H:%M"),
                tz.to_datetime(x.end).strftime("%a %m-%d %H:%M")
            )
        })
        .collect()
}

fn hours(shift: &Shift) -> f64 {
    shift.end.duration_since(shift.start).as_secs_f64() / 3600.0
}

#[test]
fn parses_times_days_and_zones() {
    assert_eq!("09:00".parse::<LocalTime>(), Ok(LocalTime::NINE));
    assert_eq!(
        "7:05".parse::<LocalTime>().map(|t| t.to_string()),
        Ok("07:05".into())
    );
    for bad in [
        "24:00", "9", "09:0", "09:60", "9am", "09:00:00", "-1:00", "",
    ] {
        assert!(bad.parse::<LocalTime>().is_err(), "{bad:?}");
    }
    assert_eq!("Mon".parse::<Day>(), Ok(Day::Mon));
    assert_eq!("sunday".parse::<Day>(), Ok(Day::Sun));
    assert_eq!(
        "fr".parse::<Day>(),
        Err("unknown day \"fr\": expected one of mon, tue, wed, thu, fri, sat, sun".into())
    );
    assert_eq!(Day::of(jiff::civil::date(2026, 3, 29)), Day::Sun);
    assert_eq!(
        TimeZoneName::new("europe/berlin").map(|z| z.name().to_string()),
        Ok("Europe/Berlin".into())
    );
    assert!(TimeZoneName::new("Europe/Berln").is_err());
    assert!(TimeZoneName::new("").is_err());
}

#[test]
fn daily_handoff_stays_at_local_time_across_the_berlin_changes() {
    let s = schedule(
        "Europe/Berlin",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "09:00", "2026-03-01", &["a", "b"]),
        )],
    );
    // Spring: 2026-03-29 02:00 -> 03:00. The turn that contains it is 23 hours long.
    let spring = shifts(
        &s,
        &[],
        ts("2026-03-28T08:00:00Z"),
        ts("2026-03-30T07:00:00Z"),
    );
    assert_eq!(
        show(&s, &spring),
        [
            "b Sat 03-28 09:00..Sun 03-29 09:00",
            "a Sun 03-29 09:00..Mon 03-30 09:00"
        ]
    );
    assert_eq!(hours(&spring[0]), 23.0);
    assert_eq!(hours(&spring[1]), 24.0);
    // Autumn: 2026-10-25 03:00 -> 02:00. That turn is 25 hours long.
    let autumn = shifts(
        &s,
        &[],
        ts("2026-10-24T07:00:00Z"),
        ts("2026-10-26T08:00:00Z"),
    );
    assert_eq!(
        show(&s, &autumn),
        [
            "b Sat 10-24 09:00..Sun 10-25 09:00",
            "a Sun 10-25 09:00..Mon 10-26 09:00"
        ]
    );
    assert_eq!(hours(&autumn[0]), 25.0);
    assert_eq!(hours(&autumn[1]), 24.0);
}

#[test]
fn weekly_turns_are_seven_local_days() {
    let s = schedule(
        "Europe/Berlin",
        vec![layer(
            "weekly",
            rotation(
                RotationKind::Weekly,
                "09:00",
                "2026-03-23",
                &["a", "b", "c"],
            ),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-03-23T08:00:00Z"),
        ts("2026-04-13T07:00:00Z"),
    );
    assert_eq!(
        show(&s, &got),
        [
            "a Mon 03-23 09:00..Mon 03-30 09:00",
            "b Mon 03-30 09:00..Mon 04-06 09:00",
            "c Mon 04-06 09:00..Mon 04-13 09:00"
        ]
    );
    assert_eq!(
        got.iter().map(hours).collect::<Vec<_>>(),
        [167.0, 168.0, 168.0]
    );
}

#[test]
fn a_skipped_handoff_moves_forward_by_the_gap() {
    // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist that day.
    let s = schedule(
        "America/New_York",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "02:30", "2026-03-01", &["a", "b"]),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-03-07T07:30:00Z"),
        ts("2026-03-09T06:30:00Z"),
    );
    assert_eq!(
        got.iter().map(|x| x.start.to_string()).collect::<Vec<_>>(),
        ["2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z"]
    );
    // 02:30 EST would be 07:30Z; it is read as 03:30 EDT, which is the same instant.
    assert_eq!(
        show(&s, &got),
        [
            "a Sat 03-07 02:30..Sun 03-08 03:30",
            "b Sun 03-08 03:30..Mon 03-09 02:30"
        ]
    );
    assert_eq!((hours(&got[0]), hours(&got[1])), (24.0, 23.0));

    // Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
    let s = schedule(
        "Australia/Lord_Howe",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "02:15", "2026-10-01", &["a", "b"]),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-10-02T12:00:00Z"),
        ts("2026-10-05T12:00:00Z"),
    );
    assert_eq!(
        show(&s, &got),
        [
            "b Fri 10-02 22:30..Sat 10-03 02:15",
            "a Sat 10-03 02:15..Sun 10-04 02:45",
            "b Sun 10-04 02:45..Mon 10-05 02:15",
            "a Mon 10-05 02:15..Mon 10-05 23:00"
        ]
    );
    assert_eq!(hours(&got[1]), 24.0);
    assert_eq!(hours(&got[2]), 23.5);
}

#[test]
fn a_repeated_handoff_means_its_first_occurrence() {
    // New York falls back at 02:00 on 2026-11-01: 01:30 happens twice.
    let s = schedule(
        "America/New_York",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "01:30", "2026-10-01", &["a", "b"]),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-10-31T05:30:00Z"),
        ts("2026-11-02T06:30:00Z"),
    );
    assert_eq!(
        got.iter().map(|x| x.start.to_string()).collect::<Vec<_>>(),
        ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z"]
    );
    assert_eq!((hours(&got[0]), hours(&got[1])), (24.0, 25.0));
}

#[test]
fn custom_rotations_step_in_absolute_time() {
    let s = schedule(
        "Europe/Berlin",
        vec![layer(
            "twelve",
            custom("12h", "09:00", "2026-03-28", &["a", "b"]),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-03-28T08:00:00Z"),
        ts("2026-03-30T08:00:00Z"),
    );
    assert!(got.iter().all(|x| hours(x) == 12.0));
    // Local hand-off times move by the hour the clocks moved.
    assert_eq!(
        show(&s, &got),
        [
            "a Sat 03-28 09:00..Sat 03-28 21:00",
            "b Sat 03-28 21:00..Sun 03-29 10:00",
            "a Sun 03-29 10:00..Sun 03-29 22:00",
            "b Sun 03-29 22:00..Mon 03-30 10:00"
        ]
    );
}

#[test]
fn nobody_is_on_call_before_the_rotation_starts() {
    let s = schedule(
        "UTC",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "09:00", "2026-03-02", &["a"]),
        )],
    );
    assert_eq!(who_is_on_call(&s, &[], ts("2026-03-02T08:59:59Z")), None);
    let got = shifts(
        &s,
        &[],
        ts("2026-03-01T00:00:00Z"),
        ts("2026-03-03T00:00:00Z"),
    );
    assert_eq!(show(&s, &got), ["a Mon 03-02 09:00..Tue 03-03 00:00"]);
}

#[test]
fn later_layers_win_where_they_have_someone() {
    let weekdays = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    let s = schedule(
        "Europe/Berlin",
        vec![
            layer(
                "weekly",
                rotation(RotationKind::Weekly, "09:00", "2026-03-23", &["a", "b"]),
            ),
            restricted(
                "business",
                rotation(RotationKind::Daily, "09:00", "2026-03-23", &["x", "y"]),
                &[(&weekdays, "09:00", "17:00")],
            ),
        ],
    );
    // Friday 27 March to Tuesday 31 March, across the spring change.
    let got = shifts(
        &s,
        &[],
        ts("2026-03-27T00:00:00Z"),
        ts("2026-03-31T12:00:00Z"),
    );
    assert_eq!(
        show(&s, &got),
        [
            "a Fri 03-27 01:00..Fri 03-27 09:00",
            "x Fri 03-27 09:00..Fri 03-27 17:00",
            "a Fri 03-27 17:00..Mon 03-30 09:00",
            "y Mon 03-30 09:00..Mon 03-30 17:00",
            "b Mon 03-30 17:00..Tue 03-31 09:00",
            "x Tue 03-31 09:00..Tue 03-31 14:00"
        ]
    );
    let at = who_is_on_call(&s, &[], ts("2026-03-30T10:00:00Z")).expect("someone");
    assert_eq!(
        (at.person.as_str(), &at.source),
        ("y", &ShiftSource::Layer("business".into()))
    );
    let at = who_is_on_call(&s, &[], ts("2026-03-28T10:00:00Z")).expect("someone");
    assert_eq!(
        (at.person.as_str(), &at.source),
        ("a", &ShiftSource::Layer("weekly".into()))
    );
    assert_eq!(at.shift_start, ts("2026-03-27T16:00:00Z"));
    assert_eq!(at.shift_end, ts("2026-03-30T07:00:00Z"));
}

#[test]
fn restrictions_limit_a_layer_to_local_windows() {
    let s = schedule(
        "America/New_York",
        vec![restricted(
            "nights",
            rotation(RotationKind::Daily, "00:00", "2026-03-01", &["a"]),
            &[
                (&[Day::Fri], "22:00", "06:00"),
                (&[Day::Sun], "00:00", "00:00"),
            ],
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-03-06T00:00:00Z"),
        ts("2026-03-10T00:00:00Z"),
    );
    // Friday night into Saturday; all of Sunday 8 March, the 23-hour spring-forward day.
    assert_eq!(
        show(&s, &got),
        [
            "a Fri 03-06 22:00..Sat 03-07 06:00",
            "a Sun 03-08 00:00..Mon 03-09 00:00"
        ]
    );
    assert_eq!(hours(&got[1]), 23.0);
    assert_eq!(who_is_on_call(&s, &[], ts("2026-03-07T15:00:00Z")), None);
    let night = who_is_on_call(&s, &[], ts("2026-03-07T05:00:00Z")).expect("on call");
    assert_eq!(night.shift_start, ts("2026-03-07T03:00:00Z"));
    assert_eq!(night.shift_end, ts("2026-03-07T11:00:00Z"));
}

#[test]
fn overrides_win_inside_their_window() {
    let s = schedule(
        "UTC",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "09:00", "2026-03-01", &["a", "b"]),
        )],
    );
    let overrides = [
        ov("o1", "c", "2026-03-02T10:00:00Z", "2026-03-02T14:00:00Z"),
        // Later in the slice: wins where the two overlap.
        ov("o2", "d", "2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z"),
        // Another schedule's override, and an empty one: both ignored.
        Override {
            schedule: "other".into(),
            ..ov("o3", "e", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")
        },
        ov("o4", "f", "2026-03-02T15:00:00Z", "2026-03-02T15:00:00Z"),
        // The same person as the layer: one shift, two sources.
        ov("o5", "b", "2026-03-02T06:00:00Z", "2026-03-02T09:30:00Z"),
    ];
    let got = shifts(
        &s,
        &overrides,
        ts("2026-03-02T00:00:00Z"),
        ts("2026-03-03T00:00:00Z"),
    );
    assert_eq!(
        show(&s, &got),
        [
            "a Mon 03-02 00:00..Mon 03-02 06:00",
            "b Mon 03-02 06:00..Mon 03-02 10:00",
            "c Mon 03-02 10:00..Mon 03-02 12:00",
            "d Mon 03-02 12:00..Mon 03-02 13:00",
            "c Mon 03-02 13:00..Mon 03-02 14:00",
            "b Mon 03-02 14:00..Tue 03-03 00:00"
        ]
    );
    assert_eq!(
        got[1].sources,
        [
            ShiftSource::Override("o5".into()),
            ShiftSource::Layer("daily".into())
        ]
    );
    let at = who_is_on_call(&s, &overrides, ts("2026-03-02T12:30:00Z")).expect("d");
    assert_eq!(
        at,
        OnCall {
            schedule: "s".into(),
            person: "d".into(),
            source: ShiftSource::Override("o2".into()),
            shift_start: ts("2026-03-02T12:00:00Z"),
            shift_end: ts("2026-03-02T13:00:00Z"),
        }
    );
    // An override covers a gap where no layer has anyone.
    let nobody = schedule(
        "UTC",
        vec![layer(
            "late",
            rotation(RotationKind::Daily, "09:00", "2030-01-01", &["a"]),
        )],
    );
    let at = who_is_on_call(&nobody, &overrides, ts("2026-03-02T11:00:00Z")).expect("c");
    assert_eq!(at.person, "c");
}

#[test]
fn consecutive_turns_of_the_same_person_merge() {
    let s = schedule(
        "UTC",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "00:00", "2026-03-01", &["a", "a", "b"]),
        )],
    );
    let got = shifts(
        &s,
        &[],
        ts("2026-03-01T00:00:00Z"),
        ts("2026-03-07T00:00:00Z"),
    );
    assert_eq!(
        show(&s, &got),
        [
            "a Sun 03-01 00:00..Tue 03-03 00:00",
            "b Tue 03-03 00:00..Wed 03-04 00:00",
            "a Wed 03-04 00:00..Fri 03-06 00:00",
            "b Fri 03-06 00:00..Sat 03-07 00:00"
        ]
    );
    assert_eq!(got[0].sources, [ShiftSource::Layer("daily".into())]);
    let now = who_is_on_call(&s, &[], ts("2026-03-05T12:00:00Z")).expect("a");
    assert_eq!(
        (now.shift_start, now.shift_end),
        (ts("2026-03-04T00:00:00Z"), ts("2026-03-06T00:00:00Z"))
    );
}

#[test]
fn whole_shifts_do_not_depend_on_the_range_asked_for() {
    let s = schedule(
        "Europe/Berlin",
        vec![layer(
            "weekly",
            rotation(RotationKind::Weekly, "09:00", "2026-03-23", &["a", "b"]),
        )],
    );
    let a = shifts_overlapping(
        &s,
        &[],
        ts("2026-03-25T00:00:00Z"),
        ts("2026-03-26T00:00:00Z"),
    );
    let b = shifts_overlapping(
        &s,
        &[],
        ts("2026-03-29T00:00:00Z"),
        ts("2026-03-31T00:00:00Z"),
    );
    assert_eq!(show(&s, &a), ["a Mon 03-23 09:00..Mon 03-30 09:00"]);
    assert_eq!(
        show(&s, &b),
        [
            "a Mon 03-23 09:00..Mon 03-30 09:00",
            "b Mon 03-30 09:00..Mon 04-06 09:00"
        ]
    );
    // One person forever: the stretch is cut at the search horizon.
    let alone = schedule(
        "UTC",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "09:00", "2020-01-01", &["a"]),
        )],
    );
    let at = ts("2026-03-01T00:00:00Z");
    let now = who_is_on_call(&alone, &[], at).expect("a");
    let horizon = SignedDuration::from_hours(SEARCH_HORIZON_DAYS * 24);
    assert_eq!(now.shift_start, at.checked_sub(horizon).expect("in range"));
    // (The end is measured from the end of the instant asked about.)
    assert_eq!(
        now.shift_end.duration_since(at),
        horizon + SignedDuration::from_nanos(1)
    );
}

#[test]
fn empty_ranges_schedules_and_rotations_give_nothing() {
    let s = schedule(
        "UTC",
        vec![layer(
            "daily",
            rotation(RotationKind::Daily, "09:00", "2026-03-01", &["a"]),
        )],
    );
    let t = ts("2026-03-05T00:00:00Z");
    assert!(shifts(&s, &[], t, t).is_empty());
    assert!(shifts(&s, &[], t, ts("2026-03-04T00:00:00Z")).is_empty());
    assert!(shifts_overlapping(&s, &[], t, t).is_empty());
    let empty = schedule(
        "UTC",
        vec![layer(
            "none",
            rotation(RotationKind::Daily, "09:00", "2026-03-01", &[]),
        )],
    );
    assert_eq!(who_is_on_call(&empty, &[], t), None);
    let no_length = schedule(
        "UTC",
        vec![layer(
            "none",
            rotation(RotationKind::Custom, "09:00", "2026-03-01", &["a"]),
        )],
    );
    assert_eq!(who_is_on_call(&no_length, &[], t), None);
    // Extreme instants neither panic nor loop.
    let _ = who_is_on_call(&s, &[], Timestamp::MAX);
    let _ = who_is_on_call(&s, &[], Timestamp::MIN);
}

#[test]
fn shift_sources_serialise_with_their_kind() {
    let json = serde_json::to_string(&ShiftSource::Override("o1".into())).expect("json");
    assert_eq!(json, r#"{"override":"o1"}"#);
    assert_eq!(
        ShiftSource::Layer("weekly".into()).to_string(),
        "layer weekly"
    );
}
