//! `POST /admin/backup`: a consistent copy of the store, taken while serving, into a directory
//! on the server's machine.

use std::path::PathBuf;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::auth::Caller;
use super::error::ApiError;
use super::json::JsonObject;
use crate::server::AppState;
use crate::store::backup::BackupInfo;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/backup", post(backup))
}

async fn backup(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<BackupInfo>, ApiError> {
    caller.require_admin()?;
    let dir = match body.get("dir") {
        Some(serde_json::Value::String(d)) if PathBuf::from(d).is_absolute() => PathBuf::from(d),
        _ => {
            return Err(ApiError::invalid(
                "dir",
                "must be an absolute directory path on the server",
            ))
        }
    };
    let store = state.store.clone();
    let info = tokio::task::spawn_blocking(move || store.backup_to(&dir))
        .await?
        .map_err(|e| ApiError::invalid("dir", e.to_string()))?;
    Ok(Json(info))
}
