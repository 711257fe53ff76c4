//! The best hits of a scoring query among the documents a filter keeps, skipping documents
//! that cannot reach the top (the BM25F query's MaxScore pruning, `bm25f.rs`).
//!
//! tantivy prunes a query only when nothing else constrains it, and every search here is
//! filtered (by status at least), so a filtered query would score every matching document. Here
//! the scoring query runs alone, pruned, and the filter is a bitset per segment that the
//! callback checks; bitsets are remembered per segment, which never changes once written.
//! (A query widened by near spellings of unknown words is an OR tantivy scores in full, still
//! without the filter in it.)

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::{
    DocAddress, DocId, Score, Searcher, SearcherGeneration, SegmentReader, Warmer, TERMINATED,
};

use crate::error::IndexError;
use crate::terms::TermTable;

/// A filter keeping fewer than one document in this many is read first, and the text's
/// matches looked up for each of its documents.
const SELECTIVE: usize = 8;

/// Bytes of filter bitsets kept for reuse (a million documents take 125 KiB per filter).
const CACHE_BYTES: usize = 64 << 20;

/// One bit per document of a segment.
#[derive(Debug)]
pub(crate) struct Bits {
    words: Vec<u64>,
    /// How many bits are set.
    pub(crate) len: usize,
}

impl Bits {
    fn new(max_doc: DocId) -> Self {
        Bits {
            words: vec![0; (max_doc as usize).div_ceil(64)],
            len: 0,
        }
    }

    fn insert(&mut self, doc: DocId) {
        let (w, b) = ((doc / 64) as usize, doc % 64);
        if let Some(word) = self.words.get_mut(w) {
            if *word & (1 << b) == 0 {
                *word |= 1 << b;
                self.len += 1;
            }
        }
    }

    /// The bits of documents `64 * w .. 64 * w + 64`; 0 past the end.
    pub(crate) fn word(&self, w: usize) -> u64 {
        self.words.get(w).copied().unwrap_or(0)
    }

    /// Whether `doc` is in the set.
    pub(crate) fn contains(&self, doc: DocId) -> bool {
        self.words
            .get((doc / 64) as usize)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    /// Whether the set keeps so few of a segment's `max_doc` documents that it should lead: each
    /// of its documents looked up in the text's matches, rather than every match read.
    pub(crate) fn leads(&self, max_doc: DocId) -> bool {
        self.len * SELECTIVE < max_doc as usize
    }

    /// The documents in the set, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut word = w;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = word.trailing_zeros();
                word &= word - 1;
                Some(i as DocId * 64 + bit)
            })
        })
    }

    fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// Filter bitsets by segment and filter, least recently built dropped first.
#[derive(Default)]
pub(crate) struct FilterCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<(SegmentId, String), Arc<Bits>>,
    order: VecDeque<(SegmentId, String)>,
    bytes: usize,
}

/// A filter resolved against one searcher: the documents it keeps in each segment, by segment
/// ordinal (`None`: no filter).
pub(crate) struct Kept(Vec<Option<Arc<Bits>>>);

impl Kept {
    /// The documents kept in segment `ord`; `None` when all are.
    pub(crate) fn segment(&self, ord: usize) -> Option<&Bits> {
        self.0.get(ord).and_then(Option::as_deref)
    }
}

impl FilterCache {
    /// The documents `filter` (named `key` in the cache) keeps in each segment of `searcher`.
    pub(crate) fn resolve(
        &self,
        searcher: &Searcher,
        filter: Option<(&str, &dyn Query)>,
    ) -> Result<Kept, IndexError> {
        let segments = searcher.segment_readers();
        let Some((key, query)) = filter else {
            return Ok(Kept(vec![None; segments.len()]));
        };
        let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
        let bits = segments
            .iter()
            .map(|segment| self.bits(key, weight.as_ref(), segment).map(Some))
            .collect::<Result<_, _>>()?;
        Ok(Kept(bits))
    }

