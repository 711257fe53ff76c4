//! Backup while serving and restore: a round trip keeps exactly what was acknowledged before
//! the backup, and the index is rebuilt.

use serde_json::json;

use crate::cli::Server;
use crate::common::{hit_ids, line, stderr, stdout, Workspace};

fn listing(id: &str, title: &str) -> serde_json::Value {
    json!({"id": id, "kind": "research_output", "title": title, "description": "Mô tả kỹ thuật"})
}

#[test]
fn a_backup_taken_while_serving_restores_exactly_what_it_held() {
    let ws = Workspace::new();
    let file = ws.file("a.jsonl", &line(listing("a", "Máy gặt đập")));
    assert!(ws.cli(&["import", file.to_str().unwrap()]).status.success());

    let server = Server::start(&ws, &[]);
    let token = std::fs::read_to_string(ws.data().join("admin.token")).unwrap();
    let (status, body) = server.request(
        "POST",
        "/api/v1/listings",
        Some(token.trim()),
        Some(&listing("b", "Máy cấy lúa").to_string()),
    );
    assert_eq!(status, 201, "{body}");
    let backup_dir = ws.dir.path().join("backup-1");
    let out = ws.cli(&["backup", backup_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("backed up 2 listing(s)"),
        "{}",
        stdout(&out)
    );
    let (status, _) = server.request(
        "POST",
        "/api/v1/listings",
        Some(token.trim()),
        Some(&listing("c", "Máy sấy nông sản").to_string()),
    );
    assert_eq!(status, 201);
    assert!(server.terminate().success());

    let again = ws.cli(&["backup", backup_dir.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );

    let out = ws.cli(&["restore", backup_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> = stdout(&ws.cli(&["export"]))
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        vec!["a", "b"],
        "the listing written after the backup is not in it"
    );
    assert_eq!(
        hit_ids(&ws.cli_json(&["search", "--json", "cay lua"])),
        vec!["b"]
    );
    assert!(hit_ids(&ws.cli_json(&["search", "--json", "say nong san"])).is_empty());
    let kept = std::fs::read_dir(ws.data())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("store.before-restore-")
        });
    assert!(kept, "the replaced store is kept aside");
}

#[test]
fn restore_refuses_a_directory_that_is_not_a_backup() {
    let ws = Workspace::new();
    let not_backup = ws.dir.path().join("nothing");
    std::fs::create_dir_all(&not_backup).unwrap();
    let out = ws.cli(&["restore", not_backup.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("backup.json"), "{}", stderr(&out));
}
