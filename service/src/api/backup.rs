//! `POST /admin/backup`: a consistent copy of the store, taken while serving, into a directory
//! on the server's machine: an absolute path without `..`, absent or empty, written 0700/0600.

use super::openapi as doc;
use std::path::{Component, PathBuf};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::error::ApiError;
use super::json::JsonObject;
use crate::app::AppState;
use crate::app::Caller;
use crate::store::backup::BackupInfo;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/backup", post(backup))
}

/// Checks a backup target: an absolute path without `..` components that is not a symbolic
/// link (the copy itself refuses a directory that is not empty).
fn target(dir: &str) -> Result<PathBuf, ApiError> {
    let path = PathBuf::from(dir);
    if !path.is_absolute() {
        return Err(ApiError::invalid(
            "dir",
            "must be an absolute directory path on the server",
        ));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(ApiError::invalid("dir", "must not contain `..`"));
    }
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(ApiError::invalid("dir", "must not be a symbolic link"));
    }
    if path.exists() && !path.is_dir() {
        return Err(ApiError::invalid("dir", "is a file, not a directory"));
    }
    Ok(path)
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/backup",
    operation_id = "backup_backup",
    summary = "Copy the store, consistently and while serving, into a new directory on the server (admin)",
    request_body(content = inline(doc::BackupBackupRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Backup taken", body = inline(doc::BackupBackupResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn backup(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<BackupInfo>, ApiError> {
    caller.require_admin()?;
    let dir = match body.get("dir") {
        Some(serde_json::Value::String(d)) => target(d)?,
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
