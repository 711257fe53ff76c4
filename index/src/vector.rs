//! Sentence vectors in memory: int8 quantisation and exact nearest neighbours with filters.
//!
//! A vector is stored as 384 (or any `dim`) signed bytes and one scale, so a million listings
//! take about 390 MB. Search is an exact scan (dot products in i32): about 7 ms per 100,000
//! vectors on a busy 2-core machine, enough for the sizes a provincial service holds; an
//! approximate index (HNSW) would be the next step beyond a few hundred thousand.

use std::collections::HashMap;

use crate::doc::Facet;

/// A vector quantised to int8: `value[i] ≈ data[i] as f32 * scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    /// Multiplier back to the original values.
    pub scale: f32,
    /// One signed byte per dimension.
    pub data: Vec<i8>,
}

/// Quantises `v` symmetrically: the largest magnitude maps to 127.
pub fn quantize(v: &[f32]) -> Quantized {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || v.iter().any(|x| !x.is_finite()) {
        return Quantized {
            scale: 0.0,
            data: vec![0; v.len()],
        };
    }
    let scale = max / 127.0;
    let data = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    Quantized { scale, data }
}

/// Scales `v` to unit length (left as is when it is all zeros).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Lanes summed side by side: fixed-size blocks let the compiler use packed multiply-adds.
const LANES: usize = 32;

fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; LANES];
    let (blocks_a, blocks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: i32 = blocks_a
        .remainder()
        .iter()
        .zip(blocks_b.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (x, y) in blocks_a.zip(blocks_b) {
        for i in 0..LANES {
            // i8 × i8 fits in i16; the sum of two such products still does.
            acc[i] += i32::from(i16::from(x[i]) * i16::from(y[i]));
        }
    }
    acc.iter().sum::<i32>() + tail
}

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
#[derive(Debug, Default)]
pub struct VectorSet {
    dim: usize,
    ids: Vec<String>,
    scales: Vec<f32>,
    data: Vec<i8>,
    tags: Vec<Vec<u32>>,
    trl: Vec<Option<u64>>,
    slot: HashMap<String, usize>,
    symbols: HashMap<(Facet, String), u32>,
}

impl VectorSet {
    /// An empty set of vectors of `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        VectorSet {
            dim,
            ..VectorSet::default()
        }
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

    /// Bytes held per vector (data and scale), the figure that grows with the corpus.
    pub fn bytes_per_vector(&self) -> usize {
        self.dim + std::mem::size_of::<f32>()
    }

    fn symbol(&mut self, facet: Facet, value: &str) -> u32 {
        let next = self.symbols.len() as u32;
        *self
            .symbols
            .entry((facet, value.to_string()))
            .or_insert(next)
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
        let mut tags: Vec<u32> = facets.iter().map(|(f, v)| self.symbol(*f, v)).collect();
        tags.sort_unstable();
        tags.dedup();
        let at = match self.slot.get(id) {
            Some(&at) => at,
            None => {
                let at = self.ids.len();
                self.ids.push(id.to_string());
                self.scales.push(0.0);
                self.data.extend(std::iter::repeat_n(0, self.dim));
                self.tags.push(Vec::new());
                self.trl.push(None);
                self.slot.insert(id.to_string(), at);
                at
            }
        };
        self.scales[at] = vector.scale;
        self.data[at * self.dim..(at + 1) * self.dim].copy_from_slice(&vector.data);
        self.tags[at] = tags;
        self.trl[at] = trl;
    }

    /// Removes `id`'s vector, if any.
    pub fn remove(&mut self, id: &str) {
        let Some(at) = self.slot.remove(id) else {
            return;
        };
        // The last vector moves into the hole, so storage stays dense.
        let last = self.ids.len() - 1;
        if at != last {
            self.ids.swap(at, last);
            self.scales.swap(at, last);
            self.tags.swap(at, last);
            self.trl.swap(at, last);
            let (head, tail) = self.data.split_at_mut(last * self.dim);
            head[at * self.dim..(at + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.slot.insert(self.ids[at].clone(), at);
        }
        self.ids.pop();
        self.scales.pop();
        self.tags.pop();
        self.trl.pop();
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
    /// ties by id. The query should be unit length, as the stored vectors are.
    pub fn nearest(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Vec<(String, f32)> {
        if query.len() != self.dim || k == 0 || self.is_empty() {
            return Vec::new();
        }
        // A filter value nobody has keeps nothing; otherwise it becomes a set of symbols.
        let mut wanted: Vec<Vec<u32>> = Vec::with_capacity(filter.facets.len());
        for (facet, values) in &filter.facets {
            let set: Vec<u32> = values
                .iter()
                .filter_map(|v| self.symbols.get(&(*facet, v.clone())).copied())
                .collect();
            if set.is_empty() {
                return Vec::new();
            }
            wanted.push(set);
        }
        let q = quantize(query);
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        let mut floor = f32::NEG_INFINITY;
        for (at, chunk) in self.data.chunks_exact(self.dim).enumerate() {
            let score = dot_i8(chunk, &q.data) as f32 * q.scale * self.scales[at];
            if score < floor {
                continue;
            }
            if !wanted
                .iter()
                .all(|set| set.iter().any(|s| self.tags[at].binary_search(s).is_ok()))
            {
                continue;
            }
            if let Some(min) = filter.trl_min {
                if self.trl[at].is_none_or(|t| t < min) {
                    continue;
                }
            }
            if filter.exclude_id.as_deref() == Some(self.ids[at].as_str()) {
                continue;
            }
            best.push((score, at));
            if best.len() > k * 2 {
                self.keep_best(&mut best, k);
                floor = best.last().map_or(floor, |b| b.0);
            }
        }
        self.keep_best(&mut best, k);
        best.into_iter()
            .map(|(s, at)| (self.ids[at].clone(), s))
            .collect()
    }

    fn keep_best(&self, best: &mut Vec<(f32, usize)>, k: usize) {
        best.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.ids[a.1].cmp(&self.ids[b.1]))
        });
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
    fn quantisation_keeps_values_within_half_a_step() {
        let v = [0.5, -0.25, 0.125, 0.0, -0.5];
        let q = quantize(&v);
        for (x, b) in v.iter().zip(&q.data) {
            assert!((x - f32::from(*b) * q.scale).abs() <= q.scale / 2.0 + 1e-6);
        }
        assert_eq!(q.data[0], 127);
        assert_eq!(q.data[4], -127);
    }

    #[test]
    fn zero_and_non_finite_vectors_quantise_to_zero() {
        assert_eq!(quantize(&[0.0, 0.0]).data, vec![0, 0]);
        assert_eq!(quantize(&[f32::NAN, 1.0]).scale, 0.0);
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
    fn the_blocked_dot_product_equals_the_plain_one() {
        let a: Vec<i8> = (0..100).map(|i| (i * 37 % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..100).map(|i| (i * 91 % 255 - 127) as i8).collect();
        let plain: i32 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        assert_eq!(dot_i8(&a, &b), plain);
    }

    #[test]
    fn a_query_of_the_wrong_size_finds_nothing() {
        let mut set = VectorSet::new(2);
        set.upsert("a", &quantize(&[1.0, 0.0]), &[], None);
        assert!(set.nearest(&[1.0], 5, &VectorFilter::default()).is_empty());
    }
}
