//! The human view of an incident's checklist (`warroom task list`): tasks grouped by playbook
//! and phase, each with its number, state box, owner, due time and an OVERDUE marker.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Deserialize;

use super::playbook::describe_time_box;
use crate::output::{Colour, relative, truncate};

/// Longest task text shown on a checklist line; the whole text is in `--json` and
/// `warroom playbook show`.
const TEXT_WIDTH: usize = 88;

/// One task of `GET /api/v1/incidents/{id}/tasks`. Lenient: unknown fields are ignored and an
/// unknown state is shown as written.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskItem {
    pub number: usize,
    pub playbook: String,
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub phase_title: String,
    #[serde(default)]
    pub time_box: String,
    pub task: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub owner_person: Option<String>,
    pub state: String,
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub due_at: Option<Timestamp>,
    #[serde(default)]
    pub overdue: bool,
    #[serde(default)]
    pub commands: Vec<String>,
}

impl TaskItem {
    fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// `10:15 UTC` today (UTC), else `2026-11-23 10:15 UTC`.
fn when(now: Timestamp, t: Timestamp) -> String {
    let day = |ts: Timestamp| ts.strftime("%Y-%m-%d").to_string();
    let same_day = day(now) == day(t);
    if same_day {
        t.strftime("%H:%M UTC").to_string()
    } else {
        t.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
}

fn state_box(task: &TaskItem, colour: Colour) -> String {
    match task.state.as_str() {
        "open" => "[ ]".to_string(),
        "done" => colour.good("[x]"),
        "skipped" => colour.dim("[-]"),
        _ => "[?]".to_string(),
    }
}

/// The second line of a task: id, owner, due time, and who closed it.
fn details(task: &TaskItem, now: Timestamp) -> String {
    let mut parts = vec![task.task.clone()];
    parts.push(match &task.owner_person {
        Some(person) => format!("{} ({person})", task.owner),
        None => task.owner.clone(),
    });
    match task.due_at {
        Some(due) if task.is_open() => {
            parts.push(format!("due {} ({})", when(now, due), relative(now, due)));
        }
        Some(due) => parts.push(format!("due {}", when(now, due))),
        None if !task.time_box.is_empty() => {
            parts.push(format!("due {}", describe_time_box(&task.time_box)));
        }
        None => {}
    }
    let by = task.by.as_deref().unwrap_or("?");
    match task.state.as_str() {
        "done" => parts.push(match task.at {
            Some(at) => format!("done by {by} at {}", when(now, at)),
            None => format!("done by {by}"),
        }),
        "skipped" => parts.push(match &task.reason {
            Some(reason) => format!("skipped by {by}: {reason}"),
            None => format!("skipped by {by}"),
        }),
        "open" => {}
        other => parts.push(other.to_string()),
    }
    parts.join(" · ")
}

/// `N open, M overdue`, then how many are done and skipped.
pub fn summary(tasks: &[TaskItem]) -> String {
    let count = |state: &str| tasks.iter().filter(|t| t.state == state).count();
    let overdue = tasks.iter().filter(|t| t.overdue).count();
    format!(
        "{} open, {overdue} overdue, {} done, {} skipped",
        count("open"),
        count("done"),
        count("skipped")
    )
}

/// The checklist under `header`. `titles` maps playbook ids to titles; `now` is only for the
/// relative due times (whether a task is overdue is the server's call).
pub fn render(
    header: &str,
    titles: &BTreeMap<String, String>,
    tasks: &[TaskItem],
    now: Timestamp,
    colour: Colour,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    let width = tasks
        .iter()
        .map(|t| t.number.to_string().len())
        .max()
        .unwrap_or(1);
    let indent = " ".repeat(4 + width + 2 + 4);
    let mut playbook: Option<&str> = None;
    let mut phase: Option<(&str, &str)> = None;
    for task in tasks {
        if playbook != Some(task.playbook.as_str()) {
            playbook = Some(&task.playbook);
            phase = None;
            let title = match titles.get(&task.playbook) {
                Some(title) => format!("{title} ({})", task.playbook),
                None => task.playbook.clone(),
            };
            let _ = writeln!(out, "\n{}", colour.bold(&title));
        }
        if phase != Some((task.playbook.as_str(), task.phase.as_str())) {
            phase = Some((&task.playbook, &task.phase));
            let title = if task.phase_title.is_empty() {
                &task.phase
            } else {
                &task.phase_title
            };
            let _ = writeln!(out, "  {title} ({})", describe_time_box(&task.time_box));
        }
        let flag = if task.overdue {
            format!("{} ", colour.alarm("OVERDUE"))
        } else {
            String::new()
        };
        let text = truncate(
            &task.text.split_whitespace().collect::<Vec<_>>().join(" "),
            TEXT_WIDTH,
        );
        let _ = writeln!(
            out,
            "    {:>width$}. {} {flag}{text}",
            task.number,
            state_box(task, colour)
        );
        let _ = writeln!(out, "{indent}{}", details(task, now));
    }
    let _ = write!(out, "\n{}", summary(tasks));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn tasks() -> Vec<TaskItem> {
        let v = json!([
            {"number": 1, "playbook": "credential-leak", "phase": "contain", "phase_title": "Contain",
             "time_box": "0-15m", "task": "block-ip", "text": "Block the attacker's address",
             "owner": "security-lead", "owner_person": "priya", "state": "open",
             "due_at": "2026-03-01T10:15:00Z", "overdue": true, "commands": [], "links": []},
            {"number": 2, "playbook": "credential-leak", "phase": "contain", "phase_title": "Contain",
             "time_box": "0-15m", "task": "rotate", "text": "Rotate the leaked credential",
             "owner": "technical-lead", "state": "done", "by": "li", "at": "2026-03-01T10:05:00Z",
             "due_at": "2026-03-01T10:15:00Z", "overdue": false, "commands": [], "links": []},
            {"number": 3, "playbook": "credential-leak", "phase": "eradicate", "phase_title": "Eradicate",
             "time_box": "15m-1h", "task": "audit", "text": "Audit what\nthe credential reached",
             "owner": "security-lead", "owner_person": "priya", "state": "skipped", "by": "priya",
             "at": "2026-03-01T10:06:00Z", "reason": "the key had no access",
             "due_at": "2026-03-01T11:00:00Z", "overdue": false, "commands": [], "links": []},
            {"number": 4, "playbook": "credential-leak", "phase": "review", "phase_title": "Review",
             "time_box": "within 48h of resolve", "task": "postmortem", "text": "Write the postmortem",
             "owner": "incident-commander", "state": "open", "overdue": false, "commands": [], "links": []},
            {"number": 5, "playbook": "manual-only", "phase": "all", "phase_title": "Everything",
             "time_box": "0-1h", "task": "rotate", "text": "Rotate again", "owner": "technical-lead",
             "state": "open", "due_at": "2026-03-02T09:00:00Z", "overdue": false, "new_field": 1}
        ]);
        Vec::<TaskItem>::deserialize(&v).expect("tasks")
    }

    #[test]
    fn the_checklist_groups_by_playbook_and_phase() {
        let titles =
            BTreeMap::from([("credential-leak".to_string(), "Credential leak".to_string())]);
        let got = render(
            "INC-20260301-001: Leaked deploy key (P1, investigating)",
            &titles,
            &tasks(),
            ts("2026-03-01T10:20:00Z"),
            Colour::off(),
        );
        let expected = "\
INC-20260301-001: Leaked deploy key (P1, investigating)

Credential leak (credential-leak)
  Contain (0-15m after declaration)
    1. [ ] OVERDUE Block the attacker's address
           block-ip · security-lead (priya) · due 10:15 UTC (5m ago)
    2. [x] Rotate the leaked credential
           rotate · technical-lead · due 10:15 UTC · done by li at 10:05 UTC
  Eradicate (15m-1h after declaration)
    3. [-] Audit what the credential reached
           audit · security-lead (priya) · due 11:00 UTC · skipped by priya: the key had no access
  Review (within 48h of resolve)
    4. [ ] Write the postmortem
           postmortem · incident-commander · due within 48h of resolve

manual-only
  Everything (0-1h after declaration)
    5. [ ] Rotate again
           rotate · technical-lead · due 2026-03-02 09:00 UTC (in 22h40m)

3 open, 1 overdue, 1 done, 1 skipped";
        assert_eq!(got, expected);
    }

    #[test]
    fn overdue_is_written_out_and_coloured_only_on_request() {
        let plain = render(
            "h",
            &BTreeMap::new(),
            &tasks(),
            ts("2026-03-01T10:20:00Z"),
            Colour::off(),
        );
        assert!(!plain.contains('\x1b'));
        let lines: Vec<&str> = plain.lines().filter(|l| l.contains("OVERDUE")).collect();
        assert_eq!(lines, ["    1. [ ] OVERDUE Block the attacker's address"]);
    }

    #[test]
    fn long_task_texts_are_cut_to_one_line() {
        let mut all = tasks();
        all[0].text = "word ".repeat(40);
        let got = render(
            "h",
            &BTreeMap::new(),
            &all[..1],
            ts("2026-03-01T10:00:00Z"),
            Colour::off(),
        );
        let line = got.lines().nth(4).expect("task line");
        assert!(line.ends_with('…'), "{line}");
        assert!(line.chars().count() < 120, "{line}");
    }

    #[test]
    fn the_summary_counts_states() {
        assert_eq!(summary(&tasks()), "3 open, 1 overdue, 1 done, 1 skipped");
        assert_eq!(summary(&[]), "0 open, 0 overdue, 0 done, 0 skipped");
    }
}
