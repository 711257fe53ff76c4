//! The running service: shared state, the index follower, and the HTTP server with graceful
//! shutdown. `main` only parses the command line; tests start this on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use techmatch_index::SearchIndex;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};

use crate::app::{Links, Outbox};
use crate::embed::store::VectorStore;
use crate::embed::{Semantic, SharedSemantic};
use crate::indexer;
use crate::mail::{DeliveryConfig, Smtp};
use crate::search_cache::SearchCache;
use crate::store::{AccountStore, AlertStore, DealStore, Store, Stores};

/// Longest a search waits for the index to reach a requested sequence.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);
/// Where links in mail point when `serve` is not told (`--public-url`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// Requests of one client that may wait for the index at once (`min_seq`).
pub const MAX_WAITS_PER_CLIENT: usize = 8;

/// Requests waiting for the index, per client address, and how many one client may have.
#[derive(Debug)]
pub struct Waiting {
    counts: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    /// At most this many per client; 0: no limit (benchmarks, where every client is one
    /// loopback address).
    max: usize,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting::new(MAX_WAITS_PER_CLIENT)
    }
}

/// One request counted in [`Waiting`] until dropped.
pub struct WaitTurn<'a>(&'a Waiting, Option<std::net::IpAddr>);

impl Waiting {
    /// At most `max` waiting requests per client (0: no limit).
    pub fn new(max: usize) -> Self {
        Waiting {
            counts: std::sync::Mutex::default(),
            max,
        }
    }

    /// How many requests one client may have waiting (0: no limit).
    pub fn max(&self) -> usize {
        self.max
    }

    /// Counts one more waiting request of `client`; `None` when it has enough already.
    /// Requests with no known address (in process) are not counted.
    pub fn enter(&self, client: Option<std::net::IpAddr>) -> Option<WaitTurn<'_>> {
        let Some(ip) = client else {
            return Some(WaitTurn(self, None));
        };
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(ip).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(WaitTurn(self, Some(ip)))
    }
}

impl Drop for WaitTurn<'_> {
    fn drop(&mut self) {
        if let Some(ip) = self.1 {
            let mut counts = self.0.counts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&ip);
                }
            }
        }
    }
}

/// How long a failed sign-in waits before answering: slows guessing, costs a person nothing.
pub const SIGN_IN_DELAY: Duration = Duration::from_millis(250);

/// What every request handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The source of truth.
    pub store: Arc<dyn Store>,
    /// The search index, derived from the store.
    pub index: Arc<SearchIndex>,
    /// Wakes the index follower after a write.
    pub written: Arc<Notify>,
    /// The sequence the index has applied, updated by the follower.
    pub applied: watch::Receiver<u64>,
    /// The administrator's bearer token.
    pub admin_token: Arc<String>,
    /// Users, API tokens and failed sign-in counters.
    pub accounts: Arc<dyn AccountStore>,
    /// Leads, deals and deal histories.
    pub deals: Arc<dyn DealStore>,
    /// Organisations' records.
    pub orgs: Arc<dyn crate::store::OrgStore>,
    /// Pause before answering a failed sign-in ([`SIGN_IN_DELAY`]).
    pub sign_in_delay: Duration,
    /// Request, store and index figures for `GET /metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Mark session cookies `Secure` (the service is reached over TLS through a proxy that does
    /// not say so with `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// Semantic matching, when an embedder is configured.
    pub semantic: SharedSemantic,
    /// Answers to recent searches of the current index generation.
    pub search_cache: Arc<SearchCache>,
    /// Searches and matches running at once, one per core: more would only share the cores,
    /// each taking longer, while the rest wait their turn in order.
    pub cpu: Arc<Semaphore>,
    /// Mail waiting to be sent, and the links it carries back here.
    pub outbox: Outbox,
    /// Turns at hashing passwords (sign-in), one per core, with a bounded queue.
    pub passwords: Arc<crate::accounts::PasswordGate>,
    /// Searches waiting for the index (`min_seq`), per client.
    pub waiting: Arc<Waiting>,
    /// The vectors' follower, once semantic matching is on: the change log is pruned only
    /// below what it has applied too.
    pub vector_follower: Arc<OnceLock<(Arc<VectorStore>, Arc<Semantic>)>>,
    /// Changes kept in the log below what the followers applied, for the public change feed
    /// (`GET /changes`): a reader of the feed that falls further behind starts from the
    /// snapshot. [`FEED_RETENTION`] unless set (`serve --feed-retention`); 0 prunes up to the
    /// index.
    pub feed_retention: Arc<std::sync::atomic::AtomicU64>,
    /// Every listing's near-duplicate signature, following the store after the index.
    pub duplicates: Arc<crate::duplicates::Duplicates>,
    /// Standing searches and their alerts.
    pub alerts: Arc<dyn AlertStore>,
    /// Computes alerts after the index (its own follower task).
    pub alerter: Arc<crate::alerts::Alerter>,
}

