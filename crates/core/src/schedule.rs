//! On-call schedules: rotations, layers, restrictions and overrides, and the math that says who
//! is on call at an instant or over a range.
//!
//! A [`Schedule`] has a time zone and ordered [`Layer`]s. Each layer has a [`Rotation`] (who, in
//! which order, how long each turn is, when the hand-off happens) and optional
//! [`Restriction`]s (local windows such as business hours outside which the layer covers
//! nobody). Where several layers have someone on call, the **later** layer wins; an
//! [`Override`] wins over every layer inside its window, and where overrides overlap, the one
//! later in the slice wins.
//!
//! # Time rules
//!
//! - `daily` and `weekly` rotations step in **local calendar days** (1 or 7) of the schedule's
//!   time zone, and every hand-off happens at the same local time: a daily 09:00 hand-off in
//!   Europe/Berlin stays at 09:00 across the March and October changes, so the shifts that
//!   contain a change are 23 h and 25 h long.
//! - `custom` rotations step by a **fixed duration of absolute time** (`12h` is always 12 hours)
//!   from the first hand-off, so their local hand-off time moves when the offset changes.
//! - Local times are turned into instants with jiff's **compatible** disambiguation (the rule of
//!   RFC 5545 and of JavaScript's Temporal): a local time skipped by a change (02:30 on a
//!   spring-forward day in a zone that jumps 02:00 -> 03:00) is moved **forward by the length of
//!   the gap** (to 03:30 in the new offset); a local time that occurs twice (fall back) means its
//!   **first** occurrence (the earlier instant, in the offset before the change). This applies to
//!   hand-offs and to both ends of restriction windows; a restriction window that the rule
//!   leaves empty (both ends in the same skipped hour) covers nothing that day.
//! - A rotation covers nobody before its first hand-off (`start` at `handoff`).
//!
//! Everything here is pure: time is always a parameter, never read from a clock.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::Duration;

/// A time zone from the IANA database (`Europe/Berlin`, `UTC`), checked when it is built.
#[derive(Clone)]
pub struct TimeZoneName {
    name: String,
    tz: TimeZone,
}

impl TimeZoneName {
    /// Looks a zone up by its IANA name; the stored name is the database's spelling.
    pub fn new(name: &str) -> Result<Self, String> {
        let trimmed = name.trim();
        match TimeZone::get(trimmed) {
            Ok(tz) if !trimmed.is_empty() => Ok(Self {
                name: tz.iana_name().unwrap_or(trimmed).to_string(),
                tz,
            }),
            _ => Err(format!(
                "unknown time zone {name:?}: use an IANA name such as Europe/Berlin, America/New_York or UTC"
            )),
        }
    }

    /// Coordinated Universal Time, which needs no zone database.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZoneName({:?})", self.name)
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for TimeZoneName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for TimeZoneName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// A wall-clock time of day to the minute, written `HH:MM` (`09:00`, `17:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(Time);

impl LocalTime {
    /// 09:00, the default hand-off.
    pub const NINE: LocalTime = LocalTime(Time::constant(9, 0, 0, 0));

    /// The time `hour:minute`, if both are in range.
    pub fn new(hour: i8, minute: i8) -> Option<Self> {
        Time::new(hour, minute, 0, 0).ok().map(Self)
    }

