//! Fusing two rankings of the same listings (lexical and semantic) into one.
//!
//! Two ways ([`Method`]): reciprocal rank fusion, where a listing at rank `r` (from 1) of a list
//! scores `weight / (k + r)` summed over the lists it appears in; or a weighted sum of the two
//! scores, each first put on 0..1 by where it lies between the lowest and highest score of its
//! list. Ranks throw away how far apart two listings are (a clear lexical winner counts as much
//! as one a hair ahead); normalised scores keep it, which is what holds on titled corpora where
//! the lexical ranking is strong. Either way equal inputs fuse to equal scores (equal scores
//! share a rank), so that identical listings tie and the other parts of a match decide.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// How the two rankings are combined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Reciprocal rank fusion: `weight / (k + rank)`.
    #[default]
    Rank,
    /// `weight ×` the score min-max normalised over its list (0 for a listing not in it).
    Score,
}

/// How much each ranking counts and how deep each is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fusion {
    /// Ranks or normalised scores.
    pub method: Method,
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
    /// By scores: how far each query's lexical share moves towards the more confident list
    /// (0 keeps the weights as they are). A list is the more confident the further the rest
    /// of its first [`Fusion::confidence_depth`] fall below its best (`1 −` their mean
    /// normalised score): one clear winner says more than ten near-equals. Search only:
    /// matching's text part must not depend on the other candidates.
    pub confidence: f32,
    /// How many of each list's first entries measure its confidence.
    pub confidence_depth: usize,
}

impl Default for Fusion {
    /// Rank fusion, k 10, equal weights; the service's choice is in `fixtures/ranking.json`.
    fn default() -> Self {
        Fusion {
            method: Method::Rank,
            k: 10.0,
            lexical: 1.0,
            semantic: 1.0,
            depth: 100,
            min_similarity: 0.0,
            confidence: 0.0,
            confidence_depth: 10,
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
    /// Rank in the lexical list, from 0 (shared by equal scores).
    pub lexical_rank: Option<usize>,
    /// Rank in the semantic list, from 0 (shared by equal similarities).
    pub semantic_rank: Option<usize>,
    /// Similarity to the query, when the listing was a semantic neighbour.
    pub similarity: Option<f32>,
}

/// The rank of each entry of a list ordered best first: its position, or that of the first
/// entry with the same score.
fn shared_ranks<K>(list: &[(K, f32)]) -> Vec<usize> {
    let mut ranks = Vec::with_capacity(list.len());
    for (i, (_, score)) in list.iter().enumerate() {
        let rank = match (i.checked_sub(1), ranks.last()) {
            (Some(prev), Some(&r)) if list[prev].1 == *score => r,
            _ => i,
        };
        ranks.push(rank);
    }
    ranks
}

/// Each entry's score min-max normalised over its list (all 1 when they are equal).
fn normalised<K>(list: &[(K, f32)]) -> Vec<f32> {
    let (lo, hi) = list
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
            (lo.min(*s), hi.max(*s))
        });
    list.iter()
        .map(|(_, s)| if hi > lo { (s - lo) / (hi - lo) } else { 1.0 })
        .collect()
}

/// How clearly a normalised list's first entries are led by its best: `1 −` their mean.
fn confidence(normalised: &[f32], depth: usize) -> f32 {
    let first = &normalised[..normalised.len().min(depth.max(1))];
    if first.is_empty() {
        return 0.0;
    }
    1.0 - first.iter().sum::<f32>() / first.len() as f32
}

/// Each entry's part of the lexical and of the semantic list's weight: by its shared rank, or
/// by its normalised score (with the weights moved towards the more confident list).
fn parts<K>(lexical: &[(K, f32)], semantic: &[(K, f32)], f: &Fusion) -> (Vec<f32>, Vec<f32>) {
    match f.method {
        Method::Rank => {
            let by_rank = |list: &[(K, f32)], weight: f32| -> Vec<f32> {
                shared_ranks(list)
                    .into_iter()
                    .map(|r| weight / (f.k + r as f32 + 1.0))
                    .collect()
            };
            (by_rank(lexical, f.lexical), by_rank(semantic, f.semantic))
        }
        Method::Score => {
            let (l, s) = (normalised(lexical), normalised(semantic));
            let total = f.lexical + f.semantic;
            let mut share = if total > 0.0 { f.lexical / total } else { 0.5 };
            if f.confidence != 0.0 && !l.is_empty() && !s.is_empty() {
                let lead = confidence(&l, f.confidence_depth) - confidence(&s, f.confidence_depth);
                share = (share + f.confidence * lead).clamp(0.0, 1.0);
            }
            let (wl, ws) = (total * share, total * (1.0 - share));
            (
                l.into_iter().map(|x| wl * x).collect(),
                s.into_iter().map(|x| ws * x).collect(),
            )
        }
    }
}

/// The largest fused score there is: first in both lists.
pub(crate) fn best_possible(f: &Fusion) -> f32 {
    match f.method {
        Method::Rank => (f.lexical + f.semantic) / (f.k + 1.0),
        Method::Score => f.lexical + f.semantic,
    }
}

