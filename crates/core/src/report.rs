//! Reports: incident metrics aggregated over a window, per group and per ISO week, rendered as
//! Markdown, CSV or JSON.
//!
//! Pure: the caller gathers the [`IncidentMetrics`] of the incidents declared in the window
//! (only those the asker may see) and their action items; this module counts and summarises.
//! Durations are summarised by count, mean (rounded down to the second), median and p90, both
//! percentiles by the nearest-rank method: the p-th percentile of n sorted values is the value
//! at rank ⌈p/100 × n⌉ (1-based), so it is always one of the observed values, and the median
//! of an even count is the lower of the two middle values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::action::ActionItem;
use crate::config::Config;
use crate::metrics::IncidentMetrics;

/// How incidents are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// By current severity, in the scheme's order.
    Severity,
    /// By service; an incident on several services counts in each, one on none in `(none)`.
    Service,
    /// By incident type.
    Type,
}

impl std::str::FromStr for GroupBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "severity" => Ok(GroupBy::Severity),
            "service" => Ok(GroupBy::Service),
            "type" => Ok(GroupBy::Type),
            _ => Err(format!(
                "unknown grouping {s:?}: expected severity, service or type"
            )),
        }
    }
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Markdown tables.
    Markdown,
    /// One CSV table: the total, the groups, then the weeks.
    Csv,
    /// The [`Report`] as JSON.
    Json,
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "md" | "markdown" => Ok(ReportFormat::Markdown),
            "csv" => Ok(ReportFormat::Csv),
            "json" => Ok(ReportFormat::Json),
            _ => Err(format!("unknown format {s:?}: expected md, csv or json")),
        }
    }
}

impl ReportFormat {
    /// HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Json => "application/json",
        }
    }
}

/// Summary of a set of durations, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// How many values.
    pub count: u64,
    /// Mean, rounded down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_secs: Option<i64>,
    /// Nearest-rank median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_secs: Option<i64>,
    /// Nearest-rank 90th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_secs: Option<i64>,
}

/// The nearest-rank `p`-th percentile (0 < p <= 100) of `sorted` (ascending).
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() || p == 0 {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p.min(100)) * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// Count, mean, median and p90 of `values`.
pub fn summarize(mut values: Vec<i64>) -> Summary {
    values.sort_unstable();
    let count = values.len() as u64;
    let mean_secs = (count > 0).then(|| {
        let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
        i64::try_from(sum.div_euclid(i128::from(count))).unwrap_or(i64::MAX)
    });
    Summary {
        count,
        mean_secs,
        median_secs: percentile(&values, 50),
        p90_secs: percentile(&values, 90),
    }
}

/// The numbers of one group (or the total, or one week).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Group key: a severity, service or type id, `all`, or an ISO week (`2026-W48`).
    pub key: String,
    /// Incidents declared.
    pub incidents: u64,
    /// Of those, still open now.
    pub open: u64,
    /// Of those, resolved or closed now.
    pub resolved: u64,
    /// Of those, reopened at least once.
    pub reopened: u64,
    /// Of those, never acknowledged.
    pub unacknowledged: u64,
    /// Time to acknowledge (acknowledged incidents only).
    pub time_to_acknowledge: Summary,
    /// Time to contain (contained incidents only).
    pub time_to_contain: Summary,
    /// Time to resolve (resolved incidents only).
    pub time_to_resolve: Summary,
    /// Time to detect (incidents an alert detected).
    pub time_to_detect: Summary,
    /// Incidents whose response target was missed.
    pub response_target_breaches: u64,
    /// Incidents that missed their RTO.
    pub rto_missed: u64,
    /// Incidents whose internal update cadence was not kept.
    pub update_cadence_missed: u64,
    /// Escalations (pages after the first) over all incidents.
    pub escalations: u64,
    /// Action items of these incidents still open or in progress.
    pub actions_open: u64,
    /// Of those, past their due instant.
    pub actions_overdue: u64,
}

