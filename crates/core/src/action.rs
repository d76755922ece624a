//! Action items: follow-up work an incident leaves behind (fix the alert, add the index, write
//! the runbook), each with an owner, a due date, a priority and a status.
//!
//! Items live on the incident's timeline (`action_item_created`, `action_item_updated`,
//! `action_item_due`), so they share the log's hash chain and audit trail; the incident's fold
//! keeps their current state, and the store projects that into a table for queries across
//! incidents. Unlike every other change, items may still be added and updated once the
//! incident is closed: follow-up work routinely outlives the incident.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::command::DomainError;
use crate::config::Config;
use crate::event::EventKind;
use crate::incident::Incident;

/// Most action items on one incident.
pub const MAX_ACTIONS: usize = 200;
/// Longest ticket link, in characters.
pub const MAX_TICKET: usize = 2048;

/// How urgent an item is: `p1` most urgent, `p4` least.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Do it now.
    P1,
    /// Do it this week.
    P2,
    /// Normal follow-up (the default).
    #[default]
    P3,
    /// When there is time.
    P4,
}

impl Priority {
    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
            Priority::P4 => "p4",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "p1" => Ok(Priority::P1),
            "p2" => Ok(Priority::P2),
            "p3" => Ok(Priority::P3),
            "p4" => Ok(Priority::P4),
            _ => Err(format!("unknown priority {s:?}: expected p1, p2, p3 or p4")),
        }
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Not started.
    #[default]
    Open,
    /// Someone is on it.
    InProgress,
    /// Finished.
    Done,
    /// Decided against.
    Cancelled,
}

impl ActionStatus {
    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    /// Still work to do: open or in progress.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(ActionStatus::Open),
            "in_progress" | "in-progress" => Ok(ActionStatus::InProgress),
            "done" => Ok(ActionStatus::Done),
            "cancelled" | "canceled" => Ok(ActionStatus::Cancelled),
            _ => Err(format!(
                "unknown status {s:?}: expected open, in_progress, done or cancelled"
            )),
        }
    }
}

/// One action item as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    /// `A1`, `A2`... in order of creation within the incident.
    pub id: String,
    /// What to do.
    pub title: String,
    /// Person (a configured handle) who owns it.
    pub owner: String,
    /// Due date, in the owner's calendar.
    pub due: Date,
    /// The instant the item becomes overdue: the end of the due date in the owner's time zone.
    pub due_at: Timestamp,
    /// How urgent.
    pub priority: Priority,
    /// Where it stands.
    pub status: ActionStatus,
    /// Link to the external ticket tracking it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl ActionItem {
    /// Open (or in progress) and past its due instant at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && now >= self.due_at
    }
}

/// A new item, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    /// What to do.
    pub title: String,
    /// Owner: a configured person's handle.
    pub owner: String,
    /// Due date, `YYYY-MM-DD`.
    pub due: Date,
    /// Priority; `p3` when absent.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Link to an external ticket (`http://` or `https://`).
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Changes to an item; absent fields stay as they are. An empty `ticket` removes the link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// New due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
    /// New priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    /// New ticket link; empty removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The instant an item due on `due` becomes overdue: midnight at the end of that date in the
