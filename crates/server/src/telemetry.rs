//! Prometheus `/metrics`: request timings kept in process, ingestion counters, and gauges read
//! from the store at scrape time, written in the text exposition format 0.0.4.
//!
//! The format is a few lines of text, so it is written here rather than through a metrics
//! crate. Only severity and status counts are exposed about incidents, so a restricted
//! incident is never named. Durations use the server's [`warroom_core::Clock`] like everything
//! else, so tests on a manual clock see zero-length requests rather than wall time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use warroom_core::Role;
use warroom_store::OperationalStats;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// Upper bounds of the request-duration histogram buckets, seconds.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One histogram series.
#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    /// Observations at or below each bucket's bound (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// Request durations by (method, route, status).
#[derive(Debug, Default)]
pub struct HttpMetrics(Mutex<BTreeMap<(String, String, u16), Histogram>>);

impl HttpMetrics {
    /// Records one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut series = self.0.lock().unwrap_or_else(|p| p.into_inner());
        series
            .entry((method.to_string(), route.to_string(), status))
            .or_default()
            .observe(secs);
    }

    fn snapshot(&self) -> BTreeMap<(String, String, u16), Histogram> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Middleware timing every routed request under its route template (never the raw path, so
/// ids do not become labels).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = state.clock.now();
    let response = next.run(request).await;
    let micros = state.clock.now().duration_since(started).as_micros().max(0);
    state.http.observe(
        &method,
        &route,
        response.status().as_u16(),
        micros as f64 / 1e6,
    );
    response
}

/// `GET /metrics`: a viewer token, unless the server was started with `--metrics-public`.
pub async fn scrape(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    if !state.metrics_public {
        let (mut parts, _) = request.into_parts();
        let auth = <Auth as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, &state,
        )
        .await?;
        auth.require(Role::Viewer)?;
    }
    let now = state.clock.now();
    let stats = state.store.operational_stats(now).await?;
    let counters = state.ingest.counters();
    let text = render(&Scrape {
        stats: &stats,
        lag_secs: stats.oldest_due_timer.map_or(0.0, |due| {
            now.duration_since(due).as_micros().max(0) as f64 / 1e6
        }),
        alerts_received: counters.received.load(Relaxed),
        events_ingested: counters.ingested.load(Relaxed),
        http: &state.http.snapshot(),
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

struct Scrape<'a> {
    stats: &'a OperationalStats,
    lag_secs: f64,
    alerts_received: u64,
    events_ingested: u64,
    http: &'a BTreeMap<(String, String, u16), Histogram>,
}

/// A label value with `\`, `"` and newlines escaped as the format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn render(s: &Scrape<'_>) -> String {
    let mut out = String::new();
    head(
        &mut out,
        "warroom_open_incidents",
        "gauge",
        "Incidents not yet resolved, by severity and status.",
    );
    for (severity, status, n) in &s.stats.open_incidents {
        let _ = writeln!(
            out,
            "warroom_open_incidents{{severity=\"{}\",status=\"{}\"}} {n}",
            label(severity),
            label(status)
        );
    }
    head(
        &mut out,
        "warroom_notifications",
        "gauge",
        "Outbox messages by delivery status (delivered = sent, failed = awaiting a retry, dead = dead-lettered).",
    );
    let by_status: BTreeMap<&str, u64> = s
        .stats
        .outbox
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    for status in ["pending", "sending", "delivered", "failed", "dead"] {
        let n = by_status.get(status).copied().unwrap_or(0);
        let _ = writeln!(out, "warroom_notifications{{status=\"{status}\"}} {n}");
    }
    head(
        &mut out,
        "warroom_timer_lag_seconds",
        "gauge",
        "How long the oldest due timer has waited to fire (0 when none is waiting).",
    );
    let _ = writeln!(out, "warroom_timer_lag_seconds {}", s.lag_secs);
    head(
        &mut out,
        "warroom_alerts_received_total",
        "counter",
        "Alert events handed to ingestion by the receivers since the process started.",
    );
    let _ = writeln!(out, "warroom_alerts_received_total {}", s.alerts_received);
    head(
        &mut out,
        "warroom_events_ingested_total",
        "counter",
        "Alert events committed and recorded since the process started.",
    );
    let _ = writeln!(out, "warroom_events_ingested_total {}", s.events_ingested);
    head(
        &mut out,
        "warroom_http_request_duration_seconds",
        "histogram",
        "HTTP request durations by method, route template and status.",
    );
    for ((method, route, status), h) in s.http {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{status}\"",
            label(method),
            label(route)
        );
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "warroom_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "warroom_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "warroom_http_request_duration_seconds_sum{{{labels}}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "warroom_http_request_duration_seconds_count{{{labels}}} {}",
            h.count
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_well_formed() {
        let stats = OperationalStats {
            open_incidents: vec![("P1".into(), "triage".into(), 2)],
            outbox: vec![("dead".into(), 1), ("delivered".into(), 5)],
            oldest_due_timer: None,
        };
        let http = HttpMetrics::default();
        http.observe("GET", "/api/v1/incidents/{id}", 200, 0.003);
        http.observe("GET", "/api/v1/incidents/{id}", 200, 0.2);
        http.observe("GET", "/api/v1/incidents/{id}", 200, 30.0);
        let text = render(&Scrape {
            stats: &stats,
            lag_secs: 1.5,
            alerts_received: 7,
            events_ingested: 6,
            http: &http.snapshot(),
        });
        assert!(text.contains("warroom_open_incidents{severity=\"P1\",status=\"triage\"} 2\n"));
        assert!(text.contains("warroom_notifications{status=\"dead\"} 1\n"));
        assert!(text.contains("warroom_notifications{status=\"failed\"} 0\n"));
        assert!(text.contains("warroom_timer_lag_seconds 1.5\n"));
        assert!(text.contains("warroom_alerts_received_total 7\n"));
        let series = "method=\"GET\",route=\"/api/v1/incidents/{id}\",status=\"200\"";
        assert!(text.contains(&format!(
            "warroom_http_request_duration_seconds_bucket{{{series},le=\"0.005\"}} 1\n"
        )));
        assert!(text.contains(&format!(
            "warroom_http_request_duration_seconds_bucket{{{series},le=\"0.25\"}} 2\n"
        )));
        assert!(text.contains(&format!(
            "warroom_http_request_duration_seconds_bucket{{{series},le=\"10\"}} 2\n"
        )));
        assert!(text.contains(&format!(
            "warroom_http_request_duration_seconds_bucket{{{series},le=\"+Inf\"}} 3\n"
        )));
        assert!(text.contains(&format!(
            "warroom_http_request_duration_seconds_count{{{series}}} 3\n"
        )));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("a value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
