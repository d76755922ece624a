//! The team's alert policy: the `alerts:` config section.
//!
//! ```yaml
//! alerts:
//!   severity_map: {critical: P1, error: P2, warning: P3, info: P3}
//!   on_all_resolved: recovering   # recovering | none
//!   open_incidents: true
//! ```
//!
//! Routing rules decide per alert; this policy is what applies where they say nothing.

use serde::{Deserialize, Serialize};

use super::AlertSeverity;

/// What happens to an incident when every alert attached to it has resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AllResolved {
    /// Record it on the timeline, and move an open incident that is not already recovering or
    /// resolved to `recovering`: the signal cleared, someone should confirm and close.
    #[default]
    #[serde(rename = "recovering")]
    Recovering,
    /// Only record it on the timeline.
    #[serde(rename = "none")]
    Nothing,
}

impl AllResolved {
    /// Both choices.
    pub const ALL: [AllResolved; 2] = [AllResolved::Recovering, AllResolved::Nothing];

    /// The name used in config files.
    pub fn as_str(&self) -> &'static str {
        match self {
            AllResolved::Recovering => "recovering",
            AllResolved::Nothing => "none",
        }
    }

    /// Reads a name written by [`AllResolved::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text.trim())
    }
}

impl std::fmt::Display for AllResolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The incident severity id for each of the four alert severities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityMap {
    /// For `critical` alerts.
    pub critical: String,
    /// For `error` alerts.
    pub error: String,
    /// For `warning` alerts.
    pub warning: String,
    /// For `info` alerts.
    pub info: String,
}

impl SeverityMap {
    /// The built-in mapping, for the built-in P0..P3 scheme: critical → P1, error → P2,
    /// warning → P3, info → P3. (P0 is kept for what a person declares: an alert alone rarely
    /// knows it is the worst case.)
    pub fn builtin() -> Self {
        Self {
            critical: "P1".into(),
            error: "P2".into(),
            warning: "P3".into(),
            info: "P3".into(),
        }
    }

    /// A mapping that fits any scheme, given its levels as `(id, pages)`, most severe first:
    /// `critical` → the first level that pages (else the first level), `error` → the level
    /// after that one, `warning` and `info` → the least severe level. With fewer levels the
    /// choices collapse onto the ones there are. `None` when `levels` is empty.
    pub fn fitted(levels: &[(&str, bool)]) -> Option<Self> {
        let last = levels.len().checked_sub(1)?;
        let critical = levels.iter().position(|(_, pages)| *pages).unwrap_or(0);
        let error = (critical + 1).min(last);
        Some(Self {
            critical: levels[critical].0.to_string(),
            error: levels[error].0.to_string(),
            warning: levels[last].0.to_string(),
            info: levels[last].0.to_string(),
        })
    }

    /// The incident severity id for `severity`.
    pub fn get(&self, severity: AlertSeverity) -> &str {
        match severity {
            AlertSeverity::Critical => &self.critical,
            AlertSeverity::Error => &self.error,
            AlertSeverity::Warning => &self.warning,
            AlertSeverity::Info => &self.info,
        }
    }

    /// Sets the incident severity id for `severity`.
    pub fn set(&mut self, severity: AlertSeverity, id: String) {
        match severity {
            AlertSeverity::Critical => self.critical = id,
            AlertSeverity::Error => self.error = id,
            AlertSeverity::Warning => self.warning = id,
            AlertSeverity::Info => self.info = id,
        }
    }

    /// Each alert severity with its incident severity id, most severe first.
    pub fn entries(&self) -> [(AlertSeverity, &str); 4] {
        AlertSeverity::ALL.map(|s| (s, self.get(s)))
    }
}

