//! Routing rules: which alerts open incidents, on which service, at which severity, with which
//! playbook; which are only recorded (suppress) or not even that (drop); and which open only
//! past a rate (threshold).
//!
//! ```yaml
//! routing_rules:
//!   - name: ssh-bruteforce              # optional; required with a threshold (names its counters)
//!     match:                            # every condition given must hold; `match: {}` matches all
//!       routing_key: [wr_int_ab12]      # one key or a list
//!       source_kind: alertmanager       # pagerduty | alertmanager | grafana | generic, or a list
//!       severity: [critical, error]     # alert severities, one or a list
//!       source: '^bastion-\d+'          # regex, searched in the event's source
//!       labels: {env: prod}             # exact label values
//!       labels_regex: {alertname: 'SSH.*'}  # regexes over whole label values
//!       summary: '(?i)failed (login|password)'  # regex, searched in the summary
//!       time: {zone: Europe/Paris, days: [weekdays], from: "08:00", to: "19:00"}
//!     service: auth                     # set the service
//!     incident_severity: {critical: P1, error: P2}  # or one id for all: `incident_severity: P2`
//!     playbook: security-breach         # attach a playbook
//!     action: open                      # open (default) | suppress | drop
//!     threshold: {count: 10, window: 1m, group_by: [source_ip]}
//!     continue: false
//! ```
//!
//! Evaluation: rules are tried in order and the first match decides, unless that rule says
//! `continue: true`, in which case later matching rules are applied too. When several matching
//! rules set the same setting, the earliest wins (so a specific rule placed first is never undone
//! by a broad one after it); playbooks accumulate. A rule whose action is `suppress` or `drop`
//! ends the evaluation (and may not say `continue`). Matching uses the receive time `now`, not
//! the sender's timestamp, since "office hours" is about when people are paged.
//!
//! Regexes: `labels_regex` values must match the whole label value, as Prometheus matchers do;
//! `summary` and `source` are searched anywhere in the text, which suits prose (anchor with `^`
//! and `$` when needed). A label that is absent never matches. Regexes use the `regex` crate's
//! syntax with Perl classes (`\d`, `\w`) and `(?i)`; Unicode property classes are not built in.
//!
//! Thresholds: a rule with `threshold` opens an incident only when at least `count` matching
//! events arrive within `window`, counted per group: the values of the `group_by` labels (or of
//! event fields written `@source`, `@routing_key`, `@component`, `@group`, `@class`,
//! `@service`). [`evaluate`] only says which counter applies ([`ThresholdCheck`]); the caller
//! keeps one [`ThresholdState`] per key, records the event in it, and treats the event as
//! suppressed (recorded, no incident) while the count is below the threshold.
//!
//! Raw types carry text for everything that can be wrong, and [`compile`] reports the field path
//! of the first problem (`match.summary`, `threshold.window`), so that config checking can point
//! at the file position.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::{AlertEvent, AlertSeverity, SourceKind};
use crate::duration::Duration;

/// Largest accepted `threshold.count`: one counter keeps at most this many timestamps.
pub const MAX_THRESHOLD_COUNT: u32 = 100_000;

/// Compiled regex size limit, so a config cannot make matching slow or huge.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One value or a list, as YAML writers like it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `severity: critical`
    One(String),
    /// `severity: [critical, error]`
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A rule as written in the `routing_rules:` list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Name for reports and threshold counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Conditions; all must hold.
    #[serde(default, rename = "match")]
    pub matcher: RawMatch,
    /// Service to file under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Incident severity id, one for all or per alert severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_severity: Option<RawSeverityMap>,
    /// Playbook id to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook: Option<String>,
    /// `open`, `suppress` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Open only past a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<RawThreshold>,
    /// Keep evaluating later rules after this one matched.
    #[serde(
        default,
        rename = "continue",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub continue_matching: bool,
}

/// `incident_severity:` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawSeverityMap {
    /// The same incident severity whatever the alert's.
    Fixed(String),
    /// Alert severity name -> incident severity id.
    ByAlertSeverity(BTreeMap<String, String>),
}

/// `match:` as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    /// Integration keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<OneOrMany>,
    /// Receiver kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<OneOrMany>,
    /// Regex searched in the event's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Alert severities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<OneOrMany>,
    /// Exact label values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Regexes over whole label values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels_regex: BTreeMap<String, String>,
    /// Regex searched in the summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Time-of-day / day-of-week window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<RawTime>,
}

/// `match.time:` as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTime {
    /// IANA zone name; default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// `mon`..`sun` (or full names), `weekdays`, `weekend`; default every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    /// Start, `HH:MM`, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End, `HH:MM`, exclusive; before `from` means the window crosses midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// `threshold:` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    /// Events needed within the window.
    pub count: u32,
    /// Sliding window, e.g. `1m`.
    pub window: String,
    /// Label names (or `@field`) whose values form the counter's key.
    #[serde(default)]
    pub group_by: Vec<String>,
}

