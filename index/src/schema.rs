//! The tantivy schema: every field of the index, declared in one place.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};
use tantivy::Index;

use crate::analysis::{analyzer, Chain};
use crate::doc::{Facet, TextGroup};

/// Bumped whenever the fields or the analysis change, so an old index is rebuilt, not misread.
pub const SCHEMA_VERSION: u32 = 2;

/// Tokenizer names registered on every index.
const EXACT: &str = "vi_exact";
const FOLDED: &str = "vi_folded";
const BIGRAM: &str = "vi_bigram";

/// The three analysed fields of one text group.
#[derive(Debug, Clone, Copy)]
pub struct GroupFields {
    /// Exact forms (diacritics kept).
    pub exact: Field,
    /// Folded and stemmed forms.
    pub folded: Field,
    /// Folded syllable bigrams.
    pub bigram: Field,
}

impl GroupFields {
    /// The field that holds `chain`'s tokens.
    pub fn for_chain(&self, chain: Chain) -> Field {
        match chain {
            Chain::Exact => self.exact,
            Chain::Folded => self.folded,
            Chain::Bigram => self.bigram,
        }
    }
}

/// Handles to every field, resolved once.
#[derive(Debug, Clone)]
pub struct Fields {
    /// The listing's id, indexed untokenised so it can be deleted by term.
    pub id: Field,
    /// The caller's opaque JSON shown in hits.
    pub stored: Field,
    /// The structured facts matching compares ([`crate::MatchProfile`] as JSON).
    pub profile: Field,
    /// Text groups in [`TextGroup::ALL`] order.
    pub groups: [GroupFields; 4],
    /// Facet fields in [`Facet::ALL`] order.
    pub facets: [Field; 7],
    /// TRL as a number, for "at least" filters.
    pub trl: Field,
}

impl Fields {
    /// The fields of one text group.
    pub fn group(&self, group: TextGroup) -> GroupFields {
        self.groups[group as usize]
    }

    /// The field of one facet.
    pub fn facet(&self, facet: Facet) -> Field {
        self.facets[facet as usize]
    }
}

fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

/// Builds the schema and the field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let stored = b.add_text_field("stored", STORED);
    let profile = b.add_text_field("profile", STORED);
    let groups = TextGroup::ALL.map(|g| {
        let name = g.name();
        GroupFields {
            // Title and description are stored once, in their exact fields, for snippets and
            // for naming the words a match shares.
            exact: b.add_text_field(
                name,
                text_options(EXACT, matches!(g, TextGroup::Body | TextGroup::Title)),
            ),
            folded: b.add_text_field(&format!("{name}_f"), text_options(FOLDED, false)),
            bigram: b.add_text_field(&format!("{name}_b"), text_options(BIGRAM, false)),
        }
    });
    let facets = Facet::ALL.map(|f| b.add_text_field(f.name(), STRING | FAST));
    let trl = b.add_u64_field("trl_n", NumericOptions::default().set_indexed().set_fast());
    (
        b.build(),
        Fields {
            id,
            stored,
            profile,
            groups,
            facets,
            trl,
        },
    )
}

/// Registers the analysis chains on `index` under the names the schema uses.
pub fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(EXACT, analyzer(Chain::Exact));
    manager.register(FOLDED, analyzer(Chain::Folded));
    manager.register(BIGRAM, analyzer(Chain::Bigram));
}