    /// The documents of `segment` that `filter` (named `key`) keeps, built once.
    fn bits(
        &self,
        key: &str,
        filter: &dyn tantivy::query::Weight,
        segment: &SegmentReader,
    ) -> Result<Arc<Bits>, IndexError> {
        let id = (segment.segment_id(), key.to_string());
        if let Some(bits) = self.lock().map.get(&id) {
            return Ok(bits.clone());
        }
        let mut bits = Bits::new(segment.max_doc());
        filter.for_each_no_score(segment, &mut |docs| {
            for &d in docs {
                bits.insert(d);
            }
        })?;
        let bits = Arc::new(bits);
        let mut inner = self.lock();
        if inner.map.insert(id.clone(), bits.clone()).is_none() {
            inner.bytes += bits.bytes();
            inner.order.push_back(id);
        }
        while inner.bytes > CACHE_BYTES {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(b) = inner.map.remove(&old) {
                inner.bytes -= b.bytes();
            }
        }
        Ok(bits)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A panic elsewhere cannot leave the cache inconsistent in a way that matters: it is
        // only ever a subset of what could be rebuilt.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Bitsets of segments no searcher uses any more are dropped.
impl Warmer for FilterCache {
    fn warm(&self, _searcher: &Searcher) -> tantivy::Result<()> {
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let segments = live_segments(live);
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.order.retain(|(s, _)| segments.contains(s));
        let mut freed = 0;
        inner.map.retain(|(s, _), bits| {
            let keep = segments.contains(s);
            if !keep {
                freed += bits.bytes();
            }
            keep
        });
        inner.bytes -= freed;
    }
}

/// A hit in the heap: the worst on top.
#[derive(Debug, PartialEq)]
struct Ranked(Score, Reverse<DocAddress>);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        // Higher score ranks first; on a tie the earlier document does, as in tantivy's TopDocs.
        self.0
            .total_cmp(&other.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

/// The `k` best documents by `scoring` among those `kept`, but `exclude`, best first; the
/// statistics are those of `table`'s searcher, each term looked up there once.
pub(crate) fn top_docs(
    table: &TermTable,
    scoring: &dyn Query,
    kept: &Kept,
    k: usize,
    exclude: Option<DocAddress>,
) -> Result<Vec<(Score, DocAddress)>, IndexError> {
    let searcher = table.searcher();
    let weight = scoring.weight(EnableScoring::enabled_from_statistics_provider(
        table, searcher,
    ))?;
    top_docs_weighted(searcher, weight.as_ref(), kept, k, exclude)
}

/// [`top_docs`] with the scoring query's weight already made.
pub(crate) fn top_docs_weighted(
    searcher: &Searcher,
    weight: &dyn Weight,
    kept: &Kept,
    k: usize,
    exclude: Option<DocAddress>,
) -> Result<Vec<(Score, DocAddress)>, IndexError> {
    if k == 0 {
        return Ok(Vec::new());
    }
    // A min-heap of the best so far: its top is the score to beat, carried across segments.
    let mut heap: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(k + 1);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let bits = kept.segment(ord);
        if bits.is_some_and(|b| b.len == 0) {
            continue;
        }
        let alive = segment.alive_bitset();
        let start = heap
            .peek()
            .filter(|_| heap.len() == k)
            .map_or(Score::MIN, |r| r.0 .0);
        // Offers a hit; returns the score the next one must beat.
        let mut offer = |doc: DocId, score: Score| {
            let address = DocAddress::new(ord as u32, doc);
            if alive.is_none_or(|a| a.is_alive(doc)) && exclude != Some(address) {
                heap.push(Reverse(Ranked(score, Reverse(address))));
                if heap.len() > k {
                    heap.pop();
                }
            }
            heap.peek()
                .filter(|_| heap.len() == k)
                .map_or(Score::MIN, |r| r.0 .0)
        };
        let mut beat = start;
        match bits {
            Some(bits) if bits.leads(segment.max_doc()) => {
                let mut matches = weight.scorer(segment, 1.0)?;
                seek_each(matches.as_mut(), bits, |doc, matches| {
                    let score = matches.score();
                    if score > beat {
                        beat = offer(doc, score);
                    }
                });
            }
            _ => weight.for_each_pruning(start, segment, &mut |doc, score| {
                if bits.is_none_or(|b| b.contains(doc)) {
                    beat = offer(doc, score);
                }
                beat
            })?,
        }
    }
    let mut out: Vec<Ranked> = heap.into_iter().map(|r| r.0).collect();
    out.sort_by(|a, b| b.cmp(a));
    Ok(out.into_iter().map(|r| (r.0, r.1 .0)).collect())
}

/// Calls `found` with each document of `bits` that `matches` also matches, in order, with
/// `matches` positioned on it.
pub(crate) fn seek_each(
    matches: &mut dyn Scorer,
    bits: &Bits,
    mut found: impl FnMut(DocId, &mut dyn Scorer),
) {
    for doc in bits.iter() {
        if matches.doc() > doc {
            continue;
        }
        let at = matches.seek(doc);
        if at == TERMINATED {
            break;
        }
        if at == doc {
            found(doc, matches);
        }
    }
}

/// Every segment some live searcher still reads.
pub(crate) fn live_segments(live: &[&SearcherGeneration]) -> HashSet<SegmentId> {
    live.iter()
        .flat_map(|g| g.segments().keys().copied())
        .collect()
}
