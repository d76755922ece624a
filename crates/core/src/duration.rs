//! Human durations used in config files: `90s`, `15m`, `1h30m`, `2d`, `1w`.
//!
//! Kept deliberately small: whole units only, no calendar arithmetic, so a duration means the
//! same number of seconds everywhere. Response targets add "next business day", which is
//! calendar-dependent and resolved later against a time zone.

use std::fmt;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A positive span of time written as `<n><unit>` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(SignedDuration);

impl Duration {
    /// Whole seconds in this duration.
    pub fn as_secs(&self) -> i64 {
        self.0.as_secs()
    }

    /// The duration as a jiff value, for arithmetic on timestamps.
    pub fn as_signed(&self) -> SignedDuration {
        self.0
    }

    /// Builds a duration from whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        Self(SignedDuration::from_secs(secs))
    }
}

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. 90s, 15m, 1h30m, 2d, 1w)")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl std::str::FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        let text: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            return Err(err("empty"));
        }
        let mut total: i64 = 0;
        let mut digits = String::new();
        for ch in text.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let unit = match ch {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                'w' => 604_800,
                _ => return Err(err("unknown unit")),
            };
            if digits.is_empty() {
                return Err(err("a unit needs a number before it"));
            }
            let n: i64 = digits.parse().map_err(|_| err("number too large"))?;
            digits.clear();
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("too large"))?;
        }
        if !digits.is_empty() {
            return Err(err("a number needs a unit after it"));
        }
        if total == 0 {
            return Err(err("must be longer than zero"));
        }
        Ok(Self(SignedDuration::from_secs(total)))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_secs();
        if rest == 0 {
            return write!(f, "0s");
        }
        for (unit, size) in [
            ("w", 604_800),
            ("d", 86_400),
            ("h", 3_600),
            ("m", 60),
            ("s", 1),
        ] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How soon something must happen: a fixed duration, or by the next business day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Within a fixed span of time.
    Within(Duration),
    /// By the start of the next business day (09:00, Monday to Friday, in the team's zone).
    NextBusinessDay,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Within(d) => d.fmt(f),
            Target::NextBusinessDay => f.write_str("next business day"),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let normal = input.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        if normal == "next business day" {
            return Ok(Target::NextBusinessDay);
        }
        input
            .parse()
            .map(Target::Within)
            .map_err(|e: DurationError| DurationError {
                reason: if e.reason == "unknown unit" {
                    "unknown unit; or write \"next business day\""
                } else {
                    e.reason
                },
                ..e
            })
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!("15m".parse::<Duration>().map(|d| d.as_secs()), Ok(900));
        assert_eq!("1h30m".parse::<Duration>().map(|d| d.as_secs()), Ok(5400));
        assert_eq!(
            "1 h 30 m".parse::<Duration>().map(|d| d.as_secs()),
            Ok(5400)
        );
        assert_eq!("2d".parse::<Duration>().map(|d| d.as_secs()), Ok(172_800));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "15", "m", "15x", "0m", "99999999999999999999s"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn next_business_day_target() {
        assert_eq!("next business day".parse(), Ok(Target::NextBusinessDay));
        assert_eq!("Next-Business-Day".parse(), Ok(Target::NextBusinessDay));
        assert!("tomorrow".parse::<Target>().is_err());
    }

    proptest! {
        #[test]
        fn display_round_trips(secs in 1i64..10_000_000) {
            let d = Duration::from_secs(secs);
            prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
        }
    }
}
