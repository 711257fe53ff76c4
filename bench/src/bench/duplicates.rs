//! `techmatch bench-duplicates`: precision and recall of near-duplicate detection on a labelled
//! set built from the demo data.
//!
//! From a fixed seed, listings of the demo get an altered copy each — re-typed (typing slips in
//! about one word in ten, spacing and capitals changed), diacritics removed, shortened (the
//! title and the first part of the description), sentences added (from another listing of the
//! same field), or diacritics removed and shortened — and every copy joins the demo's 4,290
//! listings. Hard negatives: for each altered listing, the other demo listing sharing the most
//! rare words with it (a listing on the same topic, often from the same source), unless the two
//! have the same title or the same first sentence — the demo's own duplicates ([`SameItem`]),
//! which count as one item. Reported:
//! precision and recall on the labelled pairs (copies and hard negatives), recall per kind of
//! alteration, and over the whole corpus every pair found that is not a listing and its copy.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use techmatch_index::analysis::{fold_text, folded_form, is_word_char};
use techmatch_index::duplicates::{DuplicateIndex, Signature};

use super::Rng;
use techmatch::domain::Listing;

/// The ways a copy is altered.
const KINDS: [&str; 5] = [
    "retyped",
    "no_diacritics",
    "shortened",
    "sentences_added",
    "no_diacritics_shortened",
];

/// The figures printed.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Listings in the corpus (demo and copies).
    pub corpus: usize,
    /// Similarity from which a pair is reported.
    pub threshold: f32,
    /// Copies (positive pairs).
    pub positives: usize,
    /// Hard negative pairs (different listings on the same topic).
    pub hard_negatives: usize,
    /// Precision on the labelled pairs.
    pub precision: f64,
    /// Recall on the labelled pairs.
    pub recall: f64,
    /// Recall per kind of alteration.
    pub recall_by_kind: HashMap<String, f64>,
    /// Hard negatives reported as duplicates.
    pub hard_negatives_found: usize,
    /// Those pairs, with their similarity.
    pub hard_negatives_found_pairs: Vec<(String, String, f32)>,
    /// Every pair found over the whole corpus.
    pub pairs_found: usize,
    /// Of those, pairs that are not a listing and its copy (or two copies of one listing).
    pub other_pairs_found: usize,
    /// Precision over every pair found in the corpus.
    pub corpus_precision: f64,
    /// A few of the other pairs, with their similarity, to look at.
    pub other_pairs_sample: Vec<(String, String, f32)>,
    /// Signatures computed per second (one core).
    pub signatures_per_s: f64,
    /// Mean time to find one listing's near-duplicates, in microseconds.
    pub query_mean_us: f64,
}

