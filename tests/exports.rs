//! The interchange format as a JSON Schema with the import template beside it, and search
//! results as CSV, XLSX and JSON Lines downloads that import back.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{stderr, stdout, TestApp, Workspace, TOKEN};

/// Status, content type and body bytes of a GET.
async fn get(app: &TestApp, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = techmatch::server::app(app.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, content_type, bytes)
}

fn demo_listings() -> Vec<techmatch::domain::Listing> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/service/fixtures/demo/listings-vi.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let body: Value = serde_json::from_str(l).unwrap();
            let raw = techmatch::domain::RawRecord::from_json(body.as_object().unwrap().clone());
            techmatch::domain::parse_listing(&raw)
                .unwrap()
                .without_timestamps()
                .into_listing(None, chrono::Utc::now())
        })
        .collect()
}

#[tokio::test]
async fn the_schema_and_the_template_name_the_same_fields_as_import_and_export() {
    let app = TestApp::new().await;
    let (status, content_type, schema) = get(&app, "/api/v1/schema/listing.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/schema+json");
    let schema: Value = serde_json::from_slice(&schema).unwrap();
    let properties: BTreeSet<String> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(schema["required"], json!(["kind", "title", "description"]));

    let (status, content_type, template) = get(&app, "/api/v1/schema/listing-template.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let template = String::from_utf8(template).unwrap();
    let header = template
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark")
        .trim_end();
    let ws = Workspace::new();
    assert_eq!(
        header,
        stdout(&ws.cli(&["template"])).trim_end(),
        "the CLI's template"
    );
    let columns: BTreeSet<String> = header.split(',').map(str::to_string).collect();
    assert_eq!(
        columns, properties,
        "the schema names every column, nothing else"
    );

    // Whatever techmatch writes is in the schema (additionalProperties is false).
    app.state.store.put_all(&demo_listings()).unwrap();
    for listing in app.state.store.scan() {
        let value = serde_json::to_value(listing.unwrap()).unwrap();
        for key in value.as_object().unwrap().keys() {
            assert!(properties.contains(key), "{key} is not in the schema");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_download_as_csv_xlsx_and_json_lines_that_import_back() {
    let app = TestApp::new().await;
    app.state.store.put_all(&demo_listings()).unwrap();
    let draft = json!({"id": "nd-nhap", "kind": "need", "title": "Nuôi tôm bản nháp",
        "description": "Nuôi tôm thẻ chân trắng", "status": "draft"});
    let seq = app.post_listing(draft).await;
    let answer = app.search_after(seq, "?q=nuoi+tom&limit=100").await;
    let total = answer["total"].as_u64().unwrap() as usize;
    assert!(total > 10, "{total}");

    let (status, content_type, csv) = get(&app, "/api/v1/search?q=nuoi+tom&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().iter().next(), Some("id"));
    assert_eq!(reader.records().count(), total, "every hit, not one page");
    assert!(
        !csv.contains("@") && !csv.contains("nd-nhap"),
        "no contact, no draft"
    );

    let (status, _, jsonl) = get(&app, "/api/v1/search?q=nuoi+tom&format=jsonl").await;
    assert_eq!(status, StatusCode::OK);
    let jsonl = String::from_utf8(jsonl).unwrap();
    let ids: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), total);
    assert_eq!(
        ids[..10],
        crate::common::hit_ids(&answer)[..10],
        "in ranking order"
    );

    let (status, content_type, xlsx) = get(&app, "/api/v1/search?q=nuoi+tom&format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.contains("spreadsheetml"));
    assert!(xlsx.starts_with(b"PK"), "a zip, as XLSX is");

    // Each imports into an empty data dir as the same listings.
    for (name, bytes) in [
        ("r.csv", csv.into_bytes()),
        ("r.jsonl", jsonl.into_bytes()),
        ("r.xlsx", xlsx),
    ] {
        let ws = Workspace::new();
        let path = ws.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = ws.cli(&["import", path.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("imported {total} record(s)")),
            "{name}: {}",
            stdout(&out)
        );
    }

    let (status, _, refused) = get(&app, "/api/v1/search?q=nuoi+tom&format=pdf").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refused: Value = serde_json::from_slice(&refused).unwrap();
    assert_eq!(refused["error"]["field"], "format");
    // The admin's download holds what the admin may see: the contacts.
    let (_, csv, _) = app
        .send(
            axum::http::Method::GET,
            "/api/v1/search?q=nuoi+tom&format=jsonl",
            Some(TOKEN),
            None,
        )
        .await;
    assert!(csv.as_str().unwrap_or_default().contains("contact_email"));
}

#[tokio::test]
async fn the_search_page_links_its_downloads_in_both_languages() {
    let app = TestApp::new().await;
    let seq = app
        .post_listing(json!({"kind": "need", "title": "Máy sấy lạnh", "description": "Cần máy sấy lạnh nông sản"}))
        .await;
    app.search_after(seq, "?q=may+say").await;
    for (lang, word) in [("vi", "Tải về:"), ("en", "Download:")] {
        let (status, _, page) =
            get(&app, &format!("/search?q=m%C3%A1y+s%E1%BA%A5y&lang={lang}")).await;
        assert_eq!(status, StatusCode::OK);
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(word), "{lang}");
        for format in ["csv", "xlsx", "jsonl"] {
            let href =
                format!("href=\"/api/v1/search?q=m%C3%A1y%20s%E1%BA%A5y&amp;format={format}\"");
            assert!(
                page.contains(&href) || page.contains(&href.replace("%20", "+")),
                "{lang} {format}: {page}"
            );
        }
    }
}
