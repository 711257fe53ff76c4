//! Matching: from a long text and its structured facts (a need, or a technology) to the
//! listings on the other side that fit best, each with the parts of its score.
//!
//! 1. The text's salient terms (highest count × idf) make an OR query; nothing is ANDed.
//!    Each weighs `(idf / the rarest term's idf)^idf_power`, so a long text's common words
//!    count less. For a text in English, the words the best few candidates share are added
//!    (pseudo-relevance feedback, [`feedback`]) and the query is run again.
//! 2. The best `candidates` by text are rescored: text relevance (BM25F) against what a
//!    listing saying what the text says would score (1 − e^(−score/that)), plus weighted components (field, IPC, TRL, mode, budget, geography).
//! 3. Ended offers (expired patents) are dropped; ties are broken by id.

mod components;
mod feedback;
mod profile;
#[cfg(test)]
mod tests;

pub use components::{MatchWeights, NEUTRAL};
pub use profile::{Geography, MatchProfile};

use feedback::Feedback;

use std::collections::{HashMap, HashSet};

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Term, Value};
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, TantivyDocument};

use crate::analysis::{analyzer, tokens, Chain};
use crate::doc::{Facet, TextGroup};
use crate::error::IndexError;
use crate::fusion::{best_possible, fuse, Fusion, Method as FusionMethod};
use crate::index::SearchIndex;
use crate::query::{reads_as_english, QueryTerms};
use crate::ranking::Weights;
use crate::search::SearchRequest;
use crate::terms::TermTable;
use crate::topk::top_docs;

/// Which side of a deal the request describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// A technology need; candidates are supply.
    #[default]
    Need,
    /// A technology on offer; candidates are needs.
    Supply,
}

/// A matching request.
#[derive(Debug, Clone, Default)]
pub struct MatchRequest {
    /// The text to match: title, description, outcome… Any length.
    pub text: String,
    /// Synonyms of phrases in the text.
    pub expansions: Vec<String>,
    /// The structured facts of the request.
    pub profile: MatchProfile,
    /// Which side `profile` is.
    pub side: Side,
    /// Facet filters on candidates (kinds, status), as in search.
    pub filters: Vec<(Facet, Vec<String>)>,
    /// A listing never to return (the request's own).
    pub exclude_id: Option<String>,
    /// Where matches may come from.
    pub geography: Geography,
    /// Today as YYYY-MM-DD, to drop ended offers.
    pub today: String,
    /// Matches to return.
    pub limit: usize,
    /// Component weights.
    pub weights: MatchWeights,
    /// Text weights.
    pub text_weights: Weights,
    /// Semantic neighbours of the text that pass the filters (id, similarity), best first;
    /// when any, they join the candidates and the text component is the fused rank score.
    pub semantic: Vec<(String, f32)>,
    /// How the lexical and semantic rankings are fused.
    pub fusion: Fusion,
}

/// One part of a match's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// `text`, `field`, `ipc`, `trl`, `mode`, `budget` or `geography`.
    pub name: &'static str,
    /// The fit in 0..=1; `None` when a side lacks the fact (counted as [`NEUTRAL`]).
    pub value: Option<f32>,
    /// Its weight.
    pub weight: f32,
    /// What it added to the score.
    pub contribution: f32,
}

/// One matching listing with the reasons for its score.
#[derive(Debug, Clone)]
pub struct Match {
    /// Listing id.
    pub id: String,
    /// Total score (sum of contributions).
    pub score: f32,
    /// The opaque JSON the listing was indexed with.
    pub stored: String,
    /// The listing's structured facts.
    pub profile: MatchProfile,
    /// Every component, text first.
    pub components: Vec<Component>,
    /// Words of the listing that the request's salient terms matched, as the listing writes them.
    pub matched_terms: Vec<String>,
    /// Distance between the two sides, when both are placed.
    pub distance_km: Option<f64>,
    /// Similarity of the two texts, when the listing was among the semantic neighbours.
    pub similarity: Option<f32>,
    /// True when the listing was a candidate only through its meaning (no salient term shared).
    pub semantic_only: bool,
}

/// The answer to a [`MatchRequest`].
#[derive(Debug, Clone, Default)]
pub struct MatchResult {
    /// Candidates rescored.
    pub candidates: usize,
    /// The best matches, best first.
    pub matches: Vec<Match>,
}

/// A candidate: text score in 0..=1, where it is, its similarity, whether only its meaning
/// brought it in.
type Candidate = (f32, DocAddress, Option<f32>, bool);

