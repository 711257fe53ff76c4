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
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::json::Query;
use crate::domain::Listing;
use crate::server::AppState;
use crate::store::{ChangeOp, Store};

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

/// What the public may see of a listing: the one rule of the API, as an anonymous caller.
fn public_view(listing: &Listing) -> Option<Listing> {
    Caller::Anonymous.listing_view(listing)
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
        tokio::task::spawn_blocking(move || changes_page(store.as_ref(), after, limit)).await??;
    Ok(Json(page))
}

/// The changes after `after`, at most `limit`, as the feed answers them.
fn changes_page(store: &dyn Store, after: u64, limit: usize) -> Result<Value, ApiError> {
    let last = store.last_seq()?;
    if after > last {
        return Err(ApiError::invalid(
            "after",
            format!("is beyond the last change ({last})"),
        ));
    }
    let floor = store.log_floor()?;
    if after < floor {
        return Err(ApiError::Pruned(floor));
    }
    let changes = store.changes_since(after, limit)?;
    // Sequences are gapless: a first change past `after + 1` means the log was pruned between
    // reading the floor and reading the changes.
    if changes.first().is_some_and(|c| c.seq != after + 1) {
        return Err(ApiError::Pruned(store.log_floor()?));
    }
    let next = changes.last().map_or(after, |c| c.seq);
    // Only each listing's last change in the page: the earlier ones would carry the same
    // (current) state.
    let mut last_of = std::collections::HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        last_of.insert(c.id.as_str(), i);
    }
    let kept: Vec<_> = changes
        .iter()
        .enumerate()
        .filter(|(i, c)| last_of.get(c.id.as_str()) == Some(i))
        .map(|(_, c)| c)
        .collect();
    let ids: Vec<&str> = kept
        .iter()
        .filter(|c| c.op == ChangeOp::Put)
        .map(|c| c.id.as_str())
        .collect();
    let mut current = store.get_many(&ids)?.into_iter();
    let entries: Vec<Value> = kept
        .iter()
        .map(|c| {
            let listing = match c.op {
                ChangeOp::Put => current.next().flatten(),
                ChangeOp::Delete => None,
            };
            match listing.as_ref().and_then(public_view) {
                Some(view) => json!({"seq": c.seq, "id": c.id, "op": "put", "listing": view}),
                None => json!({"seq": c.seq, "id": c.id, "op": "delete"}),
            }
        })
        .collect();
    Ok(json!({"changes": entries, "next": next, "last": last}))
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
        // Read before the listings: every change after it is in the feed, so a follower that
        // applies them after the snapshot's pages converges whatever changed meanwhile.
        let seq = store.last_seq()?;
        let mut listings = Vec::new();
        let (mut last_id, mut scanned) = (None, 0);
        for listing in store.scan_after(after_id.as_deref()).take(limit) {
            let listing = listing?;
            scanned += 1;
            last_id = Some(listing.id.clone());
            listings.extend(public_view(&listing));
        }
        // A full page (drafts counted) may have more after it; a short one is the end.
        let next_id = last_id.filter(|_| scanned == limit);
        Ok::<_, ApiError>(json!({"listings": listings, "seq": seq, "next_id": next_id}))
    })
    .await??;
    Ok(Json(page))
}
