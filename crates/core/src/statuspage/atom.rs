//! The page's history as an Atom feed (RFC 4287): one entry per incident or maintenance, its
//! content listing every public update, newest first, as hosted status pages do.
//!
//! Entry ids are `tag:` URIs built from the page's host, the entry's creation date and its
//! public id, so they never change however often the entry is updated or the feed fetched.

use std::fmt::Write as _;

use super::html::{FEED_PATH, escape};
use super::{EntryKind, PageEntry, Snapshot};

fn utc(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The host part of the configured URL, or a reserved name when none is set.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    if host.is_empty() {
        "warroom.invalid"
    } else {
        host
    }
}

/// The stable Atom id of an entry.
pub fn entry_id(s: &Snapshot<'_>, e: &PageEntry) -> String {
    format!(
        "tag:{},{}:{}/{}/{}",
        authority(s.config.base_url()),
        e.created_at.strftime("%Y-%m-%d"),
        s.config.id,
        e.kind.as_str(),
        e.id
    )
}

/// The feed.
pub fn render(s: &Snapshot<'_>) -> String {
    let base = s.config.base_url();
    let page_link = if base.is_empty() { "/status" } else { base };
    let feed_link = if base.is_empty() {
        FEED_PATH.to_string()
    } else {
        format!("{base}/history.atom")
    };
    let mut out = String::with_capacity(8192);
    // A tag URI's date only has to be one on which the host was ours; a fixed one keeps the
    // feed's id the same for ever.
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
         <id>tag:{},2026:{}</id>\n<title>{} history</title>\n<updated>{}</updated>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <author><name>{}</name></author>\n",
        authority(base),
        escape(&s.config.id),
        escape(&s.config.title),
        utc(s.updated_at()),
        escape(page_link),
        escape(&feed_link),
        escape(&s.config.title)
    );
    let mut entries: Vec<&PageEntry> = s.entries.iter().take(super::LISTED_ENTRIES).collect();
    entries.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    for e in entries {
        let mut content = String::new();
        if e.kind == EntryKind::Maintenance
            && let (Some(from), Some(until)) = (e.scheduled_for, e.scheduled_until)
        {
            let _ = write!(
                content,
                "<p>Scheduled {} to {}</p>",
                escape(&s.human_time(from)),
                escape(&s.human_time(until))
            );
        }
        for u in &e.updates {
            let _ = write!(
                content,
                "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
                escape(&s.human_time(u.created_at)),
                u.status.label(),
                escape(&u.body)
            );
        }
        let title = match e.kind {
            EntryKind::Incident => e.name.clone(),
            EntryKind::Maintenance => format!("Maintenance: {}", e.name),
        };
        let _ = write!(
            out,
            "<entry>\n<id>{}</id>\n<title>{}</title>\n<published>{}</published>\n<updated>{}</updated>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<content type=\"html\">{}</content>\n</entry>\n",
            escape(&entry_id(s, e)),
            escape(&title),
            utc(e.created_at),
            utc(e.updated_at),
            escape(&s.entry_url(e)),
            // The content is HTML carried as text: escaped once more for the XML.
            escape(&content)
        );
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_is_the_bare_host() {
        assert_eq!(
            authority("https://status.example.com/status"),
            "status.example.com"
        );
        assert_eq!(authority("http://user@h.example:8080"), "h.example");
        assert_eq!(authority(""), "warroom.invalid");
    }
}
