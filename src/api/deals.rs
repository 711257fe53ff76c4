//! `/deals`: brokers propose deals between a need and a technology, move them through the
//! pipeline, and read their append-only history. No route changes or removes history.

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

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let visible = deals::deals_on_desk(&state, &caller).await?;
    Ok(Json(json!({ "total": visible.len(), "deals": visible })))
}

/// `{"stage", "note", "contract_value_vnd", "signed_on", "reason"}` → the deal as it now is.
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

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = deals::history(&state, &caller, &id).await?;
    Ok(Json(json!({ "deal_id": id, "events": events })))
}