/// A rule that could not be compiled, with the path of the offending field within the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    /// Field path inside the rule, e.g. `match.summary`, `threshold.window`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What happens to a matching alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Record the alert and open or join an incident.
    #[default]
    Open,
    /// Record the alert, open nothing.
    Suppress,
    /// Record nothing (the sender still gets its 2xx).
    Drop,
}

/// How the incident severity is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeverityMapping {
    /// Always this incident severity id.
    Fixed(String),
    /// By the alert's severity; unlisted severities choose nothing.
    ByAlertSeverity(BTreeMap<AlertSeverity, String>),
}

impl SeverityMapping {
    /// The incident severity id for an alert severity.
    pub fn map(&self, severity: Option<AlertSeverity>) -> Option<&str> {
        match self {
            SeverityMapping::Fixed(id) => Some(id),
            SeverityMapping::ByAlertSeverity(map) => {
                severity.and_then(|s| map.get(&s)).map(String::as_str)
            }
        }
    }

    /// Every incident severity id mentioned, for checking them against the scheme.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            SeverityMapping::Fixed(id) => vec![id],
            SeverityMapping::ByAlertSeverity(map) => map.values().map(String::as_str).collect(),
        }
    }
}

/// A compiled `match:`.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Accepted routing keys; empty means any.
    pub routing_keys: Vec<String>,
    /// Accepted receiver kinds; empty means any.
    pub kinds: Vec<SourceKind>,
    /// Regex searched in the event's source.
    pub source: Option<Regex>,
    /// Accepted alert severities; empty means any.
    pub severities: Vec<AlertSeverity>,
    /// Exact label values.
    pub labels: BTreeMap<String, String>,
    /// Anchored regexes over label values.
    pub label_regexes: Vec<(String, Regex)>,
    /// Regex searched in the summary.
    pub summary: Option<Regex>,
    /// Time window.
    pub time: Option<TimeWindow>,
}

/// A compiled `match.time`.
#[derive(Debug, Clone)]
pub struct TimeWindow {
    /// Zone the times and days are read in.
    pub zone: TimeZone,
    /// Accepted days; empty means every day.
    pub days: Vec<Weekday>,
    /// Start and end of the daily window; `None` means all day.
    pub hours: Option<(Time, Time)>,
}

impl TimeWindow {
    /// Whether `now` falls in the window. For a window crossing midnight (22:00 to 06:00), the
    /// early-morning part belongs to the day the window started: "Friday 22:00 to 06:00"
    /// includes Saturday 03:00.
    pub fn contains(&self, now: Timestamp) -> bool {
        let local = now.to_zoned_datetime(self.zone.clone());
        let time = local.time();
        let mut day = local.weekday();
        if let Some((from, to)) = self.hours {
            let inside = if from < to {
                from <= time && time < to
            } else if time >= from {
                true
            } else if time < to {
                day = day.previous();
                true
            } else {
                false
            };
            if !inside {
                return false;
            }
        }
        self.days.is_empty() || self.days.contains(&day)
    }
}

/// A compiled `threshold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// Events needed within the window.
    pub count: u32,
    /// Sliding window length.
    pub window: Duration,
    /// Label names, or `@field` for event fields, forming the group key.
    pub group_by: Vec<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct RoutingRule {
    /// Name, if given (required with a threshold).
    pub name: Option<String>,
    /// Conditions.
    pub matcher: Matcher,
    /// Service to set.
    pub service: Option<String>,
    /// Incident severity choice.
    pub incident_severity: Option<SeverityMapping>,
    /// Playbook to attach.
    pub playbook: Option<String>,
    /// Open, suppress or drop, if the rule says.
    pub disposition: Option<Disposition>,
    /// Rate condition.
    pub threshold: Option<Threshold>,
    /// Keep evaluating after a match.
    pub continue_matching: bool,
}

/// The counter an event must be recorded in, when a matching rule has a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    /// Counter key: rule name and group values, JSON-encoded so it is unambiguous.
    pub key: String,
    /// The threshold to record against.
    pub threshold: Threshold,
}

/// What the rules decided for one event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouteDecision {
    /// Indices (in the rule list) of the rules that matched and were applied, in order.
    pub matched: Vec<usize>,
    /// Open, suppress or drop. With a threshold, `Open` means "open if the threshold is met".
    pub disposition: Disposition,
    /// Service chosen, if any rule set one.
    pub service: Option<String>,
    /// Incident severity id chosen, if any.
    pub incident_severity: Option<String>,
    /// Playbooks to attach, in rule order, without repeats.
    pub playbooks: Vec<String>,
    /// The counter to consult before opening.
    pub threshold: Option<ThresholdCheck>,
}