    /// As a jiff civil time.
    pub fn time(self) -> Time {
        self.0
    }
}

impl Default for LocalTime {
    fn default() -> Self {
        Self::NINE
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl FromStr for LocalTime {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = || format!("invalid time {input:?}: expected HH:MM, 00:00 to 23:59");
        let (h, m) = input.trim().split_once(':').ok_or_else(err)?;
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
            return Err(err());
        }
        let (h, m): (i8, i8) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
        Self::new(h, m).ok_or_else(err)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A day of the week, written `mon` .. `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    /// Every day, Monday first.
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// The day of the week of a date.
    pub fn of(date: Date) -> Day {
        match date.weekday() {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }

    /// The short name (`mon`).
    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Day {
    type Err = String;

    /// `mon`..`sun` or the full English name, in any case.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let lower = input.trim().to_ascii_lowercase();
        Day::ALL
            .into_iter()
            .find(|d| {
                lower == d.as_str()
                    || lower
                        == match d {
                            Day::Mon => "monday",
                            Day::Tue => "tuesday",
                            Day::Wed => "wednesday",
                            Day::Thu => "thursday",
                            Day::Fri => "friday",
                            Day::Sat => "saturday",
                            Day::Sun => "sunday",
                        }
            })
            .ok_or_else(|| {
                format!("unknown day {input:?}: expected one of mon, tue, wed, thu, fri, sat, sun")
            })
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How long each turn of a rotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RotationKind {
    /// One local day, hand-off at the same local time every day.
    Daily,
    /// Seven local days, hand-off at the same local time.
    Weekly,
    /// A fixed duration of absolute time (`length`).
    Custom,
}

impl fmt::Display for RotationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RotationKind::Daily => "daily",
            RotationKind::Weekly => "weekly",
            RotationKind::Custom => "custom",
        })
    }
}

/// Who takes turns, in which order, and when a turn hands off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Daily, weekly or custom.
    #[serde(rename = "type")]
    pub kind: RotationKind,
    /// The length of a turn; required for `custom`, absent otherwise. A custom rotation
    /// without a length covers nobody (the config loader refuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Duration>,
    /// Local time of the hand-off in the schedule's zone.
    #[serde(default)]
    pub handoff: LocalTime,
    /// The local date of the first hand-off; the first member's turn starts then.
    pub start: Date,
    /// Person ids in turn order; a person may appear more than once.
    pub members: Vec<String>,
}

/// A local window the layer covers, e.g. business hours: `days: [mon, tue, wed, thu, fri]`,
/// `from: "09:00"`, `to: "17:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    /// Days on which a window starts.
    pub days: Vec<Day>,
    /// Local start time.
    pub from: LocalTime,
    /// Local end time. When not after `from`, the window ends on the next day
    /// (`22:00`-`06:00` is overnight, `00:00`-`00:00` the whole day).
    pub to: LocalTime,
}

/// One layer of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Id, unique in the schedule.
    pub id: String,
    /// Who is on call and when turns hand off.
    pub rotation: Rotation,
    /// When non-empty, the layer covers only these local windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<Restriction>,
}

/// An on-call schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Id used in URLs and commands.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Zone of hand-off times and restriction windows.
    pub time_zone: TimeZoneName,
    /// Layers, lowest priority first: where a later layer has someone on call, it wins.
    pub layers: Vec<Layer>,
}

/// Someone covers a schedule for a while instead of whoever the layers say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Id of the override.
    pub id: String,
    /// Id of the schedule it applies to; overrides of other schedules are ignored.
    pub schedule: String,
    /// Person on call instead.
    pub person: String,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive. An override that does not end after it starts covers nothing.
    pub end: Timestamp,
}

/// Why someone is on call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftSource {
    /// A layer's rotation (layer id).
    Layer(String),
    /// An override (override id).
    Override(String),
}

impl fmt::Display for ShiftSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShiftSource::Layer(id) => write!(f, "layer {id}"),
            ShiftSource::Override(id) => write!(f, "override {id}"),
        }
    }
}

/// A stretch of time one person is on call for a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Schedule id.
    pub schedule: String,
    /// Person id.
    pub person: String,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
    /// The layers and overrides that put the person on call, in order of first appearance
    /// (several when consecutive turns of the same person were merged).
    pub sources: Vec<ShiftSource>,
}

/// Who is on call at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCall {
    /// Schedule id.
    pub schedule: String,
    /// Person id.
    pub person: String,
    /// The layer or override that puts them on call at that instant.
    pub source: ShiftSource,
    /// Start of their uninterrupted stretch (consecutive turns merged).
    pub shift_start: Timestamp,
    /// End of that stretch.
    pub shift_end: Timestamp,
}

