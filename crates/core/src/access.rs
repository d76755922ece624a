//! Who may do what: the role ladder and restricted-incident visibility.
//!
//! The same rule is enforced twice on purpose: here as a pure function (used after a single
//! fetch and in tests) and in the store's SQL, so that no list, count or export can leak a
//! restricted incident.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::incident::Incident;

/// Permission level of a token or user; each level includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads incidents and timelines.
    Viewer,
    /// Declares incidents, acknowledges, adds notes, changes status, resolves.
    Responder,
    /// Changes severity, assigns roles, closes and reopens, changes classification.
    Commander,
    /// Manages tokens and configuration; sees every incident.
    Admin,
}

impl Role {
    /// All roles, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Responder, Role::Commander, Role::Admin];

    /// The role's name as used in the API and CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Commander => "commander",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected viewer, responder, commander or admin")
            })
    }
}

/// What a token may be used for, on top of its role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenScope {
    /// Everything its role allows.
    #[default]
    Full,
    /// Only what a viewer may do, whatever its role: for dashboards, exports and audits. A
    /// read-only admin or security token still sees the restricted incidents its role does.
    ReadOnly,
}

impl TokenScope {
    /// All scopes.
    pub const ALL: [TokenScope; 2] = [TokenScope::Full, TokenScope::ReadOnly];

    /// The scope's name as used in the API, the CLI and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenScope::Full => "full",
            TokenScope::ReadOnly => "read-only",
        }
    }

    /// Whether a caller of this scope may use an operation that needs `needed`.
    pub fn allows(&self, needed: Role) -> bool {
        match self {
            TokenScope::Full => true,
            TokenScope::ReadOnly => needed == Role::Viewer,
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TokenScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenScope::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}: expected full or read-only"))
    }
}

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The person or system acting; recorded as the actor of every event it causes.
    pub name: String,
    /// Permission level.
    pub role: Role,
    /// Member of the security team (the security lead role): sees restricted incidents.
    pub security: bool,
}

impl Principal {
    /// Whether this caller sees every restricted incident regardless of participation.
    pub fn sees_all_restricted(&self) -> bool {
        self.role == Role::Admin || self.security
    }

    /// Whether the caller holds at least `needed`.
    pub fn has(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// Whether `who` may see `incident` at all.
pub fn can_see(incident: &Incident, who: &Principal) -> bool {
    !incident.restricted || who.sees_all_restricted() || incident.participants.contains(&who.name)
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn read_only_allows_exactly_the_viewer_level() {
        for role in Role::ALL {
            assert!(TokenScope::Full.allows(role));
            assert_eq!(TokenScope::ReadOnly.allows(role), role == Role::Viewer);
        }
        for scope in TokenScope::ALL {
            assert_eq!(scope.as_str().parse::<TokenScope>(), Ok(scope));
            let json = serde_json::to_string(&scope).expect("json");
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
        }
        assert!("write".parse::<TokenScope>().is_err());
        assert_eq!(TokenScope::default(), TokenScope::Full);
    }
}
