//! The team's working calendar: which local days are business days and when they start, so
//! that targets written as "next business day" and legal clocks counted in business days can
//! become instants.
//!
//! Days are counted on the calendar of the configured time zone, never as 24-hour spans, so a
//! daylight-saving change moves nothing: the start of a business day is always its local start
//! time (a start inside a skipped hour moves forward, as in schedules).

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::duration::Target;
use crate::schedule::{Day, LocalTime, TimeZoneName};

/// How far ahead to look for a business day before giving up: a calendar whose holidays cover
/// years has no answer worth waiting for.
const SEARCH_DAYS: i32 = 3 * 366;

/// Working days and hours in one time zone, with holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    /// Zone the days and hours are in.
    pub time_zone: TimeZoneName,
    /// Working days of the week.
    pub days: Vec<Day>,
    /// Local start of a working day.
    pub start: LocalTime,
    /// Local end of a working day.
    pub end: LocalTime,
    /// Local dates that are not working days even when their weekday is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<Date>,
}

impl Default for BusinessCalendar {
    /// Monday to Friday, 09:00 to 17:00 UTC, no holidays.
    fn default() -> Self {
        Self {
            time_zone: TimeZoneName::utc(),
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            start: LocalTime::new(9, 0).unwrap_or_default(),
            end: LocalTime::new(17, 0).unwrap_or_default(),
            holidays: Vec::new(),
        }
    }
}

impl BusinessCalendar {
    fn tz(&self) -> &TimeZone {
        self.time_zone.tz()
    }

    /// A local time as an instant; a time the clocks skip moves forward, a repeated one means
    /// its first occurrence (jiff's compatible rule, as in schedules).
    fn resolve(&self, local: jiff::civil::DateTime) -> Option<Timestamp> {
        self.tz().to_ambiguous_timestamp(local).compatible().ok()
    }

    /// Whether `date` is a working day.
    pub fn is_business_day(&self, date: Date) -> bool {
        self.days.contains(&Day::of(date)) && !self.holidays.contains(&date)
    }

    /// The local date of `at`.
    pub fn local_date(&self, at: Timestamp) -> Date {
        self.tz().to_datetime(at).date()
    }

    /// The instant `date` starts working.
    pub fn day_start(&self, date: Date) -> Option<Timestamp> {
        self.resolve(date.to_datetime(self.start.time()))
    }

    /// The first business day after `date`.
    pub fn next_business_day(&self, date: Date) -> Option<Date> {
        let mut day = date;
        for _ in 0..SEARCH_DAYS {
            day = day.tomorrow().ok()?;
            if self.is_business_day(day) {
                return Some(day);
            }
        }
        None
    }

    /// The start of the first business day after the local day of `at`: a target of "next
    /// business day" set on Friday evening, Saturday or Sunday falls on Monday morning.
    pub fn next_business_start(&self, at: Timestamp) -> Option<Timestamp> {
        self.day_start(self.next_business_day(self.local_date(at))?)
    }

    /// `n` business days after `at`, at the same local time of day: the business day count
    /// of a legal clock ("four business days after materiality was determined"). Starting on a
    /// non-business day counts from that day as it is, so Saturday plus one is Monday.
    pub fn add_business_days(&self, at: Timestamp, n: u32) -> Option<Timestamp> {
        let local = self.tz().to_datetime(at);
        let mut day = local.date();
        for _ in 0..n {
            day = self.next_business_day(day)?;
        }
        self.resolve(day.to_datetime(local.time()))
    }

