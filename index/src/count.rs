//! The total and the facet counts of a search: which documents match at all, none scored.
//!
//! Most searches match a large share of a segment, and then the matches are gathered into one
//! bitset per segment, each term's postings read a block at a time: that costs about a bit set
//! per posting, where a union of scorers advances every term's postings document by document.
//! A selective filter (one province, say) leads instead: each document it keeps is looked up in
//! the matches.

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::{IndexRecordOption, Term};
use tantivy::{DocId, Searcher, SegmentReader};

use crate::doc::Facet;
use crate::error::IndexError;
use crate::facets::{FacetCollector, SegmentFacets};
use crate::search::FacetCounts;
use crate::terms::TermTable;
use crate::topk::{seek_each, Kept};

/// Documents handed to the facet counters at a time.
const BLOCK: usize = 1024;

/// What makes a document match, for counting: any of `terms`, or `other` (near spellings).
pub(crate) struct Matching {
    /// Every document matches (the query has no text).
    pub(crate) all: bool,
    /// Every text term of the query in every field.
    pub(crate) terms: Vec<Term>,
    /// Near spellings of unknown words, if any.
    pub(crate) other: Option<Box<dyn Query>>,
    /// The same as one query, for segments where the filter leads.
    pub(crate) query: Box<dyn Query>,
    /// Where the search has looked its terms up already, if anywhere.
    pub(crate) table: Option<Arc<TermTable>>,
}

/// How many documents `matching` matches among those `kept`, and `collector`'s facet counts
/// over them.
pub(crate) fn count(
    searcher: &Searcher,
    matching: &Matching,
    kept: &Kept,
    collector: &FacetCollector,
) -> Result<(usize, BTreeMap<Facet, FacetCounts>), IndexError> {
    let scoring = EnableScoring::disabled_from_searcher(searcher);
    let leading = matching.query.weight(scoring)?;
    let other = match &matching.other {
        Some(q) => Some(q.weight(scoring)?),
        None => None,
    };
    let mut total = 0;
    let mut fruits = Vec::new();
    let mut block: Vec<DocId> = Vec::with_capacity(BLOCK + 64);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let bits = kept.segment(ord);
        let mut counts = collector.for_segment(ord as u32, segment)?;
        let alive = segment.alive_bitset();
        block.clear();
        if let Some(bits) = bits.filter(|b| b.leads(segment.max_doc())) {
            let mut matches = leading.scorer(segment, 1.0)?;
            seek_each(matches.as_mut(), bits, |doc, _| {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    block.push(doc);
                }
            });
            total += block.len();
            counts.collect_block(&block);
        } else {
            let union = matches_in(ord, segment, matching, other.as_deref())?;
            for (w, &word) in union.iter().enumerate() {
                let mut word = word & bits.map_or(u64::MAX, |b| b.word(w));
                while word != 0 {
                    let doc = w as DocId * 64 + word.trailing_zeros();
                    word &= word - 1;
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        block.push(doc);
                    }
                }
                if block.len() >= BLOCK {
                    total += flush(&mut counts, &mut block);
                }
            }
            total += flush(&mut counts, &mut block);
        }
        fruits.push(counts.harvest());
    }
    Ok((total, collector.merge_fruits(fruits)?))
}

/// Counts `block` and empties it; returns how many it held.
fn flush(counts: &mut SegmentFacets, block: &mut Vec<DocId>) -> usize {
    counts.collect_block(block);
    let n = block.len();
    block.clear();
    n
}

/// The documents of `segment` (the searcher's `ord`-th) that `matching` matches, one bit each
/// (deleted ones included).
fn matches_in(
    ord: usize,
    segment: &SegmentReader,
    matching: &Matching,
    other: Option<&dyn Weight>,
) -> Result<Vec<u64>, IndexError> {
    let max_doc = segment.max_doc();
    let mut union = vec![0u64; (max_doc as usize).div_ceil(64)];
    let mut set = |doc: DocId| {
        if let Some(word) = union.get_mut((doc / 64) as usize) {
            *word |= 1 << (doc % 64);
        }
    };
    if matching.all {
        union.fill(u64::MAX);
        if let Some(last) = union.last_mut() {
            let tail = max_doc % 64;
            if tail != 0 {
                *last = (1u64 << tail) - 1;
            }
        }
        return Ok(union);
    }
    for term in &matching.terms {
        let postings = match &matching.table {
            Some(table) => match table.entries(term)?.get(ord).and_then(Option::as_ref) {
                Some(info) => Some(
                    segment
                        .inverted_index(term.field())?
                        .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)
                        .map_err(|e| IndexError::Tantivy(e.into()))?,
                ),
                None => None,
            },
            None => segment
                .inverted_index(term.field())?
                .read_block_postings(term, IndexRecordOption::Basic)
                .map_err(|e| IndexError::Tantivy(e.into()))?,
        };
        let Some(mut postings) = postings else {
            continue;
        };
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            docs.iter().copied().for_each(&mut set);
            postings.advance();
        }
    }
    if let Some(other) = other {
        other.for_each_no_score(segment, &mut |docs| docs.iter().copied().for_each(&mut set))?;
    }
    Ok(union)
}
