//! Ranking properties, each on a small world built in memory:
//!
//! 1. With the accented and unaccented spelling both present, the listing spelled as the query
//!    is typed ranks first.
//! 2. A title match ranks above a description-only match.
//! 3. A two-syllable compound in the query prefers listings with the compound over listings
//!    with both syllables apart.
//! 4. An abbreviation finds listings that spell it out, through the synonym table.
//! 5. A misspelled long word still finds its listing; a correct query is not widened.

#![allow(clippy::unwrap_used)]

use techmatch_index::analysis::Synonyms;
use techmatch_index::{IndexChange, IndexDoc, SearchIndex, SearchRequest, TextGroup};

fn world(docs: &[(&str, &str, &str)]) -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    let changes = docs.iter().map(|(id, title, body)| {
        IndexChange::Upsert(Box::new(IndexDoc {
            id: id.to_string(),
            text: vec![
                (TextGroup::Title, title.to_string()),
                (TextGroup::Body, body.to_string()),
            ],
            stored: "{}".into(),
            ..IndexDoc::default()
        }))
    });
    index.apply(changes, 1).unwrap();
    index
}

fn ids(index: &SearchIndex, text: &str, expansions: Vec<String>) -> Vec<String> {
    let request = SearchRequest {
        text: text.into(),
        limit: 10,
        expansions,
        ..SearchRequest::default()
    };
    index
        .search(&request)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn the_spelling_typed_ranks_first() {
    let index = world(&[
        ("fish", "Nuôi cá lồng bè", ""),
        ("shift", "Phần mềm chia ca trực", ""),
    ]);
    assert_eq!(ids(&index, "nuôi cá", vec![])[0], "fish");
    assert_eq!(ids(&index, "chia ca", vec![])[0], "shift");
    assert_eq!(
        ids(&index, "ca", vec![]).len(),
        2,
        "a plain query finds both spellings"
    );
}

#[test]
fn title_matches_rank_above_description_matches() {
    let index = world(&[
        ("body", "Thiết bị công nghiệp", "Dùng cho máy sấy nông sản"),
        ("title", "Máy sấy nông sản", "Thiết bị công nghiệp"),
    ]);
    assert_eq!(ids(&index, "máy sấy", vec![]), vec!["title", "body"]);
}

#[test]
fn compounds_beat_scattered_syllables() {
    let index = world(&[
        ("apart", "Giao hàng nhanh", "Công ty nghệ thuật chuyển đổi"),
        ("compound", "Chuyển giao công nghệ", "Hợp đồng mẫu"),
    ]);
    assert_eq!(ids(&index, "chuyen giao cong nghe", vec![])[0], "compound");
}

#[test]
fn an_abbreviation_finds_its_expansion() {
    let synonyms = Synonyms::parse("KH&CN | khoa học và công nghệ\nAI | trí tuệ nhân tạo\n");
    let index = world(&[
        ("sokhcn", "Sở khoa học và công nghệ Cần Thơ", ""),
        ("ai", "Ứng dụng trí tuệ nhân tạo trong nông nghiệp", ""),
        ("other", "Máy gặt đập", ""),
    ]);
    assert_eq!(
        ids(&index, "KH&CN", synonyms.expand("KH&CN")),
        vec!["sokhcn"]
    );
    assert_eq!(
        ids(&index, "AI nông nghiệp", synonyms.expand("AI nông nghiệp"))[0],
        "ai"
    );
}

#[test]
fn a_typo_in_a_long_word_still_finds_the_listing() {
    let index = world(&[
        ("past", "Pasteurization of fruit juice", ""),
        ("other", "Cold storage", ""),
    ]);
    assert_eq!(ids(&index, "pasteurisation juice", vec![])[0], "past");
    assert_eq!(ids(&index, "pasteurisatoin", vec![]), vec!["past"]);
    assert!(
        ids(&index, "storage", vec![]).len() == 1,
        "a known word is not widened"
    );
}
