//! The JSON API under `/api/v1`: one module per resource, merged here with the shared layers.

mod auth;
mod deals;
mod error;
mod fields;
mod json;
mod leads;
mod listings;
mod meta;
mod reports;
mod rights;
mod search;
mod tokens;

pub use auth::{Caller, ClientAddr};
pub use error::ApiError;
pub use rights::Desk;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use crate::server::AppState;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(listings::router())
        .merge(search::router())
        .merge(meta::router())
        .merge(tokens::router())
        .merge(leads::router())
        .merge(deals::router())
        .merge(reports::router());
    Router::new()
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
