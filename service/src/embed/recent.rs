//! The vectors of recent queries, so that a query asked again (the next page, the same need
//! matched twice, a popular search) does not wait for the embedder a second time.

use std::collections::{HashMap, VecDeque};

/// Queries remembered by default: a few MB of vectors.
pub const DEFAULT_CAPACITY: usize = 2_048;

/// A bounded map from query text to its (normalised) vector; the oldest entry goes first.
#[derive(Debug)]
pub struct RecentQueries {
    capacity: usize,
    vectors: HashMap<String, Vec<f32>>,
    order: VecDeque<String>,
}

impl RecentQueries {
    /// An empty memory of at most `capacity` queries.
    pub fn new(capacity: usize) -> Self {
        RecentQueries {
            capacity,
            vectors: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The remembered vector of `text`.
    pub fn get(&self, text: &str) -> Option<Vec<f32>> {
        self.vectors.get(text).cloned()
    }

    /// Remembers `text`'s vector, forgetting the oldest query when full.
    pub fn insert(&mut self, text: &str, vector: Vec<f32>) {
        if self.capacity == 0 {
            return;
        }
        if self.vectors.insert(text.to_string(), vector).is_some() {
            return;
        }
        self.order.push_back(text.to_string());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.vectors.remove(&old);
            }
        }
    }

    /// Queries remembered.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_query_is_forgotten_first() {
        let mut recent = RecentQueries::new(2);
        recent.insert("a", vec![1.0]);
        recent.insert("b", vec![2.0]);
        recent.insert("a", vec![1.5]);
        recent.insert("c", vec![3.0]);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get("a"), None);
        assert_eq!(recent.get("b"), Some(vec![2.0]));
        assert_eq!(recent.get("c"), Some(vec![3.0]));
    }

    #[test]
    fn a_memory_of_nothing_keeps_nothing() {
        let mut recent = RecentQueries::new(0);
        recent.insert("a", vec![1.0]);
        assert!(recent.is_empty());
    }
}