/// Compiles one rule, or names the first offending field.
pub fn compile(raw: &RawRule) -> Result<RoutingRule, RuleError> {
    let name = match &raw.name {
        Some(n) if n.trim().is_empty() => return Err(RuleError::new("name", "must not be blank")),
        other => other.clone(),
    };
    let matcher = compile_match(&raw.matcher)?;
    let disposition = match raw.action.as_deref() {
        None => None,
        Some("open") => Some(Disposition::Open),
        Some("suppress") => Some(Disposition::Suppress),
        Some("drop") => Some(Disposition::Drop),
        Some(other) => {
            return Err(RuleError::new(
                "action",
                format!("{other:?} is not one of open, suppress, drop"),
            ));
        }
    };
    let terminal = matches!(disposition, Some(Disposition::Suppress | Disposition::Drop));
    if terminal && raw.continue_matching {
        return Err(RuleError::new(
            "continue",
            "a rule that suppresses or drops ends the evaluation; remove `continue`",
        ));
    }
    let incident_severity = match &raw.incident_severity {
        None => None,
        Some(RawSeverityMap::Fixed(id)) => {
            nonblank(id, "incident_severity")?;
            Some(SeverityMapping::Fixed(id.clone()))
        }
        Some(RawSeverityMap::ByAlertSeverity(map)) => {
            let mut out = BTreeMap::new();
            for (alert, id) in map {
                let path = format!("incident_severity.{alert}");
                let level = AlertSeverity::parse(alert).ok_or_else(|| {
                    RuleError::new(
                        &path,
                        format!("{alert:?} is not one of critical, error, warning, info"),
                    )
                })?;
                nonblank(id, &path)?;
                out.insert(level, id.clone());
            }
            Some(SeverityMapping::ByAlertSeverity(out))
        }
    };
    if let Some(service) = &raw.service {
        nonblank(service, "service")?;
    }
    if let Some(playbook) = &raw.playbook {
        nonblank(playbook, "playbook")?;
    }
    let threshold = match &raw.threshold {
        None => None,
        Some(t) => {
            if terminal {
                return Err(RuleError::new(
                    "threshold",
                    "a rule that suppresses or drops cannot have a threshold",
                ));
            }
            if name.is_none() {
                return Err(RuleError::new(
                    "name",
                    "a rule with a threshold needs a name, which keys its counters",
                ));
            }
            Some(compile_threshold(t)?)
        }
    };
    Ok(RoutingRule {
        name,
        matcher,
        service: raw.service.clone(),
        incident_severity,
        playbook: raw.playbook.clone(),
        disposition,
        threshold,
        continue_matching: raw.continue_matching,
    })
}

/// Compiles a whole `routing_rules:` list; errors carry the rule's index. Names must be unique.
pub fn compile_all(raw: &[RawRule]) -> Result<Vec<RoutingRule>, Vec<(usize, RuleError)>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (i, r) in raw.iter().enumerate() {
        if let Some(name) = &r.name
            && !names.insert(name.as_str())
        {
            errors.push((
                i,
                RuleError::new("name", format!("another rule is already named {name:?}")),
            ));
            continue;
        }
        match compile(r) {
            Ok(rule) => rules.push(rule),
            Err(e) => errors.push((i, e)),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// A `routing_rules:` list as configured: the rules as written (what is shown, compared and
/// saved) together with their compiled form (what [`evaluate`] runs).
///
/// Equality and serialisation use the written rules only; deserialising compiles them and fails
/// on the first rule that does not compile, naming it (`routing_rules[2].match.summary: ...`).
/// The config loader builds it after checking every rule, with each problem at its line.
#[derive(Debug, Clone, Default)]
pub struct RoutingRules {
    raw: Vec<RawRule>,
    compiled: Vec<RoutingRule>,
}

impl RoutingRules {
    /// Compiles `raw` (see [`compile_all`]); errors carry each offending rule's index.
    pub fn new(raw: Vec<RawRule>) -> Result<Self, Vec<(usize, RuleError)>> {
        let compiled = compile_all(&raw)?;
        Ok(Self { raw, compiled })
    }

    /// Pairs rules already compiled one by one (the config loader checks and compiles each
    /// rule itself, to report every problem at its position). `raw` and `compiled` must be in
    /// the same order and of the same length.
    pub(crate) fn from_parts(raw: Vec<RawRule>, compiled: Vec<RoutingRule>) -> Self {
        debug_assert_eq!(raw.len(), compiled.len());
        Self { raw, compiled }
    }

    /// The compiled rules, in order: what [`evaluate`] takes.
    pub fn rules(&self) -> &[RoutingRule] {
        &self.compiled
    }

    /// The rules as written, in the same order.
    pub fn raw(&self) -> &[RawRule] {
        &self.raw
    }

    /// True when there are no rules (every alert opens or joins an incident, unrouted).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Runs the rules over one event received at `now`; see [`evaluate`].
    pub fn evaluate(&self, event: &AlertEvent, now: Timestamp) -> RouteDecision {
        evaluate(&self.compiled, event, now)
    }
}

impl PartialEq for RoutingRules {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for RoutingRules {}

impl Serialize for RoutingRules {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RoutingRules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Vec::<RawRule>::deserialize(deserializer)?;
        RoutingRules::new(raw).map_err(|errors| {
            let text: Vec<String> = errors
                .iter()
                .map(|(i, e)| format!("routing_rules[{i}].{}: {}", e.path, e.message))
                .collect();
            serde::de::Error::custom(text.join("; "))
        })
    }
}

fn nonblank(text: &str, path: &str) -> Result<(), RuleError> {
    if text.trim().is_empty() {
        Err(RuleError::new(path, "must not be blank"))
    } else {
        Ok(())
    }
}

fn regex(pattern: &str, path: &str, anchored: bool) -> Result<Regex, RuleError> {
    let full = if anchored {
        format!("^(?:{pattern})$")
    } else {
        pattern.to_string()
    };
    RegexBuilder::new(&full)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            // Syntax errors come as a multi-line diagram; keep its last line, which says what
            // is wrong, so the problem fits on one `file:line:col` line.
            let detail = match &e {
                regex::Error::Syntax(text) => text
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("error: "))
                    .unwrap_or(text)
                    .to_string(),
                other => other.to_string(),
            };
            RuleError::new(path, format!("invalid regex {pattern:?}: {detail}"))
        })
}

