//! Sentence vectors in memory: int8 quantisation and nearest neighbours with filters.
//!
//! A vector is stored as 384 (or any `dim`) signed bytes and one scale, plus a 48-byte sign
//! sketch: a million listings take about 416 MiB. Small sets are searched exactly (dot products
//! in i32, ~3 ms per 100,000 vectors here). From [`APPROXIMATE_FROM`] vectors on, a scan of the
//! sketches (Hamming distance, about seven times cheaper) picks candidates and only those are
//! scored exactly; filters apply during the scan either way, so a filtered search never comes
//! back short because the approximate step kept the wrong ones.

mod codes;
mod facts;
mod quant;

use std::collections::HashMap;

use crate::doc::Facet;
use codes::{hamming, Sketches};
use facts::{Allowed, Facts};
use quant::dot_i8;
pub use quant::{normalize, quantize, Quantized};

/// Size from which [`VectorSet::nearest`] scans sketches first instead of scoring every vector.
pub const APPROXIMATE_FROM: usize = 20_000;

/// Candidates scored exactly per neighbour asked for, in the approximate search.
pub const CANDIDATES_PER_RESULT: usize = 30;

/// The approximate search scores at least one vector in this many exactly.
const CANDIDATE_SHARE: usize = 64;

/// Fewest candidates the approximate search scores exactly, however few neighbours are asked.
const MIN_CANDIDATES: usize = 1_000;

/// What a search may keep: facet values (any of each entry's list) and a lowest TRL.
#[derive(Debug, Clone, Default)]
pub struct VectorFilter {
    /// Each entry keeps listings having one of its values; entries combine with AND.
    pub facets: Vec<(Facet, Vec<String>)>,
    /// Keep only listings at or above this readiness level.
    pub trl_min: Option<u64>,
    /// A listing never to return.
    pub exclude_id: Option<String>,
}

/// The vectors of every listing with the facts filters need, searchable by similarity.
#[derive(Debug)]
pub struct VectorSet {
    dim: usize,
    ids: Vec<String>,
    scales: Vec<f32>,
    data: Vec<i8>,
    sketches: Sketches,
    facts: Facts,
    slot: HashMap<String, usize>,
    approximate_from: usize,
    candidates_per_result: usize,
    /// Changes made so far: equal counts, equal sets.
    changes: u64,
}

