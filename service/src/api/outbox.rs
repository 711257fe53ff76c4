//! `GET /admin/outbox`: the newest mail, sent or waiting, with why delivery failed (admins).

use super::openapi as doc;
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
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    operation_id = "outbox_list",
    summary = "The newest mail, sent or waiting, with why delivery failed (admin).",
    params(
        ("limit" = Option<i64>, Query, minimum = 0)
    ),
    responses(
        (status = 200, description = "Mail, newest first", body = inline(doc::OutboxListResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
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
