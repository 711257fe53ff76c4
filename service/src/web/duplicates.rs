//! The "possible duplicates" panel of a listing's page, for brokers and administrators: the
//! listings that look like the same technology listed again, each a link.

use maud::{html, Markup};

use super::layout::encode;
use super::Visitor;
use crate::app::duplicates::Duplicate;
use crate::app::AppState;
use crate::domain::account::Role;
use crate::domain::Listing;

/// The panel, or nothing for other visitors, when there is no duplicate, or when they cannot be
/// read now (the page shows the rest).
pub(super) async fn panel(state: &AppState, v: &Visitor, x: &Listing) -> Markup {
    if !matches!(v.caller.role(), Some(Role::Admin | Role::Broker)) {
        return html! {};
    }
    let found = crate::app::duplicates::visible_duplicates(state, &v.caller, &x.id)
        .await
        .unwrap_or_default();
    render(v, &found)
}

fn render(v: &Visitor, found: &[Duplicate]) -> Markup {
    let l = v.lang;
    html! {
        @if !found.is_empty() {
            section.panel id="duplicates" {
                h2 { (l.t("Có thể là tin trùng lặp", "Possible duplicates")) }
                p.meta { (l.t(
                    "Các tin này có nội dung gần như trùng với tin trên (có thể cùng một công nghệ được đăng lại).",
                    "These listings say nearly the same as this one (perhaps the same technology listed again).",
                )) }
                ul {
                    @for d in found {
                        li {
                            a href=(format!("/listings/{}", encode(&d.id))) { (d.title) }
                            " " span.meta { "(" (l.t("độ tương đồng", "similarity")) " " (format!("{:.0}", d.similarity * 100.0)) "%)" }
                        }
                    }
                }
            }
        }
    }
}
