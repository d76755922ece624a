//! Regulatory and contractual notification clocks: which apply to an incident, when each
//! started, when it is due, and whether it was met.
//!
//! A rule applies when the incident's facts match: its type and its labels (e.g.
//! `personal-data: yes`, `jurisdiction: EU`). Its clock starts at a recorded moment (becoming
//! aware of the breach, discovering it, determining it material). `aware` and `discovered`
//! default to the declaration, since declaring a breach is when the company knew of it at the
//! latest; `materiality-determined` has no default, because the law starts that clock at a
//! decision nobody can infer. A rule is met by the first message to its audience (and, when it
//! names templates, one of those) sent after it applies; the event that records the message
//! lists the rules it met, so the timeline shows it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::duration::Duration;
use crate::incident::Incident;

/// Moments a clock can start from, besides the declaration itself.
pub const MOMENTS: &[&str] = &["aware", "discovered", "materiality-determined"];

/// The moment that stands for the declaration.
pub const DECLARED: &str = "declared";

/// How long a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// A fixed duration (`72h`, `60d`).
    Elapsed(Duration),
    /// Business days of the business-hours calendar (`4 business days`).
    BusinessDays(u32),
    /// Calendar months in the business-hours time zone (`1 month`).
    Months(u32),
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Laws count short clocks in hours ("72 hours"), long ones in days.
            Within::Elapsed(d) => match d.as_secs() {
                s if s % 86_400 == 0 && s >= 7 * 86_400 => write!(f, "{}d", s / 86_400),
                s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
                _ => write!(f, "{d}"),
            },
            Within::BusinessDays(1) => f.write_str("1 business day"),
            Within::BusinessDays(n) => write!(f, "{n} business days"),
            Within::Months(1) => f.write_str("1 month"),
            Within::Months(n) => write!(f, "{n} months"),
        }
    }
}

impl FromStr for Within {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let mut words = text.split_whitespace();
        if let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) {
            let count: u32 = n
                .parse()
                .map_err(|_| format!("{n:?} is not a whole number"))?;
            if count == 0 {
                return Err("a deadline must be at least 1".into());
            }
            return match unit {
                "month" | "months" => Ok(Within::Months(count)),
                "business" => Err("write `N business days`".into()),
                _ => Err(format!(
                    "unknown unit {unit:?}: use a duration like 72h or 60d, `N business days` or `N months`"
                )),
            };
        }
        if let Some(n) = text
            .strip_suffix("business days")
            .or_else(|| text.strip_suffix("business day"))
        {
            let count: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("{:?} is not a whole number", n.trim()))?;
            if count == 0 {
                return Err("a deadline must be at least 1 business day".into());
            }
            return Ok(Within::BusinessDays(count));
        }
        let d: Duration = text.parse().map_err(|e| format!("{e}"))?;
        if d.as_secs() <= 0 {
            return Err("a deadline must be longer than zero".into());
        }
        Ok(Within::Elapsed(d))
    }
}

impl Serialize for Within {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Within {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Within {
    /// When a clock started at `from` runs out.
    pub fn due(&self, from: Timestamp, calendar: &BusinessCalendar) -> Option<Timestamp> {
        match self {
            Within::Elapsed(d) => from.checked_add(d.as_signed()).ok(),
            Within::BusinessDays(n) => calendar.add_business_days(from, *n),
            Within::Months(n) => {
                // Same local date and time n months on (clamped to the month's last day), so
                // "one month" means what a person counting on a calendar means.
                let tz = calendar.time_zone.tz();
                let local = tz
                    .to_datetime(from)
                    .checked_add(i64::from(*n).months())
                    .ok()?;
                tz.to_ambiguous_timestamp(local).compatible().ok()
            }
        }
    }
}

/// Which incidents a rule applies to. Every listed condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Incident types, any of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Label key -> accepted values (any of; compared without case).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Vec<String>>,
}

impl Conditions {
    /// Whether `inc` matches.
    pub fn hold_for(&self, inc: &Incident) -> bool {
        (self.types.is_empty() || self.types.contains(&inc.incident_type))
            && self.labels.iter().all(|(key, accepted)| {
                inc.labels
                    .get(key)
                    .is_some_and(|v| accepted.iter().any(|a| a.eq_ignore_ascii_case(v)))
            })
    }
}

/// One notification clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRule {
    /// Id, e.g. `gdpr-art33`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The law or contract, for the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference: String,
    /// When it applies.
    #[serde(default)]
    pub when: Conditions,
    /// Moment the clock starts: `declared` or one of [`MOMENTS`].
    pub starts_at: String,
    /// How long it runs; none for "without undue delay" duties, which have no fixed time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Within>,
    /// What the duty says when it has no fixed time ("without undue delay").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidance: String,
    /// Remind this long before it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_before: Option<Duration>,
    /// Audience of the notification that meets it.
    pub audience: String,
    /// Templates whose message meets it; empty means any message to the audience.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
}

