//! `GET /listings/{id}/duplicates`: the listings that look like the same technology listed
//! again (`crate::duplicates`), among those the caller may see.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use crate::server::AppState;

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

/// The near-duplicates of listing `id` the caller may see, most similar first:
/// `[{"id", "similarity", "title"}]`; 404 when the caller may not see the listing itself.
pub(crate) async fn visible_duplicates(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Vec<Value>, ApiError> {
    let (store, duplicates, caller, id) = (
        state.store.clone(),
        state.duplicates.clone(),
        caller.clone(),
        id.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let asked = caller
            .visible(store.get(&id)?)
            .ok_or_else(|| ApiError::NotFound(format!("listing {id}")))?;
        // What a confidential need resembles would tell its hidden text.
        if !caller.reads_in_full(&asked) {
            return Ok(Vec::new());
        }
        let found = duplicates.of(&id);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let listings = store.get_many(&ids)?;
        Ok(found
            .iter()
            .zip(listings)
            .filter_map(|((id, similarity), listing)| {
                let listing = caller
                    .visible(listing)
                    .filter(|l| caller.reads_in_full(l))?;
                // Two decimals: the estimate is not finer than that.
                let similarity = (f64::from(*similarity) * 100.0).round() / 100.0;
                Some(json!({"id": id, "similarity": similarity, "title": listing.title}))
            })
            .collect())
    })
    .await?
}
