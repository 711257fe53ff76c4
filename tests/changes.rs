//! The public change feed (`GET /api/v1/changes`) and its snapshot: what a follower copies into
//! an empty data dir answers public searches as the source does, and never holds a draft or a
//! contact detail.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{hit_ids, TestApp, Workspace, TOKEN};

/// The demo's Vietnamese listings, as stored listings (contact details included).
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

/// Sends a write as admin and returns its sequence.
async fn write(app: &TestApp, method: Method, uri: &str, body: Option<Value>) -> u64 {
    let body = body.map(|b| b.to_string());
    let (status, answer, headers) = app.send(method, uri, Some(TOKEN), body.as_deref()).await;
    assert!(status.is_success(), "{uri}: {status} {answer}");
    headers["x-techmatch-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn need(id: &str, title: &str, status: &str) -> Value {
    json!({
        "id": id, "kind": "need", "title": title, "status": status,
        "description": format!("{title}: doanh nghiệp cần công nghệ xử lý nước thải chế biến thủy sản"),
        "province": "Cần Thơ", "contact_email": "bimat@congty.vn", "contact_name": "Ông Bí Mật",
    })
}

/// A follower's copy: the public listings by id, and every answer it was served, as text.
#[derive(Default)]
struct Copy {
    listings: BTreeMap<String, Value>,
    served: String,
    deleted: Vec<String>,
}

impl Copy {
    /// Reads the feed from `after` to its end, applying each change; returns the last `next`.
    async fn follow(&mut self, app: &TestApp, mut after: u64) -> u64 {
        loop {
            let (status, page) = app
                .get(&format!("/api/v1/changes?after={after}&limit=37"))
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            self.served.push_str(&page.to_string());
            for change in page["changes"].as_array().unwrap() {
                let id = change["id"].as_str().unwrap().to_string();
                assert!(change["seq"].as_u64().unwrap() > after, "{change}");
                match change["op"].as_str().unwrap() {
                    "put" => {
                        assert_eq!(change["listing"]["id"], change["id"]);
                        self.listings.insert(id, change["listing"].clone());
                    }
                    "delete" => {
                        self.listings.remove(&id);
                        self.deleted.push(id);
                    }
                    op => panic!("unknown op {op}"),
                }
            }
            let next = page["next"].as_u64().unwrap();
            if next == page["last"].as_u64().unwrap() {
                return next;
            }
            assert!(next > after, "the feed must move on: {page}");
            after = next;
        }
    }

    /// Reads the snapshot's pages; returns the first page's `seq`, where following resumes.
    async fn snapshot(&mut self, app: &TestApp) -> u64 {
        let mut after_id: Option<String> = None;
        let mut seq = None;
        loop {
            let uri = match &after_id {
                Some(id) => format!("/api/v1/changes/snapshot?limit=41&after_id={id}"),
                None => "/api/v1/changes/snapshot?limit=41".to_string(),
            };
            let (status, page) = app.get(&uri).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            self.served.push_str(&page.to_string());
            seq.get_or_insert(page["seq"].as_u64().unwrap());
            for listing in page["listings"].as_array().unwrap() {
                let id = listing["id"].as_str().unwrap().to_string();
                self.listings.insert(id, listing.clone());
            }
            match page["next_id"].as_str() {
                Some(id) => after_id = Some(id.to_string()),
                None => return seq.unwrap(),
            }
        }
    }
}

/// The public answers compared: total, facets, and the hits as a set (scores differ a little:
/// the source's index also counts its drafts in the term statistics).
async fn public_answer(app: &TestApp, query: &str) -> (Value, Value, Vec<String>) {
    let seq = app.state.store.last_seq().unwrap();
    let answer = app.search_after(seq, query).await;
    let mut ids = hit_ids(&answer);
    ids.sort();
    (answer["total"].clone(), answer["facets"].clone(), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_replays_into_an_empty_data_dir_with_the_same_public_answers() {
    let app = TestApp::new().await;
    app.state.store.put_all(&demo_listings()).unwrap();
    write(
        &app,
        Method::POST,
        "/api/v1/listings",
        Some(need("nd-nhap", "Bản nháp bimatnhap", "draft")),
    )
    .await;
    write(
        &app,
        Method::POST,
        "/api/v1/listings",
        Some(need("nd-rut", "Nhu cầu lọc nước rutlai", "published")),
    )
    .await;

    let mut copy = Copy::default();
    let next = copy.follow(&app, 0).await;
    assert!(copy.listings.contains_key("nd-rut"));
    assert!(!copy.listings.contains_key("nd-nhap"));

    // Then: one published listing goes back to draft, one is deleted, one changes, one is new.
    write(
        &app,
        Method::PUT,
        "/api/v1/listings/nd-rut",
        Some(need("nd-rut", "Nhu cầu lọc nước rutlai", "draft")),
    )
    .await;
    write(&app, Method::DELETE, "/api/v1/listings/vi-ro-001", None).await;
    let mut changed = need("vi-ro-002", "Công nghệ biofloc đổi tên doimoi", "published");
    changed["kind"] = json!("research_output");
    write(
        &app,
        Method::PUT,
        "/api/v1/listings/vi-ro-002",
        Some(changed),
    )
    .await;
    write(
        &app,
        Method::POST,
        "/api/v1/listings",
        Some(need("nd-moi", "Nhu cầu mới xuất hiện", "published")),
    )
    .await;
    copy.follow(&app, next).await;
    assert!(
        copy.deleted.contains(&"nd-rut".to_string()),
        "back to draft: a delete"
    );
    assert!(copy.deleted.contains(&"vi-ro-001".to_string()));
    assert!(!copy.listings.contains_key("nd-rut"));
    assert!(copy.listings["vi-ro-002"]["title"]
        .as_str()
        .unwrap()
        .contains("doimoi"));
    assert!(copy.listings.contains_key("nd-moi"));

    // Never a draft's content nor a contact detail (the demo's listings all carry contacts).
    for secret in [
        "bimatnhap",
        "bimat@congty.vn",
        "contact_email",
        "contact_name",
        "contact_phone",
    ] {
        assert!(!copy.served.contains(secret), "{secret} was served");
    }

    // What it served, as JSON Lines, into an empty data dir through `techmatch import`.
    let other = Workspace::new();
    let lines: String = copy.listings.values().map(|l| format!("{l}\n")).collect();
    let file = other.file("copy.jsonl", &lines);
    let out = other.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let data = other.data_dir();
    let stores = techmatch::store::Stores::shared(Arc::new(data.open_store().unwrap()));
    let index = Arc::new(data.open_index().unwrap());
    let copy_app = TestApp {
        state: techmatch::server::start(stores, index, &techmatch::server::Config::new(TOKEN)),
        workspace: other,
        cluster: None,
    };
    assert_eq!(copy_app.state.store.count().unwrap(), copy.listings.len());
    for query in [
        "?q=nuoi+tom&limit=100",
        "?q=chuyển+giao+công+nghệ&limit=100",
        "?q=xu+ly+nuoc+thai&kind=need&limit=100",
        "?q=bao+quan&province=Cần+Thơ&limit=100",
        "?q=rutlai&limit=100",
        "?q=bimatnhap&limit=100",
        "?q=doimoi&limit=100",
        "?q=may+say&trl_min=6&limit=100",
    ] {
        let source = public_answer(&app, query).await;
        assert_eq!(source, public_answer(&copy_app, query).await, "{query}");
        if query.contains("nuoi+tom") {
            assert!(
                source.0.as_u64().unwrap() > 5,
                "a real comparison: {source:?}"
            );
        }
    }

    // A pruned log: `after` below its floor is refused with where to start again, and the
    // snapshot, then the changes after its seq, give the same copy.
    let last = app.state.store.last_seq().unwrap();
    app.state.store.prune_log(last).unwrap();
    let (status, refused) = app.get("/api/v1/changes?after=3").await;
    assert_eq!(status, StatusCode::GONE, "{refused}");
    assert_eq!(refused["error"]["code"], "log_pruned");
    assert_eq!(refused["error"]["field"], "after");
    assert_eq!(refused["error"]["floor"], last - 1);
    let mut again = Copy::default();
    let seq = again.snapshot(&app).await;
    write(&app, Method::DELETE, "/api/v1/listings/vi-ro-003", None).await;
    copy.follow(&app, last).await;
    again.follow(&app, seq).await;
    assert_eq!(again.listings, copy.listings);
    assert!(!again.served.contains("bimatnhap") && !again.served.contains("contact_"));
}

#[tokio::test]
async fn the_feed_checks_its_parameters() {
    let app = TestApp::new().await;
    let (status, page) = app.get("/api/v1/changes").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({"changes": [], "next": 0, "last": 0}));
    for (uri, field) in [
        ("/api/v1/changes?after=-1", "after"),
        ("/api/v1/changes?after=abc", "after"),
        ("/api/v1/changes?after=5", "after"),
        ("/api/v1/changes?limit=0", "limit"),
        ("/api/v1/changes?limit=1001", "limit"),
        ("/api/v1/changes/snapshot?limit=x", "limit"),
    ] {
        let (status, body) = app.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn the_server_keeps_the_feeds_retention_when_it_prunes() {
    let app = TestApp::new().await;
    app.state
        .feed_retention
        .store(5, std::sync::atomic::Ordering::Relaxed);
    let mut last = 0;
    for i in 0..12 {
        last = write(
            &app,
            Method::POST,
            "/api/v1/listings",
            Some(need(&format!("nd-{i}"), "Máy sấy", "published")),
        )
        .await;
    }
    app.search_after(last, "?q=may+say").await;
    let started = std::time::Instant::now();
    // Five changes kept below the one the index applied, which stays too.
    while app.state.store.log_floor().unwrap() < last - 6 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "not pruned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.state.store.log_floor().unwrap(), last - 6);
    let (status, page) = app
        .get(&format!("/api/v1/changes?after={}", last - 6))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["changes"].as_array().unwrap().len(), 6);
    let (status, _) = app
        .get(&format!("/api/v1/changes?after={}", last - 7))
        .await;
    assert_eq!(status, StatusCode::GONE);
}
