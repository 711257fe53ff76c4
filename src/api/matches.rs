//! Matching routes: a stored need's technologies, a technology's needs, an ad-hoc need's.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::auth::Caller;
use super::error::ApiError;
use super::json::JsonObject;
use super::json::Query;
use super::limits::cpu_turn;
use crate::domain::{Kind, Status};
use crate::embed::{FUSED, SKIPPED};
use crate::matching::{for_listing, run, AdHocNeed, MatchParams, MatchResponse};
use crate::server::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/needs/{id}/matches", get(need_matches))
        .route("/listings/{id}/matches", get(listing_matches))
        .route("/match", post(ad_hoc))
}

/// `?semantic=on|off` on the matching routes.
#[derive(Debug, Default, serde::Deserialize)]
struct SemanticFlag {
    semantic: Option<String>,
}

/// A match answer and, with an embedder, whether the semantic neighbours are in it
/// (`fused`) or the query's vector did not arrive in time (`skipped`).
#[derive(Debug, serde::Serialize)]
pub struct Answer {
    #[serde(flatten)]
    response: MatchResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    semantic: Option<&'static str>,
}

/// Runs a match request, with semantic neighbours when wanted and available; `own` is the
/// stored listing whose vector to use, if any.
async fn run_with(
    state: &AppState,
    mut request: techmatch_index::MatchRequest,
    semantic: bool,
    own: Option<String>,
) -> Result<Json<Answer>, ApiError> {
    let semantic = state.semantic.clone().filter(|_| semantic);
    // The vector first, outside the turn on the cores, waited for only until the deadline:
    // past it the match is lexical.
    let vector = match &semantic {
        Some(s) => s.match_vector_within(&request, own.as_deref()).await,
        None => None,
    };
    if semantic.is_some() {
        state.metrics.query_vector(vector.is_some());
    }
    let marker = semantic
        .as_ref()
        .map(|_| if vector.is_some() { FUSED } else { SKIPPED });
    let _turn = cpu_turn(state).await?;
    let index = state.index.clone();
    let response = tokio::task::spawn_blocking(move || {
        if let (Some(semantic), Some(vector)) = (semantic, vector) {
            semantic.add_match_neighbours(&mut request, &vector);
        }
        run(&index, &request)
    })
    .await??;
    Ok(Json(Answer {
        response,
        semantic: marker,
    }))
}

async fn matches_of(
    state: AppState,
    caller: Caller,
    id: String,
    params: MatchParams,
    flag: SemanticFlag,
    must_be_need: bool,
) -> Result<Json<Answer>, ApiError> {
    let (geography, limit) = params.check().map_err(ApiError::Invalid)?;
    let semantic = crate::embed::wanted(flag.semantic.as_deref()).map_err(ApiError::Invalid)?;
    let store = state.store.clone();
    let lookup = id.clone();
    let listing = tokio::task::spawn_blocking(move || store.get(&lookup)).await??;
    let listing = match listing {
        Some(l) if caller == Caller::Admin || l.status != Status::Draft => l,
        _ => return Err(ApiError::NotFound(format!("listing {id:?}"))),
    };
    if must_be_need && listing.kind != Kind::Need {
        return Err(ApiError::NotFound(format!("need {id:?}")));
    }
    // Those who may not read a confidential need match what they read of it, its summary.
    let full = caller.reads_in_full(&listing);
    let listing = if full { listing } else { listing.redacted() };
    let request = for_listing(&listing, geography, limit);
    run_with(&state, request, semantic, full.then_some(listing.id)).await
}

async fn need_matches(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<MatchParams>,
    Query(flag): Query<SemanticFlag>,
) -> Result<Json<Answer>, ApiError> {
    matches_of(state, caller, id, params, flag, true).await
}

async fn listing_matches(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<MatchParams>,
    Query(flag): Query<SemanticFlag>,
) -> Result<Json<Answer>, ApiError> {
    matches_of(state, caller, id, params, flag, false).await
}

async fn ad_hoc(
    State(state): State<AppState>,
    // Unused but checked: a wrong token is refused here as on every other route.
    _caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<Answer>, ApiError> {
    let need: AdHocNeed = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| ApiError::BadJson(format!("not an ad-hoc need: {e}")))?;
    let request = need.to_request().map_err(ApiError::Invalid)?;
    run_with(&state, request, need.semantic.unwrap_or(true), None).await
}
