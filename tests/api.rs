//! The listing API: rights, the life of a listing, and the error contract.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{seq_of, TestApp, TOKEN};

fn need() -> serde_json::Value {
    json!({
        "id": "nd-1",
        "kind": "need",
        "title": "Cần công nghệ xử lý nước thải chế biến cá tra",
        "description": "Nhà máy 200 m³/ngày cần xử lý đạt QCVN.",
        "province": "Đồng Tháp",
        "budget_max_vnd": 2_000_000_000u64,
        "contact_email": "kythuat@example.vn"
    })
}

#[tokio::test]
async fn writes_need_the_admin_token() {
    let app = TestApp::new().await;
    let body = need().to_string();
    let (status, err, _) = app
        .send(Method::POST, "/api/v1/listings", None, Some(&body))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "unauthorized");
    let (status, _, _) = app
        .send(Method::POST, "/api/v1/listings", Some("wrong"), Some(&body))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app
        .send(Method::GET, "/api/v1/search?q=x", Some("wrong"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a wrong token is not silently ignored"
    );
}

#[tokio::test]
async fn a_listing_is_created_read_replaced_and_deleted() {
    let app = TestApp::new().await;
    let seq = app.post_listing(need()).await;
    assert!(seq > 0);

    let (status, body) = app.get("/api/v1/listings/nd-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["province"], "82");
    assert!(
        body.get("contact_email").is_none(),
        "anonymous readers see no contact: {body}"
    );
    let (_, admin_view, _) = app
        .send(Method::GET, "/api/v1/listings/nd-1", Some(TOKEN), None)
        .await;
    assert_eq!(admin_view["contact_email"], "kythuat@example.vn");

    let (status, _, _) = app
        .send(
            Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some(&need().to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let mut changed = need();
    changed["title"] = json!("Cần hệ thống xử lý nước thải mới");
    let (status, replaced, headers) = app
        .send(
            Method::PUT,
            "/api/v1/listings/nd-1",
            Some(TOKEN),
            Some(&changed.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["created_at"], admin_view["created_at"]);
    let put_seq = seq_of(&headers);
    assert!(put_seq > seq);
    let found = app.search_after(put_seq, "?q=he+thong+xu+ly").await;
    assert_eq!(
        found["hits"][0]["title"],
        "Cần hệ thống xử lý nước thải mới"
    );

    let (status, _, headers) = app
        .send(Method::DELETE, "/api/v1/listings/nd-1", Some(TOKEN), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let del_seq = seq_of(&headers);
    let after = app.search_after(del_seq, "?q=nuoc+thai").await;
    assert_eq!(after["total"], 0);
    let (status, _) = app.get("/api/v1/listings/nd-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .send(Method::DELETE, "/api/v1/listings/nd-1", Some(TOKEN), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn put_creates_with_the_url_id_and_refuses_a_different_body_id() {
    let app = TestApp::new().await;
    let mut body = need();
    body.as_object_mut().unwrap().remove("id");
    let (status, created, _) = app
        .send(
            Method::PUT,
            "/api/v1/listings/nd-new",
            Some(TOKEN),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["id"], "nd-new");
    let (status, err, _) = app
        .send(
            Method::PUT,
            "/api/v1/listings/other",
            Some(TOKEN),
            Some(&need().to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "id");
}

#[tokio::test]
async fn an_invalid_listing_reports_every_field() {
    let app = TestApp::new().await;
    let body = json!({"kind": "need", "title": "", "province": "Atlantis", "trl_min": 0});
    let (status, err, _) = app
        .send(
            Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "invalid_listing");
    let fields: Vec<&str> = err["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    for f in ["title", "description", "province", "trl_min"] {
        assert!(fields.contains(&f), "{f} missing from {err}");
    }
    assert_eq!(err["error"]["field"], fields[0]);
}

#[tokio::test]
async fn the_error_body_is_a_stable_contract() {
    let app = TestApp::new().await;
    let (status, err, _) = app
        .send(
            Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some("{\"kind\": "),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "invalid_json");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON"));

    let (status, err, _) = app
        .send(
            Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some("[1, 2]"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err,
        json!({"error": {"code": "invalid_json", "message": "the body must be a JSON object"}})
    );

    let huge = json!({"kind": "need", "title": "x", "description": "x".repeat(2 * 1024 * 1024)});
    let (status, err, _) = app
        .send(
            Method::POST,
            "/api/v1/listings",
            Some(TOKEN),
            Some(&huge.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"]["code"], "body_too_large");

    let (status, err) = app.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "not_found");

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, err, _) = app
        .send(Method::POST, "/api/v1/listings", Some(TOKEN), Some(&deep))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
}

#[tokio::test]
async fn reference_data_and_health_are_served() {
    let app = TestApp::new().await;
    let (status, provinces) = app.get("/api/v1/provinces").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(provinces.as_array().map(Vec::len), Some(34));
    let (_, fields) = app.get("/api/v1/fields").await;
    assert_eq!(fields.as_array().map(Vec::len), Some(48));
    let seq = app.post_listing(need()).await;
    app.search_after(seq, "?q=x").await;
    let (status, health) = app.get("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["store_seq"], seq);
    assert_eq!(health["index_lag"], 0);
    // The index holds drafts too: its size is for administrators.
    assert!(health.get("listings_indexed").is_none(), "{health}");
    let (_, health, _) = app
        .send(Method::GET, "/api/v1/health", Some(TOKEN), None)
        .await;
    assert_eq!(health["listings_indexed"], 1);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::new().await;
    let (status, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // The router's routes are all documented (the unit test beside the document checks that
    // direction); here every documented operation is routed.
    assert!(paths.len() >= 52, "{} paths", paths.len());
    for (path, item) in paths {
        for m in item.as_object().unwrap().keys() {
            if m == "parameters" {
                continue;
            }
            // Answered by the route, not by the fallback's 404 for unknown routes.
            let uri = path
                .replace("{code}", "79")
                .replace("{id}", "nope")
                .replace("{user_id}", "nope")
                .replace("{secret}", "nope");
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let (_, body, _) = app.send(method, &uri, Some(TOKEN), Some("{}")).await;
            assert_ne!(body["error"]["message"], "route not found", "{m} {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_id_let_exactly_one_through() {
    let app = std::sync::Arc::new(TestApp::new().await);
    for round in 0..10 {
        let mut body = need();
        body["id"] = json!(format!("race-{round}"));
        let body = body.to_string();
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (app, body) = (app.clone(), body.clone());
                tokio::spawn(async move {
                    app.send(Method::POST, "/api/v1/listings", Some(TOKEN), Some(&body))
                        .await
                        .0
                })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1, "round {round}");
    }
}

#[tokio::test]
async fn over_the_in_flight_limit_the_answer_is_a_prompt_json_503() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let limits = techmatch::server::Limits {
        max_in_flight: 0,
        ..techmatch::server::Limits::default()
    };
    let response = techmatch::server::app_with_limits(app.state.clone(), limits)
        .oneshot(
            axum::http::Request::get("/api/v1/health")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

/// A request that outlives the time limit is answered with our JSON 503.
#[tokio::test]
async fn a_request_over_the_time_limit_gets_a_json_503() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let limits = techmatch::server::Limits {
        timeout: std::time::Duration::from_millis(1),
        ..techmatch::server::Limits::default()
    };
    // A sign-in hashes the password with argon2id (~19 MiB, tens of milliseconds), even for
    // an unknown address.
    let body = json!({"email": "nobody@example.vn", "password": "not the password"});
    let response = techmatch::server::app_with_limits(app.state.clone(), limits)
        .oneshot(
            axum::http::Request::post("/api/v1/tokens")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["error"]["message"], "the request took longer than 0 s");
}

#[tokio::test]
async fn writes_over_the_per_address_rate_get_a_json_429() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let limits = techmatch::server::Limits {
        writes_per_second: 0.001,
        write_burst: 2.0,
        ..techmatch::server::Limits::default()
    };
    let router = techmatch::server::app_with_limits(app.state.clone(), limits);
    let send = |addr: [u8; 4], id: &str| {
        let mut body = need();
        body["id"] = json!(id);
        let mut request = axum::http::Request::post("/api/v1/listings")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        let peer = std::net::SocketAddr::from((addr, 4000));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        router.clone().oneshot(request)
    };
    assert_eq!(
        send([10, 0, 0, 1], "a").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        send([10, 0, 0, 1], "b").await.unwrap().status(),
        StatusCode::CREATED
    );
    let refused = send([10, 0, 0, 1], "c").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    // Another address has its own bucket, and reads are never limited.
    assert_eq!(
        send([10, 0, 0, 2], "d").await.unwrap().status(),
        StatusCode::CREATED
    );
    let (status, _) = app.get("/api/v1/listings/a").await;
    assert_eq!(status, StatusCode::OK);
}
