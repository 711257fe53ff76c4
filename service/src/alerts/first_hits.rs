//! The first hits of each saved search, remembered between changed listings.
//!
//! A new listing can only enter a search's first results by scoring at least the last of
//! them (the bar); its own score is read in its own segment, so nearly every candidate search
//! is answered without ranking. The remembered hits are right as long as none of them changed:
//! a listing added elsewhere only raises a bar, but a first hit edited, made stale or deleted
//! can lower it, so each listing's change forgets the hits it was among. Scores drift a little
//! as the index's statistics change, hence [`BAR_MARGIN`], and hits are ranked again once the
//! index has grown or shrunk by a hundredth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use techmatch_index::{FirstHits, IndexError, SearchIndex, SearchRequest, StatsMemo};

use crate::domain::alert::FIRST_RESULTS;

/// How long remembered first hits are trusted at most before they are ranked again.
const HITS_TTL: Duration = Duration::from_secs(6 * 3600);
/// How long the index statistics own scores are read with are kept.
const STATS_TTL: Duration = Duration::from_secs(600);
/// A listing is compared with this share of the bar, leaving room for the drift of scores
/// between the remembered statistics and the index's.
pub const BAR_MARGIN: f32 = 0.98;

/// First hits of one search, and when they were ranked.
struct Ranked {
    hits: FirstHits,
    at: Instant,
    /// Documents in the index then.
    docs: u64,
}

impl Ranked {
    /// Whether the hits are still trusted: ranked within [`HITS_TTL`], and the index has not
    /// grown or shrunk by more than a hundredth since (scores drift with its statistics).
    fn recent(&self, docs: u64) -> bool {
        self.at.elapsed() < HITS_TTL && self.docs.abs_diff(docs) * 100 <= self.docs.max(1)
    }
}

#[derive(Default)]
struct Memory {
    /// Per search (its request's key).
    ranked: HashMap<Arc<str>, Ranked>,
    /// Per listing: the searches whose remembered first hits hold it.
    holders: HashMap<String, Vec<Arc<str>>>,
}

/// Remembered first hits of saved searches, shared by every version of the percolator.
#[derive(Default)]
pub struct FirstHitsMemo {
    memory: Mutex<Memory>,
    stats: Mutex<Option<(Arc<StatsMemo>, Instant, u64)>>,
}

/// What the memo says of a listing and a search before any ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Below the remembered bar: outside.
    Outside,
    /// No recent first hits remembered: the search must be ranked.
    Unknown,
    /// At or above the bar, or the search has fewer first hits than it shows: it must be
    /// ranked.
    Near,
}

impl FirstHitsMemo {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Index statistics to prepare searches with: kept for [`STATS_TTL`], or until the index
    /// holds a hundredth more or fewer documents.
    pub fn stats(&self, index: &SearchIndex) -> Arc<StatsMemo> {
        let docs = index.num_docs();
        let mut held = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((stats, at, then)) = held.as_ref() {
            if at.elapsed() < STATS_TTL && docs.abs_diff(*then) * 100 <= (*then).max(1) {
                return stats.clone();
            }
        }
        let stats = Arc::new(StatsMemo::new(index));
        *held = Some((stats.clone(), Instant::now(), docs));
        stats
    }

    /// Whether a listing scoring `own` is outside the search `key`'s first results without
    /// ranking (`docs`: documents in the index now).
    pub fn verdict(&self, key: &str, own: f32, docs: u64) -> Verdict {
        let memory = self.memory();
        let Some(ranked) = memory.ranked.get(key).filter(|r| r.recent(docs)) else {
            return Verdict::Unknown;
        };
        match ranked.hits.bar(FIRST_RESULTS) {
            Some(bar) if own < bar * BAR_MARGIN => Verdict::Outside,
            // Fewer first hits than asked for: any match enters.
            _ => Verdict::Near,
        }
    }

    /// Whether the search `key`'s remembered first hits all rank before listing `id` with the
    /// index's current statistics: then it is outside, without ranking the search. (They are
    /// unchanged since they were ranked, or they would have been forgotten.)
    ///
    /// # Errors
    /// When the index fails.
    pub fn beaten(
        &self,
        index: &SearchIndex,
        key: &str,
        request: &SearchRequest,
        id: &str,
    ) -> Result<bool, IndexError> {
        let others: Vec<String> = {
            let memory = self.memory();
            match memory.ranked.get(key) {
                Some(r) if r.hits.hits.len() >= FIRST_RESULTS => {
                    r.hits.hits.iter().map(|(h, _)| h.clone()).collect()
                }
                _ => return Ok(false),
            }
        };
        index.ranked_before(request, id, &others, FIRST_RESULTS)
    }

    /// Whether the search `key` has first hits remembered and recent (`docs`: documents in
    /// the index now).
    pub fn knows(&self, key: &str, docs: u64) -> bool {
        self.memory()
            .ranked
            .get(key)
            .is_some_and(|r| r.recent(docs))
    }

    /// Ranks the search `key` now and remembers its first hits.
    ///
    /// # Errors
    /// When the index fails.
    pub fn rank(
        &self,
        index: &SearchIndex,
        key: &Arc<str>,
        request: &SearchRequest,
    ) -> Result<FirstHits, IndexError> {
        let docs = index.num_docs();
        let hits = index.first_hits(request, FIRST_RESULTS)?;
        let mut memory = self.memory();
        if let Some(old) = memory.ranked.remove(key) {
            for (id, _) in &old.hits.hits {
                drop_holder(&mut memory.holders, id, key);
            }
        }
        for (id, _) in &hits.hits {
            memory
                .holders
                .entry(id.clone())
                .or_default()
                .push(key.clone());
        }
        memory.ranked.insert(
            key.clone(),
            Ranked {
                hits: hits.clone(),
                at: Instant::now(),
                docs,
            },
        );
        Ok(hits)
    }

    /// Forgets the first hits listing `id` is among: it changed, so their bar may be lower.
    pub fn listing_changed(&self, id: &str) {
        let mut memory = self.memory();
        let Some(keys) = memory.holders.remove(id) else {
            return;
        };
        for key in keys {
            if let Some(old) = memory.ranked.remove(&key) {
                for (other, _) in &old.hits.hits {
                    if other != id {
                        drop_holder(&mut memory.holders, other, &key);
                    }
                }
            }
        }
    }

    /// Whether listing `id` is among some search's remembered first hits.
    pub fn holds(&self, id: &str) -> bool {
        self.memory().holders.contains_key(id)
    }

    /// Searches remembered with fewer first hits than a page shows (any match enters them).
    pub fn short(&self) -> usize {
        self.memory()
            .ranked
            .values()
            .filter(|r| r.hits.hits.len() < FIRST_RESULTS)
            .count()
    }
}

fn drop_holder(holders: &mut HashMap<String, Vec<Arc<str>>>, id: &str, key: &str) {
    if let Some(keys) = holders.get_mut(id) {
        keys.retain(|k| &**k != key);
        if keys.is_empty() {
            holders.remove(id);
        }
    }
}
