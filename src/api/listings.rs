//! `/listings`: create, read, replace and delete listings.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;

use super::auth::Caller;
use super::error::ApiError;
use super::json::JsonObject;
use crate::domain::{parse_listing, Listing, RawRecord, Status};
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

/// Checks the body, settles timestamps and stores the listing durably.
async fn store(
    state: &AppState,
    body: serde_json::Map<String, serde_json::Value>,
    must_be_new: bool,
) -> Result<(Listing, u64, bool), ApiError> {
    let draft = parse_listing(&RawRecord::from_json(body))
        .map_err(ApiError::InvalidListing)?
        .without_timestamps();
    let store = state.store.clone();
    let (listing, seq, created) = tokio::task::spawn_blocking(move || {
        let id = draft.id().to_string();
        let now = Utc::now();
        let mut stored = None;
        // Decided under the store's writer lock, so two creates of one id cannot both succeed.
        let updated = store.update(
            &id,
            Box::new(|existing| {
                if must_be_new && existing.is_some() {
                    return None;
                }
                let listing = draft.into_listing(existing, now);
                stored = Some(listing.clone());
                Some(listing)
            }),
        )?;
        match (stored, updated.seq) {
            (Some(listing), Some(seq)) => Ok((listing, seq, updated.previous.is_none())),
            _ => Err(ApiError::Conflict(id)),
        }
    })
    .await??;
    state.written.notify_one();
    Ok((listing, seq, created))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let (listing, seq, _) = store(&state, body, true).await?;
    Ok(written(StatusCode::CREATED, &listing, seq))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(mut body): JsonObject,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    match body.get("id") {
        Some(serde_json::Value::String(given)) if *given != id => {
            return Err(ApiError::invalid("id", "differs from the id in the URL"));
        }
        _ => {}
    }
    body.insert("id".into(), serde_json::Value::String(id));
    let (listing, seq, created) = store(&state, body, false).await?;
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
    let store = state.store.clone();
    let lookup = id.clone();
    let listing = tokio::task::spawn_blocking(move || store.get(&lookup)).await??;
    match (listing, caller) {
        (Some(l), Caller::Admin) => Ok(Json(l)),
        // Drafts are the owner's business; to everyone else they do not exist.
        (Some(l), Caller::Anonymous) if l.status != Status::Draft => Ok(Json(l.public())),
        _ => Err(ApiError::NotFound(format!("listing {id:?}"))),
    }
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let store = state.store.clone();
    let lookup = id.clone();
    match tokio::task::spawn_blocking(move || store.delete(&lookup)).await?? {
        Some(seq) => {
            state.written.notify_one();
            let mut headers = HeaderMap::new();
            headers.insert(SEQ_HEADER, HeaderValue::from(seq));
            Ok((StatusCode::NO_CONTENT, headers).into_response())
        }
        None => Err(ApiError::NotFound(format!("listing {id:?}"))),
    }
}
