//! The incident log as a document: Markdown for people, CSV for spreadsheets, JSON for tools.
//!
//! All three are rendered from the incident and its events alone, so an export is exactly what
//! the timeline says.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::event::{Event, describe_impact};
use crate::incident::Incident;
use crate::playbook::{TaskState, TaskView, task_views};
use std::collections::BTreeMap;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown document.
    Markdown,
    /// CSV of the timeline.
    Csv,
    /// JSON with the incident and its events.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown format {s:?}: expected md, csv or json")),
        }
    }
}

impl Format {
    /// MIME type of the rendered document.
    pub fn content_type(&self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// Renders the incident log in `format`; checklist due times and overdue marks are as of `now`.
pub fn render(format: Format, incident: &Incident, events: &[Event], now: Timestamp) -> String {
    match format {
        Format::Markdown => markdown(incident, events, now),
        Format::Csv => csv(events),
        Format::Json => json(incident, events, now),
    }
}

fn time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn opt_time(ts: Option<Timestamp>) -> String {
    ts.map_or_else(|| "—".to_string(), time)
}

/// Markdown table cells cannot hold pipes or newlines. A pipe is escaped as `\|`; backslashes
/// right before it are doubled first, or `\\|` would read as an escaped backslash followed by a
/// cell boundary.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut backslashes = 0;
    for c in text.chars() {
        match c {
            '\\' => backslashes += 1,
            '|' => {
                out.extend(std::iter::repeat_n('\\', 2 * backslashes + 1));
                out.push('|');
                backslashes = 0;
            }
            c => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(if c == '\r' || c == '\n' { ' ' } else { c });
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes));
    out
}

fn markdown(inc: &Incident, events: &[Event], now: Timestamp) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", inc.id, inc.title);
    if inc.restricted {
        out.push_str("> **Restricted.** Share only with the people working this incident.\n\n");
    }
    out.push_str("## Summary\n\n");
    let rows = [
        ("Severity", inc.severity.clone()),
        ("Status", inc.status.to_string()),
        ("Type", inc.incident_type.clone()),
        (
            "Services",
            if inc.services.is_empty() {
                "—".into()
            } else {
                inc.services.join(", ")
            },
        ),
        ("Reporter", inc.reporter.clone()),
        ("Declared", time(inc.declared_at)),
        (
            "Acknowledged",
            match (&inc.acknowledged_at, &inc.acknowledged_by) {
                (Some(at), Some(by)) => format!("{} by {by}", time(*at)),
                _ => "—".into(),
            },
        ),
        ("Contained", opt_time(inc.contained_at)),
        ("Resolved", opt_time(inc.resolved_at)),
        ("Closed", opt_time(inc.closed_at)),
    ];
    out.push_str("| Field | Value |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    }
    if !inc.labels.is_empty() {
        let labels: Vec<String> = inc.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "| Labels | {} |", cell(&labels.join(", ")));
    }
    for (k, v) in [
        ("Ticket", &inc.links.ticket),
        ("Chat channel", &inc.links.chat_channel),
        ("Dashboard", &inc.links.dashboard),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "| {k} | {} |", cell(v));
        }
    }
    if let Some(d) = &inc.description {
        let _ = writeln!(out, "\n{d}");
    }

    out.push_str("\n## Roles\n\n");
    if inc.roles.is_empty() {
        out.push_str("No roles assigned.\n");
    } else {
        out.push_str("| Role | Person |\n|---|---|\n");
        for (role, person) in &inc.roles {
            let _ = writeln!(out, "| {} | {} |", cell(role), cell(person));
        }
    }

    let _ = writeln!(out, "\n## Impact\n\n{}", describe_impact(&inc.impact));

    checklist(&mut out, inc, now);

    out.push_str("\n## Timeline\n\n| Time | Event | Actor | Details |\n|---|---|---|---|\n");
    for e in events {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            time(e.at),
            e.kind.name(),
            cell(&e.actor),
            cell(&e.kind.describe())
        );
    }

    let _ = writeln!(
        out,
        "\n## Root cause\n\n{}",
        inc.root_cause.as_deref().unwrap_or("Not yet determined.")
    );
    let _ = writeln!(
        out,
        "\n## Resolution\n\n{}",
        inc.resolution_summary
            .as_deref()
            .unwrap_or("Not yet resolved.")
    );
    if let Some(last) = events.last() {
        let _ = writeln!(
            out,
            "\n---\n{} events; chain head `{}`. Check with `warroom verify`.",
            events.len(),
            last.hash
        );
    }
    out
}

