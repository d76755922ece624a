//! The public status page: what it shows and the rules for changing it.
//!
//! Components are declared in config (`status_page:`); their statuses, the incidents published
//! to the page and scheduled maintenances live in the store. A published incident is a
//! separate public record linked to an internal incident: its own title, public status and
//! public updates, written on purpose by a responder. Nothing of the internal incident (notes,
//! roles, labels, impact, timeline) is copied into it, so nothing can leak by accident.
//!
//! This module holds the pure parts: the status vocabularies and their ordering, the change
//! rules (`publish`, `post_update`, `set_component`, maintenance), and the derived views
//! (effective component statuses, the overall banner). [`hosted`] builds the JSON of the common
//! hosted status page API, [`html`] the page and [`atom`] the feed.

pub mod atom;
pub mod config;
pub mod hosted;
pub mod html;
mod rules;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use config::{ComponentDef, GroupDef, StatusPageConfig};
pub use rules::{
    MaintenanceRequest, MaintenanceUpdateRequest, PageChange, PageContext, PublishRequest,
    UpdateRequest, create_maintenance, post_update, publish, set_component, update_maintenance,
};

/// Longest public title, in characters.
pub const MAX_PUBLIC_TITLE: usize = 200;
/// Longest public update, in characters.
pub const MAX_PUBLIC_BODY: usize = 5_000;
/// The title an incident gets on the page when the publisher gives none. Internal titles often
/// name causes, customers or attack details, so they are never used by default.
pub const NEUTRAL_TITLE: &str = "Service disruption";
/// The first public update when the publisher writes none.
pub const DEFAULT_FIRST_MESSAGE: &str = "We are investigating this issue.";
/// How long resolved incidents stay on the HTML page.
pub const RECENT_DAYS: i64 = 14;
/// How many incidents `incidents.json` and the feed list at most.
pub const LISTED_ENTRIES: usize = 50;

/// Why a status word was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}: expected one of {expected}")]
pub struct UnknownStatus {
    what: &'static str,
    given: String,
    expected: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident = $text:literal / $label:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name (`major_outage`).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Words for people ("Major outage").
            pub fn label(&self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().replace(['-', ' '], "_").to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| UnknownStatus {
                        what: $what,
                        given: s.to_string(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

vocabulary!(
    /// How a component is doing, as the public sees it. Declared from best to worst, so the
    /// derived order is "how bad" (maintenance counts as better than any degradation: it is
    /// planned and announced).
    ComponentStatus, "component status", {
        /// Working normally.
        Operational = "operational" / "Operational",
        /// Planned work.
        UnderMaintenance = "under_maintenance" / "Under maintenance",
        /// Slow or flaky.
        DegradedPerformance = "degraded_performance" / "Degraded performance",
        /// Down for some.
        PartialOutage = "partial_outage" / "Partial outage",
        /// Down.
        MajorOutage = "major_outage" / "Major outage",
    }
);

vocabulary!(
    /// A published incident's public status.
    IncidentStatus, "incident status", {
        /// Looking into it.
        Investigating = "investigating" / "Investigating",
        /// The cause is known.
        Identified = "identified" / "Identified",
        /// A fix is in; watching.
        Monitoring = "monitoring" / "Monitoring",
        /// Over.
        Resolved = "resolved" / "Resolved",
    }
);

vocabulary!(
    /// A scheduled maintenance's status.
    MaintenanceStatus, "maintenance status", {
        /// Announced, not started.
        Scheduled = "scheduled" / "Scheduled",
        /// Under way.
        InProgress = "in_progress" / "In progress",
        /// Done, being checked.
        Verifying = "verifying" / "Verifying",
        /// Over.
        Completed = "completed" / "Completed",
    }
);

vocabulary!(
    /// How bad an incident is for users, in the hosted API's words. Ordered from least to worst.
    Impact, "impact", {
        /// No visible effect.
        None = "none" / "None",
        /// Planned work.
        Maintenance = "maintenance" / "Maintenance",
        /// Some users notice.
        Minor = "minor" / "Minor",
        /// Many users are affected.
        Major = "major" / "Major",
        /// The service is down.
        Critical = "critical" / "Critical",
    }
);

impl ComponentStatus {
    /// The impact a component in this status implies.
    pub fn impact(self) -> Impact {
        match self {
            ComponentStatus::Operational => Impact::None,
            ComponentStatus::UnderMaintenance => Impact::Maintenance,
            ComponentStatus::DegradedPerformance => Impact::Minor,
            ComponentStatus::PartialOutage => Impact::Major,
            ComponentStatus::MajorOutage => Impact::Critical,
        }
    }
}

/// A published incident or a scheduled maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An incident published from an internal one.
    Incident,
    /// Planned work.
    Maintenance,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Incident => "incident",
            EntryKind::Maintenance => "maintenance",
        }
    }
}

impl FromStr for EntryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "incident" => Ok(EntryKind::Incident),
            "maintenance" => Ok(EntryKind::Maintenance),
            other => Err(format!("unknown entry kind {other:?}")),
        }
    }
}

