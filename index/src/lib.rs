//! techmatch-index: the search and matching core of techmatch.
//!
//! It knows text, fields and ranking, and nothing of HTTP, storage or provinces.
//!
//! - [`analysis`]: the Vietnamese/English token chains (exact, folded, bigram).
//! - [`SearchIndex`]: a tantivy index that records the store sequence it has applied;
//!   fed with [`IndexChange`]s of [`IndexDoc`]s.
//! - [`SearchRequest`] → [`SearchIndex::search`] → [`SearchResult`]: ranked hits,
//!   snippets and facet counts.
//! - [`MatchRequest`] → [`SearchIndex::find_matches`] → [`MatchResult`]: listings that fit a
//!   need (or a technology), rescored by structured [`MatchProfile`] facts, every score explained.
//! - [`vector::VectorSet`] and [`fuse`]: semantic neighbours (int8 vectors, exact or sketch-first
//!   search with filters) and their fusion with the lexical ranking.
//! - [`duplicates`]: near-duplicate detection (MinHash over shingles of folded words).
//! - [`Weights`], [`MatchWeights`]: how text groups, chains and match components are weighted.
#![warn(missing_docs)]

pub mod analysis;
mod bm25f;
mod count;
mod doc;
pub mod duplicates;
mod error;
pub mod eval;
mod facets;
mod first_hits;
mod fusion;
mod index;
mod matching;
mod query;
mod ranking;
mod schema;
mod search;
mod snippet;
mod terms;
mod topk;
pub mod vector;

pub use doc::{Facet, IndexChange, IndexDoc, TextGroup};
pub use error::IndexError;
pub use first_hits::{FirstHits, Located, PreparedSearch, StatsMemo};
pub use fusion::{fuse, Fused, Fusion, Method as FusionMethod};
pub use index::SearchIndex;
pub use matching::{
    Component, Geography, Match, MatchProfile, MatchRequest, MatchResult, MatchWeights, Side,
    NEUTRAL,
};
pub use query::{QueryTerm, QueryTerms};
pub use ranking::Weights;
pub use search::{FacetCounts, Hit, SearchRequest, SearchResult};
pub use snippet::{escape_html, snippet};
