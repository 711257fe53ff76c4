//! Two real `techmatch serve` processes on one PostgreSQL store (#10): each has its own data
//! dir and index, follows the shared change log, and sees the other's writes and sign-ins.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use techmatch_bench::pg::TempCluster;

use crate::cli::Server;
use crate::cli_user::cli_with_stdin;
use crate::common::{hit_ids, line, stderr, Workspace};

const PASSWORD: &str = "mật khẩu đủ dài cho thử nghiệm";

fn listing(id: &str, title: &str) -> Value {
    json!({"id": id, "kind": "research_output", "title": title, "description": "Mô tả kỹ thuật"})
}

/// Posts a listing with the admin token; returns its change sequence (`x-techmatch-seq`).
fn post(server: &Server, token: &str, id: &str, title: &str) -> u64 {
    let (status, head, body) = server.request_with_head(
        "POST",
        "/api/v1/listings",
        Some(token),
        Some(&listing(id, title).to_string()),
    );
    assert_eq!(status, 201, "{body}");
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-techmatch-seq")
                .then(|| value.trim().parse().ok())?
        })
        .expect("x-techmatch-seq header")
}

fn start(ws: &Workspace, url: &str) -> Server {
    Server::start(ws, &["--store", url])
}

#[test]
fn two_nodes_share_one_postgres_store_and_a_killed_node_catches_up() {
    if !crate::common::postgres_installed("two_nodes_share_one_postgres_store") {
        return;
    }
    let started = Instant::now();
    let cluster = TempCluster::start().unwrap();
    let url = cluster.url();
    let (ws_a, ws_b) = (Workspace::new(), Workspace::new());

    // `import` writes to the shared store before any node runs; both nodes index it at start.
    let file = ws_a.file("a.jsonl", &line(listing("imported", "Máy sấy cà phê")));
    let out = ws_a.cli(&["--store", &url, "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let a = start(&ws_a, &url);
    let b = start(&ws_b, &url);
    let token_a = a.token.clone().expect("node A printed its admin token");
    for node in [&a, &b] {
        let answer = node.get_json("/api/v1/search?q=ca+phe");
        assert_eq!(hit_ids(&answer), ["imported"], "{answer}");
    }

    // Read-your-writes across nodes: written through A, searched on B with A's sequence.
    let seq = post(&a, &token_a, "from-a", "Công nghệ nuôi tôm tuần hoàn");
    assert_eq!(seq, 2);
    let answer = b.get_json(&format!("/api/v1/search?q=nuoi+tom&min_seq={seq}"));
    assert_eq!(hit_ids(&answer), ["from-a"], "{answer}");

    // An account added through the store, signed in on A; its token works on B and is revoked
    // there, after which A refuses it too.
    let out = cli_with_stdin(
        &ws_b,
        &[
            "--store",
            &url,
            "user",
            "add",
            "lan@sokhcn.gov.vn",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body = json!({"email": "lan@sokhcn.gov.vn", "password": PASSWORD}).to_string();
    let (status, issued) = a.request("POST", "/api/v1/tokens", None, Some(&body));
    assert_eq!(status, 201, "{issued}");
    let issued: Value = serde_json::from_str(&issued).unwrap();
    let token = issued["token"].as_str().unwrap();
    let (status, body) = b.request("GET", "/api/v1/reports/national", Some(token), None);
    assert_eq!(status, 200, "a token issued on A works on B: {body}");
    let id = issued["id"].as_str().unwrap();
    let (status, body) = b.request("DELETE", &format!("/api/v1/tokens/{id}"), Some(token), None);
    assert!(status == 204 || status == 200, "{status} {body}");
    let (status, _) = a.request("GET", "/api/v1/reports/national", Some(token), None);
    assert_eq!(status, 401, "revoked on B, refused on A");

    // B dies without a word; A keeps writing; B restarts and catches up from its own index.
    let mut b = b;
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    drop(b);
    let mut last = 0;
    for i in 0..20 {
        last = post(
            &a,
            &token_a,
            &format!("while-b-down-{i}"),
            "Giống lúa chịu mặn",
        );
    }
    assert_eq!(last, 22);
    let b = start(&ws_b, &url);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health = b.get_json("/api/v1/health");
        if health["index_lag"] == 0 && health["store_seq"] == last {
            assert_eq!(health["index_seq"], last, "{health}");
            break;
        }
        assert!(Instant::now() < deadline, "B never caught up: {health}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = b.get_json("/api/v1/search?q=lua+chiu+man&limit=50");
    assert_eq!(answer["total"], 20, "{answer}");
    // The CLI on a running node's data dir: search reads the node's index as committed,
    // export reads the shared store.
    let out = ws_b.cli(&["--store", &url, "search", "--json", "lúa chịu mặn"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["total"], 20, "{answer}");
    let out = ws_a.cli(&["--store", &url, "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 22);

    // B now follows A live through LISTEN/NOTIFY: without min_seq, each new listing shows up
    // on B well within the one-second poll it would otherwise wait for (polling alone would
    // pass all five by chance about once in a few hundred runs).
    let mut lags = Vec::new();
    for i in 0..5 {
        let seq = post(&a, &token_a, &format!("live-{i}"), "Máy bóc vỏ hạt điều");
        let written = Instant::now();
        loop {
            let health = b.get_json("/api/v1/health");
            if health["index_seq"].as_u64() >= Some(seq) {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_millis(400),
                "B did not wake on the notification: {health}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        lags.push(written.elapsed());
        std::thread::sleep(Duration::from_millis(150));
    }
    eprintln!(
        "follower lag A->B {lags:?}; whole test {:?}",
        started.elapsed()
    );
    let answer = b.get_json("/api/v1/search?q=hat+dieu");
    assert_eq!(answer["total"], 5, "{answer}");
}

/// The per-address write limit holds across nodes: with a burst of two writes, a client that
/// spends them on A is refused on B.
#[test]
fn the_write_limit_per_address_is_shared_between_nodes() {
    if !crate::common::postgres_installed("the_write_limit_per_address_is_shared") {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let url = cluster.url();
    let (ws_a, ws_b) = (Workspace::new(), Workspace::new());
    // 0.5 writes per second, bursts of 2.
    let flags = ["--store", url.as_str(), "--max-writes-per-second", "0.5"];
    let a = Server::start(&ws_a, &flags);
    let b = Server::start(&ws_b, &flags);
    let (token_a, token_b) = (a.token.clone().unwrap(), b.token.clone().unwrap());
    post(&a, &token_a, "one", "Máy sấy");
    post(&a, &token_a, "two", "Máy xay");
    let (status, head, body) = b.request_with_head(
        "POST",
        "/api/v1/listings",
        Some(&token_b),
        Some(&listing("three", "Máy ép").to_string()),
    );
    assert_eq!(status, 429, "{body}");
    assert!(head.to_ascii_lowercase().contains("retry-after"), "{head}");
}

/// The database goes away under two serving nodes (a failover, a crash): they answer 503
/// meanwhile, reconnect by themselves once it is back, and B's listener comes back so that it
/// follows A live again.
#[test]
fn nodes_ride_out_a_database_restart() {
    if !crate::common::postgres_installed("nodes_ride_out_a_database_restart") {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let url = cluster.url();
    let (ws_a, ws_b) = (Workspace::new(), Workspace::new());
    let a = start(&ws_a, &url);
    let b = start(&ws_b, &url);
    let token = a.token.clone().unwrap();
    post(&a, &token, "before", "Máy gặt");

    // While the database is down, writes and health answer 503 (haproxy takes such a node
    // out), and nothing is acknowledged.
    cluster.pause().unwrap();
    let body = listing("during", "Máy cày").to_string();
    let (status, answer) = a.request("POST", "/api/v1/listings", Some(&token), Some(&body));
    assert_eq!(status, 503, "{answer}");
    let (status, answer) = b.request("GET", "/api/v1/health", None, None);
    assert_eq!(status, 503, "{answer}");

    cluster.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, answer) = a.request("POST", "/api/v1/listings", Some(&token), Some(&body));
        match status {
            201 => break,
            // A connection lost in the restart fails its one call; the next one reconnects.
            503 => {}
            other => panic!("{other}: {answer}"),
        }
        assert!(Instant::now() < deadline, "A never reconnected");
        std::thread::sleep(Duration::from_millis(100));
    }

    // B's listener reconnects (it retries every second; longer on a loaded machine); once a
    // write reaches B's index well within B's one-second poll, B wakes on A's writes again,
    // and then it must do so for every write.
    // A pooled connection used less than a second before the restart is not checked again
    // before its next use (only longer idle ones are): B's own polls drop those first.
    std::thread::sleep(Duration::from_millis(2500));
    let back = Instant::now() + Duration::from_secs(15);
    let mut i = 0;
    while !follows_within(&a, &b, &token, &mut i, Duration::from_millis(400)) {
        assert!(Instant::now() < back, "B's listener did not come back");
        std::thread::sleep(Duration::from_millis(150));
    }
    for _ in 0..3 {
        assert!(
            follows_within(&a, &b, &token, &mut i, Duration::from_millis(400)),
            "B's listener came back but missed a write"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Writes one listing on `a` and tells whether `b`'s index has it within `limit`.
fn follows_within(a: &Server, b: &Server, token: &str, i: &mut usize, limit: Duration) -> bool {
    *i += 1;
    let seq = post(a, token, &format!("again-{i}"), "Máy xới");
    let written = Instant::now();
    while b.get_json("/api/v1/health")["index_seq"].as_u64() < Some(seq) {
        if written.elapsed() > limit {
            // Let it arrive by the poll (every second) before the next try.
            while b.get_json("/api/v1/health")["index_seq"].as_u64() < Some(seq) {
                assert!(
                    written.elapsed() < Duration::from_secs(10),
                    "B stopped following"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}