/// The status of an entry: an incident's or a maintenance's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntryStatus {
    /// A published incident's status.
    Incident(IncidentStatus),
    /// A maintenance's status.
    Maintenance(MaintenanceStatus),
}

impl EntryStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryStatus::Incident(s) => s.as_str(),
            EntryStatus::Maintenance(s) => s.as_str(),
        }
    }

    /// Words for people.
    pub fn label(&self) -> &'static str {
        match self {
            EntryStatus::Incident(s) => s.label(),
            EntryStatus::Maintenance(s) => s.label(),
        }
    }

    /// Parses a stored status for an entry of `kind`.
    pub fn parse(kind: EntryKind, text: &str) -> Result<Self, UnknownStatus> {
        Ok(match kind {
            EntryKind::Incident => EntryStatus::Incident(text.parse()?),
            EntryKind::Maintenance => EntryStatus::Maintenance(text.parse()?),
        })
    }

    /// Resolved or completed: the entry is history.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            EntryStatus::Incident(IncidentStatus::Resolved)
                | EntryStatus::Maintenance(MaintenanceStatus::Completed)
        )
    }
}

/// A component whose status an update changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedComponent {
    /// Component id.
    pub code: String,
    /// Status before.
    pub old_status: ComponentStatus,
    /// Status after.
    pub new_status: ComponentStatus,
}

/// One public update of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageUpdate {
    /// Public id.
    pub id: String,
    /// The entry's status as of this update.
    pub status: EntryStatus,
    /// What the public is told.
    pub body: String,
    /// When it was posted.
    pub created_at: Timestamp,
    /// Components this update changed.
    #[serde(default)]
    pub affected: Vec<AffectedComponent>,
    /// Who posted it (admin views only; never rendered publicly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// A published incident or a scheduled maintenance, with its updates (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    /// Public id (random; says nothing about the internal incident).
    pub id: String,
    /// Incident or maintenance.
    pub kind: EntryKind,
    /// The internal incident this was published from. Admin views only; never rendered on
    /// the public page, feed or JSON.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// Public title.
    pub name: String,
    /// Current public status.
    pub status: EntryStatus,
    /// How bad it is for users.
    pub impact: Impact,
    /// Ids of the components involved.
    #[serde(default)]
    pub components: Vec<String>,
    /// Published (or announced) at.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// First time it was `monitoring`.
    #[serde(default)]
    pub monitoring_at: Option<Timestamp>,
    /// When it was resolved or completed (cleared if it is reopened).
    #[serde(default)]
    pub resolved_at: Option<Timestamp>,
    /// Maintenance window start.
    #[serde(default)]
    pub scheduled_for: Option<Timestamp>,
    /// Maintenance window end.
    #[serde(default)]
    pub scheduled_until: Option<Timestamp>,
    /// Updates, newest first.
    #[serde(default)]
    pub updates: Vec<PageUpdate>,
}

impl PageEntry {
    /// Resolved or completed.
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// A maintenance whose work is under way (in progress or verifying).
    pub fn is_active_maintenance(&self) -> bool {
        matches!(
            self.status,
            EntryStatus::Maintenance(MaintenanceStatus::InProgress | MaintenanceStatus::Verifying)
        )
    }
}

