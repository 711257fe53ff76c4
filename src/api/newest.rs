//! `sort=newest` on searches: the hits ordered by when their owners last confirmed them
//! (`confirmed_at`), newest first. The index ranks by relevance only, so the first
//! [`NEWEST_WINDOW`] hits are fetched (each page from the search cache) and reordered; totals
//! and facets are the search's.

use axum::body::Bytes;
use techmatch_index::SearchRequest;

use super::error::ApiError;
use crate::embed::SharedSemantic;
use crate::search::{SearchResponse, MAX_LIMIT};
use crate::server::AppState;

/// Hits reordered by date: deeper pages are refused.
pub const NEWEST_WINDOW: usize = 1_000;

/// Checks `sort`: `relevance` (or absent) → `false`, `newest` → `true`.
pub fn wants_newest(sort: Option<&str>) -> Result<bool, ApiError> {
    match sort.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("relevance") => Ok(false),
        Some("newest") => Ok(true),
        Some(_) => Err(ApiError::invalid("sort", "must be relevance or newest")),
    }
}

/// The answer to `request` with its page taken from the hits ordered newest first.
pub(crate) async fn answer(
    state: &AppState,
    request: SearchRequest,
    semantic: SharedSemantic,
) -> Result<Bytes, ApiError> {
    let (offset, limit) = (request.offset, request.limit);
    if offset + limit > NEWEST_WINDOW {
        return Err(ApiError::invalid(
            "offset",
            format!("with sort=newest, offset + limit must be at most {NEWEST_WINDOW}"),
        ));
    }
    let mut page = SearchRequest {
        offset: 0,
        limit: MAX_LIMIT,
        ..request
    };
    let mut first: Option<SearchResponse> = None;
    let mut hits = Vec::new();
    loop {
        let body = super::search_answer::answer(state, page.clone(), semantic.clone()).await?;
        let answer: SearchResponse = serde_json::from_slice(&body)
            .map_err(|e| ApiError::Internal(format!("reading a search answer: {e}")))?;
        let got = answer.hits.len();
        hits.extend(answer.hits.iter().cloned());
        let total = answer.total;
        first.get_or_insert(answer);
        page.offset += got;
        if got < page.limit || page.offset >= total.min(NEWEST_WINDOW) {
            break;
        }
    }
    // RFC 3339 in UTC sorts as text; equal dates keep their relevance order.
    hits.sort_by(|a, b| {
        let date =
            |h: &serde_json::Value| h["confirmed_at"].as_str().unwrap_or_default().to_string();
        date(b).cmp(&date(a))
    });
    let mut answer = first.unwrap_or(SearchResponse {
        total: 0,
        hits: Vec::new(),
        facets: Default::default(),
        semantic: None,
    });
    answer.hits = hits.into_iter().skip(offset).take(limit).collect();
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("serializing a search answer: {e}")))
}
