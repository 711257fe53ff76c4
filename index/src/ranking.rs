//! Ranking weights: how much each text group and each analysis chain counts, and BM25F's
//! saturation and length normalisation.

use crate::doc::TextGroup;

/// Weights of text groups (BM25F field weights) and analysis chains (query-term weights).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Title.
    pub title: f32,
    /// Keywords.
    pub keywords: f32,
    /// Description.
    pub body: f32,
    /// Owner, industry and the rest.
    pub extra: f32,
    /// Exact matches of words typed with diacritics; above `folded_accented` so exact spelling wins.
    pub exact: f32,
    /// Exact matches of words typed without diacritics (mostly the folded term again, unstemmed).
    pub exact_plain: f32,
    /// Folded matches of words typed without diacritics.
    pub folded: f32,
    /// Folded matches of words typed with diacritics (look-alikes of what was meant).
    pub folded_accented: f32,
    /// Syllable-bigram matches in queries typed with diacritics.
    pub bigram: f32,
    /// Syllable-bigram matches in queries typed without (Vietnamese typed plain).
    pub bigram_plain: f32,
    /// Bigrams with a word that cannot be a Vietnamese syllable (English phrases).
    pub bigram_foreign: f32,
    /// Share of a repeated query term's weight added for each repetition.
    pub repeat: f32,
    /// Factor on the terms of synonym expansions.
    pub synonym: f32,
    /// Score of a near spelling of a query word that occurs nowhere (a typo), per group weight.
    pub fuzzy: f32,
    /// BM25F saturation: how fast further occurrences of a term stop adding to its score.
    pub k1: f32,
    /// BM25F length normalisation (0 none, 1 full), each group against its own average length.
    pub b: f32,
}

impl Default for Weights {
    /// The values chosen on the development sets (also in the service's `fixtures/ranking.json`).
    fn default() -> Self {
        Weights {
            title: 3.0,
            keywords: 2.0,
            body: 1.0,
            extra: 0.5,
            exact: 1.0,
            exact_plain: 0.3,
            folded: 1.0,
            folded_accented: 0.3,
            bigram: 0.8,
            bigram_plain: 1.0,
            bigram_foreign: 0.3,
            repeat: 0.0,
            synonym: 0.3,
            fuzzy: 1.0,
            k1: 1.2,
            b: 0.75,
        }
    }
}

impl Weights {
    /// The weight of one text group.
    pub fn group(&self, group: TextGroup) -> f32 {
        match group {
            TextGroup::Title => self.title,
            TextGroup::Keywords => self.keywords,
            TextGroup::Body => self.body,
            TextGroup::Extra => self.extra,
        }
    }
}
