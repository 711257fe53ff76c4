//! From what a user typed to weighted terms, one per analysis chain and word.
//!
//! A query typed without any diacritic may be Vietnamese typed plain: its folded terms count
//! fully. A query with diacritics says exactly what was meant: its exact terms count fully and
//! the folded ones, which only add look-alikes (`cá` → `ca`, `cà`), less.

use std::collections::HashMap;

use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Term};

use crate::analysis::{exact_form, folded_form, tokens, Chain};
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

    /// Adds the terms of `text` (an expansion such as a synonym) scaled by `factor`.
    pub fn add_text(&mut self, text: &str, weights: &Weights, factor: f32) {
        let exact = tokens(Chain::Exact, text);
        let folded = tokens(Chain::Folded, text);
        // Someone who types any diacritic types them all: then a plain word is truly plain and
        // its exact form is what they meant. Without any, every word may be missing its marks.
        let accented = exact.iter().any(|e| {
            let mut plain = String::new();
            folded_form(e, &mut plain);
            let mut typed = String::new();
            exact_form(&plain, &mut typed);
            typed != *e
        });
        let (exact_weight, folded_weight, bigram_weight) = if accented {
            (weights.exact, weights.folded_accented, weights.bigram)
        } else {
            (weights.exact_plain, weights.folded, weights.bigram_plain)
        };
        for (e, f) in exact.iter().zip(&folded) {
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
            self.push(Chain::Bigram, b, bigram_weight * factor, weights.repeat);
        }
    }

    /// Adds a term; a repeat keeps the larger weight plus `repeat` times the smaller, since a
    /// word a user writes twice in a long text matters more to them.
    fn push(&mut self, chain: Chain, text: String, weight: f32, repeat: f32) {
        if weight <= 0.0 {
            return;
        }
        match self.positions.get(&(chain, text.clone())) {
            Some(&i) => {
                let old = self.terms[i].weight;
                self.terms[i].weight = old.max(weight) + repeat * old.min(weight);
            }
            None => {
                self.positions
                    .insert((chain, text.clone()), self.terms.len());
                self.terms.push(QueryTerm {
                    chain,
                    text,
                    weight,
                });
            }
        }
    }

    /// Every term.
    pub fn terms(&self) -> &[QueryTerm] {
        &self.terms
    }

    /// The folded terms, for marking matches in snippets.
    pub fn folded(&self) -> Vec<String> {
        self.terms
            .iter()
            .filter(|t| t.chain == Chain::Folded)
            .map(|t| t.text.clone())
            .collect()
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// A query summing every term's weighted BM25 score in every text group.
    pub(crate) fn to_query(&self, fields: &Fields, weights: &Weights) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for group in TextGroup::ALL {
            let g = fields.group(group);
            let group_weight = weights.group(group);
            if group_weight <= 0.0 {
                continue;
            }
            for t in &self.terms {
                let term = Term::from_field_text(g.for_chain(t.chain), &t.text);
                let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), group_weight * t.weight)),
                ));
            }
        }
        BooleanQuery::new(clauses)
    }
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
