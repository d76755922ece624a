//! Admin and identity commands: `verify`, `token ...`, `whoami`.

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Out;
use crate::args::TokenCommand;
use crate::client::{Api, seg};
use crate::output::{self, emit, emit_json, field, table};

pub async fn verify(api: &Api, out: Out) -> Result<()> {
    let answer = api.get("/api/v1/verify", &[]).await?;
    let report = VerifyReport::from_value(&answer)?;
    if out.json {
        emit_json(&answer)?;
    } else {
        emit(&report.lines.join("\n"))?;
    }
    if !report.ok {
        bail!("the event log does not verify: {}", report.problem);
    }
    Ok(())
}

struct VerifyReport {
    ok: bool,
    lines: Vec<String>,
    /// For the error line when not ok.
    problem: String,
}

impl VerifyReport {
    fn from_value(v: &Value) -> Result<VerifyReport> {
        let count = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
        let ok = v
            .get("ok")
            .and_then(Value::as_bool)
            .context("the server's verify answer has no `ok`")?;
        let broken = v
            .get("broken")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let lines: Vec<String> = if ok {
            vec![format!(
                "OK: {} incidents, {} events verified",
                count("incidents_checked"),
                count("events_checked")
            )]
        } else {
            broken
                .iter()
                .map(|b| {
                    format!(
                        "BROKEN {}: event {}: {}",
                        field(b, "incident_id"),
                        field(b, "seq"),
                        field(b, "reason")
                    )
                })
                .collect()
        };
        let problem = match broken.len() {
            0 => "the server reported a problem without details".to_string(),
            1 => "1 broken hash chain".to_string(),
            n => format!("{n} broken hash chains"),
        };
        Ok(VerifyReport { ok, lines, problem })
    }
}

pub async fn token(api: &Api, out: Out, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create {
            name,
            role,
            security,
            scope,
            expires_in,
        } => {
            let mut body = json!({
                "name": name, "role": role.as_str(), "security": security, "scope": scope.as_str(),
            });
            if let Some(d) = expires_in {
                body["expires_in"] = json!(d);
            }
            let answer = api.post("/api/v1/tokens", &body).await?;
            out.print(&answer, |v| {
                let secret = v
                    .get("token")
                    .and_then(Value::as_str)
                    .context("the server's answer has no token")?;
                let mut security = if v.get("security").and_then(Value::as_bool) == Some(true) {
                    ", security".to_string()
                } else {
                    String::new()
                };
                if v.get("scope").and_then(Value::as_str) == Some("read-only") {
                    security.push_str(", read-only");
                }
                if let Some(at) = v.get("expires_at").and_then(Value::as_str) {
                    security.push_str(&format!(", expires {at}"));
                }
                Ok(format!(
                    "Created token {} for {} ({}{security}).\n\
                     Store it now, it is not shown again:\n{secret}",
                    field(v, "id"),
                    field(v, "name"),
                    field(v, "role"),
                ))
            })
        }
        TokenCommand::List => {
            let answer = api.get("/api/v1/tokens", &[]).await?;
            out.print(&answer, |v| {
                let tokens = v
                    .get("tokens")
                    .and_then(Value::as_array)
                    .context("the server's answer has no token list")?;
                Ok(token_table(tokens))
            })
        }
        TokenCommand::Revoke { id } => {
            let answer = api.delete(&format!("/api/v1/tokens/{}", seg(&id))).await?;
            out.print(&answer, |v| Ok(format!("Revoked token {}", field(v, "id"))))
        }
    }
}

fn token_table(tokens: &[Value]) -> String {
    let when = |v: &Value, key: &str| match v.get(key).and_then(Value::as_str) {
        Some(t) => t
            .parse::<Timestamp>()
            .map_or_else(|_| t.to_string(), output::time),
        None => "-".to_string(),
    };
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            vec![
                field(t, "id"),
                field(t, "name"),
                field(t, "role"),
                if t.get("security").and_then(Value::as_bool) == Some(true) {
                    "yes".into()
                } else {
                    "-".into()
                },
                when(t, "created_at"),
                field(t, "created_by"),
                when(t, "last_used_at"),
                when(t, "revoked_at"),
                field(t, "scope"),
                when(t, "expires_at"),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "NAME",
            "ROLE",
            "SECURITY",
            "CREATED (UTC)",
            "BY",
            "LAST USED",
            "REVOKED",
            "SCOPE",
            "EXPIRES (UTC)",
        ],
        &rows,
    )
}

pub async fn whoami(api: &Api, out: Out) -> Result<()> {
    let answer = api.get("/api/v1/whoami", &[]).await?;
    out.print(&answer, |v| {
        let security = if v.get("security").and_then(Value::as_bool) == Some(true) {
            ", security"
        } else {
            ""
        };
        Ok(format!(
            "{} ({}{security})",
            field(v, "name"),
            field(v, "role")
        ))
    })
}

/// `warroom oncall [--at TIME]`: one row per schedule.
pub async fn oncall(api: &Api, out: Out, at: Option<String>) -> Result<()> {
    let query: Vec<(&str, String)> = at.into_iter().map(|t| ("at", t)).collect();
    let answer = api.get("/api/v1/oncall", &query).await?;
    out.print(&answer, |v| {
        let rows: Vec<Vec<String>> = v["on_call"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|o| {
                        let person = match o["person"].as_str() {
                            Some(id) => format!("{} ({id})", field(o, "person_name")),
                            None => "nobody".to_string(),
                        };
                        vec![
                            field(o, "schedule"),
                            person,
                            field(o, "shift_start"),
                            field(o, "shift_end"),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(format!(
            "On call at {}\n{}",
            field(v, "at"),
            crate::output::table(&["SCHEDULE", "ON CALL", "SINCE", "UNTIL"], &rows)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_log_is_one_ok_line() {
        let r = VerifyReport::from_value(&json!({
            "incidents_checked": 3, "events_checked": 42, "ok": true, "broken": []
        }))
        .expect("report");
        assert!(r.ok);
        assert_eq!(r.lines, ["OK: 3 incidents, 42 events verified"]);
    }

    #[test]
    fn each_broken_chain_is_named() {
        let r = VerifyReport::from_value(&json!({
            "incidents_checked": 3, "events_checked": 42, "ok": false,
            "broken": [
                {"incident_id": "INC-20261122-001", "seq": 3, "reason": "content does not match its hash"},
                {"incident_id": "INC-20261122-002", "seq": 1, "reason": "sequence number 2 where 1 was expected"}
            ]
        }))
        .expect("report");
        assert!(!r.ok);
        assert_eq!(
            r.lines,
            [
                "BROKEN INC-20261122-001: event 3: content does not match its hash",
                "BROKEN INC-20261122-002: event 1: sequence number 2 where 1 was expected"
            ]
        );
        assert_eq!(r.problem, "2 broken hash chains");
        assert!(VerifyReport::from_value(&json!({})).is_err());
    }

    #[test]
    fn tokens_render_as_a_table() {
        let got = token_table(&[json!({
            "id": "tok_1", "name": "bot", "role": "viewer", "security": false,
            "created_at": "2026-11-22T10:00:00Z", "created_by": "admin"
        })]);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].starts_with("tok_1  bot   viewer  -         2026-11-22 10:00:00  admin  -"),
            "{got}"
        );
    }
}
