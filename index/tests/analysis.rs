//! Properties of the analysis chains, over generated Vietnamese text.
//!
//! 1. Analysis is idempotent: the exact and folded forms of a form are that form.
//! 2. NFC input, NFD input and either tone-mark convention give the same exact tokens.
//! 3. Every folded spelling of a word finds the word in an index.
//! 4. The per-character folds equal their whole-word NFD definitions, for any text.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use techmatch_index::analysis::{exact_form, fold_text, folded_form, tokens, Chain};
use techmatch_index::{IndexChange, IndexDoc, SearchIndex, SearchRequest, TextGroup};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

const ONSETS: &[&str] = &[
    "", "b", "ch", "d", "đ", "gi", "h", "kh", "l", "m", "ng", "nh", "ph", "qu", "th", "tr", "x",
];
/// Bare vowels and diphthongs; the tone goes on the one at `TONE_AT` in the new style.
const NUCLEI: &[(&str, usize)] = &[
    ("a", 0),
    ("ă", 0),
    ("â", 0),
    ("e", 0),
    ("ê", 0),
    ("i", 0),
    ("o", 0),
    ("ô", 0),
    ("ơ", 0),
    ("u", 0),
    ("ư", 0),
    ("oa", 1),
    ("oe", 1),
    ("uy", 1),
    ("ươ", 1),
    ("iê", 1),
    ("uô", 1),
];
const CODAS: &[&str] = &["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
const TONES: &[char] = &['\u{0301}', '\u{0300}', '\u{0309}', '\u{0303}', '\u{0323}'];

/// A syllable written two ways: tone on the conventional vowel (new style) and, for the
/// open diphthongs oa/oe/uy, on the first vowel (old style).
fn syllable() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(ONSETS),
        prop::sample::select(NUCLEI),
        prop::sample::select(CODAS),
        prop::option::of(prop::sample::select(TONES)),
        any::<bool>(),
    )
        .prop_map(|(onset, (nucleus, at), coda, tone, upper)| {
            let place = |pos: usize| {
                let mut s = String::from(onset);
                for (i, c) in nucleus.chars().enumerate() {
                    s.push(c);
                    if Some(i) == Some(pos) {
                        if let Some(t) = tone {
                            s.push(t);
                        }
                    }
                }
                s.push_str(coda);
                let s: String = s.nfc().collect();
                if upper {
                    s.to_uppercase()
                } else {
                    s
                }
            };
            let open_diphthong = matches!(nucleus, "oa" | "oe" | "uy") && coda.is_empty();
            (place(at), place(if open_diphthong { 0 } else { at }))
        })
}

fn text() -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(syllable(), 1..8).prop_map(|words| {
        let new: Vec<String> = words.iter().map(|w| w.0.clone()).collect();
        let old: Vec<String> = words.iter().map(|w| w.1.clone()).collect();
        (new.join(" "), old.join(" "))
    })
}

proptest! {
    #[test]
    fn analysis_is_idempotent((text, _) in text()) {
        for token in tokens(Chain::Exact, &text) {
            let mut again = String::new();
            exact_form(&token, &mut again);
            prop_assert_eq!(&again, &token);
        }
        let mut once = String::new();
        let mut twice = String::new();
        for word in text.split(' ') {
            folded_form(word, &mut once);
            folded_form(&once, &mut twice);
            prop_assert_eq!(&once, &twice);
        }
    }

    #[test]
    fn nfd_nfc_and_either_tone_convention_give_the_same_tokens((new, old) in text()) {
        let nfd: String = new.nfd().collect();
        let expected = tokens(Chain::Exact, &new);
        prop_assert_eq!(&tokens(Chain::Exact, &nfd), &expected);
        prop_assert_eq!(&tokens(Chain::Exact, &old), &expected);
        prop_assert_eq!(tokens(Chain::Folded, &old), tokens(Chain::Folded, &new));
        prop_assert_eq!(tokens(Chain::Bigram, &nfd), tokens(Chain::Bigram, &new));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_folded_form_of_a_word_finds_it((word, _) in syllable()) {
        let index = SearchIndex::in_ram().unwrap();
        let doc = IndexDoc {
            id: "w".into(),
            text: vec![(TextGroup::Body, format!("mở đầu {word} kết thúc"))],
            stored: "{}".into(),
            ..IndexDoc::default()
        };
        index.apply([IndexChange::Upsert(Box::new(doc))], 1).unwrap();
        for query in [word.clone(), fold_text(&word), fold_text(&word).to_uppercase()] {
            let result = index
                .search(&SearchRequest { text: query.clone(), limit: 5, ..SearchRequest::default() })
                .unwrap();
            prop_assert_eq!(result.hits.len(), 1, "query {:?}", query);
        }
    }
}

/// The folded form by its definition: NFD, lowercase, marks dropped, a few letters spelled out.
fn folded_by_definition(word: &str) -> String {
    let mut out = String::new();
    for c in word.nfd().flat_map(char::to_lowercase) {
        match c {
            c if is_combining_mark(c) => {}
            'đ' => out.push('d'),
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

/// The exact form by its definition: NFD, lowercase, tone marks taken out, NFC, tone digit.
fn exact_by_definition(word: &str) -> String {
    let tones = ['\u{0301}', '\u{0300}', '\u{0309}', '\u{0303}', '\u{0323}'];
    let mut tone = None;
    let mut bare = String::new();
    for c in word.nfd().flat_map(char::to_lowercase) {
        match tones.iter().position(|t| *t == c) {
            Some(i) => tone = Some(char::from(b'1' + i as u8)),
            None => bare.push(c),
        }
    }
    let mut out: String = bare.nfc().collect();
    if let Some(d) = tone {
        if out.chars().last().is_some_and(char::is_alphabetic) {
            out.push(d);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn per_character_folds_match_their_definitions(
        word in prop_oneof![
            "\\PC{0,12}",
            "[a-zA-ZđĐàáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ\u{0300}-\u{0323}İæøß]{0,12}",
        ]
    ) {
        let mut out = String::new();
        folded_form(&word, &mut out);
        prop_assert_eq!(&out, &folded_by_definition(&word));
        exact_form(&word, &mut out);
        prop_assert_eq!(&out, &exact_by_definition(&word));
    }
}
