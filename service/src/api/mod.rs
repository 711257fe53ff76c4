//! The JSON API under `/api/v1`: one module per resource, each a thin adapter over the
//! application (`crate::app`). `crate::server` merges it with the pages and the layers.

mod auth;
mod backup;
mod changes;
pub(crate) mod deals;
mod disclosures;
pub(crate) mod duplicates;
mod error;
mod export;
mod fields;
pub(crate) mod freshness;
mod json;
pub(crate) mod leads;
pub(crate) mod listings;
mod matches;
mod meta;
mod openapi;
mod orgs;
mod outbox;
pub(crate) mod reports;
mod saved_searches;
mod schema;
mod search;
mod signup;
pub(crate) mod statistics;
mod tokens;
mod users;

pub use crate::app::ClientAddr;
pub use crate::app::{Caller, Desk};
pub use error::ApiError;
pub use meta::metrics_router;

use axum::Router;

use crate::app::AppState;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The JSON API's routes: `/api/v1/…`, the root's (`/openapi.json`, `/health`…) and the links
/// people follow from mail (unsubscribe, feeds).
pub fn router() -> Router<AppState> {
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
        .merge(saved_searches::links_router())
}

/// The answer to an address under `/api/` that has no route.
pub fn unknown_route() -> axum::response::Response {
    use axum::response::IntoResponse;
    ApiError::NotFound("route".into()).into_response()
}

/// The answer to a known route called with another method.
pub fn method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    ApiError::MethodNotAllowed.into_response()
}
