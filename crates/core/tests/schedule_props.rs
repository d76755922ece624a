//! Property tests of the schedule math against a point-wise reference model, in zones with
//! one-hour, thirty-minute and no daylight-saving changes.
//!
//! The implementation builds interval lists (turns, restriction windows, layers, overrides)
//! and merges them; the reference below asks, for one instant at a time, "which override
//! contains it, else which layer from the top covers it, and whose turn is it", computing each
//! answer from the local calendar directly. The two must agree everywhere.

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use warroom_core::schedule::{
    Day, Layer, LocalTime, Override, Restriction, Rotation, RotationKind, Schedule, Shift,
    ShiftSource, TimeZoneName, shifts, shifts_overlapping, who_is_on_call,
};

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
];
const PEOPLE: [&str; 5] = ["ann", "ben", "cat", "dan", "eve"];

// ---------------------------------------------------------------------------------------------
// The reference model.

fn compatible(tz: &TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .ok()
}

fn plus_days(date: Date, days: i64) -> Date {
    date.checked_add(SignedDuration::from_hours(24 * days))
        .expect("date in range")
}

fn days_between(a: Date, b: Date) -> i64 {
    b.duration_since(a).as_hours().div_euclid(24)
}

/// Whether a restriction window (starting on the day of `t` or the day before) contains `t`.
fn in_windows(restrictions: &[Restriction], tz: &TimeZone, t: Timestamp) -> bool {
    let today = tz.to_datetime(t).date();
    [plus_days(today, -1), today].into_iter().any(|day| {
        restrictions.iter().any(|r| {
            if !r.days.contains(&Day::of(day)) {
                return false;
            }
            let end_day = if r.to <= r.from {
                plus_days(day, 1)
            } else {
                day
            };
            match (
                compatible(tz, day, r.from.time()),
                compatible(tz, end_day, r.to.time()),
            ) {
                (Some(s), Some(e)) => s <= t && t < e,
                _ => false,
            }
        })
    })
}

/// The turn of `rotation` at `t`, found from the local calendar.
fn turn_at(rotation: &Rotation, tz: &TimeZone, t: Timestamp) -> Option<i64> {
    let handoff = |k: i64| -> Option<Timestamp> {
        match rotation.kind {
            RotationKind::Daily => {
                compatible(tz, plus_days(rotation.start, k), rotation.handoff.time())
            }
            RotationKind::Weekly => compatible(
                tz,
                plus_days(rotation.start, 7 * k),
                rotation.handoff.time(),
            ),
            RotationKind::Custom => {
                let first = compatible(tz, rotation.start, rotation.handoff.time())?;
                let len = rotation.length?.as_secs();
                first.checked_add(SignedDuration::from_secs(len * k)).ok()
            }
        }
    };
    let guess = match rotation.kind {
        RotationKind::Daily => days_between(rotation.start, tz.to_datetime(t).date()),
        RotationKind::Weekly => {
            days_between(rotation.start, tz.to_datetime(t).date()).div_euclid(7)
        }
        RotationKind::Custom => {
            let first = handoff(0)?;
            t.duration_since(first)
                .as_secs()
                .div_euclid(rotation.length?.as_secs())
        }
    };
    let k = (guess - 2..=guess + 2)
        .find(|&k| handoff(k).is_some_and(|h| h <= t) && handoff(k + 1).is_some_and(|h| t < h))?;
    (k >= 0).then_some(k)
}

fn reference(s: &Schedule, overrides: &[Override], t: Timestamp) -> Option<(String, ShiftSource)> {
    if let Some(o) = overrides
        .iter()
        .rev()
        .find(|o| o.schedule == s.id && o.start <= t && t < o.end)
    {
        return Some((o.person.clone(), ShiftSource::Override(o.id.clone())));
    }
    let tz = s.time_zone.tz();
    s.layers.iter().rev().find_map(|layer| {
        if !layer.restrictions.is_empty() && !in_windows(&layer.restrictions, tz, t) {
            return None;
        }
        let k = turn_at(&layer.rotation, tz, t)?;
        let members = &layer.rotation.members;
        let person = members[k.rem_euclid(members.len() as i64) as usize].clone();
        Some((person, ShiftSource::Layer(layer.id.clone())))
    })
}

