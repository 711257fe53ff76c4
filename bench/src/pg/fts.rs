//! PostgreSQL full-text search as a department's IT team would configure it for Vietnamese and
//! English: `unaccent`, then English Snowball stemming without a stop-word list.
//!
//! Why this configuration: Vietnamese has no stemmer in PostgreSQL, and `simple` would leave
//! English plurals and inflections apart; our own folded chain also removes diacritics and stems
//! English with Snowball, so this is the closest like-for-like. The stock `english` dictionary
//! is not used because its stop words ("the", "so", "do", "an", "to") are common Vietnamese
//! syllables once diacritics are gone (`thể`, `số`, `đó`, `an toàn`, `tổ`).

/// The text search configuration's name.
pub const CONFIG: &str = "techmatch_fts";

/// Creates the `unaccent` extension, the dictionary and [`CONFIG`] in the current database.
pub const SETUP_SQL: &str = "
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH DICTIONARY english_nostop (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION techmatch_fts (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION techmatch_fts
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, hword_asciipart, hword_part,
        hword_numpart
    WITH unaccent, english_nostop;
";

/// How the words of a query combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Combine {
    /// A document matching any word (`w1 | w2`), ranked by `ts_rank_cd`: what our search does.
    #[default]
    Any,
    /// Every word required (`plainto_tsquery`), PostgreSQL's default.
    All,
}

impl Combine {
    /// An SQL expression turning the text parameter `$n` into a `tsquery`.
    pub fn tsquery_sql(self, n: usize) -> String {
        match self {
            Combine::All => format!("plainto_tsquery('{CONFIG}', ${n})"),
            // plainto_tsquery quotes every lexeme, so each `&` left is an operator.
            Combine::Any => {
                format!("replace(plainto_tsquery('{CONFIG}', ${n})::text, '&', '|')::tsquery")
            }
        }
    }
}

/// The relevance expression for `tsquery`: `ts_rank_cd` divided by the document's length
/// (normalisation 2). Without it long documents win on every common word, since PostgreSQL's
/// ranking has no inverse document frequency; with it nDCG@10 rose on every development set
/// (nfcorpus 0.221 → 0.228, vicovqa 0.012 → 0.082, nfcorpus long queries 0.152 → 0.210).
pub fn rank_sql(tsquery: &str) -> String {
    format!("ts_rank_cd(tsv, {tsquery}, 2)")
}
