//! `GET /listings/{id}/duplicates`: the listings that look like the same technology listed
//! again (`crate::duplicates`), among those the caller may see.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use crate::app::duplicates::visible_duplicates;
use crate::app::{AppState, Caller};

pub fn router() -> Router<AppState> {
    Router::new().route("/listings/{id}/duplicates", get(duplicates))
}

#[utoipa::path(
    get,
    path = "/api/v1/listings/{id}/duplicates",
    operation_id = "duplicates_duplicates",
    summary = "Near-duplicates of a listing (the same technology listed again: re-typed, with or without diacritics, shortened or with sentences added), among the listings the caller may see, most similar first; found in the background after each write",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Near-duplicates", body = inline(doc::DuplicatesDuplicatesResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn duplicates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = visible_duplicates(&state, &caller, &id).await?;
    Ok(Json(json!({ "duplicates": found })))
}
