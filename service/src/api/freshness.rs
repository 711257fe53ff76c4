//! The exchange's clock-driven upkeep: `POST /listings/{id}/confirm`, the owner saying a
//! listing is still current (`app::freshness`), and `POST /admin/sweep` `{"now"?}`, run by an
//! administrator at any time (the server runs it every hour on its own clock): the freshness
//! cycle, and reminders of overdue interest (`app::replies`).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::listings::SEQ_HEADER;
use super::openapi as doc;
use crate::app::freshness::{confirm, upkeep, Upkeep};
use crate::app::{AppState, Caller};
use crate::domain::Listing;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/confirm", post(confirm_listing))
        .route("/admin/sweep", post(run_sweep))
}

#[utoipa::path(
    post,
    path = "/api/v1/listings/{id}/confirm",
    operation_id = "freshness_confirm",
    summary = "Confirm a listing is still current (members of its organisation, admins): fresh again, back in search and matching if it was stale",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Confirmed", body = doc::Listing, content_type = "application/json", headers(("x-techmatch-seq" = i64, description = "The store sequence of the write"))),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn confirm_listing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<([(&'static str, String); 1], Json<Listing>), ApiError> {
    caller.actor()?;
    let who = caller.clone();
    let (listing, seq) = state
        .run(move |ex| {
            let listing = confirm(ex, who.actor()?, &id, Utc::now())?;
            Ok((listing, ex.listings.last_seq()?))
        })
        .await?;
    state.written.notify_one();
    let view = caller
        .listing_view(&listing)
        .ok_or_else(|| ApiError::NotFound("listing".into()))?;
    Ok(([(SEQ_HEADER, seq.to_string())], Json(view)))
}

/// `{"now"?: RFC 3339}` (default: the present) → `{"asked": [ids], "stale": [ids],
/// "reminded": [lead ids]}`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/sweep",
    operation_id = "freshness_sweep",
    summary = "Run the exchange's upkeep as of `now` (admins; the server runs it hourly on its own clock): owners asked to confirm listings unconfirmed for 180 days, listings unconfirmed 30 days after that marked stale, organisations reminded of overdue answers to interest, daily digests mailed",
    request_body(content = doc::SweepRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What the sweep did", body = doc::SweepResponse, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn run_sweep(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<([(&'static str, String); 1], Json<Upkeep>), ApiError> {
    caller.require_admin()?;
    let body = Fields::new(body, &["now"])?;
    let now = match body.text("now")? {
        Some(t) => DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::invalid(
                    "now",
                    "must be an RFC 3339 time such as 2026-07-01T08:00:00Z",
                )
            })?,
        None => Utc::now(),
    };
    let swept = upkeep(&state, now).await?;
    let store = state.store.clone();
    let seq = tokio::task::spawn_blocking(move || store.last_seq()).await??;
    Ok(([(SEQ_HEADER, seq.to_string())], Json(swept)))
}
