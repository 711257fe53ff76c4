//! [`AppState`]: what every use case and every request handler shares (stores, index,
//! followers, caches, the outbox), and how it starts.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use techmatch_index::SearchIndex;
use tokio::sync::{watch, Notify, Semaphore};

use crate::app::{AppError, Links, Outbox};
use crate::embed::store::VectorStore;
use crate::embed::{Semantic, SharedSemantic};
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
        work: impl FnOnce(crate::app::Exchange<'_>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(state.exchange()))
            .await
            .map_err(AppError::Panicked)?
    }

    /// [`AppState::run`] as background work, which gives way to requests
    /// ([`crate::app::background`]).
    ///
    /// # Errors
    /// The use case's error; a panicking use case becomes [`AppError::Background`].
    pub async fn run_in_background<T: Send + 'static>(
        &self,
        name: &'static str,
        work: impl FnOnce(crate::app::Exchange<'_>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let state = self.clone();
        crate::app::background::run(name, move || work(state.exchange())).await?
    }

    /// The stores and the outbox, borrowed for a use case run on the current (blocking) thread.
    pub fn exchange(&self) -> crate::app::Exchange<'_> {
        crate::app::Exchange {
            orgs: self.orgs.as_ref(),
            accounts: self.accounts.as_ref(),
            listings: self.store.as_ref(),
            deals: self.deals.as_ref(),
            outbox: &self.outbox,
            alerts: self.alerts.as_ref(),
        }
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
        tokio::spawn(crate::indexer::follow(
            store.clone(),
            index.clone(),
            written.clone(),
            tx,
            crate::indexer::Followers {
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

    /// Waits for a turn on the cores ([`AppState::cpu`]) for one search or match, in arrival
    /// order.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] once the server is shutting down.
    pub async fn cpu_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        self.cpu
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Unavailable("the server is shutting down".into()))
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
    ) -> Result<(), AppError> {
        if *self.applied.borrow() >= seq {
            return Ok(());
        }
        let store = self.store.clone();
        let last = tokio::task::spawn_blocking(move || store.last_seq()).await??;
        if seq > last {
            return Err(AppError::Invalid(crate::domain::FieldError {
                field: "min_seq".into(),
                reason: format!(
                    "is beyond the last write ({last}); pass the x-techmatch-seq of a write"
                ),
            }));
        }
        let _waiting = self.waiting.enter(client).ok_or(AppError::TooMany {
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
            Err(AppError::Unavailable(format!(
                "the index has not reached sequence {seq} yet; retry shortly"
            )))
        }
    }
}
