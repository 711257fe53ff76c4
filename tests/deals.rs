//! The broker's desk: interest becomes a lead, a deal moves through the pipeline, forbidden
//! moves are refused, and the history only ever grows.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::Role;

use crate::world::{World, ENTERPRISE, PASSWORD};

/// Adds a user with [`PASSWORD`] and returns their token.
async fn user(
    world: &World,
    email: &str,
    role: Role,
    province: Option<&str>,
    org: Option<&str>,
) -> String {
    let new = NewUser {
        email,
        role,
        province,
        org,
        password: PASSWORD,
    };
    add_user(world.app.state.accounts.as_ref(), new, chrono::Utc::now()).unwrap();
    world.token_of(email).await
}

async fn stage(world: &World, token: &str, deal: &str, body: Value) -> (StatusCode, Value) {
    world
        .call_with(
            token,
            Method::POST,
            &format!("/api/v1/deals/{deal}/stage"),
            Some(body),
        )
        .await
}

async fn history(world: &World, token: &str, deal: &str) -> Vec<Value> {
    let (status, body) = world
        .call_with(
            token,
            Method::GET,
            &format!("/api/v1/deals/{deal}/history"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deal_id"], deal);
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_deal_moves_through_the_pipeline_and_every_step_is_in_its_history() {
    let world = World::new().await;
    let broker = world.broker.clone();
    let (status, deal) = world
        .call_with(
            &broker,
            Method::POST,
            "/api/v1/deals",
            Some(json!({"need_id": "nd-1", "listing_id": "ro-1", "note": "Hai bên phù hợp"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{deal}");
    assert_eq!(deal["stage"], "proposed");
    assert_eq!(deal["need_province"], "92");
    assert_eq!(deal["listing_province"], "79");
    assert_eq!(deal["created_by"], "moigioi@hcm.gov.vn");
    let id = deal["id"].as_str().unwrap().to_string();

    for (to, note) in [
        ("contacted", "Đã gọi hai bên"),
        ("negotiating", "Đang bàn giá"),
    ] {
        let (status, moved) = stage(&world, &broker, &id, json!({"stage": to, "note": note})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["stage"], to);
    }
    // The Cần Thơ broker runs it too: the need is in Cần Thơ.
    let (status, err) = stage(
        &world,
        &world.broker_can_tho,
        &id,
        json!({"stage": "agreed"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "contract_value_vnd");
    let (status, err) = stage(
        &world,
        &world.broker_can_tho,
        &id,
        json!({"stage": "agreed", "contract_value_vnd": 1_500_000_000u64}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "signed_on");
    let (status, agreed) = stage(
        &world,
        &world.broker_can_tho,
        &id,
        json!({"stage": "agreed", "contract_value_vnd": 1_500_000_000u64, "signed_on": "15/10/2025", "note": "Ký hợp đồng li-xăng"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{agreed}");
    assert_eq!(agreed["stage"], "agreed");
    assert_eq!(agreed["contract_value_vnd"], 1_500_000_000u64);
    assert_eq!(agreed["signed_on"], "2025-10-15");

    let events = history(&world, &broker, &id).await;
    let summary: Vec<(u64, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["n"].as_u64().unwrap(),
                e["by"].as_str().unwrap(),
                e["what"]["to"]
                    .as_str()
                    .unwrap_or(e["what"]["type"].as_str().unwrap()),
                e["note"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "moigioi@hcm.gov.vn", "proposed", "Hai bên phù hợp"),
            (2, "moigioi@hcm.gov.vn", "contacted", "Đã gọi hai bên"),
            (3, "moigioi@hcm.gov.vn", "negotiating", "Đang bàn giá"),
            (4, "moigioi@cantho.gov.vn", "agreed", "Ký hợp đồng li-xăng"),
        ]
    );
    assert_eq!(events[3]["what"]["from"], "negotiating");
    assert_eq!(events[3]["what"]["contract_value_vnd"], 1_500_000_000u64);
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn forbidden_moves_answer_409_and_change_nothing() {
    let world = World::new().await;
    let broker = world.broker.clone();
    let id = world.deal("nd-1", "ro-1").await;
    let (status, err) = stage(
        &world,
        &broker,
        &id,
        json!({"stage": "agreed", "contract_value_vnd": 1, "signed_on": "2025-01-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        err,
        json!({"error": {
            "code": "invalid_transition",
            "message": "a deal in stage proposed cannot move to agreed; from proposed it may move to contacted or lost",
            "field": "stage",
        }})
    );
    for to in ["negotiating", "proposed"] {
        let (status, _) = stage(&world, &broker, &id, json!({"stage": to})).await;
        assert_eq!(status, StatusCode::CONFLICT, "proposed -> {to}");
    }
    let (status, err) = stage(&world, &broker, &id, json!({"stage": "signed"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "stage");
    let (status, err) = stage(&world, &broker, &id, json!({"stage": "lost"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "reason");
    let (status, err) = stage(
        &world,
        &broker,
        &id,
        json!({"stage": "lost", "reasons": "typo"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "reasons");
    let (status, lost) = stage(
        &world,
        &broker,
        &id,
        json!({"stage": "lost", "reason": "Doanh nghiệp chọn giải pháp nhập khẩu"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lost["lost_reason"], "Doanh nghiệp chọn giải pháp nhập khẩu");
    for to in ["contacted", "lost", "agreed"] {
        let (status, err) = stage(&world, &broker, &id, json!({"stage": to, "reason": "x"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "lost -> {to}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .ends_with("lost is final"),
            "{err}"
        );
    }
    let events = history(&world, &broker, &id).await;
    assert_eq!(events.len(), 2, "refused moves leave no trace: {events:?}");
    assert_eq!(
        events[1]["what"]["reason"],
        "Doanh nghiệp chọn giải pháp nhập khẩu"
    );
    let (status, _) = stage(&world, &broker, "dl-nothing", json!({"stage": "contacted"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn history_cannot_be_changed_through_the_api() {
    let world = World::new().await;
    let id = world.deal("nd-1", "ro-1").await;
    let (status, _) = stage(
        &world,
        crate::common::TOKEN,
        &id,
        json!({"stage": "contacted"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = history(&world, crate::common::TOKEN, &id).await;
    assert_eq!(before.len(), 2);
    assert_eq!(before[0]["by"], "admin-token");
    let uri = format!("/api/v1/deals/{id}/history");
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, body) = world
            .call_with(
                crate::common::TOKEN,
                method.clone(),
                &uri,
                Some(json!({"events": []})),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}: {body}");
    }
    let uri = format!("/api/v1/deals/{id}");
    let (status, _) = world
        .call_with(crate::common::TOKEN, Method::DELETE, &uri, None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "there is no route to delete a deal"
    );
    assert_eq!(history(&world, crate::common::TOKEN, &id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_of_one_deal_let_exactly_one_through() {
    let world = Arc::new(World::new().await);
    let id = world.deal("nd-1", "ro-1").await;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (world, id) = (world.clone(), id.clone());
            tokio::spawn(async move {
                let broker = world.broker.clone();
                stage(
                    &world,
                    &broker,
                    &id,
                    json!({"stage": "contacted", "note": format!("lần {i}")}),
                )
                .await
                .0
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(history(&world, &world.broker, &id).await.len(), 2);
}

#[tokio::test]
async fn brokers_see_the_deals_of_their_province_only() {
    let world = World::new().await;
    let both = world.deal("nd-1", "ro-1").await; // 92 need, 79 technology
    let hanoi = world.deal("nd-hn", "ro-hn").await; // 01 and 01
    let ha_noi_broker = user(
        &world,
        "moigioi@hanoi.gov.vn",
        Role::Broker,
        Some("Hà Nội"),
        None,
    )
    .await;
    for (token, expected) in [
        (world.broker.clone(), vec![both.clone()]),
        (world.broker_can_tho.clone(), vec![both.clone()]),
        (ha_noi_broker, vec![hanoi.clone()]),
        (crate::common::TOKEN.to_string(), vec![both, hanoi]),
    ] {
        let (status, body) = world
            .call_with(&token, Method::GET, "/api/v1/deals", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = body["deals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected);
        assert_eq!(body["total"], expected.len());
    }
}

#[tokio::test]
async fn interest_is_a_lead_for_the_owner_and_the_brokers_of_both_provinces() {
    let world = World::new().await;
    let (status, err) = world
        .call_with(
            &world.enterprise,
            Method::POST,
            "/api/v1/listings/ro-1/interest",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "message");
    let (status, lead) = world
        .call_with(
            &world.enterprise,
            Method::POST,
            "/api/v1/listings/ro-1/interest",
            Some(json!({"message": "Chúng tôi cần xử lý 200 m³/ngày"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    assert_eq!(lead["listing_province"], "79");
    assert_eq!(lead["from_province"], "92");
    assert_eq!(lead["from_org"], ENTERPRISE);
    assert_eq!(lead["from_email"], "minh@mekong.vn");
    let (status, _) = world
        .call_with(
            &world.enterprise,
            Method::POST,
            "/api/v1/listings/ro-draft/interest",
            Some(json!({"message": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "drafts are not offered");

    let hanoi = user(
        &world,
        "moigioi@hanoi.gov.vn",
        Role::Broker,
        Some("Hà Nội"),
        None,
    )
    .await;
    let other_institute = user(
        &world,
        "an@bk.edu.vn",
        Role::Institute,
        None,
        Some("Đại học Bách khoa Hà Nội"),
    )
    .await;
    for (token, sees) in [
        (world.institute.clone(), 1),
        (world.enterprise.clone(), 1),
        (world.broker.clone(), 1),
        (world.broker_can_tho.clone(), 1),
        (world.admin_user.clone(), 1),
        (hanoi, 0),
        (other_institute, 0),
    ] {
        let (status, body) = world
            .call_with(&token, Method::GET, "/api/v1/leads", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["total"], sees, "{body}");
    }

    // A colleague without a province of their own: the organisation's listings tell (nd-1, 92).
    let colleague = user(
        &world,
        "hoa@mekong.vn",
        Role::Enterprise,
        None,
        Some(ENTERPRISE),
    )
    .await;
    let (_, lead2) = world
        .call_with(
            &colleague,
            Method::POST,
            "/api/v1/listings/pt-1/interest",
            Some(json!({"message": "Bằng sáng chế này còn hiệu lực?"})),
        )
        .await;
    assert_eq!(lead2["from_province"], "92");

    // The broker turns the lead into a deal; the technology comes from the lead.
    let (status, deal) = world
        .call_with(
            &world.broker_can_tho,
            Method::POST,
            "/api/v1/deals",
            Some(json!({"need_id": "nd-1", "lead_id": lead["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{deal}");
    assert_eq!(deal["listing_id"], "ro-1");
    assert_eq!(deal["lead_id"], lead["id"]);
    let (status, err) = world
        .call_with(
            &world.broker_can_tho,
            Method::POST,
            "/api/v1/deals",
            Some(json!({"need_id": "nd-1", "lead_id": lead["id"], "listing_id": "pt-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "listing_id");
    let (status, err) = world
        .call_with(
            &world.broker,
            Method::POST,
            "/api/v1/deals",
            Some(json!({"need_id": "ro-1", "listing_id": "pt-1"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a research output is not a need"
    );
    assert_eq!(err["error"]["field"], "need_id");
}
