//! iCalendar (RFC 5545) feeds of on-call shifts, for calendar apps to subscribe to.
//!
//! The output is deterministic: events are sorted, `DTSTAMP` is the shift's start rather than
//! the time of the request, and each `UID` is derived from the schedule id, the person and the
//! shift's start, so fetching the feed again gives the same events with the same UIDs and
//! calendar apps update rather than duplicate them. Written by hand: the format needed here is
//! small, and the maintained crates bring a parser and a second date library along.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::schedule::Shift;

/// One event of a feed: a person on call for a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// Schedule id (part of the UID).
    pub schedule_id: String,
    /// Schedule name (shown).
    pub schedule_name: String,
    /// Person id (part of the UID).
    pub person_id: String,
    /// Person name (shown).
    pub person_name: String,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
}

/// Entries for `shifts`, with names looked up in `config` (ids stand in for unknown names).
pub fn calendar_entries(config: &Config, shifts: &[Shift]) -> Vec<CalendarEntry> {
    shifts
        .iter()
        .map(|s| CalendarEntry {
            schedule_id: s.schedule.clone(),
            schedule_name: config
                .schedule(&s.schedule)
                .map_or_else(|| s.schedule.clone(), |x| x.name.clone()),
            person_id: s.person.clone(),
            person_name: config
                .person(&s.person)
                .map_or_else(|| s.person.clone(), |p| p.name.clone()),
            start: s.start,
            end: s.end,
        })
        .collect()
}

/// The stable UID of a shift: a digest of schedule id, person id and start, at `namespace`
/// (a domain name of the installation, e.g. `warroom.example.com`).
pub fn shift_uid(schedule_id: &str, person_id: &str, start: Timestamp, namespace: &str) -> String {
    let mut hash = Sha256::new();
    for part in [schedule_id, person_id, &utc(start)] {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    let digest = hex::encode(hash.finalize());
    format!("{}@{namespace}", &digest[..32])
}

/// A complete `VCALENDAR` named `name` with one `VEVENT` per entry (sorted by start, then
/// schedule, then person), CRLF line endings, lines folded at 75 octets.
pub fn ics_feed(name: &str, entries: &[CalendarEntry], uid_namespace: &str) -> String {
    let mut sorted: Vec<&CalendarEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (a.start, &a.schedule_id, &a.person_id, a.end).cmp(&(
            b.start,
            &b.schedule_id,
            &b.person_id,
            b.end,
        ))
    });
    let mut out = String::new();
    let mut line = |text: &str| push_folded(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Warroom//On-call schedules//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("NAME:{}", escape_text(name)));
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    for e in sorted {
        line("BEGIN:VEVENT");
        line(&format!(
            "UID:{}",
            escape_text(&shift_uid(
                &e.schedule_id,
                &e.person_id,
                e.start,
                uid_namespace
            ))
        ));
        line(&format!("DTSTAMP:{}", utc(e.start)));
        line(&format!("DTSTART:{}", utc(e.start)));
        line(&format!("DTEND:{}", utc(e.end)));
        line(&format!(
            "SUMMARY:{}",
            escape_text(&format!("On call: {} ({})", e.person_name, e.schedule_name))
        ));
        // Being on call is not being busy.
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// A UTC DATE-TIME in the basic form `20260329T070000Z` (seconds; finer parts dropped).
fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newline; other control characters
/// (which TEXT may not contain) become spaces.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            c if c.is_control() && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded so no physical line exceeds 75 octets (continuations start
/// with a space, which counts), never splitting a UTF-8 character, and ends it with CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn entry(person: &str, start: &str, end: &str) -> CalendarEntry {
        CalendarEntry {
            schedule_id: "primary".into(),
            schedule_name: "Primary".into(),
            person_id: person.to_lowercase(),
            person_name: person.into(),
            start: ts(start),
            end: ts(end),
        }
    }

    #[test]
    fn escapes_text_per_rfc_5545() {
        assert_eq!(
            escape_text("a,b;c\\d\ne\r\nf\rg\u{7}h\ti"),
            "a\\,b\\;c\\\\d\\ne\\nf\\ng h\ti"
        );
    }

    #[test]
    fn folds_long_lines_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let text = format!("SUMMARY:{}", "é".repeat(100));
        push_folded(&mut out, &text);
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(lines.len() > 2);
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= 75, "line {i} has {} octets", l.len());
            assert_eq!(i > 0, l.starts_with(' '));
        }
        // Unfolding (remove CRLF + one space) gives the line back.
        assert_eq!(out.trim_end_matches("\r\n").replace("\r\n ", ""), text);
        let mut short = String::new();
        push_folded(&mut short, &"x".repeat(75));
        assert_eq!(short, format!("{}\r\n", "x".repeat(75)));
        let mut just_over = String::new();
        push_folded(&mut just_over, &"x".repeat(76));
        assert_eq!(just_over, format!("{}\r\n x\r\n", "x".repeat(75)));
    }

    #[test]
    fn feed_is_well_formed_sorted_and_deterministic() {
        let entries = vec![
            entry("Bob", "2026-03-02T08:00:00Z", "2026-03-03T08:00:00Z"),
            entry("Alice", "2026-03-01T08:00:00Z", "2026-03-02T08:00:00Z"),
        ];
        let feed = ics_feed("Primary, on call", &entries, "warroom.test");
        assert!(feed.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(feed.ends_with("END:VCALENDAR\r\n"));
        assert!(!feed.replace("\r\n", "").contains('\n'), "bare LF in feed");
        assert!(feed.contains("X-WR-CALNAME:Primary\\, on call\r\n"));
        let alice = feed.find("On call: Alice (Primary)").expect("alice");
        let bob = feed.find("On call: Bob (Primary)").expect("bob");
        assert!(alice < bob);
        assert!(feed.contains("DTSTART:20260301T080000Z\r\nDTEND:20260302T080000Z\r\n"));
        let mut reversed = entries.clone();
        reversed.reverse();
        assert_eq!(
            ics_feed("Primary, on call", &reversed, "warroom.test"),
            feed
        );
    }

    #[test]
    fn uids_are_stable_and_distinguish_schedule_person_and_start() {
        let start = ts("2026-03-01T08:00:00Z");
        let uid = shift_uid("primary", "alice", start, "warroom.test");
        assert_eq!(uid, shift_uid("primary", "alice", start, "warroom.test"));
        assert!(uid.ends_with("@warroom.test"));
        assert_ne!(uid, shift_uid("secondary", "alice", start, "warroom.test"));
        assert_ne!(uid, shift_uid("primary", "bob", start, "warroom.test"));
        assert_ne!(
            uid,
            shift_uid(
                "primary",
                "alice",
                ts("2026-03-01T09:00:00Z"),
                "warroom.test"
            )
        );
        // Separators cannot be forged by ids that run into each other.
        assert_ne!(
            shift_uid("a", "bc", start, "n"),
            shift_uid("ab", "c", start, "n")
        );
    }
}
