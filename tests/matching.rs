//! Matching: small worlds in which one component decides the order, with its explanation.
//!
//! Each world holds a need and two technologies with the same text, differing in one fact.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{TestApp, TOKEN};

const TITLE: &str = "Công nghệ nuôi tôm tuần hoàn tiết kiệm nước";
const BODY: &str = "Hệ thống lọc sinh học giúp nuôi tôm mật độ cao, giảm thay nước và dịch bệnh.";

fn supply(id: &str, extra: Value) -> Value {
    let mut l = json!({"id": id, "kind": "research_output", "title": TITLE, "description": BODY});
    merge(&mut l, extra);
    l
}

fn need(extra: Value) -> Value {
    let mut l = json!({
        "id": "need", "kind": "need",
        "title": "Cần công nghệ nuôi tôm ít thay nước",
        "description": "Trang trại cần hệ thống nuôi tôm tuần hoàn để giảm dịch bệnh và tiết kiệm nước."
    });
    merge(&mut l, extra);
    l
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

/// Posts the world, waits for the index, and returns the matches of `uri`.
async fn matches(app: &TestApp, world: Vec<Value>, uri: &str) -> Vec<Value> {
    let mut seq = 0;
    for l in world {
        seq = app.post_listing(l).await;
    }
    app.search_after(seq, "?q=x").await;
    let (status, body) = app.get(uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["matches"].as_array().cloned().unwrap_or_default()
}

fn ids(m: &[Value]) -> Vec<&str> {
    m.iter().filter_map(|m| m["id"].as_str()).collect()
}

fn reason(m: &Value) -> &str {
    m["reason"]["vi"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_same_sub_field_ranks_first() {
    let app = TestApp::new().await;
    let m = matches(
        &app,
        vec![
            need(json!({"field": "4.1"})),
            supply("a-other-field", json!({"field": "2.2"})),
            supply("b-same-field", json!({"field": "4.1"})),
        ],
        "/api/v1/needs/need/matches",
    )
    .await;
    assert_eq!(ids(&m), vec!["b-same-field", "a-other-field"]);
    assert!(
        reason(&m[0]).contains("Cùng lĩnh vực 4.1"),
        "{}",
        reason(&m[0])
    );
    assert!(m[0]["reason"]["en"]
        .as_str()
        .unwrap()
        .contains("Same field 4.1"));
}

#[tokio::test]
async fn same_province_beats_near_beats_far() {
    let app = TestApp::new().await;
    let m = matches(
        &app,
        vec![
            need(json!({"province": "Bắc Ninh"})),
            supply("a-far", json!({"province": "Cà Mau"})),
            supply("b-near", json!({"province": "Hà Nội"})),
            supply("c-same", json!({"province": "Bắc Giang"})),
        ],
        "/api/v1/needs/need/matches",
    )
    .await;
    assert_eq!(ids(&m), vec!["c-same", "b-near", "a-far"]);
    assert!(
        reason(&m[0]).contains("Cùng tỉnh (Bắc Ninh)"),
        "{}",
        reason(&m[0])
    );
    assert!(reason(&m[1]).contains("km (Hà Nội)"), "{}", reason(&m[1]));
    let km = m[1]["distance_km"].as_f64().unwrap();
    assert!(km > 20.0 && km < 80.0, "{km}");
}

#[tokio::test]
async fn geography_only_keeps_the_listed_provinces_and_any_ignores_distance() {
    let app = TestApp::new().await;
    let world = vec![
        need(json!({"province": "Bắc Ninh"})),
        supply("a-far", json!({"province": "Cà Mau"})),
        supply("b-near", json!({"province": "Hà Nội"})),
    ];
    let only = matches(
        &app,
        world,
        "/api/v1/needs/need/matches?geography=only&provinces=Ca+Mau",
    )
    .await;
    assert_eq!(ids(&only), vec!["a-far"]);
    let (_, any) = app.get("/api/v1/needs/need/matches?geography=any").await;
    let any = any["matches"].as_array().unwrap();
    assert_eq!(
        ids(any),
        vec!["a-far", "b-near"],
        "equal scores fall back to id order"
    );
    assert_eq!(any[0]["score"], any[1]["score"]);
}

#[tokio::test]
async fn readiness_mode_and_budget_each_decide() {
    let app = TestApp::new().await;
    let m = matches(
        &app,
        vec![
            need(json!({"trl_min": 6, "transfer_modes": ["licence"], "budget_max_vnd": 500_000_000u64})),
            supply("a-low-trl", json!({"trl": 3, "transfer_modes": ["licence"], "price_vnd": 300_000_000u64})),
            supply("b-wrong-mode", json!({"trl": 7, "transfer_modes": ["assignment"], "price_vnd": 300_000_000u64})),
            supply("c-over-budget", json!({"trl": 7, "transfer_modes": ["licence"], "price_vnd": 900_000_000u64})),
            supply("d-fits", json!({"trl": 7, "transfer_modes": ["licence"], "price_vnd": 300_000_000u64})),
        ],
        "/api/v1/needs/need/matches",
    )
    .await;
    assert_eq!(ids(&m)[0], "d-fits");
    let fits = reason(&m[0]);
    for part in [
        "TRL 7 ≥ yêu cầu 6",
        "Phương thức phù hợp: li-xăng",
        "Giá 300.000.000 đ trong ngân sách",
    ] {
        assert!(fits.contains(part), "{part} missing from {fits}");
    }
    let low = m.iter().find(|x| x["id"] == "a-low-trl").unwrap();
    assert!(reason(low).contains("TRL 3 < yêu cầu 6"), "{}", reason(low));
    let over = m.iter().find(|x| x["id"] == "c-over-budget").unwrap();
    assert!(reason(over).contains("vượt ngân sách"), "{}", reason(over));
    // The explanation adds up to the score.
    for x in &m {
        let sum: f64 = x["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum();
        assert!((sum - x["score"].as_f64().unwrap()).abs() < 1e-4, "{x}");
    }
}

#[tokio::test]
async fn archived_listings_and_expired_patents_are_never_matched() {
    let app = TestApp::new().await;
    let patent = |id: &str, extra: Value| {
        let mut p = supply(id, json!({"kind": "patent"}));
        merge(&mut p, extra);
        p
    };
    let m = matches(
        &app,
        vec![
            need(json!({})),
            supply("archived", json!({"status": "archived"})),
            patent("expired-by-date", json!({"expiry_date": "2020-01-01"})),
            patent("expired-by-status", json!({"legal_status": "expired"})),
            patent(
                "valid",
                json!({"expiry_date": "2040-01-01", "legal_status": "granted"}),
            ),
        ],
        "/api/v1/needs/need/matches",
    )
    .await;
    assert_eq!(ids(&m), vec!["valid"]);
}

#[tokio::test]
async fn a_technology_finds_the_needs_it_fits() {
    let app = TestApp::new().await;
    let m = matches(
        &app,
        vec![
            need(json!({"province": "Cần Thơ", "trl_min": 5})),
            supply("tech", json!({"province": "Cần Thơ", "trl": 7})),
            json!({"id": "other-need", "kind": "need", "title": "Cần máy gặt lúa", "description": "Thu hoạch lúa"}),
        ],
        "/api/v1/listings/tech/matches",
    )
    .await;
    assert_eq!(ids(&m), vec!["need"]);
    assert!(
        reason(&m[0]).contains("TRL 7 ≥ yêu cầu 5"),
        "{}",
        reason(&m[0])
    );
    let terms: Vec<&str> = m[0]["matched_terms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(!terms.is_empty());
    // Every shared term is written in the need and in the technology.
    let need_text = format!(
        "{} {}",
        need(json!({}))["title"],
        need(json!({}))["description"]
    )
    .to_lowercase();
    let tech_text = format!("{TITLE} {BODY}").to_lowercase();
    for t in &terms {
        assert!(
            need_text.contains(t) && tech_text.contains(t),
            "{t:?} of {terms:?}"
        );
    }
}

#[tokio::test]
async fn an_ad_hoc_need_is_matched_and_checked() {
    let app = TestApp::new().await;
    let seq = app
        .post_listing(supply("tech", json!({"province": "Cần Thơ"})))
        .await;
    app.search_after(seq, "?q=x").await;
    let body =
        json!({"text": "tôi cần nuôi tôm tiết kiệm nước", "province": "Can Tho", "trl_min": 4})
            .to_string();
    let (status, answer, _) = app
        .send(Method::POST, "/api/v1/match", None, Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["matches"][0]["id"], "tech");
    for (body, field) in [
        (json!({"text": ""}), "text"),
        (json!({"text": "x", "province": "Atlantis"}), "province"),
        (json!({"text": "x", "trl_min": 12}), "trl_min"),
        (json!({"text": "x", "geography": "only"}), "provinces"),
        (
            json!({"text": "x", "transfer_modes": ["gift"]}),
            "transfer_modes",
        ),
        // Refused by the body's type, not by its checks: named all the same.
        (json!({"text": "x", "colour": "red"}), "colour"),
        (json!({"text": 5}), "text"),
        (json!({"text": "x", "trl_min": "four"}), "trl_min"),
    ] {
        let (status, err, _) = app
            .send(
                Method::POST,
                "/api/v1/match",
                Some(TOKEN),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let (status, _) = app.get("/api/v1/needs/tech/matches").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a technology is not a need");
}

fn text_value(m: &Value) -> f64 {
    m["components"][0]["value"].as_f64().unwrap_or(-1.0)
}

#[tokio::test]
async fn a_match_percentage_stays_put_when_a_better_listing_arrives() {
    let app = TestApp::new().await;
    let uri = "/api/v1/needs/need/matches";
    let before = matches(
        &app,
        vec![
            need(json!({})),
            supply(
                "a-partial",
                json!({"title": "Máy lọc nước cho ao nuôi tôm"}),
            ),
        ],
        uri,
    )
    .await;
    assert_eq!(ids(&before), vec!["a-partial"]);
    // A listing that says what the need says, word for word: the best candidate changes.
    let better = json!({
        "id": "b-same-words", "kind": "research_output",
        "title": "Cần công nghệ nuôi tôm ít thay nước",
        "description": "Trang trại cần hệ thống nuôi tôm tuần hoàn để giảm dịch bệnh và tiết kiệm nước."
    });
    let after = matches(&app, vec![better], uri).await;
    assert_eq!(ids(&after), vec!["b-same-words", "a-partial"]);
    let (was, is) = (&before[0], &after[1]);
    // Relative to the best candidate, the text component would fall from 1 to about a half.
    assert!(
        (text_value(was) - text_value(is)).abs() < 0.02,
        "text component moved: {was} → {is}"
    );
    assert!(
        (was["score"].as_f64().unwrap() - is["score"].as_f64().unwrap()).abs() < 0.01,
        "score moved: {was} → {is}"
    );
    // Saying what the need says is worth 1 − 1/e of the text component.
    assert!((text_value(&after[0]) - 0.632).abs() < 0.05, "{}", after[0]);
}

#[tokio::test]
async fn matched_words_are_words_of_both_texts() {
    let app = TestApp::new().await;
    let m = matches(
        &app,
        vec![
            json!({"id": "need", "kind": "need", "title": "Cần kéo dài thời gian bảo quản vải thiều",
                   "description": "Hợp tác xã cần bảo quản vải thiều tươi 30 ngày để xuất khẩu năm 2026."}),
            supply("vai", json!({"title": "Bảo quản vải thiều tươi bằng màng chitosan",
                                  "description": "Màng chitosan giúp bảo quản vải thiều tươi 30 ngày, năm 2026 đã thử."})),
        ],
        "/api/v1/needs/need/matches",
    )
    .await;
    let words: Vec<&str> = m[0]["matched_terms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(words.contains(&"bảo quản vải thiều tươi"), "{words:?}");
    for w in &words {
        assert!(*w != "quản vải" && *w != "30" && *w != "2026", "{words:?}");
    }
}