/// Fuses `lexical` (keys with their scores, best first) and `semantic` (keys with similarity,
/// best first).
///
/// Ties keep lexical order first, then key order, so equal inputs give equal outputs.
pub fn fuse<K>(lexical: &[(K, f32)], semantic: &[(K, f32)], f: &Fusion) -> Vec<Fused<K>>
where
    K: Clone + Eq + Hash + Ord,
{
    let mut out: Vec<Fused<K>> = Vec::with_capacity(lexical.len() + semantic.len());
    let mut at: HashMap<&K, usize> = HashMap::new();
    let (lexical_parts, semantic_parts) = parts(lexical, semantic, f);
    for (((id, _), r), part) in lexical.iter().zip(shared_ranks(lexical)).zip(lexical_parts) {
        if at.contains_key(id) {
            continue;
        }
        at.insert(id, out.len());
        out.push(Fused {
            id: id.clone(),
            score: part,
            lexical_rank: Some(r),
            semantic_rank: None,
            similarity: None,
        });
    }
    for (((id, sim), r), part) in semantic
        .iter()
        .zip(shared_ranks(semantic))
        .zip(semantic_parts)
    {
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

    /// Keys with decreasing scores, all different.
    fn ids(v: &[&str]) -> Vec<(String, f32)> {
        v.iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), 10.0 - i as f32))
            .collect()
    }

    /// A list of ids with the given scores.
    fn scored(v: &[(&str, f32)]) -> Vec<(String, f32)> {
        v.iter().map(|(id, s)| (id.to_string(), *s)).collect()
    }

    #[test]
    fn equal_scores_and_similarities_fuse_to_equal_scores() {
        // "b" and "c" are identical listings: same lexical score, same similarity.
        let lex = scored(&[("a", 3.0), ("b", 2.0), ("c", 2.0), ("d", 1.0)]);
        let sem = scored(&[("c", 0.9), ("b", 0.9), ("a", 0.5)]);
        let out = fuse(&lex, &sem, &Fusion::default());
        let score = |id: &str| out.iter().find(|f| f.id == id).map(|f| f.score);
        assert_eq!(score("b"), score("c"));
        assert_eq!(out[0].lexical_rank, Some(1));
        // The entry after a tie keeps its place: "d" is fourth, not third.
        let d = out.iter().find(|f| f.id == "d").unwrap();
        assert_eq!(d.lexical_rank, Some(3));
        assert!(best_possible(&Fusion::default()) >= out[0].score);
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
        let sem = scored(&[("x", 0.70), ("b", 0.75), ("y", 0.90)]);
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

    fn by_score() -> Fusion {
        Fusion {
            method: Method::Score,
            ..Fusion::default()
        }
    }

    #[test]
    fn by_score_a_clear_lexical_winner_stays_first() {
        // By ranks "b" (second lexically, first semantically) would overtake "a"; by scores
        // "a" is far ahead lexically and close behind semantically.
        let lex = scored(&[("a", 10.0), ("b", 2.0), ("c", 1.5), ("d", 1.0)]);
        let sem = scored(&[("b", 0.900), ("c", 0.895), ("a", 0.894), ("d", 0.800)]);
        let order =
            |f: &Fusion| -> Vec<String> { fuse(&lex, &sem, f).into_iter().map(|x| x.id).collect() };
        assert_eq!(order(&by_score()), ["a", "b", "c", "d"]);
        assert_eq!(order(&Fusion::default())[0], "b");
    }

    #[test]
    fn by_score_equal_inputs_fuse_to_equal_scores_within_bounds() {
        let lex = scored(&[("a", 3.0), ("b", 2.0), ("c", 2.0), ("d", 1.0)]);
        let sem = scored(&[("c", 0.9), ("b", 0.9), ("a", 0.5)]);
        let f = by_score();
        let out = fuse(&lex, &sem, &f);
        let score = |id: &str| out.iter().find(|x| x.id == id).map(|x| x.score);
        assert_eq!(score("b"), score("c"));
        assert_eq!(score("b"), Some(1.5));
        // Last in both lists: nothing from either.
        assert_eq!(score("d"), Some(0.0));
        assert!(out.iter().all(|x| x.score <= best_possible(&f)));
    }

    #[test]
    fn by_score_confidence_moves_weight_to_the_list_with_a_clear_winner() {
        // Lexically "a" stands far above the rest; semantically all are near-equal but "b".
        let lex = scored(&[("a", 10.0), ("b", 1.2), ("c", 1.1), ("d", 1.0)]);
        let sem = scored(&[("b", 0.90), ("c", 0.89), ("d", 0.89), ("a", 0.80)]);
        let even = Fusion {
            lexical: 0.5,
            semantic: 0.5,
            ..by_score()
        };
        assert_eq!(fuse(&lex, &sem, &even)[0].id, "b");
        let confident = Fusion {
            confidence: 1.0,
            ..even
        };
        let out = fuse(&lex, &sem, &confident);
        assert_eq!(out[0].id, "a");
        assert!(out
            .iter()
            .all(|x| x.score <= best_possible(&confident) + 1e-6));
        // "c" and "d", equal semantically, are told apart by their lexical scores alone.
        let score = |id: &str| out.iter().find(|x| x.id == id).map(|x| x.score);
        assert_ne!(score("c"), score("d"));
    }
}
