//! Expressions of interest: `POST /listings/{id}/interest` by an enterprise member, and
//! `GET /leads`, the leads a caller may see.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::accounts::credentials::new_id;
use crate::domain::account::User;
use crate::domain::deal::{clean_text, Lead};
use crate::domain::{Kind, ProvinceCode, Status};
use crate::server::AppState;
use crate::store::Store;

/// The routes of this module: interest and leads.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/interest", post(interest))
        .route("/leads", get(leads))
}

/// The enterprise's province: the member's own, else the one most of their organisation's
/// listings name (ties to the lowest code), else unknown.
fn enterprise_province(store: &dyn Store, user: &User) -> Result<Option<ProvinceCode>, ApiError> {
    if user.province.is_some() {
        return Ok(user.province.clone());
    }
    let mut counts: BTreeMap<ProvinceCode, usize> = BTreeMap::new();
    for listing in store.scan() {
        let listing = listing?;
        if listing.owner.is_some() && listing.owner == user.org {
            if let Some(p) = listing.province {
                *counts.entry(p).or_default() += 1;
            }
        }
    }
    let best = counts.values().copied().max().unwrap_or(0);
    Ok(counts
        .into_iter()
        .find(|(_, n)| *n == best && best > 0)
        .map(|(p, _)| p))
}

async fn interest(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Lead>), ApiError> {
    let lead = mark_interest(&state, &caller, id, body).await?;
    Ok((StatusCode::CREATED, Json(lead)))
}

/// Records an enterprise member's interest (`{"message"}`) in the technology `id` as a lead;
/// the API route and the web form both come here.
pub(crate) async fn mark_interest(
    state: &AppState,
    caller: &Caller,
    id: String,
    body: serde_json::Map<String, Value>,
) -> Result<Lead, ApiError> {
    let user = caller.enterprise()?.clone();
    let body = Fields::new(body, &["message"])?;
    let message = clean_text("message", Some(&body.required("message")?))
        .map_err(ApiError::Invalid)?
        .unwrap_or_default();
    let (store, deals) = (state.store.clone(), state.deals.clone());
    let lead = tokio::task::spawn_blocking(move || {
        let listing = store
            .get(&id)?
            .filter(|l| l.status != Status::Draft)
            .ok_or_else(|| ApiError::NotFound(format!("listing {id:?}")))?;
        if listing.kind == Kind::Need {
            return Err(ApiError::invalid(
                "id",
                "interest is marked on research outputs and patents, not on needs",
            ));
        }
        let org = user.org.clone().unwrap_or_default();
        if listing.owner.as_deref() == Some(org.as_str()) {
            return Err(ApiError::invalid(
                "id",
                "this technology belongs to your own organisation",
            ));
        }
        let lead = Lead {
            id: new_id("ld").map_err(|e| ApiError::Internal(e.to_string()))?,
            listing_id: listing.id.clone(),
            listing_title: listing.title.clone(),
            listing_owner: listing.owner.clone(),
            listing_province: listing.province.clone(),
            from_email: user.email.clone(),
            from_province: enterprise_province(store.as_ref(), &user)?,
            from_org: org,
            message,
            created_at: Utc::now(),
        };
        deals.add_lead(&lead)?;
        Ok::<_, ApiError>(lead)
    })
    .await??;
    Ok(lead)
}

async fn leads(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let deals = state.deals.clone();
    let all = tokio::task::spawn_blocking(move || deals.leads()).await??;
    let visible: Vec<Lead> = all.into_iter().filter(|l| caller.may_see_lead(l)).collect();
    Ok(Json(json!({ "total": visible.len(), "leads": visible })))
}
