//! Pseudo-relevance feedback: the words the best first-pass candidates use for what the need
//! says, added to the need's query with a modest weight (RM3 / Rocchio).
//!
//! A need and the listings that fit it describe one thing in different words ("fiber" in the
//! need, "dietary fibre", "colon", "butyrate" in the listings). The few best candidates of the
//! need's own words are mostly about the need; the words they share, weighted by how much each
//! candidate counts (its share of their scores) and by how rare the word is (idf), are the
//! vocabulary the need's matches are written in; the need's own words among them gain weight
//! too. Common words weigh little by their idf; English function words, which are common but
//! not rare enough to weigh nothing in a small index, are left out as in the query. Added words
//! only rank: the words shown as shared are still the need's own.
//!
//! It costs one more query, and the feedback documents' text analysed once each.

use std::collections::HashMap;

use tantivy::schema::{Term, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::analysis::{is_english_stopword, tokens, Chain};
use crate::doc::TextGroup;
use crate::error::IndexError;
use crate::index::SearchIndex;

/// How much pseudo-relevance feedback adds to a need's query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Feedback {
    /// Best first-pass candidates read (0: no feedback).
    pub docs: usize,
    /// Most words added.
    pub terms: usize,
    /// Weight of the strongest added word; the others in proportion.
    pub weight: f32,
}

impl SearchIndex {
    /// The words (folded chain) that the best `first` candidates share, English function
    /// words aside, with the weight to add to each in the query (RM3: the text's own words
    /// among them), strongest first.
    ///
    /// A word's strength is `Σ_d share_d · tf(w, d) / len(d) · idf(w)` over the feedback
    /// documents `d`, `share_d` being `d`'s part of their summed scores; the strongest word
    /// gets `feedback.weight`, the others in proportion.
    pub(super) fn feedback_terms(
        &self,
        searcher: &Searcher,
        first: &[(f32, DocAddress)],
        feedback: Feedback,
    ) -> Result<Vec<(String, f32)>, IndexError> {
        let top = &first[..feedback.docs.min(first.len())];
        let total: f32 = top.iter().map(|(s, _)| s.max(0.0)).sum();
        if top.is_empty() || feedback.terms == 0 || feedback.weight <= 0.0 || total <= 0.0 {
            return Ok(Vec::new());
        }
        let mut strength: HashMap<String, f32> = HashMap::new();
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(*address)?;
            let mut counts: HashMap<String, u32> = HashMap::new();
            let mut len = 0u32;
            for group in [TextGroup::Title, TextGroup::Body] {
                let Some(text) = doc
                    .get_first(self.fields.group(group).exact)
                    .and_then(|v| v.as_str())
                else {
                    continue;
                };
                // The same words in both chains (as a query's): the exact form tells a
                // function word, which carries no meaning, from the rest.
                let exact = tokens(Chain::Exact, text);
                let folded = tokens(Chain::Folded, text);
                for (e, f) in exact.iter().zip(folded) {
                    len += 1;
                    if !is_english_stopword(e) {
                        *counts.entry(f).or_default() += 1;
                    }
                }
            }
            let share = score.max(0.0) / total / len.max(1) as f32;
            for (word, n) in counts {
                // Bare numbers say nothing of what a listing is about.
                if word.chars().all(|c| c.is_numeric()) {
                    continue;
                }
                *strength.entry(word).or_default() += share * n as f32;
            }
        }
        let docs = searcher.num_docs().max(1) as f32;
        let field = self.fields.group(TextGroup::Body).folded;
        let mut scored = Vec::with_capacity(strength.len());
        for (word, s) in strength {
            let df = searcher.doc_freq(&Term::from_field_text(field, &word))? as f32;
            let idf = ((docs - df + 0.5) / (df + 0.5) + 1.0).ln();
            scored.push((word, s * idf));
        }
        // By strength, then by word, so that equal strengths give the same query every time.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(feedback.terms);
        let strongest = scored.first().map_or(0.0, |(_, s)| *s);
        if strongest <= 0.0 {
            return Ok(Vec::new());
        }
        Ok(scored
            .into_iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|(w, s)| (w, feedback.weight * s / strongest))
            .collect())
    }
}
