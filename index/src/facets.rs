//! Counting facet values over every matching document.
//!
//! A common word matches most of a large index, so counting must cost little per document.
//! Reading tantivy's dictionary-encoded columns costs several lookups per document and facet;
//! instead each segment's values are copied once into plain arrays of term ordinals (a segment
//! never changes once written), and counting is an array read and an increment.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, Searcher, SearcherGeneration, SegmentOrdinal, SegmentReader, Warmer};

use crate::doc::Facet;
use crate::search::FacetCounts;

/// Most distinct values of a multi-valued facet packed as a bit mask per document.
const MASK_BITS: usize = 16;

/// Where one facet's values sit in a segment's packed words.
#[derive(Clone, Copy)]
enum Slot {
    /// At most one value per document: its term ordinal plus one (0: none), `width` bits
    /// from `shift`.
    One { shift: u32, width: u32 },
    /// Several values per document: one bit per term ordinal from `shift`.
    Many { shift: u32, width: u32 },
    /// Too many distinct values to pack: read the column.
    Column,
}

/// A mask of the lowest `width` bits.
fn low_bits(width: u32) -> u64 {
    1u64.checked_shl(width).map_or(u64::MAX, |b| b - 1)
}

/// Every facet of one segment: its columns, and per document one word packing all values.
struct SegmentValues {
    packed: Vec<u64>,
    columns: HashMap<Facet, (StrColumn, Slot)>,
    /// Each facet's values by term ordinal: read once here rather than from the column's
    /// dictionary by every search.
    names: HashMap<Facet, Vec<String>>,
}

impl SegmentValues {
    fn build(reader: &SegmentReader) -> tantivy::Result<Self> {
        let max_doc = reader.max_doc();
        let mut packed = vec![0u64; max_doc as usize];
        let mut columns = HashMap::new();
        let mut names = HashMap::new();
        let mut shift = 0u32;
        for facet in Facet::ALL {
            let Some(column) = reader.fast_fields().str(facet.name())? else {
                continue;
            };
            let terms = column.num_terms();
            // Values as ordinal + 1 while every document has at most one, else as masks.
            let mut values = Vec::with_capacity(max_doc as usize);
            let mut multi = false;
            for doc in 0..max_doc {
                let mut ords = column.term_ords(doc);
                let first = ords.next();
                let mut mask = first.map_or(0, |o| 1u64.checked_shl(o as u32).unwrap_or(0));
                for o in ords {
                    multi = true;
                    mask |= 1u64.checked_shl(o as u32).unwrap_or(0);
                }
                values.push((first.map_or(0, |o| o + 1), mask));
            }
            let width = if multi {
                terms as u32
            } else {
                u64::BITS - (terms as u64).leading_zeros()
            };
            let fits = shift + width <= u64::BITS && (!multi || terms <= MASK_BITS);
            let slot = match (fits, multi) {
                (false, _) => Slot::Column,
                (true, false) => Slot::One { shift, width },
                (true, true) => Slot::Many { shift, width },
            };
            if fits {
                for (word, (one, mask)) in packed.iter_mut().zip(values) {
                    *word |= if multi { mask } else { one } << shift;
                }
                shift += width;
            }
            let mut facet_names = Vec::with_capacity(terms);
            for ord in 0..terms as u64 {
                let mut name = String::new();
                column.ord_to_str(ord, &mut name)?;
                facet_names.push(name);
            }
            names.insert(facet, facet_names);
            columns.insert(facet, (column, slot));
        }
        Ok(SegmentValues {
            packed,
            columns,
            names,
        })
    }
}

/// Facet values copied out of the segments an index has searched lately.
#[derive(Default)]
pub(crate) struct FacetCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentValues>>>,
}

