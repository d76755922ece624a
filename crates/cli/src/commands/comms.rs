//! `warroom comms templates|render|send`, `warroom deadlines` and `warroom moment`.

use std::io::Write;
use std::process::Command as Process;

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Out;
use crate::args::CommsCommand;
use crate::client::{Api, seg};
use crate::output::{self, field, table, time_field};

pub async fn run(api: &Api, out: Out, cmd: CommsCommand) -> Result<()> {
    match cmd {
        CommsCommand::Templates => {
            let answer = api.get("/api/v1/templates", &[]).await?;
            out.print(&answer, |v| {
                let rows: Vec<Vec<String>> = v["templates"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| vec![field(t, "id"), field(t, "audience"), field(t, "name")])
                    .collect();
                Ok(table(&["TEMPLATE", "AUDIENCE", "NAME"], &rows))
            })
        }
        CommsCommand::Render { id, template } => {
            let draft = fetch_draft(api, &id, &template).await?;
            out.print(&draft, |d| {
                Ok(format!(
                    "Subject: {}\n\n{}",
                    field(d, "subject"),
                    field(d, "body")
                ))
            })
        }
        CommsCommand::Send {
            id,
            template,
            to,
            edit,
            meets,
        } => {
            let mut body = json!({ "template": template, "to": to });
            if edit {
                let draft = fetch_draft(api, &id, &template).await?;
                let (subject, text) =
                    edit_in_editor(&field(&draft, "subject"), &field(&draft, "body"))?;
                body["subject"] = json!(subject);
                body["text"] = json!(text);
            }
            if !meets.is_empty() {
                body["meets"] = json!(meets);
            }
            let answer = api
                .post(&format!("/api/v1/incidents/{}/messages", seg(&id)), &body)
                .await?;
            out.print(&answer, |v| {
                // Events carry their kind's fields under `data`.
                let event = &v["event"]["data"];
                let mut line = format!(
                    "Sent {} to {} (event {}); `warroom deliveries {id}` shows delivery.",
                    field(event, "template"),
                    strings(&event["to"]).join(", "),
                    field(&v["event"], "seq"),
                );
                let met = strings(&event["meets"]);
                if !met.is_empty() {
                    line.push_str(&format!("\nMeets: {}", met.join(", ")));
                }
                Ok(line)
            })
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

async fn fetch_draft(api: &Api, id: &str, template: &str) -> Result<Value> {
    api.get(
        &format!(
            "/api/v1/incidents/{}/messages/{}/draft",
            seg(id),
            seg(template)
        ),
        &[],
    )
    .await
}

/// Opens the draft in the user's editor: the first line is the subject, the rest the text.
fn edit_in_editor(subject: &str, text: &str) -> Result<(String, String)> {
    let editor = std::env::var("VISUAL")
        .ok()
        .or_else(|| std::env::var("EDITOR").ok())
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let path = std::env::temp_dir().join(format!("warroom-draft-{}.txt", std::process::id()));
    {
        let mut file = std::fs::File::create(&path)
            .with_context(|| format!("cannot write the draft to {}", path.display()))?;
        write!(file, "{subject}\n\n{text}")
            .with_context(|| format!("cannot write the draft to {}", path.display()))?;
    }
    // The editor may be a command with arguments (`code --wait`).
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = Process::new(program)
        .args(parts)
        .arg(&path)
        .status()
        .with_context(|| format!("cannot start the editor {editor:?} (set VISUAL or EDITOR)"))?;
    let edited = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the edited draft {}", path.display()));
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        bail!("the editor {editor:?} failed ({status}); nothing was sent");
    }
    split_draft(&edited?)
}

/// Subject (first line) and text (after the blank line) of an edited draft.
fn split_draft(edited: &str) -> Result<(String, String)> {
    let (subject, text) = edited.split_once('\n').unwrap_or((edited, ""));
    let (subject, text) = (subject.trim(), text.trim());
    if subject.is_empty() || text.is_empty() {
        bail!("the edited draft is empty; nothing was sent");
    }
    Ok((subject.to_string(), format!("{text}\n")))
}

pub async fn deadlines(api: &Api, out: Out, id: &str) -> Result<()> {
    let answer = api
        .get(&format!("/api/v1/incidents/{}/deadlines", seg(id)), &[])
        .await?;
    out.print(&answer, |v| Ok(deadlines_view(v)))
}

fn deadlines_view(v: &Value) -> String {
    let mut text = String::new();
    let updates = &v["updates"];
    let now = v["now"].as_str().and_then(|t| t.parse::<Timestamp>().ok());
    match updates["next_update_due"].as_str() {
        Some(_) => {
            let state = if updates["overdue"].as_bool() == Some(true) {
                "OVERDUE"
            } else {
                "due"
            };
            text.push_str(&format!(
                "Next internal update {state} {} (every {}).\n",
                time_field(updates, "next_update_due"),
                field(updates, "every")
            ));
        }
        None => text.push_str("No internal updates due (the incident is not open).\n"),
    }
    let list = v["deadlines"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if list.is_empty() {
        text.push_str(
            "No notification deadlines apply (they follow the incident's type and labels, e.g. --label personal-data=yes --label jurisdiction=EU).",
        );
        return text;
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|d| {
            let due = match d.get("due_at") {
                Some(_) => time_field(d, "due_at"),
                None if d.get("started_at").is_none() => {
                    format!("starts at {}", field(d, "starts_from"))
                }
                None => field(d, "guidance"),
            };
            let left = match (d["seconds_left"].as_i64(), now) {
                (Some(s), Some(_)) if s < 0 => format!("{} late", human(-s)),
                (Some(s), Some(_)) => human(s),
                _ => match d.get("met_at") {
                    Some(_) => format!("met {}", time_field(d, "met_at")),
                    None => "-".into(),
                },
            };
            vec![
                field(d, "rule"),
                field(d, "state"),
                field(d, "audience"),
                due,
                left,
                field(d, "name"),
            ]
        })
        .collect();
    text.push_str(&table(
        &["DEADLINE", "STATE", "AUDIENCE", "DUE", "LEFT", "NAME"],
        &rows,
    ));
    text
}

/// `3d 4h`, `5h 10m`, `12m`.
fn human(secs: i64) -> String {
    let mins = secs / 60;
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, h) => format!("{h}h {m}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

pub async fn moment(api: &Api, out: Out, id: &str, moment: &str, at: Option<String>) -> Result<()> {
    let mut body = json!({ "moment": moment });
    if let Some(at) = at {
        let at: Timestamp = at
            .parse()
            .with_context(|| format!("--at: {at:?} is not an RFC 3339 time"))?;
        body["at"] = json!(at);
    }
    let answer = api
        .post(&format!("/api/v1/incidents/{}/moments", seg(id)), &body)
        .await?;
    out.print(&answer, |v| {
        let at = v["moments"][moment].as_str().unwrap_or("-");
        Ok(format!(
            "Recorded {moment} at {} for {}.",
            output::time_field(&json!({ "t": at }), "t"),
            field(v, "id")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_draft_splits_into_subject_and_text() {
        let (s, t) = split_draft("  New subject \n\nLine one\nLine two\n\n").expect("draft");
        assert_eq!(s, "New subject");
        assert_eq!(t, "Line one\nLine two\n");
        assert!(split_draft("\n\n").is_err());
        assert!(split_draft("Subject only").is_err());
    }

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(human(59), "0m");
        assert_eq!(human(3 * 3600 + 120), "3h 2m");
        assert_eq!(human(2 * 86400 + 3600 * 5), "2d 5h");
    }
}
