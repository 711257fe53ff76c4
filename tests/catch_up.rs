//! The index is derived from the store: it is rebuilt or caught up whenever it lags.

use serde_json::json;

use crate::common::{hit_ids, line, stderr, stdout, Workspace};

fn import(ws: &Workspace, name: &str, id: &str, title: &str) {
    let file = ws.file(
        name,
        &line(json!({"id": id, "kind": "research_output", "title": title, "description": "Mô tả"})),
    );
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn search(ws: &Workspace, q: &str) -> Vec<String> {
    hit_ids(&ws.cli_json(&["search", "--json", q]))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_deleted_index_is_rebuilt_from_the_store() {
    let ws = Workspace::new();
    import(&ws, "a.jsonl", "a", "Máy gặt đập liên hợp");
    std::fs::remove_dir_all(ws.data().join("index")).unwrap();
    assert_eq!(search(&ws, "gat dap"), vec!["a"]);
}

#[test]
fn an_index_left_behind_catches_up() {
    let ws = Workspace::new();
    import(&ws, "a.jsonl", "a", "Máy gặt đập liên hợp");
    let saved = ws.dir.path().join("saved-index");
    copy_dir(&ws.data().join("index"), &saved);
    import(&ws, "b.jsonl", "b", "Máy cấy lúa");
    // Put the old index back, as after a crash between the store write and the index commit.
    std::fs::remove_dir_all(ws.data().join("index")).unwrap();
    copy_dir(&saved, &ws.data().join("index"));
    assert_eq!(search(&ws, "cay lua"), vec!["b"]);
    assert_eq!(search(&ws, "gat dap"), vec!["a"]);
}

#[test]
fn an_index_ahead_of_its_store_is_rebuilt() {
    let ws = Workspace::new();
    import(&ws, "a.jsonl", "a", "Máy gặt đập liên hợp");
    import(&ws, "b.jsonl", "b", "Máy cấy lúa");
    // Another data dir whose store has fewer changes gets this newer index.
    let other = Workspace::new();
    import(&other, "a.jsonl", "a", "Máy gặt đập liên hợp");
    std::fs::remove_dir_all(other.data().join("index")).unwrap();
    copy_dir(&ws.data().join("index"), &other.data().join("index"));
    assert_eq!(search(&other, "cay lua"), Vec::<String>::new());
    assert_eq!(search(&other, "gat dap"), vec!["a"]);
}

#[test]
fn reindex_rebuilds_the_same_answers() {
    let ws = Workspace::new();
    import(&ws, "a.jsonl", "a", "Máy gặt đập liên hợp");
    import(&ws, "b.jsonl", "b", "Máy cấy lúa");
    let before = ws.cli_json(&["search", "--json", "máy"]);
    let out = ws.cli(&["reindex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = ws.cli_json(&["search", "--json", "máy"]);
    assert_eq!(hit_ids(&before), hit_ids(&after));
    assert_eq!(after["total"], 2);
}

#[test]
fn compact_leaves_a_store_without_free_segments_as_it_is() {
    let ws = Workspace::new();
    import(&ws, "a.jsonl", "a", "Máy gặt đập liên hợp");
    let out = ws.cli(&["compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("left as it is"), "{}", stdout(&out));
    assert!(!ws.data().join("store.compact").exists());
    assert_eq!(search(&ws, "gat dap"), vec!["a"]);
}

/// A research output as the store keeps it.
fn stored(id: &str, title: &str) -> techmatch::domain::Listing {
    let body = json!({"id": id, "kind": "research_output", "title": title, "description": "Mô tả"});
    let raw = techmatch::domain::RawRecord::from_json(body.as_object().unwrap().clone());
    techmatch::domain::parse_listing(&raw)
        .unwrap()
        .without_timestamps()
        .into_listing(None, chrono::Utc::now())
}

#[tokio::test]
async fn the_server_prunes_the_change_log_below_what_its_index_applied() {
    let app = crate::common::TestApp::new().await;
    // No changes kept for readers of the change feed (`serve --feed-retention 0`).
    app.state
        .feed_retention
        .store(0, std::sync::atomic::Ordering::Relaxed);
    let mut last = 0;
    for i in 0..20 {
        last = app
            .post_listing(json!({"id": format!("nd-{i}"), "kind": "need", "title": "Máy sấy", "description": "Sấy lạnh"}))
            .await;
    }
    app.search_after(last, "?q=may+say").await;
    let store = app.state.store.clone();
    let started = std::time::Instant::now();
    while store.log_floor().unwrap() < last - 1 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the log was not pruned: floor {} of {last}",
            store.log_floor().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The newest change stays, so the sequence survives a restart.
    let left = store.changes_since(0, 1000).unwrap();
    assert_eq!(left.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![last]);
    assert_eq!(store.last_seq().unwrap(), last);
    // Writes go on numbering from there.
    let next = app
        .post_listing(json!({"id": "nd-after", "kind": "need", "title": "Máy sấy", "description": "Sấy lạnh"}))
        .await;
    assert_eq!(next, last + 1);
    let found = app.search_after(next, "?q=may+say&limit=50").await;
    assert_eq!(found["total"], 21);
}

#[test]
fn an_index_left_behind_a_pruned_log_is_rebuilt() {
    use techmatch::store::Store;
    let ws = Workspace::new();
    let data = ws.data_dir();
    let store = data.open_store().unwrap();
    let index = data.open_index().unwrap();
    for i in 0..5 {
        store
            .put_all(&[stored(&format!("a{i}"), "Máy gặt đập")])
            .unwrap();
    }
    assert_eq!(techmatch::indexer::catch_up(&store, &index).unwrap(), 5);
    // While the index is stopped at 5: a delete and new listings, then a prune past it.
    store.delete("a0").unwrap();
    for i in 0..5 {
        store
            .put_all(&[stored(&format!("b{i}"), "Máy cấy lúa")])
            .unwrap();
    }
    let last = store.last_seq().unwrap();
    assert!(store.prune_log(last).unwrap() > 0);
    assert_eq!(store.log_floor().unwrap(), last - 1);
    assert_eq!(techmatch::indexer::catch_up(&store, &index).unwrap(), last);
    assert_eq!(index.num_docs(), 9, "a0 is gone and b0..b4 are in");
    // The prune leaves the newest change, and reopening keeps the sequence.
    drop((store, index));
    let store = data.open_store().unwrap();
    assert_eq!(store.last_seq().unwrap(), last);
}
