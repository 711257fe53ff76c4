//! Behind a reverse proxy: per-address write limits apply to the client the trusted proxy names
//! in `X-Forwarded-For`, and the header counts for nothing from anyone else.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use crate::cli::Server;
use crate::common::Workspace;

/// POSTs a need with `X-Forwarded-For: forwarded`; the status and the body.
fn post_from(server: &Server, forwarded: &str, id: &str) -> (u16, String) {
    let token = server.token.clone().expect("first start prints the token");
    let body = json!({"id": id, "kind": "need", "title": "Cần máy sấy lạnh", "description": "Sấy lạnh trái cây"}).to_string();
    let request = format!(
        "POST /api/v1/listings HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nX-Forwarded-For: {forwarded}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr,
        token.trim(),
        body.len()
    );
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

/// Writes from `client` until the first refusal; how many were accepted.
fn accepted_until_refused(server: &Server, client: &str, prefix: &str) -> (usize, String) {
    for i in 0..50 {
        let (status, body) = post_from(server, client, &format!("{prefix}{i}"));
        match status {
            201 => continue,
            429 => return (i, body),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    panic!("50 writes from {client} were never limited");
}

#[test]
fn write_limits_follow_the_client_a_trusted_proxy_names() {
    let ws = Workspace::new();
    let server = Server::start(
        &ws,
        &[
            "--max-writes-per-second",
            "1",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    // The burst is four writes per client.
    let (accepted, refusal) = accepted_until_refused(&server, "203.0.113.7", "a");
    assert_eq!(accepted, 4, "{refusal}");
    assert!(
        refusal.contains("203.0.113.7"),
        "names the client: {refusal}"
    );
    // Another client behind the same proxy has its own allowance.
    let (status, body) = post_from(&server, "203.0.113.8", "b0");
    assert_eq!(status, 201, "{body}");
    // A forged entry left of the proxy's does not buy a new allowance.
    let (status, body) = post_from(&server, "198.51.100.1, 203.0.113.7", "c0");
    assert_eq!(status, 429, "{body}");
}

#[test]
fn forwarded_for_counts_for_nothing_without_a_trusted_proxy() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &["--max-writes-per-second", "1"]);
    let mut statuses = Vec::new();
    for i in 0..6 {
        // A different claimed address each time: all of them are the one loopback client.
        let (status, _) = post_from(&server, &format!("203.0.113.{i}"), &format!("d{i}"));
        statuses.push(status);
    }
    assert_eq!(statuses, [201, 201, 201, 201, 429, 429]);
}
