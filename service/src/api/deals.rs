//! `/deals`: brokers propose deals between a need and a technology, move them through the
//! pipeline, and read their append-only history. No route changes or removes history.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::app::deals::{self, Proposal, StageMove};
use crate::app::{AppState, Caller};
use crate::domain::deal::Deal;

/// The routes of this module: proposing, moving and reading deals.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deals", get(list).post(propose))
        .route("/deals/{id}/stage", post(move_stage))
        .route("/deals/{id}/history", get(history))
}

/// `{"need_id", "listing_id" | "lead_id", "note"}` → `201` with the deal, in stage proposed.
#[utoipa::path(
    post,
    path = "/api/v1/deals",
    operation_id = "deals_propose",
    summary = "Propose a deal between a need and a research output or patent (brokers of either side's province; admins)",
    request_body(content = doc::DealRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Proposed", body = doc::Deal, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Deal>), ApiError> {
    caller.desk()?;
    let body = Fields::new(body, &["need_id", "listing_id", "lead_id", "note"])?;
    let proposal = Proposal {
        need_id: body.required("need_id")?,
        listing_id: body.text("listing_id")?,
        lead_id: body.text("lead_id")?,
        note: body.text("note")?,
    };
    let deal = deals::propose_deal(&state, &caller, proposal).await?;
    Ok((StatusCode::CREATED, Json(deal)))
}

#[utoipa::path(
    get,
    path = "/api/v1/deals",
    operation_id = "deals_list",
    summary = "Deals on the caller's desk: brokers those touching their province; admins all",
    responses(
        (status = 200, description = "Deals, oldest first", body = inline(doc::DealsListResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let visible = deals::deals_on_desk(&state, &caller).await?;
    Ok(Json(json!({ "total": visible.len(), "deals": visible })))
}

/// `{"stage", "note", "contract_value_vnd", "signed_on", "reason"}` → the deal as it now is.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/stage",
    operation_id = "deals_move_stage",
    summary = "Move a deal: proposed → contacted → negotiating → agreed (contract_value_vnd and signed_on required), or lost (reason required) from any open stage; other moves answer 409",
    params(
        ("id" = String, Path)
    ),
    request_body(content = doc::StageRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The deal as it now is", body = doc::Deal, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn move_stage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Deal>, ApiError> {
    caller.desk()?;
    let body = Fields::new(
        body,
        &["stage", "note", "contract_value_vnd", "signed_on", "reason"],
    )?;
    let asked = StageMove {
        stage: Some(body.required("stage")?),
        note: body.text("note")?,
        contract_value_vnd: body.amount("contract_value_vnd")?,
        signed_on: body.date("signed_on")?.map(|d| d.to_string()),
        reason: body.text("reason")?,
    };
    Ok(Json(deals::move_deal(&state, &caller, &id, asked).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/deals/{id}/history",
    operation_id = "deals_history",
    summary = "The deal's append-only history: who did what, when",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Entries in order", body = inline(doc::DealsHistoryResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = deals::history(&state, &caller, &id).await?;
    Ok(Json(json!({ "deal_id": id, "events": events })))
}