/// Changes `serve` keeps in the log for readers of the change feed, by default.
pub const FEED_RETENTION: u64 = 100_000;

impl AppState {
    /// Runs a use case over the stores and the outbox on a blocking thread (the stores block).
    ///
    /// # Errors
    /// The use case's error; a panicking use case becomes [`AppError::Panicked`].
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(crate::app::Exchange<'_>) -> Result<T, crate::app::AppError> + Send + 'static,
    ) -> Result<T, crate::app::AppError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            work(crate::app::Exchange {
                orgs: state.orgs.as_ref(),
                accounts: state.accounts.as_ref(),
                listings: state.store.as_ref(),
                deals: state.deals.as_ref(),
                outbox: &state.outbox,
                alerts: state.alerts.as_ref(),
            })
        })
        .await
        .map_err(|e| crate::app::AppError::Panicked(e.to_string()))?
    }

    /// Builds the state and starts the task that keeps the index following the store.
    pub fn start(stores: Stores, index: Arc<SearchIndex>, admin_token: String) -> Self {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let store: Arc<dyn Store> = Arc::new(crate::store::TimedStore::new(
            stores.listings,
            metrics.clone(),
        ));
        let written = Arc::new(Notify::new());
        // Other nodes' writes reach this node through the store (PostgreSQL's LISTEN); the
        // listener stops once the state, and with it `written`, is gone.
        let weak = Arc::downgrade(&written);
        let wake = Arc::new(move |seq: Option<u64>| match weak.upgrade() {
            Some(written) => {
                if seq.is_some() {
                    written.notify_one();
                }
                true
            }
            None => false,
        });
        if let Err(e) = store.listen(wake) {
            tracing::warn!(error = %e, "not listening for other nodes' changes; polling every second");
        }
        let (tx, applied) = watch::channel(index.applied_seq());
        let vector_follower = Arc::new(OnceLock::new());
        let feed_retention = Arc::new(std::sync::atomic::AtomicU64::new(FEED_RETENTION));
        let duplicates = Arc::new(crate::duplicates::Duplicates::new());
        tokio::spawn(crate::duplicates::follow(
            store.clone(),
            duplicates.clone(),
            applied.clone(),
        ));
        let outbox = Outbox::new(stores.mail, Links::new(DEFAULT_PUBLIC_URL));
        let alerter = Arc::new(crate::alerts::Alerter::new(
            store.clone(),
            stores.alerts.clone(),
            stores.accounts.clone(),
            index.clone(),
            outbox.clone(),
        ));
        // Before the first request: listings written from now on are the ones that alert.
        if let Err(e) = alerter.start_position() {
            tracing::warn!(error = %e, "reading the alerts' position failed; will retry");
        }
        tokio::spawn(follow(
            store.clone(),
            index.clone(),
            written.clone(),
            tx,
            Followers {
                vectors: vector_follower.clone(),
                duplicates: duplicates.clone(),
                retention: feed_retention.clone(),
                alerts: stores.alerts.clone(),
            },
        ));
        tokio::spawn(crate::alerts::follower::follow(
            alerter.clone(),
            applied.clone(),
        ));
        AppState {
            store,
            index,
            written,
            applied,
            admin_token: Arc::new(admin_token),
            accounts: stores.accounts,
            deals: stores.deals,
            orgs: stores.orgs,
            sign_in_delay: SIGN_IN_DELAY,
            metrics,
            secure_cookies: false,
            semantic: None,
            search_cache: Arc::new(SearchCache::new(crate::search_cache::DEFAULT_MIB << 20)),
            cpu: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            outbox,
            passwords: Arc::new(crate::accounts::PasswordGate::per_core()),
            waiting: Arc::new(Waiting::default()),
            vector_follower,
            feed_retention,
            duplicates,
            alerts: stores.alerts,
            alerter,
        }
    }

    /// Links in mail point to `public_url` (the address people reach the service at).
    pub fn set_public_url(&mut self, public_url: &str) {
        self.outbox = Outbox::new(self.outbox.store().clone(), Links::new(public_url));
        self.alerter.set_outbox(self.outbox.clone());
    }

    /// Starts the task that sends the outbox's mail through `smtp`; without it, mail stays in
    /// the outbox (administrators see it at `/admin/outbox`).
    pub fn start_mail(&self, smtp: Smtp, config: DeliveryConfig) {
        tokio::spawn(crate::mail::deliver(
            self.outbox.store().clone(),
            smtp,
            self.outbox.bell(),
            config,
        ));
    }

    /// Turns semantic matching on and starts the task that keeps the vectors following the
    /// store (after the index).
    pub fn start_semantic(&mut self, semantic: Arc<Semantic>, vectors: Arc<VectorStore>) {
        let _ = self
            .vector_follower
            .set((vectors.clone(), semantic.clone()));
        semantic.yield_to(self.cpu.clone());
        tokio::spawn(crate::embed::follower::follow(
            self.store.clone(),
            vectors,
            semantic.clone(),
            self.applied.clone(),
        ));
        self.semantic = Some(semantic);
    }

    /// Waits until the index has applied `seq`, up to [`MIN_SEQ_WAIT`], for read-your-writes.
    ///
    /// A request must not hold a slot for nothing: a sequence the store has not handed out
    /// yet is refused at once (400 on `min_seq`), and one client waits in at most
    /// [`MAX_WAITS_PER_CLIENT`] requests at a time (429 beyond).
    ///
    /// # Errors
    /// As above; 503 when the index has not reached `seq` in time.
    pub async fn wait_for_seq(
        &self,
        seq: u64,
        client: Option<std::net::IpAddr>,
    ) -> Result<(), crate::api::ApiError> {
        use crate::api::ApiError;
        if *self.applied.borrow() >= seq {
            return Ok(());
        }
        let store = self.store.clone();
        let last = tokio::task::spawn_blocking(move || store.last_seq()).await??;
        if seq > last {
            return Err(ApiError::invalid(
                "min_seq",
                format!("is beyond the last write ({last}); pass the x-techmatch-seq of a write"),
            ));
        }
        let _waiting = self
            .waiting
            .enter(client)
            .ok_or(ApiError::TooManyRequests {
                message: format!(
                    "more than {} searches waiting for the index from one client",
                    self.waiting.max()
                ),
                retry_after_secs: 1,
            })?;
        let mut applied = self.applied.clone();
        let reached = tokio::time::timeout(MIN_SEQ_WAIT, applied.wait_for(|a| *a >= seq))
            .await
            .is_ok_and(|r| r.is_ok());
        if reached {
            Ok(())
        } else {
            Err(ApiError::Unavailable(format!(
                "the index has not reached sequence {seq} yet; retry shortly"
            )))
        }
    }
}

