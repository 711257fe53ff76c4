//! Download links under the search results: the same search from the API as CSV, XLSX or JSON
//! Lines (the listings in the interchange format, up to `api::export::MAX_EXPORT`).

use maud::{html, Markup};

use super::layout::encode;
use super::Lang;

/// The links for the search given by `pairs` (the page's parameters, without `page`).
pub(super) fn links(l: Lang, pairs: &[(String, String)]) -> Markup {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let href = |format: &str| {
        let mut q = query.clone();
        q.push(format!("format={format}"));
        format!("/api/v1/search?{}", q.join("&"))
    };
    html! {
        span.downloads id="downloads" {
            " · " (l.t("Tải về:", "Download:")) " "
            a href=(href("csv")) download { "CSV" } " · "
            a href=(href("xlsx")) download { "XLSX" } " · "
            a href=(href("jsonl")) download { "JSON Lines" }
        }
    }
}
