//! What each fuzz target does with its input, shared by the cargo-fuzz targets (long runs) and
//! the test suite's replay of the seed inputs in `fuzz/seeds` (a short run on every `cargo test`).

use std::path::Path;
use std::sync::OnceLock;

use techmatch::domain::{parse_listing, Provinces};
use techmatch::import::{csv_file, jsonl, xlsx};
use techmatch::search::{run, SearchParams};
use techmatch_index::analysis::{tokens, Chain};
use techmatch_index::{snippet, IndexChange, IndexDoc, SearchIndex, TextGroup};

/// Any bytes as a JSONL import file: records or a clear error, never a panic.
pub fn import_jsonl(data: &[u8]) {
    if let Ok((records, _)) = jsonl::read_bytes(Path::new("fuzz.jsonl"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
}

/// Any bytes as a CSV import file.
pub fn import_csv(data: &[u8]) {
    if let Ok((records, _)) = csv_file::read_bytes(Path::new("fuzz.csv"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
}

/// Any bytes as an XLSX import file.
pub fn import_xlsx(data: &[u8]) {
    if let Ok((records, _)) = xlsx::read_bytes(Path::new("fuzz.xlsx"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
}

/// Any text as a province name, through the analysis chains and the snippet maker.
pub fn province_names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Provinces::get().resolve(&text);
    for chain in [Chain::Exact, Chain::Folded, Chain::Bigram] {
        let _ = tokens(chain, &text);
    }
    let _ = snippet(&text, &tokens(Chain::Folded, "nuoi tom"), 80);
}

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let index = SearchIndex::in_ram().expect("index in memory");
        let docs = [
            "Công nghệ nuôi tôm tuần hoàn",
            "Máy sấy nông sản",
            "Vaccine delivery drone",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            IndexChange::Upsert(Box::new(IndexDoc {
                id: format!("d{i}"),
                text: vec![
                    (TextGroup::Title, t.to_string()),
                    (TextGroup::Body, t.repeat(3)),
                ],
                stored: "{}".into(),
                ..IndexDoc::default()
            }))
        });
        index.apply(docs, 1).expect("index documents");
        index
    })
}

/// Any text as search parameters (split at U+0001) run against a small index.
pub fn search_params(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}').map(|s| Some(s.to_string()));
    let params = SearchParams {
        q: parts.next().flatten(),
        kind: parts.next().flatten(),
        province: parts.next().flatten(),
        field: parts.next().flatten(),
        trl_min: parts.next().flatten(),
        transfer_mode: parts.next().flatten(),
        status: parts.next().flatten(),
        limit: parts.next().flatten(),
        offset: parts.next().flatten(),
    };
    if let Ok(request) = params.to_request(true) {
        let _ = run(index(), &request);
    }
}