fn compile_match(raw: &RawMatch) -> Result<Matcher, RuleError> {
    let routing_keys = match &raw.routing_key {
        None => Vec::new(),
        Some(keys) => {
            let items = keys.items();
            for (i, k) in items.iter().enumerate() {
                nonblank(k, &list_path("match.routing_key", keys, i))?;
            }
            items.into_iter().map(str::to_string).collect()
        }
    };
    let mut kinds = Vec::new();
    if let Some(list) = &raw.source_kind {
        for (i, k) in list.items().into_iter().enumerate() {
            kinds.push(SourceKind::parse(k).ok_or_else(|| {
                RuleError::new(
                    list_path("match.source_kind", list, i),
                    format!("{k:?} is not one of pagerduty, alertmanager, grafana, generic"),
                )
            })?);
        }
    }
    let mut severities = Vec::new();
    if let Some(list) = &raw.severity {
        for (i, s) in list.items().into_iter().enumerate() {
            severities.push(AlertSeverity::parse(s).ok_or_else(|| {
                RuleError::new(
                    list_path("match.severity", list, i),
                    format!("{s:?} is not one of critical, error, warning, info"),
                )
            })?);
        }
    }
    let source = raw
        .source
        .as_deref()
        .map(|p| regex(p, "match.source", false))
        .transpose()?;
    let summary = raw
        .summary
        .as_deref()
        .map(|p| regex(p, "match.summary", false))
        .transpose()?;
    let mut label_regexes = Vec::new();
    for (name, pattern) in &raw.labels_regex {
        let path = format!("match.labels_regex.{name}");
        label_regexes.push((name.clone(), regex(pattern, &path, true)?));
    }
    let time = raw.time.as_ref().map(compile_time).transpose()?;
    Ok(Matcher {
        routing_keys,
        kinds,
        source,
        severities,
        labels: raw.labels.clone(),
        label_regexes,
        summary,
        time,
    })
}

fn list_path(base: &str, list: &OneOrMany, i: usize) -> String {
    match list {
        OneOrMany::One(_) => base.to_string(),
        OneOrMany::Many(_) => format!("{base}[{i}]"),
    }
}

fn compile_time(raw: &RawTime) -> Result<TimeWindow, RuleError> {
    let zone = match raw.zone.as_deref() {
        None => TimeZone::UTC,
        Some(name) => TimeZone::get(name).map_err(|_| {
            RuleError::new("match.time.zone", format!("unknown time zone {name:?}"))
        })?,
    };
    let mut days = Vec::new();
    for (i, d) in raw.days.iter().enumerate() {
        let path = format!("match.time.days[{i}]");
        for day in parse_days(d).ok_or_else(|| {
            RuleError::new(
                path,
                format!("{d:?} is not a day (mon..sun, monday..sunday, weekdays, weekend)"),
            )
        })? {
            if !days.contains(&day) {
                days.push(day);
            }
        }
    }
    let hours = match (&raw.from, &raw.to) {
        (None, None) => None,
        (Some(_), None) => return Err(RuleError::new("match.time.to", "needed with `from`")),
        (None, Some(_)) => return Err(RuleError::new("match.time.from", "needed with `to`")),
        (Some(from), Some(to)) => {
            let from_t = clock_time(from, "match.time.from")?;
            let to_t = clock_time(to, "match.time.to")?;
            if from_t == to_t {
                return Err(RuleError::new(
                    "match.time.to",
                    "must differ from `from` (leave both out for all day)",
                ));
            }
            Some((from_t, to_t))
        }
    };
    Ok(TimeWindow { zone, days, hours })
}

fn parse_days(text: &str) -> Option<Vec<Weekday>> {
    use Weekday::*;
    let day = match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Monday,
        "tue" | "tuesday" => Tuesday,
        "wed" | "wednesday" => Wednesday,
        "thu" | "thursday" => Thursday,
        "fri" | "friday" => Friday,
        "sat" | "saturday" => Saturday,
        "sun" | "sunday" => Sunday,
        "weekdays" => return Some(vec![Monday, Tuesday, Wednesday, Thursday, Friday]),
        "weekend" | "weekends" => return Some(vec![Saturday, Sunday]),
        _ => return None,
    };
    Some(vec![day])
}

