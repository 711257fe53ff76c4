//! Load limits: a cap on requests in flight and a time limit per request. Over a limit the
//! answer is a prompt 503 with our JSON error, never a hang.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::auth::ClientAddr;
use super::client::client_ip;
use super::error::ApiError;
use crate::store::{AccountStore, WriteToken};

/// The limits one server applies.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests handled at once; more are refused rather than queued.
    pub max_in_flight: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Writes (POST, PUT, DELETE) per second one client address may sustain.
    pub writes_per_second: f64,
    /// Writes one client address may send in a burst.
    pub write_burst: f64,
    /// Reverse proxies whose `X-Forwarded-For` names the client (per-address limits).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 512,
            timeout: Duration::from_secs(30),
            writes_per_second: 50.0,
            write_burst: 200.0,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Token buckets of writes per client address.
///
/// Kept in the store when it is shared by several nodes (PostgreSQL), so that a client spreading
/// writes over the nodes gets one limit; else in memory, each node limiting what reaches it.
/// A shared store that fails falls back to the node's own buckets. (Sign-in failures are
/// counted in the store in any case.)
#[derive(Default)]
pub struct WriteBuckets {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    shared: Option<Arc<dyn AccountStore>>,
}

impl WriteBuckets {
    /// Buckets in `store` when it shares them between nodes, else in memory.
    pub fn for_store(store: Arc<dyn AccountStore>) -> Self {
        WriteBuckets {
            buckets: Mutex::default(),
            shared: store.shares_write_limits().then_some(store),
        }
    }

    /// Takes one write from `addr`'s bucket, in the shared store when there is one.
    async fn take_any(&self, addr: IpAddr, limits: &Arc<Limits>) -> Result<(), u64> {
        if let Some(store) = &self.shared {
            let (store, l) = (store.clone(), limits.clone());
            let taken = tokio::task::spawn_blocking(move || {
                store.take_write(&addr.to_string(), l.writes_per_second, l.write_burst)
            })
            .await;
            match taken {
                Ok(Ok(WriteToken::Taken)) => return Ok(()),
                Ok(Ok(WriteToken::Empty(wait))) => return Err(wait),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "shared write limit unavailable; counting on this node")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "shared write limit failed; counting on this node")
                }
            }
        }
        self.take(addr, limits)
    }
}

/// Addresses remembered at most; past this, full buckets are forgotten.
const MAX_BUCKETS: usize = 100_000;

impl WriteBuckets {
    /// Takes one write from `addr`'s bucket; the seconds to wait when it is empty.
    fn take(&self, addr: IpAddr, limits: &Limits) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if buckets.len() > MAX_BUCKETS {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * limits.writes_per_second
                    < limits.write_burst
            });
        }
        let (tokens, at) = buckets.entry(addr).or_insert((limits.write_burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * limits.writes_per_second)
            .min(limits.write_burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / limits.writes_per_second.max(f64::MIN_POSITIVE);
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// Applies `limits` around one request.
pub async fn apply(
    slots: Arc<Semaphore>,
    buckets: Arc<WriteBuckets>,
    limits: Arc<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::DELETE
    );
    // Sign-in has its own, stricter limit; reads and unknown peers are not rate limited.
    let sign_in = request.uri().path().starts_with("/api/v1/tokens");
    let peer = client_ip(
        request.extensions(),
        request.headers(),
        &limits.trusted_proxies,
    );
    // Handlers (sign-in throttling) read the same address.
    request.extensions_mut().insert(ClientAddr(peer));
    if let (true, false, Some(addr)) = (writes, sign_in, peer) {
        if let Err(retry_after) = buckets.take_any(addr, &limits).await {
            return ApiError::TooManyRequests {
                message: format!(
                    "more than {} writes per second from {addr}; retry in {retry_after} s",
                    limits.writes_per_second
                ),
                retry_after_secs: retry_after,
            }
            .into_response();
        }
    }
    let timeout = limits.timeout;
    let Ok(_slot) = slots.try_acquire() else {
        return ApiError::Unavailable("the server is busy; retry shortly".into()).into_response();
    };
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "the request took longer than {} s",
            timeout.as_secs()
        ))
        .into_response(),
    }
}

/// Waits for a turn on the cores (`AppState::cpu`) for one search or match, in arrival order.
pub(super) async fn cpu_turn(
    state: &crate::server::AppState,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state
        .cpu
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))
}
