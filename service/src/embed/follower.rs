//! Keeps every listing's vector in step with the store by following its change log, in the
//! background: a write is acknowledged before its listing is embedded, and a failing embedder
//! only delays vectors (search stays lexical meanwhile).
//!
//! Progress is recorded per model, so a restart resumes where it stopped and a new model
//! starts over (vectors whose text and model are unchanged are kept, not embedded again).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use techmatch_index::vector::{normalize, quantize};
use techmatch_index::Facet;
use tokio::sync::watch;

use super::store::{VectorChange, VectorRecord, VectorStore, VectorStoreError};
use super::{listing_text, text_hash, EmbedError, Input, Semantic};
use crate::domain::Listing;
use crate::indexer::to_index_doc;
use crate::store::{Store, StoreError};

/// Listings embedded per step (and per vector-store commit).
const BATCH: usize = 32;
/// Pause after the embedder failed before trying again.
const BACKOFF: Duration = Duration::from_secs(2);

/// Why the vectors could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing the vectors failed.
    #[error(transparent)]
    Vectors(#[from] VectorStoreError),
    /// The embedder failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

fn filter_facts(listing: &Listing) -> (Vec<(Facet, String)>, Option<u64>) {
    let doc = to_index_doc(listing);
    (doc.facets, doc.trl)
}

/// Puts the stored vectors of the current model into memory: one pass over the listings.
pub fn load(
    store: &dyn Store,
    vectors: &VectorStore,
    semantic: &Semantic,
) -> Result<usize, FollowError> {
    let model = semantic.embedder.model().to_string();
    let mut loaded = Vec::new();
    for listing in store.scan() {
        let listing = listing?;
        if let Some(record) = vectors.get(&listing.id)? {
            if record.model == model {
                let (facets, trl) = filter_facts(&listing);
                loaded.push((listing.id, record.vector, facets, trl));
            }
        }
    }
    let n = loaded.len();
    if let Ok(mut set) = semantic.vectors.write() {
        for (id, v, facets, trl) in loaded {
            set.upsert(&id, &v, &facets, trl);
        }
    }
    Ok(n)
}

/// Embeds `listings` whose text or model changed, drops `deleted`, and records `seq`.
fn step(
    vectors: &VectorStore,
    semantic: &Semantic,
    listings: Vec<Listing>,
    deleted: Vec<String>,
    seq: u64,
) -> Result<(), FollowError> {
    let model = semantic.embedder.model().to_string();
    let mut keep = Vec::new();
    let mut embed = Vec::new();
    for listing in listings {
        let text = listing_text(&listing);
        let hash = text_hash(&model, Input::Passage, &text);
        match vectors.get(&listing.id)? {
            Some(r) if r.model == model && r.hash == hash => keep.push((listing, r.vector)),
            _ => embed.push((listing, text, hash)),
        }
    }
    let texts: Vec<String> = embed.iter().map(|(_, t, _)| t.clone()).collect();
    let mut fresh = Vec::with_capacity(texts.len());
    // A few listings per call, each call after the requests waiting: searches and matches go
    // first, the backlog takes what they leave.
    let mut rest = &texts[..];
    while !rest.is_empty() {
        let busy = semantic.wait_for_requests();
        let n = if busy { 1 } else { semantic.backlog_chunk() };
        let (chunk, tail) = rest.split_at(n.clamp(1, rest.len()));
        rest = tail;
        let result = semantic.backlog.embed(chunk, Input::Passage);
        semantic.note_backlog(result.as_ref().map(|_| ()));
        fresh.extend(result?);
    }
    let mut changes = Vec::with_capacity(fresh.len() + deleted.len());
    let mut memory = Vec::with_capacity(keep.len() + fresh.len());
    for ((listing, _, hash), mut v) in embed.into_iter().zip(fresh) {
        normalize(&mut v);
        let vector = quantize(&v);
        changes.push(VectorChange::Put(
            listing.id.clone(),
            VectorRecord {
                model: model.clone(),
                hash,
                vector: vector.clone(),
            },
        ));
        memory.push((listing, vector));
    }
    memory.extend(keep);
    for id in &deleted {
        changes.push(VectorChange::Delete(id.clone()));
    }
    vectors.apply(changes, &model, seq)?;
    let done = (memory.len() + deleted.len()) as u64;
    let _ = semantic
        .pending
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
            Some(p.saturating_sub(done))
        });
    // Facts first: searches wait while the set is locked for writing.
    let memory: Vec<_> = memory
        .into_iter()
        .map(|(listing, vector)| {
            let (facets, trl) = filter_facts(&listing);
            (listing.id, vector, facets, trl)
        })
        .collect();
    if let Ok(mut set) = semantic.vectors.write() {
        for (id, vector, facets, trl) in &memory {
            set.upsert(id, vector, facets, *trl);
        }
        for id in &deleted {
            set.remove(id);
        }
    }
    semantic.vectors_changed(done);
    Ok(())
}

