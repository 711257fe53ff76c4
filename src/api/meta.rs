//! Reference data and service facts: provinces, fields of science, health, the OpenAPI document.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::field::fields;
use crate::domain::Provinces;

/// The OpenAPI 3 description of this API, kept beside the routes it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/provinces", get(provinces))
        .route("/fields", get(fields_of_science))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
}

/// Routes outside `/api/v1`: the Prometheus scrape target, for the admin token.
pub fn root_router() -> Router<AppState> {
    Router::new().route("/metrics", get(guarded_metrics))
}

/// The scrape target alone and without a token, for `serve --metrics-addr` (an address only
/// the monitoring can reach).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .with_state(state)
}

/// `GET /metrics` on the service's address: counts of failed sign-ins and deal activity are
/// not a visitor's business.
async fn guarded_metrics(
    state: State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_admin()?;
    metrics(state).await
}

async fn provinces() -> Json<Value> {
    Json(json!(Provinces::get().all()))
}

async fn fields_of_science() -> Json<Value> {
    Json(json!(fields()))
}

/// Health for anyone. The index also holds drafts, so its size (against the public total of
/// a search) would tell how many listings are unpublished: `listings_indexed` is given to
/// administrators only.
async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let store_seq = state.store.last_seq()?;
    let index_seq = *state.applied.borrow();
    let mut out = json!({
        "status": "ok",
        "store_seq": store_seq,
        "index_seq": index_seq,
        "index_lag": store_seq.saturating_sub(index_seq),
    });
    if holds_admin_token(&headers, &state) {
        out["listings_indexed"] = json!(state.index.num_docs());
    }
    out["semantic"] = match &state.semantic {
        None => json!({"enabled": false}),
        Some(s) => json!({
            "enabled": true,
            "model": s.embedder.model(),
            "embedder_reachable": s.reachable.load(Ordering::Relaxed),
            "vectors": s.vectors.read().map_or(0, |v| v.len()),
            "pending_vectors": s.pending.load(Ordering::Relaxed),
        }),
    };
    Ok(Json(out))
}

/// Whether the request carries the admin token; health ignores any other credentials (a wrong
/// token does not make it fail).
fn holds_admin_token(headers: &HeaderMap, state: &AppState) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| super::auth::same(t.trim().as_bytes(), state.admin_token.as_bytes()))
}

/// `GET /metrics`: the node's figures in Prometheus' text format.
async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let store_seq = state.store.last_seq()?;
    let text = state.metrics.render(crate::metrics::Gauges {
        documents: state.index.num_docs(),
        store_seq,
        index_seq: *state.applied.borrow(),
    });
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
