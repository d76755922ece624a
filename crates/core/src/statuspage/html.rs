//! The status page as one server-rendered HTML document: no JavaScript, no inline styles (the
//! stylesheet is a separate route, so the page can be served with a strict CSP), readable on a
//! 360 px phone, and every status written in words, not only shown as a colour.
//!
//! Every piece of text that comes from config or from a publisher goes through [`escape`].

use std::fmt::Write as _;

use super::{EntryKind, GroupDef, PageEntry, ShownComponent, Snapshot, group_status};

/// Where the page is served.
pub const PAGE_PATH: &str = "/status";
/// Where the stylesheet and the feed are served, relative to the server.
pub const STYLESHEET_PATH: &str = "/status/style.css";
/// The Atom feed's path.
pub const FEED_PATH: &str = "/status/history.atom";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The stylesheet. Status colours are a second channel; the words are always there too.
pub const STYLESHEET: &str = "\
:root{--ok:#1a7f37;--minor:#9a6700;--major:#bc4c00;--critical:#cf222e;--maint:#0969da;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}
body{margin:0 auto;max-width:46rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);background:#fff}
h1{font-size:1.5rem;margin:.5rem 0 1rem}\nh1 a{color:inherit;text-decoration:none}
h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
h3{font-size:1rem;margin:0}
.banner{padding:.75rem 1rem;border-radius:.5rem;color:#fff;font-weight:600;background:var(--ok)}
.banner.minor{background:var(--minor)}.banner.major{background:var(--major)}.banner.critical{background:var(--critical)}.banner.maintenance{background:var(--maint)}
ul.components{list-style:none;padding:0;margin:0}
ul.components li{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
ul.components ul.components{flex-basis:100%;padding-left:1rem}
.status{font-weight:600}
.status.operational{color:var(--ok)}.status.degraded_performance{color:var(--minor)}.status.partial_outage{color:var(--major)}.status.major_outage{color:var(--critical)}.status.under_maintenance{color:var(--maint)}
.description{flex-basis:100%;color:var(--muted);font-size:.9rem;margin:0}
article{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
ol.updates{list-style:none;padding:0;margin:.5rem 0 0}
ol.updates li{margin:.5rem 0}
ol.updates p{margin:0;overflow-wrap:anywhere}
time,.meta{color:var(--muted);font-size:.875rem}
footer{margin-top:2rem;color:var(--muted);font-size:.875rem}
a{color:#0969da}
";

fn banner_class(indicator: &str, maintenance: bool) -> &'static str {
    match indicator {
        "minor" => "minor",
        "major" => "major",
        "critical" => "critical",
        _ if maintenance => "maintenance",
        _ => "ok",
    }
}

fn time_tag(s: &Snapshot<'_>, at: jiff::Timestamp) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        escape(&s.json_time(at)),
        escape(&s.human_time(at))
    )
}

fn component_item(out: &mut String, c: &ShownComponent<'_>) {
    let _ = write!(
        out,
        "<li><span>{}</span> <span class=\"status {}\">{}</span>",
        escape(&c.def.name),
        c.status.as_str(),
        c.status.label()
    );
    if let Some(d) = &c.def.description {
        let _ = write!(out, "<p class=\"description\">{}</p>", escape(d));
    }
    out.push_str("</li>\n");
}

fn group_item(out: &mut String, s: &Snapshot<'_>, g: &GroupDef) {
    let status = group_status(g, &s.components);
    let _ = write!(
        out,
        "<li><h3>{}</h3> <span class=\"status {}\">{}</span>",
        escape(&g.name),
        status.as_str(),
        status.label()
    );
    if let Some(d) = &g.description {
        let _ = write!(out, "<p class=\"description\">{}</p>", escape(d));
    }
    out.push_str("\n<ul class=\"components\">\n");
    for c in s
        .components
        .iter()
        .filter(|c| c.group.is_some_and(|x| x.id == g.id))
    {
        component_item(out, c);
    }
    out.push_str("</ul></li>\n");
}

fn entry_article(out: &mut String, s: &Snapshot<'_>, e: &PageEntry) {
    let _ = write!(
        out,
        "<article id=\"{}\">\n<h3><a href=\"{PAGE_PATH}/incidents/{}\">{}</a></h3>\n<p class=\"meta\">",
        escape(&e.id),
        escape(&e.id),
        escape(&e.name)
    );
    if e.kind == EntryKind::Maintenance
        && let (Some(from), Some(until)) = (e.scheduled_for, e.scheduled_until)
    {
        let _ = write!(
            out,
            "Scheduled {} to {}. ",
            time_tag(s, from),
            time_tag(s, until)
        );
    }
    let _ = write!(out, "Status: <strong>{}</strong>", e.status.label());
    if !e.components.is_empty() {
        let names: Vec<String> = e
            .components
            .iter()
            .map(|c| escape(&s.component_name(c)))
            .collect();
        let _ = write!(out, ". Affects: {}", names.join(", "));
    }
    out.push_str("</p>\n<ol class=\"updates\">\n");
    for u in &e.updates {
        let _ = writeln!(
            out,
            "<li><p><strong>{}</strong> – {}</p>{}</li>",
            u.status.label(),
            escape(&u.body),
            time_tag(s, u.created_at)
        );
    }
    out.push_str("</ol>\n</article>\n");
}

fn head(out: &mut String, s: &Snapshot<'_>, page_title: &str) {
    let title = escape(&s.config.title);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"{title} history\" href=\"{FEED_PATH}\">\n\
         </head>\n<body>\n<header><h1><a href=\"{PAGE_PATH}\">{title}</a></h1></header>\n<main>\n",
        escape(page_title)
    );
}

fn foot(out: &mut String, s: &Snapshot<'_>) {
    let _ = write!(
        out,
        "</main>\n<footer><p>Last updated {}. \
         <a href=\"{FEED_PATH}\">Atom feed</a> · <a href=\"/api/v2/summary.json\">JSON</a></p></footer>\n\
         </body>\n</html>\n",
        time_tag(s, s.updated_at())
    );
}

/// One incident's or maintenance's own page: every public update.
pub fn render_entry(s: &Snapshot<'_>, e: &PageEntry) -> String {
    let mut out = String::with_capacity(4096);
    head(&mut out, s, &format!("{} - {}", e.name, s.config.title));
    out.push_str("<section>\n");
    entry_article(&mut out, s, e);
    let _ = writeln!(
        out,
        "<p><a href=\"{PAGE_PATH}\">Current status</a></p>\n</section>"
    );
    foot(&mut out, s);
    out
}

/// The whole page.
pub fn render(s: &Snapshot<'_>) -> String {
    let overall = s.overall();
    let maintenance_now = s.active_maintenances().next().is_some();
    let mut out = String::with_capacity(8192);
    head(&mut out, s, &s.config.title);
    let _ = writeln!(
        out,
        "<section class=\"banner {}\" aria-label=\"Overall status\"><p>{}</p></section>",
        banner_class(overall.indicator, maintenance_now),
        overall.description
    );
    let active: Vec<&PageEntry> = s.unresolved_incidents().collect();
    if !active.is_empty() {
        out.push_str("<section>\n<h2>Active incidents</h2>\n");
        for e in active {
            entry_article(&mut out, s, e);
        }
        out.push_str("</section>\n");
    }
    let maintenance: Vec<&PageEntry> = s
        .active_maintenances()
        .chain(s.upcoming_maintenances())
        .collect();
    if !maintenance.is_empty() {
        out.push_str("<section>\n<h2>Scheduled maintenance</h2>\n");
        for e in maintenance {
            entry_article(&mut out, s, e);
        }
        out.push_str("</section>\n");
    }
    out.push_str("<section>\n<h2>Components</h2>\n<ul class=\"components\">\n");
    for g in &s.config.groups {
        group_item(&mut out, s, g);
    }
    for c in s.components.iter().filter(|c| c.group.is_none()) {
        component_item(&mut out, c);
    }
    out.push_str("</ul>\n</section>\n");
    let _ = write!(
        out,
        "<section>\n<h2>Past incidents (last {} days)</h2>\n",
        super::RECENT_DAYS
    );
    let history: Vec<&PageEntry> = s.recent_history().collect();
    if history.is_empty() {
        out.push_str("<p>No incidents reported.</p>\n");
    }
    for e in history {
        entry_article(&mut out, s, e);
    }
    out.push_str("</section>\n");
    foot(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
