//! Expressions of interest: `POST /listings/{id}/interest` by an enterprise member, and
//! `GET /leads`, the leads a caller may see, and `POST /leads/{id}/reply`, the technology's
//! organisation's answer.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::app::{leads, AppState, Caller};
use crate::domain::deal::Lead;

/// The routes of this module: interest and leads.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/interest", post(interest))
        .route("/leads", get(leads))
        .route("/leads/{id}/reply", post(reply))
}

#[utoipa::path(
    post,
    path = "/api/v1/listings/{id}/interest",
    operation_id = "leads_interest",
    summary = "Mark interest in a research output or patent (enterprise members); a lead for the owner organisation and the brokers of both provinces. A second interest from the same organisation in the same technology updates the first (same id); the technology's organisation is mailed.",
    params(
        ("id" = String, Path)
    ),
    request_body(content = inline(doc::LeadsInterestRequest), content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = doc::Lead, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn interest(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Lead>), ApiError> {
    let message = Fields::new(body, &["message"])?.text("message")?;
    let lead = leads::express_interest(&state, &caller, id, message).await?;
    Ok((StatusCode::CREATED, Json(lead)))
}

#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/reply",
    operation_id = "leads_reply",
    summary = "Answer interest in a technology (members of its organisation, administrators); the enterprise is mailed, and it and the brokers see the answer",
    params(
        ("id" = String, Path)
    ),
    request_body(content = inline(doc::LeadsReplyRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Answered", body = doc::Lead, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Lead>, ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &["message"])?;
    let message = body.required("message")?;
    let lead = state
        .run(move |ex| {
            // A lead the caller may not see answers as if it did not exist.
            match ex.deals.lead(&id)? {
                Some(l) if caller.may_see_lead(&l) => {}
                _ => return Err(crate::app::AppError::NotFound("lead".into())),
            }
            let actor = caller
                .actor()
                .map_err(|_| crate::app::AppError::Forbidden(crate::app::Refusal::UsersOnly))?;
            leads::reply(ex.deals, ex.outbox, actor, &id, &message, Utc::now())
        })
        .await?;
    Ok(Json(lead))
}

#[utoipa::path(
    get,
    path = "/api/v1/leads",
    operation_id = "leads_leads",
    summary = "Leads the caller may see: admins all; brokers those of their province (technology's or enterprise's); members those of their organisation",
    responses(
        (status = 200, description = "Leads, oldest first", body = inline(doc::LeadsLeadsResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn leads(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let deals = state.deals.clone();
    let all = tokio::task::spawn_blocking(move || deals.leads()).await??;
    let visible: Vec<Lead> = all.into_iter().filter(|l| caller.may_see_lead(l)).collect();
    Ok(Json(json!({ "total": visible.len(), "leads": visible })))
}
