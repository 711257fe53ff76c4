//! Listings from other exchanges: imported with their source, updated (not duplicated) by a
//! later import of the same source, and the source shown on the listing's page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::common::{stderr, stdout, TestApp, Workspace, TOKEN};

const HEADER: &str = "kind,title,description,province,source_exchange,source_id,source_url";

#[test]
fn a_second_import_of_the_same_source_updates_the_listing() {
    let ws = Workspace::new();
    let first = ws.file(
        "a.csv",
        &format!("{HEADER}\nneed,Máy sấy lạnh,Cần máy sấy lạnh cho xoài,Đồng Tháp,Sàn Công nghệ TP.HCM,2024-118,https://techmart.example.vn/tin/2024-118\n"),
    );
    let out = ws.cli(&["import", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 new"), "{}", stdout(&out));
    let exported = ws.cli(&["export"]);
    let listing: serde_json::Value = serde_json::from_str(stdout(&exported).trim()).unwrap();
    assert_eq!(listing["id"], "src-san-cong-nghe-tp-hcm-2024-118");
    assert_eq!(listing["source_exchange"], "Sàn Công nghệ TP.HCM");
    assert_eq!(
        listing["source_url"],
        "https://techmart.example.vn/tin/2024-118"
    );

    // The exchange changed its title; the listing is updated, not listed twice.
    let again = ws.file(
        "b.csv",
        &format!("{HEADER}\nneed,Máy sấy lạnh nông sản,Cần máy sấy lạnh cho xoài,Đồng Tháp,Sàn Công nghệ TP.HCM,2024-118,https://techmart.example.vn/tin/2024-118\n"),
    );
    let out = ws.cli(&["import", again.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("0 new, 1 updated"),
        "{}",
        stdout(&out)
    );
    let exported = stdout(&ws.cli(&["export"]));
    assert_eq!(exported.lines().count(), 1, "{exported}");
    assert!(exported.contains("Máy sấy lạnh nông sản"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(exported.trim()).unwrap()["created_at"],
        listing["created_at"]
    );
}

#[test]
fn a_source_is_checked_with_file_line_and_field() {
    let ws = Workspace::new();
    let bad = ws.file(
        "bad.jsonl",
        &[
            json!({"kind": "need", "title": "A", "description": "B", "source_id": "7"}),
            json!({"kind": "need", "title": "A", "description": "B", "source_exchange": "X", "source_url": "javascript:alert(1)"}),
        ]
        .iter()
        .map(|v| format!("{v}\n"))
        .collect::<String>(),
    );
    let out = ws.cli(&["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("bad.jsonl:1: source_exchange: is required with source_id"),
        "{err}"
    );
    assert!(
        err.contains("bad.jsonl:2: source_url: is not a web address"),
        "{err}"
    );
}

#[tokio::test]
async fn the_listing_page_names_its_source_in_both_languages() {
    let app = TestApp::new().await;
    let body = json!({"kind": "research_output", "title": "Chế phẩm vi sinh xử lý đáy ao",
        "description": "Chế phẩm Bacillus xử lý bùn đáy ao nuôi tôm.",
        "source_exchange": "Techmart Hà Nội", "source_id": "hn-55",
        "source_url": "https://techmart-hn.example.vn/hn-55"});
    let (status, created, _) = app
        .send(
            axum::http::Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "src-techmart-ha-noi-hn-55");
    for (lang, words) in [
        ("vi", ["Nguồn: ", "mã tin ", "xem tin gốc"]),
        ("en", ["Source: ", "listing ", "see the original listing"]),
    ] {
        let request = Request::get(format!("/listings/src-techmart-ha-noi-hn-55?lang={lang}"))
            .body(Body::empty())
            .unwrap();
        let response = techmatch::server::app(app.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let page = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        for w in words {
            assert!(page.contains(w), "{lang}: {w}");
        }
        assert!(page.contains("href=\"https://techmart-hn.example.vn/hn-55\""));
        assert!(page.contains("Techmart Hà Nội"));
    }
}
