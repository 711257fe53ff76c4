//! One search's view of the term dictionaries: each term looked up once per segment, however
//! often ranking, counting and typo detection ask for it.
//!
//! A query of two words is twenty terms (three chains, four text groups), each wanted by the
//! weight's statistics, by every segment's scorer and by the count: without the table every
//! one of them walks every segment's dictionary three times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::postings::TermInfo;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, Term};
use tantivy::{Searcher, SegmentReader};

/// A term's entry in each segment's dictionary, by segment ordinal (`None`: not there).
pub(crate) type Entries = Arc<[Option<TermInfo>]>;

/// The dictionaries of one searcher, remembered term by term for the length of a search.
#[derive(Debug)]
pub(crate) struct TermTable {
    searcher: Searcher,
    entries: Mutex<HashMap<Term, Entries>>,
}

impl TermTable {
    /// An empty table over `searcher`'s segments.
    pub(crate) fn new(searcher: &Searcher) -> Arc<TermTable> {
        Arc::new(TermTable {
            searcher: searcher.clone(),
            entries: Mutex::default(),
        })
    }

    /// `term`'s entry in every segment, looked up on first use.
    pub(crate) fn entries(&self, term: &Term) -> tantivy::Result<Entries> {
        if let Some(found) = self.lock().get(term) {
            return Ok(found.clone());
        }
        let mut found = Vec::with_capacity(self.searcher.segment_readers().len());
        for segment in self.searcher.segment_readers() {
            found.push(segment.inverted_index(term.field())?.get_term_info(term)?);
        }
        let found: Entries = found.into();
        self.lock().insert(term.clone(), found.clone());
        Ok(found)
    }

    /// The searcher whose dictionaries the table reads.
    pub(crate) fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    /// The ordinal of `segment` among the table's segments, if it is one of them.
    pub(crate) fn ordinal(&self, segment: &SegmentReader) -> Option<usize> {
        let id = segment.segment_id();
        self.searcher
            .segment_readers()
            .iter()
            .position(|s| s.segment_id() == id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Term, Entries>> {
        // Entries are only ever added, each complete: a panic cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The searcher's own statistics, documents per term counted from the table's entries.
impl Bm25StatisticsProvider for TermTable {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Bm25StatisticsProvider::total_num_docs(&self.searcher)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self
            .entries(term)?
            .iter()
            .flatten()
            .map(|info| u64::from(info.doc_freq))
            .sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{IndexChange, IndexDoc, TextGroup};
    use crate::index::SearchIndex;

    #[test]
    fn counts_documents_per_term_as_the_searcher_does() -> Result<(), Box<dyn std::error::Error>> {
        let index = SearchIndex::in_ram()?;
        // Two commits make two segments, so the counts are summed over segments.
        for (seq, batch) in [(1, ["a", "b"]), (2, ["c", "d"])] {
            let changes = batch
                .iter()
                .map(|id| {
                    IndexChange::Upsert(Box::new(IndexDoc {
                        id: id.to_string(),
                        text: vec![(TextGroup::Body, format!("máy sấy nông sản {id}"))],
                        ..IndexDoc::default()
                    }))
                })
                .collect::<Vec<_>>();
            index.apply(changes, seq)?;
        }
        let searcher = index.searcher();
        let table = TermTable::new(&searcher);
        let field = index.fields.group(TextGroup::Body).folded;
        for word in ["may", "nong", "absent"] {
            let term = Term::from_field_text(field, word);
            assert_eq!(table.doc_freq(&term)?, searcher.doc_freq(&term)?, "{word}");
        }
        assert_eq!(table.doc_freq(&Term::from_field_text(field, "may"))?, 4);
        assert_eq!(
            table.entries(&Term::from_field_text(field, "may"))?.len(),
            2
        );
        Ok(())
    }
}
