//! `warroom deliveries ID`: the incident's notifications and how their delivery went.

use anyhow::{Context, Result};
use jiff::Timestamp;
use serde_json::Value;

use super::Out;
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{self, table};

pub async fn run(api: &Api, out: Out, id: &str) -> Result<()> {
    let id = incident_id(id)?;
    let path = format!("/api/v1/incidents/{}/deliveries", seg(id.as_str()));
    let answer = api.get(&path, &[]).await?;
    out.print(&answer, |v| {
        let deliveries = v
            .get("deliveries")
            .and_then(Value::as_array)
            .context("the server's answer has no delivery list")?;
        if deliveries.is_empty() {
            return Ok(format!("No notifications for {id}."));
        }
        Ok(delivery_table(deliveries))
    })
}

/// One row per message: when it was last tried (or written), where it went, how it stands.
fn delivery_table(deliveries: &[Value]) -> String {
    let time = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(output::time)
    };
    let rows: Vec<Vec<String>> = deliveries
        .iter()
        .map(|d| {
            let status = output::field(d, "status");
            let when = match status.as_str() {
                "delivered" => time(d, "delivered_at"),
                "pending" => time(d, "created_at"),
                _ => time(d, "last_attempt_at"),
            }
            .or_else(|| time(d, "created_at"))
            .unwrap_or_else(|| "-".into());
            let status = match (status.as_str(), time(d, "next_attempt_at")) {
                ("failed", Some(next)) => format!("failed (retry {next})"),
                _ => status,
            };
            vec![
                when,
                output::field(d, "channel"),
                output::field(d, "destination"),
                status,
                output::field(d, "attempts"),
                d.get("last_error")
                    .and_then(Value::as_str)
                    .map_or_else(|| "-".into(), |e| output::truncate(e, 60)),
            ]
        })
        .collect();
    table(
        &[
            "TIME (UTC)",
            "CHANNEL",
            "DESTINATION",
            "STATUS",
            "ATTEMPTS",
            "LAST ERROR",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deliveries_read_as_a_table() {
        let got = delivery_table(&[
            json!({
                "id": "msg_1", "channel": "webhook", "destination": "https://hooks.example.com/in",
                "status": "delivered", "attempts": 3, "created_at": "2026-11-22T10:31:00Z",
                "last_attempt_at": "2026-11-22T10:33:00Z", "delivered_at": "2026-11-22T10:33:01Z",
                "last_error": "HTTP 500"
            }),
            json!({
                "id": "msg_2", "channel": "email", "destination": "oncall@example.com",
                "status": "failed", "attempts": 1, "created_at": "2026-11-22T10:31:00Z",
                "last_attempt_at": "2026-11-22T10:31:00Z", "next_attempt_at": "2026-11-22T10:31:20Z",
                "last_error": "SMTP: connection refused"
            }),
        ]);
        assert_eq!(
            got,
            "TIME (UTC)           CHANNEL  DESTINATION                   STATUS                              ATTEMPTS  LAST ERROR\n\
             2026-11-22 10:33:01  webhook  https://hooks.example.com/in  delivered                           3         HTTP 500\n\
             2026-11-22 10:31:00  email    oncall@example.com            failed (retry 2026-11-22 10:31:20)  1         SMTP: connection refused"
        );
    }
}
