//! `/listings`: create, read, replace and delete listings, within the caller's rights.

use super::error::ApiError;
use super::json::JsonObject;
use super::openapi as doc;
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

#[utoipa::path(
    post,
    path = "/api/v1/listings",
    operation_id = "listings_create",
    summary = "Create a listing (admin; institute members: research outputs and patents of their organisation; enterprise members: needs of theirs)",
    request_body(content = doc::ListingInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = doc::Listing, content_type = "application/json", headers(("x-techmatch-seq" = i64, description = "Store sequence of this write; pass as min_seq to search to read it back"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (listing, seq, _) = listings::store(&state, &caller, body, true).await?;
    Ok(written(StatusCode::CREATED, &listing, seq))
}

#[utoipa::path(
    put,
    path = "/api/v1/listings/{id}",
    operation_id = "listings_replace",
    summary = "Create or replace a listing (admin, or a member of the owner organisation)",
    params(
        ("id" = String, Path)
    ),
    request_body(content = doc::ListingInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = doc::Listing, content_type = "application/json", headers(("x-techmatch-seq" = i64, description = "Store sequence of this write; pass as min_seq to search to read it back"))),
        (status = 201, description = "Created", body = doc::Listing, content_type = "application/json", headers(("x-techmatch-seq" = i64, description = "Store sequence of this write; pass as min_seq to search to read it back"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/listings/{id}",
    operation_id = "listings_read",
    summary = "Read a listing (contact details for admins, brokers and the owner organisation; drafts hidden from others)",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "The listing", body = doc::Listing, content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(listings::read(&state, &caller, &id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/listings/{id}",
    operation_id = "listings_remove",
    summary = "Delete a listing (admin, or a member of the owner organisation)",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 204, description = "Deleted", headers(("x-techmatch-seq" = i64, description = "Store sequence of this write; pass as min_seq to search to read it back"))),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
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
