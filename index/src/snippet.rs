//! Snippets: the part of a description where the query's words cluster, with those words marked.

use std::collections::HashMap;

use crate::analysis::{folded_tokens_stemmed_if, may_begin_stem, stem_start};

/// Returns up to `max_chars` of `text` around the densest cluster of `terms` (folded, stemmed
/// forms), HTML-escaped, with matched words wrapped in `<mark>`; the start of the text when
/// nothing matches.
pub fn snippet(text: &str, terms: &[String], max_chars: usize) -> String {
    // A query has a few terms: comparing with each costs less than hashing every word.
    let starts: Vec<&str> = terms.iter().map(|t| stem_start(t)).collect();
    let mut matches = Vec::new();
    folded_tokens_stemmed_if(
        text,
        |word| starts.iter().any(|s| may_begin_stem(word, s)),
        |t| {
            if terms.contains(&t.text) {
                matches.push((t.offset_from, t.offset_to, t.text.clone()));
            }
        },
    );
    let budget = max_chars * 4; // bytes, roughly, for Vietnamese text
                                // The window of `budget` bytes holding the most distinct terms, found by sliding its end
                                // over the matches: linear however often the words repeat.
    let mut best = (0usize, 0usize); // (distinct terms in window, index of first match)
    let mut in_window: HashMap<&str, usize> = HashMap::new();
    let mut end = 0;
    for i in 0..matches.len() {
        let start = matches[i].0;
        while end < matches.len() && matches[end].1 - start <= budget {
            *in_window.entry(matches[end].2.as_str()).or_default() += 1;
            end += 1;
        }
        if in_window.len() > best.0 {
            best = (in_window.len(), i);
        }
        if end > i {
            let word = matches[i].2.as_str();
            if let Some(n) = in_window.get_mut(word) {
                *n -= 1;
                if *n == 0 {
                    in_window.remove(word);
                }
            }
        } else {
            end = i + 1;
        }
    }
    // Start a little before the first match, at a word boundary, so the sentence reads.
    let first = matches.get(best.1).map_or(0, |m| m.0);
    let start = match text[..first].char_indices().rev().nth(40) {
        None => 0,
        Some((lead, _)) => text[lead..first]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(lead, |(i, c)| lead + i + c.len_utf8()),
    };
    let end = text[start..]
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| start + i);
    // Don't cut a word in half at the end either.
    let end = if end < text.len() {
        text[start..end]
            .rfind(char::is_whitespace)
            .map_or(end, |i| start + i)
    } else {
        end
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for (from, to, _) in matches.iter().filter(|m| m.0 >= start && m.1 <= end) {
        escape_into(&text[at..*from], &mut out);
        out.push_str("<mark>");
        escape_into(&text[*from..*to], &mut out);
        out.push_str("</mark>");
        at = *to;
    }
    escape_into(&text[at..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// `text` safe inside HTML, escaped as snippets are.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{tokens, Chain};

    #[test]
    fn marks_unaccented_query_words_in_accented_text() {
        let s = snippet(
            "Quy trình nuôi tôm thẻ chân trắng",
            &tokens(Chain::Folded, "nuoi tom"),
            100,
        );
        assert_eq!(
            s,
            "Quy trình <mark>nuôi</mark> <mark>tôm</mark> thẻ chân trắng"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_and_terms_give_a_snippet_without_panicking(
            text in "[a-zA-Z0-9 \u{a0}\u{2003}áàảãạăâđêôơư,.<>&\u{300}-\u{323}]{0,400}",
            query in "[a-z áôđ]{0,20}",
            max in 1usize..300,
        ) {
            let s = snippet(&text, &tokens(Chain::Folded, &query), max);
            proptest::prop_assert!(!s.contains('<') || s.contains("<mark>"));
        }
    }

    #[test]
    fn escapes_html() {
        let s = snippet("<script>x</script> tôm", &tokens(Chain::Folded, "tom"), 100);
        assert!(s.starts_with("&lt;script&gt;"), "{s}");
        assert!(s.contains("<mark>tôm</mark>"));
    }

    #[test]
    fn long_text_is_cut_around_the_matches() {
        let text = format!(
            "{} nuôi tôm {}",
            "mở đầu ".repeat(100),
            "kết thúc ".repeat(100)
        );
        let s = snippet(&text, &tokens(Chain::Folded, "nuôi tôm"), 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>nuôi</mark>"));
        let visible = s.replace("<mark>", "").replace("</mark>", "");
        assert!(visible.chars().count() <= 82, "{visible}");
    }
}
