//! `/ui/reports`: incidents per week and the MTTA / MTTR trends as server-rendered SVG bar
//! charts, each with the same numbers in a table beside it. The numbers are the API's report
//! ([`crate::routes::reports::collect`]), so restricted incidents count only for those who may
//! see them, exactly as in `GET /api/v1/reports`.

use axum::extract::{RawQuery, State};
use axum::response::Html;
use jiff::SignedDuration;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use warroom_core::report::{GroupStats, human_secs};

use super::UiError;
use super::format::absolute;
use super::session::UiUser;
use super::templates::render_page;
use crate::routes::reports::collect;
use crate::state::AppState;

/// The windows the page offers, in days; the first is the default.
const WINDOWS: [i64; 4] = [90, 30, 180, 365];

/// Chart geometry, in SVG user units (the drawing scales to the page width).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 8.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
/// Above this many weeks, only every n-th week is labelled under its bar (the table has all).
const MAX_LABELS: usize = 14;

#[derive(Debug, Serialize)]
struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    /// Centre of the bar, for its labels.
    mid: f64,
    week: String,
    /// The week without its year (`W48`), under the bar.
    short: String,
    /// The value as read (`3`, `1h 5m`), or `no data`.
    value: String,
    has_value: bool,
    label_week: bool,
    label_value: bool,
}

#[derive(Debug, Serialize)]
struct Chart {
    id: &'static str,
    title: String,
    desc: String,
    width: f64,
    height: f64,
    baseline: f64,
    bars: Vec<Bar>,
}

/// A bar chart of one number per week; `None` is a week without data (no bar, said in words).
fn chart(
    id: &'static str,
    title: String,
    weeks: &[GroupStats],
    value: impl Fn(&GroupStats) -> Option<i64>,
    show: impl Fn(i64) -> String,
) -> Chart {
    let values: Vec<Option<i64>> = weeks.iter().map(&value).collect();
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1);
    let n = weeks.len().max(1);
    let slot = (WIDTH - 2.0 * LEFT) / n as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let every = n.div_ceil(MAX_LABELS);
    let bars = weeks
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (w, v))| {
            let v = v.map(|v| v.max(0));
            let height = v.map_or(0.0, |v| (v as f64 / max as f64 * plot).max(1.0));
            let x = LEFT + i as f64 * slot + slot * 0.15;
            Bar {
                x,
                y: TOP + plot - height,
                width: slot * 0.7,
                height,
                mid: x + slot * 0.35,
                short: w
                    .key
                    .split_once('-')
                    .map_or(w.key.clone(), |(_, wk)| wk.into()),
                week: w.key.clone(),
                value: v.map_or_else(|| "no data".into(), &show),
                has_value: v.is_some(),
                // The newest week is always labelled; older ones every n-th back from it.
                label_week: (n - 1 - i).is_multiple_of(every),
                label_value: every == 1 && v.is_some(),
            }
        })
        .collect::<Vec<_>>();
    let with_data: Vec<String> = bars
        .iter()
        .filter(|b| b.has_value)
        .map(|b| format!("{} {}", b.week, b.value))
        .collect();
    let desc = if with_data.is_empty() {
        format!("{title}: no data in this window.")
    } else {
        format!(
            "{title}, {} weeks; weeks with data: {}.",
            bars.len(),
            with_data.join(", ")
        )
    };
    Chart {
        id,
        title,
        desc,
        width: WIDTH,
        height: HEIGHT,
        baseline: TOP + plot,
        bars,
    }
}

fn duration(s: Option<i64>) -> String {
    s.map_or_else(|| "—".into(), human_secs)
}

