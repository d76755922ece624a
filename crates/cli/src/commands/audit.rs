//! `warroom audit`: read the access audit log (admin), optionally verifying its hash chain.

use anyhow::{Result, bail};
use serde_json::Value;

use super::Out;
use crate::args::AuditArgs;
use crate::client::Api;
use crate::output::{field, table, time_field};

pub async fn run(api: &Api, out: Out, args: AuditArgs) -> Result<()> {
    let mut query = vec![("since", args.since)];
    if let Some(a) = args.actor {
        query.push(("actor", a));
    }
    if let Some(a) = args.action {
        query.push(("action", a));
    }
    if let Some(n) = args.limit {
        query.push(("limit", n.to_string()));
    }
    if args.verify {
        query.push(("verify", "true".into()));
    }
    let answer = api.get("/api/v1/audit", &query).await?;
    out.print(&answer, |v| Ok(render(v, args.verify)))?;
    if args.verify && answer["verified"] != true {
        let b = &answer["broken"];
        bail!(
            "the audit log does not verify: entry {} {}",
            field(b, "seq"),
            field(b, "reason")
        );
    }
    Ok(())
}

fn render(v: &Value, verify: bool) -> String {
    let rows: Vec<Vec<String>> = v["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            vec![
                field(e, "seq"),
                time_field(e, "at"),
                field(e, "actor"),
                field(e, "action"),
                field(e, "target"),
                field(e, "source"),
                field(e, "outcome"),
            ]
        })
        .collect();
    let mut text = if rows.is_empty() {
        "no entries".to_string()
    } else {
        table(
            &[
                "SEQ", "AT", "ACTOR", "ACTION", "TARGET", "SOURCE", "OUTCOME",
            ],
            &rows,
        )
    };
    if verify {
        if v["verified"] == true {
            text.push_str(&format!("\nchain verified: {} entries", field(v, "total")));
        } else {
            text.push_str(&format!(
                "\nchain BROKEN at entry {}: {}",
                field(&v["broken"], "seq"),
                field(&v["broken"], "reason")
            ));
        }
    }
    text
}
