//! Province and national reports on a small known world, as JSON and as CSV.
//!
//! The world (besides `World`'s listings): needs posted 40, 45, 60 and 90 days ago and 10 days
//! ago, and five deals:
//! D1 nd-1 (92) × ro-1 (79) agreed 1.5 bn; D2 nd-old-dealt (79) × ro-hn (01) lost;
//! D3 nd-hn (01) × pt-1 (79) negotiating; D4 nd-hn (01) × ro-hn (01) proposed;
//! D5 nd-old-dealt (79) × ro-1 (79) agreed 0.5 bn.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use techmatch::domain::{parse_listing, RawRecord};

use crate::common::TOKEN;
use crate::world::World;

/// Stores a need posted `days` ago straight into the store (the API sets creation times itself).
fn old_need(world: &World, id: &str, province: &str, field: Option<&str>, days: i64, status: &str) {
    let mut need = json!({
        "id": id, "kind": "need", "title": format!("Nhu cầu {id}"), "description": "Cần công nghệ",
        "province": province, "status": status,
        "created_at": (Utc::now() - Duration::days(days)).to_rfc3339(),
    });
    if let Some(f) = field {
        need["field"] = json!(f);
    }
    let Value::Object(map) = need else {
        unreachable!()
    };
    let listing = parse_listing(&RawRecord::from_json(map))
        .unwrap()
        .into_listing(None, Utc::now());
    world.app.state.store.put_all(&[listing]).unwrap();
}

