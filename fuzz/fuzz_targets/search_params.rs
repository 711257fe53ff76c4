//! Any text as search parameters and query, run against a small index: a clear error or an
//! answer, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use techmatch::search::{run, SearchParams};
use techmatch_index::{IndexChange, IndexDoc, SearchIndex, TextGroup};

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

fuzz_target!(|data: &[u8]| {
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
});
