//! Near-duplicates folded together on the search page: a hit that looks like the same
//! technology as a hit above it on the page is not shown again but named under that hit,
//! "also listed at …" (its source exchange, else its owner, else its title), with a link.
//! Totals and facets still count every listing.

use maud::{html, Markup};

use super::layout::encode;
use super::Lang;
use crate::app::AppState;
use crate::views::{Also, Hit};

/// The page's hits in order, each with the near-duplicates folded under it.
pub(super) async fn collapse(state: &AppState, hits: Vec<Hit>) -> Vec<(Hit, Vec<Also>)> {
    let mut kept: Vec<(Hit, Vec<String>)> = Vec::new();
    let mut folded: Vec<(usize, String)> = Vec::new();
    for h in hits {
        let id = h.id.clone();
        let under = kept
            .iter()
            .position(|(k, _)| state.duplicates.of(&k.id).iter().any(|(d, _)| *d == id));
        match under {
            Some(k) => folded.push((k, id)),
            None => kept.push((h, Vec::new())),
        }
    }
    for (k, id) in folded {
        kept[k].1.push(id);
    }
    let ids: Vec<String> = kept.iter().flat_map(|(_, f)| f.clone()).collect();
    if ids.is_empty() {
        return kept.into_iter().map(|(h, _)| (h, Vec::new())).collect();
    }
    let store = state.store.clone();
    let labels: std::collections::HashMap<String, String> =
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            store
                .get_many(&refs)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|l| {
                    // Hits are alike for everyone: a confidential need is named by its summary.
                    let l = l.redacted();
                    let label = l
                        .source_exchange
                        .clone()
                        .or_else(|| l.owner.clone())
                        .unwrap_or_else(|| l.title.clone());
                    (l.id, label)
                })
                .collect()
        })
        .await
        .unwrap_or_default();
    kept.into_iter()
        .map(|(h, f)| {
            let also = f
                .into_iter()
                .map(|id| {
                    let label = labels.get(&id).cloned().unwrap_or_else(|| id.clone());
                    Also { id, label }
                })
                .collect();
            (h, also)
        })
        .collect()
}

/// The "also listed at" line under a hit, or nothing.
pub(super) fn also(l: Lang, also: &[Also]) -> Markup {
    html! {
        @if !also.is_empty() {
            p.meta.also {
                (l.t("Cũng đăng tại: ", "Also listed at: "))
                @for (n, a) in also.iter().enumerate() {
                    @if n > 0 { ", " }
                    a href=(format!("/listings/{}", encode(&a.id))) { (a.label) }
                }
            }
        }
    }
}
