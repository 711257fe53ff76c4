//! The market's statistics on a small known world of deals: every figure, the suppression of
//! cells resting on fewer than three deals, a province's and a year's scope, and the downloads.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::world::{Who, World};

/// Proposes a deal as the admin token and moves it to agreed with this value and date.
async fn agreed(world: &World, need: &str, technology: &str, value: u64, signed_on: &str) {
    let id = world.deal(need, technology).await;
    for body in [
        json!({"stage": "contacted"}),
        json!({"stage": "negotiating"}),
        json!({"stage": "agreed", "contract_value_vnd": value, "signed_on": signed_on}),
    ] {
        let (status, answer) = world
            .call(
                Who::AdminToken,
                Method::POST,
                &format!("/api/v1/deals/{id}/stage"),
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

const M: u64 = 1_000_000;

async fn world_of_deals() -> World {
    let world = World::new().await;
    agreed(&world, "nd-1", "ro-1", 50 * M, "2024-12-01").await;
    agreed(&world, "nd-1", "ro-1", 100 * M, "2025-03-01").await;
    agreed(&world, "nd-1", "pt-1", 200 * M, "2025-05-01").await;
    agreed(&world, "nd-hn", "ro-hn", 300 * M, "2025-06-01").await;
    agreed(&world, "nd-1", "pt-1", 400 * M, "2026-01-10").await;
    agreed(&world, "nd-hn", "ro-hn", 500 * M, "2026-02-01").await;
    agreed(&world, "nd-1", "ro-1", 600 * M, "2026-03-01").await;
    // A deal still open counts as proposed, not as a transaction.
    world.deal("nd-hn", "ro-hn").await;
    // Supply and demand are the index's counts: wait until it holds the world's listings.
    let seq = world.app.state.store.last_seq().unwrap();
    world.app.search_after(seq, "?q=").await;
    world
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[tokio::test]
async fn every_figure_of_a_known_market_and_small_cells_withheld() {
    let world = world_of_deals().await;
    let (status, s) = world
        .call(Who::Anonymous, Method::GET, "/api/v1/statistics", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let m = &s["market"];
    assert_eq!(m["deals_agreed"], 7);
    assert_eq!(m["value_vnd"], 2_150 * M);
    assert!(close(&m["ip_share"], 2.0 / 7.0), "{m}");
    // The institute's record says institute; the Hanoi university has no record yet.
    assert!(close(&m["domestic_research_share"], 5.0 / 7.0), "{m}");
    assert_eq!(m["suppressed"], false);
    let years = s["years"].as_array().unwrap();
    assert_eq!(years.len(), 3, "{s}");
    // 2024 rests on one deal: its count only.
    assert_eq!(years[0]["year"], 2024);
    assert_eq!(years[0]["deals_agreed"], 1);
    assert_eq!(years[0]["suppressed"], true);
    assert!(years[0].get("value_vnd").is_none() && years[0].get("ip_share").is_none());
    assert_eq!(years[1]["value_vnd"], 600 * M);
    assert!(
        years[1].get("value_growth").is_none(),
        "no growth over a withheld year"
    );
    assert_eq!(years[2]["value_vnd"], 1_500 * M);
    assert!(close(&years[2]["value_growth"], 1.5), "{}", years[2]);
    let fields = s["fields"].as_array().unwrap();
    let two = fields
        .iter()
        .find(|f| f["field"] == "2")
        .expect("engineering");
    assert_eq!(two["supply"], 3, "ro-1, pt-1, ro-hn (the draft not)");
    assert_eq!(two["demand"], 2);
    assert_eq!(two["value_vnd"], 2_150 * M);
    assert_eq!(s["supply"], 3);
    assert_eq!(s["demand"], 2);
    assert_eq!(s["needs_without_deal"], 0);
    assert_eq!(s["deals_proposed"], 8);
    assert_eq!(s["intermediaries"]["brokers"], 1);
    assert_eq!(s["intermediaries"]["organisations"], 4);

    // Cần Thơ's market: the deals of its enterprise's need.
    let (_, ct) = world
        .call(
            Who::Anonymous,
            Method::GET,
            "/api/v1/statistics?province=C%E1%BA%A7n%20Th%C6%A1",
            None,
        )
        .await;
    assert_eq!(ct["province"], "92");
    assert_eq!(ct["market"]["deals_agreed"], 5);
    assert_eq!(ct["market"]["value_vnd"], 1_350 * M);
    assert!(close(&ct["market"]["domestic_research_share"], 1.0));
    for y in ct["years"].as_array().unwrap() {
        assert_eq!(
            y["suppressed"], true,
            "each year rests on fewer than three: {y}"
        );
        assert!(y.get("value_vnd").is_none());
    }
    assert_eq!(ct["supply"], 0);
    assert_eq!(ct["demand"], 1);

    // One year.
    let (_, y) = world
        .call(
            Who::Anonymous,
            Method::GET,
            "/api/v1/statistics?year=2026",
            None,
        )
        .await;
    assert_eq!(y["market"]["deals_agreed"], 3);
    assert_eq!(y["market"]["value_vnd"], 1_500 * M);

    // Downloads, and bad parameters named.
    let (status, _, head) = world
        .app
        .send(Method::GET, "/api/v1/statistics?format=csv", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(head["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    for (query, field) in [
        ("year=20x6", "year"),
        ("province=Atlantis", "province"),
        ("format=pdf", "format"),
    ] {
        let (status, body) = world
            .call(
                Who::Anonymous,
                Method::GET,
                &format!("/api/v1/statistics?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], field);
    }
}

#[tokio::test]
async fn the_csv_leaves_withheld_figures_empty_and_the_workbook_reads_back() {
    use calamine::Reader;
    use techmatch::app::statistics::{compute, to_csv, to_xlsx, Scope};
    let world = world_of_deals().await;
    let index = world.app.state.index.clone();
    let stats = world
        .app
        .state
        .run(move |ex| compute(ex, &index, &Scope::default()))
        .await
        .unwrap();
    let csv = to_csv(&stats).unwrap();
    assert!(
        csv.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines.contains(&"market,,value_vnd,2150000000"), "{csv}");
    assert!(lines.contains(&"year,2024,value_vnd,"), "withheld: {csv}");
    assert!(lines.contains(&"year,2024,suppressed,true"), "{csv}");
    assert!(lines.contains(&"year,2026,value_growth,1.5000"), "{csv}");
    let book = to_xlsx(&stats).unwrap();
    let mut xlsx = calamine::Xlsx::new(std::io::Cursor::new(book)).unwrap();
    let sheet = xlsx.worksheet_range("techmatch").unwrap();
    let value = sheet
        .rows()
        .find(|r| r.len() == 4 && r[0] == "market" && r[2] == "value_vnd")
        .map(|r| r[3].clone())
        .expect("the market's value row");
    assert_eq!(
        value,
        calamine::Data::Float(2_150_000_000.0),
        "a number, not text"
    );
}

#[tokio::test]
async fn comparable_deals_value_a_technology_for_brokers_and_its_owner_only() {
    let world = world_of_deals().await;
    let (status, only_two) = world
        .call(
            Who::Broker,
            Method::GET,
            "/api/v1/listings/ro-1/comparables",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{only_two}");
    // pt-1's two deals are alike (same sub-field 2.8); ro-1's own are left out: too few.
    assert_eq!(only_two["count"], 2);
    assert_eq!(only_two["suppressed"], true);
    assert!(only_two.get("median_vnd").is_none());
    world
        .app
        .post_listing(crate::world::listing(
            "ro-2",
            "research_output",
            crate::world::INSTITUTE,
            "79",
            "2.8",
        ))
        .await;
    agreed(&world, "nd-1", "ro-2", 700 * M, "2026-04-01").await;
    let (_, three) = world
        .call(
            Who::Institute,
            Method::GET,
            "/api/v1/listings/ro-1/comparables",
            None,
        )
        .await;
    assert_eq!(three["count"], 3, "{three}");
    assert_eq!(three["median_vnd"], 400 * M);
    assert_eq!(three["min_vnd"], 200 * M);
    assert_eq!(three["max_vnd"], 700 * M);
    // Not for another enterprise, not anonymous, not on a need.
    let (status, _) = world
        .call(
            Who::Enterprise,
            Method::GET,
            "/api/v1/listings/ro-1/comparables",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = world
        .call(
            Who::Anonymous,
            Method::GET,
            "/api/v1/listings/ro-1/comparables",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = world
        .call(
            Who::Broker,
            Method::GET,
            "/api/v1/listings/nd-1/comparables",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Anonymous readers of the listing's page see no valuation.
    let (status, page, _) = world
        .app
        .send(Method::GET, "/listings/ro-1", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap_or_default().to_string();
    assert!(page.contains("ro-1") || page.contains("Tin ro-1"), "{page}");
    assert!(!page.contains("id=\"comparables\""), "{page}");
}
