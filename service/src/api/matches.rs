//! Matching routes: a stored need's technologies, a technology's needs, an ad-hoc need's.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::error::ApiError;
use super::json::{typed, JsonObject, Query};
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::{Kind, Status};
use crate::embed::{FUSED, SKIPPED};
use crate::matching::{for_listing, run, AdHocNeed, MatchParams, MatchResponse};

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
    let _turn = state.cpu_turn().await?;
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

#[utoipa::path(
    get,
    path = "/api/v1/needs/{id}/matches",
    operation_id = "matches_need_matches",
    summary = "Technologies (research outputs, patents) that fit a need, explained",
    params(
        ("id" = String, Path),
        ("geography" = Option<String>, Query, description = "any, near (default) or only"),
        ("provinces" = Option<String>, Query, description = "Comma-separated provinces for geography=only"),
        ("limit" = Option<String>, Query, description = "Matches to return, 1-100 (default 10)"),
        ("semantic" = inline(Option<doc::SemanticSwitch>), Query, description = "on (default) or off: fuse semantic neighbours with the lexical ranking when an embedder is configured")
    ),
    responses(
        (status = 200, description = "Matches", body = doc::MatchResponse, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn need_matches(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<MatchParams>,
    Query(flag): Query<SemanticFlag>,
) -> Result<Json<Answer>, ApiError> {
    matches_of(state, caller, id, params, flag, true).await
}

#[utoipa::path(
    get,
    path = "/api/v1/listings/{id}/matches",
    operation_id = "matches_listing_matches",
    summary = "Listings on the other side that fit a listing (needs for a technology)",
    params(
        ("id" = String, Path),
        ("geography" = Option<String>, Query, description = "any, near (default) or only"),
        ("provinces" = Option<String>, Query, description = "Comma-separated provinces for geography=only"),
        ("limit" = Option<String>, Query, description = "Matches to return, 1-100 (default 10)"),
        ("semantic" = inline(Option<doc::SemanticSwitch>), Query, description = "on (default) or off: fuse semantic neighbours with the lexical ranking when an embedder is configured")
    ),
    responses(
        (status = 200, description = "Matches", body = doc::MatchResponse, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn listing_matches(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<MatchParams>,
    Query(flag): Query<SemanticFlag>,
) -> Result<Json<Answer>, ApiError> {
    matches_of(state, caller, id, params, flag, false).await
}

#[utoipa::path(
    post,
    path = "/api/v1/match",
    operation_id = "matches_ad_hoc",
    summary = "Technologies that fit an ad-hoc need",
    request_body(content = doc::AdHocNeed, content_type = "application/json"),
    responses(
        (status = 200, description = "Matches", body = doc::MatchResponse, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse)
    )
)]
async fn ad_hoc(
    State(state): State<AppState>,
    // Unused but checked: a wrong token is refused here as on every other route.
    _caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<Answer>, ApiError> {
    let need: AdHocNeed = typed(body, "not an ad-hoc need")?;
    let request = need.to_request().map_err(ApiError::Invalid)?;
    run_with(&state, request, need.semantic.unwrap_or(true), None).await
}
