//! A standing search's private Atom feed (RFC 4287): its alerts, newest first.

use chrono::{DateTime, Utc};

use crate::app::Links;
use crate::domain::alert::{Notification, StandingSearch};

/// Escapes text for XML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed of `search` with `notes` (newest first); `now` dates an empty feed.
pub fn render(
    links: &Links,
    search: &StandingSearch,
    notes: &[Notification],
    now: DateTime<Utc>,
) -> String {
    let self_url = super::feed_url(links, search);
    let updated = notes.first().map_or(now, |n| n.created_at).to_rfc3339();
    let title = match (&search.listing_id, search.query.q.as_deref()) {
        (Some(id), _) => format!("techmatch: tin phù hợp với {id} / matches for {id}"),
        (None, Some(q)) if !q.trim().is_empty() => {
            format!("techmatch: “{}” — tìm kiếm đã lưu / saved search", q.trim())
        }
        _ => "techmatch: tìm kiếm đã lưu / saved search".to_string(),
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n\
         <id>urn:techmatch:search:{id}</id>\n<title>{title}</title>\n<updated>{updated}</updated>\n\
         <author><name>techmatch</name></author>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{href}\"/>\n",
        id = esc(&search.id),
        title = esc(&title),
        href = esc(&self_url),
    );
    for note in notes {
        let link = links.page(&format!("/listings/{}", note.listing_id));
        xml.push_str(&format!(
            "<entry>\n<id>urn:techmatch:alert:{id}</id>\n<title>{title}</title>\n\
             <updated>{updated}</updated>\n<link rel=\"alternate\" href=\"{href}\"/>\n\
             <summary>{reason}</summary>\n</entry>\n",
            id = esc(&note.id),
            title = esc(&note.title),
            updated = note.created_at.to_rfc3339(),
            href = esc(&link),
            reason = esc(&note.reason),
        ));
    }
    xml.push_str("</feed>\n");
    xml
}
