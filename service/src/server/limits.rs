//! Load limits: a cap on requests in flight and a time limit per request (tower's global
//! concurrency limit, load shedding and timeout), and token buckets per client address for
//! writes, reads and sign-ins. Over a limit the answer is a prompt 503 or 429 with our JSON
//! error, never a hang.
//!
//! The buckets stay our own: writes are counted in the store when nodes share one (PostgreSQL),
//! so that a client spreading writes over the nodes gets one limit, and each kind of traffic has
//! its rate and its message; a per-node limiter (tower_governor) would do neither.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;
use tower::BoxError;

use super::client::client_ip;
use crate::api::ApiError;
use crate::app::ClientAddr;
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
    /// Reads (GET, HEAD) per second one client address may sustain; 0 turns the limit off.
    pub reads_per_second: f64,
    /// Reads one client address may send in a burst.
    pub read_burst: f64,
    /// Sign-ins (`POST /api/v1/tokens`, `POST /signin`) per minute one client address may
    /// sustain, right or wrong; 0 turns the limit off.
    pub sign_ins_per_minute: f64,
    /// Sign-ins one client address may send in a burst.
    pub sign_in_burst: f64,
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
            reads_per_second: 200.0,
            read_burst: 1000.0,
            sign_ins_per_minute: 60.0,
            sign_in_burst: 20.0,
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
    buckets: RateBuckets,
    shared: Option<Arc<dyn AccountStore>>,
}

impl WriteBuckets {
    /// Buckets in `store` when it shares them between nodes, else in memory.
    pub fn for_store(store: Arc<dyn AccountStore>) -> Self {
        WriteBuckets {
            buckets: RateBuckets::default(),
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
        self.buckets
            .take(addr, limits.writes_per_second, limits.write_burst)
    }
}

/// Addresses remembered at most; past this, full buckets are forgotten.
const MAX_BUCKETS: usize = 100_000;

/// Token buckets per client address, in this node's memory.
#[derive(Default)]
pub struct RateBuckets {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateBuckets {
    /// Takes one token from `addr`'s bucket (`per_second` refill, `burst` capacity); the
    /// seconds to wait when it is empty. A rate of 0 or less means no limit.
    pub fn take(&self, addr: IpAddr, per_second: f64, burst: f64) -> Result<(), u64> {
        if per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if buckets.len() > MAX_BUCKETS {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (tokens, at) = buckets.entry(addr).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// Every per-address bucket of one server.
#[derive(Default)]
pub struct Buckets {
    /// Writes, shared between nodes when the store is.
    pub writes: WriteBuckets,
    /// Reads, per node.
    pub reads: RateBuckets,
    /// Sign-ins, per node (failed sign-ins are also counted in the store, for every node).
    pub sign_ins: RateBuckets,
}

/// What kind of request, for the per-address limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Traffic {
    Read,
    Write,
    SignIn,
    Other,
}

fn traffic(method: &Method, path: &str) -> Traffic {
    match *method {
        Method::POST if path == "/api/v1/tokens" || path == "/signin" => Traffic::SignIn,
        Method::GET | Method::HEAD => Traffic::Read,
        Method::POST | Method::PUT | Method::DELETE => Traffic::Write,
        _ => Traffic::Other,
    }
}

/// Our answer when the in-flight cap refuses a request or its time runs out (tower's
/// `load_shed`, `GlobalConcurrencyLimitLayer` and `timeout`, layered in `app_with_limits`).
pub(super) fn refusal(e: &BoxError, timeout: Duration) -> Response {
    let message = if e.is::<Overloaded>() {
        "the server is busy; retry shortly".to_string()
    } else if e.is::<Elapsed>() {
        format!("the request took longer than {} s", timeout.as_secs())
    } else {
        format!("the request failed: {e}")
    };
    ApiError::Unavailable(message).into_response()
}

/// Applies the per-address buckets to one request (and records its client's address).
pub async fn apply(
    buckets: Arc<Buckets>,
    limits: Arc<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    // Routing would answer a path that is not UTF-8 once decoded with a plain-text 400.
    if std::str::from_utf8(&crate::web::next::percent_decode(request.uri().path())).is_err() {
        return ApiError::invalid("path", "is not valid UTF-8 once percent-decoded")
            .into_response();
    }
    let kind = traffic(request.method(), request.uri().path());
    let peer = client_ip(
        request.extensions(),
        request.headers(),
        &limits.trusted_proxies,
    );
    // Handlers (sign-in throttling, waits for the index) read the same address.
    request.extensions_mut().insert(ClientAddr(peer));
    // Unknown peers (in-process calls) are not rate limited.
    if let Some(addr) = peer {
        let (taken, what) = match kind {
            Traffic::Write => (
                buckets.writes.take_any(addr, &limits).await,
                format!("{} writes per second", limits.writes_per_second),
            ),
            Traffic::Read => (
                buckets
                    .reads
                    .take(addr, limits.reads_per_second, limits.read_burst),
                format!("{} reads per second", limits.reads_per_second),
            ),
            Traffic::SignIn => (
                buckets.sign_ins.take(
                    addr,
                    limits.sign_ins_per_minute / 60.0,
                    limits.sign_in_burst,
                ),
                format!("{} sign-ins per minute", limits.sign_ins_per_minute),
            ),
            Traffic::Other => (Ok(()), String::new()),
        };
        if let Err(retry_after) = taken {
            return ApiError::TooManyRequests {
                message: format!("more than {what} from {addr}; retry in {retry_after} s"),
                retry_after_secs: retry_after,
            }
            .into_response();
        }
    }
    next.run(request).await
}
