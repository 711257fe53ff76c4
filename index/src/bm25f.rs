//! BM25F: one saturation per query term over all the text groups it occurs in.
//!
//! Summing one BM25 per field rewards a word once per field it is found in: a title word shared
//! by many documents lifts each of them by the title weight over and above the description,
//! however often the description already says it. BM25F (Robertson, Zaragoza & Taylor 2004)
//! first adds up the term's frequencies in the fields, each weighted and normalised by its own
//! field's length, and saturates the sum once:
//!
//! `tf~ = Σ_f w_f · tf_f / (1 − b + b · len_f / avglen_f)`,
//! `score = weight · idf · (k1 + 1) · tf~ / (k1 + tf~)`,
//!
//! with one idf per term (from the field where it is most common: the documents holding it in
//! any field are at least that many). A term's score is below `weight · idf · (k1 + 1)`; that
//! bound lets [`Bm25fWeight::for_each_pruning`] skip documents that cannot reach the top
//! (MaxScore: the terms whose bounds together stay under the score to beat are only looked up
//! in documents that the others bring).

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, TERMINATED};

use crate::terms::{Entries, TermTable};

/// Bounds are raised by this share so that summing in another order never prunes a document
/// whose score reaches the one to beat.
const BOUND_SLACK: Score = 1.0001;

/// One query term looked for in several fields (one per text group), with the group weights.
#[derive(Debug, Clone)]
pub struct Bm25fTerm {
    /// The term in each field, with that field's weight.
    pub fields: Vec<(Term, Score)>,
    /// The query term's own weight.
    pub weight: Score,
    /// How often the term occurs in the query text.
    pub count: u32,
}

/// An OR of terms, each scored by BM25F and the scores summed.
#[derive(Debug, Clone)]
pub struct Bm25fQuery {
    terms: Vec<Bm25fTerm>,
    k1: Score,
    b: Score,
    /// Where a search looks its terms up once for all its parts, when it has one.
    table: Option<Arc<TermTable>>,
}

impl Bm25fQuery {
    /// The query of `terms` with saturation `k1` and length normalisation `b`.
    pub fn new(terms: Vec<Bm25fTerm>, k1: Score, b: Score) -> Self {
        Bm25fQuery {
            terms,
            k1,
            b,
            table: None,
        }
    }

    /// The same query, its terms found in each segment through `table`.
    pub(crate) fn with_table(mut self, table: Arc<TermTable>) -> Self {
        self.table = Some(table);
        self
    }

    /// The score of a document of average length that holds every term of the query as often
    /// as the query text does, in a field of weight `field_weight`: what a listing saying what
    /// the query says would score. Matching divides by it, so that a match's text component
    /// says how much of the need a listing covers, whatever else the index holds.
    pub fn reference_score(
        &self,
        stats: &dyn Bm25StatisticsProvider,
        field_weight: Score,
    ) -> tantivy::Result<Score> {
        let docs = stats.total_num_docs()?;
        let mut total = 0.0;
        for t in &self.terms {
            let mut df = 0;
            for (term, _) in &t.fields {
                df = df.max(stats.doc_freq(term)?);
            }
            let factor = t.weight * idf(df, docs) * (self.k1 + 1.0);
            let tf = t.count as Score * field_weight;
            total += factor * tf / (self.k1 + tf);
        }
        Ok(total)
    }
}

/// One field of a term, as every segment needs it.
#[derive(Debug, Clone)]
struct FieldStats {
    term: Term,
    /// Field weight divided by the length normalisation, by field-norm id.
    scale: Arc<[Score; 256]>,
    /// Where the term is in each segment, when the search has a [`TermTable`].
    entries: Option<Entries>,
}

/// What a term needs in every segment: its idf factor and its fields.
#[derive(Debug, Clone)]
struct TermStats {
    fields: Vec<FieldStats>,
    /// `weight · idf · (k1 + 1)`: also the bound of the term's score.
    factor: Score,
}

/// The per-index statistics of a [`Bm25fQuery`].
pub struct Bm25fWeight {
    terms: Vec<TermStats>,
    k1: Score,
    table: Option<Arc<TermTable>>,
}

