//! Signing in: tokens, their revocation, the limit on wrong passwords per account and per
//! client address, and secrets that never reach the store in clear.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use techmatch::accounts::{add_user, reset_password, NewUser};
use techmatch::domain::account::Role;

use crate::common::TestApp;

const PASSWORD: &str = "một mật khẩu dài";

async fn app_with_users(emails: &[&str]) -> TestApp {
    let mut app = TestApp::new().await;
    // Most tests here are about counting, not pacing; one test checks the real delay.
    app.state.sign_in_delay = Duration::from_millis(5);
    for email in emails {
        let new = NewUser {
            email,
            role: Role::Enterprise,
            province: None,
            org: Some("Công ty A"),
            password: PASSWORD,
        };
        add_user(app.state.accounts.as_ref(), new, chrono::Utc::now()).unwrap();
    }
    app
}

/// `POST /api/v1/tokens` from client address `10.0.0.<host>` (as the server's connect info).
async fn sign_in_from(
    app: &TestApp,
    host: u8,
    email: &str,
    password: &str,
) -> (StatusCode, Value, Option<String>) {
    let body = json!({"email": email, "password": password}).to_string();
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tokens")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let addr: SocketAddr = ([10, 0, 0, host], 40000).into();
    req.extensions_mut().insert(ConnectInfo(addr));
    let response = techmatch::server::app(app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        retry,
    )
}

#[tokio::test]
async fn ten_wrong_passwords_in_a_row_lock_the_account_for_a_while() {
    let app = app_with_users(&["a@x.vn", "b@x.vn"]).await;
    for i in 0..10 {
        // A different address each time: only the account's count can trip.
        let (status, err, _) = sign_in_from(&app, i, "a@x.vn", "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(
            err,
            json!({"error": {"code": "unauthorized", "message": "wrong e-mail or password"}})
        );
    }
    let (status, err, retry) = sign_in_from(&app, 50, "A@x.vn", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits: {err}"
    );
    assert_eq!(err["error"]["code"], "too_many_requests");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("too many failed sign-ins; try again after "));
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let (status, _, _) = sign_in_from(&app, 51, "b@x.vn", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "other accounts are not affected"
    );
}

