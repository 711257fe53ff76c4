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

use tantivy::tokenizer::{Language, RawTokenizer, Stemmer, TextAnalyzer, TokenStream};

/// Builds the tantivy analyzer for one chain.
pub fn analyzer(chain: Chain) -> TextAnalyzer {
    match chain {
        Chain::Folded => TextAnalyzer::from(VietTokenizer::folded_stemmed()),
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

thread_local! {
    /// The folded chain without its stemmer, and the stemmer alone on one word.
    static UNSTEMMED: std::cell::RefCell<(TextAnalyzer, TextAnalyzer)> = std::cell::RefCell::new((
        TextAnalyzer::from(VietTokenizer::new(Chain::Folded)),
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(Stemmer::new(Language::English))
            .build(),
    ));
}

/// Calls `f` with each token of `text` in the folded chain, but with only those tokens stemmed
/// that `stem_if` accepts, given their unstemmed folded text (the others keep that text).
///
/// English stemming only ever changes a word's ending, so a caller looking for some stems can
/// skip stemming every word that may stem to none of them ([`may_begin_stem`]): most of a
/// text's words.
pub fn folded_tokens_stemmed_if(
    text: &str,
    stem_if: impl Fn(&str) -> bool,
    mut f: impl FnMut(&tantivy::tokenizer::Token),
) {
    UNSTEMMED.with(|cell| {
        let (words, stemmer) = &mut *cell.borrow_mut();
        let mut stream = words.token_stream(text);
        while stream.advance() {
            let token = stream.token_mut();
            if stem_if(&token.text) {
                let mut stemmed = stemmer.token_stream(&token.text);
                let stem = stemmed
                    .advance()
                    .then(|| std::mem::take(&mut stemmed.token_mut().text));
                drop(stemmed);
                if let Some(stem) = stem {
                    token.text = stem;
                }
            }
            f(token);
        }
    })
}

/// What a word must begin with to have `stem` as its English stem: all of the stem but its
/// last two letters (at least its first).
///
/// The English stemmer rewrites no more of a word than the last two letters of its stem
/// ("dying" → "die", "possibility" → "possibl", "happy" → "happi", "rated" → "rate"): a word
/// that does not start with the rest of the stem cannot have it. (Checked on the 55,628
/// distinct words of the evaluation sets and the reference listings.)
pub fn stem_start(stem: &str) -> &str {
    let keep = stem.chars().count().saturating_sub(2).max(1);
    let end = stem.char_indices().nth(keep).map_or(stem.len(), |(i, _)| i);
    &stem[..end]
}

/// Whether `word` (folded, unstemmed) may have a stem whose [`stem_start`] is `start`; the
/// stemmer drops a leading apostrophe, so such a word may have any stem.
pub fn may_begin_stem(word: &str, start: &str) -> bool {
    word.starts_with('\'') || word.starts_with(start)
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
    fn stemming_only_words_that_start_right_finds_the_same_stems() {
        // English stems keep all but their last two letters of the word, special cases and
        // 'y' included.
        let text = "Dying skies, yearly flying gently; the early news: generously \
            re-engineered vaccines! Nuôi tôm, sấy được, Đà Lạt, COVID-19 'tis agreed; lying \
            tying rated hopping happy possibility relational organizations sensitivity \
            effectiveness dependencies fully ugly only singly idly";
        let full = tokens(Chain::Folded, text);
        let mut stems = Vec::new();
        folded_tokens_stemmed_if(text, |_| true, |t| stems.push(t.text.clone()));
        assert_eq!(stems, full);
        // Looking for one stem, stemming only the words that start as it does finds it in the
        // same places as stemming every word.
        let at = |tokens: &[String], stem: &str| -> Vec<usize> {
            (0..tokens.len()).filter(|&i| tokens[i] == stem).collect()
        };
        for stem in &full {
            let mut some = Vec::new();
            folded_tokens_stemmed_if(
                text,
                |w| may_begin_stem(w, stem_start(stem)),
                |t| some.push(t.text.clone()),
            );
            assert_eq!(at(&some, stem), at(&full, stem), "{stem}");
        }
        // And most words are not stemmed at all.
        assert!(!may_begin_stem("vaccines", stem_start("agre")));
        assert!(may_begin_stem("'tis", stem_start("ti")));
    }

    #[test]
    fn remembered_stems_are_tantivys_stems() {
        let text = "Generously re-engineered vaccines, dying skies; nuôi tôm sấy được \
            running runs ran easily fairly COVID-19 organizations organisation's";
        let mut tantivy_stems = TextAnalyzer::builder(VietTokenizer::new(Chain::Folded))
            .filter(Stemmer::new(Language::English))
            .build();
        let mut expected = Vec::new();
        let mut stream = tantivy_stems.token_stream(text);
        while stream.advance() {
            expected.push(stream.token().text.clone());
        }
        // Twice: the second time every stem comes from memory.
        assert_eq!(tokens(Chain::Folded, text), expected);
        assert_eq!(tokens(Chain::Folded, text), expected);
    }

    #[test]
    fn hyphenated_words_stay_adjacent() {
        assert_eq!(tokens(Chain::Bigram, "COVID-19"), vec!["covid_19"]);
    }
}