/// Builds the labelled set from `listings` and measures the detector at `threshold`.
pub fn run(listings: &[Listing], copies: usize, threshold: f32, seed: u64) -> Report {
    let mut rng = Rng::new(seed);
    let texts: Vec<String> = listings
        .iter()
        .map(techmatch::duplicates::text_of)
        .collect();
    let ids: Vec<&str> = listings.iter().map(|l| l.id.as_str()).collect();
    let chosen = choose(&mut rng, listings.len(), copies);
    let same = SameItem::new(listings);

    let mut corpus: Vec<(String, String)> = ids
        .iter()
        .zip(&texts)
        .map(|(id, t)| (id.to_string(), t.clone()))
        .collect();
    // copy id → (original, kind)
    let mut origin: HashMap<String, (usize, &str)> = HashMap::new();
    for (n, &i) in chosen.iter().enumerate() {
        let kind = KINDS[n % KINDS.len()];
        let same_field: Vec<usize> = (0..listings.len())
            .filter(|&j| j != i && listings[j].field == listings[i].field)
            .collect();
        let donor = if same_field.is_empty() {
            (i + 1) % listings.len()
        } else {
            *rng.pick(&same_field)
        };
        let text = alter(&mut rng, &listings[i], &texts[donor], kind);
        let id = format!("copy-{n}-{kind}");
        origin.insert(id.clone(), (i, kind));
        corpus.push((id, text));
    }

    let started = std::time::Instant::now();
    let signatures: Vec<Option<Signature>> = corpus.iter().map(|(_, t)| Signature::of(t)).collect();
    let signatures_per_s = corpus.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let mut index = DuplicateIndex::new();
    for ((id, _), s) in corpus.iter().zip(&signatures) {
        if let Some(s) = s {
            index.insert(id, s.clone());
        }
    }

    let started = std::time::Instant::now();
    let mut found: HashMap<(String, String), f32> = HashMap::new();
    for (id, _) in &corpus {
        for (other, similarity) in index.duplicates_of(id, threshold) {
            let pair = if *id < other {
                (id.clone(), other)
            } else {
                (other, id.clone())
            };
            found.insert(pair, similarity);
        }
    }
    let query_mean_us = started.elapsed().as_secs_f64() * 1e6 / corpus.len() as f64;
    let is_found = |a: &str, b: &str| {
        let pair = if a < b { (a, b) } else { (b, a) };
        found.contains_key(&(pair.0.to_string(), pair.1.to_string()))
    };

    // The group a corpus entry belongs to: its original's item in the source data.
    let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let group = |id: &str| -> Option<usize> {
        origin
            .get(id)
            .map(|(i, _)| *i)
            .or_else(|| position.get(id).copied())
            .map(|i| same.item(i))
    };

    let mut by_kind: HashMap<String, (usize, usize)> = HashMap::new();
    let mut true_positives = 0;
    for (copy, (i, kind)) in &origin {
        let hit = is_found(ids[*i], copy);
        true_positives += usize::from(hit);
        let entry = by_kind.entry((*kind).to_string()).or_default();
        entry.0 += usize::from(hit);
        entry.1 += 1;
    }
    let rare = RareWords::new(&texts);
    let mut hard_negatives = HashSet::new();
    for &i in &chosen {
        if let Some(j) = rare.nearest_other(i, |j| same.item(j) != same.item(i)) {
            hard_negatives.insert((i.min(j), i.max(j)));
        }
    }
    let mut hard_negatives_found_pairs: Vec<(String, String, f32)> = hard_negatives
        .iter()
        .filter(|(a, b)| is_found(ids[*a], ids[*b]))
        .map(|(a, b)| {
            let s = signatures[*a]
                .as_ref()
                .zip(signatures[*b].as_ref())
                .map_or(0.0, |(x, y)| x.similarity(y));
            (ids[*a].to_string(), ids[*b].to_string(), s)
        })
        .collect();
    hard_negatives_found_pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then_with(|| x.0.cmp(&y.0)));
    let hard_negatives_found = hard_negatives_found_pairs.len();
    let reported = true_positives + hard_negatives_found;
    let other: Vec<(String, String, f32)> = {
        let mut v: Vec<_> = found
            .iter()
            .filter(|((a, b), _)| group(a) != group(b))
            .map(|((a, b), s)| (a.clone(), b.clone(), *s))
            .collect();
        v.sort_by(|x, y| y.2.total_cmp(&x.2).then_with(|| x.0.cmp(&y.0)));
        v
    };
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Report {
        corpus: corpus.len(),
        threshold,
        positives: origin.len(),
        hard_negatives: hard_negatives.len(),
        precision: ratio(true_positives, reported),
        recall: ratio(true_positives, origin.len()),
        recall_by_kind: by_kind
            .into_iter()
            .map(|(k, (hit, all))| (k, ratio(hit, all)))
            .collect(),
        hard_negatives_found,
        hard_negatives_found_pairs,
        pairs_found: found.len(),
        other_pairs_found: other.len(),
        corpus_precision: ratio(found.len() - other.len(), found.len()),
        other_pairs_sample: other.into_iter().take(10).collect(),
        signatures_per_s,
        query_mean_us,
    }
}

/// `n` distinct indexes below `len`, in drawing order.
fn choose(rng: &mut Rng, len: usize, n: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..len).collect();
    for i in 0..n.min(len) {
        let j = i + rng.below(len - i);
        all.swap(i, j);
    }
    all.truncate(n.min(len));
    all
}

/// The description's sentences.
fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// An altered copy of `listing`'s text.
fn alter(rng: &mut Rng, listing: &Listing, donor: &str, kind: &str) -> String {
    match kind {
        "retyped" => retype(rng, &techmatch::duplicates::text_of(listing)),
        "no_diacritics" => strip_diacritics(&techmatch::duplicates::text_of(listing)),
        "shortened" => shorten(listing),
        "sentences_added" => {
            let extra: Vec<&str> = sentences(donor).into_iter().take(2).collect();
            if rng.below(2) == 0 {
                format!(
                    "{}\n{} {}",
                    listing.title,
                    listing.description,
                    extra.join(" ")
                )
            } else {
                format!(
                    "{}\n{} {}",
                    listing.title,
                    extra.join(" "),
                    listing.description
                )
            }
        }
        _ => strip_diacritics(&shorten(listing)),
    }
}

