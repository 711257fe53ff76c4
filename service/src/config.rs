//! Ranking configuration: the weights search and matching use, in one JSON file.
//!
//! The defaults ship in `fixtures/ranking.json` (chosen on the development sets);
//! `--ranking FILE` or `TECHMATCH_RANKING` replaces them for a run.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use techmatch_index::analysis::Synonyms;
use techmatch_index::{Fusion, MatchWeights, Weights};

const DEFAULT: &str = include_str!("../fixtures/ranking.json");
const SYNONYMS: &str = include_str!("../fixtures/synonyms.txt");

/// Every tunable weight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ranking {
    /// Text-group and analysis-chain weights of search (and of matching's text part).
    pub search: Weights,
    /// Component weights of matching.
    pub matching: MatchWeights,
    /// How semantic neighbours are fused with the lexical ranking.
    pub semantic: SemanticWeights,
}

/// Fusion of lexical and semantic rankings, for search and for matching.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticWeights {
    /// Search (short queries).
    pub search: Fusion,
    /// Matching (long needs and listings).
    pub matching: Fusion,
}

static RANKING: OnceLock<Ranking> = OnceLock::new();

/// Why a ranking file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid ranking configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// Parses a ranking configuration; `path` names it in errors.
pub fn parse(path: &str, text: &str) -> Result<Ranking, ConfigError> {
    serde_json::from_str(text).map_err(|source| ConfigError::Parse {
        path: path.to_string(),
        source,
    })
}

/// Uses the configuration in `path` for this process instead of the defaults.
pub fn load(path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let ranking = parse(&path.display().to_string(), &text)?;
    // Only the first call takes effect; the CLI calls this once, before any search.
    let _ = RANKING.set(ranking);
    Ok(())
}

/// The synonym table shipped in `fixtures/synonyms.txt`.
pub fn synonyms() -> &'static Synonyms {
    static TABLE: OnceLock<Synonyms> = OnceLock::new();
    TABLE.get_or_init(|| Synonyms::parse(SYNONYMS))
}

/// The configuration in force.
pub fn ranking() -> &'static Ranking {
    RANKING.get_or_init(|| parse("fixtures/ranking.json", DEFAULT).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_defaults_parse() {
        assert!(parse("fixtures/ranking.json", DEFAULT).is_ok());
    }

    #[test]
    fn the_shipped_synonyms_parse() {
        assert!(synonyms().len() > 30);
        assert_eq!(
            synonyms().expand("KH&CN"),
            vec![
                "KHCN",
                "khoa học và công nghệ",
                "khoa học công nghệ",
                "science and technology"
            ]
        );
    }

    #[test]
    fn unknown_weights_are_refused() {
        assert!(parse("x", r#"{"search": {"titel": 2.0}}"#).is_err());
    }
}
