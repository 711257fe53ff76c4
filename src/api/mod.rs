//! The JSON API under `/api/v1`: one module per resource, merged here with the web pages
//! (`crate::web`) and the shared layers.

mod auth;
mod backup;
mod changes;
mod client;
pub(crate) mod deals;
mod disclosures;
pub(crate) mod duplicates;
mod error;
mod export;
mod fields;
pub(crate) mod freshness;
mod json;
pub(crate) mod leads;
mod limits;
pub(crate) mod listings;
mod matches;
mod meta;
pub(crate) mod newest;
mod orgs;
mod outbox;
pub(crate) mod reports;
mod rights;
mod saved_searches;
mod schema;
mod search;
pub(crate) mod search_answer;
mod signup;
pub(crate) mod statistics;
mod tokens;
mod users;

pub use auth::{Caller, ClientAddr};
pub use error::ApiError;
pub use limits::Limits;
pub use meta::metrics_router;
pub use rights::Desk;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::middleware;
use axum::Router;
use tokio::sync::Semaphore;

use crate::server::AppState;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application, with the default limits.
pub fn app(state: AppState) -> Router {
    app_with_limits(state, Limits::default())
}

/// The whole HTTP application with these load limits.
pub fn app_with_limits(state: AppState, limits: Limits) -> Router {
    let slots = Arc::new(Semaphore::new(limits.max_in_flight));
    let limits = Arc::new(limits);
    let buckets = Arc::new(limits::Buckets {
        writes: limits::WriteBuckets::for_store(state.accounts.clone()),
        ..limits::Buckets::default()
    });
    let api = Router::new()
        .merge(listings::router())
        .merge(matches::router())
        .merge(search::router())
        .merge(meta::router())
        .merge(tokens::router())
        .merge(leads::router())
        .merge(deals::router())
        .merge(reports::router())
        .merge(backup::router())
        .merge(signup::router())
        .merge(users::router())
        .merge(outbox::router())
        .merge(orgs::router())
        .merge(statistics::router())
        .merge(changes::router())
        .merge(duplicates::router())
        .merge(schema::router())
        .merge(saved_searches::router())
        .merge(disclosures::router())
        .merge(freshness::router());
    Router::new()
        .nest("/api/v1", api)
        .merge(meta::root_router())
        .merge(crate::web::router())
        .merge(saved_searches::links_router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(move |request, next| {
            limits::apply(
                slots.clone(),
                buckets.clone(),
                limits.clone(),
                request,
                next,
            )
        }))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// No route: our JSON error under `/api/`, else a page in the visitor's language.
async fn unknown_route(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.uri().path().starts_with("/api/") {
        return ApiError::NotFound("route".into()).into_response();
    }
    crate::web::not_found(state, request).await
}

/// Counts and times every answer, by route template (ids would make a series each).
async fn record(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    // Known methods only: anything else would let clients mint series.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let response = next.run(request).await;
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
