//! Time as an input: the one place the system clock is read.
//!
//! Everything that needs "now" takes a [`Clock`], so tests move time forward instead of
//! sleeping. Timestamps are truncated to microseconds because both databases store that
//! precision, and an event hash must survive a round trip through either.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, truncated to whole microseconds.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the single sanctioned read of the system clock
    fn now(&self) -> Timestamp {
        truncate_to_micros(Timestamp::now())
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(truncate_to_micros(start)),
        }
    }

    /// Moves the clock forward (or backward, for skew tests) by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|poison| poison.into_inner());
        *now = truncate_to_micros(now.saturating_add(by).unwrap_or(*now));
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: Timestamp) {
        let mut now = self.now.lock().unwrap_or_else(|poison| poison.into_inner());
        *now = truncate_to_micros(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Drops sub-microsecond precision so the value round-trips through SQL exactly.
pub fn truncate_to_micros(ts: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(ts.as_microsecond()).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_and_truncates() {
        let start: Timestamp = "2026-11-22T10:00:00.123456789Z".parse().expect("valid");
        let clock = ManualClock::new(start);
        assert_eq!(clock.now().to_string(), "2026-11-22T10:00:00.123456Z");
        clock.advance(SignedDuration::from_mins(15));
        assert_eq!(clock.now().to_string(), "2026-11-22T10:15:00.123456Z");
    }
}