/// `HH:MM` or `HH:MM:SS`; `24:00` means the end of the day (written as midnight).
fn clock_time(text: &str, path: &str) -> Result<Time, RuleError> {
    let t = text.trim();
    if t == "24:00" {
        return Ok(Time::midnight());
    }
    let bad = || RuleError::new(path, format!("{text:?} is not a time of day like 08:30"));
    if !(t.len() == 5 || t.len() == 8) {
        return Err(bad());
    }
    t.parse::<Time>().map_err(|_| bad())
}

fn compile_threshold(raw: &RawThreshold) -> Result<Threshold, RuleError> {
    if raw.count == 0 || raw.count > MAX_THRESHOLD_COUNT {
        return Err(RuleError::new(
            "threshold.count",
            format!("must be between 1 and {MAX_THRESHOLD_COUNT}"),
        ));
    }
    let window: Duration = raw
        .window
        .parse()
        .map_err(|e| RuleError::new("threshold.window", format!("{e}")))?;
    for (i, name) in raw.group_by.iter().enumerate() {
        let path = format!("threshold.group_by[{i}]");
        nonblank(name, &path)?;
        if let Some(field) = name.strip_prefix('@')
            && !EVENT_FIELDS.contains(&field)
        {
            return Err(RuleError::new(
                path,
                format!(
                    "unknown event field {name:?} (one of @{})",
                    EVENT_FIELDS.join(", @")
                ),
            ));
        }
    }
    Ok(Threshold {
        count: raw.count,
        window,
        group_by: raw.group_by.clone(),
    })
}

/// Event fields `group_by` can use, written with a leading `@`.
const EVENT_FIELDS: [&str; 6] = [
    "source",
    "routing_key",
    "component",
    "group",
    "class",
    "service",
];

fn event_field<'a>(event: &'a AlertEvent, field: &str) -> Option<&'a str> {
    match field {
        "source" => event.source.as_deref(),
        "routing_key" => event.routing_key.as_deref(),
        "component" => event.component.as_deref(),
        "group" => event.group.as_deref(),
        "class" => event.class.as_deref(),
        "service" => event.service.as_deref(),
        _ => None,
    }
}

impl Matcher {
    /// Whether `event`, received at `now`, meets every condition.
    pub fn matches(&self, event: &AlertEvent, now: Timestamp) -> bool {
        if !self.routing_keys.is_empty()
            && !event
                .routing_key
                .as_ref()
                .is_some_and(|k| self.routing_keys.contains(k))
        {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&event.kind) {
            return false;
        }
        if !self.severities.is_empty()
            && !event.severity.is_some_and(|s| self.severities.contains(&s))
        {
            return false;
        }
        if let Some(re) = &self.source
            && !event.source.as_deref().is_some_and(|s| re.is_match(s))
        {
            return false;
        }
        if let Some(re) = &self.summary
            && !re.is_match(&event.summary)
        {
            return false;
        }
        if !self
            .labels
            .iter()
            .all(|(k, v)| event.labels.get(k) == Some(v))
        {
            return false;
        }
        if !self
            .label_regexes
            .iter()
            .all(|(k, re)| event.labels.get(k).is_some_and(|v| re.is_match(v)))
        {
            return false;
        }
        self.time.as_ref().is_none_or(|t| t.contains(now))
    }
}

impl Threshold {
    /// The counter key for `event` under the rule named `rule`: the rule name and each
    /// `group_by` name with its value (empty when absent), as a JSON array.
    pub fn group_key(&self, rule: &str, event: &AlertEvent) -> String {
        let mut parts: Vec<&str> = vec![rule];
        for name in &self.group_by {
            let value = match name.strip_prefix('@') {
                Some(field) => event_field(event, field),
                None => event.labels.get(name).map(String::as_str),
            };
            parts.push(name);
            parts.push(value.unwrap_or(""));
        }
        serde_json::to_string(&parts).unwrap_or_else(|_| unreachable!("strings always encode"))
    }
}

/// Runs the rules over one event received at `now`.
///
/// Meant for triggers: acknowledge and resolve apply to an existing alert whatever the rules
/// say. With no matching rule the decision is to open, with nothing set (the caller falls back
/// to the integration's service and its default severity).
pub fn evaluate(rules: &[RoutingRule], event: &AlertEvent, now: Timestamp) -> RouteDecision {
    let mut decision = RouteDecision::default();
    let mut disposition = None;
    for (i, rule) in rules.iter().enumerate() {
        if !rule.matcher.matches(event, now) {
            continue;
        }
        decision.matched.push(i);
        if decision.service.is_none() {
            decision.service.clone_from(&rule.service);
        }
        if decision.incident_severity.is_none() {
            decision.incident_severity = rule
                .incident_severity
                .as_ref()
                .and_then(|m| m.map(event.severity))
                .map(str::to_string);
        }
        if let Some(p) = &rule.playbook
            && !decision.playbooks.contains(p)
        {
            decision.playbooks.push(p.clone());
        }
        if decision.threshold.is_none()
            && let (Some(t), Some(name)) = (&rule.threshold, &rule.name)
        {
            decision.threshold = Some(ThresholdCheck {
                key: t.group_key(name, event),
                threshold: t.clone(),
            });
        }
        if disposition.is_none() {
            disposition = rule.disposition;
        }
        let terminal = matches!(
            rule.disposition,
            Some(Disposition::Suppress | Disposition::Drop)
        );
        if terminal || !rule.continue_matching {
            break;
        }
    }
    decision.disposition = disposition.unwrap_or_default();
    if decision.disposition != Disposition::Open {
        decision.threshold = None;
    }
    decision
}

