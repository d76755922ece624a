//! `warroom override add|list|remove`: schedule overrides.

use anyhow::Result;
use serde_json::{Value, json};
use warroom_core::{Clock as _, SystemClock};

use super::Out;
use crate::args::OverrideCommand;
use crate::client::{Api, seg};
use crate::input::point_in_time;
use crate::output::{self, field, table};

pub async fn run(api: &Api, out: Out, cmd: OverrideCommand) -> Result<()> {
    match cmd {
        OverrideCommand::Add {
            schedule,
            person,
            start,
            end,
        } => {
            // One reading of the clock, so `--start now --end +1h` is exactly an hour.
            let now = SystemClock.now();
            let body = json!({
                "person": person,
                "start": point_in_time("--start", &start, now)?,
                "end": point_in_time("--end", &end, now)?,
            });
            let answer = api
                .post(
                    &format!("/api/v1/schedules/{}/overrides", seg(&schedule)),
                    &body,
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Created override {}: {} on call on {} from {} to {}.",
                    field(v, "id"),
                    field(v, "person"),
                    field(v, "schedule"),
                    output::time_field(v, "start"),
                    output::time_field(v, "end"),
                ))
            })
        }
        OverrideCommand::List { schedule } => {
            let answer = api
                .get(
                    &format!("/api/v1/schedules/{}/overrides", seg(&schedule)),
                    &[],
                )
                .await?;
            out.print(&answer, |v| Ok(override_table(v)))
        }
        OverrideCommand::Remove { schedule, id } => {
            let answer = api
                .delete(&format!(
                    "/api/v1/schedules/{}/overrides/{}",
                    seg(&schedule),
                    seg(&id)
                ))
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Removed override {} ({} on {}).",
                    field(v, "id"),
                    field(v, "person"),
                    field(v, "schedule")
                ))
            })
        }
    }
}

fn override_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["overrides"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|o| {
                    vec![
                        field(o, "id"),
                        field(o, "person"),
                        output::time_field(o, "start"),
                        output::time_field(o, "end"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return format!("No overrides on {}.", field(v, "schedule"));
    }
    table(&["ID", "PERSON", "START", "END"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_render_as_a_table() {
        let got = override_table(&json!({ "schedule": "primary", "overrides": [
            { "id": "ovr_1", "schedule": "primary", "person": "bob",
              "start": "2026-11-22T10:00:00Z", "end": "2026-11-22T12:00:00Z" }
        ]}));
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), 2, "{got}");
        assert!(lines[1].starts_with("ovr_1  bob"), "{got}");
        assert_eq!(
            override_table(&json!({ "schedule": "primary", "overrides": [] })),
            "No overrides on primary."
        );
    }
}