impl FacetCache {
    fn values(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentValues>> {
        if let Some(v) = self.lock().get(&reader.segment_id()) {
            return Ok(v.clone());
        }
        // Built outside the lock: two searches may both build it, and either copy is right.
        let built = Arc::new(SegmentValues::build(reader)?);
        self.lock().insert(reader.segment_id(), built.clone());
        Ok(built)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentValues>>> {
        // The map only ever holds copies that could be built again, so a panic elsewhere
        // cannot leave it wrong.
        self.segments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Values are copied out as soon as a segment is searchable (at open and after each commit),
/// so that no search waits for it, and dropped with the segment.
impl Warmer for FacetCache {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for reader in searcher.segment_readers() {
            self.values(reader)?;
        }
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let segments = crate::topk::live_segments(live);
        self.lock().retain(|segment, _| segments.contains(segment));
    }
}

/// Counts the values of some facets.
pub struct FacetCollector {
    facets: Vec<Facet>,
    cache: Arc<FacetCache>,
}

impl FacetCollector {
    /// A collector for these facets, reading values through `cache`.
    pub(crate) fn new(facets: Vec<Facet>, cache: Arc<FacetCache>) -> Self {
        FacetCollector { facets, cache }
    }
}

/// Widest run of packed bits counted as one number (a table of 2^14 counters, 64 KiB).
const TABLE_BITS: u32 = 14;

/// Documents a segment counts one facet at a time before it switches to [`Table`]s, whose
/// counters cost a pass over each table at harvest: few matches are counted the plain way.
/// (Tests switch early, so that both ways are compared with counts made by hand.)
const TABLES_AFTER: usize = if cfg!(test) { 64 } else { 1 << TABLE_BITS };

/// Several single-valued facets whose packed values lie side by side, counted together: one
/// counter per combination of their values, one increment per document for all of them, and
/// the combinations split into each facet's counts once the segment is done.
struct Table {
    shift: u32,
    width: u32,
    counts: Vec<u32>,
    /// The facets it covers, as indexes into [`SegmentFacets::counts`].
    members: Vec<usize>,
}

/// Per-segment counts, by term ordinal, for each facet with a column in the segment.
pub struct SegmentFacets {
    values: Arc<SegmentValues>,
    /// Each requested facet: where its values are, and counts by term ordinal.
    counts: Vec<(Facet, Slot, Vec<u64>)>,
    /// The single-valued facets, counted by combination once the segment has counted
    /// [`TABLES_AFTER`] documents (their `counts` completed at harvest); empty before.
    tables: Vec<Table>,
    /// Which of `counts` the tables count.
    tabled: Vec<bool>,
    /// Documents counted so far.
    seen: usize,
}

/// Groups the single-valued facets among `counts` into runs of at most [`TABLE_BITS`] bits.
fn tables(counts: &[(Facet, Slot, Vec<u64>)]) -> Vec<Table> {
    let mut ones: Vec<(u32, u32, usize)> = counts
        .iter()
        .enumerate()
        .filter_map(|(i, (_, slot, _))| match *slot {
            Slot::One { shift, width } if width <= TABLE_BITS => Some((shift, width, i)),
            _ => None,
        })
        .collect();
    ones.sort_unstable();
    let mut out: Vec<Table> = Vec::new();
    for (shift, width, i) in ones {
        match out.last_mut() {
            Some(t) if shift + width - t.shift <= TABLE_BITS => {
                t.width = shift + width - t.shift;
                t.members.push(i);
            }
            _ => out.push(Table {
                shift,
                width,
                counts: Vec::new(),
                members: vec![i],
            }),
        }
    }
    for t in &mut out {
        t.counts = vec![0; 1 << t.width];
    }
    out
}

impl Collector for FacetCollector {
    type Fruit = BTreeMap<Facet, FacetCounts>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let values = self.cache.values(reader)?;
        let counts = self
            .facets
            .iter()
            .filter_map(|f| {
                let (column, slot) = values.columns.get(f)?;
                let len = match *slot {
                    // Indexed by the packed value itself (ordinal + 1), so that no value needs
                    // a bounds test.
                    Slot::One { width, .. } => 1 << width,
                    Slot::Many { .. } | Slot::Column => column.num_terms(),
                };
                Some((*f, *slot, vec![0; len]))
            })
            .collect();
        Ok(SegmentFacets {
            values,
            counts,
            tables: Vec::new(),
            tabled: Vec::new(),
            seen: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<HashMap<Facet, HashMap<String, u64>>>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut merged: BTreeMap<Facet, HashMap<String, u64>> =
            self.facets.iter().map(|f| (*f, HashMap::new())).collect();
        for segment in segments {
            for (facet, counts) in segment {
                let into = merged.entry(facet).or_default();
                for (value, n) in counts {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(merged
            .into_iter()
            .map(|(facet, counts)| {
                let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (facet, counts)
            })
            .collect())
    }
}

impl SegmentFacets {
    /// Counts the values of `docs`, a block of matching documents.
    pub(crate) fn collect_block(&mut self, docs: &[DocId]) {
        let packed = &self.values.packed;
        let word = |doc: &DocId| packed.get(*doc as usize).copied().unwrap_or(0);
        self.seen += docs.len();
        if self.tabled.is_empty() && self.seen >= TABLES_AFTER {
            self.tables = tables(&self.counts);
            self.tabled = vec![false; self.counts.len()];
            for i in self.tables.iter().flat_map(|t| &t.members) {
                if let Some(t) = self.tabled.get_mut(*i) {
                    *t = true;
                }
            }
        }
        match self.tables.as_mut_slice() {
            [] => {}
            [t] => {
                let mask = low_bits(t.width);
                for doc in docs {
                    if let Some(c) = t.counts.get_mut(((word(doc) >> t.shift) & mask) as usize) {
                        *c += 1;
                    }
                }
            }
            tables => {
                for doc in docs {
                    let w = word(doc);
                    for t in tables.iter_mut() {
                        let v = (w >> t.shift) & low_bits(t.width);
                        if let Some(c) = t.counts.get_mut(v as usize) {
                            *c += 1;
                        }
                    }
                }
            }
        }
        for (i, (facet, slot, counts)) in self.counts.iter_mut().enumerate() {
            match *slot {
                // Counted through a table.
                Slot::One { .. } if self.tabled.get(i).copied().unwrap_or(false) => {}
                Slot::One { shift, width } => {
                    let mask = low_bits(width);
                    for doc in docs {
                        let v = ((word(doc) >> shift) & mask) as usize;
                        if let Some(c) = counts.get_mut(v) {
                            *c += 1;
                        }
                    }
                }
                Slot::Many { shift, width } => {
                    let low = low_bits(width);
                    for doc in docs {
                        let mut mask = (word(doc) >> shift) & low;
                        while mask != 0 {
                            if let Some(c) = counts.get_mut(mask.trailing_zeros() as usize) {
                                *c += 1;
                            }
                            mask &= mask - 1;
                        }
                    }
                }
                Slot::Column => {
                    if let Some((column, _)) = self.values.columns.get(facet) {
                        for doc in docs {
                            for ord in column.term_ords(*doc) {
                                if let Some(c) = counts.get_mut(ord as usize) {
                                    *c += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = HashMap<Facet, HashMap<String, u64>>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.collect_block(&[doc]);
    }

    fn harvest(mut self) -> Self::Fruit {
        // Each combination's count goes to every value it combines.
        for t in &self.tables {
            for (combination, &n) in t.counts.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let packed = (combination as u64) << t.shift;
                for &i in &t.members {
                    if let Some((_, Slot::One { shift, width }, counts)) = self.counts.get_mut(i) {
                        let v = (packed >> *shift) & low_bits(*width);
                        if let Some(c) = counts.get_mut(v as usize) {
                            *c += u64::from(n);
                        }
                    }
                }
            }
        }
        let mut out = HashMap::new();
        for (facet, slot, counts) in self.counts {
            let Some(names) = self.values.names.get(&facet) else {
                continue;
            };
            let skip = usize::from(matches!(slot, Slot::One { .. }));
            let values = counts
                .into_iter()
                .skip(skip)
                .zip(names)
                .filter(|(n, _)| *n > 0)
                .map(|(n, name)| (name.clone(), n))
                .collect();
            out.insert(facet, values);
        }
        out
    }
}
