//! Typed views shared by the API, the pages and the command line: what they show of a search
//! hit and of a folded near-duplicate.

use serde::{Deserialize, Serialize};

/// One search hit: the listing as everyone sees it in a result list (a confidential need by its
/// summary), its score and a snippet. The index keeps these fields as JSON beside each document
/// (`indexer::to_index_doc`); the API answers them as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The listing's id.
    pub id: String,
    /// `research_output`, `patent` or `need`.
    #[serde(default)]
    pub kind: String,
    /// The title (a confidential need's summary).
    #[serde(default)]
    pub title: String,
    /// Field of science (FOS code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Province code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// The province's short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province_name: Option<String>,
    /// The owner organisation (never a confidential need's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Readiness level of a technology.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl: Option<u8>,
    /// Lowest readiness level a need asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl_min: Option<u8>,
    /// How it can change hands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_modes: Vec<String>,
    /// Its keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// `published`, `draft`, `archived` or `stale`.
    #[serde(default)]
    pub status: String,
    /// When it was last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// When its owner last confirmed it is current (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    /// A confidential need: only its summary shows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
    /// Relevance (higher is better).
    #[serde(default)]
    pub score: f32,
    /// An excerpt with matched words in `<mark>`, HTML-escaped.
    #[serde(default)]
    pub snippet: String,
}

/// A listing folded under a hit on the search page as the same technology listed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Also {
    /// The folded listing's id.
    pub id: String,
    /// What names it: its source exchange, else its owner, else its title.
    pub label: String,
}
