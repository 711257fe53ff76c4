//! A full disk: writes fail with a clear error, reads keep working, nothing acknowledged is lost.
//!
//! Needs a small filesystem of its own: a tmpfs mounted for the test (root only). Where mounting
//! is not allowed the test says so and does nothing.

use std::process::Command;

use serde_json::json;

use crate::cli::Server;
use crate::common::Workspace;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_writes_clearly_and_keeps_serving_reads() {
    let ws = Workspace::new();
    let mount_point = ws.dir.path().join("small-disk");
    std::fs::create_dir_all(&mount_point).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
        .arg(&mount_point)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mount = Mount(mount_point.clone());
    let data = mount_point.join("data");
    let server_ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    // Point the server at the small disk through a symlinked data dir.
    std::os::unix::fs::symlink(&data, server_ws.data()).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::env::set_var("TECHMATCH_DISK_RESERVE_MB", "8");
    let server = Server::start(
        &server_ws,
        &[
            "--max-writes-per-second",
            "1000000",
            "--max-reads-per-second",
            "0",
        ],
    );
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let token = token.trim();

    let filler = "Mô tả dài về công nghệ xử lý nước thải. ".repeat(1_000);
    let mut acknowledged = Vec::new();
    let mut refusal = None;
    for i in 0..2_000 {
        let body = json!({"id": format!("f{i}"), "kind": "need", "title": format!("Nhu cầu {i}"), "description": filler}).to_string();
        let (status, answer) = server.request("POST", "/api/v1/listings", Some(token), Some(&body));
        match status {
            201 => acknowledged.push(format!("f{i}")),
            _ => {
                refusal = Some((status, answer));
                break;
            }
        }
    }
    let (status, answer) = refusal.expect("the disk filled up before 2000 writes");
    assert_eq!(status, 503, "{answer}");
    let error: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(error["error"]["code"], "store_unavailable", "{answer}");
    assert!(
        answer.contains("nearly full"),
        "refused before sled hits the wall: {answer}"
    );
    assert!(!acknowledged.is_empty());

    // Reads keep working, and every acknowledged write is there.
    for id in &acknowledged {
        let (status, body) = server.request("GET", &format!("/api/v1/listings/{id}"), None, None);
        assert_eq!(status, 200, "{id}: {body}");
    }
    let (status, _) = server.request("GET", "/api/v1/search?q=nhu+cau", None, None);
    assert_eq!(status, 200);
    let (status, _) = server.request("GET", "/api/v1/health", None, None);
    assert_eq!(status, 200);
    drop(server);
}
