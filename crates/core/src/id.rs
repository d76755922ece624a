//! Incident ids: `INC-YYYYMMDD-NNN`, the UTC day of declaration and a counter for that day.
//!
//! The counter is allocated by the store inside the declaring transaction; this module only
//! formats and parses.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed, well-formed incident id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId(String);

/// The text was not an incident id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid incident id {0:?}: expected INC-YYYYMMDD-NNN")]
pub struct IdError(String);

impl IncidentId {
    /// The id for the `counter`-th incident declared on the UTC day of `at`.
    pub fn new(at: Timestamp, counter: u32) -> Self {
        Self(format!("INC-{}-{counter:03}", day_key(at)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The UTC calendar day of `at` as `YYYYMMDD`: the key of the per-day counter.
pub fn day_key(at: Timestamp) -> String {
    let date: Date = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

impl std::str::FromStr for IncidentId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdError(s.chars().take(64).collect());
        let rest = s.strip_prefix("INC-").ok_or_else(bad)?;
        let (day, counter) = rest.split_once('-').ok_or_else(bad)?;
        if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (y, m, d) = (&day[0..4], &day[4..6], &day[6..8]);
        let parse = |t: &str| t.parse::<i16>().map_err(|_| bad());
        let (y, m, d) = (parse(y)?, parse(m)?, parse(d)?);
        let in_range = i8::try_from(m).ok().zip(i8::try_from(d).ok());
        let (m, d) = in_range.ok_or_else(bad)?;
        Date::new(y, m, d).map_err(|_| bad())?;
        if counter.len() < 3 || counter.len() > 9 || !counter.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for IncidentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IncidentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_day_and_padded_counter() {
        let at: Timestamp = "2026-11-22T23:59:59-05:00".parse().expect("valid");
        assert_eq!(IncidentId::new(at, 7).as_str(), "INC-20261123-007");
        assert_eq!(IncidentId::new(at, 1234).as_str(), "INC-20261123-1234");
    }

    #[test]
    fn parses_only_real_ids() {
        assert!("INC-20261122-001".parse::<IncidentId>().is_ok());
        for bad in [
            "",
            "INC-2026112-001",
            "INC-20261322-001",
            "INC-20261122-01",
            "inc-20261122-001",
            "INC-20261122-00a",
            "../etc/passwd",
        ] {
            assert!(bad.parse::<IncidentId>().is_err(), "{bad:?}");
        }
    }
}
