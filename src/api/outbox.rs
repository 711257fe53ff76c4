//! `GET /admin/outbox`: the newest mail, sent or waiting, with why delivery failed (admins).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::Query;
use crate::app::AppState;
use crate::app::Caller;

/// Mail listed when no `limit` is given, and the most that is.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/outbox", get(list))
}

#[derive(Debug, Deserialize)]
struct Params {
    limit: Option<usize>,
}

/// `{"mails": [...]}`, newest first.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Params>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let store = state.outbox.store().clone();
    let mails = tokio::task::spawn_blocking(move || store.recent_mail(limit)).await??;
    Ok(Json(json!({ "mails": mails })))
}
