//! Text analysis for Vietnamese and English: the token chains that the index and queries share.
//!
//! Three chains run over the same words:
//! - **exact**: lowercase, NFC, one tone-mark convention; keeps `cá`, `ca`, `cà` apart;
//! - **folded**: no diacritics, English stemming; lets `nuoi tom` find `nuôi tôm`
//!   and `vaccines` find `vaccine`;
//! - **bigram**: adjacent folded syllables joined (`cong_nghe`), so that the two-syllable
//!   compounds Vietnamese writes with a space score as units.

mod fold;
mod stopwords;
mod syllable;
mod synonyms;
mod tokenizer;

pub use fold::{exact_form, fold_text, folded_form, is_word_char};
pub use stopwords::is_english_stopword;
pub use syllable::could_be_vietnamese;
pub use synonyms::Synonyms;
pub use tokenizer::{Chain, VietTokenizer};

use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, TokenStream};

/// Builds the tantivy analyzer for one chain.
pub fn analyzer(chain: Chain) -> TextAnalyzer {
    match chain {
        Chain::Folded => TextAnalyzer::builder(VietTokenizer::new(chain))
            .filter(Stemmer::new(Language::English))
            .build(),
        Chain::Exact | Chain::Bigram => TextAnalyzer::from(VietTokenizer::new(chain)),
    }
}

thread_local! {
    /// One analyzer per chain and thread: building one (with its stemmer) costs more than
    /// analysing a short query.
    static ANALYZERS: std::cell::RefCell<Vec<(Chain, TextAnalyzer)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's analyzer for `chain`.
pub fn with_analyzer<T>(chain: Chain, f: impl FnOnce(&mut TextAnalyzer) -> T) -> T {
    ANALYZERS.with(|cell| {
        let mut analyzers = cell.borrow_mut();
        let i = match analyzers.iter().position(|(c, _)| *c == chain) {
            Some(i) => i,
            None => {
                analyzers.push((chain, analyzer(chain)));
                analyzers.len() - 1
            }
        };
        f(&mut analyzers[i].1)
    })
}

/// Runs `text` through one chain and returns its tokens in order.
pub fn tokens(chain: Chain, text: &str) -> Vec<String> {
    with_analyzer(chain, |analyzer| {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_chain_matches_unaccented_typing() {
        assert_eq!(
            tokens(Chain::Folded, "Chuyển giao công nghệ nuôi tôm"),
            tokens(Chain::Folded, "chuyen giao cong nghe nuoi tom")
        );
    }

    #[test]
    fn folded_chain_stems_english() {
        assert_eq!(
            tokens(Chain::Folded, "vaccines"),
            tokens(Chain::Folded, "vaccine")
        );
    }

    #[test]
    fn bigrams_join_adjacent_syllables_but_not_across_punctuation() {
        assert_eq!(
            tokens(Chain::Bigram, "Công nghệ sinh học, nuôi tôm"),
            vec!["cong_nghe", "nghe_sinh", "sinh_hoc", "nuoi_tom"]
        );
    }

    #[test]
    fn hyphenated_words_stay_adjacent() {
        assert_eq!(tokens(Chain::Bigram, "COVID-19"), vec!["covid_19"]);
    }
}
