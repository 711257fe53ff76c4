//! Reference data and service facts: provinces, fields of science, health, the OpenAPI document.

use super::openapi as doc;
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
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "meta_guarded_metrics",
    summary = "This node's request counts and latencies, store latency, index size and lag (Prometheus text format). Needs an administrator's token here; `serve --metrics-addr` also serves it without one on a separate address.",
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        (status = 503, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn guarded_metrics(
    state: State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_admin()?;
    metrics(state).await
}

#[utoipa::path(
    get,
    path = "/api/v1/provinces",
    operation_id = "meta_provinces",
    summary = "The 34 provincial units of 2025",
    responses(
        (status = 200, description = "Provinces", body = inline(Vec<doc::MetaProvincesResponseItem>), content_type = "application/json"),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn provinces() -> Json<Value> {
    Json(json!(Provinces::get().all()))
}

#[utoipa::path(
    get,
    path = "/api/v1/fields",
    operation_id = "meta_fields_of_science",
    summary = "OECD fields of science",
    responses(
        (status = 200, description = "Fields", body = inline(Vec<doc::MetaFieldsOfScienceResponseItem>), content_type = "application/json"),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn fields_of_science() -> Json<Value> {
    Json(json!(fields()))
}

/// Health for anyone. The index also holds drafts, so its size (against the public total of
/// a search) would tell how many listings are unpublished: `listings_indexed` is given to
/// administrators only.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    operation_id = "meta_health",
    summary = "Service health and index lag",
    responses(
        (status = 200, description = "Health", body = inline(doc::MetaHealthResponse), content_type = "application/json"),
        (status = 503, response = doc::ErrorResponse)
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "meta_openapi",
    summary = "This document",
    responses(
        (status = 200, description = "OpenAPI 3 document", body = HashMap<String, serde_json::Value>, content_type = "application/json"),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc::document(),
    )
}
