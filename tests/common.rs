//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use techmatch::app::AppState;
use techmatch::data_dir::DataDir;
use techmatch::store::Stores;

/// The token the in-process test app accepts.
pub const TOKEN: &str = "test-admin-token";

/// A temporary data directory and a place for input files.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn data_dir(&self) -> DataDir {
        DataDir::new(self.data())
    }

    /// Writes `content` to a file in the workspace and returns its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write input file");
        path
    }

    /// Runs the techmatch binary with this workspace's data dir.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_techmatch"))
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env("TECHMATCH_LOG", "warn")
            .output()
            .expect("run techmatch")
    }

    /// Runs the binary and parses its standard output as JSON; panics with stderr on failure.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "techmatch {args:?} failed: {}",
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One listing as a JSON line.
pub fn line(v: Value) -> String {
    format!("{v}\n")
}

/// Ids of the hits of a search answer, in order.
pub fn hit_ids(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The HTTP application over a fresh data dir, in process.
///
/// With `TECHMATCH_TEST_STORE=postgres` its store is a `PgStore` on a throw-away cluster of its
/// own instead of sled, so that every in-process API test also checks the PostgreSQL store:
/// `TECHMATCH_TEST_STORE=postgres cargo test --test integration api:: deals:: ...`.
pub struct TestApp {
    pub state: AppState,
    pub workspace: Workspace,
    /// The cluster under a PostgreSQL store; dropped (stopped) after the state.
    pub cluster: Option<techmatch_bench::pg::TempCluster>,
}

impl TestApp {
    pub async fn new() -> Self {
        let workspace = Workspace::new();
        let data = workspace.data_dir();
        let (store, cluster) = if std::env::var("TECHMATCH_TEST_STORE").as_deref() == Ok("postgres")
        {
            let cluster = techmatch_bench::pg::TempCluster::start().expect("PostgreSQL cluster");
            let store = techmatch::store::PgStore::open(&cluster.connection_string())
                .expect("PostgreSQL store");
            (Stores::shared(Arc::new(store)), Some(cluster))
        } else {
            let store = Stores::shared(Arc::new(data.open_store().expect("store")));
            (store, None)
        };
        let index = Arc::new(data.open_index().expect("index"));
        let state = techmatch::server::start(store, index, &techmatch::server::Config::new(TOKEN));
        TestApp {
            state,
            workspace,
            cluster,
        }
    }

    /// Sends a request and returns the status, the JSON body (Null when empty) and the headers.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let response = techmatch::server::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, json, headers)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::GET, uri, None, None).await;
        (s, v)
    }

    /// Creates a listing as admin and returns the write's sequence.
    pub async fn post_listing(&self, listing: Value) -> u64 {
        let (status, body, headers) = self
            .send(
                Method::POST,
                "/api/v1/listings",
                Some(TOKEN),
                Some(&listing.to_string()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        seq_of(&headers)
    }

    /// Searches, waiting until the index holds the write with sequence `seq`.
    pub async fn search_after(&self, seq: u64, query: &str) -> Value {
        let sep = if query.contains('?') { '&' } else { '?' };
        let (status, body) = self
            .get(&format!("/api/v1/search{query}{sep}min_seq={seq}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The change sequence a write answered with (`x-techmatch-seq`).
pub fn seq_of(headers: &axum::http::HeaderMap) -> u64 {
    headers["x-techmatch-seq"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("sequence header")
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Whether PostgreSQL's server is installed for the tests that start a throw-away cluster.
/// Without it they are skipped with a message, unless `CI` is set: in CI they fail instead.
pub fn postgres_installed(test: &str) -> bool {
    if techmatch_bench::pg::cluster::is_installed() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "CI is set but PostgreSQL is missing: apt-get install postgresql"
    );
    eprintln!("SKIPPED {test}: PostgreSQL not found (apt-get install postgresql)");
    false
}
