//! Near-duplicate listings: the same technology listed twice (by two exchanges, re-typed, with
//! or without diacritics, shortened or with sentences added).
//!
//! The signatures live in memory ([`techmatch_index::duplicates::DuplicateIndex`]) and follow
//! the store's change log like the search index, off the write path: a write is acknowledged
//! before its signature is computed. At start (and when the log was pruned past what they
//! applied) they are built from a scan.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use techmatch_index::duplicates::{DuplicateIndex, Signature, DEFAULT_THRESHOLD};

use crate::domain::Listing;
use crate::store::{ChangeOp, Store, StoreError};

/// Changes read from the log per step.
const BATCH: usize = 1000;

/// The text compared: what a reader takes the listing to be, title and description.
pub fn text_of(listing: &Listing) -> String {
    format!("{}\n{}", listing.title, listing.description)
}

/// The signature of a listing's text.
pub fn signature_of(listing: &Listing) -> Option<Signature> {
    Signature::of(&text_of(listing))
}

/// Every listing's signature, following the store.
#[derive(Debug, Default)]
pub struct Duplicates {
    inner: Mutex<Followed>,
}

#[derive(Debug, Default)]
struct Followed {
    index: DuplicateIndex,
    /// The last change applied (0 with `built` false: never built).
    applied: u64,
    built: bool,
}

impl Duplicates {
    /// Nothing yet: the first [`Duplicates::catch_up`] builds from a scan.
    pub fn new() -> Self {
        Duplicates::default()
    }

    fn lock(&self) -> MutexGuard<'_, Followed> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last change applied.
    pub fn applied(&self) -> u64 {
        self.lock().applied
    }

    /// Applies the store's changes since the last call (or builds from a scan the first time,
    /// or when the log no longer holds what follows); returns the sequence applied.
    ///
    /// # Errors
    /// When the store cannot be read; what was applied stays applied.
    pub fn catch_up(&self, store: &dyn Store) -> Result<u64, StoreError> {
        let (applied, built) = {
            let f = self.lock();
            (f.applied, f.built)
        };
        if !built || applied < store.log_floor()? || applied > store.last_seq()? {
            return self.rebuild(store);
        }
        self.follow_log(store, applied)
    }

    /// Applies the changes after `applied`, in batches, to the end of the log.
    fn follow_log(&self, store: &dyn Store, mut applied: u64) -> Result<u64, StoreError> {
        loop {
            let changes = store.changes_since(applied, BATCH)?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(applied);
            };
            let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
            let listings = store.get_many(&ids)?;
            // Signatures computed before taking the lock: readers wait for none of it.
            let updates: Vec<(&str, Option<Signature>)> = changes
                .iter()
                .zip(listings)
                .map(|(c, l)| match c.op {
                    ChangeOp::Delete => (c.id.as_str(), None),
                    ChangeOp::Put => (c.id.as_str(), l.as_ref().and_then(signature_of)),
                })
                .collect();
            let mut f = self.lock();
            for (id, signature) in updates {
                match signature {
                    Some(s) => f.index.insert(id, s),
                    None => f.index.remove(id),
                }
            }
            f.applied = last;
            applied = last;
        }
    }

    /// Builds every signature again from a scan of the store.
    fn rebuild(&self, store: &dyn Store) -> Result<u64, StoreError> {
        let seq = store.last_seq()?;
        let mut index = DuplicateIndex::new();
        for listing in store.scan() {
            let listing = listing?;
            if let Some(s) = signature_of(&listing) {
                index.insert(&listing.id, s);
            }
        }
        let mut f = self.lock();
        *f = Followed {
            index,
            applied: seq,
            built: true,
        };
        drop(f);
        // Changes written during the scan are applied again: same result, nothing missed.
        self.follow_log(store, seq)
    }

    /// The near-duplicates of listing `id`, most similar first (empty when unknown).
    pub fn of(&self, id: &str) -> Vec<(String, f32)> {
        self.lock().index.duplicates_of(id, DEFAULT_THRESHOLD)
    }

    /// The listings near-duplicate to `listing` (not yet stored, or stored), leaving itself out.
    pub fn like(&self, listing: &Listing) -> Vec<(String, f32)> {
        match signature_of(listing) {
            Some(s) => self
                .lock()
                .index
                .similar(&s, Some(&listing.id), DEFAULT_THRESHOLD),
            None => Vec::new(),
        }
    }
}

/// Keeps `duplicates` following the store: after each sequence the index applies (a write's
/// signature is computed after it was acknowledged and indexed), and every second.
pub async fn follow(
    store: Arc<dyn Store>,
    duplicates: Arc<Duplicates>,
    mut indexed: watch::Receiver<u64>,
) {
    loop {
        let (store, d) = (store.clone(), duplicates.clone());
        // The first pass signs every listing (a core for minutes at 1M): requests go first.
        match crate::app::background::run("duplicates", move || d.catch_up(store.as_ref())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "near-duplicate signatures: will retry"),
            Err(e) => tracing::error!(error = %e, "near-duplicate signatures; will retry"),
        }
        let woken = tokio::time::timeout(Duration::from_secs(1), indexed.changed()).await;
        // The state (and its sender) is gone: stop.
        if let Ok(Err(_)) = woken {
            return;
        }
    }
}
