//! The running service: the HTTP server with graceful shutdown, over the application's
//! [`AppState`]. `main` only parses the command line; tests start this on port 0.

mod client;
mod limits;

pub use limits::Limits;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::middleware;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::AppState;

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
    Router::new()
        .merge(crate::api::router())
        .merge(crate::web::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(|| async { crate::api::method_not_allowed() })
        .layer(DefaultBodyLimit::max(crate::api::BODY_LIMIT))
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
    if request.uri().path().starts_with("/api/") {
        return crate::api::unknown_route();
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

/// Serves the API on `listener` until `shutdown` completes, then finishes requests in flight.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the per-address limits (failed sign-ins, writes).
    let app = app_with_limits(state, limits).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves `GET /metrics` alone, without a token, on `listener` (`serve --metrics-addr`).
pub async fn run_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, crate::api::metrics_router(state)).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