/// The title and the first half of the description's sentences (at least one).
fn shorten(listing: &Listing) -> String {
    let s = sentences(&listing.description);
    let keep = s.len().div_ceil(2).max(1);
    format!("{}\n{}", listing.title, s[..keep.min(s.len())].join(" "))
}

/// Diacritics removed, `đ` → `d`, capitals kept where the letter has no mark.
fn strip_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut folded = String::new();
    for c in text.chars() {
        let mut buf = [0u8; 4];
        folded_form(c.encode_utf8(&mut buf), &mut folded);
        if c.is_uppercase() {
            out.push_str(&folded.to_uppercase());
        } else {
            out.push_str(&folded);
        }
    }
    out
}

/// Typing slips in about one word in ten (a letter dropped, doubled or swapped with the next),
/// double spaces, and now and then a word's capital changed.
fn retype(rng: &mut Rng, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (n, word) in text.split(' ').enumerate() {
        if n > 0 {
            out.push_str(if rng.below(20) == 0 { "  " } else { " " });
        }
        let chars: Vec<char> = word.chars().collect();
        let letters = chars.iter().filter(|c| is_word_char(**c)).count();
        if letters >= 3 && chars.len() >= 3 && rng.below(10) == 0 {
            // Inside the word: 1 ..= len − 2.
            let at = 1 + rng.below(chars.len() - 2);
            let mut c = chars.clone();
            match rng.below(3) {
                0 => {
                    c.remove(at);
                }
                1 => c.insert(at, chars[at]),
                _ => c.swap(at - 1, at),
            }
            out.extend(c);
        } else if rng.below(25) == 0 {
            let mut c = chars.into_iter();
            if let Some(first) = c.next() {
                out.extend(first.to_uppercase());
                out.extend(c);
            }
        } else {
            out.push_str(word);
        }
    }
    out
}

/// Rare words per listing, to find the other listing on the same topic.
struct RareWords {
    words: Vec<HashSet<String>>,
    postings: HashMap<String, Vec<usize>>,
}

impl RareWords {
    fn new(texts: &[String]) -> Self {
        let words: Vec<HashSet<String>> = texts
            .iter()
            .map(|t| {
                fold_text(t)
                    .split(|c: char| !is_word_char(c))
                    .filter(|w| w.len() > 1)
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        let mut postings: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, set) in words.iter().enumerate() {
            for w in set {
                postings.entry(w.clone()).or_default().push(i);
            }
        }
        RareWords { words, postings }
    }

    /// The other listing sharing the most idf-weighted words with listing `i`, among those
    /// `allowed`.
    fn nearest_other(&self, i: usize, allowed: impl Fn(usize) -> bool) -> Option<usize> {
        let n = self.words.len() as f64;
        let mut scores: HashMap<usize, f64> = HashMap::new();
        for w in &self.words[i] {
            let Some(docs) = self.postings.get(w) else {
                continue;
            };
            // Very common words say nothing of the topic and would make this quadratic.
            if docs.len() > 200 {
                continue;
            }
            let idf = (n / docs.len() as f64).ln();
            for &d in docs {
                if d != i && allowed(d) {
                    *scores.entry(d).or_default() += idf;
                }
            }
        }
        scores
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(d, _)| d)
    }
}

/// The demo data's own duplicates: listings with the same title or the same first sentence
/// (NASA lists one spinoff under two centres, one software under two versions) are one item,
/// never taken as a hard negative, and a pair of them found is not counted against precision.
struct SameItem {
    parent: Vec<usize>,
}

impl SameItem {
    fn new(listings: &[Listing]) -> Self {
        let mut same = SameItem {
            parent: (0..listings.len()).collect(),
        };
        let mut first_of: HashMap<String, usize> = HashMap::new();
        for (i, l) in listings.iter().enumerate() {
            let title = format!("t:{}", fold_text(l.title.trim()));
            let first = sentences(&l.description)
                .first()
                .map(|s| format!("s:{}", fold_text(s)));
            for key in std::iter::once(title).chain(first) {
                match first_of.get(&key) {
                    Some(&j) => same.join(i, j),
                    None => {
                        first_of.insert(key, i);
                    }
                }
            }
        }
        same
    }

    fn item(&self, mut i: usize) -> usize {
        while self.parent[i] != i {
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.item(a), self.item(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}