impl GroupStats {
    fn of(key: String, incidents: &[&Entry<'_>], now: Timestamp) -> GroupStats {
        let pick = |f: &dyn Fn(&IncidentMetrics) -> Option<i64>| {
            summarize(incidents.iter().filter_map(|e| f(e.metrics)).collect())
        };
        let count = |f: &dyn Fn(&IncidentMetrics) -> bool| {
            incidents.iter().filter(|e| f(e.metrics)).count() as u64
        };
        let actions = || incidents.iter().flat_map(|e| e.actions.iter());
        GroupStats {
            key,
            incidents: incidents.len() as u64,
            open: count(&|m| m.status.is_open()),
            resolved: count(&|m| !m.status.is_open()),
            reopened: count(&|m| m.reopened > 0),
            unacknowledged: count(&|m| m.acknowledged_at.is_none()),
            time_to_acknowledge: pick(&|m| m.time_to_acknowledge_secs),
            time_to_contain: pick(&|m| m.time_to_contain_secs),
            time_to_resolve: pick(&|m| m.time_to_resolve_secs),
            time_to_detect: pick(&|m| m.time_to_detect_secs),
            response_target_breaches: count(&|m| m.response_target_breached),
            rto_missed: count(&|m| m.rto_met == Some(false)),
            update_cadence_missed: count(&|m| !m.update_cadence_kept),
            escalations: incidents
                .iter()
                .map(|e| u64::from(e.metrics.escalations))
                .sum(),
            actions_open: actions().filter(|a| a.status.is_open()).count() as u64,
            actions_overdue: actions().filter(|a| a.is_overdue(now)).count() as u64,
        }
    }
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Start of the window (incidents declared at or after it).
    pub since: Timestamp,
    /// End of the window: when the report was made.
    pub until: Timestamp,
    /// Grouping, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<GroupBy>,
    /// Everything in the window.
    pub total: GroupStats,
    /// Per group, when grouped.
    pub groups: Vec<GroupStats>,
    /// Per ISO week (UTC) of declaration, every week of the window, oldest first.
    pub weeks: Vec<GroupStats>,
}

/// One incident's contribution.
struct Entry<'a> {
    metrics: &'a IncidentMetrics,
    actions: &'a [ActionItem],
}

/// `2026-W48`: the ISO week (UTC) of `at`.
pub fn iso_week(at: Timestamp) -> String {
    let week = at
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .iso_week_date();
    format!("{:04}-W{:02}", week.year(), week.week())
}

