//! Normalisation of one word: the exact form (diacritics kept, one tone-mark convention) and the
//! folded form (no diacritics, `đ` → `d`).
//!
//! Vietnamese writes each syllable with at most one tone mark, but two conventions place it on
//! different vowels (`hoà`/`hòa`, `thuỷ`/`thủy`), and keyboards emit both composed (NFC) and
//! decomposed (NFD) characters. Rather than choose a placement rule, the exact form takes the tone
//! off the letters and appends it as a digit, so every spelling of one syllable gives one token.

use unicode_normalization::char::{
    canonical_combining_class, decompose_canonical, is_combining_mark,
};
use unicode_normalization::UnicodeNormalization;

/// The five Vietnamese tone marks as combining characters, with the digit that stands for each.
const TONES: [(char, char); 5] = [
    ('\u{0301}', '1'), // sắc
    ('\u{0300}', '2'), // huyền
    ('\u{0309}', '3'), // hỏi
    ('\u{0303}', '4'), // ngã
    ('\u{0323}', '5'), // nặng
];

fn tone_digit(c: char) -> Option<char> {
    TONES.iter().find(|(m, _)| *m == c).map(|(_, d)| *d)
}

/// Writes the exact form of `word` into `out`: lowercase, NFC, tone mark moved to a trailing digit.
///
/// Vowel-quality marks (â, ă, ê, ô, ơ, ư) and `đ` are kept, so `cá`, `ca` and `cà` stay apart.
pub fn exact_form(word: &str, out: &mut String) {
    out.clear();
    // ASCII has nothing to decompose, compose or fold: most English words take this path.
    if word.is_ascii() {
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    let mut tone = None;
    let mut bare = String::with_capacity(word.len());
    // The whole word is decomposed at once: canonical order decides which of two stray tone
    // marks counts last.
    for c in word.nfd().flat_map(char::to_lowercase) {
        match tone_digit(c) {
            Some(d) => tone = Some(d),
            None => bare.push(c),
        }
    }
    out.extend(bare.nfc());
    if let Some(d) = tone {
        // A word already ending in a digit would be ambiguous ("a1" vs "á"), so the tone
        // is only appended to words that end in a letter.
        if out.chars().last().is_some_and(char::is_alphabetic) {
            out.push(d);
        }
    }
}

/// Writes the folded form of `word` into `out`: lowercase, every diacritic removed, `đ` → `d`.
pub fn folded_form(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    // Every mark is dropped, so their order does not matter: no whole-word NFD needed.
    for c in word.chars() {
        decompose_canonical(c, |d| {
            for l in d.to_lowercase() {
                if is_combining_mark(l) {
                    continue;
                }
                match l {
                    'đ' => out.push('d'),
                    // Letters outside ASCII with no decomposition still fold where a reader would.
                    'ø' => out.push('o'),
                    'æ' => out.push_str("ae"),
                    'ß' => out.push_str("ss"),
                    _ => out.push(l),
                }
            }
        });
    }
}

/// Returns the folded form of a whole text: diacritics removed, lowercase, spaces kept.
///
/// Used outside tokenisation, e.g. to compare names typed with or without accents.
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.nfd() {
        if is_combining_mark(c) && canonical_combining_class(c) != 0 {
            continue;
        }
        word.clear();
        word.push(c);
        let mut folded = String::new();
        folded_form(&word, &mut folded);
        out.push_str(&folded);
    }
    out
}

/// Whether `c` belongs inside a word: letters, digits and combining marks.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(w: &str) -> String {
        let mut s = String::new();
        exact_form(w, &mut s);
        s
    }

    fn folded(w: &str) -> String {
        let mut s = String::new();
        folded_form(w, &mut s);
        s
    }

    #[test]
    fn both_tone_conventions_give_one_exact_form() {
        assert_eq!(exact("hoà"), exact("hòa"));
        assert_eq!(exact("thuỷ"), exact("thủy"));
        assert_eq!(exact("Hòa"), "hoa2");
    }

    #[test]
    fn nfd_input_gives_the_nfc_exact_form() {
        let nfd: String = "nghiên cứu".nfd().collect();
        assert_eq!(exact(&nfd), exact("nghiên cứu"));
    }

    #[test]
    fn exact_form_keeps_vowel_quality_and_tone_apart() {
        assert_ne!(exact("cá"), exact("ca"));
        assert_ne!(exact("cá"), exact("cà"));
        assert_ne!(exact("tôm"), exact("tom"));
        assert_eq!(exact("Đường"), "đương2");
    }

    #[test]
    fn folded_form_drops_every_diacritic() {
        assert_eq!(folded("Đường"), "duong");
        assert_eq!(folded("nghệ"), "nghe");
        assert_eq!(folded("THỦY"), "thuy");
        assert_eq!(fold_text("Bình Định"), "binh dinh");
    }
}
