//! The default configuration never waits on the embedder: with a backlog of listings waiting
//! for vectors and an embedder that stalls (accepts, never answers) or is slow, every search,
//! match and search page is answered, lexically and marked so, and queries waiting together
//! go to the embedder in one call. The embedder is a real HTTP server on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::{enc, line, Workspace};

/// Dimensions of the stub's vectors.
const DIM: usize = 4;
/// A request that waited this long waited for the embedder (the client gives up on it after
/// 10 s); the deadline is tens of milliseconds.
const TOO_LONG: Duration = Duration::from_secs(5);

/// An OpenAI-style embeddings server on loopback that answers the start-up probe and then
/// answers after `delay_ms`, or never while `stall` is set.
struct Stub {
    port: u16,
    stall: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    /// Calls with `input_type: query` (the probe excepted), and their texts.
    query_calls: Arc<AtomicUsize>,
    query_texts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Stub {
    fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stub = Stub {
            port,
            stall: Arc::new(AtomicBool::new(false)),
            delay_ms: Arc::new(AtomicU64::new(0)),
            query_calls: Arc::new(AtomicUsize::new(0)),
            query_texts: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (stall, delay, calls, texts, stop) = (
            stub.stall.clone(),
            stub.delay_ms.clone(),
            stub.query_calls.clone(),
            stub.query_texts.clone(),
            stub.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let (stall, delay, calls, texts, stop) = (
                    stall.clone(),
                    delay.clone(),
                    calls.clone(),
                    texts.clone(),
                    stop.clone(),
                );
                std::thread::spawn(move || {
                    serve(conn, &stall, &delay, &calls, &texts, &stop);
                });
            }
        });
        stub
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/embeddings", self.port)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Answers the requests of one keep-alive connection.
fn serve(
    conn: TcpStream,
    stall: &AtomicBool,
    delay: &AtomicU64,
    calls: &AtomicUsize,
    texts: &AtomicUsize,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    loop {
        let mut length = 0usize;
        let mut first = String::new();
        if reader.read_line(&mut first).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let inputs = request["input"].as_array().map_or(0, Vec::len);
        let probe = request["input"] == json!(["xin chào"]);
        if !probe {
            if request["input_type"] == "query" {
                calls.fetch_add(1, Ordering::SeqCst);
                texts.fetch_add(inputs, Ordering::SeqCst);
            }
            // Stalled: hold the connection, answer nothing.
            while stall.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(delay.load(Ordering::SeqCst)));
        }
        let data: Vec<Value> = (0..inputs)
            .map(|i| {
                let mut v = vec![0.1f32; DIM];
                v[i % DIM] = 1.0;
                json!({"index": i, "embedding": v})
            })
            .collect();
        let answer = json!({"data": data}).to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        if conn.write_all(head.as_bytes()).is_err() || conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Forty listings about shrimp farming and water: each waits for a vector.
fn backlog(ws: &Workspace) {
    let body: String = (0..40)
        .map(|i| {
            line(json!({"id": format!("t-{i}"), "kind": "research_output",
                "title": format!("Nuôi tôm tuần hoàn số {i}"),
                "description": "Hệ thống xử lý nước thải ao nuôi tôm bằng vi sinh."}))
        })
        .collect();
    let file = ws.file("listings.jsonl", &body);
    let out = ws.cli(&["import", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
}

/// GET or POST with a read timeout of [`TOO_LONG`]: a request that waits for the embedder
/// fails here instead of being answered late.
fn request(server: &Server, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream.set_read_timeout(Some(TOO_LONG)).expect("timeout");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("send");
    let mut response = String::new();
    let started = Instant::now();
    if let Err(e) = stream.read_to_string(&mut response) {
        panic!(
            "{path}: no answer after {:?} ({e}): it waited for the embedder",
            started.elapsed()
        );
    }
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn start(ws: &Workspace, stub: &Stub) -> Server {
    let server = Server::start(
        ws,
        &[
            "--embedder-url",
            &stub.url(),
            "--embedder-model",
            "stub",
            "--embed-deadline-ms",
            "50",
        ],
    );
    // The backlog is counted, and waits.
    let started = Instant::now();
    loop {
        let health = server.get_json("/api/v1/health");
        if health["semantic"]["pending_vectors"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{health}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[test]
fn with_a_stalled_embedder_and_a_backlog_every_search_is_answered_lexically_and_says_so() {
    let ws = Workspace::new();
    backlog(&ws);
    let stub = Stub::start();
    // Stalled from the start (the start-up probe aside): the backlog cannot move either.
    stub.stall.store(true, Ordering::SeqCst);
    let server = start(&ws, &stub);

    // Eight searches at once, each its own words.
    let words = [
        "nuôi tôm",
        "xử lý nước",
        "nước thải",
        "vi sinh",
        "ao nuôi",
        "tuần hoàn",
        "tôm thẻ",
        "hệ thống",
    ];
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = words
            .iter()
            .map(|w| {
                let server = &server;
                s.spawn(move || {
                    request(server, "GET", &format!("/api/v1/search?q={}", enc(w)), None)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("search"))
            .collect()
    });
    for (w, (status, body)) in words.iter().zip(&answers) {
        assert_eq!(status, &200, "{w}: {body}");
        let answer: Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(answer["semantic"], "skipped", "{w}: {answer}");
        assert!(answer["total"].as_u64().unwrap_or(0) > 0, "{w}: {answer}");
    }
    // The searches waiting together went to the embedder together: one call holds them (the
    // first, stalled, and at most one more behind it), not one call each.
    let calls = stub.query_calls.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&calls),
        "{calls} query calls for {} searches",
        words.len()
    );

    // Matching and the search page too.
    let need = json!({"text": "Cần công nghệ xử lý nước thải ao nuôi tôm"}).to_string();
    let (status, body) = request(&server, "POST", "/api/v1/match", Some(&need));
    assert_eq!(status, 200, "{body}");
    let matched: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(matched["semantic"], "skipped", "{matched}");
    assert!(!matched["matches"].as_array().is_none_or(Vec::is_empty));
    let (status, page) = request(
        &server,
        "GET",
        "/search?q=n%C6%B0%E1%BB%9Bc+th%E1%BA%A3i+t%C3%B4m",
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"semantic-skipped\""), "{page}");
    assert!(page.contains("/listings/t-"), "{page}");
    let health = server.get_json("/api/v1/health");
    assert!(
        health["semantic"]["pending_vectors"].as_u64().unwrap_or(0) > 0,
        "the backlog still waits: {health}"
    );
    // Operators see it: every one of them ran without its vector.
    let admin = std::fs::read_to_string(ws.data().join("admin.token")).expect("admin token");
    let (_, metrics) = server.request("GET", "/metrics", Some(admin.trim()), None);
    assert!(
        metrics.contains("techmatch_query_vectors_total{result=\"late\"} 10"),
        "{metrics}"
    );
}

#[test]
fn a_late_query_vector_is_kept_for_the_next_search() {
    let ws = Workspace::new();
    backlog(&ws);
    let stub = Stub::start();
    // Slower than the deadline, far quicker than the client's patience.
    stub.delay_ms.store(600, Ordering::SeqCst);
    let server = start(&ws, &stub);
    let path = format!("/api/v1/search?q={}", enc("tôm sú"));
    let (status, body) = request(&server, "GET", &path, None);
    assert_eq!(status, 200, "{body}");
    let first: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(first["semantic"], "skipped", "{first}");
    // Its vector arrives after the answer and is remembered: the same search is then fused.
    let started = Instant::now();
    loop {
        let again = server.get_json(&path);
        if again["semantic"] == "fused" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{again}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
