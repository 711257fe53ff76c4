//! Matching's query weighting on small worlds built in memory.

use super::{MatchRequest, MatchWeights};
use crate::{IndexChange, IndexDoc, SearchIndex, TextGroup};

fn world(docs: &[(&str, &str)]) -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    let changes = docs.iter().map(|(id, body)| {
        IndexChange::Upsert(Box::new(IndexDoc {
            id: id.to_string(),
            text: vec![(TextGroup::Body, body.to_string())],
            stored: "{}".into(),
            ..IndexDoc::default()
        }))
    });
    index.apply(changes, 1).unwrap();
    index
}

fn request(text: &str, weights: MatchWeights) -> MatchRequest {
    MatchRequest {
        text: text.into(),
        limit: 50,
        weights,
        today: "2026-01-01".into(),
        ..MatchRequest::default()
    }
}

fn matches(index: &SearchIndex, text: &str, weights: MatchWeights) -> Vec<(String, Vec<String>)> {
    let result = index.find_matches(&request(text, weights)).unwrap();
    result
        .matches
        .into_iter()
        .map(|m| (m.id, m.matched_terms))
        .collect()
}

fn ids(found: &[(String, Vec<String>)]) -> Vec<&str> {
    found.iter().map(|(id, _)| id.as_str()).collect()
}

const UNRELATED: [(&str, &str); 5] = [
    ("u1", "solar panel efficiency in hot climates"),
    ("u2", "rice drying machines for small farms"),
    ("u3", "water filters for shrimp ponds"),
    ("u4", "steel bridge corrosion monitoring"),
    ("u5", "mobile app for crop prices"),
];

#[test]
fn a_long_texts_rare_word_outweighs_its_many_common_ones() {
    let common = "results people health benefits daily intake levels";
    let mut docs = vec![
        ("common", common),
        ("rare", "turmeric grown on highland farms every season"),
    ];
    // The common words are in most listings.
    let fillers: Vec<(String, String)> = (0..11)
        .map(|i| (format!("f{i}"), format!("{common} filler{i}")))
        .collect();
    docs.extend(
        fillers
            .iter()
            .map(|(id, text)| (id.as_str(), text.as_str())),
    );
    docs.extend(UNRELATED);
    let index = world(&docs);
    let need = format!("{common} turmeric");
    let plain = MatchWeights {
        idf_power: 0.0,
        feedback_docs: 0,
        ..MatchWeights::default()
    };
    let weighed = MatchWeights {
        feedback_docs: 0,
        ..MatchWeights::default()
    };
    let rank = |w| {
        let found = matches(&index, &need, w);
        let at = |id: &str| ids(&found).iter().position(|x| *x == id).unwrap();
        (at("common"), at("rare"))
    };
    // Seven common words together outscore one rare word when each counts its idf once…
    let (common_at, rare_at) = rank(plain);
    assert!(common_at < rare_at, "{common_at} {rare_at}");
    // …but not once the query weighs its words by their rarity too.
    let (common_at, rare_at) = rank(weighed);
    assert!(rare_at < common_at, "{common_at} {rare_at}");
}

#[test]
fn feedback_finds_listings_in_the_words_of_the_best_candidates() {
    let mut docs = vec![
        (
            "a",
            "dietary fiber fermentation in the colon produces butyrate",
        ),
        ("b", "gut bacteria convert resistant starch into butyrate"),
        ("c", "colon cancer screening guidelines for adults"),
    ];
    docs.extend(UNRELATED);
    let index = world(&docs);
    let need = "dietary fiber keeps the colon healthy through fermentation";
    let without = MatchWeights {
        feedback_docs: 0,
        ..MatchWeights::default()
    };
    assert!(!ids(&matches(&index, need, without)).contains(&"b"));
    let found = matches(&index, need, MatchWeights::default());
    let b = found
        .iter()
        .find(|(id, _)| id == "b")
        .expect("b through feedback");
    // Words added by feedback rank, but are not shown as words the two share.
    assert!(b.1.is_empty(), "{:?}", b.1);
    assert_eq!(ids(&found)[0], "a");
}

#[test]
fn feedback_leaves_vietnamese_texts_alone() {
    let mut docs = vec![
        ("a", "bảo quản vải thiều tươi bằng màng chitosan"),
        ("b", "sản xuất màng chitosan từ vỏ tôm"),
    ];
    docs.extend(UNRELATED);
    let index = world(&docs);
    let found = matches(
        &index,
        "cần công nghệ bảo quản vải thiều tươi lâu",
        MatchWeights::default(),
    );
    assert_eq!(ids(&found), vec!["a"]);
}

/// The text component of `id`'s match for `text`.
fn text_component(index: &SearchIndex, text: &str, id: &str, weights: MatchWeights) -> f32 {
    let result = index.find_matches(&request(text, weights)).unwrap();
    let m = result.matches.iter().find(|m| m.id == id).expect("matched");
    m.components[0].value.expect("text")
}

#[test]
fn an_unrelated_listing_sharing_a_generic_word_leaves_an_english_needs_percentages_alone() {
    let need = "dietary fiber keeps the colon healthy through fermentation in the gut";
    let mut docs = vec![
        (
            "a",
            "dietary fiber fermentation in the colon produces butyrate",
        ),
        ("b", "gut bacteria convert resistant starch into butyrate"),
    ];
    // Enough listings, some of them saying the generic word, that one more listing saying
    // it barely moves any word's idf.
    let fillers: Vec<(String, String)> = (0..60)
        .map(|i| {
            let generic = if i % 6 == 0 { "healthy" } else { "" };
            let text = format!("steel bridge {i} corrosion report {generic}");
            (format!("f{i}"), text)
        })
        .collect();
    docs.extend(fillers.iter().map(|(id, t)| (id.as_str(), t.as_str())));
    let before = world(&docs);
    // One word of the need and nothing of what it is about: in an index this small it is
    // among the five candidates feedback reads, where its small share of their scores keeps
    // its words from weighing in.
    docs.push((
        "z",
        "healthy office chairs with lumbar support and mesh backs",
    ));
    let after = world(&docs);
    let weights = MatchWeights::default();
    assert!(weights.feedback_docs > 0);
    for id in ["a", "b"] {
        let (was, is) = (
            text_component(&before, need, id, weights),
            text_component(&after, need, id, weights),
        );
        // Within a percentage point: one more listing moves every idf a little.
        assert!((was - is).abs() < 0.01, "{id}: {was} → {is}");
    }
}
