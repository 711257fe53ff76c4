//! The JSON API under `/api/v1`: one module per resource, merged here with the shared layers.

mod auth;
mod error;
mod json;
mod listings;
mod matches;
mod meta;
mod search;

pub use auth::Caller;
pub use error::ApiError;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use crate::server::AppState;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(listings::router())
        .merge(matches::router())
        .merge(search::router())
        .merge(meta::router());
    Router::new()
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
