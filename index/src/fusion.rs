//! Fusing two rankings of the same listings (lexical and semantic) into one.
//!
//! Reciprocal rank fusion: a listing at rank `r` (from 1) of a list scores `weight / (k + r)`,
//! summed over the lists it appears in. Ranks, not scores, are fused, so BM25 and cosine
//! scales never need calibrating against each other.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// How much each ranking counts and how deep each is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fusion {
    /// Rank offset: larger flattens the difference between the first ranks.
    pub k: f32,
    /// Weight of the lexical ranking.
    pub lexical: f32,
    /// Weight of the semantic ranking.
    pub semantic: f32,
    /// Neighbours read from the semantic ranking (and lexical hits, at least).
    pub depth: usize,
    /// Similarity below which a neighbour the lexical ranking did not find is left out: the
    /// nearest vectors of an unusual query (or of a corpus only partly embedded yet) may be
    /// unrelated, and rank fusion alone would still give the first of them full credit.
    pub min_similarity: f32,
}

impl Default for Fusion {
    /// The values chosen on the development sets (also in `fixtures/ranking.json`).
    fn default() -> Self {
        Fusion {
            k: 10.0,
            lexical: 1.0,
            semantic: 1.0,
            depth: 100,
            min_similarity: 0.0,
        }
    }
}

/// One fused listing: where it stood in each ranking and its fused score.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused<K> {
    /// The listing (its id, or where the index holds it).
    pub id: K,
    /// Fused score (higher is better).
    pub score: f32,
    /// Rank in the lexical list, from 0.
    pub lexical_rank: Option<usize>,
    /// Rank in the semantic list, from 0.
    pub semantic_rank: Option<usize>,
    /// Similarity to the query, when the listing was a semantic neighbour.
    pub similarity: Option<f32>,
}

/// Fuses `lexical` (keys, best first) and `semantic` (keys with similarity, best first).
///
/// Ties keep lexical order first, then key order, so equal inputs give equal outputs.
pub fn fuse<K>(lexical: &[K], semantic: &[(K, f32)], f: &Fusion) -> Vec<Fused<K>>
where
    K: Clone + Eq + Hash + Ord,
{
    let mut out: Vec<Fused<K>> = Vec::with_capacity(lexical.len() + semantic.len());
    let mut at: HashMap<&K, usize> = HashMap::new();
    for (r, id) in lexical.iter().enumerate() {
        if at.contains_key(id) {
            continue;
        }
        at.insert(id, out.len());
        out.push(Fused {
            id: id.clone(),
            score: f.lexical / (f.k + r as f32 + 1.0),
            lexical_rank: Some(r),
            semantic_rank: None,
            similarity: None,
        });
    }
    for (r, (id, sim)) in semantic.iter().enumerate() {
        let part = f.semantic / (f.k + r as f32 + 1.0);
        match at.get(id) {
            Some(&i) if out[i].semantic_rank.is_none() => {
                out[i].score += part;
                out[i].semantic_rank = Some(r);
                out[i].similarity = Some(*sim);
            }
            Some(_) => {}
            None if *sim < f.min_similarity => {}
            None => {
                at.insert(id, out.len());
                out.push(Fused {
                    id: id.clone(),
                    score: part,
                    lexical_rank: None,
                    semantic_rank: Some(r),
                    similarity: Some(*sim),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| {
                a.lexical_rank
                    .unwrap_or(usize::MAX)
                    .cmp(&b.lexical_rank.unwrap_or(usize::MAX))
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_listing_in_both_lists_beats_one_in_either() {
        let lex = ids(&["a", "b", "c"]);
        let sem = vec![("d".to_string(), 0.9), ("b".to_string(), 0.8)];
        let out = fuse(&lex, &sem, &Fusion::default());
        let order: Vec<&str> = out.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(order, ["b", "a", "d", "c"]);
        assert_eq!(out[0].lexical_rank, Some(1));
        assert_eq!(out[0].semantic_rank, Some(1));
        assert_eq!(out[2].similarity, Some(0.9));
    }

    #[test]
    fn weights_decide_between_the_lists() {
        let lex = ids(&["a"]);
        let sem = vec![("b".to_string(), 0.9)];
        let semantic_first = Fusion {
            lexical: 0.5,
            ..Fusion::default()
        };
        assert_eq!(fuse(&lex, &sem, &semantic_first)[0].id, "b");
        // Equal scores: lexical order wins the tie.
        assert_eq!(fuse(&lex, &sem, &Fusion::default())[0].id, "a");
    }

    #[test]
    fn a_weak_neighbour_joins_only_if_the_lexical_ranking_found_it() {
        let lex = ids(&["a", "b"]);
        let sem = vec![
            ("x".to_string(), 0.70),
            ("b".to_string(), 0.75),
            ("y".to_string(), 0.90),
        ];
        let floor = Fusion {
            min_similarity: 0.8,
            ..Fusion::default()
        };
        let out = fuse(&lex, &sem, &floor);
        let order: Vec<&str> = out.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(order, ["b", "a", "y"]);
        // Its rank among the neighbours is still the one it had.
        assert_eq!(out[2].semantic_rank, Some(2));
    }

    #[test]
    fn an_empty_semantic_list_keeps_the_lexical_order() {
        let lex = ids(&["c", "a", "b"]);
        let out = fuse(&lex, &[], &Fusion::default());
        let order: Vec<&str> = out.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
    }
}
