//! From what a user typed to weighted terms, one per analysis chain and word.
//!
//! A query typed without any diacritic may be Vietnamese typed plain: its folded terms count
//! fully. A query with diacritics says exactly what was meant: its exact terms count fully and
//! the folded ones, which only add look-alikes (`cá` → `ca`, `cà`), less.

use std::collections::{HashMap, HashSet};

use tantivy::schema::Term;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::analysis::{could_be_vietnamese, is_english_stopword, tokens, Chain};
use crate::bm25f::{Bm25fQuery, Bm25fTerm};
use crate::doc::TextGroup;
use crate::ranking::Weights;
use crate::schema::Fields;

/// One term to look for in one chain's fields, with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// The chain whose fields hold it.
    pub chain: Chain,
    /// The token.
    pub text: String,
    /// Multiplier on its BM25 score (before text-group weights).
    pub weight: f32,
    /// How often it occurs in the query text.
    pub count: u32,
}

/// The weighted terms of a query, without repeats (a repeat keeps the larger weight).
#[derive(Debug, Clone, Default)]
pub struct QueryTerms {
    terms: Vec<QueryTerm>,
    positions: HashMap<(Chain, String), usize>,
}

impl QueryTerms {
    /// Analyses `text` with every chain and weighs each term.
    pub fn analyse(text: &str, weights: &Weights) -> Self {
        let mut q = QueryTerms::default();
        q.add_text(text, weights, 1.0);
        q
    }

    /// Adds a synonym of the query, scaled by `factor`: a phrase of several words only through
    /// its bigrams, since its single syllables ("xin" of "vắc xin") mean something else alone.
    pub fn add_phrase(&mut self, phrase: &str, weights: &Weights, factor: f32) {
        let bigrams = tokens(Chain::Bigram, phrase);
        if bigrams.is_empty() {
            self.add_text(phrase, weights, factor);
            return;
        }
        let w = if has_diacritics(phrase) {
            weights.bigram
        } else {
            weights.bigram_plain
        };
        for b in bigrams {
            self.push(Chain::Bigram, b, w * factor, weights.repeat);
        }
    }

    /// Adds the terms of `text` scaled by `factor`.
    pub fn add_text(&mut self, text: &str, weights: &Weights, factor: f32) {
        let exact = tokens(Chain::Exact, text);
        let folded = tokens(Chain::Folded, text);
        // Someone who types any diacritic types them all: then a plain word is truly plain and
        // its exact form is what they meant. Without any, every word may be missing its marks.
        let accented = has_diacritics(text);
        let (exact_weight, folded_weight, bigram_weight) = if accented {
            (weights.exact, weights.folded_accented, weights.bigram)
        } else {
            (weights.exact_plain, weights.folded, weights.bigram_plain)
        };
        // A plain query whose words mostly cannot be Vietnamese syllables reads as English;
        // its function words carry no meaning and only add noise to BM25.
        let english = !accented && mostly_foreign(&exact);
        let skip = |word: &str| english && is_english_stopword(word);
        for (e, f) in exact.iter().zip(&folded) {
            if skip(e) {
                continue;
            }
            self.push(
                Chain::Exact,
                e.clone(),
                exact_weight * factor,
                weights.repeat,
            );
            self.push(
                Chain::Folded,
                f.clone(),
                folded_weight * factor,
                weights.repeat,
            );
        }
        for b in tokens(Chain::Bigram, text) {
            if b.split('_').any(skip) {
                continue;
            }
            // Two syllables make a Vietnamese compound; anything else is a foreign phrase.
            let w = if b.split('_').all(could_be_vietnamese) {
                bigram_weight
            } else {
                weights.bigram_foreign
            };
            self.push(Chain::Bigram, b, w * factor, weights.repeat);
        }
    }

    /// Adds a term; a repeat keeps the larger weight plus `repeat` times the smaller, since a
    /// word a user writes twice in a long text matters more to them.
    fn push(&mut self, chain: Chain, text: String, weight: f32, repeat: f32) {
        if weight <= 0.0 {
            return;
        }
        let (term, known) = self.entry(chain, text);
        term.weight = if known {
            term.weight.max(weight) + repeat * term.weight.min(weight)
        } else {
            weight
        };
        term.count += 1;
    }

    /// Adds `weight` to a term's weight, or adds the term with that weight and a count of 0
    /// (the text does not hold it: feedback).
    pub(crate) fn add_weight(&mut self, chain: Chain, text: String, weight: f32) {
        self.entry(chain, text).0.weight += weight;
    }

    /// The term `text` of `chain`, and whether it was there already; a new one weighs 0 and
    /// counts 0.
    fn entry(&mut self, chain: Chain, text: String) -> (&mut QueryTerm, bool) {
        let key = (chain, text);
        let (i, known) = match self.positions.get(&key) {
            Some(&i) => (i, true),
            None => {
                let i = self.terms.len();
                self.terms.push(QueryTerm {
                    chain,
                    text: key.1.clone(),
                    weight: 0.0,
                    count: 0,
                });
                self.positions.insert(key, i);
                (i, false)
            }
        };
        (&mut self.terms[i], known)
    }

    /// Multiplies each term's weight by what `factor` gives for it.
    pub(crate) fn scale(&mut self, factor: impl Fn(&QueryTerm) -> f32) {
        for t in &mut self.terms {
            t.weight *= factor(t);
        }
    }