/// Embeds every change the vectors have not seen yet; returns the sequence now embedded.
pub fn catch_up(
    store: &dyn Store,
    vectors: &VectorStore,
    semantic: &Semantic,
) -> Result<u64, FollowError> {
    let model = semantic.embedder.model().to_string();
    let mut applied = vectors.applied(&model)?;
    let last = store.last_seq()?;
    if applied > last || (applied > 0 && applied < store.log_floor()?) {
        // The store was replaced by an older one, or its log was pruned past these vectors
        // (semantic matching was off for a while): check every listing again.
        vectors.reset()?;
        applied = 0;
    }
    if applied == 0 && last > 0 {
        // A new model or a new vector store: one pass over the listings beats the whole log.
        let mut batch = Vec::with_capacity(BATCH);
        for listing in store.scan() {
            batch.push(listing?);
            if batch.len() == BATCH {
                step(vectors, semantic, std::mem::take(&mut batch), Vec::new(), 0)?;
            }
        }
        step(vectors, semantic, batch, Vec::new(), last)?;
        applied = last;
    }
    loop {
        let changes = store.changes_since(applied, BATCH)?;
        let Some(seq) = changes.last().map(|c| c.seq) else {
            return Ok(applied);
        };
        let mut seen = HashSet::new();
        let ids: Vec<&str> = changes
            .iter()
            .map(|c| c.id.as_str())
            .filter(|id| seen.insert(*id))
            .collect();
        let (mut listings, mut deleted) = (Vec::new(), Vec::new());
        // One read for the batch: one round trip to a shared store.
        for (id, listing) in ids.iter().zip(store.get_many(&ids)?) {
            match listing {
                Some(l) => listings.push(l),
                None => deleted.push(id.to_string()),
            }
        }
        step(vectors, semantic, listings, deleted, seq)?;
        applied = seq;
    }
}

/// Listings still waiting for a vector of the current model (changes not yet embedded,
/// counted once per listing; counted up to 100,000 changes).
pub fn pending(
    store: &dyn Store,
    vectors: &VectorStore,
    semantic: &Semantic,
) -> Result<u64, FollowError> {
    let applied = vectors.applied(semantic.embedder.model())?;
    if applied == 0 {
        let have = semantic.vectors.read().map_or(0, |s| s.len());
        return Ok(store.count()?.saturating_sub(have) as u64);
    }
    let ids: HashSet<String> = store
        .changes_since(applied, 100_000)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    Ok(ids.len() as u64)
}

/// Loads the vectors, then embeds changes whenever the index moves on, and every second.
/// Ends when the index follower is gone.
pub async fn follow(
    store: Arc<dyn Store>,
    vectors: Arc<VectorStore>,
    semantic: Arc<Semantic>,
    mut applied: watch::Receiver<u64>,
) {
    {
        let (store, vectors, semantic) = (store.clone(), vectors.clone(), semantic.clone());
        match tokio::task::spawn_blocking(move || load(store.as_ref(), &vectors, &semantic)).await {
            Ok(Ok(n)) => tracing::info!(vectors = n, "vectors loaded"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "loading vectors failed; they will be embedded again")
            }
            Err(e) => tracing::error!(error = %e, "loading vectors panicked"),
        }
    }
    loop {
        let (s, v, sem) = (store.clone(), vectors.clone(), semantic.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            // Counted before and after: a long backlog counts down as batches are embedded.
            if let Ok(n) = pending(s.as_ref(), &v, &sem) {
                sem.pending.store(n, Ordering::Relaxed);
            }
            let result = catch_up(s.as_ref(), &v, &sem);
            if let Ok(n) = pending(s.as_ref(), &v, &sem) {
                sem.pending.store(n, Ordering::Relaxed);
            }
            // Caught up or stopped: later answers see every vector there is.
            sem.advance_epoch();
            result
        })
        .await;
        match outcome {
            Ok(Ok(_)) => {}
            // Logged once per outage by `Semantic::note`; try again shortly.
            Ok(Err(FollowError::Embed(_))) => tokio::time::sleep(BACKOFF).await,
            Ok(Err(e)) => tracing::error!(error = %e, "vector update failed; will retry"),
            Err(e) => tracing::error!(error = %e, "vector task panicked; will retry"),
        }
        let woken = tokio::time::timeout(Duration::from_secs(1), applied.changed()).await;
        if let Ok(Err(_)) = woken {
            // The index follower is gone: the service is shutting down.
            return;
        }
    }
}