/// How far [`shifts_overlapping`] and [`who_is_on_call`] look for the ends of a stretch: a
/// stretch that goes on longer (a one-person rotation) is cut at this distance from the range.
pub const SEARCH_HORIZON_DAYS: i64 = 366;

/// Search windows tried in turn before giving up at the horizon.
const SEARCH_DAYS: [i64; 3] = [8, 64, SEARCH_HORIZON_DAYS];

/// Who is on call for `schedule` at `at`, with the bounds of their uninterrupted stretch (cut
/// at [`SEARCH_HORIZON_DAYS`] from `at` if it goes on longer). `None` when nobody is.
pub fn who_is_on_call(
    schedule: &Schedule,
    overrides: &[Override],
    at: Timestamp,
) -> Option<OnCall> {
    let end = at.checked_add(SignedDuration::from_nanos(1)).ok()?;
    let piece = timeline(schedule, overrides, at, end).into_iter().next()?;
    let shift = shifts_overlapping(schedule, overrides, at, end)
        .into_iter()
        .next()?;
    Some(OnCall {
        schedule: schedule.id.clone(),
        person: shift.person,
        source: piece.source(schedule, overrides),
        shift_start: shift.start,
        shift_end: shift.end,
    })
}

/// The shifts of `schedule` within `[from, to)`, sorted and non-overlapping, cut to the range:
/// layers merged (later layers win), overrides on top, consecutive turns of the same person
/// merged into one shift. Where nobody is on call there is no shift.
///
/// The work is linear in the number of hand-offs and local days in the range; callers that
/// take a range from outside should bound it.
pub fn shifts(
    schedule: &Schedule,
    overrides: &[Override],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Shift> {
    merge_people(schedule, overrides, timeline(schedule, overrides, from, to))
}

/// Like [`shifts`], but the shifts that overlap `[from, to)` are given whole rather than cut
/// to the range (up to [`SEARCH_HORIZON_DAYS`] beyond it), so a shift has the same bounds
/// however the range is chosen: what a calendar feed needs for stable events.
pub fn shifts_overlapping(
    schedule: &Schedule,
    overrides: &[Override],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Shift> {
    if from >= to {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for days in SEARCH_DAYS {
        let reach = SignedDuration::from_hours(days * 24);
        let lo = from.saturating_sub(reach).unwrap_or(from);
        let hi = to.saturating_add(reach).unwrap_or(to);
        hits = shifts(schedule, overrides, lo, hi)
            .into_iter()
            .filter(|s| s.end > from && s.start < to)
            .collect::<Vec<_>>();
        let cut = hits.first().is_some_and(|s| s.start == lo && lo < from)
            || hits.last().is_some_and(|s| s.end == hi && hi > to);
        if !cut {
            break;
        }
    }
    hits
}

/// Turns the schedule's local date and time into an instant by the compatible rule (see the
/// module docs).
fn resolve(tz: &TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .ok()
}

/// `date` plus `days` calendar days, if it stays in range.
fn add_days(date: Date, days: i64) -> Option<Date> {
    // jiff dates span about 7.3 million days; beyond that there is nothing to compute.
    if days.unsigned_abs() > 8_000_000 {
        return None;
    }
    date.checked_add(SignedDuration::from_hours(days * 24)).ok()
}

/// How a rotation steps from one hand-off to the next.
#[derive(Clone, Copy)]
enum Step {
    Days(i64),
    Seconds(i64),
}

/// A rotation ready for arithmetic.
struct Turns<'a> {
    rotation: &'a Rotation,
    tz: &'a TimeZone,
    step: Step,
    first: Timestamp,
}

impl<'a> Turns<'a> {
    fn new(rotation: &'a Rotation, tz: &'a TimeZone) -> Option<Self> {
        if rotation.members.is_empty() {
            return None;
        }
        let step = match rotation.kind {
            RotationKind::Daily => Step::Days(1),
            RotationKind::Weekly => Step::Days(7),
            RotationKind::Custom => Step::Seconds(rotation.length?.as_secs()),
        };
        if matches!(step, Step::Seconds(s) if s <= 0) {
            return None;
        }
        let first = resolve(tz, rotation.start, rotation.handoff.time())?;
        Some(Self {
            rotation,
            tz,
            step,
            first,
        })
    }

    /// The instant turn `k` starts (turn 0 at the first hand-off).
    fn handoff(&self, k: i64) -> Option<Timestamp> {
        match self.step {
            Step::Days(days) => resolve(
                self.tz,
                add_days(self.rotation.start, k.checked_mul(days)?)?,
                self.rotation.handoff.time(),
            ),
            Step::Seconds(secs) => self
                .first
                .checked_add(SignedDuration::from_secs(secs.checked_mul(k)?))
                .ok(),
        }
    }

    /// The turn in progress at `t`; `None` before the first hand-off.
    fn turn_at(&self, t: Timestamp) -> Option<i64> {
        if t < self.first {
            return None;
        }
        let approx = match self.step {
            Step::Days(days) => days * 86_400,
            Step::Seconds(secs) => secs,
        };
        let mut k = t.duration_since(self.first).as_secs() / approx;
        // The estimate is off by at most a turn around offset changes; walk to the exact one.
        while k > 0 && self.handoff(k).is_none_or(|h| h > t) {
            k -= 1;
        }
        while self.handoff(k + 1).is_some_and(|h| h <= t) {
            k += 1;
        }
        Some(k)
    }

    /// The turns within `[from, to)` as (start, end, member index), cut to the range.
    fn within(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp, usize)> {
        let mut out = Vec::new();
        let mut k = self.turn_at(from).unwrap_or(0);
        let Some(mut start) = self.handoff(k) else {
            return out;
        };
        let n = self.rotation.members.len() as i64;
        while start < to {
            let next = self.handoff(k + 1);
            let end = next.map_or(to, |e| e.min(to));
            let lo = start.max(from);
            if lo < end {
                out.push((lo, end, k.rem_euclid(n) as usize));
            }
            match next {
                // A turn the zone's rules leave empty (a skipped day) is passed over.
                Some(e) => start = e.max(start),
                None => break,
            }
            k += 1;
        }
        out
    }
}

/// The instants within `[from, to)` covered by some restriction window, sorted and disjoint.
fn restriction_windows(
    restrictions: &[Restriction],
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let first_local = tz.to_datetime(from).date();
    // A window that starts the day before may reach into the range.
    let mut day = add_days(first_local, -1).unwrap_or(first_local);
    let last = tz.to_datetime(to).date();
    let mut windows = Vec::new();
    while day <= last {
        for r in restrictions {
            if !r.days.contains(&Day::of(day)) {
                continue;
            }
            let end_day = if r.to <= r.from {
                add_days(day, 1)
            } else {
                Some(day)
            };
            let start = resolve(tz, day, r.from.time());
            let end = end_day.and_then(|d| resolve(tz, d, r.to.time()));
            if let (Some(s), Some(e)) = (start, end) {
                let (s, e) = (s.max(from), e.min(to));
                if s < e {
                    windows.push((s, e));
                }
            }
        }
        match add_days(day, 1) {
            Some(next) => day = next,
            None => break,
        }
    }
    windows.sort();
    let mut union: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(windows.len());
    for (s, e) in windows {
        match union.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => union.push((s, e)),
        }
    }
    union
}

/// The layer's coverage within `[from, to)`: (start, end, member index), sorted, disjoint.
fn layer_within(
    layer: &Layer,
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp, usize)> {
    let Some(turns) = Turns::new(&layer.rotation, tz) else {
        return Vec::new();
    };
    let turns = turns.within(from, to);
    if layer.restrictions.is_empty() {
        return turns;
    }
    let windows = restriction_windows(&layer.restrictions, tz, from, to);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < turns.len() && j < windows.len() {
        let (ts, te, who) = turns[i];
        let (ws, we) = windows[j];
        let (lo, hi) = (ts.max(ws), te.min(we));
        if lo < hi {
            out.push((lo, hi, who));
        }
        if te <= we {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// What puts someone on call during a piece of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Layer(usize),
    Override(usize),
}

/// A piece of the timeline with one person and one source.
#[derive(Debug)]
struct Piece<'a> {
    start: Timestamp,
    end: Timestamp,
    person: &'a str,
    source: Source,
}

impl Piece<'_> {
    fn source(&self, schedule: &Schedule, overrides: &[Override]) -> ShiftSource {
        match self.source {
            Source::Layer(i) => ShiftSource::Layer(schedule.layers[i].id.clone()),
            Source::Override(i) => ShiftSource::Override(overrides[i].id.clone()),
        }
    }
}

/// The exact timeline within `[from, to)`: pieces sorted, disjoint, adjacent pieces with the
/// same person and source merged.
fn timeline<'a>(
    schedule: &'a Schedule,
    overrides: &'a [Override],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Piece<'a>> {
    if from >= to {
        return Vec::new();
    }
    let tz = schedule.time_zone.tz();
    let layers: Vec<Vec<(Timestamp, Timestamp, usize)>> = schedule
        .layers
        .iter()
        .map(|layer| layer_within(layer, tz, from, to))
        .collect();
    let active: Vec<(usize, Timestamp, Timestamp)> = overrides
        .iter()
        .enumerate()
        .filter(|(_, o)| o.schedule == schedule.id && o.start < o.end)
        .map(|(i, o)| (i, o.start.max(from), o.end.min(to)))
        .filter(|(_, s, e)| s < e)
        .collect();
    let mut bounds = vec![from, to];
    for (s, e, _) in layers.iter().flatten() {
        bounds.extend([*s, *e]);
    }
    for (_, s, e) in &active {
        bounds.extend([*s, *e]);
    }
    bounds.sort();
    bounds.dedup();
    let mut out: Vec<Piece<'a>> = Vec::new();
    for pair in bounds.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // Every change of coverage is a bound, so whoever is on call at `a` is on call
        // until `b`.
        let winner = active
            .iter()
            .rev()
            .find(|(_, s, e)| *s <= a && a < *e)
            .map(|(i, _, _)| (overrides[*i].person.as_str(), Source::Override(*i)))
            .or_else(|| {
                layers.iter().enumerate().rev().find_map(|(li, turns)| {
                    let idx = turns.partition_point(|t| t.0 <= a);
                    let (_, end, who) = *turns.get(idx.checked_sub(1)?)?;
                    (end > a).then(|| {
                        (
                            schedule.layers[li].rotation.members[who].as_str(),
                            Source::Layer(li),
                        )
                    })
                })
            });
        let Some((person, source)) = winner else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.end == a && last.person == person && last.source == source => {
                last.end = b;
            }
            _ => out.push(Piece {
                start: a,
                end: b,
                person,
                source,
            }),
        }
    }
    out
}

/// Merges adjacent pieces of the same person into shifts.
fn merge_people(schedule: &Schedule, overrides: &[Override], pieces: Vec<Piece<'_>>) -> Vec<Shift> {
    let mut out: Vec<Shift> = Vec::new();
    for piece in pieces {
        let source = piece.source(schedule, overrides);
        match out.last_mut() {
            Some(last) if last.end == piece.start && last.person == piece.person => {
                last.end = piece.end;
                if !last.sources.contains(&source) {
                    last.sources.push(source);
                }
            }
            _ => out.push(Shift {
                schedule: schedule.id.clone(),
                person: piece.person.to_string(),
                start: piece.start,
                end: piece.end,
                sources: vec![source],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests;