    /// Every term.
    pub fn terms(&self) -> &[QueryTerm] {
        &self.terms
    }

    /// Keeps only the terms `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&QueryTerm) -> bool) {
        self.terms.retain(|t| keep(t));
        self.positions = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.chain, t.text.clone()), i))
            .collect();
    }

    /// The folded terms, for marking matches in snippets.
    pub fn folded(&self) -> Vec<String> {
        self.terms
            .iter()
            .filter(|t| t.chain == Chain::Folded)
            .map(|t| t.text.clone())
            .collect()
    }

    /// The terms that decide which documents match at all, for counting them: exact forms and
    /// bigrams are left out when a folded term they imply is kept, since every document that
    /// holds them also holds that folded term in the same field.
    pub(crate) fn matching_set(&self) -> QueryTerms {
        let folded: HashSet<&str> = self
            .terms
            .iter()
            .filter(|t| t.chain == Chain::Folded)
            .map(|t| t.text.as_str())
            .collect();
        let implied = |word: &str| matches!(tokens(Chain::Folded, word).as_slice(), [f] if folded.contains(f.as_str()));
        let mut q = self.clone();
        q.retain(|t| match t.chain {
            Chain::Folded => true,
            Chain::Exact => !implied(&t.text),
            Chain::Bigram => !t.text.split('_').next().is_some_and(implied),
        });
        q
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// A query summing every term's BM25F score over the text groups (group weights inside
    /// the saturation, term weights outside).
    pub(crate) fn to_query(&self, fields: &Fields, weights: &Weights) -> Bm25fQuery {
        let groups: Vec<TextGroup> = TextGroup::ALL
            .into_iter()
            .filter(|group| weights.group(*group) > 0.0)
            .collect();
        let terms = self
            .terms
            .iter()
            .map(|t| Bm25fTerm {
                fields: groups
                    .iter()
                    .map(|g| {
                        let field = fields.group(*g).for_chain(t.chain);
                        (Term::from_field_text(field, &t.text), weights.group(*g))
                    })
                    .collect(),
                weight: t.weight,
                count: t.count,
            })
            .collect();
        Bm25fQuery::new(terms, weights.k1, weights.b)
    }

    /// Every term in every text field that counts (its group weighs more than 0), with its
    /// weight there: the postings [`QueryTerms::to_query`] reads.
    pub(crate) fn weighted_terms<'a>(
        &'a self,
        fields: &'a Fields,
        weights: &'a Weights,
    ) -> impl Iterator<Item = (Term, f32)> + 'a {
        TextGroup::ALL
            .into_iter()
            .filter(|group| weights.group(*group) > 0.0)
            .flat_map(move |group| {
                let g = fields.group(group);
                let group_weight = weights.group(group);
                self.terms.iter().map(move |t| {
                    let term = Term::from_field_text(g.for_chain(t.chain), &t.text);
                    (term, group_weight * t.weight)
                })
            })
    }
}

/// Whether `text` reads as English: no diacritic, and most words cannot be Vietnamese syllables.
pub(crate) fn reads_as_english(text: &str) -> bool {
    !has_diacritics(text) && mostly_foreign(&tokens(Chain::Exact, text))
}

/// Whether at least half of the words (exact forms) cannot be Vietnamese syllables.
fn mostly_foreign(exact: &[String]) -> bool {
    let foreign = exact.iter().filter(|e| !could_be_vietnamese(e)).count();
    foreign * 2 >= exact.len().max(1)
}

/// Whether `text` carries any diacritic (a combining mark once decomposed, or `đ`).
fn has_diacritics(text: &str) -> bool {
    text.nfd()
        .any(|c| is_combining_mark(c) || c == 'đ' || c == 'Đ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(q: &QueryTerms, chain: Chain, text: &str) -> Option<f32> {
        q.terms()
            .iter()
            .find(|t| t.chain == chain && t.text == text)
            .map(|t| t.weight)
    }

    #[test]
    fn folded_terms_of_accented_queries_weigh_less() {
        let w = Weights::default();
        let typed_plain = QueryTerms::analyse("ca", &w);
        let typed_accented = QueryTerms::analyse("cá con", &w);
        assert_eq!(weight(&typed_plain, Chain::Folded, "ca"), Some(w.folded));
        assert_eq!(
            weight(&typed_plain, Chain::Exact, "ca"),
            Some(w.exact_plain)
        );
        assert_eq!(
            weight(&typed_accented, Chain::Folded, "ca"),
            Some(w.folded_accented)
        );
        assert_eq!(weight(&typed_accented, Chain::Exact, "ca1"), Some(w.exact));
        // A plain word in an accented query is truly plain.
        assert_eq!(weight(&typed_accented, Chain::Exact, "con"), Some(w.exact));
    }

    #[test]
    fn repeated_terms_keep_the_larger_weight() {
        let w = Weights::default();
        let q = QueryTerms::analyse("cá ca", &w);
        assert_eq!(weight(&q, Chain::Folded, "ca"), Some(w.folded_accented));
        assert_eq!(
            q.terms()
                .iter()
                .filter(|t| t.chain == Chain::Folded)
                .count(),
            1
        );
    }
}
