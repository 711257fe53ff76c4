//! `GET /metrics` on the real server: Prometheus text that counts what was asked, by route
//! template, and reports the store's latency and the index's size and lag.

use serde_json::json;

use crate::cli::Server;
use crate::common::Workspace;

/// The value of the first sample whose line starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_requests_by_route_and_report_index_and_store() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &[]);
    let token = server.token.clone().expect("first start prints the token");
    let body = json!({"id": "metric-need-7", "kind": "need", "title": "Máy sấy lạnh",
        "description": "Sấy lạnh trái cây"})
    .to_string();
    let (status, answer) = server.request("POST", "/api/v1/listings", Some(&token), Some(&body));
    assert_eq!(status, 201, "{answer}");
    for _ in 0..2 {
        server.get_json("/api/v1/listings/metric-need-7");
    }
    let (status, _) = server.request("GET", "/api/v1/listings/nothing-here", None, None);
    assert_eq!(status, 404);
    server.get_json("/api/v1/search?q=may+say&min_seq=1");

    let (status, text) = server.request("GET", "/metrics", Some(&token), None);
    assert_eq!(status, 200, "{text}");
    let route = |method: &str, route: &str, status: u16| {
        sample(
            &text,
            &format!(
                "techmatch_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(
        route("GET", "/api/v1/listings/{id}", 200),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        route("GET", "/api/v1/listings/{id}", 404),
        Some(1.0),
        "{text}"
    );
    assert_eq!(route("POST", "/api/v1/listings", 201), Some(1.0), "{text}");
    assert!(
        !text.contains("metric-need-7"),
        "ids make no series: {text}"
    );
    let searches = sample(
        &text,
        "techmatch_http_request_duration_seconds_count{route=\"/api/v1/search\"}",
    );
    assert_eq!(searches, Some(1.0), "{text}");
    let writes = sample(
        &text,
        "techmatch_store_duration_seconds_count{operation=\"update\"}",
    );
    assert!(
        writes.is_some_and(|n| n >= 1.0),
        "the write was timed: {text}"
    );
    let (_, health) = server.request("GET", "/api/v1/health", Some(&token), None);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        sample(&text, "techmatch_index_documents"),
        health["listings_indexed"].as_f64(),
        "{text}"
    );
    assert_eq!(sample(&text, "techmatch_index_lag"), Some(0.0), "{text}");
}

#[test]
fn metrics_need_the_admin_token_or_their_own_address() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &["--metrics-addr", "127.0.0.1:0"]);
    let token = server.token.clone().expect("first start creates the token");
    let (status, body) = server.request("GET", "/metrics", None, None);
    assert_eq!(status, 401, "{body}");
    let (status, text) = server.request("GET", "/metrics", Some(&token), None);
    assert_eq!(status, 200);
    assert!(text.contains("techmatch_http_requests_total"), "{text}");
    // The separate address serves the same text without a token, and nothing else.
    let metrics_addr = server
        .metrics_addr
        .clone()
        .expect("metrics address printed");
    let direct = Server {
        child: std::process::Command::new("true").spawn().unwrap(),
        addr: metrics_addr,
        token: None,
        metrics_addr: None,
        printed: String::new(),
    };
    let (status, text) = direct.request("GET", "/metrics", None, None);
    assert_eq!(status, 200);
    assert!(text.contains("techmatch_index_documents"), "{text}");
    promtool_accepts(&text);
    let (status, _) = direct.request("GET", "/api/v1/provinces", None, None);
    assert_eq!(status, 404);
    // Health tells a visitor nothing about unpublished listings.
    let health = server.get_json("/api/v1/health");
    assert!(health.get("listings_indexed").is_none(), "{health}");
    assert_eq!(health["status"], "ok");
}

/// `promtool check metrics` (Debian's `prometheus` package) accepts the text; skipped with a
/// message where promtool is not installed.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("promtool not found (apt-get install prometheus): metrics text not linted");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