/// A sliding-window event counter for one threshold key, small and serialisable so the store
/// can persist it.
///
/// It keeps at most `count` receive times (milliseconds since the epoch, ascending): older ones
/// cannot change the answer, so memory per key is bounded however hard an alert storm hits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ThresholdState {
    /// Receive times in the current window, ascending, in Unix milliseconds.
    pub hits: Vec<i64>,
}

impl ThresholdState {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an event received at `at` and says whether at least `threshold.count` events
    /// now fall within `threshold.window` (ending at the latest one).
    ///
    /// The answer stays `true` for every further event while the rate holds (level, not edge):
    /// the caller then attaches to the incident the first crossing opened, instead of counting
    /// from zero again.
    pub fn record(&mut self, at: Timestamp, threshold: &Threshold) -> bool {
        let ms = at.as_millisecond();
        let pos = self.hits.partition_point(|&h| h <= ms);
        self.hits.insert(pos, ms);
        let newest = self.hits.last().copied().unwrap_or(ms);
        self.prune(newest, threshold);
        self.hits.len() >= threshold.count as usize
    }

    /// Events counted within the window ending at `now`.
    pub fn count_at(&self, now: Timestamp, window: Duration) -> usize {
        let cutoff = now.as_millisecond().saturating_sub(window_ms(window));
        self.hits.iter().filter(|&&h| h > cutoff).count()
    }

    /// True when nothing is left in the window ending at `now`: the store may delete the state.
    pub fn is_idle(&self, now: Timestamp, window: Duration) -> bool {
        self.count_at(now, window) == 0
    }

    fn prune(&mut self, newest: i64, threshold: &Threshold) {
        let cutoff = newest.saturating_sub(window_ms(threshold.window));
        self.hits.retain(|&h| h > cutoff);
        let keep = threshold.count as usize;
        if self.hits.len() > keep {
            self.hits.drain(..self.hits.len() - keep);
        }
    }
}

fn window_ms(window: Duration) -> i64 {
    window.as_secs().saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Action;
    use proptest::prelude::*;

    fn rules(yaml: &str) -> Vec<RoutingRule> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            routing_rules: Vec<RawRule>,
        }
        let file: File = yaml_serde::from_str(yaml).expect("test yaml");
        compile_all(&file.routing_rules).expect("test rules compile")
    }

    fn error(yaml: &str) -> RuleError {
        let raw: RawRule = yaml_serde::from_str(yaml).expect("test yaml");
        compile(&raw).expect_err("should not compile")
    }

    fn event(summary: &str, severity: AlertSeverity, labels: &[(&str, &str)]) -> AlertEvent {
        let mut e = AlertEvent::new(SourceKind::Alertmanager, Action::Trigger, summary);
        e.severity = Some(severity);
        e.routing_key = Some("wr_int_infra".into());
        e.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        e
    }

    /// A Wednesday, 10:00 in Paris (09:00 UTC).
    fn wednesday_10_paris() -> Timestamp {
        "2026-11-25T09:00:00Z".parse().expect("time")
    }

    const RULES: &str = r#"
routing_rules:
  - name: drop-test-env
    match: {labels: {env: test}}
    action: drop
  - name: db
    match:
      labels_regex: {alertname: 'Postgres.*|Mysql.*'}
    service: databases
    continue: true
  - name: critical-pages
    match: {severity: [critical]}
    incident_severity: {critical: P1}
    playbook: downtime
    service: platform
  - name: noisy-warnings
    match: {severity: warning, source_kind: [alertmanager, grafana]}
    action: suppress
  - name: failed-logins
    match: {summary: '(?i)failed login'}
    threshold: {count: 3, window: 1m, group_by: [source_ip]}
    service: auth
    incident_severity: P2
