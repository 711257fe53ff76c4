//! Searching through `GET /api/v1/search`: diacritics, filters, facets, pages, odd input.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{enc, hit_ids, seq_of, TestApp, TOKEN};

fn listing(id: &str, kind: &str, title: &str, description: &str) -> Value {
    json!({"id": id, "kind": kind, "title": title, "description": description})
}

/// Posts every listing and returns the sequence of the last.
async fn world(app: &TestApp, listings: Vec<Value>) -> u64 {
    let mut seq = 0;
    for l in listings {
        seq = app.post_listing(l).await;
    }
    seq
}

#[tokio::test]
async fn unaccented_query_finds_accented_listing() {
    let app = TestApp::new().await;
    let seq = world(
        &app,
        vec![
            listing(
                "a",
                "research_output",
                "Công nghệ nuôi tôm tuần hoàn",
                "Nuôi tôm trong hệ thống RAS tiết kiệm nước",
            ),
            listing(
                "b",
                "research_output",
                "Máy sấy nông sản",
                "Sấy xoài bằng bơm nhiệt",
            ),
        ],
    )
    .await;
    let answer = app
        .search_after(seq, &format!("?q={}", enc("cong nghe nuoi tom")))
        .await;
    assert_eq!(hit_ids(&answer), vec!["a"]);
    let answer = app
        .search_after(seq, &format!("?q={}", enc("công nghệ nuôi tôm")))
        .await;
    assert_eq!(hit_ids(&answer), vec!["a"]);
    let snippet = answer["hits"][0]["snippet"].as_str().unwrap_or_default();
    assert!(snippet.contains("<mark>"), "{snippet}");
}

#[tokio::test]
async fn exact_diacritics_rank_above_folded_matches() {
    let app = TestApp::new().await;
    let seq = world(
        &app,
        vec![
            listing(
                "ca-shift",
                "research_output",
                "Phần mềm xếp ca làm việc",
                "Phân ca cho nhà máy",
            ),
            listing(
                "ca-fish",
                "research_output",
                "Kỹ thuật nuôi cá lồng",
                "Nuôi cá trên biển",
            ),
            listing(
                "ca-eggplant",
                "research_output",
                "Giống cà tím mới",
                "Cà chịu hạn",
            ),
        ],
    )
    .await;
    for (q, first) in [("cá", "ca-fish"), ("cà", "ca-eggplant"), ("ca", "ca-shift")] {
        let answer = app.search_after(seq, &format!("?q={}", enc(q))).await;
        let ids = hit_ids(&answer);
        assert_eq!(
            ids.first().map(String::as_str),
            Some(first),
            "query {q}: {ids:?}"
        );
    }
}

#[tokio::test]
async fn either_tone_mark_convention_finds_the_other() {
    let app = TestApp::new().await;
    let seq = world(
        &app,
        vec![listing(
            "t",
            "research_output",
            "Thủy lợi và hòa giải",
            "Công trình thuỷ lợi",
        )],
    )
    .await;
    let answer = app
        .search_after(seq, &format!("?q={}", enc("thuỷ lợi hoà")))
        .await;
    assert_eq!(hit_ids(&answer), vec!["t"]);
}

#[tokio::test]
async fn filters_combine_and_facets_count_every_match() {
    let app = TestApp::new().await;
    let mut listings = Vec::new();
    for (id, kind, province, trl, field) in [
        ("r1", "research_output", "Hà Nội", Some(7), "4.1"),
        ("r2", "research_output", "Cần Thơ", Some(4), "4.1"),
        ("r3", "research_output", "Cần Thơ", Some(8), "2.2"),
        ("n1", "need", "Cần Thơ", None, "4.1"),
    ] {
        let mut l = listing(id, kind, "Công nghệ nuôi tôm", "Nuôi tôm nước lợ");
        l["province"] = json!(province);
        l["field"] = json!(field);
        if let Some(t) = trl {
            l["trl"] = json!(t);
            l["transfer_modes"] = json!(["licence"]);
        }
        listings.push(l);
    }
    let seq = world(&app, listings).await;

    let all = app.search_after(seq, "?q=tom").await;
    assert_eq!(all["total"], 4);
    let kinds = &all["facets"]["kind"];
    assert_eq!(kinds[0], json!({"value": "research_output", "count": 3}));
    assert_eq!(kinds[1], json!({"value": "need", "count": 1}));
    assert_eq!(all["facets"]["province"][0]["value"], "92");
    assert_eq!(all["facets"]["province"][0]["label"], "Cần Thơ");
    assert_eq!(all["facets"]["province"][0]["count"], 3);

    let filtered = app
        .search_after(
            seq,
            &format!(
                "?q=tom&kind=research_output&province={}&trl_min=5",
                enc("can tho")
            ),
        )
        .await;
    assert_eq!(hit_ids(&filtered), vec!["r3"]);
    assert_eq!(
        filtered["facets"]["trl"],
        json!([{"value": "8", "count": 1}])
    );

    let by_field = app
        .search_after(seq, "?field=4&kind=research_output,need")
        .await;
    let mut ids = hit_ids(&by_field);
    ids.sort();
    assert_eq!(ids, vec!["n1", "r1", "r2"]);
    let by_mode = app
        .search_after(seq, "?transfer_mode=licence&field=2.2")
        .await;
    assert_eq!(hit_ids(&by_mode), vec!["r3"]);
}

