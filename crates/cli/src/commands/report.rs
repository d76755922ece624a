//! `warroom metrics ID` and `warroom report`: response metrics of one incident, and the report
//! over many.

use anyhow::Result;
use serde_json::Value;

use super::Out;
use crate::args::{ReportArgs, ReportFormatArg, ReportGroup};
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output;

pub async fn metrics(api: &Api, out: Out, id: &str) -> Result<()> {
    let id = incident_id(id)?;
    let path = format!("/api/v1/incidents/{}/metrics", seg(id.as_str()));
    let answer = api.get(&path, &[]).await?;
    out.print(&answer, |m| Ok(metrics_text(m)))
}

fn duration(m: &Value, key: &str) -> String {
    m.get(key)
        .and_then(Value::as_i64)
        .map_or_else(|| "-".into(), warroom_core::report::human_secs)
}

fn yes_no(m: &Value, key: &str) -> &'static str {
    match m.get(key).and_then(Value::as_bool) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

fn metrics_text(m: &Value) -> String {
    let mut lines = vec![
        format!(
            "{} ({}, {})",
            output::field(m, "incident_id"),
            output::field(m, "severity"),
            output::field(m, "status")
        ),
        format!(
            "Time to detect:      {}",
            duration(m, "time_to_detect_secs")
        ),
        format!(
            "Time to acknowledge: {}",
            duration(m, "time_to_acknowledge_secs")
        ),
        format!(
            "Time to contain:     {}",
            duration(m, "time_to_contain_secs")
        ),
        format!(
            "Time to resolve:     {}",
            duration(m, "time_to_resolve_secs")
        ),
    ];
    if let Some(statuses) = m.get("time_in_status_secs").and_then(Value::as_object) {
        // In lifecycle order, not the JSON object's alphabetical one.
        let parts: Vec<String> = warroom_core::Status::ALL
            .iter()
            .filter_map(|s| {
                let secs = statuses.get(s.as_str())?.as_i64()?;
                Some(format!("{s} {}", warroom_core::report::human_secs(secs)))
            })
            .collect();
        lines.push(format!("Time in status:      {}", parts.join(", ")));
    }
    lines.push(format!(
        "Escalations:         {} ({} pages)",
        output::field(m, "escalations"),
        output::field(m, "pages")
    ));
    lines.push(format!(
        "Reopened:            {}",
        output::field(m, "reopened")
    ));
    lines.push(format!(
        "Response target:     {}",
        if m.get("response_target_breached").and_then(Value::as_bool) == Some(true) {
            "missed"
        } else {
            "met"
        }
    ));
    lines.push(format!(
        "RTO met:             {} (RTO {})",
        yes_no(m, "rto_met"),
        duration(m, "rto_secs")
    ));
    lines.push(format!(
        "Update cadence kept: {} (longest silence {}, {} missed)",
        yes_no(m, "update_cadence_kept"),
        duration(m, "longest_update_gap_secs"),
        output::field(m, "updates_missed")
    ));
    lines.join("\n")
}

pub async fn run(api: &Api, out: Out, args: ReportArgs) -> Result<()> {
    let format = match (args.format, out.json) {
        (Some(f), _) => f,
        (None, true) => ReportFormatArg::Json,
        (None, false) => ReportFormatArg::Md,
    };
    let mut query = vec![
        ("since", args.since),
        (
            "format",
            match format {
                ReportFormatArg::Md => "md",
                ReportFormatArg::Json => "json",
                ReportFormatArg::Csv => "csv",
            }
            .to_string(),
        ),
    ];
    if let Some(by) = args.by {
        let by = match by {
            ReportGroup::Severity => "severity",
            ReportGroup::Service => "service",
            ReportGroup::Type => "type",
        };
        query.push(("by", by.to_string()));
    }
    let text = api.get_text("/api/v1/reports", &query).await?;
    output::emit(text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_read_as_lines() {
        let text = metrics_text(&json!({
            "incident_id": "INC-20261122-001", "severity": "P1", "status": "resolved",
            "time_to_acknowledge_secs": 600, "time_to_contain_secs": 1800, "time_to_resolve_secs": 5400,
            "time_in_status_secs": { "triage": 600, "investigating": 1200 },
            "pages": 2, "escalations": 1, "reopened": 0, "response_target_breached": false,
            "rto_secs": 14400, "rto_met": true, "update_cadence_kept": false,
            "updates_missed": 1, "longest_update_gap_secs": 3600
        }));
        assert!(text.contains("Time to detect:      -"), "{text}");
        assert!(text.contains("Time to resolve:     1h 30m"), "{text}");
        assert!(
            text.contains("Time in status:      triage 10m, investigating 20m"),
            "{text}"
        );
        assert!(text.contains("RTO met:             yes (RTO 4h)"), "{text}");
        assert!(
            text.contains("Update cadence kept: no (longest silence 1h, 1 missed)"),
            "{text}"
        );
    }
}
