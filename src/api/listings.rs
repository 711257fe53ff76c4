//! `/listings`: create, read, replace and delete listings, within the caller's rights.

use super::error::ApiError;
use super::json::JsonObject;
use crate::app::{listings, AppState, Caller};
use crate::domain::Listing;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

/// Header carrying the store sequence of a write, for read-your-writes (`min_seq`).
pub const SEQ_HEADER: &str = "x-techmatch-seq";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings", post(create))
        .route("/listings/{id}", get(read).put(replace).delete(remove))
}

/// Answers a write with the stored listing and its sequence.
fn written(status: StatusCode, listing: &Listing, seq: u64) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(SEQ_HEADER, HeaderValue::from(seq));
    (status, headers, Json(listing)).into_response()
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (listing, seq, _) = listings::store(&state, &caller, body, true).await?;
    Ok(written(StatusCode::CREATED, &listing, seq))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(mut body): JsonObject,
) -> Result<Response, ApiError> {
    caller.may_write_listings()?;
    match body.get("id") {
        Some(serde_json::Value::String(given)) if *given != id => {
            return Err(ApiError::invalid("id", "differs from the id in the URL"));
        }
        _ => {}
    }
    body.insert("id".into(), serde_json::Value::String(id));
    let (listing, seq, created) = listings::store(&state, &caller, body, false).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(written(status, &listing, seq))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(listings::read(&state, &caller, &id).await?))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let seq = listings::delete(&state, &caller, &id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(SEQ_HEADER, HeaderValue::from(seq));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}
