//! The typed sections of a config file.

use serde::{Deserialize, Serialize};

use crate::duration::{Duration, Target};

/// One level of the severity scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severity {
    /// Short id used everywhere (`P0`, `SEV1`...).
    pub id: String,
    /// Name (`Critical`).
    pub name: String,
    /// When to use this level.
    #[serde(default)]
    pub description: String,
    /// Typical situations at this level, to help whoever declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Response target: time to acknowledge.
    pub acknowledge_within: Target,
    /// How often stakeholders get an update while it is open.
    pub update_every: Target,
    /// Recovery time objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto: Option<Duration>,
    /// Whether declaring at this level pages the on-call person.
    #[serde(default)]
    pub pages: bool,
}

/// An incident role a person can hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    /// Id used in commands (`incident-commander`).
    pub id: String,
    /// Name (`Incident commander`).
    pub name: String,
    /// What the role is responsible for.
    #[serde(default)]
    pub description: String,
}

/// A kind of incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentTypeDef {
    /// Id used in commands (`security-breach`).
    pub id: String,
    /// Name.
    pub name: String,
    /// When to use it.
    #[serde(default)]
    pub description: String,
}

/// A service incidents can be filed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Id used in commands (`auth`).
    pub id: String,
    /// Name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Owning team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Escalation policy for incidents on this service (else the `default` policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_policy: Option<String>,
}

/// A severity level as written in a file: durations still text, so that a bad one can be
/// reported at its own line rather than at the start of the entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeverityText {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub examples: Vec<String>,
    pub acknowledge_within: String,
    pub update_every: String,
    #[serde(default)]
    pub rto: Option<String>,
    #[serde(default)]
    pub pages: bool,
}

/// A yes/no triage question and what a "yes" does to the suggested severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageQuestion {
    /// Stable key used by `--answer key=yes` and the API.
    pub key: String,
    /// The question as asked.
    pub question: String,
    /// Extra guidance shown with the question.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    /// Effect of answering yes.
    pub if_yes: TriageEffect,
}

/// What a "yes" does: suggest at least a severity, or move the suggestion by levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageEffect {
    /// Suggest at least this severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Suggest at least the severity at this position of the scheme (0 = most severe; past the
    /// end means the least severe). Lets the built-in questions fit any scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// Move the suggestion by this many levels: +1 is one level less severe, -1 one more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<i32>,
}

/// A person as written in a file: the time zone still text, so that a bad one is reported at
/// its own line and the other people are still checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonText {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    #[serde(default)]
    pub contact_methods: Vec<crate::people::ContactMethod>,
    #[serde(default)]
    pub notification_rules: Vec<crate::people::NotificationRule>,
}

/// A schedule as written in a file: times, dates, durations and days still text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleText {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    #[serde(default)]
    pub layers: Vec<LayerText>,
}

/// A schedule layer as written in a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LayerText {
    pub id: String,
    pub rotation: RotationText,
    #[serde(default)]
    pub restrictions: Vec<RestrictionText>,
}

/// The working calendar as written in a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BusinessHoursText {
    pub time_zone: String,
    #[serde(default)]
    pub days: Option<Vec<String>>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A rotation as written in a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotationText {
    #[serde(rename = "type")]
    pub kind: crate::schedule::RotationKind,
    #[serde(default)]
    pub length: Option<String>,
    #[serde(default)]
    pub handoff: Option<String>,
    pub start: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A restriction window as written in a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestrictionText {
    #[serde(default)]
    pub days: Vec<String>,
    pub from: String,
    pub to: String,
}

/// The `alerts:` policy as written in a file: choices still text, so that an unknown value is
/// reported at its own line and the rest is still checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsText {
    /// Alert severity name -> incident severity id; may list only some.
    #[serde(default)]
    pub severity_map: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub on_all_resolved: Option<String>,
    #[serde(default)]
    pub open_incidents: Option<bool>,
}
