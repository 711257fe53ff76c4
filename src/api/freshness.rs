//! The exchange's clock-driven upkeep: `POST /listings/{id}/confirm`, the owner saying a
//! listing is still current (`app::freshness`), and `POST /admin/sweep` `{"now"?}`, run by an
//! administrator at any time (the server runs it every hour on its own clock): the freshness
//! cycle, and reminders of overdue interest (`app::replies`).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use super::auth::Caller;
use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::listings::SEQ_HEADER;
use crate::app::freshness::{confirm, sweep, Policy, Swept};
use crate::app::orgs::Actor;
use crate::domain::Listing;
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/confirm", post(confirm_listing))
        .route("/admin/sweep", post(run_sweep))
}

async fn confirm_listing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<([(&'static str, String); 1], Json<Listing>), ApiError> {
    caller.actor()?;
    let who = caller.clone();
    let listing = state
        .run(move |ex| {
            let actor = match who.user() {
                Some(u) => Actor::User(u),
                None => Actor::AdminToken,
            };
            confirm(ex, actor, &id, Utc::now())
        })
        .await?;
    state.written.notify_one();
    let seq = state.store.last_seq()?;
    let view = caller
        .listing_view(&listing)
        .ok_or_else(|| ApiError::NotFound("listing".into()))?;
    Ok(([(SEQ_HEADER, seq.to_string())], Json(view)))
}

/// What one sweep did: listings asked and marked stale, leads reminded.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Upkeep {
    #[serde(flatten)]
    listings: Swept,
    reminded: Vec<String>,
    /// Daily digests mailed (standing searches delivered by digest).
    digests: usize,
}

/// Runs the freshness cycle, the reminders and the daily digests as of `now`.
pub(crate) async fn upkeep(state: &AppState, now: DateTime<Utc>) -> Result<Upkeep, ApiError> {
    let result = state
        .run(move |ex| {
            let listings = sweep(ex, &Policy::from_env(), now)?;
            let reminded = crate::app::replies::remind(ex, now)?;
            Ok((listings, reminded))
        })
        .await?;
    state.written.notify_one();
    let alerter = state.alerter.clone();
    let digests = tokio::task::spawn_blocking(move || alerter.send_digests(now))
        .await?
        .map_err(|e| ApiError::Internal(format!("daily digests: {e}")))?;
    let (listings, reminded) = result;
    Ok(Upkeep {
        listings,
        reminded,
        digests,
    })
}

/// `{"now"?: RFC 3339}` (default: the present) → `{"asked": [ids], "stale": [ids],
/// "reminded": [lead ids]}`.
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
    let seq = state.store.last_seq()?;
    Ok(([(SEQ_HEADER, seq.to_string())], Json(swept)))
}
