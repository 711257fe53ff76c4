//! Searching: from a request to ranked hits with snippets and facet counts.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocSet, TantivyDocument, TERMINATED};

use crate::analysis::{tokens, Chain};
use crate::doc::{Facet, TextGroup};
use crate::error::IndexError;
use crate::facets::FacetCollector;
use crate::fusion::{fuse, Fusion};
use crate::index::SearchIndex;
use crate::query::QueryTerms;
use crate::ranking::Weights;
use crate::snippet::snippet;

/// Shortest word (in characters) that may be a typo of a longer one; shorter words have too
/// many neighbours one edit away.
const MIN_TYPO_LEN: usize = 5;

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 220;

/// A search: free text, filters, a page.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the user typed; any text is valid.
    pub text: String,
    /// Each entry keeps documents having one of the values; entries combine with AND.
    pub filters: Vec<(Facet, Vec<String>)>,
    /// Keep only documents at or above this readiness level.
    pub trl_min: Option<u64>,
    /// Hits to skip (pagination).
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
    /// Facets to count over all matching documents.
    pub facets: Vec<Facet>,
    /// How text groups and chains are weighted.
    pub weights: Weights,
    /// Phrases that mean what the text says (synonyms), searched with `weights.synonym`.
    pub expansions: Vec<String>,
    /// Semantic neighbours of the text that pass the filters (id, similarity), best first;
    /// when any, they are fused with the lexical ranking.
    pub semantic: Vec<(String, f32)>,
    /// How the two rankings are fused.
    pub fusion: Fusion,
}

/// One ranked hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The document's id.
    pub id: String,
    /// Relevance score (higher is better).
    pub score: f32,
    /// The opaque JSON the document was indexed with.
    pub stored: String,
    /// An excerpt of the description with matched words in `<mark>`; HTML-escaped.
    pub snippet: String,
}

/// Value counts of one facet, most frequent first.
pub type FacetCounts = Vec<(String, u64)>;

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    /// Number of matching documents.
    pub total: usize,
    /// The requested page of hits.
    pub hits: Vec<Hit>,
    /// Counts per requested facet over all matching documents.
    pub facets: BTreeMap<Facet, FacetCounts>,
}

