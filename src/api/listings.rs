//! `/listings`: create, read, replace and delete listings, within the caller's rights.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;

use super::auth::Caller;
use super::error::ApiError;
use super::json::JsonObject;
use crate::domain::{parse_listing, Listing, RawRecord};
use crate::server::AppState;

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

/// Stamps a member's organisation as the owner of a listing body that names none; a body
/// naming another owner is left for [`Caller::may_write_listing`] to refuse.
fn stamp_owner(caller: &Caller, body: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(org) = caller
        .user()
        .filter(|u| u.role.is_member())
        .and_then(|u| u.org.clone())
    else {
        return;
    };
    let named = body
        .get("owner")
        .and_then(|o| o.as_str())
        .is_some_and(|o| !o.trim().is_empty());
    if !named {
        body.insert("owner".into(), serde_json::Value::String(org));
    }
}

/// Checks the body and the caller's rights, settles timestamps and stores the listing durably;
/// the web forms store through this too. Returns the listing, its sequence and whether it is new.
pub(crate) async fn store(
    state: &AppState,
    caller: &Caller,
    mut body: serde_json::Map<String, serde_json::Value>,
    must_be_new: bool,
) -> Result<(Listing, u64, bool), ApiError> {
    caller.may_write_listings()?;
    stamp_owner(caller, &mut body);
    let draft = parse_listing(&RawRecord::from_json(body))
        .map_err(ApiError::InvalidListing)?
        .without_timestamps();
    let store = state.store.clone();
    let caller = caller.clone();
    let (listing, seq, created) = tokio::task::spawn_blocking(move || {
        let id = draft.id().to_string();
        let now = Utc::now();
        let mut stored = None;
        let mut refused = None;
        // Decided under the store's writer lock, so two creates of one id cannot both succeed
        // and the owner checked is the owner replaced.
        let updated = store.update(
            &id,
            Box::new(|existing| {
                let listing = draft.into_listing(existing, now);
                if let Err(e) = caller.may_write_listing(existing, Some(&listing)) {
                    refused = Some(e);
                    return None;
                }
                if must_be_new && existing.is_some() {
                    return None;
                }
                stored = Some(listing.clone());
                Some(listing)
            }),
        )?;
        match (stored, updated.seq, refused) {
            (_, _, Some(e)) => Err(e),
            (Some(listing), Some(seq), None) => Ok((listing, seq, updated.previous.is_none())),
            _ => Err(ApiError::Conflict(id)),
        }
    })
    .await??;
    state.written.notify_one();
    Ok((listing, seq, created))
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
    let (listing, seq, _) = store(&state, &caller, body, true).await?;
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
    let (listing, seq, created) = store(&state, &caller, body, false).await?;
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
    let store = state.store.clone();
    let lookup = id.clone();
    let listing = tokio::task::spawn_blocking(move || store.get(&lookup)).await??;
    // Drafts are their owner's business; to those who may not see them they do not exist.
    match listing.and_then(|l| caller.listing_view(&l)) {
        Some(view) => Ok(Json(view)),
        None => Err(ApiError::NotFound(format!("listing {id:?}"))),
    }
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
    caller.may_write_listings()?;
    let store = state.store.clone();
    let lookup = id.clone();
    let deleted = tokio::task::spawn_blocking(move || {
        let Some(existing) = store.get(&lookup)? else {
            return Ok(None);
        };
        // Checked before the delete without a lock: only the owner organisation or an
        // administrator can change the owner in between, and either may delete it anyway.
        caller.may_write_listing(Some(&existing), None)?;
        Ok::<_, ApiError>(store.delete(&lookup)?)
    })
    .await??;
    match deleted {
        Some(seq) => {
            state.written.notify_one();
            let mut headers = HeaderMap::new();
            headers.insert(SEQ_HEADER, HeaderValue::from(seq));
            Ok((StatusCode::NO_CONTENT, headers).into_response())
        }
        None => Err(ApiError::NotFound(format!("listing {id:?}"))),
    }
}