impl Default for SeverityMap {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The `alerts:` section: what alerts do where routing rules say nothing.
///
/// - `severity_map`: alert severity → incident severity id, used when no routing rule chose a
///   severity. The built-in file maps critical → P1, error → P2, warning → P3, info → P3.
///   Entries a config leaves out take that built-in choice when the scheme has those ids,
///   otherwise the fitted one (see below).
///
///   When the `alerts` section comes from the built-in file but the team's own severity scheme
///   lacks the ids it names (P1..P3), the map is fitted to the scheme instead of failing:
///   `critical` → the first severity whose `pages` is true (the first severity if none pages),
///   `error` → the severity after that one, `warning` and `info` → the least severe severity
///   ([`SeverityMap::fitted`]). A team's own `alerts` section naming unknown ids is an error.
/// - `on_all_resolved`: when every alert attached to an incident has resolved,
///   `recovering` (the default) records it and moves the incident to `recovering` if it is open
///   and not already recovering or resolved; `none` only records it.
/// - `open_incidents`: `true` (the default) lets alerts open incidents; with `false` alerts are
///   only recorded and nothing opens an incident automatically: people declare every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertPolicy {
    /// Alert severity → incident severity id, when no routing rule chose one.
    #[serde(default)]
    pub severity_map: SeverityMap,
    /// What resolving every alert of an incident does.
    #[serde(default)]
    pub on_all_resolved: AllResolved,
    /// Whether alerts open incidents on their own.
    #[serde(default = "yes")]
    pub open_incidents: bool,
}

fn yes() -> bool {
    true
}

impl Default for AlertPolicy {
    /// The built-in policy: [`SeverityMap::builtin`], `recovering`, alerts open incidents.
    fn default() -> Self {
        Self {
            severity_map: SeverityMap::builtin(),
            on_all_resolved: AllResolved::Recovering,
            open_incidents: true,
        }
    }
}

impl AlertPolicy {
    /// The incident severity id for an alert of severity `s` that no routing rule mapped.
    pub fn incident_severity(&self, s: AlertSeverity) -> &str {
        self.severity_map.get(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_default() {
        let p = AlertPolicy::default();
        let got: Vec<&str> = AlertSeverity::ALL
            .iter()
            .map(|s| p.incident_severity(*s))
            .collect();
        assert_eq!(got, ["P1", "P2", "P3", "P3"]);
        assert_eq!(p.on_all_resolved, AllResolved::Recovering);
        assert!(p.open_incidents);
    }

    #[test]
    fn fitted_to_other_schemes() {
        let fit = |levels: &[(&str, bool)]| {
            SeverityMap::fitted(levels).map(|m| {
                m.entries()
                    .iter()
                    .map(|(_, id)| id.to_string())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            fit(&[("SEV0", true), ("SEV1", false), ("SEV2", false)]),
            Some(vec![
                "SEV0".into(),
                "SEV1".into(),
                "SEV2".into(),
                "SEV2".into()
            ])
        );
        // The first paging level need not be the first level.
        assert_eq!(
            fit(&[("A", false), ("B", true), ("C", false), ("D", false)]),
            Some(vec!["B".into(), "C".into(), "D".into(), "D".into()])
        );
        // Nothing pages: start at the top.
        assert_eq!(
            fit(&[("hi", false), ("lo", false)]),
            Some(vec!["hi".into(), "lo".into(), "lo".into(), "lo".into()])
        );
        assert_eq!(fit(&[("only", true)]), Some(vec!["only".into(); 4]));
        assert_eq!(fit(&[]), None);
    }

    #[test]
    fn serialised_names() {
        let p = AlertPolicy {
            on_all_resolved: AllResolved::Nothing,
            open_incidents: false,
            ..AlertPolicy::default()
        };
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["on_all_resolved"], "none");
        assert_eq!(json["severity_map"]["critical"], "P1");
        let back: AlertPolicy = serde_json::from_value(json).expect("json");
        assert_eq!(back, p);
        assert_eq!(
            AllResolved::parse("recovering"),
            Some(AllResolved::Recovering)
        );
        assert_eq!(AllResolved::parse("nothing"), None);
    }
}
