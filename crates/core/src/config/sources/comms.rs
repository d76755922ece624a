//! Checking the `message_templates` and `comms` sections.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Validator, check_id};
use crate::comms::deadline::{DECLARED, MOMENTS};
use crate::comms::template::Part;
use crate::comms::{
    AUDIENCES, CommsConfig, DeadlineRule, MessageTemplate, NamedChannel, Organisation,
};
use crate::config::locate::{Seg, locate};
use crate::people::ContactKind;

/// The `comms` section as written: each part is optional, so a team can add channels and keep
/// the built-in clocks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CommsText {
    #[serde(default)]
    organisation: Option<Organisation>,
    #[serde(default)]
    channels: Option<Vec<NamedChannel>>,
    #[serde(default)]
    deadlines: Option<Vec<DeadlineRule>>,
}

/// A template with where it was written: (file, position in that file's list, template).
pub(super) type PlacedTemplate = (usize, usize, MessageTemplate);

impl Validator<'_> {
    /// The built-in templates, each replaced by a team's template of the same id, then the
    /// team's others. Every template the team wrote is checked; built-in ones are checked by
    /// a unit test.
    pub(super) fn message_templates(
        &mut self,
        user: Vec<PlacedTemplate>,
        builtin: Vec<PlacedTemplate>,
    ) -> Vec<MessageTemplate> {
        let mut seen = HashSet::new();
        for (file, i, t) in &user {
            let at = |key| [Seg::Key("message_templates"), Seg::Index(*i), Seg::Key(key)];
            if let Err(why) = check_id(&t.id) {
                self.report(*file, &at("id"), why);
            } else if !seen.insert(t.id.clone()) {
                self.report(
                    *file,
                    &at("id"),
                    format!("duplicate template id {:?}", t.id),
                );
            }
            if t.name.trim().is_empty() {
                self.report(*file, &at("name"), "name must not be empty".into());
            }
            if !AUDIENCES.contains(&t.audience.as_str()) {
                self.report(
                    *file,
                    &at("audience"),
                    format!(
                        "unknown audience {:?}; expected one of {}",
                        t.audience,
                        AUDIENCES.join(", ")
                    ),
                );
            }
            for err in t.check_syntax() {
                let key = match err.part {
                    Part::Subject => "subject",
                    Part::Body => "body",
                };
                self.report_in_text(*file, &at(key), err.line, err.to_string());
            }
        }
        let mut out: Vec<MessageTemplate> = builtin
            .into_iter()
            .map(|(_, _, t)| t)
            .filter(|t| !seen.contains(&t.id))
            .collect();
        out.extend(user.into_iter().map(|(_, _, t)| t));
        out
    }

    /// The comms section: the team's parts, the built-in ones for parts it leaves out.
    pub(super) fn comms(
        &mut self,
        user: Option<(usize, CommsText)>,
        builtin: Option<(usize, CommsText)>,
        incident_types: &[String],
        templates: &[MessageTemplate],
    ) -> CommsConfig {
        let (user_file, user) = match user {
            Some((f, t)) => (Some(f), t),
            None => (None, CommsText::default()),
        };
        let (builtin_file, builtin) = match builtin {
            Some((f, t)) => (Some(f), t),
            None => (None, CommsText::default()),
        };
        let organisation = user
            .organisation
            .or(builtin.organisation)
            .unwrap_or_default();
        let channels = match (user.channels, user_file) {
            (Some(c), Some(file)) => Some((file, c)),
            _ => builtin.channels.zip(builtin_file).map(|(c, f)| (f, c)),
        };
        let deadlines = match (user.deadlines, user_file) {
            (Some(d), Some(file)) => Some((file, d)),
            _ => builtin.deadlines.zip(builtin_file).map(|(d, f)| (f, d)),
        };
        let channels = channels
            .map(|(file, c)| self.channels(file, c))
            .unwrap_or_default();
        let deadlines = deadlines
            .map(|(file, d)| self.deadlines(file, d, incident_types, templates))
            .unwrap_or_default();
        CommsConfig {
            organisation,
            channels,
            deadlines,
        }
    }

    fn channels(&mut self, file: usize, channels: Vec<NamedChannel>) -> Vec<NamedChannel> {
        let mut seen = HashSet::new();
        for (i, c) in channels.iter().enumerate() {
            let at = |key| {
                [
                    Seg::Key("comms"),
                    Seg::Key("channels"),
                    Seg::Index(i),
                    Seg::Key(key),
                ]
            };
            if let Err(why) = check_id(&c.id) {
                self.report(file, &at("id"), why);
            } else if !seen.insert(c.id.clone()) {
                self.report(file, &at("id"), format!("duplicate channel id {:?}", c.id));
            }
            if c.kind == ContactKind::Phone {
                self.report(
                    file,
                    &at("type"),
                    "a channel must be email, slack or webhook: a phone number cannot receive messages".into(),
                );
            } else if let Err(why) = c.kind.check_address(&c.address) {
                self.report(file, &at("address"), why);
            }
            for (a, audience) in c.audiences.iter().enumerate() {
                if !AUDIENCES.contains(&audience.as_str()) {
                    self.report(
                        file,
                        &[
                            Seg::Key("comms"),
                            Seg::Key("channels"),
                            Seg::Index(i),
                            Seg::Key("audiences"),
                            Seg::Index(a),
                        ],
                        format!(
                            "unknown audience {audience:?}; expected one of {}",
                            AUDIENCES.join(", ")
                        ),
                    );
                }
            }
        }
        channels
    }

    fn deadlines(
        &mut self,
        file: usize,
        rules: Vec<DeadlineRule>,
        incident_types: &[String],
        templates: &[MessageTemplate],
    ) -> Vec<DeadlineRule> {
        let mut seen = HashSet::new();
        for (i, r) in rules.iter().enumerate() {
            let path = |rest: &[Seg<'static>]| {
                let mut p = vec![Seg::Key("comms"), Seg::Key("deadlines"), Seg::Index(i)];
                p.extend_from_slice(rest);
                p
            };
            if let Err(why) = check_id(&r.id) {
                self.report(file, &path(&[Seg::Key("id")]), why);
            } else if !seen.insert(r.id.clone()) {
                self.report(
                    file,
                    &path(&[Seg::Key("id")]),
                    format!("duplicate deadline id {:?}", r.id),
                );
            }
            if r.starts_at != DECLARED && !MOMENTS.contains(&r.starts_at.as_str()) {
                self.report(
                    file,
                    &path(&[Seg::Key("starts_at")]),
                    format!(
                        "unknown moment {:?}; expected {DECLARED} or one of {}",
                        r.starts_at,
                        MOMENTS.join(", ")
                    ),
                );
            }
            if !AUDIENCES.contains(&r.audience.as_str()) {
                self.report(
                    file,
                    &path(&[Seg::Key("audience")]),
                    format!(
                        "unknown audience {:?}; expected one of {}",
                        r.audience,
                        AUDIENCES.join(", ")
                    ),
                );
            }
            if r.within.is_none() && r.guidance.trim().is_empty() {
                self.report(
                    file,
                    &path(&[Seg::Key("within")]),
                    "give `within` (e.g. 72h, 4 business days, 1 month) or, for a duty without a fixed time, `guidance`".into(),
                );
            }
            if r.remind_before.is_some() && r.within.is_none() {
                self.report(
                    file,
                    &path(&[Seg::Key("remind_before")]),
                    "`remind_before` needs `within`".into(),
                );
            }
            for (t, ty) in r.when.types.iter().enumerate() {
                if !incident_types.contains(ty) {
                    self.report(
                        file,
                        &path(&[Seg::Key("when"), Seg::Key("types"), Seg::Index(t)]),
                        format!("unknown incident type {ty:?}"),
                    );
                }
            }
            for (t, id) in r.templates.iter().enumerate() {
                match templates.iter().find(|x| &x.id == id) {
                    None => self.report(
                        file,
                        &path(&[Seg::Key("templates"), Seg::Index(t)]),
                        format!("unknown template {id:?}"),
                    ),
                    Some(x) if x.audience != r.audience => self.report(
                        file,
                        &path(&[Seg::Key("templates"), Seg::Index(t)]),
                        format!(
                            "template {id:?} is for {}, not {}, so it could never meet this deadline",
                            x.audience, r.audience
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        rules
    }

    /// Reports a problem on line `line` (from 1) of a multi-line value at `path`: a block
    /// scalar (`|` or `>`) starts on the line after its key; anything else is on the key's
    /// own line.
    fn report_in_text(&mut self, file: usize, path: &[Seg<'_>], line: usize, message: String) {
        let source = self.files[file];
        let (key_line, column) = locate(&source.text, path);
        let block = source
            .text
            .lines()
            .nth(key_line.saturating_sub(1))
            .and_then(|l| l.split_once(':').map(|(_, v)| v.trim_start()))
            .is_some_and(|v| v.starts_with('|') || v.starts_with('>'));
        let (line, column) = if block {
            (key_line + line, 1)
        } else {
            (key_line, column)
        };
        self.problems.push(super::ConfigProblem {
            file: source.name.clone(),
            line,
            column,
            message,
        });
    }
}