impl SearchIndex {
    /// Runs `request` and returns its page of hits and facet counts.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, IndexError> {
        let searcher = self.searcher();
        let mut terms = QueryTerms::analyse(&request.text, &request.weights);
        for phrase in &request.expansions {
            terms.add_phrase(phrase, &request.weights, request.weights.synonym);
        }
        let mut text_query = self.text_query(&terms, &request.weights);
        if let Some(fuzzy) = self.typo_query(&searcher, &request.text, &request.weights)? {
            text_query = Box::new(BooleanQuery::new(vec![
                (Occur::Should, text_query),
                (Occur::Should, fuzzy),
            ]));
        }
        let query = self.with_filters(text_query, request);
        if !request.semantic.is_empty() && !request.text.trim().is_empty() {
            return self.hybrid(&searcher, query.as_ref(), request, &terms);
        }
        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let facet_collector = self.facet_collector(request);
        let (top, total, facets) = searcher.search(&query, &(top, Count, facet_collector))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            hits.push(self.hit(&searcher, address, score, &terms)?);
        }
        if request.limit == 0 {
            hits.clear();
        }
        Ok(SearchResult {
            total,
            hits,
            facets,
        })
    }

    /// Counts the facets `request` asks for.
    fn facet_collector(&self, request: &SearchRequest) -> FacetCollector {
        FacetCollector::new(
            request
                .facets
                .iter()
                .map(|f| (*f, self.fields.facet(*f)))
                .collect(),
        )
    }

    /// A search whose lexical ranking is fused with the request's semantic neighbours.
    ///
    /// Facets count the lexical matches; the total adds the neighbours that were not among
    /// the lexical hits read.
    fn hybrid(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        request: &SearchRequest,
        terms: &QueryTerms,
    ) -> Result<SearchResult, IndexError> {
        let depth = (request.offset + request.limit)
            .max(request.fusion.depth)
            .max(1);
        let facet_collector = self.facet_collector(request);
        let (top, total, facets) =
            searcher.search(query, &(TopDocs::with_limit(depth), Count, facet_collector))?;
        // Fused by where the index holds each listing: no document is read but the page's.
        let lexical: Vec<DocAddress> = top.into_iter().map(|(_, a)| a).collect();
        let mut semantic = Vec::with_capacity(request.semantic.len());
        for (id, similarity) in &request.semantic {
            // A neighbour the index no longer holds (deleted, vectors lagging) is skipped.
            if let Some(address) = self.address_of(searcher, id)? {
                semantic.push((address, *similarity));
            }
        }
        let fused = fuse(&lexical, &semantic, &request.fusion);
        let extra = fused.iter().filter(|f| f.lexical_rank.is_none()).count();
        let mut hits = Vec::with_capacity(request.limit);
        for f in fused.iter().skip(request.offset).take(request.limit) {
            hits.push(self.hit(searcher, f.id, f.score, terms)?);
        }
        Ok(SearchResult {
            total: total + extra,
            hits,
            facets,
        })
    }

    /// Where the live document with `id` is, if the index holds it.
    pub(crate) fn address_of(
        &self,
        searcher: &tantivy::Searcher,
        id: &str,
    ) -> Result<Option<DocAddress>, IndexError> {
        let term = Term::from_field_text(self.fields.id, id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.id)?;
            let postings = inverted
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|e| IndexError::Tantivy(e.into()))?;
            let Some(mut postings) = postings else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if segment
                    .alive_bitset()
                    .is_none_or(|alive| alive.is_alive(doc))
                {
                    return Ok(Some(DocAddress::new(ord as u32, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    /// The scoring part of a search: every query term in every text field, weighted.
    pub(crate) fn text_query(&self, terms: &QueryTerms, weights: &Weights) -> Box<dyn Query> {
        if terms.is_empty() {
            return Box::new(AllQuery);
        }
        Box::new(terms.to_query(&self.fields, weights))
    }

    /// Near spellings of query words that occur nowhere in the index (typos), if any.
    ///
    /// Only unknown words are widened, so a correctly spelled query ranks exactly as before.
    fn typo_query(
        &self,
        searcher: &tantivy::Searcher,
        text: &str,
        weights: &Weights,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if weights.fuzzy <= 0.0 {
            return Ok(None);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let exact = tokens(Chain::Exact, text);
        let folded = tokens(Chain::Folded, text);
        for (e, f) in exact.iter().zip(&folded) {
            let len = e.chars().count();
            if len < MIN_TYPO_LEN {
                continue;
            }
            // Both forms are tried: stemming shortens English words ("pasteurization" is
            // indexed as "pasteur"), so a misspelling is closer to the unstemmed exact form.
            let forms = [(Chain::Exact, e), (Chain::Folded, f)];
            let mut known = false;
            for group in TextGroup::ALL {
                for (chain, form) in forms {
                    let field = self.fields.group(group).for_chain(chain);
                    known |= searcher.doc_freq(&Term::from_field_text(field, form))? > 0;
                }
            }
            if known {
                continue;
            }
            let distance = if len >= 9 { 2 } else { 1 };
            for group in [TextGroup::Title, TextGroup::Keywords, TextGroup::Body] {
                for (chain, form) in forms {
                    let field = self.fields.group(group).for_chain(chain);
                    let fuzzy =
                        FuzzyTermQuery::new(Term::from_field_text(field, form), distance, true);
                    let boost = weights.fuzzy * weights.group(group);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(fuzzy), boost)),
                    ));
                }
            }
        }
        Ok((!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>))
    }

    /// Adds the request's filters to `scoring` without changing its scores.
    pub(crate) fn with_filters(
        &self,
        scoring: Box<dyn Query>,
        request: &SearchRequest,
    ) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, scoring)];
        for (facet, values) in &request.filters {
            let field = self.fields.facet(*facet);
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    let q =
                        TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic);
                    (Occur::Should, Box::new(q) as Box<dyn Query>)
                })
                .collect();
            clauses.push((Occur::Must, zero_score(Box::new(BooleanQuery::new(any)))));
        }
        if let Some(min) = request.trl_min {
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(self.fields.trl, min)),
                Bound::Unbounded,
            );
            clauses.push((Occur::Must, zero_score(Box::new(range))));
        }
        if clauses.len() == 1 {
            return clauses.remove(0).1;
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: f32,
        terms: &QueryTerms,
    ) -> Result<Hit, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let body = text(self.fields.group(TextGroup::Body).exact);
        Ok(Hit {
            id: text(self.fields.id),
            score,
            stored: text(self.fields.stored),
            snippet: snippet(&body, &terms.folded(), SNIPPET_CHARS),
        })
    }
}

fn zero_score(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, 0.0))
}