impl Query for Bm25fQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let stats: Option<&dyn Bm25StatisticsProvider> = match scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => Some(statistics_provider),
            EnableScoring::Disabled { .. } => None,
        };
        let mut terms = Vec::with_capacity(self.terms.len());
        let docs = match stats {
            Some(s) => s.total_num_docs()?,
            None => 0,
        };
        for t in &self.terms {
            let mut fields = Vec::with_capacity(t.fields.len());
            let mut df = 0;
            for (term, w) in &t.fields {
                let average = match stats {
                    Some(s) if docs > 0 => {
                        df = df.max(s.doc_freq(term)?);
                        s.total_num_tokens(term.field())? as Score / docs as Score
                    }
                    _ => 1.0,
                };
                let entries = match (&self.table, stats) {
                    (Some(table), Some(_)) => Some(table.entries(term)?),
                    _ => None,
                };
                fields.push(FieldStats {
                    term: term.clone(),
                    scale: scale(*w, average, self.b),
                    entries,
                });
            }
            let factor = if stats.is_some() {
                t.weight * idf(df, docs) * (self.k1 + 1.0)
            } else {
                0.0
            };
            terms.push(TermStats { fields, factor });
        }
        Ok(Box::new(Bm25fWeight {
            terms,
            k1: self.k1,
            table: self.table.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for t in &self.terms {
            for (term, _) in &t.fields {
                visitor(term, false);
            }
        }
    }
}

/// A field's weight `w` over its length normalisation, for every field-norm id: the same in
/// every segment, so made once per query.
fn scale(w: Score, average: Score, b: Score) -> Arc<[Score; 256]> {
    let mut scale = [0.0; 256];
    for (id, s) in scale.iter_mut().enumerate() {
        let len = FieldNormReader::id_to_fieldnorm(id as u8) as Score;
        let norm = if average > 0.0 {
            1.0 - b + b * len / average
        } else {
            1.0
        };
        *s = w / norm.max(Score::EPSILON);
    }
    Arc::new(scale)
}

/// BM25's idf, as Lucene and tantivy compute it.
fn idf(df: u64, docs: u64) -> Score {
    let df = df.min(docs);
    let x = ((docs - df) as Score + 0.5) / (df as Score + 0.5);
    (1.0 + x).ln()
}

/// The postings of a term in one field of a segment, with the field's lengths.
struct Part {
    postings: SegmentPostings,
    /// Where `postings` stands, kept here because it is read several times per document.
    doc: DocId,
    norms: FieldNormReader,
    /// Field weight divided by the length normalisation, by field-norm id.
    scale: Arc<[Score; 256]>,
}

/// One term's BM25F over its fields in one segment.
struct TermScorer {
    parts: Vec<Part>,
    doc: DocId,
    factor: Score,
    k1: Score,
    /// Where the term stands in the query (scores are summed in this order).
    index: usize,
}

impl TermScorer {
    fn settle(&mut self) -> DocId {
        self.doc = self.parts.iter().map(|p| p.doc).min().unwrap_or(TERMINATED);
        self.doc
    }

    fn advance(&mut self) -> DocId {
        let at = self.doc;
        for p in &mut self.parts {
            if p.doc == at {
                p.doc = p.postings.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        for p in &mut self.parts {
            if p.doc < target {
                p.doc = p.postings.seek(target);
            }
        }
        self.settle()
    }

    /// The term's score in the current document.
    fn score(&self) -> Score {
        let mut tf = 0.0;
        for p in &self.parts {
            if p.doc == self.doc {
                let id = p.norms.fieldnorm_id(self.doc);
                tf += p.postings.term_freq() as Score * p.scale[id as usize];
            }
        }
        self.factor * tf / (self.k1 + tf)
    }

    /// Above any score the term can give.
    fn bound(&self) -> Score {
        self.factor * BOUND_SLACK
    }
}

impl Bm25fWeight {
    /// The scorers of the terms found in `reader`, in query order; `boost` multiplies scores.
    fn term_scorers(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Vec<TermScorer>> {
        let mut out = Vec::with_capacity(self.terms.len());
        let ordinal = self.table.as_ref().and_then(|t| t.ordinal(reader));
        for (index, t) in self.terms.iter().enumerate() {
            let mut parts = Vec::with_capacity(t.fields.len());
            for f in &t.fields {
                let field: Field = f.term.field();
                let postings = match (&f.entries, ordinal) {
                    // Known absent: not even the field's dictionary is opened.
                    (Some(entries), Some(ord)) => match entries.get(ord).and_then(Option::as_ref) {
                        Some(info) => Some(
                            reader
                                .inverted_index(field)?
                                .read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?,
                        ),
                        None => None,
                    },
                    _ => reader
                        .inverted_index(field)?
                        .read_postings(&f.term, IndexRecordOption::WithFreqs)?,
                };
                let Some(postings) = postings else {
                    continue;
                };
                parts.push(Part {
                    doc: postings.doc(),
                    postings,
                    norms: reader.get_fieldnorms_reader(field)?,
                    scale: f.scale.clone(),
                });
            }
            if parts.is_empty() {
                continue;
            }
            let mut scorer = TermScorer {
                parts,
                doc: TERMINATED,
                factor: t.factor * boost,
                k1: self.k1,
                index,
            };
            scorer.settle();
            out.push(scorer);
        }
        Ok(out)
    }
}

/// Sums the scores of the terms in the current document, in query order.
fn sum_in_order(scores: &mut [(usize, Score)]) -> Score {
    scores.sort_unstable_by_key(|(i, _)| *i);
    scores.iter().map(|(_, s)| s).sum()
}

/// The OR of a query's terms in one segment.
struct Bm25fScorer {
    terms: Vec<TermScorer>,
    doc: DocId,
    scores: Vec<(usize, Score)>,
}

impl Bm25fScorer {
    fn settle(&mut self) -> DocId {
        self.doc = self.terms.iter().map(|t| t.doc).min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for Bm25fScorer {
    fn advance(&mut self) -> DocId {
        let at = self.doc;
        for t in &mut self.terms {
            if t.doc == at {
                t.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        for t in &mut self.terms {
            if t.doc < target {
                t.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.terms
            .iter()
            .flat_map(|t| t.parts.iter().map(|p| p.postings.size_hint()))
            .max()
            .unwrap_or(0)
    }
}

impl Scorer for Bm25fScorer {
    fn score(&mut self) -> Score {
        self.scores.clear();
        for t in &self.terms {
            if t.doc == self.doc {
                self.scores.push((t.index, t.score()));
            }
        }
        sum_in_order(&mut self.scores)
    }
}

impl Weight for Bm25fWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorer = Bm25fScorer {
            terms: self.term_scorers(reader, boost)?,
            doc: TERMINATED,
            scores: Vec::new(),
        };
        scorer.settle();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.doc() > doc || scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("BM25F, summed over terms", scorer.score()))
    }

    /// MaxScore: the terms are ordered by bound; those whose bounds add up to no more than the
    /// score to beat cannot bring a document to the top alone, so only the other terms'
    /// documents are visited, and the low terms looked up in them while the bound still allows.
    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let mut terms = self.term_scorers(reader, 1.0)?;
        terms.sort_by(|a, b| a.bound().total_cmp(&b.bound()));
        // below[i]: the sum of the bounds of terms[..i].
        let mut below = Vec::with_capacity(terms.len() + 1);
        below.push(0.0);
        for t in &terms {
            below.push(below[below.len() - 1] + t.bound());
        }
        let mut threshold = threshold;
        let essential_from = |threshold: Score| {
            below
                .iter()
                .skip(1)
                .take_while(|b| **b <= threshold)
                .count()
        };
        let mut first = essential_from(threshold);
        let mut scores: Vec<(usize, Score)> = Vec::with_capacity(terms.len());
        loop {
            let doc = terms[first..]
                .iter()
                .map(|t| t.doc)
                .min()
                .unwrap_or(TERMINATED);
            if doc == TERMINATED {
                break;
            }
            scores.clear();
            let mut partial = 0.0;
            for t in &terms[first..] {
                if t.doc == doc {
                    let s = t.score();
                    partial += s;
                    scores.push((t.index, s));
                }
            }
            let mut possible = true;
            for j in (0..first).rev() {
                if partial + below[j + 1] <= threshold {
                    possible = false;
                    break;
                }
                let t = &mut terms[j];
                if t.doc < doc {
                    t.seek(doc);
                }
                if t.doc == doc {
                    let s = t.score();
                    partial += s;
                    scores.push((t.index, s));
                }
            }
            if possible {
                let score = sum_in_order(&mut scores);
                if score > threshold {
                    threshold = callback(doc, score);
                    first = essential_from(threshold);
                }
            }
            for t in &mut terms[first..] {
                if t.doc == doc {
                    t.advance();
                }
            }
            // Terms that just became non-essential may still sit on `doc`: they are sought
            // forward when next looked up, so nothing is counted twice.
        }
        Ok(())
    }
}
