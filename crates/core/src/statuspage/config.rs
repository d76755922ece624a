//! The `status_page:` config section: the page's title and address, and its components.

use serde::{Deserialize, Serialize};

use crate::schedule::TimeZoneName;

/// The public status page, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPageConfig {
    /// Page id in the JSON API's `page` object.
    #[serde(default = "default_id")]
    pub id: String,
    /// Page title, shown as the heading and in the feed.
    pub title: String,
    /// Public address of the HTML page (e.g. `https://status.example.com/status`); links in
    /// the feed and the JSON are built from it. Empty: links are relative to this server.
    #[serde(default)]
    pub url: String,
    /// IANA time zone the page shows times in (the JSON always carries the offset). Kept as
    /// written so a bad name is reported at its own line by [`StatusPageConfig::problems`].
    #[serde(default = "default_zone")]
    pub time_zone: String,
    /// Component groups, in display order.
    #[serde(default)]
    pub groups: Vec<GroupDef>,
    /// Components, in display order; each may belong to a group.
    #[serde(default)]
    pub components: Vec<ComponentDef>,
}

fn default_zone() -> String {
    "UTC".into()
}

fn default_id() -> String {
    "status".into()
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        Self {
            id: default_id(),
            title: "Status".into(),
            url: String::new(),
            time_zone: default_zone(),
            groups: Vec::new(),
            components: Vec::new(),
        }
    }
}

/// A group of components, shown under one heading with the worst status of its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    /// Id (shares one namespace with component ids).
    pub id: String,
    /// Heading.
    pub name: String,
    /// One line for the public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A component the public can see the status of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    /// Id, used in commands and in the JSON (`code` of affected components).
    pub id: String,
    /// Name shown.
    pub name: String,
    /// One line for the public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl StatusPageConfig {
    /// The component with this id.
    pub fn component(&self, id: &str) -> Option<&ComponentDef> {
        self.components.iter().find(|c| c.id == id)
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&GroupDef> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The page's time zone (UTC if the name is unknown, which a loaded config never has).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        TimeZoneName::new(&self.time_zone).map_or(jiff::tz::TimeZone::UTC, |z| z.tz().clone())
    }

    /// `url` without a trailing slash ("" when not configured).
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// Every problem with the section, as (path below `status_page`, message). Used by the
    /// config loader, which adds file and line.
    pub fn problems(&self) -> Vec<(Vec<PathSeg>, String)> {
        let mut out = Vec::new();
        if let Err(why) = crate::config::check_id(&self.id) {
            out.push((vec![PathSeg::Key("id")], why));
        }
        if self.title.trim().is_empty() {
            out.push((
                vec![PathSeg::Key("title")],
                "title must not be empty".into(),
            ));
        }
        let web = self.url.starts_with("https://") || self.url.starts_with("http://");
        if !self.url.is_empty() && !web {
            out.push((
                vec![PathSeg::Key("url")],
                format!("url {:?} must start with http:// or https://", self.url),
            ));
        }
        if let Err(why) = TimeZoneName::new(&self.time_zone) {
            out.push((vec![PathSeg::Key("time_zone")], why));
        }
        let mut seen = std::collections::HashSet::new();
        let ids = self
            .groups
            .iter()
            .map(|g| ("groups", &g.id, &g.name))
            .chain(
                self.components
                    .iter()
                    .map(|c| ("components", &c.id, &c.name)),
            );
        let mut index = std::collections::HashMap::<&str, usize>::new();
        for (section, id, name) in ids {
            let i = *index.entry(section).and_modify(|i| *i += 1).or_insert(0);
            if let Err(why) = crate::config::check_id(id) {
                out.push((
                    vec![PathSeg::Key(section), PathSeg::Index(i), PathSeg::Key("id")],
                    why,
                ));
            } else if !seen.insert(id.clone()) {
                out.push((
                    vec![PathSeg::Key(section), PathSeg::Index(i), PathSeg::Key("id")],
                    format!("duplicate id {id:?}: groups and components share one set of ids"),
                ));
            }
            if name.trim().is_empty() {
                out.push((
                    vec![
                        PathSeg::Key(section),
                        PathSeg::Index(i),
                        PathSeg::Key("name"),
                    ],
                    "name must not be empty".into(),
                ));
            }
        }
        for (i, c) in self.components.iter().enumerate() {
            if let Some(group) = &c.group
                && self.group(group).is_none()
            {
                out.push((
                    vec![
                        PathSeg::Key("components"),
                        PathSeg::Index(i),
                        PathSeg::Key("group"),
                    ],
                    format!("unknown group {group:?}: declare it under `status_page.groups`"),
                ));
            }
        }
        out
    }
}

/// One step of a path inside the section (mirrors the config locator's segments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSeg {
    /// A mapping key.
    Key(&'static str),
    /// A list position.
    Index(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> StatusPageConfig {
        yaml_serde::from_str(text).expect("parses")
    }

    #[test]
    fn every_problem_is_named() {
        let config = parse(
            "title: ' '\nurl: status.example.com\ngroups:\n  - {id: core, name: Core}\ncomponents:\n  - {id: core, name: API}\n  - {id: web, name: '', group: edge}\n",
        );
        let messages: Vec<String> = config.problems().into_iter().map(|(_, m)| m).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(messages[0].contains("title"));
        assert!(messages[1].contains("http://"));
        assert!(messages[2].contains("duplicate id \"core\""));
        assert!(messages[3].contains("name must not be empty"));
        assert!(messages[4].contains("unknown group \"edge\""));
    }
}