#[tokio::test]
async fn ten_wrong_passwords_from_one_address_lock_that_address() {
    let app = app_with_users(&["a@x.vn"]).await;
    for i in 0..10 {
        // Spread over accounts, existing or not: only the address's count can trip.
        let (status, _, _) =
            sign_in_from(&app, 7, &format!("guess{i}@x.vn"), "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = sign_in_from(&app, 7, "a@x.vn", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = sign_in_from(&app, 8, "a@x.vn", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "other addresses are not affected"
    );
}

#[tokio::test]
async fn a_right_password_ends_the_row_of_failures() {
    let app = app_with_users(&["a@x.vn"]).await;
    for i in 0..9 {
        assert_eq!(
            sign_in_from(&app, i, "a@x.vn", "wrong password!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(&app, 100, "a@x.vn", PASSWORD).await.0,
        StatusCode::CREATED
    );
    for i in 0..9 {
        assert_eq!(
            sign_in_from(&app, 20 + i, "a@x.vn", "wrong password!")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(&app, 101, "a@x.vn", PASSWORD).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn failed_sign_ins_are_slowed_without_blocking_other_requests() {
    let mut app = app_with_users(&["a@x.vn"]).await;
    app.state.sign_in_delay = techmatch::app::SIGN_IN_DELAY;
    let app = std::sync::Arc::new(app);
    let started = Instant::now();
    let slow = {
        let app = app.clone();
        tokio::spawn(async move { sign_in_from(&app, 1, "a@x.vn", "wrong password!").await.0 })
    };
    // While the failure waits, the service answers others at once.
    let (status, _) = app.get("/api/v1/provinces").await;
    assert_eq!(status, StatusCode::OK);
    let quick = started.elapsed();
    assert_eq!(slow.await.unwrap(), StatusCode::UNAUTHORIZED);
    let waited = started.elapsed();
    assert!(waited >= techmatch::app::SIGN_IN_DELAY, "{waited:?}");
    assert!(quick < waited, "{quick:?} vs {waited:?}");
    // Unknown e-mail and wrong password cannot be told apart.
    let (_, unknown, _) = sign_in_from(&app, 2, "nobody@x.vn", "wrong password!").await;
    let (_, wrong, _) = sign_in_from(&app, 3, "a@x.vn", "wrong password!").await;
    assert_eq!(unknown, wrong);
    let (status, err, _) = sign_in_from(&app, 4, "not-an-email", PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "email");
}

#[tokio::test]
async fn a_revoked_token_signs_in_no_more() {
    let app = app_with_users(&["a@x.vn"]).await;
    let (_, first, _) = sign_in_from(&app, 1, "a@x.vn", PASSWORD).await;
    let (_, second, _) = sign_in_from(&app, 1, "a@x.vn", PASSWORD).await;
    let (t1, t2) = (
        first["token"].as_str().unwrap(),
        second["token"].as_str().unwrap(),
    );
    assert_ne!(t1, t2);
    assert_eq!(first["user"]["role"], "enterprise");
    let leads = |token: &str| {
        let token = token.to_string();
        let app = &app;
        async move {
            app.send(Method::GET, "/api/v1/leads", Some(&token), None)
                .await
                .0
        }
    };
    assert_eq!(leads(t1).await, StatusCode::OK);
    let uri = format!("/api/v1/tokens/{}", first["id"].as_str().unwrap());
    let (status, _, _) = app.send(Method::DELETE, &uri, Some(t1), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(leads(t1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        leads(t2).await,
        StatusCode::OK,
        "only that token is revoked"
    );
    let (status, _, _) = app.send(Method::DELETE, &uri, Some(t2), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A password reset revokes every token and the old password.
    let (_, revoked) = reset_password(
        app.state.accounts.as_ref(),
        "a@x.vn",
        "mật khẩu mới dài hơn",
    )
    .unwrap();
    assert_eq!(revoked, 1);
    assert_eq!(leads(t2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_from(&app, 1, "a@x.vn", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_from(&app, 1, "a@x.vn", "mật khẩu mới dài hơn")
            .await
            .0,
        StatusCode::CREATED
    );
}

/// Every file under `dir`, read whole.
fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.is_file() {
            // Not sockets (a PostgreSQL cluster's directory holds its Unix socket).
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn passwords_and_tokens_never_reach_the_store_in_clear() {
    let app = app_with_users(&["lan@vien.vn"]).await;
    let (_, issued, _) = sign_in_from(&app, 1, "lan@vien.vn", PASSWORD).await;
    let token = issued["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.send(Method::GET, "/api/v1/leads", Some(&token), None)
            .await
            .0,
        StatusCode::OK
    );
    let guess = "đoán sai mật khẩu 123";
    sign_in_from(&app, 1, "lan@vien.vn", guess).await;
    let new_password = "mật khẩu thứ hai rất dài";
    reset_password(app.state.accounts.as_ref(), "lan@vien.vn", new_password).unwrap();
    let (_, again, _) = sign_in_from(&app, 1, "lan@vien.vn", new_password).await;
    let token2 = again["token"].as_str().unwrap().to_string();

    // The sled store's files, or the whole PostgreSQL cluster (tables, WAL, log).
    let stored = match &app.cluster {
        Some(cluster) => files(cluster.dir()),
        None => files(&app.workspace.data_dir().store_path()),
    };
    assert!(!stored.is_empty());
    // The scan sees what the store holds: the e-mail is there in clear, the token's hash too.
    assert!(stored.iter().any(|(_, b)| contains(b, "lan@vien.vn")));
    let hash = techmatch::accounts::credentials::token_hash(&token2);
    assert!(stored.iter().any(|(_, b)| contains(b, &hash)));
    for secret in [
        PASSWORD,
        guess,
        new_password,
        token.as_str(),
        token2.as_str(),
    ] {
        for (path, bytes) in &stored {
            assert!(
                !contains(bytes, secret),
                "{secret:?} in clear in {}",
                path.display()
            );
        }
    }
}
