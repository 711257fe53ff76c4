//! A read-only data dir (a snapshot mount, a disk remounted read-only): a server started on it
//! serves what is there, refuses writes with a clear error, and changes nothing.
//!
//! Needs a read-only bind mount made for the test (root only). Where mounting is not allowed the
//! test says so and does nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::Workspace;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// `from` mounted read-only at `at`.
fn read_only_view(from: &Path, at: &Path) -> Option<Mount> {
    std::fs::create_dir_all(at).ok()?;
    let run = |args: &[&str]| {
        Command::new("mount")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    let (from, at_str) = (from.to_str()?, at.to_str()?);
    if !run(&["--bind", from, at_str]) {
        return None;
    }
    let mount = Mount(at.to_path_buf());
    run(&["-o", "remount,bind,ro", at_str]).then_some(mount)
}
fn post(server: &Server, token: &str, id: &str) -> (u16, String) {
    let body = json!({"id": id, "kind": "need", "title": format!("Máy sấy nông sản {id}"),
        "description": "Cần máy sấy lạnh cho nông sản sau thu hoạch"})
    .to_string();
    server.request("POST", "/api/v1/listings", Some(token), Some(&body))
}

fn assert_refused_clearly(status: u16, answer: &str) {
    assert_eq!(status, 503, "{answer}");
    let error: Value = serde_json::from_str(answer).unwrap();
    assert_eq!(error["error"]["code"], "store_unavailable", "{answer}");
    assert!(answer.contains("read-only"), "names the cause: {answer}");
}

fn assert_reads_work(server: &Server, ids: &[String]) {
    for id in ids {
        let (status, body) = server.request("GET", &format!("/api/v1/listings/{id}"), None, None);
        assert_eq!(status, 200, "{id}: {body}");
    }
    let found = server.get_json("/api/v1/search?q=may+say+nong+san&per_page=50");
    assert_eq!(found["total"], ids.len(), "{found}");
    let (status, body) = server.request("GET", "/api/v1/health", None, None);
    assert_eq!(status, 200, "{body}");
}

fn tree_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(tree_bytes(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_read_only_data_dir_is_served_and_refuses_writes_clearly() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &[]);
    let token = server.token.clone().expect("first start prints the token");
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let id = format!("ro{i}");
        let (status, body) = post(&server, &token, &id);
        assert_eq!(status, 201, "{body}");
        acknowledged.push(id);
    }
    assert!(server.terminate().success());

    let ro_ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    let Some(_mount) = read_only_view(&ws.data(), &ro_ws.dir.path().join("view")) else {
        eprintln!("skipped: cannot make a read-only bind mount here (needs root)");
        return;
    };
    std::os::unix::fs::symlink(ro_ws.dir.path().join("view"), ro_ws.data()).unwrap();
    let before = tree_bytes(&ws.data());

    // With the embedder asked for too: its vectors cannot be kept there, so it stays off.
    let server = Server::start(&ro_ws, &["--embedder-url", "auto"]);
    assert_reads_work(&server, &acknowledged);
    let (status, answer) = post(&server, &token, "late");
    assert_refused_clearly(status, &answer);
    let (status, answer) = server.request(
        "DELETE",
        &format!("/api/v1/listings/{}", acknowledged[0]),
        Some(&token),
        None,
    );
    assert_refused_clearly(status, &answer);
    assert!(server.terminate().success());
    assert!(
        before == tree_bytes(&ws.data()),
        "the read-only dir is untouched"
    );

    // The writable dir still has everything and takes writes.
    let server = Server::start(&ws, &[]);
    assert_reads_work(&server, &acknowledged);
    let (status, body) = post(&server, &token, "again");
    assert_eq!(status, 201, "{body}");
}
