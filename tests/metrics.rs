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

    let (status, text) = server.request("GET", "/metrics", None, None);
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
    let health = server.get_json("/api/v1/health");
    assert_eq!(
        sample(&text, "techmatch_index_documents"),
        health["listings_indexed"].as_f64(),
        "{text}"
    );
    assert_eq!(sample(&text, "techmatch_index_lag"), Some(0.0), "{text}");
}
