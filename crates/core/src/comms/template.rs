//! Message templates: what they are in config, how they are checked, and how a draft is
//! rendered from an incident's context.
//!
//! Templates are MiniJinja text (never HTML: no escaping), rendered in strict mode so a
//! misspelt variable is an error rather than a silently empty sentence in a letter to a
//! regulator. Rendering is bounded by fuel, so a template with a runaway loop fails instead of
//! hanging the server.

use std::fmt;

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// Who a message is for. `internal` updates reset the severity's update cadence.
pub const AUDIENCES: &[&str] = &[
    "internal",
    "executives",
    "customers",
    "regulators",
    "affected-people",
    "public",
];

/// Instructions one render may spend: ample for any message, small enough that a template
/// that loops over itself fails in milliseconds.
const FUEL: u64 = 200_000;

/// Most bytes one part of a draft (subject or body) may render to. Fuel alone does not bound
/// the output: a loop of 400 steps that each print 1 KB spent little fuel and printed 400 KB.
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;

/// Collects rendered text and fails the render as soon as it would pass [`MAX_OUTPUT_BYTES`].
#[derive(Default)]
struct Bounded {
    out: Vec<u8>,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.over = true;
            return Err(std::io::Error::other("draft too long"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A message template from config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    /// Id used on the command line, e.g. `customer-investigating`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Who it is for (one of [`AUDIENCES`]).
    pub audience: String,
    /// When to use it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Subject line (email subject, first line elsewhere); a template itself.
    pub subject: String,
    /// The message text.
    pub body: String,
}

/// Which part of a template failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The subject line.
    Subject,
    /// The body.
    Body,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Subject => "subject",
            Part::Body => "body",
        })
    }
}

/// A template that does not compile or render, located by template, part and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("template {template}, {part} line {line}: {message}")]
pub struct TemplateError {
    /// Template id.
    pub template: String,
    /// Subject or body.
    pub part: Part,
    /// Line within that part, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A rendered message, ready to edit or send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Template it came from.
    pub template: String,
    /// Who it is for.
    pub audience: String,
    /// Subject line.
    pub subject: String,
    /// Text.
    pub body: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Block tags on their own lines leave no blank lines behind.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env
}

fn located(template: &str, part: Part, err: &minijinja::Error) -> TemplateError {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message = format!("{message}: {detail}");
    }
    TemplateError {
        template: template.to_string(),
        part,
        line: err.line().unwrap_or(1),
        message,
    }
}

impl MessageTemplate {
    fn parts(&self) -> [(Part, &str); 2] {
        [(Part::Subject, &self.subject), (Part::Body, &self.body)]
    }

    /// Checks that both parts parse; config loading reports the first problem of each.
    pub fn check_syntax(&self) -> Vec<TemplateError> {
        let env = environment();
        self.parts()
            .into_iter()
            .filter_map(|(part, source)| {
                env.template_from_str(source)
                    .err()
                    .map(|e| located(&self.id, part, &e))
            })
            .collect()
    }

    /// Renders the draft for `context` (see [`super::context`]).
    pub fn render(&self, context: &serde_json::Value) -> Result<Draft, TemplateError> {
        let env = environment();
        let context = minijinja::Value::from(minijinja::value::Serde(context));
        let mut out = [String::new(), String::new()];
        for (slot, (part, source)) in out.iter_mut().zip(self.parts()) {
            let template = env
                .template_from_str(source)
                .map_err(|e| located(&self.id, part, &e))?;
            let mut sink = Bounded::default();
            if let Err(e) = template.render_captured_to(context.clone(), &mut sink) {
                if sink.over {
                    return Err(TemplateError {
                        template: self.id.clone(),
                        part,
                        line: e.line().unwrap_or(1),
                        message: format!(
                            "renders to more than {} KiB (a runaway loop or repetition?)",
                            MAX_OUTPUT_BYTES / 1024
                        ),
                    });
                }
                return Err(located(&self.id, part, &e));
            }
            // MiniJinja writes whole `str`s, so the bytes are UTF-8.
            *slot = String::from_utf8_lossy(&sink.out).into_owned();
        }
        let [subject, body] = out;
        Ok(Draft {
            template: self.id.clone(),
            audience: self.audience.clone(),
            // A subject is one line whatever the template's whitespace did.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            body: tidy(&body),
        })
    }
}

/// Trailing spaces off every line, at most one blank line in a row, one final newline: the
/// conditionals of a template leave gaps that should not reach a reader.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim_matches('\n').lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(subject: &str, body: &str) -> MessageTemplate {
        MessageTemplate {
            id: "t".into(),
            name: "T".into(),
            audience: "internal".into(),
            description: String::new(),
            subject: subject.into(),
            body: body.into(),
        }
    }

    #[test]
    fn renders_subject_on_one_line_and_tidies_the_body() {
        let t = template(
            "{{ incident.id }}\n  {{ incident.title }}",
            "Hello\n\n\n{% if incident.x %}x{% endif %}\n\nBye   \n",
        );
        let d = t
            .render(&json!({"incident": {"id": "INC-1", "title": "Down", "x": false}}))
            .expect("renders");
        assert_eq!(d.subject, "INC-1 Down");
        assert_eq!(d.body, "Hello\n\nBye\n");
    }

    #[test]
    fn undefined_variables_are_errors_with_their_line() {
        let t = template("s", "line one\n{{ incident.nope }}\n");
        let err = t
            .render(&json!({"incident": {"id": "INC-1"}}))
            .expect_err("strict");
        assert_eq!((err.part, err.line), (Part::Body, 2));
        assert!(
            err.to_string().starts_with("template t, body line 2:"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_found_without_a_context() {
        let t = template("{{ broken", "ok\n\n{% if %}\n");
        let errs = t.check_syntax();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].part, Part::Subject);
        assert_eq!((errs[1].part, errs[1].line), (Part::Body, 3));
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let t = template(
            "s",
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
        );
        let err = t.render(&json!({})).expect_err("fuel");
        assert!(err.message.contains("fuel"), "{err}");
    }

    #[test]
    fn output_is_bounded_when_fuel_is_not_spent() {
        // Found while writing the template fuzz target: 400 cheap steps printed 400 KB within
        // the fuel.
        // (No expect_err: its message would print the 400 KB draft.)
        let Err(err) = template("s", "{% for i in range(400) %}{{ 'y' * 1000 }}{% endfor %}")
            .render(&json!({}))
        else {
            panic!("a 400 KB body rendered");
        };
        assert_eq!(err.part, Part::Body);
        assert!(err.message.contains("more than 256 KiB"), "{err}");
        let Err(err) = template("{% for i in range(300) %}{{ 'z' * 1000 }}{% endfor %}", "b")
            .render(&json!({}))
        else {
            panic!("a 300 KB subject rendered");
        };
        assert_eq!(err.part, Part::Subject);
        // One huge repetition is refused too (by the fuel it would cost).
        assert!(
            template("s", "{{ 'x' * 100000000 }}")
                .render(&json!({}))
                .is_err()
        );
        // Just under the bound still renders.
        let ok = template("s", "{% for i in range(200) %}{{ 'x' * 1000 }}{% endfor %}")
            .render(&json!({}))
            .expect("fits");
        assert_eq!(ok.body.len(), 200_001);
    }
}