/// A component's stored status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentState {
    /// Component (or group) id.
    pub id: String,
    /// Status as last set.
    pub status: ComponentStatus,
    /// First seen.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Who changed it last (`None` for a status nobody has set).
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A component as shown: its definition, and its status with maintenance taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownComponent<'c> {
    /// From config.
    pub def: &'c ComponentDef,
    /// Group it belongs to, if any.
    pub group: Option<&'c GroupDef>,
    /// Effective status.
    pub status: ComponentStatus,
    /// First seen.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Every configured component in config order with its effective status: the stored one, or
/// `under_maintenance` where an active maintenance lists an otherwise operational component.
/// A component without a stored row is operational since `fallback_time`.
pub fn shown_components<'c>(
    config: &'c StatusPageConfig,
    states: &[ComponentState],
    entries: &[PageEntry],
    fallback_time: Timestamp,
) -> Vec<ShownComponent<'c>> {
    config
        .components
        .iter()
        .map(|def| {
            let state = states.iter().find(|s| s.id == def.id);
            let mut status = state.map_or(ComponentStatus::Operational, |s| s.status);
            if status == ComponentStatus::Operational
                && entries
                    .iter()
                    .any(|e| e.is_active_maintenance() && e.components.contains(&def.id))
            {
                status = ComponentStatus::UnderMaintenance;
            }
            ShownComponent {
                def,
                group: def.group.as_deref().and_then(|g| config.group(g)),
                status,
                created_at: state.map_or(fallback_time, |s| s.created_at),
                updated_at: state.map_or(fallback_time, |s| s.updated_at),
            }
        })
        .collect()
}

/// The worst status among a group's components (operational for an empty group).
pub fn group_status(group: &GroupDef, shown: &[ShownComponent<'_>]) -> ComponentStatus {
    shown
        .iter()
        .filter(|c| c.def.group.as_deref() == Some(group.id.as_str()))
        .map(|c| c.status)
        .max()
        .unwrap_or(ComponentStatus::Operational)
}

/// The banner: an indicator (`none`, `minor`, `major`, `critical`) and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overall {
    /// `none`, `minor`, `major` or `critical`: what scripts should look at.
    pub indicator: &'static str,
    /// What people read.
    pub description: &'static str,
}

