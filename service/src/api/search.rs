//! `GET /search`: ranked hits, snippets and facet counts.

use super::openapi as doc;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::error::ApiError;
use super::json::Query;
use crate::app::AppState;
use crate::app::Caller;
use crate::app::ClientAddr;
use crate::search::SearchParams;

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

#[utoipa::path(
    get,
    path = "/api/v1/search",
    operation_id = "search_search",
    summary = "Search listings",
    params(
        ("q" = Option<String>, Query, description = "Free text, Vietnamese with or without diacritics, or English"),
        ("kind" = Option<String>, Query, description = "Comma-separated kinds"),
        ("province" = Option<String>, Query, description = "Comma-separated province codes or names"),
        ("field" = Option<String>, Query, description = "Comma-separated field-of-science codes (2.2) or major fields (2)"),
        ("trl_min" = Option<String>, Query, description = "Lowest TRL (1-9)"),
        ("transfer_mode" = Option<String>, Query, description = "Comma-separated transfer modes"),
        ("status" = Option<String>, Query, description = "Comma-separated statuses (admin only for other than published)"),
        ("limit" = Option<String>, Query, description = "Page size, at most 100 (default 10)"),
        ("offset" = Option<String>, Query, description = "Hits to skip, at most 10000"),
        ("min_seq" = Option<String>, Query, description = "Wait (up to 5 s, then 503) until the index has applied this store sequence; a sequence beyond the store's last write is refused at once (400), and a client may have 8 such waits at a time (429)"),
        ("format" = inline(Option<doc::SearchFormat>), Query, description = "json (default), or a download of the hits as listings in the interchange format (/api/v1/schema/listing.json), up to 1000 from offset, limit ignored: csv (UTF-8 with a byte-order mark, the import template's columns), xlsx, jsonl"),
        ("semantic" = inline(Option<doc::SemanticSwitch>), Query, description = "on (default) or off: fuse semantic neighbours with the lexical ranking when an embedder is configured"),
        ("sort" = inline(Option<doc::SearchSort>), Query, description = "relevance (default) or newest: the first 1,000 hits by when their owners last confirmed them, newest first")
    ),
    responses(
        (status = 200, description = "Results", content((doc::SearchResponse = "application/json"), (String = "text/csv"), (inline(doc::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "application/x-ndjson"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    )
)]
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
    let body = if crate::app::search::wants_newest(consistency.sort.as_deref())? {
        crate::app::search::newest(&state, request, semantic).await?
    } else {
        crate::app::search::answer(&state, request, semantic).await?
    };
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