/// Builds the report over `incidents` (each with its action items), declared in
/// `[since, until]`; incidents outside the window are ignored.
pub fn build(
    incidents: &[(IncidentMetrics, Vec<ActionItem>)],
    config: &Config,
    by: Option<GroupBy>,
    since: Timestamp,
    until: Timestamp,
) -> Report {
    let entries: Vec<Entry<'_>> = incidents
        .iter()
        .filter(|(m, _)| m.declared_at >= since && m.declared_at <= until)
        .map(|(metrics, actions)| Entry { metrics, actions })
        .collect();
    let all: Vec<&Entry<'_>> = entries.iter().collect();
    let total = GroupStats::of("all".into(), &all, until);

    let mut groups = Vec::new();
    if let Some(by) = by {
        let mut buckets: BTreeMap<String, Vec<&Entry<'_>>> = BTreeMap::new();
        for e in &entries {
            let keys: Vec<String> = match by {
                GroupBy::Severity => vec![e.metrics.severity.clone()],
                GroupBy::Type => vec![e.metrics.incident_type.clone()],
                GroupBy::Service if e.metrics.services.is_empty() => vec!["(none)".into()],
                GroupBy::Service => e.metrics.services.clone(),
            };
            for k in keys {
                buckets.entry(k).or_default().push(e);
            }
        }
        let mut keys: Vec<String> = buckets.keys().cloned().collect();
        if by == GroupBy::Severity {
            // The scheme's order (most severe first); severities no longer configured last.
            let rank = |k: &String| {
                config
                    .severities
                    .iter()
                    .position(|s| &s.id == k)
                    .unwrap_or(usize::MAX)
            };
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
        }
        for k in keys {
            if let Some(list) = buckets.get(&k) {
                groups.push(GroupStats::of(k.clone(), list, until));
            }
        }
    }

    // Each incident's week is worked out once; then every week of the window gets a row,
    // stepping a week at a time so a long window costs one step per week.
    let mut by_week: BTreeMap<String, Vec<&Entry<'_>>> = BTreeMap::new();
    for e in &entries {
        by_week
            .entry(iso_week(e.metrics.declared_at))
            .or_default()
            .push(e);
    }
    let mut week_keys = Vec::new();
    let last = until.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let mut day = since.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    while day <= last {
        week_keys.push(iso_week_of_date(day));
        match day.checked_add(jiff::Span::new().days(7)) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    let last_week = iso_week_of_date(last);
    if week_keys.last() != Some(&last_week) {
        week_keys.push(last_week);
    }
    let weeks = week_keys
        .into_iter()
        .map(|week| {
            let list = by_week.get(&week).cloned().unwrap_or_default();
            GroupStats::of(week, &list, until)
        })
        .collect();
    Report {
        since,
        until,
        by,
        total,
        groups,
        weeks,
    }
}

fn iso_week_of_date(date: jiff::civil::Date) -> String {
    let week = date.iso_week_date();
    format!("{:04}-W{:02}", week.year(), week.week())
}

/// `1h 30m`, `45s`, `2d 3h`: a duration for people, to the largest two units.
pub fn human_secs(secs: i64) -> String {
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut rest = secs.max(0);
    let mut parts = Vec::new();
    for (size, name) in units {
        if rest >= size || (parts.is_empty() && size == 1) {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

fn cell(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_string(), human_secs)
}

fn md_summary(s: &Summary) -> String {
    if s.count == 0 {
        return "-".into();
    }
    format!(
        "{} / {} / {}",
        cell(s.mean_secs),
        cell(s.median_secs),
        cell(s.p90_secs)
    )
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        ReportFormat::Markdown => render_md(report),
        ReportFormat::Csv => render_csv(report),
    }
}

fn render_md(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident report\n");
    let _ = writeln!(
        out,
        "Incidents declared from {} to {}. Durations are mean / median / p90 (nearest rank).\n",
        r.since, r.until
    );
    let header = "| Group | Incidents | Open | Reopened | Unacked | MTTA | Time to contain | MTTR | Target breaches | RTO missed | Cadence missed | Escalations | Actions open | Actions overdue |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    let row = |s: &GroupStats| {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.key,
            s.incidents,
            s.open,
            s.reopened,
            s.unacknowledged,
            md_summary(&s.time_to_acknowledge),
            md_summary(&s.time_to_contain),
            md_summary(&s.time_to_resolve),
            s.response_target_breaches,
            s.rto_missed,
            s.update_cadence_missed,
            s.escalations,
            s.actions_open,
            s.actions_overdue
        )
    };
    let title = match r.by {
        Some(GroupBy::Severity) => "By severity",
        Some(GroupBy::Service) => "By service",
        Some(GroupBy::Type) => "By type",
        None => "Summary",
    };
    let _ = writeln!(out, "## {title}\n");
    out.push_str(header);
    for g in &r.groups {
        out.push_str(&row(g));
    }
    out.push_str(&row(&r.total));
    let _ = writeln!(out, "\n## Trend per week\n");
    out.push_str("| Week | Incidents | Open | MTTA (median) | MTTR (median) | Target breaches | Actions overdue |\n|---|---|---|---|---|---|---|\n");
    for w in &r.weeks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            w.key,
            w.incidents,
            w.open,
            cell(w.time_to_acknowledge.median_secs),
            cell(w.time_to_resolve.median_secs),
            w.response_target_breaches,
            w.actions_overdue
        );
    }
    out
}

fn csv_field(v: &str) -> String {
    // A leading formula character is neutralised so spreadsheets do not evaluate it.
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn render_csv(r: &Report) -> String {
    let mut out = String::from(
        "row,key,incidents,open,resolved,reopened,unacknowledged,\
         tta_count,tta_mean_secs,tta_median_secs,tta_p90_secs,\
         ttc_count,ttc_mean_secs,ttc_median_secs,ttc_p90_secs,\
         ttr_count,ttr_mean_secs,ttr_median_secs,ttr_p90_secs,\
         ttd_count,ttd_mean_secs,ttd_median_secs,ttd_p90_secs,\
         response_target_breaches,rto_missed,update_cadence_missed,escalations,\
         actions_open,actions_overdue\n",
    );
    let num = |v: Option<i64>| v.map_or_else(String::new, |v| v.to_string());
    let summary = |s: &Summary| {
        format!(
            "{},{},{},{}",
            s.count,
            num(s.mean_secs),
            num(s.median_secs),
            num(s.p90_secs)
        )
    };
    let mut line = |kind: &str, s: &GroupStats| {
        let _ = writeln!(
            out,
            "{kind},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&s.key),
            s.incidents,
            s.open,
            s.resolved,
            s.reopened,
            s.unacknowledged,
            summary(&s.time_to_acknowledge),
            summary(&s.time_to_contain),
            summary(&s.time_to_resolve),
            summary(&s.time_to_detect),
            s.response_target_breaches,
            s.rto_missed,
            s.update_cadence_missed,
            s.escalations,
            s.actions_open,
            s.actions_overdue
        );
    };
    line("total", &r.total);
    for g in &r.groups {
        line("group", g);
    }
    for w in &r.weeks {
        line("week", w);
    }
    out
}
