//! The index is derived from the store: it is rebuilt or caught up whenever it lags.

use serde_json::json;

use crate::common::{hit_ids, line, stderr, Workspace};

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
