//! Three real nodes on one PostgreSQL store behind a real haproxy, configured by
//! `deploy/haproxy.cfg`: requests are spread over the nodes, a write is readable through the
//! balancer whichever node answers, and a killed node costs no request.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use techmatch::pg::TempCluster;

use crate::cli::Server;
use crate::common::Workspace;

/// The admin token every node is given (nodes behind one balancer must share it).
const ADMIN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// haproxy's binary: on PATH or where Debian puts it.
fn haproxy() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("haproxy"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([PathBuf::from("/usr/sbin/haproxy")])
        .find(|p| p.is_file())
}

/// Whether haproxy is installed; skips with a message, or fails when `CI` is set.
fn haproxy_installed(test: &str) -> bool {
    if haproxy().is_some() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "CI is set but haproxy is missing: apt-get install haproxy"
    );
    eprintln!("SKIPPED {test}: haproxy not found (apt-get install haproxy)");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The node that answered (haproxy's `X-Techmatch-Node`).
fn node_of(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-techmatch-node")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn three_nodes_behind_haproxy_share_writes_and_survive_a_killed_node() {
    if !crate::common::postgres_installed("three_nodes_behind_haproxy")
        || !haproxy_installed("three_nodes_behind_haproxy")
    {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port());
    let workspaces: Vec<Workspace> = (0..3).map(|_| Workspace::new()).collect();
    let mut nodes: Vec<Option<Server>> = workspaces
        .iter()
        .map(|ws| {
            std::fs::create_dir_all(ws.data()).unwrap();
            std::fs::write(ws.data().join("admin.token"), ADMIN).unwrap();
            Some(Server::start(
                ws,
                &["--store", &url, "--trusted-proxy", "127.0.0.1"],
            ))
        })
        .collect();
    let lb_addr = format!("127.0.0.1:{}", free_port());
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");
    let mut command = Command::new(haproxy().unwrap());
    command
        .args(["-db", "-f", config])
        .env("TECHMATCH_LB_BIND", &lb_addr)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (i, node) in nodes.iter().enumerate() {
        let addr = &node.as_ref().unwrap().addr;
        command.env(format!("TECHMATCH_NODE{}", i + 1), addr);
    }
    // Killed on drop like a node; requests to it go to haproxy.
    let lb = Server {
        child: command.spawn().expect("start haproxy"),
        addr: lb_addr,
        token: None,
    };

    // Until haproxy listens and has seen every node healthy, answers come from fewer nodes.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = HashSet::new();
    while seen.len() < 3 {
        assert!(Instant::now() < deadline, "nodes seen: {seen:?}");
        if std::net::TcpStream::connect(&lb.addr).is_ok() {
            let (status, head, _) = lb.request_with_head("GET", "/api/v1/health", None, None);
            if status == 200 {
                seen.insert(node_of(&head));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    // A write through the balancer, then reads through it: whichever node answers waits for
    // the write's sequence and finds it.
    let body = json!({"id": "lb-1", "kind": "need", "title": "Cần máy sấy nông sản",
                      "description": "Sấy khô nông sản sau thu hoạch"})
    .to_string();
    let (status, head, answer) =
        lb.request_with_head("POST", "/api/v1/listings", Some(ADMIN), Some(&body));
    assert_eq!(status, 201, "{answer}");
    let seq: u64 = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-techmatch-seq")
                .then(|| value.trim().parse().ok())?
        })
        .expect("x-techmatch-seq");
    let mut answered_by = HashSet::new();
    for _ in 0..6 {
        let (status, head, answer) = lb.request_with_head(
            "GET",
            &format!("/api/v1/search?q=may+say&min_seq={seq}"),
            None,
            None,
        );
        assert_eq!(status, 200, "{answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["total"], 1, "{answer}");
        answered_by.insert(node_of(&head));
    }
    assert_eq!(
        answered_by.len(),
        3,
        "round robin over all nodes: {answered_by:?}"
    );

    // node2 dies: haproxy sends its share elsewhere at once (connection refused is retried on
    // another node), and takes it out after two failed checks.
    let mut dead = nodes[1].take().unwrap();
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    for i in 0..12 {
        let (status, head, answer) = lb.request_with_head("GET", "/api/v1/health", None, None);
        assert_eq!(status, 200, "request {i} after the kill: {answer}");
        assert_ne!(node_of(&head), "node2");
    }
    let body = json!({"id": "lb-2", "kind": "need", "title": "Cần máy sấy cà phê",
                      "description": "Sấy cà phê"})
    .to_string();
    let (status, _, answer) =
        lb.request_with_head("POST", "/api/v1/listings", Some(ADMIN), Some(&body));
    assert_eq!(status, 201, "{answer}");
    drop(lb);
    drop(nodes);
}
