//! `GET /changes` and `GET /changes/snapshot`: the public change feed of listings, for another
//! exchange or a ministry's portal that keeps a copy.
//!
//! The feed follows the store's change log, like the index. Each change is answered with the
//! listing as an anonymous reader sees it now ([`Caller::listing_view`]: published and archived
//! listings without contact details), or as a delete when there is nothing public by that id
//! (deleted, or a draft: a listing that was published and went back to draft must leave the
//! copies). A listing changed several times within one page appears once, at its last change.
//!
//! The log is pruned (sled keeps `serve --feed-retention` changes below what the index applied):
//! an `after` below its floor answers `410 log_pruned` with the floor, and the follower starts
//! again from the snapshot — every public listing in id order, in pages — then follows the
//! changes after the snapshot's first `seq`.

use super::openapi as doc;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::json::Query;
use crate::app::changes;
use crate::app::AppState;
use crate::app::Caller;

/// Changes (or listings) per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 100;
/// The most changes (or listings) one page holds.
const MAX_LIMIT: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/changes", get(changes))
        .route("/changes/snapshot", get(snapshot))
}

/// `?after=SEQ&limit=N`.
#[derive(Debug, Default, Deserialize)]
struct ChangesQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// `?after_id=ID&limit=N`.
#[derive(Debug, Default, Deserialize)]
struct SnapshotQuery {
    after_id: Option<String>,
    limit: Option<String>,
}

fn parse_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    match limit.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", format!("must be 1 to {MAX_LIMIT}"))),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/changes",
    operation_id = "changes_changes",
    summary = "The public change feed of listings: each change after `after` with the listing as anonymous readers see it (no drafts, no contact details), or a delete when nothing public is left by that id (deleted, or back to draft); a listing changed several times in one page appears once, at its last change. Follow with after=next until next equals last.",
    params(
        ("after" = Option<String>, Query, description = "The seq after which to read (default 0); below the pruned log's floor the answer is 410 log_pruned: read /api/v1/changes/snapshot, then follow from its seq"),
        ("limit" = Option<String>, Query, description = "Changes per page, 1 to 1000 (default 100)")
    ),
    responses(
        (status = 200, description = "A page of changes", body = inline(doc::ChangesChangesResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 410, description = "The log no longer holds the changes after `after` (code log_pruned; `floor` is where it now begins, `snapshot` the route to start again from)", body = doc::Error, content_type = "application/json"),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn changes(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ChangesQuery>,
) -> Result<Json<Value>, ApiError> {
    let after = match query
        .after
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None => 0,
        Some(a) => a
            .parse::<u64>()
            .map_err(|_| ApiError::invalid("after", "must be a whole number (a change's seq)"))?,
    };
    let limit = parse_limit(query.limit.as_deref())?;
    let store = state.store.clone();
    let page =
        tokio::task::spawn_blocking(move || changes::changes_page(store.as_ref(), after, limit))
            .await??;
    Ok(Json(page))
}

#[utoipa::path(
    get,
    path = "/api/v1/changes/snapshot",
    operation_id = "changes_snapshot",
    summary = "Every public listing (no drafts, no contact details) in id order, in pages: where a follower of the change feed starts, or starts again after 410; then it follows /api/v1/changes?after= the first page's seq",
    params(
        ("after_id" = Option<String>, Query, description = "The next_id of the previous page (absent: the first page)"),
        ("limit" = Option<String>, Query, description = "Listings read per page, 1 to 1000 (default 100); drafts are read and left out, so a page may hold fewer")
    ),
    responses(
        (status = 200, description = "A page of the snapshot", body = inline(doc::ChangesSnapshotResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn snapshot(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<SnapshotQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let after_id = query.after_id.filter(|a| !a.is_empty());
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || {
        changes::snapshot_page(store.as_ref(), after_id.as_deref(), limit)
    })
    .await??;
    Ok(Json(page))
}
