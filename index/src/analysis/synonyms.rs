//! Synonyms and abbreviations: groups of phrases that mean the same (`KH&CN` ↔ `khoa học và
//! công nghệ` ↔ `science and technology`), used to widen queries.

use super::{is_word_char, tokens, Chain};

/// A table of synonym groups, matched on folded words.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Phrase>>,
}

#[derive(Debug, Clone)]
struct Phrase {
    text: String,
    folded: Vec<String>,
    /// Short all-capital abbreviations ("AI", "IT") are also ordinary words in lower case
    /// (Vietnamese "ai" means "who"), so they match only as typed in capitals.
    exact_case: Option<String>,
}

impl Synonyms {
    /// Reads a table: one group per line, phrases separated by `|`; `#` starts a comment.
    pub fn parse(table: &str) -> Self {
        let mut groups = Vec::new();
        for line in table.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let group: Vec<Phrase> = line
                .split('|')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Phrase {
                    text: p.to_string(),
                    folded: tokens(Chain::Folded, p),
                    exact_case: (p.chars().count() <= 2
                        && p.chars().all(|c| c.is_ascii_uppercase()))
                    .then(|| p.to_string()),
                })
                .filter(|p| !p.folded.is_empty())
                .collect();
            if group.len() > 1 {
                groups.push(group);
            }
        }
        Synonyms { groups }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The phrases to add to `query`: the other members of every group one of whose phrases
    /// occurs in it.
    pub fn expand(&self, query: &str) -> Vec<String> {
        let folded = tokens(Chain::Folded, query);
        let words: Vec<&str> = query
            .split(|c: char| !is_word_char(c))
            .filter(|w| !w.is_empty())
            .collect();
        let mut out = Vec::new();
        for group in &self.groups {
            let found = group.iter().position(|p| match &p.exact_case {
                Some(exact) => words.iter().any(|w| w == exact),
                None => contains(&folded, &p.folded),
            });
            if let Some(i) = found {
                for (j, p) in group.iter().enumerate() {
                    if j != i && !contains(&folded, &p.folded) {
                        out.push(p.text.clone());
                    }
                }
            }
        }
        out
    }
}

fn contains(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "KH&CN | khoa học và công nghệ # a comment\nAI | trí tuệ nhân tạo\nsingle\n";

    #[test]
    fn an_abbreviation_expands_to_its_phrase_and_back() {
        let s = Synonyms::parse(TABLE);
        assert_eq!(s.len(), 2);
        assert_eq!(s.expand("Sở KH&CN Cần Thơ"), vec!["khoa học và công nghệ"]);
        assert_eq!(s.expand("khoa hoc va cong nghe"), vec!["KH&CN"]);
        assert_eq!(s.expand("ứng dụng AI"), vec!["trí tuệ nhân tạo"]);
    }

    #[test]
    fn short_capital_abbreviations_need_capitals() {
        let s = Synonyms::parse(TABLE);
        assert!(s.expand("ai là người chuyển giao").is_empty());
    }
}
