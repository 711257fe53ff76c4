//! The running service: shared state, the index follower, and the HTTP server with graceful
//! shutdown. `main` only parses the command line; tests start this on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use techmatch_index::SearchIndex;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};

use crate::embed::store::VectorStore;
use crate::embed::{Semantic, SharedSemantic};
use crate::indexer;
use crate::search_cache::SearchCache;
use crate::store::{AccountStore, DealStore, Store, Stores};

/// Longest a search waits for the index to reach a requested sequence.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);
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
}

impl AppState {
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
        tokio::spawn(follow(store.clone(), index.clone(), written.clone(), tx));
        AppState {
            store,
            index,
            written,
            applied,
            admin_token: Arc::new(admin_token),
            accounts: stores.accounts,
            deals: stores.deals,
            sign_in_delay: SIGN_IN_DELAY,
            metrics,
            secure_cookies: false,
            semantic: None,
            search_cache: Arc::new(SearchCache::new(crate::search_cache::DEFAULT_MIB << 20)),
            cpu: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    /// Turns semantic matching on and starts the task that keeps the vectors following the
    /// store (after the index).
    pub fn start_semantic(&mut self, semantic: Arc<Semantic>, vectors: Arc<VectorStore>) {
        semantic.yield_to(self.cpu.clone());
        tokio::spawn(crate::embed::follower::follow(
            self.store.clone(),
            vectors,
            semantic.clone(),
            self.applied.clone(),
        ));
        self.semantic = Some(semantic);
    }

    /// Waits until the index has applied `seq`, up to [`MIN_SEQ_WAIT`]; false on time-out.
    pub async fn wait_for_seq(&self, seq: u64) -> bool {
        let mut applied = self.applied.clone();
        tokio::time::timeout(MIN_SEQ_WAIT, applied.wait_for(|a| *a >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Applies new store changes to the index whenever a write signals, and every second in case
/// a signal was missed or a change came from elsewhere.
async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    written: Arc<Notify>,
    applied: watch::Sender<u64>,
) {
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(1), written.notified()).await;
        let (store, index) = (store.clone(), index.clone());
        match tokio::task::spawn_blocking(move || indexer::catch_up(store.as_ref(), &index)).await {
            Ok(Ok(seq)) => {
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
