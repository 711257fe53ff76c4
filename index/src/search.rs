//! Searching: from a request to ranked hits with snippets and facet counts.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use tantivy::query::{
    AllQuery, Bm25StatisticsProvider, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocSet, TantivyDocument, TERMINATED};

use crate::analysis::{tokens, Chain};
use crate::count::{count, Matching};
use crate::doc::{Facet, TextGroup};
use crate::error::IndexError;
use crate::facets::FacetCollector;
use crate::fusion::{fuse, Fusion};
use crate::index::SearchIndex;
use crate::query::QueryTerms;
use crate::ranking::Weights;
use crate::snippet::snippet;
use crate::terms::TermTable;
use crate::topk::{top_docs, Kept};

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
        // Ranking, counting and typo detection ask for the same terms: each is looked up once.
        let table = TermTable::new(&searcher);
        let typos = self.typo_query(table.as_ref(), &request.text, &request.weights)?;
        let scoring = with_typos(
            self.text_query(&terms, &request.weights, Some(&table)),
            &typos,
        );
        let matching_set = terms.matching_set();
        let matching = Matching {
            all: matching_set.is_empty(),
            terms: matching_set
                .weighted_terms(&self.fields, &request.weights)
                .map(|(term, _)| term)
                .collect(),
            other: typos.as_ref().map(|t| t.box_clone()),
            query: with_typos(
                self.text_query(&matching_set, &request.weights, Some(&table)),
                &typos,
            ),
            table: Some(table.clone()),
        };
        let kept = self.kept(&searcher, request)?;
        let hybrid = !request.semantic.is_empty() && !request.text.trim().is_empty();
        let depth = if hybrid {
            (request.offset + request.limit).max(request.fusion.depth)
        } else {
            request.offset + request.limit
        };
        let top = top_docs(&table, scoring.as_ref(), &kept, depth.max(1), None)?;
        let collector = FacetCollector::new(request.facets.clone(), self.facet_cache.clone());
        let (total, facets) = count(&searcher, &matching, &kept, &collector)?;
        if hybrid {
            return self.hybrid(&searcher, top, total, facets, request, &terms);
        }
        let mut hits = Vec::with_capacity(request.limit);
        for (score, address) in top.into_iter().skip(request.offset).take(request.limit) {
            hits.push(self.hit(&searcher, address, score, &terms)?);
        }
        Ok(SearchResult {
            total,
            hits,
            facets,
        })
    }

    /// A search whose lexical ranking (`top`, deep enough for fusion) is fused with the
    /// request's semantic neighbours.
    ///
    /// Facets count the lexical matches; the total adds the neighbours that were not among
    /// the lexical hits read.
    fn hybrid(
        &self,
        searcher: &tantivy::Searcher,
        top: Vec<(f32, DocAddress)>,
        total: usize,
        facets: BTreeMap<Facet, FacetCounts>,
        request: &SearchRequest,
        terms: &QueryTerms,
    ) -> Result<SearchResult, IndexError> {
        // Fused by where the index holds each listing: no document is read but the page's.
        let lexical: Vec<(DocAddress, f32)> = top.into_iter().map(|(s, a)| (a, s)).collect();
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

    /// The scoring part of a search: every query term in every text field, weighted; its terms
    /// found through `table` when the search has one.
    pub(crate) fn text_query(
        &self,
        terms: &QueryTerms,
        weights: &Weights,
        table: Option<&Arc<TermTable>>,
    ) -> Box<dyn Query> {
        if terms.is_empty() {
            return Box::new(AllQuery);
        }
        let query = terms.to_query(&self.fields, weights);
        match table {
            Some(table) => Box::new(query.with_table(table.clone())),
            None => Box::new(query),
        }
    }

    /// Near spellings of query words that occur nowhere in the index (typos), if any.
    ///
    /// Only unknown words are widened, so a correctly spelled query ranks exactly as before.
    pub(crate) fn typo_query(
        &self,
        stats: &dyn Bm25StatisticsProvider,
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
            // Descriptions hold most words, so they are asked first; one sighting is enough.
            let mut known = false;
            'look: for group in [
                TextGroup::Body,
                TextGroup::Title,
                TextGroup::Keywords,
                TextGroup::Extra,
            ] {
                for (chain, form) in forms {
                    let field = self.fields.group(group).for_chain(chain);
                    if stats.doc_freq(&Term::from_field_text(field, form))? > 0 {
                        known = true;
                        break 'look;
                    }
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

    /// The documents `request`'s filters keep in each segment of `searcher`, from the cache.
    pub(crate) fn kept(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest,
    ) -> Result<Kept, IndexError> {
        let filter = self.filter_query(request);
        self.filter_cache.resolve(
            searcher,
            filter.as_ref().map(|(k, q)| (k.as_str(), q.as_ref())),
        )
    }

    /// The request's filters as one query, named for the filter cache; `None` when it has none.
    pub(crate) fn filter_query(&self, request: &SearchRequest) -> Option<(String, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
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
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(min) = request.trl_min {
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(self.fields.trl, min)),
                Bound::Unbounded,
            );
            clauses.push((Occur::Must, Box::new(range)));
        }
        if clauses.is_empty() {
            return None;
        }
        let key = format!("{:?} trl>={:?}", request.filters, request.trl_min);
        Some((key, Box::new(BooleanQuery::new(clauses))))
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

/// `text` widened by the near spellings of unknown words, if any.
pub(crate) fn with_typos(text: Box<dyn Query>, typos: &Option<Box<dyn Query>>) -> Box<dyn Query> {
    match typos {
        Some(fuzzy) => Box::new(BooleanQuery::new(vec![
            (Occur::Should, text),
            (Occur::Should, fuzzy.box_clone()),
        ])),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    //! The pruned top hits, the cached filters and the packed facet values must give exactly
    //! what scoring and counting every document gives.
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use tantivy::collector::{Count, TopDocs};

    use super::*;
    use crate::doc::IndexChange;
    use crate::IndexDoc;

    const WORDS: [&str; 12] = [
        "công", "nghệ", "nuôi", "tôm", "cá", "ca", "sấy", "vaccine", "vaccines", "lúa", "giống",
        "máy",
    ];

    /// A small generator, so that the world is the same in every run.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
        fn text(&mut self, words: usize) -> String {
            (0..words)
                .map(|_| WORDS[self.below(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    /// Several segments (one per batch), with replaced and deleted documents.
    fn world() -> SearchIndex {
        let index = SearchIndex::in_ram().unwrap();
        let mut rng = Rng(7);
        for batch in 0..4u64 {
            let mut changes = Vec::new();
            for _ in 0..400 {
                let id = format!("d{}", rng.below(1_200));
                if rng.below(10) == 0 {
                    changes.push(IndexChange::Delete(id));
                    continue;
                }
                let mut facets = vec![
                    (
                        Facet::Kind,
                        ["need", "patent", "research_output"][rng.below(3)].into(),
                    ),
                    (Facet::Province, format!("{}", rng.below(40))),
                    (Facet::Status, ["published", "draft"][rng.below(2)].into()),
                    (
                        Facet::Mode,
                        ["licence", "assignment", "service"][rng.below(3)].into(),
                    ),
                ];
                if rng.below(2) == 0 {
                    facets.push((Facet::Mode, "consulting".into()));
                }
                let title = rng.text(3);
                let length = 1 + rng.below(12);
                let body = rng.text(length);
                changes.push(IndexChange::Upsert(Box::new(IndexDoc {
                    id,
                    text: vec![(TextGroup::Title, title), (TextGroup::Body, body)],
                    facets,
                    trl: (rng.below(4) > 0).then(|| 1 + rng.below(9) as u64),
                    stored: "{}".into(),
                    ..IndexDoc::default()
                })));
            }
            index.apply(changes, batch + 1).unwrap();
        }
        index
    }

    /// What scoring and counting every match with tantivy's own collectors gives.
    fn exhaustive(index: &SearchIndex, request: &SearchRequest) -> (usize, Vec<(f32, String)>) {
        let searcher = index.searcher();
        let mut terms = QueryTerms::analyse(&request.text, &request.weights);
        for phrase in &request.expansions {
            terms.add_phrase(phrase, &request.weights, request.weights.synonym);
        }
        let typos = index
            .typo_query(&searcher, &request.text, &request.weights)
            .unwrap();
        let text = with_typos(index.text_query(&terms, &request.weights, None), &typos);
        let query: Box<dyn Query> = match index.filter_query(request) {
            Some((_, filter)) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, text),
                (
                    Occur::Must,
                    Box::new(tantivy::query::ConstScoreQuery::new(filter, 0.0)),
                ),
            ])),
            None => text,
        };
        let k = request.offset + request.limit;
        let (top, total) = searcher
            .search(&query, &(TopDocs::with_limit(k.max(1)), Count))
            .unwrap();
        let hits = top
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|(s, a)| {
                let doc: TantivyDocument = searcher.doc(a).unwrap();
                let id = doc.get_first(index.fields.id).unwrap().as_str().unwrap();
                (s, id.to_string())
            })
            .collect();
        (total, hits)
    }

    /// Facet counts by reading every matching document's column values.
    fn facets_by_hand(
        index: &SearchIndex,
        request: &SearchRequest,
    ) -> HashMap<Facet, Vec<(String, u64)>> {
        let all = SearchRequest {
            offset: 0,
            limit: 100_000,
            facets: Vec::new(),
            ..request.clone()
        };
        let result = index.search(&all).unwrap();
        let searcher = index.searcher();
        let mut out = HashMap::new();
        for facet in &request.facets {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for hit in &result.hits {
                let address = index.address_of(&searcher, &hit.id).unwrap().unwrap();
                let segment = searcher.segment_reader(address.segment_ord);
                let column = segment.fast_fields().str(facet.name()).unwrap().unwrap();
                for ord in column.term_ords(address.doc_id) {
                    let mut value = String::new();
                    column.ord_to_str(ord, &mut value).unwrap();
                    *counts.entry(value).or_default() += 1;
                }
            }
            let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            out.insert(*facet, counts);
        }
        out
    }

    #[test]
    fn first_hits_and_own_scores_agree_with_the_first_page_of_search() {
        let index = world();
        let mut rng = Rng(23);
        let mut checked = 0;
        for round in 0..40 {
            let filters = if round % 2 == 0 {
                vec![(Facet::Status, vec!["published".into()])]
            } else {
                vec![(Facet::Kind, vec!["need".into(), "patent".into()])]
            };
            let words = 1 + rng.below(3);
            let request = SearchRequest {
                text: rng.text(words),
                filters,
                limit: 10,
                weights: Weights::default(),
                ..SearchRequest::default()
            };
            let page: Vec<(String, f32)> = index
                .search(&request)
                .unwrap()
                .hits
                .into_iter()
                .map(|h| (h.id, h.score))
                .collect();
            let first = index.first_hits(&request, 10).unwrap();
            assert_eq!(first.hits, page, "{:?}", request.text);
            // Statistics remembered from the same index give the same scores.
            let stats = crate::StatsMemo::new(&index);
            let prepared = index.prepare(&request, &stats).unwrap();
            for (id, score) in &page {
                let at = index.locate(id).unwrap().unwrap();
                assert_eq!(index.own_score(&prepared, &at).unwrap(), Some(*score));
                checked += 1;
            }
        }
        assert!(checked > 200, "the check met first pages: {checked}");
        assert!(index.locate("nowhere").unwrap().is_none());
    }

    #[test]
    fn pruned_and_cached_search_equals_exhaustive_search() {
        let index = world();
        let mut rng = Rng(11);
        let filters: Vec<Vec<(Facet, Vec<String>)>> = vec![
            vec![],
            vec![(Facet::Status, vec!["published".into()])],
            vec![(Facet::Province, vec!["3".into()])],
            vec![
                (Facet::Kind, vec!["need".into(), "patent".into()]),
                (Facet::Status, vec!["published".into()]),
            ],
        ];
        for round in 0..120 {
            let text = match round % 6 {
                0 => String::new(),
                1 => "cong nghe".into(),
                2 => "vacine".into(),
                _ => {
                    let words = 1 + rng.below(3);
                    rng.text(words)
                }
            };
            let request = SearchRequest {
                text,
                filters: filters[rng.below(filters.len())].clone(),
                trl_min: (rng.below(3) == 0).then_some(5),
                offset: [0, 0, 7][rng.below(3)],
                limit: 10,
                facets: vec![Facet::Kind, Facet::Province, Facet::Mode, Facet::Status],
                ..SearchRequest::default()
            };
            let got = index.search(&request).unwrap();
            let (total, hits) = exhaustive(&index, &request);
            assert_eq!(got.total, total, "total of {request:?}");
            let got_hits: Vec<(f32, String)> =
                got.hits.iter().map(|h| (h.score, h.id.clone())).collect();
            assert_eq!(got_hits, hits, "hits of {request:?}");
            let by_hand = facets_by_hand(&index, &request);
            for facet in &request.facets {
                assert_eq!(
                    got.facets[facet], by_hand[facet],
                    "{facet:?} of {request:?}"
                );
            }
        }
    }
}