"#;

    #[test]
    fn first_match_wins() {
        let r = rules(RULES);
        let now = wednesday_10_paris();
        let d = evaluate(
            &r,
            &event("x", AlertSeverity::Critical, &[("env", "test")]),
            now,
        );
        assert_eq!(d.disposition, Disposition::Drop);
        assert_eq!(d.matched, vec![0]);

        let d = evaluate(
            &r,
            &event("disk", AlertSeverity::Critical, &[("env", "prod")]),
            now,
        );
        assert_eq!(d.matched, vec![2]);
        assert_eq!(d.service.as_deref(), Some("platform"));
        assert_eq!(d.incident_severity.as_deref(), Some("P1"));
        assert_eq!(d.playbooks, vec!["downtime"]);
        assert_eq!(d.disposition, Disposition::Open);
    }

    #[test]
    fn continue_applies_later_rules_but_earlier_settings_win() {
        let r = rules(RULES);
        let e = event(
            "lag",
            AlertSeverity::Critical,
            &[("alertname", "PostgresReplicationLag")],
        );
        let d = evaluate(&r, &e, wednesday_10_paris());
        assert_eq!(d.matched, vec![1, 2]);
        assert_eq!(
            d.service.as_deref(),
            Some("databases"),
            "rule 1 set it first"
        );
        assert_eq!(d.incident_severity.as_deref(), Some("P1"), "from rule 2");
        assert_eq!(d.playbooks, vec!["downtime"]);

        // Anchored: a label merely containing the pattern does not match.
        let e = event("x", AlertSeverity::Info, &[("alertname", "NotPostgresLag")]);
        assert!(evaluate(&r, &e, wednesday_10_paris()).matched.is_empty());
    }

    #[test]
    fn suppress_and_no_match() {
        let r = rules(RULES);
        let d = evaluate(
            &r,
            &event("cpu", AlertSeverity::Warning, &[]),
            wednesday_10_paris(),
        );
        assert_eq!(d.disposition, Disposition::Suppress);
        let mut e = event("cpu", AlertSeverity::Warning, &[]);
        e.kind = SourceKind::Pagerduty;
        let d = evaluate(&r, &e, wednesday_10_paris());
        assert_eq!(d, RouteDecision::default(), "nothing matched: open, unset");
    }

    #[test]
    fn threshold_check_is_keyed_by_group() {
        let r = rules(RULES);
        let now = wednesday_10_paris();
        let e1 = event(
            "Failed login for root",
            AlertSeverity::Info,
            &[("source_ip", "203.0.113.9")],
        );
        let e2 = event(
            "FAILED LOGIN for admin",
            AlertSeverity::Info,
            &[("source_ip", "198.51.100.4")],
        );
        let d1 = evaluate(&r, &e1, now);
        let d2 = evaluate(&r, &e2, now);
        let (Some(c1), Some(c2)) = (d1.threshold, d2.threshold) else {
            panic!("threshold expected");
        };
        assert_eq!(c1.key, r#"["failed-logins","source_ip","203.0.113.9"]"#);
        assert_ne!(c1.key, c2.key);
        assert_eq!(c1.threshold.count, 3);
        assert_eq!(d1.incident_severity.as_deref(), Some("P2"));

        let mut state = ThresholdState::new();
        let t = &c1.threshold;
        assert!(!state.record(now, t));
        assert!(!state.record(now + jiff::SignedDuration::from_secs(20), t));
        assert!(state.record(now + jiff::SignedDuration::from_secs(40), t));
        assert!(
            state.record(now + jiff::SignedDuration::from_secs(50), t),
            "level"
        );
        // 2 minutes of quiet: back under.
        assert!(!state.record(now + jiff::SignedDuration::from_secs(170), t));
        let json = serde_json::to_string(&state).expect("json");
        let back: ThresholdState = serde_json::from_str(&json).expect("json");
        assert_eq!(back, state);
        assert!(back.is_idle(now + jiff::SignedDuration::from_secs(300), t.window));
    }

    #[test]
    fn event_fields_in_group_by() {
        let r = rules(
            "routing_rules:\n  - name: per-host\n    threshold: {count: 100, window: 1m, group_by: ['@source', '@routing_key']}\n",
        );
        let mut e = event("errors", AlertSeverity::Error, &[]);
        e.source = Some("web-3".into());
        let d = evaluate(&r, &e, wednesday_10_paris());
        assert_eq!(
            d.threshold.map(|c| c.key),
            Some(r#"["per-host","@source","web-3","@routing_key","wr_int_infra"]"#.into())
        );
    }

    #[test]
    fn time_windows_in_zone() {
        let r = rules(
            r#"
routing_rules:
  - name: office
    match: {time: {zone: Europe/Paris, days: [weekdays], from: "08:00", to: "19:00"}}
    service: office
  - name: night
    match: {time: {zone: Europe/Paris, days: [fri], from: "22:00", to: "06:00"}}
    service: night
"#,
        );
        let e = event("x", AlertSeverity::Error, &[]);
        let svc = |at: &str| {
            evaluate(&r, &e, at.parse().expect("time"))
                .service
                .unwrap_or_default()
        };
        assert_eq!(svc("2026-11-25T09:00:00Z"), "office", "Wed 10:00 Paris");
        assert_eq!(svc("2026-11-25T18:30:00Z"), "", "Wed 19:30 Paris");
        assert_eq!(svc("2026-11-28T09:00:00Z"), "", "Saturday");
        assert_eq!(svc("2026-11-27T21:30:00Z"), "night", "Fri 22:30 Paris");
        assert_eq!(
            svc("2026-11-28T02:00:00Z"),
            "night",
            "Sat 03:00 belongs to Friday night"
        );
        assert_eq!(
            svc("2026-11-29T02:00:00Z"),
            "",
            "Sun 03:00 belongs to Saturday night"
        );
        // Summer time: 08:00 Paris is 06:00 UTC in July.
        assert_eq!(svc("2026-07-01T06:00:00Z"), "office");
        assert_eq!(svc("2026-07-01T05:59:00Z"), "");
    }

    #[test]
    fn matching_on_keys_kinds_source_and_summary() {
        let r = rules(
            r#"
routing_rules:
  - match: {routing_key: wr_int_infra, source: '^bastion-\d+$', summary: 'ssh'}
    service: hit
"#,
        );
        let mut e = event("sshd: too many auth failures", AlertSeverity::Error, &[]);
        e.source = Some("bastion-12".into());
        assert_eq!(
            evaluate(&r, &e, wednesday_10_paris()).service.as_deref(),
            Some("hit")
        );
        e.source = Some("bastion-12.example".into());
        assert_eq!(evaluate(&r, &e, wednesday_10_paris()).service, None);
        e.source = Some("bastion-1".into());
        e.routing_key = Some("wr_int_other".into());
        assert_eq!(evaluate(&r, &e, wednesday_10_paris()).service, None);
        e.routing_key = None;
        assert_eq!(evaluate(&r, &e, wednesday_10_paris()).service, None);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("match: {summary: '(unclosed'}", "match.summary"),
            ("match: {source: '['}", "match.source"),
            (
                "match: {labels_regex: {instance: '*x'}}",
                "match.labels_regex.instance",
            ),
            ("match: {severity: [critical, high]}", "match.severity[1]"),
            ("match: {severity: page}", "match.severity"),
            ("match: {source_kind: nagios}", "match.source_kind"),
            (
                "match: {time: {zone: Mars/Olympus, from: '08:00', to: '17:00'}}",
                "match.time.zone",
            ),
            ("match: {time: {days: [mon, funday]}}", "match.time.days[1]"),
            (
                "match: {time: {from: '8am', to: '17:00'}}",
                "match.time.from",
            ),
            ("match: {time: {from: '08:00'}}", "match.time.to"),
            (
                "name: t\nthreshold: {count: 5, window: 5 minutes}",
                "threshold.window",
            ),
            (
                "name: t\nthreshold: {count: 0, window: 1m}",
                "threshold.count",
            ),
            (
                "name: t\nthreshold: {count: 5, window: 1m, group_by: ['@ip']}",
                "threshold.group_by[0]",
            ),
            ("threshold: {count: 5, window: 1m}", "name"),
            (
                "name: t\naction: drop\nthreshold: {count: 5, window: 1m}",
                "threshold",
            ),
            ("action: mute", "action"),
            ("action: suppress\ncontinue: true", "continue"),
            ("incident_severity: {sev1: P1}", "incident_severity.sev1"),
            ("incident_severity: ''", "incident_severity"),
            ("service: ' '", "service"),
        ];
        for (yaml, path) in cases {
            assert_eq!(error(yaml).path, path, "{yaml}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_by_serde() {
        assert!(yaml_serde::from_str::<RawRule>("match: {sumary: x}").is_err());
        assert!(yaml_serde::from_str::<RawRule>("servce: x").is_err());
    }

    #[test]
    fn duplicate_names() {
        let raw: Vec<RawRule> =
            yaml_serde::from_str("- name: a\n- name: b\n- name: a\n").expect("yaml");
        let errs = compile_all(&raw).expect_err("duplicate");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, 2);
        assert_eq!(errs[0].1.path, "name");
    }

    fn threshold(count: u32, window_secs: i64) -> Threshold {
        Threshold {
            count,
            window: Duration::from_secs(window_secs),
            group_by: Vec::new(),
        }
    }

    proptest! {
        /// The counter agrees with a brute-force count over every event seen, stays bounded,
        /// and does not depend on arrival order.
        #[test]
        fn threshold_state_matches_brute_force(
            count in 1u32..6,
            window in 1i64..120,
            mut offsets in proptest::collection::vec(0i64..600_000, 1..40),
        ) {
            offsets.sort_unstable();
            let t = threshold(count, window);
            let base = wednesday_10_paris();
            let mut state = ThresholdState::new();
            for (i, &ms) in offsets.iter().enumerate() {
                let at = base + jiff::SignedDuration::from_millis(ms);
                let crossed = state.record(at, &t);
                let in_window = offsets[..=i]
                    .iter()
                    .filter(|&&o| o > ms - window * 1000)
                    .count();
                prop_assert_eq!(crossed, in_window >= count as usize);
                prop_assert!(state.hits.len() <= count as usize);
            }
            // Shuffled arrival (reversed): the final answer is the same for the newest event.
            let mut reversed = ThresholdState::new();
            let mut last = false;
            for &ms in offsets.iter().rev() {
                last = reversed.record(base + jiff::SignedDuration::from_millis(ms), &t);
            }
            let newest = offsets[offsets.len() - 1];
            let in_window = offsets.iter().filter(|&&o| o > newest - window * 1000).count();
            prop_assert_eq!(last, in_window >= count as usize);
        }
    }
}
