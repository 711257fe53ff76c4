//! techmatch-index: the search and matching core of techmatch.
//!
//! It knows text, fields and ranking, and nothing of HTTP, storage or provinces.
//!
//! - [`analysis`]: the Vietnamese/English token chains (exact, folded, bigram).
//! - [`SearchIndex`]: a tantivy index that records the store sequence it has applied;
//!   fed with [`IndexChange`]s of [`IndexDoc`]s.
//! - [`SearchRequest`] → [`SearchIndex::search`] → [`SearchResult`]: ranked hits,
//!   snippets and facet counts.
//! - [`Weights`]: how text groups and chains are weighted.
#![warn(missing_docs)]

pub mod analysis;
mod doc;
mod error;
pub mod eval;
mod facets;
mod index;
mod query;
mod ranking;
mod schema;
mod search;
mod snippet;

pub use doc::{Facet, IndexChange, IndexDoc, TextGroup};
pub use error::IndexError;
pub use index::SearchIndex;
pub use query::{QueryTerm, QueryTerms};
pub use ranking::Weights;
pub use search::{FacetCounts, Hit, SearchRequest, SearchResult};
pub use snippet::snippet;
