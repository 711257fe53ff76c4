//! Where a listing imported from another exchange comes from, on its page: the exchange, the
//! listing's id there, and a link to it.

use maud::{html, Markup};

use super::Lang;
use crate::domain::Listing;

/// The "source" panel line, or nothing for a listing entered here.
pub(super) fn source(l: Lang, x: &Listing) -> Markup {
    let Some(exchange) = &x.source_exchange else {
        return html! {};
    };
    html! {
        p.meta id="source" {
            (l.t("Nguồn: ", "Source: ")) strong { (exchange) }
            @if let Some(id) = &x.source_id { ", " (l.t("mã tin ", "listing ")) (id) }
            @if let Some(url) = &x.source_url {
                " — " a href=(url) rel="nofollow noopener" { (l.t("xem tin gốc", "see the original listing")) }
            }
        }
    }
}