/// `GET /ui/reports?days=90`
pub async fn page(
    State(state): State<AppState>,
    user: UiUser,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, UiError> {
    let mut days = WINDOWS[0];
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if k != "days" {
            return Err(UiError::field(&k, "unknown query parameter"));
        }
        days = v
            .parse::<i64>()
            .ok()
            .filter(|d| WINDOWS.contains(d))
            .ok_or_else(|| UiError::field("days", "expected 30, 90, 180 or 365"))?;
    }
    let now = state.clock.now();
    let since = now
        .checked_sub(SignedDuration::from_hours(24 * days))
        .map_err(|e| UiError::from(crate::error::ApiError::internal(&e)))?;
    let report = collect(&state, &user.auth(), None, since, now).await?;
    let weeks = &report.weeks;
    let charts = vec![
        chart(
            "per-week",
            "Incidents declared per week".into(),
            weeks,
            |w| i64::try_from(w.incidents).ok(),
            |v| v.to_string(),
        ),
        chart(
            "mtta",
            "Mean time to acknowledge (MTTA) per week".into(),
            weeks,
            |w| w.time_to_acknowledge.mean_secs,
            human_secs,
        ),
        chart(
            "mttr",
            "Mean time to resolve (MTTR) per week".into(),
            weeks,
            |w| w.time_to_resolve.mean_secs,
            human_secs,
        ),
    ];
    let rows: Vec<_> = weeks
        .iter()
        .rev()
        .map(|w| {
            context! {
                week => w.key.clone(),
                incidents => w.incidents,
                open => w.open,
                mtta => duration(w.time_to_acknowledge.mean_secs),
                mttr => duration(w.time_to_resolve.mean_secs),
            }
        })
        .collect();
    let t = &report.total;
    let total = context! {
        incidents => t.incidents,
        open => t.open,
        resolved => t.resolved,
        unacknowledged => t.unacknowledged,
        mtta => duration(t.time_to_acknowledge.mean_secs),
        mtta_median => duration(t.time_to_acknowledge.median_secs),
        mtta_p90 => duration(t.time_to_acknowledge.p90_secs),
        mttr => duration(t.time_to_resolve.mean_secs),
        mttr_median => duration(t.time_to_resolve.median_secs),
        mttr_p90 => duration(t.time_to_resolve.p90_secs),
        breaches => t.response_target_breaches,
    };
    let windows: Vec<_> = WINDOWS
        .iter()
        .map(|d| context! { days => *d, current => *d == days })
        .collect();
    let html = render_page(
        "reports.html",
        "Reports",
        Some(&user.viewer()),
        context! {
            since => absolute(report.since),
            until => absolute(report.until),
            days => days,
            windows => windows,
            total => total,
            charts => Serde(charts),
            rows => rows,
        },
    )?;
    Ok(Html(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(key: &str, incidents: u64, mtta: Option<i64>) -> GroupStats {
        let mut w = warroom_core::report::build(
            &[],
            &warroom_core::Config::builtin(),
            None,
            "2026-11-22T00:00:00Z".parse().expect("time"),
            "2026-11-22T00:00:00Z".parse().expect("time"),
        )
        .total;
        w.key = key.into();
        w.incidents = incidents;
        w.time_to_acknowledge.mean_secs = mtta;
        w
    }

    #[test]
    fn bars_scale_to_the_largest_week_and_empty_weeks_say_so() {
        let weeks = [
            week("2026-W46", 0, None),
            week("2026-W47", 4, Some(600)),
            week("2026-W48", 2, Some(300)),
        ];
        let c = chart(
            "mtta",
            "MTTA".into(),
            &weeks,
            |w| w.time_to_acknowledge.mean_secs,
            human_secs,
        );
        assert_eq!(c.bars.len(), 3);
        assert!(!c.bars[0].has_value);
        assert_eq!(c.bars[0].value, "no data");
        assert_eq!(c.bars[0].height, 0.0);
        let plot = HEIGHT - TOP - BOTTOM;
        assert!(
            (c.bars[1].height - plot).abs() < 1e-9,
            "the largest fills the plot"
        );
        assert!((c.bars[2].height - plot / 2.0).abs() < 1e-9);
        assert_eq!(c.bars[1].value, "10m");
        assert_eq!(c.bars[2].short, "W48");
        assert!(c.desc.contains("2026-W47 10m"), "{}", c.desc);
        assert!(
            !c.desc.contains("W46"),
            "weeks without data are not listed: {}",
            c.desc
        );
        for b in &c.bars {
            assert!(
                (b.y + b.height - c.baseline).abs() < 1e-9,
                "bars stand on the baseline"
            );
            assert!(b.x >= 0.0 && b.x + b.width <= WIDTH);
        }
    }

    #[test]
    fn long_windows_label_only_some_weeks_but_always_the_newest() {
        let weeks: Vec<GroupStats> = (1..=53)
            .map(|i| week(&format!("2026-W{i:02}"), 1, None))
            .collect();
        let c = chart(
            "per-week",
            "Per week".into(),
            &weeks,
            |w| i64::try_from(w.incidents).ok(),
            |v| v.to_string(),
        );
        let labelled = c.bars.iter().filter(|b| b.label_week).count();
        assert!(labelled <= MAX_LABELS, "{labelled}");
        assert!(c.bars.last().is_some_and(|b| b.label_week));
        assert!(
            c.bars.iter().all(|b| !b.label_value),
            "values would overlap; the table has them"
        );
    }
}
