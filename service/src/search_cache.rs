//! Answers to recent searches, as the JSON bytes sent, kept for one index generation: a
//! repeated search (a popular query, the browse page, the facets of a page being turned) is
//! answered without running it again.
//!
//! An answer depends only on the request and on what the index holds, and the index changes
//! only by a commit, which starts a new generation. So an entry is exact while its generation
//! is current, and the whole cache is dropped when a newer one is seen. Semantic neighbours
//! also depend on the vectors, which change apart from the index: the caller puts their state
//! in the key.

use std::sync::Mutex;

use axum::body::Bytes;
use lru::LruCache;

/// Default memory for cached answers.
pub const DEFAULT_MIB: usize = 64;

/// Recent search answers of the current index generation, least recently used out first.
pub struct SearchCache {
    /// Bytes of answers kept at most; 0 turns the cache off.
    budget: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    generation: u64,
    entries: LruCache<String, Bytes>,
    bytes: usize,
}

/// Bytes an entry costs: its key and answer, and a rough bookkeeping overhead.
fn cost(key_len: usize, body_len: usize) -> usize {
    key_len + body_len + 64
}

impl SearchCache {
    /// A cache holding up to `budget` bytes of answers (0: off).
    pub fn new(budget: usize) -> Self {
        SearchCache {
            budget,
            inner: Mutex::new(Inner {
                generation: 0,
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// Whether answers are kept at all.
    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// The answer to `key` computed on index generation `generation`, if kept.
    pub fn get(&self, generation: u64, key: &str) -> Option<Bytes> {
        if !self.enabled() {
            return None;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.advance(generation);
        if inner.generation != generation {
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Keeps `body` as the answer to `key` on `generation` (the generation read before the
    /// search ran: the search saw that one or a newer one, so the answer is never older).
    pub fn put(&self, generation: u64, key: String, body: Bytes) {
        let size = cost(key.len(), body.len());
        // One answer may not push out a sixteenth of the cache or more.
        if size > self.budget / 16 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.advance(generation);
        if inner.generation != generation {
            return;
        }
        let key_len = key.len();
        if let Some(old) = inner.entries.put(key, body) {
            inner.bytes -= cost(key_len, old.len());
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            match inner.entries.pop_lru() {
                Some((k, b)) => inner.bytes -= cost(k.len(), b.len()),
                None => break,
            }
        }
    }
}

impl Inner {
    /// Forgets every answer when `generation` is newer than the one kept.
    fn advance(&mut self, generation: u64) {
        if generation > self.generation {
            self.entries.clear();
            self.bytes = 0;
            self.generation = generation;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn answers_are_kept_for_their_generation_only() {
        let cache = SearchCache::new(1 << 20);
        cache.put(3, "q=a".into(), body(10));
        assert_eq!(cache.get(3, "q=a").map(|b| b.len()), Some(10));
        assert!(cache.get(3, "q=b").is_none());
        // An older generation neither reads nor writes the newer one's answers.
        assert!(cache.get(2, "q=a").is_none());
        cache.put(2, "q=c".into(), body(5));
        assert!(cache.get(3, "q=c").is_none());
        assert!(cache.get(3, "q=a").is_some());
        // A newer one drops them all.
        assert!(cache.get(4, "q=a").is_none());
        assert!(cache.get(3, "q=a").is_none());
    }

    #[test]
    fn the_least_recently_used_go_first_and_memory_stays_in_budget() {
        // Entries of 4 + 20 + 64 = 88 bytes: 22 fit in 2,000.
        let cache = SearchCache::new(2_000);
        for i in 0..40 {
            cache.put(1, format!("q={i:02}"), body(20));
            // Reading the first keeps it fresh.
            assert!(cache.get(1, "q=00").is_some());
        }
        let inner = cache.inner.lock().unwrap_or_else(|e| e.into_inner());
        assert!(inner.bytes <= 2_000, "{} bytes kept", inner.bytes);
        assert_eq!(inner.entries.len(), 22);
        drop(inner);
        assert!(cache.get(1, "q=01").is_none());
        assert!(cache.get(1, "q=39").is_some());
        // Too large an answer is not kept; an empty budget keeps nothing.
        cache.put(1, "big".into(), body(100));
        assert!(cache.get(1, "big").is_none());
        let off = SearchCache::new(0);
        off.put(1, "q".into(), body(1));
        assert!(off.get(1, "q").is_none());
    }
}
