//! A shared store that loses its last changes — failed over to an asynchronous replica that
//! had not received them — hands their sequence numbers out again. A node's index that applied
//! the lost changes must notice that the log now says something else at its sequence, and
//! rebuild, rather than keep the lost listings and skip the new ones.

use serde_json::json;

use techmatch::domain::Listing;
use techmatch::indexer;
use techmatch::search::{run, SearchParams};
use techmatch::store::{PgStore, Store};
use techmatch_bench::pg::TempCluster;
use techmatch_index::SearchIndex;

use crate::common::postgres_installed;

fn listing(id: &str, title: &str) -> Listing {
    serde_json::from_value(json!({
        "id": id,
        "kind": "research_output",
        "title": title,
        "description": "kiểm thử chuyển đổi dự phòng",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

fn ids(index: &SearchIndex, q: &str) -> Vec<String> {
    let params = SearchParams {
        q: Some(q.into()),
        limit: Some("50".into()),
        ..SearchParams::default()
    };
    let mut found: Vec<String> = run(index, &params.to_request(false).unwrap())
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id.clone())
        .collect();
    found.sort();
    found
}

#[test]
fn an_index_rebuilds_when_the_log_it_followed_was_rewritten() {
    if !postgres_installed("an_index_rebuilds_when_the_log_it_followed_was_rewritten") {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let store = PgStore::open(&cluster.url()).unwrap();
    let index = SearchIndex::in_ram().unwrap();
    for (id, title) in [("a1", "máy sấy"), ("a2", "máy sấy"), ("a3", "máy sấy")] {
        store.put_all(&[listing(id, title)]).unwrap();
        // The node follows the log one change at a time, as a live node would.
        indexer::catch_up(&store, &index).unwrap();
    }
    assert_eq!(index.applied_seq(), 3);
    assert_eq!(ids(&index, "máy sấy"), ["a1", "a2", "a3"]);

    // What a replica promoted before it received changes 2 and 3 holds.
    let mut db = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
    db.batch_execute(
        "DELETE FROM changes WHERE seq > 1; \
         DELETE FROM listings WHERE id IN ('a2', 'a3'); \
         UPDATE change_counter SET seq = 1;",
    )
    .unwrap();
    // New writes take the lost numbers again: 2 and 3.
    store.put_all(&[listing("b2", "máy sấy")]).unwrap();
    store.put_all(&[listing("b3", "máy sấy")]).unwrap();
    assert_eq!(store.last_seq().unwrap(), 3);

    assert_eq!(indexer::catch_up(&store, &index).unwrap(), 3);
    assert_eq!(ids(&index, "máy sấy"), ["a1", "b2", "b3"]);
    // The rebuilt index follows on as before.
    store.put_all(&[listing("b4", "máy sấy")]).unwrap();
    indexer::catch_up(&store, &index).unwrap();
    assert_eq!(ids(&index, "máy sấy"), ["a1", "b2", "b3", "b4"]);
}
