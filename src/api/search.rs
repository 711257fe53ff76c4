//! `GET /search`: ranked hits, snippets and facet counts.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::auth::{Caller, ClientAddr};
use super::error::ApiError;
use super::json::Query;
use super::limits::cpu_turn;
use crate::search::{run, SearchParams};
use crate::server::AppState;
use techmatch_index::SearchRequest;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// Read-your-writes: the sequence of a write the caller wants to see reflected.
#[derive(Debug, Default, Deserialize)]
struct Consistency {
    min_seq: Option<String>,
    /// `on` (default) or `off`: fuse semantic neighbours when an embedder is configured.
    semantic: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Query(params): Query<SearchParams>,
    Query(consistency): Query<Consistency>,
) -> Result<Response, ApiError> {
    let mut request = params
        .to_request(caller.is_admin())
        .map_err(ApiError::Invalid)?;
    let semantic = crate::embed::wanted(consistency.semantic.as_deref())
        .map_err(ApiError::Invalid)?
        .then(|| state.semantic.clone())
        .flatten();
    if let Some(min) = consistency
        .min_seq
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        let min: u64 = min
            .parse()
            .map_err(|_| ApiError::invalid("min_seq", "must be a whole number"))?;
        state.wait_for_seq(min, client).await?;
    }
    let semantic = semantic.filter(|_| !request.text.trim().is_empty());
    let key = cache_key(&request, semantic.as_ref().map(|s| s.state()));
    let generation = state.index.generation();
    let cached = state.search_cache.get(generation, &key);
    if state.search_cache.enabled() {
        state.metrics.search_cache(cached.is_some());
    }
    if let Some(body) = cached {
        return Ok(json_bytes(body));
    }
    // The query is embedded before taking a turn on the cores: the embedder may be another
    // machine, and waiting for it should not keep a core's turn idle.
    let vector = match &semantic {
        Some(s) => {
            let (s, text) = (s.clone(), request.text.clone());
            tokio::task::spawn_blocking(move || s.query_vector(&text)).await?
        }
        None => None,
    };
    // An answer without the neighbours it should have (embedder down) is not kept.
    let complete = semantic.is_none() || vector.is_some();
    let _turn = cpu_turn(&state).await?;
    let index = state.index.clone();
    let response = tokio::task::spawn_blocking(move || {
        if let (Some(semantic), Some(vector)) = (semantic, vector) {
            semantic.add_search_neighbours(&mut request, &vector);
        }
        run(&index, &request)
    })
    .await??;
    let body = Bytes::from(
        serde_json::to_vec(&response)
            .map_err(|e| ApiError::Internal(format!("serializing a search answer: {e}")))?,
    );
    if complete {
        state.search_cache.put(generation, key, body.clone());
    }
    Ok(json_bytes(body))
}

/// What a search's answer depends on, besides the index: the checked request's text, filters
/// and page (weights and facets are the same for every request of a process), and the state
/// of the vectors when semantic neighbours are fused in.
fn cache_key(request: &SearchRequest, semantic: Option<(u64, u64)>) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{}|{:?}",
        request.text, request.filters, request.trl_min, request.offset, request.limit, semantic
    )
}

fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
