//! Findings of the outside attack (issue 23), each as a test that failed before its fix:
//! sign-ins in flight together, memory per sign-in, `min_seq` floods, e-mail look-alikes,
//! expired tokens, file modes, backup targets, paths that are not UTF-8.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::{ApiToken, Role, User};

use crate::cli::Server;
use crate::cli_user::cli_with_stdin;
use crate::common::{stderr, TestApp, Workspace, TOKEN};

const PASSWORD: &str = "một mật khẩu dài";

async fn app_with_user(email: &str) -> TestApp {
    let mut app = TestApp::new().await;
    app.state.sign_in_delay = Duration::from_millis(5);
    let new = NewUser {
        email,
        role: Role::Enterprise,
        province: None,
        org: Some("Công ty A"),
        password: PASSWORD,
    };
    add_user(app.state.accounts.as_ref(), new, chrono::Utc::now()).unwrap();
    app
}

/// `POST /api/v1/tokens` from `10.0.<a>.<b>`; the status and the body.
async fn sign_in_from(app: &TestApp, from: [u8; 2], body: Value) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tokens")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let addr: SocketAddr = ([10, 0, from[0], from[1]], 40000).into();
    req.extensions_mut().insert(ConnectInfo(addr));
    let response = techmatch::server::app(app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ins_in_flight_together_cannot_pass_the_lock() {
    let app = Arc::new(app_with_user("a@x.vn").await);
    // 40 wrong passwords at once, each from its own address, so that only the account's
    // count can stop them: before, the lock was checked before the hash and the failure
    // counted after it, and all 40 were checked.
    let tasks: Vec<_> = (0..40u8)
        .map(|i| {
            let app = app.clone();
            let body = json!({"email": "a@x.vn", "password": "wrong password!"});
            tokio::spawn(async move { sign_in_from(&app, [1, i], body).await })
        })
        .collect();
    let mut checked = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        checked <= 10,
        "{checked} passwords were checked; the lock closes after 10"
    );
    // The right password now waits too.
    let (status, body) = sign_in_from(
        &app,
        [2, 1],
        json!({"email": "a@x.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn a_right_password_does_not_count_against_the_address() {
    let app = app_with_user("a@x.vn").await;
    // Failures are reserved before the hash: a right password must hand its attempt back,
    // or an office signing in together would lock itself out.
    for _ in 0..15 {
        let (status, body) = sign_in_from(
            &app,
            [3, 3],
            json!({"email": "a@x.vn", "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

#[tokio::test]
async fn e_mails_meet_in_any_normal_form_and_case_and_invisible_characters_are_refused() {
    let app = app_with_user("jos\u{e9}@x.vn").await;
    // Decomposed and upper case: the same account, not a second one.
    let again = NewUser {
        email: "JOSE\u{301}@X.VN",
        role: Role::Enterprise,
        province: None,
        org: Some("Công ty B"),
        password: PASSWORD,
    };
    assert!(add_user(app.state.accounts.as_ref(), again, chrono::Utc::now()).is_err());
    let (status, body) = sign_in_from(
        &app,
        [4, 1],
        json!({"email": "jose\u{301}@x.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for bad in [
        "jos\u{e9}\u{200b}@x.vn",
        "jos\u{e9}@x\u{202e}.vn",
        "a\t@x.vn",
    ] {
        let (status, body) =
            sign_in_from(&app, [4, 2], json!({"email": bad, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["error"]["field"], "email", "{body}");
    }
}

#[tokio::test]
async fn accounts_stored_before_e_mails_were_folded_still_sign_in() {
    let app = TestApp::new().await;
    // As an older version stored it: lowercased only, decomposed as typed.
    let hash = techmatch::accounts::credentials::hash_password(PASSWORD).unwrap();
    let legacy = User {
        id: "u-legacy".into(),
        email: "jose\u{301}@x.vn".into(),
        role: Role::Enterprise,
        province: None,
        org: Some("Công ty A".into()),
        org_id: None,
        password_hash: hash,
        created_at: chrono::Utc::now(),
        name: None,
        confirmed: true,
    };
    assert!(app.state.accounts.add_user(&legacy).unwrap());
    let (status, body) = sign_in_from(
        &app,
        [5, 1],
        json!({"email": "Jos\u{e9}@x.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn tokens_may_expire() {
    let app = app_with_user("a@x.vn").await;
    let (status, issued) = sign_in_from(
        &app,
        [6, 1],
        json!({"email": "a@x.vn", "password": PASSWORD, "expires_in_days": 30}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let token = issued["token"].as_str().unwrap();
    assert!(issued["expires_at"].is_string(), "{issued}");
    let (status, _, _) = app
        .send(Method::GET, "/api/v1/leads", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sign_in_from(
        &app,
        [6, 1],
        json!({"email": "a@x.vn", "password": PASSWORD, "expires_in_days": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "expires_in_days");
    // One that expired a minute ago signs nobody in.
    let user = app.state.accounts.user_by_email("a@x.vn").unwrap().unwrap();
    let secret = "tm_expired-token-for-the-test";
    app.state
        .accounts
        .add_token(&ApiToken {
            id: "tk-expired".into(),
            user_id: user.id,
            hash: techmatch::accounts::credentials::token_hash(secret),
            created_at: chrono::Utc::now() - chrono::Duration::days(2),
            expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        })
        .unwrap();
    let (status, _, _) = app
        .send(Method::GET, "/api/v1/leads", Some(secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_min_seq_beyond_the_store_is_refused_at_once() {
    let app = TestApp::new().await;
    let started = Instant::now();
    let (status, body) = app.get("/api/v1/search?q=x&min_seq=999999999999").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "min_seq");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "it did not wait"
    );
}

#[tokio::test]
async fn a_path_that_is_not_utf8_gets_our_json_error() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/api/v1/listings/%FF%FE").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "path", "{body}");
}

#[tokio::test]
async fn backups_go_only_to_a_clean_absolute_path() {
    let app = TestApp::new().await;
    let base = app.workspace.dir.path().display().to_string();
    for dir in [format!("{base}/a/../b"), "relative".to_string()] {
        let body = json!({ "dir": dir }).to_string();
        let (status, answer, _) = app
            .send(
                Method::POST,
                "/api/v1/admin/backup",
                Some(TOKEN),
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{dir}: {answer}");
        assert_eq!(answer["error"]["field"], "dir");
    }
    assert!(!app.workspace.dir.path().join("b").exists());
}

/// The server's peak resident memory, in MiB.
fn peak_mib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    kib / 1024
}

/// Sends `count` sign-ins at the same moment from loopback; the statuses.
fn sign_ins_at_once(server: &Server, passwords: Vec<String>) -> Vec<u16> {
    let barrier = Arc::new(Barrier::new(passwords.len()));
    let addr = server.addr.clone();
    let threads: Vec<_> = passwords
        .into_iter()
        .map(|password| {
            let (barrier, addr) = (barrier.clone(), addr.clone());
            std::thread::spawn(move || {
                let body = json!({"email": "lan@x.vn", "password": password}).to_string();
                let request = format!(
                    "POST /api/v1/tokens HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let mut stream = TcpStream::connect(&addr).expect("connect");
                barrier.wait();
                stream.write_all(request.as_bytes()).expect("send");
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                answer
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn with_user(ws: &Workspace) {
    let out = cli_with_stdin(
        ws,
        &[
            "user",
            "add",
            "lan@x.vn",
            "--role",
            "institute",
            "--org",
            "Viện A",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn forty_sign_ins_at_once_keep_the_server_small_and_the_lock_shut() {
    let ws = Workspace::new();
    with_user(&ws);
    // The per-address sign-in limit is off: the hashing turns alone must bound memory.
    let server = Server::start(&ws, &["--max-sign-ins-per-minute", "0"]);
    let statuses = sign_ins_at_once(&server, vec![PASSWORD.to_string(); 40]);
    let peak = peak_mib(&server);
    assert!(peak < 300, "peak RSS {peak} MiB for 40 sign-ins at once");
    assert!(
        statuses.iter().all(|s| [201, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    // 39 wrong and the right one at once, from one address: at most ten failures, and the
    // right password afterwards is refused. (The right one may be accepted if its turn came
    // before the tenth failure: a right password never counts as one.)
    let mut passwords = vec!["wrong password!".to_string(); 39];
    passwords.push(PASSWORD.to_string());
    let statuses = sign_ins_at_once(&server, passwords);
    let failures = statuses.iter().filter(|s| **s == 401).count();
    assert!(failures <= 10, "{failures} failures: {statuses:?}");
    let body = json!({"email": "lan@x.vn", "password": PASSWORD}).to_string();
    let (status, answer) = server.request("POST", "/api/v1/tokens", None, Some(&body));
    if failures == 10 {
        assert_eq!(status, 429, "{answer}");
    }
    assert!(
        statuses.iter().all(|s| [201, 401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    let peak = peak_mib(&server);
    assert!(peak < 300, "peak RSS {peak} MiB");
}

/// Opens a connection to `addr` from the loopback address `from` (127.0.0.0/8 is all ours).
async fn connect_from(from: [u8; 4], addr: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    socket
        .connect(addr.parse().unwrap())
        .await
        .expect("connect")
}

/// GET `path` from `from`; the status (0 when the connection failed).
async fn get_from(from: [u8; 4], addr: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = connect_from(from, addr).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_min_seq_flood_from_one_client_leaves_the_others_served() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &[]);
    let addr = server.addr.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        // 600 searches at once, more than the 512 requests in flight, each asking for a
        // sequence the store has not reached.
        let flood: Vec<_> = (0..600)
            .map(|_| {
                let addr = addr.clone();
                tokio::spawn(async move {
                    get_from(
                        [127, 0, 0, 1],
                        &addr,
                        "/api/v1/search?q=x&min_seq=999999999999",
                    )
                    .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        for path in ["/api/v1/provinces", "/api/v1/search?q=tom", "/"] {
            let status = get_from([127, 0, 0, 2], &addr, path).await;
            assert_eq!(status, 200, "{path} from another client during the flood");
        }
        assert!(started.elapsed() < Duration::from_secs(3));
        let mut statuses = Vec::new();
        for f in flood {
            statuses.push(f.await.unwrap());
        }
        assert!(
            statuses.iter().all(|s| [400, 429].contains(s)),
            "the flood is refused at once, never waits nor takes every slot: {:?}",
            statuses
                .iter()
                .filter(|s| ![400, 429].contains(*s))
                .collect::<Vec<_>>()
        );
    });
}

#[test]
fn reads_are_limited_per_client_address() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &["--max-reads-per-second", "5"]);
    let addr = server.addr.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut refused = 0;
        for _ in 0..40 {
            if get_from([127, 0, 0, 3], &addr, "/api/v1/provinces").await == 429 {
                refused += 1;
            }
        }
        assert!(
            refused > 0,
            "40 reads at once from one client were never limited"
        );
        assert_eq!(
            get_from([127, 0, 0, 4], &addr, "/api/v1/provinces").await,
            200
        );
    });
}

/// Every file and directory under `dir` whose mode lets anyone but the owner in.
fn open_to_others(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            found.push(format!("{} {mode:o}", path.display()));
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
    }
    found
}

#[test]
fn store_index_and_backups_are_private_files() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &[]);
    let token = server.token.clone().expect("token");
    let body = json!({"id": "nd-private", "kind": "need", "title": "Máy sấy lạnh",
        "description": "Sấy lạnh trái cây", "contact_email": "bi.mat@x.vn"})
    .to_string();
    let (status, answer) = server.request("POST", "/api/v1/listings", Some(&token), Some(&body));
    assert_eq!(status, 201, "{answer}");
    server.get_json("/api/v1/search?q=may+say&min_seq=1");
    let open = open_to_others(&ws.data());
    assert!(open.is_empty(), "readable by others: {open:#?}");
    let target = ws.dir.path().join("backups").join("one");
    let body = json!({"dir": target.display().to_string()}).to_string();
    let (status, answer) =
        server.request("POST", "/api/v1/admin/backup", Some(&token), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let open = open_to_others(&target);
    assert!(open.is_empty(), "backup readable by others: {open:#?}");
}
