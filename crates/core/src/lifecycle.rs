//! The incident lifecycle: triage -> investigating -> contained -> recovering -> resolved ->
//! closed, and which moves between them are allowed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Declared, not yet being worked.
    Triage,
    /// Someone is finding out what is wrong.
    Investigating,
    /// The damage has stopped spreading.
    Contained,
    /// Service is being restored.
    Recovering,
    /// Impact is over; a resolution summary exists.
    Resolved,
    /// Reviewed and done; only reopening changes it.
    Closed,
}

impl Status {
    /// All statuses in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Triage,
        Status::Investigating,
        Status::Contained,
        Status::Recovering,
        Status::Resolved,
        Status::Closed,
    ];

    /// The status name as used in the API and CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Triage => "triage",
            Status::Investigating => "investigating",
            Status::Contained => "contained",
            Status::Recovering => "recovering",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// True until the incident is resolved.
    pub fn is_open(&self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            format!(
                "unknown status {s:?}: expected one of triage, investigating, contained, recovering, resolved, closed"
            )
        })
    }
}

/// Why a move is not allowed, in words a responder can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Moving to the status the incident already has.
    #[error("the incident is already {0}")]
    Unchanged(Status),
    /// Resolution needs a summary, so it has its own command.
    #[error("resolving needs a summary: use resolve with a summary")]
    ResolveNeedsSummary,
    /// Closing has its own command and needs a resolved incident.
    #[error("use close on a resolved incident to close it")]
    UseClose,
    /// Reopening has its own command.
    #[error("the incident is {0}: reopen it first")]
    Finished(Status),
    /// Nothing goes back to triage.
    #[error("an incident cannot go back to triage")]
    BackToTriage,
}

/// Checks a plain status change (not resolve, close or reopen, which have their own rules).
pub fn check_status_change(from: Status, to: Status) -> Result<(), TransitionError> {
    if !from.is_open() {
        return Err(TransitionError::Finished(from));
    }
    match to {
        _ if to == from => Err(TransitionError::Unchanged(from)),
        Status::Triage => Err(TransitionError::BackToTriage),
        Status::Resolved => Err(TransitionError::ResolveNeedsSummary),
        Status::Closed => Err(TransitionError::UseClose),
        Status::Investigating | Status::Contained | Status::Recovering => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_states_move_freely_between_each_other() {
        use Status::*;
        for from in [Triage, Investigating, Contained, Recovering] {
            for to in [Investigating, Contained, Recovering] {
                assert_eq!(
                    check_status_change(from, to).is_ok(),
                    from != to,
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn finished_and_special_states_are_guarded() {
        use Status::*;
        assert_eq!(
            check_status_change(Resolved, Investigating),
            Err(TransitionError::Finished(Resolved))
        );
        assert_eq!(
            check_status_change(Closed, Contained),
            Err(TransitionError::Finished(Closed))
        );
        assert_eq!(
            check_status_change(Investigating, Resolved),
            Err(TransitionError::ResolveNeedsSummary)
        );
        assert_eq!(
            check_status_change(Investigating, Closed),
            Err(TransitionError::UseClose)
        );
        assert_eq!(
            check_status_change(Contained, Triage),
            Err(TransitionError::BackToTriage)
        );
    }
}
