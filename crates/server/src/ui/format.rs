//! Times as people read them. The page always shows an absolute time next to a relative one,
//! so it stays correct without JavaScript and for screen readers.

use jiff::Timestamp;

/// `2026-11-22 10:15 UTC`.
pub fn absolute(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A span in the two largest units: `2d 3h`, `1h 5m`, `4m 10s`, `9s`.
pub fn span(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    }
}

/// `in 4m 10s`, or `overdue by 2m 0s` once `due` has passed (at `due` itself it is overdue).
pub fn countdown(due: Timestamp, now: Timestamp) -> String {
    let left = due.duration_since(now).as_secs();
    if left > 0 {
        format!("in {}", span(left))
    } else {
        format!("overdue by {}", span(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn spans_and_countdowns() {
        assert_eq!(span(9), "9s");
        assert_eq!(span(250), "4m 10s");
        assert_eq!(span(3900), "1h 5m");
        assert_eq!(span(2 * 86_400 + 3 * 3600 + 59), "2d 3h");
        let now = t("2026-11-22T10:00:00Z");
        assert_eq!(countdown(t("2026-11-22T10:15:00Z"), now), "in 15m 0s");
        assert_eq!(countdown(now, now), "overdue by 0s");
        assert_eq!(
            countdown(t("2026-11-22T09:58:00Z"), now),
            "overdue by 2m 0s"
        );
        assert_eq!(absolute(now), "2026-11-22 10:00 UTC");
    }
}