/// A kept query term with its salience (count × idf × weight).
type Salient = ((Chain, String), f32);

/// Each kept query term's idf.
type Idfs = HashMap<(Chain, String), f32>;

/// Most matched words reported per match.
const MAX_MATCHED_TERMS: usize = 8;

impl SearchIndex {
    /// Finds the listings that best fit `request`.
    pub fn find_matches(&self, request: &MatchRequest) -> Result<MatchResult, IndexError> {
        let searcher = self.searcher();
        // Salience, both rankings and the reference score ask for the same terms.
        let table = TermTable::new(&searcher);
        let w = &request.weights;
        let mut terms = QueryTerms::analyse(&request.text, &request.text_weights);
        for phrase in &request.expansions {
            terms.add_phrase(phrase, &request.text_weights, request.text_weights.synonym);
        }
        let (salience, idfs) = self.keep_salient(table.as_ref(), &mut terms, w)?;
        if terms.is_empty() {
            return Ok(MatchResult::default());
        }
        if w.idf_power > 0.0 {
            weigh_by_idf(&mut terms, &idfs, w.idf_power);
        }
        let mut filters = request.filters.clone();
        if let Geography::Only(regions) = &request.geography {
            filters.push((Facet::Province, regions.clone()));
        }
        let filtered = SearchRequest {
            filters,
            ..SearchRequest::default()
        };
        let kept = self.kept(&searcher, &filtered)?;
        let exclude = match &request.exclude_id {
            Some(id) => self.address_of(&searcher, id)?,
            None => None,
        };
        let mut query = terms
            .to_query(&self.fields, &request.text_weights)
            .with_table(table.clone());
        let mut lexical = top_docs(&table, &query, &kept, w.candidates.max(1), exclude)?;
        // Feedback only for English: on Vietnamese texts it lowered both development sets,
        // whether it added syllables or two-syllable compounds.
        if w.feedback_docs > 0 && reads_as_english(&request.text) {
            let feedback = Feedback {
                docs: w.feedback_docs,
                terms: w.feedback_terms,
                weight: w.feedback_weight,
            };
            let added = self.feedback_terms(&searcher, &lexical, feedback)?;
            if !added.is_empty() {
                for (word, weight) in added {
                    terms.add_weight(Chain::Folded, word, weight);
                }
                query = terms
                    .to_query(&self.fields, &request.text_weights)
                    .with_table(table.clone());
                lexical = top_docs(&table, &query, &kept, w.candidates.max(1), exclude)?;
            }
        }
        // Measured against what the need's own words would score, not against the best
        // candidate, so a match's percentage stays put when unrelated listings come and go:
        // 1 − e^(−score / reference) is 0.63 for a listing that says what the need says, and
        // nears 1 (never reaching it, so better listings still rank higher) beyond.
        let reference = query
            .reference_score(table.as_ref(), request.text_weights.body)?
            .max(f32::EPSILON);
        let mut top: Vec<Candidate> = lexical
            .iter()
            .map(|(s, a)| (1.0 - (-s / reference).exp(), *a, None, false))
            .collect();
        if !request.semantic.is_empty() {
            top = self.fused_candidates(&searcher, &lexical, reference, request)?;
        }
        let geography_weight = match request.geography {
            Geography::PreferNear => w.geography,
            Geography::Any | Geography::Only(_) => 0.0,
        };
        let mut matches = Vec::with_capacity(top.len());
        for (text_score, address, similarity, semantic_only) in &top {
            let doc: TantivyDocument = searcher.doc(*address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let profile: MatchProfile =
                serde_json::from_str(&text(self.fields.profile)).unwrap_or_default();
            if profile.ended(&request.today) {
                continue;
            }
            let (need, supply) = match request.side {
                Side::Need => (&request.profile, &profile),
                Side::Supply => (&profile, &request.profile),
            };
            let values = [
                // Quantised for the same reason as the total below.
                ("text", Some((text_score * 1e6).round() / 1e6), w.text),
                ("field", components::field(need, supply), w.field),
                ("ipc", components::ipc(need, supply), w.ipc),
                ("trl", components::trl(need, supply), w.trl),
                ("mode", components::mode(need, supply), w.mode),
                ("budget", components::budget(need, supply), w.budget),
                (
                    "geography",
                    components::geography(need, supply, w.half_distance_km),
                    geography_weight,
                ),
            ];
            let parts: Vec<Component> = values
                .into_iter()
                .map(|(name, value, weight)| Component {
                    name,
                    value,
                    weight,
                    contribution: weight * value.unwrap_or(NEUTRAL),
                })
                .collect();
            // Rounded so that listings equal in every respect tie exactly (float sums differ in
            // their last bits by evaluation order) and fall back to id order.
            let score: f32 = parts.iter().map(|c| c.contribution).sum();
            matches.push((
                *address,
                Match {
                    id: text(self.fields.id),
                    score: (score * 1e5).round() / 1e5,
                    stored: text(self.fields.stored),
                    distance_km: components::distance_km(need, supply),
                    profile,
                    components: parts,
                    matched_terms: Vec::new(),
                    similarity: *similarity,
                    semantic_only: *semantic_only,
                },
            ));
        }
        let candidates = matches.len();
        matches.sort_by(|(_, a), (_, b)| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        matches.truncate(request.limit);
        // Phrases name a match best; single words only when they say much (top by salience).
        let pick = |chain: Chain, n: usize| -> HashSet<String> {
            salience
                .iter()
                .filter(|((c, _), _)| *c == chain)
                .take(n)
                .map(|((_, t), _)| t.clone())
                .collect()
        };
        let wanted = (
            pick(Chain::Bigram, usize::MAX),
            pick(Chain::Folded, MAX_MATCHED_TERMS),
            tokens(Chain::Bigram, &request.text).into_iter().collect(),
        );
        let mut out = Vec::with_capacity(matches.len());
        for (address, mut m) in matches {
            m.matched_terms = self.shared_words(&searcher, address, &wanted)?;
            out.push(m);
        }
        Ok(MatchResult {
            candidates,
            matches: out,
        })
    }

    /// The lexical candidates and the semantic neighbours, fused: each with its text score,
    /// its similarity and whether only its meaning brought it in.
    ///
    /// By ranks, the text score is the fused score relative to the best there can be. By
    /// scores, it is the weighted mean of the lexical part (`1 − e^(−score / reference)`, as
    /// without neighbours) and the similarity's place between `min_similarity` and 1: both
    /// depend on the need and the listing alone, so a percentage stays put when unrelated
    /// listings come and go.
    fn fused_candidates(
        &self,
        searcher: &tantivy::Searcher,
        lexical: &[(f32, DocAddress)],
        reference: f32,
        request: &MatchRequest,
    ) -> Result<Vec<Candidate>, IndexError> {
        let ids: Vec<(DocAddress, f32)> = lexical.iter().map(|(s, a)| (*a, *s)).collect();
        let mut neighbours = Vec::with_capacity(request.semantic.len());
        for (id, similarity) in request.semantic.iter().take(request.fusion.depth) {
            if request.exclude_id.as_deref() == Some(id.as_str()) {
                continue;
            }
            if let Some(address) = self.address_of(searcher, id)? {
                neighbours.push((address, *similarity));
            }
        }
        let f = &request.fusion;
        if f.method == FusionMethod::Score {
            let similarity: HashMap<DocAddress, f32> = neighbours.iter().copied().collect();
            let floor = f.min_similarity.min(0.999);
            let total = (f.lexical + f.semantic).max(f32::EPSILON);
            let text = |lexical: f32, sim: Option<f32>| {
                let sem = sim.map_or(0.0, |s| ((s - floor) / (1.0 - floor)).clamp(0.0, 1.0));
                (f.lexical * (1.0 - (-lexical / reference).exp()) + f.semantic * sem) / total
            };
            let mut out: Vec<Candidate> = lexical
                .iter()
                .map(|(s, a)| {
                    let sim = similarity.get(a).copied();
                    (text(*s, sim), *a, sim, false)
                })
                .collect();
            let found: HashSet<DocAddress> = lexical.iter().map(|(_, a)| *a).collect();
            for (a, sim) in &neighbours {
                if !found.contains(a) && *sim >= f.min_similarity {
                    out.push((text(0.0, Some(*sim)), *a, Some(*sim), true));
                }
            }
            return Ok(out);
        }
        let fused = fuse(&ids, &neighbours, f);
        // Relative to the best fused score there can be (first in both rankings).
        let best = best_possible(f).max(f32::EPSILON);
        let out = fused
            .into_iter()
            .map(|f| (f.score / best, f.id, f.similarity, f.lexical_rank.is_none()))
            .collect();
        Ok(out)
    }

    /// Keeps the terms that say most about the text: highest count × idf per chain.
    /// Returns the kept terms with their salience, most salient first, and each kept term's
    /// idf (in the description's field of its chain).
    fn keep_salient(
        &self,
        table: &TermTable,
        terms: &mut QueryTerms,
        w: &MatchWeights,
    ) -> Result<(Vec<Salient>, Idfs), IndexError> {
        let docs = table.searcher().num_docs().max(1) as f32;
        let body = self.fields.group(TextGroup::Body);
        let mut scored = Vec::new();
        let mut idfs = Idfs::new();
        for t in terms.terms() {
            let df = table.doc_freq(&Term::from_field_text(body.for_chain(t.chain), &t.text))?;
            let idf = ((docs - df as f32 + 0.5) / (df as f32 + 0.5) + 1.0).ln();
            scored.push(((t.chain, t.text.clone()), t.count as f32 * idf * t.weight));
            idfs.insert((t.chain, t.text.clone()), idf);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut keep = HashSet::new();
        for chain in [Chain::Exact, Chain::Folded, Chain::Bigram] {
            let quota = if chain == Chain::Bigram {
                w.salient_bigrams
            } else {
                w.salient_terms
            };
            keep.extend(
                scored
                    .iter()
                    .filter(|((c, _), _)| *c == chain)
                    .take(quota)
                    .map(|(key, _)| key.clone()),
            );
        }
        terms.retain(|t| keep.contains(&(t.chain, t.text.clone())));
        scored.retain(|(key, _)| keep.contains(key));
        idfs.retain(|key, _| keep.contains(key));
        Ok((scored, idfs))
    }

    /// The phrases and then single words of a listing's title and description that are among
    /// the request's salient terms, as the listing writes them: a phrase as far as both texts
    /// share it (`pairs`: every syllable pair of the request), no number alone.
    fn shared_words(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        (phrases, words, pairs): &(HashSet<String>, HashSet<String>, HashSet<String>),
    ) -> Result<Vec<String>, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let mut out: Vec<String> = Vec::new();
        let texts: Vec<&str> = [TextGroup::Title, TextGroup::Body]
            .iter()
            .filter_map(|g| {
                doc.get_first(self.fields.group(*g).exact)
                    .and_then(|v| v.as_str())
            })
            .collect();
        let mut covered: HashSet<String> = HashSet::new();
        for (chain, wanted) in [(Chain::Bigram, phrases), (Chain::Folded, words)] {
            let mut analyzer = analyzer(chain);
            for text in &texts {
                // Shared syllable pairs that overlap are one phrase of the text: "bảo quản vải
                // thiều", not "bảo quản", "quản vải" (which straddles two words), "vải thiều".
                // The phrase runs as far as both texts share syllable pairs, and is shown
                // when it holds a salient one.
                let mut spans: Vec<(usize, usize, bool)> = Vec::new();
                let mut stream = analyzer.token_stream(text);
                while stream.advance() {
                    let t = stream.token();
                    let salient = wanted.contains(&t.text);
                    let joins = chain == Chain::Bigram && pairs.contains(&t.text);
                    if !salient && !joins {
                        continue;
                    }
                    match spans.last_mut() {
                        Some(last) if chain == Chain::Bigram && t.offset_from < last.1 => {
                            last.1 = t.offset_to;
                            last.2 |= salient;
                        }
                        _ => spans.push((t.offset_from, t.offset_to, salient)),
                    }
                }
                for (from, to, _) in spans.into_iter().filter(|s| s.2) {
                    let shown = text[from..to].to_lowercase();
                    // A number alone says nothing of what two listings share.
                    if shown.chars().all(|c| c.is_numeric() || c.is_whitespace()) {
                        continue;
                    }
                    if chain == Chain::Folded && covered.contains(&shown) {
                        continue;
                    }
                    if !out.contains(&shown) {
                        covered.extend(shown.split_whitespace().map(str::to_string));
                        out.push(shown);
                    }
                    if out.len() == MAX_MATCHED_TERMS {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Multiplies each term's weight by `(idf / the highest idf among the terms)^power`.
///
/// BM25 counts a word's rarity once, in the document's score; a long text also says many
/// common words ("study", "people", "help") that each add a little to every document.
/// Weighing the query's words by their rarity as well (as tf·idf weighs both sides) lets the
/// text's specific words decide; the power keeps it gentle.
fn weigh_by_idf(terms: &mut QueryTerms, idfs: &Idfs, power: f32) {
    let highest = idfs.values().copied().fold(0.0, f32::max);
    if highest <= 0.0 {
        return;
    }
    terms.scale(|t| {
        let idf = idfs.get(&(t.chain, t.text.clone())).copied().unwrap_or(0.0);
        (idf / highest).max(0.0).powf(power)
    });
}
