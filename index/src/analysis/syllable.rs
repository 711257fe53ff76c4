//! Whether a plain (folded) word could be a Vietnamese syllable.
//!
//! Vietnamese syllables have a small fixed shape — optional onset, one to three vowels, optional
//! coda from a short list — so most English words ("fried", "cancer", "sclerosis") cannot be
//! one. Ranking uses this to tell Vietnamese compounds typed without diacritics, which
//! bigrams help, from English phrases, where they help less.

const ONSETS: [&str; 27] = [
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
    "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];
const CODAS: [&str; 10] = ["ng", "nh", "ch", "c", "m", "n", "p", "t", "", ""];

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Whether `word` (lowercase, without diacritics) has the shape of a Vietnamese syllable.
pub fn could_be_vietnamese(word: &str) -> bool {
    let w = word.as_bytes();
    if w.is_empty() || w.len() > 7 || !w.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    ONSETS.iter().any(|onset| {
        let Some(rest) = w.strip_prefix(onset.as_bytes()) else {
            return false;
        };
        let vowels = rest.iter().take_while(|c| is_vowel(**c)).count();
        (1..=3).contains(&vowels) && CODAS.iter().any(|coda| &rest[vowels..] == coda.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_syllables_pass() {
        for w in [
            "nghieng", "chuyen", "giao", "cong", "nghe", "nuoi", "tom", "khuya", "quoc", "a",
            "uong", "thanh", "truong", "xoai",
        ] {
            assert!(could_be_vietnamese(w), "{w}");
        }
    }

    #[test]
    fn most_english_words_fail() {
        for w in [
            "fried",
            "foods",
            "cancer",
            "sclerosis",
            "multiple",
            "vaccines",
            "with",
            "how",
        ] {
            assert!(!could_be_vietnamese(w), "{w}");
        }
    }
}
