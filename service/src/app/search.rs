//! One search answered the way both `GET /api/v1/search` and the web page serve it: from the
//! search cache when kept, else with the query's semantic neighbours when its vector arrives
//! within the deadline, run in a turn on the cores, and kept for the next time.

use axum::body::Bytes;
use techmatch_index::SearchRequest;

use crate::app::{AppError, AppState};
use crate::embed::{SharedSemantic, FUSED, SKIPPED};
use crate::search::{run, SearchResponse, MAX_LIMIT};

/// The JSON answer to a checked `request`; `semantic` is the service's semantic side when the
/// request wants it. With it, the answer says `"semantic": "fused"`, or `"skipped"` when the
/// query's vector did not arrive in time (the answer is then lexical).
pub async fn answer(
    state: &AppState,
    mut request: SearchRequest,
    semantic: SharedSemantic,
) -> Result<Bytes, AppError> {
    let semantic = semantic.filter(|_| !request.text.trim().is_empty());
    // A query whose vector is not at hand has a lexical answer, kept like any other until the
    // vector has come; the key says which of the two an answer is.
    let known = semantic.as_ref().and_then(|s| s.remembered(&request.text));
    let vectors = semantic.as_ref().map(|s| s.cache_state());
    let key = |fused: bool| cache_key(&request, vectors.map(|v| (v, fused)));
    let generation = state.index.generation();
    let cached = state.search_cache.get(generation, &key(known.is_some()));
    if state.search_cache.enabled() {
        state.metrics.search_cache(cached.is_some());
    }
    if let Some(body) = cached {
        if let (Some(s), None) = (&semantic, &known) {
            // A lexical answer: its vector is on the way, so that the next one is fused.
            s.nudge(&request.text);
        }
        return Ok(body);
    }
    // The query is embedded before taking a turn on the cores (the embedder may be another
    // machine), and waited for only until the deadline: past it the answer is lexical.
    let vector = match (&semantic, known) {
        (_, Some(v)) => Some(v),
        (Some(s), None) => s.query_vector_within(&request.text).await,
        (None, None) => None,
    };
    let fused = vector.is_some();
    if semantic.is_some() {
        state.metrics.query_vector(fused);
    }
    let key = key(fused);
    let marker = semantic
        .as_ref()
        .map(|_| if fused { FUSED } else { SKIPPED });
    let _turn = state.cpu_turn().await?;
    let index = state.index.clone();
    let mut response = tokio::task::spawn_blocking(move || {
        if let (Some(semantic), Some(vector)) = (semantic, vector) {
            semantic.add_search_neighbours(&mut request, &vector);
        }
        run(&index, &request)
    })
    .await??;
    response.semantic = marker.map(str::to_string);
    let body = Bytes::from(serde_json::to_vec(&response).map_err(AppError::Json)?);
    state.search_cache.put(generation, key, body.clone());
    Ok(body)
}

/// What a search's answer depends on, besides the index: the checked request's text, filters
/// and page (weights and facets are the same for every request of a process), and with
/// semantic ranking the state of the vectors and whether the query's own was at hand.
fn cache_key(request: &SearchRequest, semantic: Option<((u64, bool), bool)>) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{}|{:?}",
        request.text, request.filters, request.trl_min, request.offset, request.limit, semantic
    )
}

/// The listings a search finds, from its offset, at most `most`, as the caller may see them
/// (for downloads of a search's results).
///
/// # Errors
/// As [`answer`]; our failure when the store fails.
pub async fn listings_found(
    state: &AppState,
    caller: &crate::app::Caller,
    request: SearchRequest,
    semantic: SharedSemantic,
    most: usize,
) -> Result<Vec<crate::domain::Listing>, AppError> {
    let end = request.offset + most;
    let (_, hits) = hits_until(state, request, semantic, end).await?;
    let mut ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
    ids.truncate(most);
    let (store, caller) = (state.store.clone(), caller.clone());
    let listings: Vec<crate::domain::Listing> = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok::<_, AppError>(
            store
                .get_many(&refs)?
                .into_iter()
                .flatten()
                .filter_map(|l| caller.listing_view(&l))
                .collect(),
        )
    })
    .await??;
    Ok(listings)
}

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::Invalid(crate::domain::FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}

// `sort=newest`: the hits ordered by when their owners last confirmed them (`confirmed_at`),
// newest first. The index ranks by relevance only, so the first [`NEWEST_WINDOW`] hits are
// fetched (each page from the search cache) and reordered; totals and facets are the search's.

/// Hits reordered by date: deeper pages are refused.
pub const NEWEST_WINDOW: usize = 1_000;

/// Checks `sort`: `relevance` (or absent) → `false`, `newest` → `true`.
pub fn wants_newest(sort: Option<&str>) -> Result<bool, AppError> {
    match sort.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("relevance") => Ok(false),
        Some("newest") => Ok(true),
        Some(_) => Err(invalid("sort", "must be relevance or newest")),
    }
}

/// The answer to `request` with its page taken from the hits ordered newest first.
pub async fn newest(
    state: &AppState,
    request: SearchRequest,
    semantic: SharedSemantic,
) -> Result<Bytes, AppError> {
    let (offset, limit) = (request.offset, request.limit);
    if offset + limit > NEWEST_WINDOW {
        return Err(invalid(
            "offset",
            format!("with sort=newest, offset + limit must be at most {NEWEST_WINDOW}"),
        ));
    }
    let first_page = SearchRequest {
        offset: 0,
        ..request
    };
    let (first, mut hits) = hits_until(state, first_page, semantic, NEWEST_WINDOW).await?;
    // RFC 3339 in UTC sorts as text; equal dates keep their relevance order.
    hits.sort_by(|a, b| b.confirmed_at.cmp(&a.confirmed_at));
    let mut answer = first.unwrap_or(SearchResponse {
        total: 0,
        hits: Vec::new(),
        facets: Default::default(),
        semantic: None,
    });
    answer.hits = hits.into_iter().skip(offset).take(limit).collect();
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(AppError::Json)
}

/// The hits of `request` from its offset up to rank `end` (or the last hit), read a page of
/// [`MAX_LIMIT`] at a time through the search cache; with the first page's answer (its total
/// and facets).
async fn hits_until(
    state: &AppState,
    mut request: SearchRequest,
    semantic: SharedSemantic,
    end: usize,
) -> Result<(Option<SearchResponse>, Vec<crate::views::Hit>), AppError> {
    let mut first: Option<SearchResponse> = None;
    let mut hits = Vec::new();
    request.limit = MAX_LIMIT.min(end.saturating_sub(request.offset));
    while request.limit > 0 {
        let body = answer(state, request.clone(), semantic.clone()).await?;
        let page: SearchResponse = serde_json::from_slice(&body).map_err(AppError::Json)?;
        let (got, total) = (page.hits.len(), page.total);
        hits.extend(page.hits.iter().cloned());
        first.get_or_insert(page);
        request.offset += got;
        if got < request.limit || request.offset >= end.min(total) {
            break;
        }
        request.limit = MAX_LIMIT.min(end - request.offset);
    }
    Ok((first, hits))
}