/// The page's overall status: the worst of the components' statuses and the impact of the
/// unresolved incidents. Maintenance alone keeps the indicator at `none` (it is planned) but
/// says so.
pub fn overall(shown: &[ShownComponent<'_>], entries: &[PageEntry]) -> Overall {
    let worst_component = shown
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(ComponentStatus::Operational);
    let worst_incident = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Incident && !e.is_finished())
        .map(|e| e.impact)
        .max()
        .unwrap_or(Impact::None);
    let impact = worst_component.impact().max(worst_incident);
    match impact {
        Impact::None => Overall {
            indicator: "none",
            description: "All Systems Operational",
        },
        Impact::Maintenance => Overall {
            indicator: "none",
            description: "Service Under Maintenance",
        },
        Impact::Minor => Overall {
            indicator: "minor",
            description: "Minor Service Outage",
        },
        Impact::Major => Overall {
            indicator: "major",
            description: if worst_component == ComponentStatus::PartialOutage {
                "Partial System Outage"
            } else {
                "Major Service Outage"
            },
        },
        Impact::Critical => Overall {
            indicator: "critical",
            description: "Major Service Outage",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_loosely_and_print_exactly() {
        assert_eq!(
            "Major outage".parse::<ComponentStatus>(),
            Ok(ComponentStatus::MajorOutage)
        );
        assert_eq!(
            "in-progress".parse::<MaintenanceStatus>(),
            Ok(MaintenanceStatus::InProgress)
        );
        let err = "down"
            .parse::<ComponentStatus>()
            .expect_err("refused")
            .to_string();
        assert!(err.contains("operational, under_maintenance"), "{err}");
        for s in ComponentStatus::ALL {
            assert_eq!(s.as_str().parse::<ComponentStatus>(), Ok(*s));
        }
    }

    #[test]
    fn worse_statuses_order_after_better_ones() {
        use ComponentStatus::*;
        let mut all = vec![MajorOutage, Operational, PartialOutage, DegradedPerformance];
        all.sort();
        assert_eq!(
            all,
            [Operational, DegradedPerformance, PartialOutage, MajorOutage]
        );
        assert!(UnderMaintenance < DegradedPerformance);
        assert!(Impact::Critical > Impact::Major && Impact::Minor > Impact::Maintenance);
    }
}

/// Everything the public renderings need, read once per request.
#[derive(Debug, Clone)]
pub struct Snapshot<'c> {
    /// The page's configuration.
    pub config: &'c StatusPageConfig,
    /// Components with effective statuses, in config order.
    pub components: Vec<ShownComponent<'c>>,
    /// Public entries (never restricted ones), newest first.
    pub entries: Vec<PageEntry>,
    /// When the request is answered: decides which maintenances are upcoming and which
    /// incidents are recent.
    pub now: Timestamp,
}

impl<'c> Snapshot<'c> {
    /// Builds the view from stored state.
    pub fn new(
        config: &'c StatusPageConfig,
        states: &[ComponentState],
        entries: Vec<PageEntry>,
        now: Timestamp,
    ) -> Self {
        let components = shown_components(config, states, &entries, Timestamp::UNIX_EPOCH);
        Self {
            config,
            components,
            entries,
            now,
        }
    }

    /// The latest change anywhere on the page (not the request time, so that an unchanged
    /// page renders to the same bytes and keeps its ETag).
    pub fn updated_at(&self) -> Timestamp {
        self.components
            .iter()
            .map(|c| c.updated_at)
            .chain(self.entries.iter().map(|e| e.updated_at))
            .max()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The banner.
    pub fn overall(&self) -> Overall {
        overall(&self.components, &self.entries)
    }

    /// Published incidents, newest first.
    pub fn incidents(&self) -> impl Iterator<Item = &PageEntry> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Incident)
    }

    /// Incidents not yet resolved, newest first.
    pub fn unresolved_incidents(&self) -> impl Iterator<Item = &PageEntry> {
        self.incidents().filter(|e| !e.is_finished())
    }

    /// Maintenances, newest first.
    pub fn maintenances(&self) -> impl Iterator<Item = &PageEntry> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Maintenance)
    }

    /// Maintenances announced and not started.
    pub fn upcoming_maintenances(&self) -> impl Iterator<Item = &PageEntry> {
        self.maintenances()
            .filter(|e| e.status == EntryStatus::Maintenance(MaintenanceStatus::Scheduled))
    }

    /// Maintenances under way.
    pub fn active_maintenances(&self) -> impl Iterator<Item = &PageEntry> {
        self.maintenances().filter(|e| e.is_active_maintenance())
    }

    /// Resolved incidents and completed maintenances finished within [`RECENT_DAYS`].
    pub fn recent_history(&self) -> impl Iterator<Item = &PageEntry> {
        let cutoff = self
            .now
            .checked_sub(jiff::SignedDuration::from_hours(24 * RECENT_DAYS))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        self.entries
            .iter()
            .filter(move |e| e.is_finished() && e.resolved_at.is_some_and(|t| t >= cutoff))
    }

    /// Time as the JSON API writes it: ISO 8601 in the page's zone, milliseconds, offset.
    pub fn json_time(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.config.tz())
            .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string()
    }

    /// Time for people, in the page's zone: "Nov 22, 14:05 UTC".
    pub fn human_time(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.config.tz())
            .strftime("%b %-d, %Y %H:%M %Z")
            .to_string()
    }

    /// A component's or group's name for an id (the id itself if it is no longer configured).
    pub fn component_name(&self, id: &str) -> String {
        self.config
            .component(id)
            .map(|c| c.name.clone())
            .or_else(|| self.config.group(id).map(|g| g.name.clone()))
            .unwrap_or_else(|| id.to_string())
    }

    /// The entry's own page (`/status/incidents/ID` below the configured address).
    pub fn entry_url(&self, entry: &PageEntry) -> String {
        let base = if self.config.base_url().is_empty() {
            "/status"
        } else {
            self.config.base_url()
        };
        format!("{base}/incidents/{}", entry.id)
    }
}