/// The attached playbooks' checklists, phase by phase.
fn checklist(out: &mut String, inc: &Incident, now: Timestamp) {
    if inc.playbooks.is_empty() {
        return;
    }
    let views = task_views(inc, now, &BTreeMap::new());
    let overdue = views.iter().filter(|t| t.overdue).count();
    let done = views.iter().filter(|t| t.state != TaskState::Open).count();
    let _ = writeln!(
        out,
        "\n## Playbooks\n\n{done} of {} tasks done or skipped; {overdue} overdue.",
        views.len()
    );
    let mut current = (String::new(), String::new());
    for t in &views {
        if current.0 != t.playbook {
            let title = inc
                .playbooks
                .iter()
                .find(|a| a.playbook.id == t.playbook)
                .map_or(String::new(), |a| a.playbook.title.clone());
            let _ = writeln!(out, "\n### {title} (`{}`)", t.playbook);
            current = (t.playbook.clone(), String::new());
        }
        if current.1 != t.phase {
            let due = t.due_at.map_or_else(
                || "due after resolution".to_string(),
                |d| format!("due {}", time(d)),
            );
            let _ = writeln!(out, "\n**{}** ({}, {due})\n", t.phase_title, t.time_box);
            current.1 = t.phase.clone();
        }
        let mark = match t.state {
            TaskState::Done => "[x]",
            TaskState::Skipped => "[-]",
            TaskState::Open => "[ ]",
        };
        let mut line = format!("- {mark} {}. {} — {}", t.number, t.text.trim(), t.owner);
        if let Some(p) = &t.owner_person {
            let _ = write!(line, " ({p})");
        }
        match t.state {
            TaskState::Done => {
                let _ = write!(line, "; done by {}", t.by.as_deref().unwrap_or("?"));
            }
            TaskState::Skipped => {
                let _ = write!(
                    line,
                    "; skipped by {}: {}",
                    t.by.as_deref().unwrap_or("?"),
                    t.reason.as_deref().unwrap_or("")
                );
            }
            TaskState::Open if t.overdue => line.push_str(" **OVERDUE**"),
            TaskState::Open => {}
        }
        let _ = writeln!(out, "{}", line.replace(['\r', '\n'], " "));
        for c in &t.commands {
            // Double backticks keep single backticks of shell commands intact.
            let _ = writeln!(out, "  - `` {} ``", c.replace("``", "` `"));
        }
    }
}

fn csv_field(text: &str) -> String {
    // A cell starting with one of these runs as a formula when the file is opened in a
    // spreadsheet; a leading apostrophe makes it plain text.
    let text = &if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(events: &[Event]) -> String {
    let mut out = String::from("time,sequence,event,actor,details,hash\r\n");
    for e in events {
        let _ = write!(
            out,
            "{},{},{},{},{},{}\r\n",
            e.at,
            e.seq,
            e.kind.name(),
            csv_field(&e.actor),
            csv_field(&e.kind.describe()),
            e.hash
        );
    }
    out
}

#[derive(Serialize)]
struct JsonExport<'a> {
    incident: &'a Incident,
    tasks: Vec<TaskView>,
    events: &'a [Event],
}

fn json(incident: &Incident, events: &[Event], now: Timestamp) -> String {
    let tasks = task_views(incident, now, &BTreeMap::new());
    serde_json::to_string_pretty(&JsonExport {
        incident,
        tasks,
        events,
    })
    .unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_cells_never_run_as_formulas() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("plain, with comma"), "\"plain, with comma\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
