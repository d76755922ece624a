//! The built-in page templates, embedded and rendered with HTML autoescaping on, so anything
//! from the database (titles, notes, names) is escaped unless a template says otherwise.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, Value, context};

use super::UiError;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("oncall.html", include_str!("templates/oncall.html")),
    ("calendar.html", include_str!("templates/calendar.html")),
    ("triage.html", include_str!("templates/triage.html")),
    ("postmortem.html", include_str!("templates/postmortem.html")),
    ("incident.html", include_str!("templates/incident.html")),
    ("error.html", include_str!("templates/error.html")),
    ("reports.html", include_str!("templates/reports.html")),
    ("account.html", include_str!("templates/account.html")),
];

/// The environment, or why a built-in template failed to parse (a bug the unit test catches).
static ENV: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // Pages are small; fuel bounds a template bug that would loop.
    env.set_fuel(Some(1_000_000));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
});

/// Who is logged in, for the page header and the logout form.
pub struct Viewer<'a> {
    /// Login name.
    pub name: &'a str,
    /// Role name.
    pub role: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

fn failed(e: impl std::fmt::Display) -> UiError {
    tracing::error!(error = %e, "rendering a UI page failed");
    UiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        message: "internal error; see the server log".into(),
    }
}

/// Renders `name` with `ctx` inside the common layout.
pub fn render_page(
    name: &str,
    title: &str,
    viewer: Option<&Viewer<'_>>,
    ctx: Value,
) -> Result<String, UiError> {
    let env = ENV.as_ref().map_err(failed)?;
    let body = env
        .get_template(name)
        .and_then(|t| t.render(&ctx))
        .map_err(failed)?;
    env.get_template("layout.html")
        .and_then(|t| {
            t.render(context! {
                title => title,
                user => viewer.map(|v| context! { name => v.name, role => v.role, csrf => v.csrf }),
                // Already escaped by its own template.
                body => Value::from_safe_string(body),
            })
        })
        .map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes() {
        let env = ENV.as_ref().expect("templates parse");
        assert_eq!(env.templates().count(), TEMPLATES.len());
        let html = render_page(
            "error.html",
            "<t>",
            None,
            context! { status => 400, reason => "Bad", message => "<script>x</script>" },
        )
        .expect("renders");
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("<title>&lt;t&gt;"), "{html}");
    }
}
