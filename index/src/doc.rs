//! What the index is given for one listing: text groups, facet values and an opaque payload.

/// A group of text fields that share a weight in ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextGroup {
    /// The title.
    Title = 0,
    /// Keywords, joined.
    Keywords = 1,
    /// The description.
    Body = 2,
    /// Everything else worth finding: owner, industry, outcome, classification titles.
    Extra = 3,
}

impl TextGroup {
    /// Every group, in field order.
    pub const ALL: [TextGroup; 4] = [
        TextGroup::Title,
        TextGroup::Keywords,
        TextGroup::Body,
        TextGroup::Extra,
    ];

    /// The base name of the group's fields.
    pub fn name(self) -> &'static str {
        match self {
            TextGroup::Title => "title",
            TextGroup::Keywords => "keywords",
            TextGroup::Body => "body",
            TextGroup::Extra => "extra",
        }
    }
}

/// A field with discrete values that can filter a search and be counted in its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    /// Listing kind.
    Kind = 0,
    /// Province code.
    Province = 1,
    /// Field-of-science sub-field code.
    Field = 2,
    /// Field-of-science major field code.
    FieldMajor = 3,
    /// Technology readiness level, 1–9.
    Trl = 4,
    /// Transfer mode (several per listing).
    Mode = 5,
    /// Publication status.
    Status = 6,
}

impl Facet {
    /// Every facet, in field order.
    pub const ALL: [Facet; 7] = [
        Facet::Kind,
        Facet::Province,
        Facet::Field,
        Facet::FieldMajor,
        Facet::Trl,
        Facet::Mode,
        Facet::Status,
    ];

    /// The facet's name in the schema and in results.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Kind => "kind",
            Facet::Province => "province",
            Facet::Field => "field",
            Facet::FieldMajor => "field_major",
            Facet::Trl => "trl",
            Facet::Mode => "transfer_mode",
            Facet::Status => "status",
        }
    }
}

/// One listing as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    /// Stable identifier; a later document with the same id replaces this one.
    pub id: String,
    /// Text per group; several strings in one group are indexed as separate values.
    pub text: Vec<(TextGroup, String)>,
    /// Facet values; a facet may have several.
    pub facets: Vec<(Facet, String)>,
    /// Readiness level, when known, for "at least" filters.
    pub trl: Option<u64>,
    /// Opaque JSON handed back in hits.
    pub stored: String,
    /// What matching compares besides text.
    pub profile: crate::MatchProfile,
}

/// One change to apply to the index.
#[derive(Debug, Clone)]
pub enum IndexChange {
    /// Add the document, replacing any with the same id.
    Upsert(Box<IndexDoc>),
    /// Remove the document with this id, if present.
    Delete(String),
}
