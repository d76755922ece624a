//! List filters and cursor pagination.

use jiff::Timestamp;
use warroom_core::Status;

/// Which statuses to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Any status.
    #[default]
    Any,
    /// Any of these.
    In(Vec<Status>),
}

/// Where the next page starts: after this (declared_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Declaration time of the last incident on the previous page, microseconds.
    pub declared_at: i64,
    /// Its id.
    pub id: String,
}

impl Cursor {
    /// Opaque text form for the API.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.declared_at, self.id)
    }

    /// Parses [`Cursor::encode`] output.
    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, id) = text.split_once('_')?;
        let declared_at = at.parse().ok()?;
        id.parse::<warroom_core::IncidentId>().ok()?;
        Some(Cursor {
            declared_at,
            id: id.to_string(),
        })
    }
}

/// Filters for listing incidents; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Statuses.
    pub status: StatusFilter,
    /// Severity ids (any of).
    pub severities: Vec<String>,
    /// Incident types (any of).
    pub types: Vec<String>,
    /// Services (any of).
    pub services: Vec<String>,
    /// Labels (all of).
    pub labels: Vec<(String, String)>,
    /// Free text, matched case-insensitively.
    pub text: Option<String>,
    /// Declared at or after.
    pub since: Option<Timestamp>,
    /// Declared before.
    pub until: Option<Timestamp>,
    /// Page size.
    pub limit: u32,
    /// Continue after this.
    pub cursor: Option<Cursor>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The incidents.
    pub incidents: Vec<warroom_core::Incident>,
    /// Cursor for the next page, if there is one.
    pub next_cursor: Option<Cursor>,
}