impl VectorSet {
    /// An empty set of vectors of `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        VectorSet {
            dim,
            ids: Vec::new(),
            scales: Vec::new(),
            data: Vec::new(),
            sketches: Sketches::new(dim),
            facts: Facts::default(),
            slot: HashMap::new(),
            approximate_from: APPROXIMATE_FROM,
            candidates_per_result: CANDIDATES_PER_RESULT,
            changes: 0,
        }
    }

    /// How many changes the set has had: answers computed on it hold while this stays the same.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Changes from which size the search is approximate and how many candidates per neighbour
    /// it scores exactly (to compare both on the same vectors).
    pub fn set_approximate(&mut self, from: usize, candidates_per_result: usize) {
        self.approximate_from = from;
        self.candidates_per_result = candidates_per_result.max(1);
        self.changes += 1;
    }

    /// True when [`VectorSet::nearest`] scans sketches first at the set's present size.
    pub fn approximates(&self) -> bool {
        self.len() >= self.approximate_from
    }

    /// Dimensions per vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when it holds no vector.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes held per vector (data, scale and sketch), the figure that grows with the corpus.
    pub fn bytes_per_vector(&self) -> usize {
        self.dim + std::mem::size_of::<f32>() + self.dim.div_ceil(64) * 8
    }

    /// Adds or replaces `id`'s vector and facts; a vector of the wrong size is ignored.
    pub fn upsert(
        &mut self,
        id: &str,
        vector: &Quantized,
        facets: &[(Facet, String)],
        trl: Option<u64>,
    ) {
        if vector.data.len() != self.dim {
            return;
        }
        self.changes += 1;
        let at = match self.slot.get(id) {
            Some(&at) => at,
            None => {
                let at = self.ids.len();
                self.ids.push(id.to_string());
                self.scales.push(0.0);
                self.data.extend(std::iter::repeat_n(0, self.dim));
                self.slot.insert(id.to_string(), at);
                at
            }
        };
        self.scales[at] = vector.scale;
        self.data[at * self.dim..(at + 1) * self.dim].copy_from_slice(&vector.data);
        self.sketches.set(at, &vector.data, vector.scale);
        self.facts.set(at, facets, trl);
        if self.sketches.stale(self.len()) {
            self.sketches.recentre(&self.data, &self.scales);
        }
    }

    /// Removes `id`'s vector, if any.
    pub fn remove(&mut self, id: &str) {
        let Some(at) = self.slot.remove(id) else {
            return;
        };
        self.changes += 1;
        // The last vector moves into the hole, so storage stays dense.
        let last = self.ids.len() - 1;
        if at != last {
            self.ids.swap(at, last);
            self.scales.swap(at, last);
            let (head, tail) = self.data.split_at_mut(last * self.dim);
            head[at * self.dim..(at + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.slot.insert(self.ids[at].clone(), at);
        }
        self.sketches.swap_remove(at);
        self.facts.swap_remove(at);
        self.ids.pop();
        self.scales.pop();
        self.data.truncate(last * self.dim);
    }

    /// True when `id` has a vector.
    pub fn contains(&self, id: &str) -> bool {
        self.slot.contains_key(id)
    }

    /// `id`'s vector back as floats, if it has one.
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        let at = *self.slot.get(id)?;
        let scale = self.scales[at];
        Some(
            self.data[at * self.dim..(at + 1) * self.dim]
                .iter()
                .map(|x| f32::from(*x) * scale)
                .collect(),
        )
    }

    /// The `k` vectors most similar to `query` (by dot product) that pass `filter`, best first,
    /// ties by id: exact below [`APPROXIMATE_FROM`] vectors, approximate from there. The query
    /// should be unit length, as the stored vectors are.
    pub fn nearest(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Vec<(String, f32)> {
        // A fixed share of a large set too: the sketches' order is rough, and scoring a few
        // thousand more vectors exactly costs well under a millisecond.
        let wanted = k
            .saturating_mul(self.candidates_per_result)
            .max(self.len() / CANDIDATE_SHARE)
            .max(MIN_CANDIDATES);
        if !self.approximates() || wanted >= self.len() {
            self.nearest_exact(query, k, filter)
        } else {
            self.nearest_approximate(query, k, wanted, filter)
        }
    }

    /// [`VectorSet::nearest`] by scoring every vector that passes the filter.
    pub fn nearest_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: &VectorFilter,
    ) -> Vec<(String, f32)> {
        let Some(keep) = self.keep(query, k, filter) else {
            return Vec::new();
        };
        let q = quantize(query);
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        let mut floor = f32::NEG_INFINITY;
        for (at, chunk) in self.data.chunks_exact(self.dim).enumerate() {
            let score = dot_i8(chunk, &q.data) as f32 * q.scale * self.scales[at];
            if score < floor || !self.facts.passes(&keep, at) {
                continue;
            }
            best.push((score, at));
            if best.len() > k * 2 {
                self.keep_best(&mut best, k);
                floor = best.last().map_or(floor, |b| b.0);
            }
        }
        self.finish(best, k)
    }

    /// Sketch scan for the `wanted` nearest candidates that pass the filter, then exact scores.
    fn nearest_approximate(
        &self,
        query: &[f32],
        k: usize,
        wanted: usize,
        filter: &VectorFilter,
    ) -> Vec<(String, f32)> {
        let Some(keep) = self.keep(query, k, filter) else {
            return Vec::new();
        };
        let sketch = self.sketches.sketch(query.iter().copied());
        // Distances and their histogram in one pass.
        let mut within = vec![0usize; self.dim + 2];
        let distances: Vec<u16> = self
            .sketches
            .all()
            .map(|bits| {
                let d = hamming(bits, &sketch) as u16;
                within[usize::from(d)] += 1;
                d
            })
            .collect();
        // The `wanted` nearest sketches that pass the filter, by distance bands: the histogram
        // says how far out to read for `wanted` slots; a filter that lets few through makes the
        // next band wider (by the share it let through so far), until enough pass or none are
        // left. Each band is one sequential pass over the distances, and the filter is checked
        // only inside the bands read.
        for d in 1..within.len() {
            within[d] += within[d - 1];
        }
        let last = within.len() - 1;
        let mut candidates: Vec<u32> = Vec::with_capacity(wanted);
        let mut read_to: Option<usize> = None;
        let mut to_read = wanted;
        loop {
            let before = read_to.map_or(0, |d| within[d]);
            let from = read_to.map_or(0, |d| d + 1);
            let to = (from..=last)
                .find(|d| within[*d] - before >= to_read)
                .unwrap_or(last);
            for (at, d) in distances.iter().enumerate() {
                let d = usize::from(*d);
                if d >= from && d <= to && self.facts.passes(&keep, at) {
                    candidates.push(at as u32);
                }
            }
            read_to = Some(to);
            if candidates.len() >= wanted || to == last {
                break;
            }
            let share = candidates.len().max(1) as f64 / within[to].max(1) as f64;
            to_read = ((wanted - candidates.len()) as f64 / share * 1.25) as usize + 1;
        }
        let q = quantize(query);
        let best: Vec<(f32, usize)> = candidates
            .into_iter()
            .map(|at| {
                let at = at as usize;
                let chunk = &self.data[at * self.dim..(at + 1) * self.dim];
                (
                    dot_i8(chunk, &q.data) as f32 * q.scale * self.scales[at],
                    at,
                )
            })
            .collect();
        self.finish(best, k)
    }

    /// The filter in the set's terms; `None` when nothing can pass (a value nobody has, a
    /// query of the wrong size).
    fn keep(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Option<Allowed> {
        if query.len() != self.dim || k == 0 || self.is_empty() {
            return None;
        }
        let exclude = filter
            .exclude_id
            .as_deref()
            .and_then(|id| self.slot.get(id).copied());
        self.facts.allowed(filter, exclude)
    }

    fn finish(&self, mut best: Vec<(f32, usize)>, k: usize) -> Vec<(String, f32)> {
        self.keep_best(&mut best, k);
        best.into_iter()
            .map(|(s, at)| (self.ids[at].clone(), s))
            .collect()
    }

    fn keep_best(&self, best: &mut Vec<(f32, usize)>, k: usize) {
        let order = |a: &(f32, usize), b: &(f32, usize)| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.ids[a.1].cmp(&self.ids[b.1]))
        };
        // Tens of thousands of candidates, a hundred kept: select first, sort only those.
        if k > 0 && best.len() > k {
            best.select_nth_unstable_by(k - 1, order);
            best.truncate(k);
        }
        best.sort_by(order);
        best.truncate(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalize(&mut v);
        v
    }

    #[test]
    fn nearest_ranks_by_similarity_and_applies_filters() {
        let mut set = VectorSet::new(3);
        let kind = |k: &str| vec![(Facet::Kind, k.to_string())];
        set.upsert(
            "a",
            &quantize(&unit(&[1.0, 0.0, 0.0])),
            &kind("patent"),
            Some(7),
        );
        set.upsert("b", &quantize(&unit(&[0.9, 0.1, 0.0])), &kind("need"), None);
        set.upsert(
            "c",
            &quantize(&unit(&[0.0, 1.0, 0.0])),
            &kind("patent"),
            Some(3),
        );
        let q = unit(&[1.0, 0.05, 0.0]);
        let ids = |r: Vec<(String, f32)>| r.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(
            ids(set.nearest(&q, 3, &VectorFilter::default())),
            ["a", "b", "c"]
        );
        let patents = VectorFilter {
            facets: vec![(Facet::Kind, vec!["patent".into()])],
            ..VectorFilter::default()
        };
        assert_eq!(ids(set.nearest(&q, 3, &patents)), ["a", "c"]);
        let ready = VectorFilter {
            trl_min: Some(5),
            exclude_id: Some("b".into()),
            ..VectorFilter::default()
        };
        assert_eq!(ids(set.nearest(&q, 3, &ready)), ["a"]);
        let nobody = VectorFilter {
            facets: vec![(Facet::Kind, vec!["research_output".into()])],
            ..VectorFilter::default()
        };
        assert!(set.nearest(&q, 3, &nobody).is_empty());
    }

    #[test]
    fn removal_keeps_the_other_vectors_findable() {
        let mut set = VectorSet::new(2);
        for (id, v) in [("a", [1.0, 0.0]), ("b", [0.0, 1.0]), ("c", [0.7, 0.7])] {
            set.upsert(id, &quantize(&unit(&v)), &[], None);
        }
        set.remove("a");
        set.remove("zzz");
        assert_eq!(set.len(), 2);
        assert!(!set.contains("a"));
        let top = set.nearest(&unit(&[1.0, 0.0]), 1, &VectorFilter::default());
        assert_eq!(top[0].0, "c");
        let b = set.get("b").unwrap_or_default();
        assert!((b[1] - 1.0).abs() < 0.01);
    }

    #[test]
    fn a_query_of_the_wrong_size_finds_nothing() {
        let mut set = VectorSet::new(2);
        set.upsert("a", &quantize(&[1.0, 0.0]), &[], None);
        assert!(set.nearest(&[1.0], 5, &VectorFilter::default()).is_empty());
    }

    /// Unit vectors around `topics` random centres, as sentence embeddings cluster by subject,
    /// all sharing one common direction, as e5's do.
    fn clustered(n: usize, dim: usize, topics: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as f32 / 1000.0 - 1.0
        };
        let centres: Vec<Vec<f32>> = (0..topics)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect();
        (0..n)
            .map(|i| {
                let mut v: Vec<f32> = centres[i % topics]
                    .iter()
                    .enumerate()
                    .map(|(d, c)| c + 0.8 * next() + if d == 0 { 4.0 } else { 0.0 })
                    .collect();
                normalize(&mut v);
                v
            })
            .collect()
    }

    fn ids(r: Vec<(String, f32)>) -> Vec<String> {
        r.into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn the_approximate_search_finds_what_the_exact_one_finds() {
        let vectors = clustered(3_000, 384, 40, 7);
        let mut set = VectorSet::new(384);
        for (n, v) in vectors.iter().enumerate() {
            set.upsert(&format!("l{n}"), &quantize(v), &[], None);
        }
        set.set_approximate(0, 8);
        let queries = clustered(30, 384, 40, 99);
        let mut found = 0;
        for q in &queries {
            let exact = ids(set.nearest_exact(q, 10, &VectorFilter::default()));
            let approximate = ids(set.nearest(q, 10, &VectorFilter::default()));
            assert_eq!(approximate.len(), 10);
            found += approximate.iter().filter(|id| exact.contains(id)).count();
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.9, "recall@10 {recall}");
    }

    #[test]
    fn a_selective_filter_never_leaves_the_approximate_search_short() {
        let vectors = clustered(3_000, 64, 40, 11);
        let mut set = VectorSet::new(64);
        for (n, v) in vectors.iter().enumerate() {
            let kind = if n % 50 == 0 { "need" } else { "patent" };
            set.upsert(
                &format!("l{n}"),
                &quantize(v),
                &[(Facet::Kind, kind.to_string())],
                None,
            );
        }
        // Removing vectors moves others' slots: their sketches must move with them.
        for n in (1..3_000).step_by(7) {
            set.remove(&format!("l{n}"));
        }
        set.set_approximate(0, 8);
        let needs = VectorFilter {
            facets: vec![(Facet::Kind, vec!["need".into()])],
            ..VectorFilter::default()
        };
        for q in clustered(10, 64, 40, 5) {
            let approximate = ids(set.nearest(&q, 20, &needs));
            assert_eq!(approximate.len(), 20);
            assert_eq!(approximate, ids(set.nearest_exact(&q, 20, &needs)));
        }
    }
}