/// owner's time zone (the business calendar's zone for a handle without a configured person).
pub fn due_instant(config: &Config, owner: &str, due: Date) -> Result<Timestamp, DomainError> {
    let tz = config.person(owner).map_or_else(
        || config.business_hours.time_zone.tz(),
        |p| p.time_zone.tz(),
    );
    due.tomorrow()
        .ok()
        .and_then(|next| next.to_zoned_datetime(tz.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| invalid("due", format!("{due} is out of range")))
}

fn check_owner(config: &Config, owner: &str) -> Result<String, DomainError> {
    let owner = owner.trim();
    if config.people.is_empty() {
        // Without a people directory any handle is accepted, as services are.
        if owner.is_empty()
            || owner.chars().count() > 64
            || owner.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "owner",
                "an owner is a handle of 1-64 characters without spaces",
            ));
        }
        return Ok(owner.to_string());
    }
    match config.person(owner) {
        Some(p) => Ok(p.id.clone()),
        None => {
            let known: Vec<&str> = config.people.iter().map(|p| p.id.as_str()).collect();
            Err(invalid(
                "owner",
                format!(
                    "unknown person {owner:?}; expected one of {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

fn check_action_title(title: &str) -> Result<String, DomainError> {
    crate::command::check_title("title", title)
}

fn check_ticket(ticket: &str) -> Result<String, DomainError> {
    let ticket = ticket.trim();
    if ticket.chars().count() > MAX_TICKET
        || ticket.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(invalid(
            "ticket",
            format!("must be one URL of at most {MAX_TICKET} characters without spaces"),
        ));
    }
    if !(ticket.starts_with("https://") || ticket.starts_with("http://")) {
        return Err(invalid("ticket", "must be an http:// or https:// URL"));
    }
    Ok(ticket.to_string())
}

/// The event recording a new item on `inc`.
pub fn create(inc: &Incident, new: &NewAction, config: &Config) -> Result<EventKind, DomainError> {
    if inc.actions.len() >= MAX_ACTIONS {
        return Err(DomainError::Conflict(format!(
            "an incident holds at most {MAX_ACTIONS} action items"
        )));
    }
    let title = check_action_title(&new.title)?;
    let owner = check_owner(config, &new.owner)?;
    let ticket = new.ticket.as_deref().map(check_ticket).transpose()?;
    let due_at = due_instant(config, &owner, new.due)?;
    Ok(EventKind::ActionItemCreated {
        action: format!("A{}", inc.actions.len() + 1),
        title,
        owner,
        due: new.due,
        due_at,
        priority: new.priority.unwrap_or_default(),
        ticket,
    })
}

/// The event recording `patch` to item `action` of `inc`; only the fields that change are in it.
pub fn update(
    inc: &Incident,
    action: &str,
    patch: &ActionPatch,
    config: &Config,
) -> Result<EventKind, DomainError> {
    let item = inc
        .actions
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(action))
        .ok_or_else(|| {
            invalid(
                "action",
                format!("{} has no action item {action:?}", inc.id),
            )
        })?;
    let title = patch
        .title
        .as_deref()
        .map(check_action_title)
        .transpose()?
        .filter(|t| t != &item.title);
    let owner = patch
        .owner
        .as_deref()
        .map(|o| check_owner(config, o))
        .transpose()?
        .filter(|o| o != &item.owner);
    let due = patch.due.filter(|d| d != &item.due);
    let ticket = match patch.ticket.as_deref().map(str::trim) {
        None => None,
        Some("") => item.ticket.as_ref().map(|_| String::new()),
        Some(t) => Some(check_ticket(t)?).filter(|t| Some(t) != item.ticket.as_ref()),
    };
    let priority = patch.priority.filter(|p| p != &item.priority);
    let status = patch.status.filter(|s| s != &item.status);
    // The due instant depends on the owner's zone, so either change moves it.
    let due_at = if owner.is_some() || due.is_some() {
        let owner = owner.as_deref().unwrap_or(&item.owner);
        Some(due_instant(config, owner, due.unwrap_or(item.due))?).filter(|t| t != &item.due_at)
    } else {
        None
    };
    if title.is_none()
        && owner.is_none()
        && due.is_none()
        && ticket.is_none()
        && priority.is_none()
        && status.is_none()
    {
        return Err(DomainError::Conflict(format!(
            "action item {} already looks like that",
            item.id
        )));
    }
    Ok(EventKind::ActionItemUpdated {
        action: item.id.clone(),
        title,
        owner,
        due,
        due_at,
        priority,
        status,
        ticket,
    })
}

/// Applies an action-item event to the incident's items (the fold's share of the work).
pub(crate) fn apply(actions: &mut Vec<ActionItem>, kind: &EventKind, at: Timestamp, actor: &str) {
    match kind {
        EventKind::ActionItemCreated {
            action,
            title,
            owner,
            due,
            due_at,
            priority,
            ticket,
        } => actions.push(ActionItem {
            id: action.clone(),
            title: title.clone(),
            owner: owner.clone(),
            due: *due,
            due_at: *due_at,
            priority: *priority,
            status: ActionStatus::Open,
            ticket: ticket.clone(),
            created_at: at,
            created_by: actor.to_string(),
            updated_at: at,
        }),
        EventKind::ActionItemUpdated {
            action,
            title,
            owner,
            due,
            due_at,
            priority,
            status,
            ticket,
        } => {
            if let Some(item) = actions.iter_mut().find(|a| &a.id == action) {
                if let Some(v) = title {
                    item.title = v.clone();
                }
                if let Some(v) = owner {
                    item.owner = v.clone();
                }
                if let Some(v) = due {
                    item.due = *v;
                }
                if let Some(v) = due_at {
                    item.due_at = *v;
                }
                if let Some(v) = priority {
                    item.priority = *v;
                }
                if let Some(v) = status {
                    item.status = *v;
                }
                if let Some(v) = ticket {
                    item.ticket = Some(v.clone()).filter(|t| !t.is_empty());
                }
                item.updated_at = at;
            }
        }
        _ => {}
    }
}
