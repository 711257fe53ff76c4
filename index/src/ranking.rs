//! Ranking weights: how much each text group and each analysis chain counts.

use crate::analysis::Chain;
use crate::doc::TextGroup;

/// Multipliers applied to BM25 scores per text group and per analysis chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Title.
    pub title: f32,
    /// Keywords.
    pub keywords: f32,
    /// Description.
    pub body: f32,
    /// Owner, industry and the rest.
    pub extra: f32,
    /// Exact (diacritics kept) matches; above `folded` so exact spelling wins.
    pub exact: f32,
    /// Folded matches.
    pub folded: f32,
    /// Syllable-bigram matches.
    pub bigram: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            title: 3.0,
            keywords: 2.0,
            body: 1.0,
            extra: 0.5,
            exact: 1.0,
            folded: 0.6,
            bigram: 0.8,
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

    /// The weight of one chain.
    pub fn chain(&self, chain: Chain) -> f32 {
        match chain {
            Chain::Exact => self.exact,
            Chain::Folded => self.folded,
            Chain::Bigram => self.bigram,
        }
    }
}
