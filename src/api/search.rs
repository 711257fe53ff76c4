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
use crate::search::SearchParams;
use crate::server::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// Read-your-writes: the sequence of a write the caller wants to see reflected.
#[derive(Debug, Default, Deserialize)]
struct Consistency {
    min_seq: Option<String>,
    /// `on` (default) or `off`: fuse semantic neighbours when an embedder is configured.
    semantic: Option<String>,
    /// `json` (default), or a download: `csv`, `xlsx`, `jsonl`.
    format: Option<String>,
    /// `relevance` (default) or `newest` (last confirmed first).
    sort: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Query(params): Query<SearchParams>,
    Query(consistency): Query<Consistency>,
) -> Result<Response, ApiError> {
    let request = params
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
    if let Some(format) = super::export::Format::parse(consistency.format.as_deref())? {
        return super::export::search_download(&state, &caller, request, semantic, format).await;
    }
    let body = if super::newest::wants_newest(consistency.sort.as_deref())? {
        super::newest::answer(&state, request, semantic).await?
    } else {
        super::search_answer::answer(&state, request, semantic).await?
    };
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
