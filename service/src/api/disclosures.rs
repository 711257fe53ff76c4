//! `POST /listings/{id}/disclosures` `{"org"}`: a confidential need disclosed to a supplier's
//! organisation, by the enterprise accepting its interest or by a broker introducing them
//! (`app::confidential`); the need's disclosures answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::openapi as doc;
use crate::app::confidential::{disclose, Disclose};
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::confidential::DisclosedVia;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/listings/{id}/disclosures", post(create))
}

/// `201 {"disclosures": [...]}` when disclosed now, `200` when it was already.
#[utoipa::path(
    post,
    path = "/api/v1/listings/{id}/disclosures",
    operation_id = "disclosures_create",
    summary = "Disclose a confidential need in full to an organisation (by name or id): the need's organisation accepting a supplier's interest, a broker of its province introducing them, or an admin. Kept in the need's disclosures; the organisation's members are mailed.",
    params(
        ("id" = String, Path)
    ),
    request_body(content = doc::DisclosureRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Disclosed now", body = doc::DisclosuresResponse, content_type = "application/json"),
        (status = 200, description = "Disclosed before", body = doc::DisclosuresResponse, content_type = "application/json"),
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
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = Fields::new(body, &["org"])?;
    let org = body.required("org")?;
    caller.actor()?;
    let via = DisclosedVia::by(caller.role());
    let who = caller.clone();
    let (need, fresh) = state
        .run(move |ex| {
            let what = Disclose {
                need_id: &id,
                org: &org,
                via,
                deal_id: None,
            };
            disclose(ex, who.actor()?, what, Utc::now())
        })
        .await?;
    state.written.notify_one();
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({ "id": need.id, "disclosures": need.disclosures })),
    ))
}