    /// When a target that starts at `from` is due.
    pub fn due(&self, target: Target, from: Timestamp) -> Option<Timestamp> {
        match target {
            Target::Within(d) => from.checked_add(d.as_signed()).ok(),
            Target::NextBusinessDay => self.next_business_start(from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn berlin() -> BusinessCalendar {
        BusinessCalendar {
            time_zone: TimeZoneName::new("Europe/Berlin").expect("known zone"),
            holidays: vec!["2026-12-25".parse().expect("date")],
            ..BusinessCalendar::default()
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid time")
    }

    #[test]
    fn next_business_day_skips_weekends_and_holidays() {
        let c = berlin();
        // Friday evening -> Monday 09:00 Berlin (08:00 UTC in winter).
        assert_eq!(
            c.next_business_start(ts("2026-11-27T19:00:00Z")),
            Some(ts("2026-11-30T08:00:00Z"))
        );
        // Wednesday morning before opening still means Thursday: the *next* business day.
        assert_eq!(
            c.next_business_start(ts("2026-11-25T06:00:00Z")),
            Some(ts("2026-11-26T08:00:00Z"))
        );
        // Thursday 24 December -> Christmas is a holiday -> Monday 28th.
        assert_eq!(
            c.next_business_start(ts("2026-12-24T10:00:00Z")),
            Some(ts("2026-12-28T08:00:00Z"))
        );
        // 23:30 UTC Sunday is already Monday in Berlin, so the next business day is Tuesday.
        assert_eq!(
            c.next_business_start(ts("2026-11-29T23:30:00Z")),
            Some(ts("2026-12-01T08:00:00Z"))
        );
    }

    #[test]
    fn business_days_keep_the_local_time_across_daylight_saving() {
        let c = berlin();
        // Thursday 26 March 2026 15:00 CET; clocks go forward on Sunday the 29th.
        // Four business days later is Wednesday 1 April 15:00 CEST = 13:00 UTC.
        assert_eq!(
            c.add_business_days(ts("2026-03-26T14:00:00Z"), 4),
            Some(ts("2026-04-01T13:00:00Z"))
        );
        // Saturday + 1 is Monday.
        assert_eq!(
            c.add_business_days(ts("2026-11-28T10:00:00Z"), 1),
            Some(ts("2026-11-30T10:00:00Z"))
        );
        assert_eq!(
            c.add_business_days(ts("2026-11-28T10:00:00Z"), 0),
            Some(ts("2026-11-28T10:00:00Z"))
        );
    }

    #[test]
    fn a_calendar_without_working_days_has_no_answer() {
        let c = BusinessCalendar {
            days: Vec::new(),
            ..BusinessCalendar::default()
        };
        assert_eq!(c.next_business_start(ts("2026-11-25T10:00:00Z")), None);
        assert_eq!(c.add_business_days(ts("2026-11-25T10:00:00Z"), 1), None);
    }

    #[test]
    fn targets_resolve_against_the_calendar() {
        let c = BusinessCalendar::default();
        let from = ts("2026-11-27T10:00:00Z");
        assert_eq!(
            c.due("30m".parse().expect("target"), from),
            Some(ts("2026-11-27T10:30:00Z"))
        );
        assert_eq!(
            c.due(Target::NextBusinessDay, from),
            Some(ts("2026-11-30T09:00:00Z"))
        );
    }

    proptest! {
        /// The next business start is later, is a working day's local start, and every local
        /// day strictly between is not a working day — in zones with and without DST.
        #[test]
        fn next_business_start_is_the_first_working_morning(
            secs in 1_700_000_000i64..1_900_000_000,
            zone in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
            start_hour in 0i8..24,
            weekend in prop::sample::select(vec![vec![5usize, 6], vec![4, 5], vec![6]]),
        ) {
            let all = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];
            let days: Vec<Day> = all.iter().enumerate().filter(|(i, _)| !weekend.contains(i)).map(|(_, d)| *d).collect();
            let c = BusinessCalendar {
                time_zone: TimeZoneName::new(zone).expect("known zone"),
                days,
                start: LocalTime::new(start_hour, 0).expect("hour"),
                ..BusinessCalendar::default()
            };
            let at = Timestamp::from_second(secs).expect("in range");
            let due = c.next_business_start(at).expect("some working day");
            prop_assert!(due > at);
            let due_date = c.local_date(due);
            prop_assert!(c.is_business_day(due_date));
            let mut d = c.local_date(at).tomorrow().expect("date");
            while d < due_date {
                prop_assert!(!c.is_business_day(d), "skipped working day {}", d);
                d = d.tomorrow().expect("date");
            }
            prop_assert_eq!(Some(due), c.day_start(due_date));
        }
    }
}
