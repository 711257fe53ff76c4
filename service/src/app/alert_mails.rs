//! The texts of alert mail and alert reasons, each in Vietnamese and then English.

use super::mails::Text;
use crate::domain::alert::Notification;

/// Why a listing raised an alert for a saved search.
pub fn saved_search_reason(query: &str) -> String {
    let q = if query.trim().is_empty() {
        "(bộ lọc / filters)"
    } else {
        query.trim()
    };
    format!("Khớp với tìm kiếm đã lưu “{q}” / Fits your saved search “{q}”")
}

/// Why a listing raised an alert for a need (or technology) of the reader's organisation.
pub fn listing_reason(own_title: &str, need: bool, score: f32) -> String {
    let pct = (score * 100.0).round();
    if need {
        format!(
            "Phù hợp {pct}% với nhu cầu “{own_title}” của tổ chức bạn / \
             A {pct}% match for your organisation's need “{own_title}”"
        )
    } else {
        format!(
            "Phù hợp {pct}% với công nghệ “{own_title}” của tổ chức bạn / \
             A {pct}% match for your organisation's technology “{own_title}”"
        )
    }
}

/// Links an alert mail carries.
pub struct AlertLinks {
    /// The listing's page.
    pub listing: String,
    /// The standing search's Atom feed.
    pub feed: String,
    /// One click stops this standing search's alerts.
    pub unsubscribe: String,
}

/// One alert, mailed as soon as it is found.
pub fn alert(note: &Notification, links: &AlertLinks) -> Text {
    let (title, reason) = (&note.title, &note.reason);
    (
        format!("Tin mới phù hợp / New match: {title} — techmatch"),
        format!(
            "Xin chào,\n\nMột tin mới phù hợp với bạn trên techmatch:\n\n  {title}\n  {reason}\n  \
             {listing}\n\nNguồn tin Atom: {feed}\nNgừng nhận các thông báo này (một lần bấm): \
             {unsubscribe}\n\n---\n\nHello,\n\nA new listing fits what you follow on \
             techmatch:\n\n  {title}\n  {reason}\n  {listing}\n\nAtom feed: {feed}\nStop these \
             alerts (one click): {unsubscribe}\n",
            listing = links.listing,
            feed = links.feed,
            unsubscribe = links.unsubscribe,
        ),
    )
}

/// Every alert of a day in one mail; `items` are each alert with its links.
pub fn digest(items: &[(Notification, AlertLinks)]) -> Text {
    let mut list = String::new();
    for (note, links) in items {
        list.push_str(&format!(
            "  {}\n  {}\n  {}\n  (ngừng / stop: {})\n\n",
            note.title, note.reason, links.listing, links.unsubscribe
        ));
    }
    let n = items.len();
    (
        format!("{n} tin mới phù hợp / {n} new matches — techmatch"),
        format!(
            "Xin chào,\n\nCác tin mới phù hợp với bạn hôm nay:\n\n{list}---\n\nHello,\n\n\
             Today's new listings that fit what you follow are above.\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_mail_carries_its_links_in_both_languages() {
        let note = Notification {
            id: "n-1".into(),
            user_id: "u-1".into(),
            search_id: "ss-1".into(),
            listing_id: "ro-1".into(),
            title: "Máy sấy".into(),
            reason: saved_search_reason("máy sấy"),
            created_at: chrono::Utc::now(),
            read: false,
            mailed: true,
        };
        let links = AlertLinks {
            listing: "http://x/listings/ro-1".into(),
            feed: "http://x/feeds/ss-1/abc".into(),
            unsubscribe: "http://x/alerts/ss-1/unsubscribe/abc".into(),
        };
        let (subject, body) = alert(&note, &links);
        assert!(subject.contains("Tin mới") && subject.contains("New match"));
        assert_eq!(body.matches(&links.unsubscribe).count(), 2);
        assert!(body.contains("Ngừng") && body.contains("Stop"));
    }
}