/// Where one clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Applies, but its starting moment has not been recorded.
    NotStarted,
    /// Running.
    Open,
    /// Running, and within its reminder window.
    DueSoon,
    /// Past due and not met.
    Overdue,
    /// Met in time (or met, for duties without a fixed time).
    Met,
    /// Met after it was due.
    MetLate,
}

impl DeadlineState {
    /// The name used in the API and CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeadlineState::NotStarted => "not_started",
            DeadlineState::Open => "open",
            DeadlineState::DueSoon => "due_soon",
            DeadlineState::Overdue => "overdue",
            DeadlineState::Met => "met",
            DeadlineState::MetLate => "met_late",
        }
    }
}

/// One applicable clock of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// Rule id.
    pub rule: String,
    /// Rule name.
    pub name: String,
    /// The law or contract.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference: String,
    /// Who must be told.
    pub audience: String,
    /// The moment it counts from.
    pub starts_from: String,
    /// When that moment was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// The period, as configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
    /// When it is due; none for duties without a fixed time or a clock not started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// When the reminder goes out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<Timestamp>,
    /// What the duty says when it has no fixed time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidance: String,
    /// When a matching notification was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    /// Where it stands at the time asked.
    pub state: DeadlineState,
    /// Seconds until due (negative when overdue); none without a due time or once met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<i64>,
}

impl DeadlineRule {
    /// When this rule's clock started for `inc`, if it has.
    pub fn started_at(&self, inc: &Incident) -> Option<Timestamp> {
        match self.starts_at.as_str() {
            DECLARED => Some(inc.declared_at),
            moment => inc.moments.get(moment).copied().or(match moment {
                "aware" | "discovered" => Some(inc.declared_at),
                _ => None,
            }),
        }
    }

    /// Whether a message from `template` to `audience` meets this rule.
    pub fn met_by(&self, audience: &str, template: Option<&str>) -> bool {
        self.audience == audience
            && (self.templates.is_empty()
                || template.is_some_and(|t| self.templates.iter().any(|x| x == t)))
    }
}

/// The clocks that apply to `inc`, in config order, judged at `now`.
pub fn deadlines(
    inc: &Incident,
    rules: &[DeadlineRule],
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Vec<Deadline> {
    rules
        .iter()
        .filter(|r| r.when.hold_for(inc) || inc.deadlines_met.contains_key(&r.id))
        .map(|rule| {
            let started_at = rule.started_at(inc);
            let due_at = match (started_at, rule.within) {
                (Some(start), Some(within)) => within.due(start, calendar),
                _ => None,
            };
            let remind_at = match (due_at, rule.remind_before) {
                (Some(due), Some(before)) => due.checked_sub(before.as_signed()).ok(),
                _ => None,
            };
            let met_at = inc.deadlines_met.get(&rule.id).copied();
            let state = match (started_at, met_at, due_at) {
                (_, Some(met), Some(due)) if met > due => DeadlineState::MetLate,
                (_, Some(_), _) => DeadlineState::Met,
                (None, None, _) => DeadlineState::NotStarted,
                (Some(_), None, Some(due)) if now >= due => DeadlineState::Overdue,
                (Some(_), None, _) if remind_at.is_some_and(|r| now >= r) => DeadlineState::DueSoon,
                (Some(_), None, _) => DeadlineState::Open,
            };
            let seconds_left = match (met_at, due_at) {
                (None, Some(due)) => Some(due.duration_since(now).as_secs()),
                _ => None,
            };
            Deadline {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                reference: rule.reference.clone(),
                audience: rule.audience.clone(),
                starts_from: rule.starts_at.clone(),
                started_at,
                within: rule.within.map(|w| w.to_string()),
                due_at,
                remind_at,
                guidance: rule.guidance.clone(),
                met_at,
                state,
                seconds_left,
            }
        })
        .collect()
}

/// The rules a message to `audience` from `template` meets on `inc` now: those that apply,
/// have started and are not met yet.
pub fn met_by_message(
    inc: &Incident,
    rules: &[DeadlineRule],
    audience: &str,
    template: Option<&str>,
) -> Vec<String> {
    rules
        .iter()
        .filter(|r| r.when.hold_for(inc))
        .filter(|r| !inc.deadlines_met.contains_key(&r.id))
        .filter(|r| r.started_at(inc).is_some())
        .filter(|r| r.met_by(audience, template))
        .map(|r| r.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_print_back() {
        for text in [
            "72h",
            "24h",
            "60d",
            "4 business days",
            "1 business day",
            "1 month",
            "3 months",
        ] {
            let w: Within = text.parse().expect(text);
            assert_eq!(w.to_string(), text);
        }
        for bad in [
            "0 months",
            "4 business",
            "soon",
            "0h",
            "-4h",
            "x business days",
        ] {
            assert!(bad.parse::<Within>().is_err(), "{bad} should be refused");
        }
    }
}