async fn advance(world: &World, deal: &str, steps: &[Value]) {
    for step in steps {
        let (status, body) = world
            .call_with(
                TOKEN,
                Method::POST,
                &format!("/api/v1/deals/{deal}/stage"),
                Some(step.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn known_world() -> World {
    let world = World::new().await;
    old_need(&world, "nd-old-79", "79", Some("2.8"), 40, "published");
    old_need(&world, "nd-old-dealt", "79", Some("2.7"), 60, "published");
    old_need(&world, "nd-old-92", "92", Some("2.8"), 45, "published");
    old_need(&world, "nd-archived", "79", Some("2.8"), 90, "archived");
    old_need(&world, "nd-recent", "79", None, 10, "published");
    let (c, n) = (
        json!({"stage": "contacted"}),
        json!({"stage": "negotiating"}),
    );
    let agreed =
        |v: u64| json!({"stage": "agreed", "contract_value_vnd": v, "signed_on": "2025-10-01"});
    let d1 = world.deal("nd-1", "ro-1").await;
    advance(&world, &d1, &[c.clone(), n.clone(), agreed(1_500_000_000)]).await;
    let d2 = world.deal("nd-old-dealt", "ro-hn").await;
    advance(
        &world,
        &d2,
        &[json!({"stage": "lost", "reason": "hết ngân sách"})],
    )
    .await;
    let d3 = world.deal("nd-hn", "pt-1").await;
    advance(&world, &d3, &[c.clone(), n.clone()]).await;
    world.deal("nd-hn", "ro-hn").await;
    let d5 = world.deal("nd-old-dealt", "ro-1").await;
    advance(&world, &d5, &[c, n, agreed(500_000_000)]).await;
    world
}

async fn report(world: &World, token: &str, uri: &str) -> Value {
    let (status, body) = world.call_with(token, Method::GET, uri, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn flows(report: &Value) -> Vec<(String, String, u64, u64, u64)> {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["from"].as_str().unwrap_or("").to_string(),
                f["to"].as_str().unwrap_or("").to_string(),
                f["deals"].as_u64().unwrap(),
                f["agreed"].as_u64().unwrap(),
                f["signed_value_vnd"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_province_report_counts_supply_demand_stale_needs_deals_and_flows() {
    let world = known_world().await;
    let broker = world.broker.clone();
    // Any accepted province name works in the path.
    let r = report(&world, &broker, "/api/v1/reports/provinces/TP.HCM").await;
    assert_eq!(
        r["scope"],
        json!({"kind": "province", "code": "79", "name": "Hồ Chí Minh"})
    );
    assert_eq!(
        r["supply_demand"],
        json!([
            {"field": "2.7", "label": "Kỹ thuật môi trường", "supply": 0, "demand": 1},
            {"field": "2.8", "label": "Công nghệ sinh học môi trường", "supply": 2, "demand": 1},
            {"field": "unspecified", "supply": 0, "demand": 1},
        ]),
        "the draft and the archived need do not count"
    );
    let stale: Vec<(&str, i64)> = r["stale_needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n["days_open"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        stale,
        vec![("nd-old-79", 40)],
        "dealt, recent and archived needs are not stale"
    );
    let d = &r["deals"];
    assert_eq!(
        d["by_stage"],
        json!({"proposed": 0, "contacted": 0, "negotiating": 1, "agreed": 2, "lost": 1})
    );
    assert_eq!(
        (d["total"].as_u64(), d["closed"].as_u64()),
        (Some(4), Some(3))
    );
    assert!((d["conversion"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(d["signed_value_vnd"], 2_000_000_000u64);
    assert_eq!(
        flows(&r),
        vec![
            ("01".into(), "79".into(), 1, 0, 0),
            ("79".into(), "01".into(), 1, 0, 0),
            ("79".into(), "79".into(), 1, 1, 500_000_000),
            ("79".into(), "92".into(), 1, 1, 1_500_000_000),
        ]
    );
}

#[tokio::test]
async fn the_national_report_covers_every_province() {
    let world = known_world().await;
    let r = report(&world, &world.admin_user, "/api/v1/reports/national").await;
    assert_eq!(r["scope"], json!({"kind": "national"}));
    let stale: Vec<&str> = r["stale_needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(stale, vec!["nd-old-92", "nd-old-79"], "oldest first");
    assert_eq!(r["deals"]["total"], 5);
    assert_eq!(r["deals"]["by_stage"]["proposed"], 1);
    let sd: Vec<(String, u64, u64)> = r["supply_demand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["supply"].as_u64().unwrap(),
                f["demand"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sd,
        vec![
            ("2.7".into(), 1, 2),
            ("2.8".into(), 2, 3),
            ("unspecified".into(), 0, 1)
        ]
    );
    let all = flows(&r);
    assert_eq!(all.len(), 5);
    assert!(all.contains(&("01".into(), "01".into(), 1, 0, 0)));
}

#[tokio::test]
async fn reports_come_as_csv_with_one_figure_per_row() {
    let world = known_world().await;
    let (status, csv, headers) = world
        .app
        .send(
            Method::GET,
            "/api/v1/reports/provinces/79?format=csv",
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.as_str().unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["section", "key", "key2", "label", "metric", "value"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let has = |row: &[&str]| rows.iter().any(|r| r == row);
    assert!(
        has(&[
            "supply_demand",
            "2.8",
            "",
            "Công nghệ sinh học môi trường",
            "supply",
            "2"
        ]),
        "{text}"
    );
    assert!(
        has(&[
            "stale_need",
            "nd-old-79",
            "",
            "Nhu cầu nd-old-79",
            "days_open",
            "40"
        ]),
        "{text}"
    );
    assert!(has(&["stage", "agreed", "", "", "deals", "2"]), "{text}");
    assert!(
        has(&["deals", "", "", "", "conversion", "0.6667"]),
        "{text}"
    );
    assert!(
        has(&["deals", "", "", "", "signed_value_vnd", "2000000000"]),
        "{text}"
    );
    assert!(
        has(&[
            "flow",
            "79",
            "92",
            "Hồ Chí Minh → Cần Thơ",
            "signed_value_vnd",
            "1500000000"
        ]),
        "{text}"
    );

    let (status, err) = world
        .call_with(
            TOKEN,
            Method::GET,
            "/api/v1/reports/national?format=pdf",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "format");
    let (status, err) = world
        .call_with(
            TOKEN,
            Method::GET,
            "/api/v1/reports/provinces/Atlantis",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
}

#[tokio::test]
async fn an_empty_market_reports_zeros_and_no_conversion() {
    let world = World::new().await;
    let r = report(&world, TOKEN, "/api/v1/reports/provinces/92").await;
    assert_eq!(r["deals"]["total"], 0);
    assert_eq!(r["deals"]["conversion"], Value::Null);
    assert_eq!(r["flows"], json!([]));
    assert_eq!(r["stale_needs"], json!([]));
    assert_eq!(
        r["supply_demand"],
        json!([{"field": "2.8", "label": "Công nghệ sinh học môi trường", "supply": 0, "demand": 1}])
    );
}
