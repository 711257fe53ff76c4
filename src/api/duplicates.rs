//! `GET /listings/{id}/duplicates`: the listings that look like the same technology listed
//! again (`crate::duplicates`), among those the caller may see.

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

async fn duplicates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = visible_duplicates(&state, &caller, &id).await?;
    Ok(Json(json!({ "duplicates": found })))
}
