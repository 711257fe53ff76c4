//! One search asked again and again whether a document is among its first hits (the alerts'
//! percolator asks it of every saved search a changed listing could fit).
//!
//! Three costs are paid once instead of per question: the search's scoring is made once
//! ([`PreparedSearch`]) with index statistics remembered across searches ([`StatsMemo`]: making
//! a BM25F weight otherwise looks every term up in every segment); a document's own score is
//! read in its own segment only ([`SearchIndex::own_score`]); and the first hits are ranked
//! ([`SearchIndex::first_hits`]) only when the caller cannot tell from an earlier ranking.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Query, Weight};
use tantivy::schema::{Field, Term, Value};
use tantivy::{DocAddress, DocSet, Score, Searcher, TantivyDocument};

use crate::error::IndexError;
use crate::index::SearchIndex;
use crate::query::QueryTerms;
use crate::search::with_typos;
use crate::search::SearchRequest;
use crate::topk::top_docs_weighted;

/// Index statistics (documents, tokens per field, documents per term) read from one view of
/// the index and remembered: many searches share their terms. They drift slowly as listings
/// come and go, so a holder replaces the memo from time to time.
pub struct StatsMemo {
    searcher: Searcher,
    docs: u64,
    tokens: Mutex<HashMap<Field, u64>>,
    doc_freqs: Mutex<HashMap<Term, u64>>,
}

impl StatsMemo {
    /// A memo of the index as it is now.
    pub fn new(index: &SearchIndex) -> StatsMemo {
        let searcher = index.searcher();
        // Counted as the searcher's own statistics count them (deleted documents too), so that
        // scores made with the memo are the search's.
        let docs = Bm25StatisticsProvider::total_num_docs(&searcher).unwrap_or(0);
        StatsMemo {
            docs,
            searcher,
            tokens: Mutex::default(),
            doc_freqs: Mutex::default(),
        }
    }
}

impl Bm25StatisticsProvider for StatsMemo {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = tokens.get(&field) {
            return Ok(*n);
        }
        let n = self.searcher.total_num_tokens(field)?;
        tokens.insert(field, n);
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut freqs = self.doc_freqs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = freqs.get(term) {
            return Ok(*n);
        }
        let n = self.searcher.doc_freq(term)?;
        freqs.insert(term.clone(), n);
        Ok(n)
    }
}

/// A search's scoring, made once for many questions.
pub struct PreparedSearch {
    weight: Box<dyn Weight>,
}

/// A document where one view of the index holds it.
pub struct Located {
    searcher: Searcher,
    address: DocAddress,
}

/// A search's first hits, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FirstHits {
    /// Their ids and scores.
    pub hits: Vec<(String, f32)>,
}

impl FirstHits {
    /// The last hit's score, when the search has at least `k` hits: a document must reach it.
    pub fn bar(&self, k: usize) -> Option<f32> {
        (self.hits.len() >= k)
            .then(|| self.hits.last().map(|(_, s)| *s))
            .flatten()
    }

    /// Whether `id` is among them.
    pub fn holds(&self, id: &str) -> bool {
        self.hits.iter().any(|(h, _)| h == id)
    }
}

impl SearchIndex {
    /// `request`'s scoring (its text, synonyms and near spellings; not its filters, page or
    /// semantic neighbours), made with the statistics in `stats`: scores close to the real
    /// search's, as close as the statistics are recent.
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn prepare(
        &self,
        request: &SearchRequest,
        stats: &StatsMemo,
    ) -> Result<PreparedSearch, IndexError> {
        let scoring = self.scoring(stats, request)?;
        let weight = scoring.weight(EnableScoring::enabled_from_statistics_provider(
            stats,
            &stats.searcher,
        ))?;
        Ok(PreparedSearch { weight })
    }

    /// Where the index holds listing `id` now; `None` when it does not.
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn locate(&self, id: &str) -> Result<Option<Located>, IndexError> {
        let searcher = self.searcher();
        Ok(self
            .address_of(&searcher, id)?
            .map(|address| Located { searcher, address }))
    }

    /// The document's score under the search, its filters not asked; `None` when the search's
    /// text does not match it.
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn own_score(
        &self,
        search: &PreparedSearch,
        at: &Located,
    ) -> Result<Option<Score>, IndexError> {
        score_of(search.weight.as_ref(), &at.searcher, at.address)
    }

    /// The first `k` hits of `request` among the documents its filters keep, exactly as
    /// `search` ranks them now (a tie goes to the earlier document).
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn first_hits(&self, request: &SearchRequest, k: usize) -> Result<FirstHits, IndexError> {
        let searcher = self.searcher();
        let kept = self.kept(&searcher, request)?;
        let weight = self
            .scoring(&searcher, request)?
            .weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let top = top_docs_weighted(&searcher, weight.as_ref(), &kept, k, None)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            hits.push((id, score));
        }
        Ok(FirstHits { hits })
    }

    /// Whether at least `k` of the documents `others` rank before document `id` in `request`'s
    /// results now (scores with the index's current statistics; a tie goes to the earlier
    /// document, as in `search`). Filters are not asked: `others` are documents known to pass
    /// them. A document missing from the index counts as not before it.
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn ranked_before(
        &self,
        request: &SearchRequest,
        id: &str,
        others: &[String],
        k: usize,
    ) -> Result<bool, IndexError> {
        let searcher = self.searcher();
        let Some(own_at) = self.address_of(&searcher, id)? else {
            return Ok(false);
        };
        let weight = self
            .scoring(&searcher, request)?
            .weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let score_at = |address| score_of(weight.as_ref(), &searcher, address);
        let Some(own) = score_at(own_at)? else {
            return Ok(false);
        };
        let mut before = 0;
        for other in others {
            let Some(at) = self.address_of(&searcher, other)? else {
                continue;
            };
            if let Some(score) = score_at(at)? {
                if score > own || (score == own && at < own_at) {
                    before += 1;
                }
            }
        }
        Ok(before >= k)
    }

    /// The scoring query of `request`: its text, synonyms and near spellings of unknown words.
    fn scoring(
        &self,
        stats: &dyn Bm25StatisticsProvider,
        request: &SearchRequest,
    ) -> Result<Box<dyn Query>, IndexError> {
        let mut terms = QueryTerms::analyse(&request.text, &request.weights);
        for phrase in &request.expansions {
            terms.add_phrase(phrase, &request.weights, request.weights.synonym);
        }
        let typos = self.typo_query(stats, &request.text, &request.weights)?;
        Ok(with_typos(
            self.text_query(&terms, &request.weights, None),
            &typos,
        ))
    }
}

/// The score `weight` gives the document at `address`, read in its segment only; `None` when
/// the query does not match it.
fn score_of(
    weight: &dyn Weight,
    searcher: &Searcher,
    address: DocAddress,
) -> Result<Option<Score>, IndexError> {
    let mut scorer = weight.scorer(searcher.segment_reader(address.segment_ord), 1.0)?;
    if scorer.seek(address.doc_id) != address.doc_id {
        return Ok(None);
    }
    Ok(Some(scorer.score()))
}