// ---------------------------------------------------------------------------------------------
// Strategies.

/// Hours near the usual change times (01:00-03:00) come up often, so hand-offs and window
/// ends land in skipped and repeated hours.
fn local_time() -> impl Strategy<Value = LocalTime> {
    (
        prop_oneof![2 => 0i8..24, 1 => 1i8..4],
        prop_oneof![Just(0i8), Just(15), Just(30), Just(45), 0i8..60],
    )
        .prop_map(|(h, m)| LocalTime::new(h, m).expect("valid"))
}

/// A day in 2024..2029, often in the weeks around March-April and October-November changes.
fn base_date() -> impl Strategy<Value = Date> {
    (
        2024i16..2030,
        prop_oneof![
            2 => (3i8..5, 1i8..29),
            2 => (9i8..12, 1i8..29),
            1 => (1i8..13, 1i8..29),
        ],
    )
        .prop_map(|(y, (m, d))| Date::new(y, m, d).expect("valid"))
}

fn rotation(base: Date) -> impl Strategy<Value = Rotation> {
    (
        0u8..3,
        1i64..=96,
        local_time(),
        0i64..90,
        prop::collection::vec(prop::sample::select(PEOPLE.to_vec()), 1..5),
    )
        .prop_map(move |(kind, hours, handoff, back, members)| Rotation {
            kind: [
                RotationKind::Daily,
                RotationKind::Weekly,
                RotationKind::Custom,
            ][kind as usize],
            length: (kind == 2)
                .then(|| warroom_core::duration::Duration::from_secs(hours * 1800 + 1800)),
            handoff,
            start: plus_days(base, -back),
            members: members.into_iter().map(String::from).collect(),
        })
}

fn restriction() -> impl Strategy<Value = Restriction> {
    (
        prop::collection::btree_set(prop::sample::select(Day::ALL.to_vec()), 1..8),
        local_time(),
        local_time(),
    )
        .prop_map(|(days, from, to)| Restriction {
            days: days.into_iter().collect(),
            from,
            to,
        })
}