/// What else follows the change log, so that it is not pruned below them.
struct Followers {
    vectors: Arc<OnceLock<(Arc<VectorStore>, Arc<Semantic>)>>,
    duplicates: Arc<crate::duplicates::Duplicates>,
    retention: Arc<std::sync::atomic::AtomicU64>,
    alerts: Arc<dyn AlertStore>,
}

/// Applies new store changes to the index whenever a write signals, and every second in case
/// a signal was missed or a change came from elsewhere; then prunes the change log below what
/// every follower has applied.
async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    written: Arc<Notify>,
    applied: watch::Sender<u64>,
    followers: Followers,
) {
    let Followers {
        vectors,
        duplicates,
        retention,
        alerts,
    } = followers;
    let mut pruned = 0;
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(1), written.notified()).await;
        let (store, index) = (store.clone(), index.clone());
        let vectors = vectors.clone();
        let retention = retention.clone();
        let duplicates = duplicates.clone();
        let alerts = alerts.clone();
        let caught_up = tokio::task::spawn_blocking(move || {
            let seq = indexer::catch_up(store.as_ref(), &index)?;
            let floor = match vectors.get() {
                Some((v, s)) => v.applied(s.embedder.model()).map_or(0, |a| a.min(seq)),
                None => seq,
            };
            let floor = floor.min(duplicates.applied());
            // Nor below what alerts have been computed for (they follow the index).
            let floor = match alerts.alert_position() {
                Ok(at) => floor.min(at.unwrap_or(0)),
                Err(_) => pruned,
            };
            // Readers of the change feed follow the log too, at their own pace.
            let floor = floor.saturating_sub(retention.load(std::sync::atomic::Ordering::Relaxed));
            if floor > pruned {
                match store.prune_log(floor) {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, below = floor, "change log pruned"),
                    Err(e) => tracing::warn!(error = %e, "pruning the change log failed"),
                }
            }
            Ok::<_, indexer::IndexerError>((seq, floor.max(pruned)))
        })
        .await;
        match caught_up {
            Ok(Ok((seq, floor))) => {
                pruned = floor;
                applied.send_if_modified(|a| std::mem::replace(a, seq) != seq);
            }
            Ok(Err(e)) => tracing::error!(error = %e, "index update failed; will retry"),
            Err(e) => tracing::error!(error = %e, "index task panicked; will retry"),
        }
        if applied.is_closed() {
            return;
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then finishes requests in flight.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    limits: crate::api::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the per-address limits (failed sign-ins, writes).
    let app = crate::api::app_with_limits(state, limits)
        .into_make_service_with_connect_info::<SocketAddr>();
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
