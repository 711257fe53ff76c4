//! The running service: the HTTP server with graceful shutdown, over the application's
//! [`AppState`]. `main` only parses the command line; tests start this on port 0.

mod client;
mod limits;

pub use limits::Limits;

use techmatch_index::SearchIndex;

use crate::store::Stores;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::middleware;
use axum::Router;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};

use crate::app::AppState;

/// How a node serves: what `serve`'s flags set, and what the tests set the same way.
#[derive(Debug, Clone)]
pub struct Config {
    /// The administrator's bearer token.
    pub admin_token: String,
    /// Mark session cookies `Secure` (TLS ends at a proxy that does not say so).
    pub secure_cookies: bool,
    /// Changes kept in the log for readers of the change feed, below what the followers
    /// applied.
    pub feed_retention: u64,
    /// Memory for answers to recent searches, in bytes (0: no cache).
    pub search_cache_bytes: usize,
    /// Searches one client may have waiting for the index at once (0: no limit).
    pub max_waits_per_client: usize,
    /// The load limits of every request.
    pub limits: Limits,
}

impl Config {
    /// The defaults of `serve`, with this admin token.
    pub fn new(admin_token: impl Into<String>) -> Self {
        Config {
            admin_token: admin_token.into(),
            secure_cookies: false,
            feed_retention: crate::app::FEED_RETENTION,
            search_cache_bytes: crate::search_cache::DEFAULT_MIB << 20,
            max_waits_per_client: crate::app::MAX_WAITS_PER_CLIENT,
            limits: Limits::default(),
        }
    }
}

/// Builds the application's state over `stores` and `index` as `config` says, and starts the
/// followers of the change log (index, duplicates, alerts).
pub fn start(stores: Stores, index: Arc<SearchIndex>, config: &Config) -> AppState {
    let mut state = AppState::start(stores, index, config.admin_token.clone());
    state.secure_cookies = config.secure_cookies;
    state
        .feed_retention
        .store(config.feed_retention, std::sync::atomic::Ordering::Relaxed);
    state.search_cache = Arc::new(crate::search_cache::SearchCache::new(
        config.search_cache_bytes,
    ));
    state.waiting = Arc::new(crate::app::Waiting::new(config.max_waits_per_client));
    state
}

/// The whole HTTP application, with the default limits.
pub fn app(state: AppState) -> Router {
    app_with_limits(state, Limits::default())
}

/// The whole HTTP application with these load limits.
pub fn app_with_limits(state: AppState, limits: Limits) -> Router {
    let timeout = limits.timeout;
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
        // The cap on requests in flight (more are refused at once, not queued) and the time
        // limit, each answered with our JSON 503. One semaphore for every route: axum gives
        // each route its own copy of a layer, so a plain concurrency limit would cap each apart.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |e: BoxError| async move {
                    limits::refusal(&e, timeout)
                }))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(limits.max_in_flight))
                .timeout(timeout),
        )
        .layer(middleware::from_fn(move |request, next| {
            limits::apply(buckets.clone(), limits.clone(), request, next)
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

/// Counts and times every answer, by route template (ids would make a series each), and logs
/// our failures once, inside the request's span (the adapters leave their detail in the
/// response's extensions).
async fn record(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
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
    let span = tracing::info_span!("request", method = %method, route = %route);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    if let Some(crate::app::FailureDetail(detail)) = response.extensions().get() {
        span.in_scope(|| tracing::error!(status = status.as_u16(), %detail, "request failed"));
    }
    state
        .metrics
        .request(&method, &route, status.as_u16(), started.elapsed());
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