fn layers(base: Date) -> impl Strategy<Value = Vec<Layer>> {
    prop::collection::vec(
        (
            rotation(base),
            prop_oneof![
                2 => Just(Vec::new()),
                1 => prop::collection::vec(restriction(), 1..3),
            ],
        ),
        1..4,
    )
    .prop_map(|ls| {
        ls.into_iter()
            .enumerate()
            .map(|(i, (rotation, restrictions))| Layer {
                id: format!("l{i}"),
                rotation,
                restrictions,
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Case {
    schedule: Schedule,
    overrides: Vec<Override>,
    from: Timestamp,
    to: Timestamp,
    probes: Vec<Timestamp>,
}

fn case() -> impl Strategy<Value = Case> {
    (prop::sample::select(ZONES.to_vec()), base_date())
        .prop_flat_map(|(zone, base)| {
            (
                Just(zone),
                Just(base),
                layers(base),
                0i64..86_400,
                3_600i64..21 * 86_400,
                prop::collection::vec(
                    (
                        -86_400i64..21 * 86_400,
                        1_800i64..3 * 86_400,
                        prop::sample::select(PEOPLE.to_vec()),
                        prop::bool::weighted(0.85),
                    ),
                    0..4,
                ),
                prop::collection::vec(0.0f64..1.0, 12),
            )
        })
        .prop_map(|(zone, base, layers, offset, span, ovs, probes)| {
            let tz = TimeZone::get(zone).expect("zone");
            let start = compatible(&tz, base, Time::midnight()).expect("start");
            let from = start + SignedDuration::from_secs(offset);
            let to = from + SignedDuration::from_secs(span);
            let overrides = ovs
                .into_iter()
                .enumerate()
                .map(|(i, (at, len, person, mine))| Override {
                    id: format!("o{i}"),
                    schedule: if mine { "s" } else { "other" }.into(),
                    person: person.into(),
                    start: from + SignedDuration::from_secs(at),
                    end: from + SignedDuration::from_secs(at + len),
                })
                .collect();
            let probes = probes
                .into_iter()
                .map(|f| from + SignedDuration::from_secs_f64(f * span as f64))
                .collect();
            Case {
                schedule: Schedule {
                    id: "s".into(),
                    name: "S".into(),
                    time_zone: TimeZoneName::new(zone).expect("zone"),
                    layers,
                },
                overrides,
                from,
                to,
                probes,
            }
        })
}

fn containing(shifts: &[Shift], t: Timestamp) -> Option<&Shift> {
    shifts.iter().find(|s| s.start <= t && t < s.end)
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Shifts are sorted, disjoint, non-empty, inside the range, and merged; they cover exactly
    /// the instants where the reference has someone on call, with that person.
    #[test]
    fn shifts_are_well_formed_and_match_the_reference(c in case()) {
        let got = shifts(&c.schedule, &c.overrides, c.from, c.to);
        for s in &got {
            prop_assert!(c.from <= s.start && s.start < s.end && s.end <= c.to, "{s:?}");
            prop_assert!(!s.sources.is_empty());
        }
        for pair in got.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "overlap {pair:?}");
            prop_assert!(
                pair[0].end < pair[1].start || pair[0].person != pair[1].person,
                "unmerged {pair:?}"
            );
        }
        // Probe random instants and both sides of every bound.
        let mut probes = c.probes.clone();
        for s in &got {
            for b in [s.start, s.end] {
                probes.push(b);
                probes.push(b - SignedDuration::from_nanos(1));
            }
        }
        for o in &c.overrides {
            probes.extend([o.start, o.end - SignedDuration::from_nanos(1)]);
        }
        for t in probes.into_iter().filter(|t| c.from <= *t && *t < c.to) {
            let want = reference(&c.schedule, &c.overrides, t);
            let have = containing(&got, t);
            prop_assert_eq!(
                have.map(|s| s.person.clone()),
                want.as_ref().map(|w| w.0.clone()),
                "at {}", t
            );
            if let (Some(have), Some((_, source))) = (have, &want) {
                prop_assert!(have.sources.contains(source), "{source:?} not in {have:?}");
            }
        }
    }

    /// `who_is_on_call(t)` is the shift of `shifts(from, to)` that contains `t` (its stretch cut
    /// to the range), with the reference's person and source; overrides win in their window.
    #[test]
    fn who_is_on_call_agrees_with_shifts(c in case()) {
        let got = shifts(&c.schedule, &c.overrides, c.from, c.to);
        let mut probes = c.probes.clone();
        probes.extend(got.iter().take(6).map(|s| s.start));
        for t in probes {
            let now = who_is_on_call(&c.schedule, &c.overrides, t);
            match (&now, containing(&got, t)) {
                (None, None) => {}
                (Some(now), Some(shift)) => {
                    prop_assert_eq!(&now.person, &shift.person);
                    prop_assert_eq!(now.shift_start.max(c.from), shift.start, "at {}", t);
                    prop_assert_eq!(now.shift_end.min(c.to), shift.end, "at {}", t);
                    prop_assert!(shift.sources.contains(&now.source));
                }
                (now, shift) => prop_assert!(false, "at {t}: {now:?} vs {shift:?}"),
            }
            let want = reference(&c.schedule, &c.overrides, t);
            prop_assert_eq!(
                now.as_ref().map(|n| (n.person.clone(), n.source.clone())),
                want,
                "at {}", t
            );
            if let Some(o) = c
                .overrides
                .iter()
                .rev()
                .find(|o| o.schedule == "s" && o.start <= t && t < o.end)
            {
                let now = now.expect("an override puts someone on call");
                prop_assert_eq!(&now.person, &o.person);
                prop_assert_eq!(now.source, ShiftSource::Override(o.id.clone()));
            }
        }
    }

    /// Whole shifts are the cut shifts, extended: the same people in the same order, and the
    /// same bounds wherever the cut one was not cut.
    #[test]
    fn whole_shifts_extend_cut_ones(c in case()) {
        let cut = shifts(&c.schedule, &c.overrides, c.from, c.to);
        let whole = shifts_overlapping(&c.schedule, &c.overrides, c.from, c.to);
        prop_assert_eq!(cut.len(), whole.len());
        for (a, b) in cut.iter().zip(&whole) {
            prop_assert_eq!(&a.person, &b.person);
            prop_assert!(b.start <= a.start && a.end <= b.end);
            if a.start > c.from { prop_assert_eq!(a.start, b.start); }
            if a.end < c.to { prop_assert_eq!(a.end, b.end); }
        }
    }

    /// Daily and weekly hand-offs happen at the configured local time every 1 or 7 local days,
    /// whatever the clocks do; a hand-off in a skipped hour happens the gap's length later.
    #[test]
    fn handoffs_keep_their_local_time(
        zone in prop::sample::select(ZONES.to_vec()),
        base in base_date(),
        weekly in any::<bool>(),
        handoff in local_time(),
        back in 0i64..30,
        span_days in 2i64..60,
        n in 2usize..5,
    ) {
        let tz = TimeZone::get(zone).expect("zone");
        let start = plus_days(base, -back);
        let period = if weekly { 7 } else { 1 };
        let schedule = Schedule {
            id: "s".into(),
            name: "S".into(),
            time_zone: TimeZoneName::new(zone).expect("zone"),
            layers: vec![Layer {
                id: "l".into(),
                rotation: Rotation {
                    kind: if weekly { RotationKind::Weekly } else { RotationKind::Daily },
                    length: None,
                    handoff,
                    start,
                    members: PEOPLE[..n].iter().map(|p| p.to_string()).collect(),
                },
                restrictions: Vec::new(),
            }],
        };
        let from = compatible(&tz, base, Time::midnight()).expect("from");
        let to = from + SignedDuration::from_hours(24 * span_days);
        let got = shifts(&schedule, &[], from, to);
        prop_assert!(!got.is_empty());
        let mut previous: Option<Date> = None;
        for s in got.iter().skip(1) {
            let local = tz.to_datetime(s.start);
            // The hand-off's local date: a skipped time pushed past midnight belongs to the day
            // before.
            let date = [local.date(), plus_days(local.date(), -1)]
                .into_iter()
                .find(|d| compatible(&tz, *d, handoff.time()) == Some(s.start))
                .expect("every hand-off is the local hand-off time of some day");
            let in_gap = matches!(
                tz.to_ambiguous_timestamp(date.to_datetime(handoff.time())).offset(),
                AmbiguousOffset::Gap { .. }
            );
            if !in_gap {
                prop_assert_eq!(local.time(), handoff.time());
            } else {
                prop_assert!(local.time() > handoff.time() || local.date() > date);
            }
            if let Some(p) = previous {
                prop_assert_eq!(days_between(p, date), period, "{:?}", s);
            }
            prop_assert_eq!(days_between(start, date).rem_euclid(period), 0);
            previous = Some(date);
        }
        // Whole turns last the period, give or take the zone's change (at most an hour here).
        for s in got.iter().skip(1).take(got.len().saturating_sub(2)) {
            let hours = s.end.duration_since(s.start).as_secs_f64() / 3600.0;
            let nominal = 24.0 * period as f64;
            prop_assert!((hours - nominal).abs() <= 1.0, "{hours} h: {s:?}");
        }
    }
}