#[tokio::test]
async fn pages_are_stable_and_do_not_overlap() {
    let app = TestApp::new().await;
    let listings = (0..25)
        .map(|i| {
            listing(
                &format!("l{i:02}"),
                "research_output",
                "Máy sấy nông sản",
                &"sấy ".repeat(1 + i % 3),
            )
        })
        .collect();
    let seq = world(&app, listings).await;
    let full = hit_ids(&app.search_after(seq, "?q=say&limit=25").await);
    assert_eq!(full.len(), 25);
    let mut paged = Vec::new();
    for offset in [0, 10, 20] {
        paged.extend(hit_ids(
            &app.search_after(seq, &format!("?q=say&limit=10&offset={offset}"))
                .await,
        ));
    }
    assert_eq!(paged, full);
}

#[tokio::test]
async fn any_text_is_a_valid_query() {
    let app = TestApp::new().await;
    let seq = world(&app, vec![listing("a", "need", "Cần AND máy", "OR NOT")]).await;
    for q in [
        "\"((",
        "AND OR NOT",
        "title:x*",
        "-+~^[]{}",
        "\u{0}",
        "  ",
        "😀",
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/search?q={}&min_seq={seq}", enc(q)))
            .await;
        assert_eq!(status, StatusCode::OK, "query {q:?}: {body}");
    }
}

#[tokio::test]
async fn bad_parameters_name_the_parameter() {
    let app = TestApp::new().await;
    for (query, field) in [
        ("kind=robot", "kind"),
        ("province=Atlantis", "province"),
        ("field=9.9", "field"),
        ("trl_min=12", "trl_min"),
        ("limit=1000", "limit"),
        ("offset=abc", "offset"),
        ("transfer_mode=gift", "transfer_mode"),
        ("status=draft", "status"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter");
    }
}

#[tokio::test]
async fn search_shows_published_listings_without_contact_details() {
    let app = TestApp::new().await;
    let mut public = listing(
        "pub",
        "research_output",
        "Màng phủ chitosan",
        "Bảo quản vải thiều",
    );
    public["contact_email"] = json!("secret@example.vn");
    public["contact_phone"] = json!("0901234567");
    let mut draft = listing("draft", "research_output", "Màng phủ chitosan", "Bản nháp");
    draft["status"] = json!("draft");
    let seq = world(&app, vec![public, draft]).await;
    let (_, body) = app
        .get(&format!("/api/v1/search?q=chitosan&min_seq={seq}"))
        .await;
    assert_eq!(hit_ids(&body), vec!["pub"]);
    let text = body.to_string();
    assert!(
        !text.contains("secret@example.vn") && !text.contains("0901234567"),
        "{text}"
    );
}

#[tokio::test]
async fn a_repeated_search_is_answered_again_after_every_change_to_the_index() {
    let app = TestApp::new().await;
    let cache_hits = |text: &Value| {
        text.as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("techmatch_search_cache_total{result=\"hit\"} "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let seq = app
        .post_listing(listing(
            "a",
            "research_output",
            "Màng phủ chitosan",
            "Bảo quản vải",
        ))
        .await;
    let first = app.search_after(seq, "?q=chitosan").await;
    assert_eq!(hit_ids(&first), vec!["a"]);
    // The same search again is the same answer, and the cache gave it.
    let metrics = || app.send(Method::GET, "/metrics", Some(TOKEN), None);
    let (_, before, _) = metrics().await;
    let again = app.search_after(seq, "?q=chitosan").await;
    assert_eq!(again, first);
    let (_, after, _) = metrics().await;
    assert_eq!(cache_hits(&after), cache_hits(&before) + 1, "{after}");
    // A new listing, then a deletion: each is in the next answer to the same search.
    let seq = app
        .post_listing(listing(
            "b",
            "patent",
            "Chitosan từ vỏ tôm",
            "Chiết xuất chitosan",
        ))
        .await;
    let answer = app.search_after(seq, "?q=chitosan").await;
    let mut ids = hit_ids(&answer);
    ids.sort();
    assert_eq!(ids, vec!["a", "b"]);
    assert_eq!(answer["total"], 2);
    let (status, _, headers) = app
        .send(
            axum::http::Method::DELETE,
            "/api/v1/listings/a",
            Some(crate::common::TOKEN),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    let seq = seq_of(&headers);
    let answer = app.search_after(seq, "?q=chitosan").await;
    assert_eq!(hit_ids(&answer), vec!["b"]);
    assert_eq!(answer["total"], 1);
}

#[tokio::test]
async fn the_readiness_facet_counts_what_its_filter_keeps() {
    let app = TestApp::new().await;
    let mut listings = Vec::new();
    for (i, trl) in [3, 5, 7, 7, 7, 8, 9, 9].into_iter().enumerate() {
        let mut l = listing(
            &format!("r{i}"),
            "research_output",
            "Công nghệ nuôi tôm",
            "Nuôi tôm nước lợ",
        );
        l["trl"] = json!(trl);
        listings.push(l);
    }
    let seq = world(&app, listings).await;
    let all = app.search_after(seq, "?q=tom").await;
    let facet = all["facets"]["trl"].as_array().unwrap().clone();
    let levels: Vec<&str> = facet.iter().filter_map(|v| v["value"].as_str()).collect();
    assert_eq!(
        levels,
        ["3", "5", "7", "8", "9"],
        "levels in order: {facet:?}"
    );
    for v in &facet {
        let level = v["value"].as_str().unwrap();
        let filtered = app
            .search_after(seq, &format!("?q=tom&trl_min={level}"))
            .await;
        assert_eq!(v["count"], filtered["total"], "TRL ≥ {level}");
    }
}
