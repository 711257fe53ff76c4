//! The real binary serving on loopback: start-up, the admin token, sharing the data dir,
//! and shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::common::{line, stderr, Workspace};

/// A server process on a free loopback port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// The admin token when this start created it (read from its 0600 file: the server prints
    /// it only to a terminal).
    pub token: Option<String>,
    /// Where `--metrics-addr` serves `/metrics`, when given.
    pub metrics_addr: Option<String>,
    /// What the server printed on standard output up to "listening on".
    pub printed: String,
}

impl Server {
    pub fn start(ws: &Workspace, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_techmatch"))
            .arg("--data-dir")
            .arg(ws.data())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("TECHMATCH_LOG", "warn")
            // Semantic matching has tests of its own (tests/semantic.rs); others stay lexical.
            .env("TECHMATCH_EMBEDDER_URL", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start server");
        let stdout = child.stdout.take().expect("stdout");
        let mut token = None;
        let mut addr = None;
        let mut metrics_addr = None;
        let mut printed = String::new();
        for l in BufReader::new(stdout).lines() {
            let l = l.expect("server output");
            printed.push_str(&l);
            printed.push('\n');
            if l.starts_with("admin token") {
                let t = std::fs::read_to_string(ws.data().join("admin.token")).expect("token file");
                token = Some(t.trim().to_string());
            }
            if let Some(a) = l.strip_prefix("metrics on http://") {
                metrics_addr = Some(a.trim().trim_end_matches("/metrics").to_string());
            }
            if let Some(a) = l.strip_prefix("listening on http://") {
                addr = Some(a.trim().to_string());
                break;
            }
        }
        Server {
            child,
            addr: addr.expect("server printed its address"),
            token,
            metrics_addr,
            printed,
        }
    }

    /// Sends one HTTP/1.1 request and returns the status and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let (status, _, body) = self.request_with_head(method, path, token, body);
        (status, body)
    }

    /// [`Server::request`] that also returns the response's head (status line and headers).
    pub fn request_with_head(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (head, body) = response
            .split_once("\r\n\r\n")
            .map(|(h, b)| (h.to_string(), b.to_string()))
            .unwrap_or_default();
        (status, head, body)
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.request("GET", path, None, None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// Sends SIGTERM and returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn first_start_writes_a_private_admin_token_that_authorises_writes() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &[]);
    let token = server.token.clone().expect("token printed on first start");
    let path = ws.data().join("admin.token");
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Standard output is a pipe here (a log): it says where the token is, never the token.
    assert!(!server.printed.contains(&token), "{}", server.printed);
    assert!(server.printed.contains("admin.token"), "{}", server.printed);
    let listing = json!({"kind": "need", "title": "Cần máy bóc vỏ hạt điều", "description": "Năng suất 2 tấn/giờ"}).to_string();
    let (status, _) = server.request("POST", "/api/v1/listings", None, Some(&listing));
    assert_eq!(status, 401);
    let (status, body) = server.request("POST", "/api/v1/listings", Some(&token), Some(&listing));
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    assert!(created["id"].as_str().unwrap().starts_with("nd-"));
    let health = server.get_json("/api/v1/health");
    assert_eq!(health["status"], "ok");
    // SIGTERM shuts down cleanly, and the write survives a restart.
    assert!(server.terminate().success());
    let again = Server::start(&ws, &[]);
    assert!(again.token.is_none(), "the token is created once");
    let answer = again.get_json("/api/v1/search?q=hat+dieu&min_seq=1");
    assert_eq!(answer["total"], 1);
}

#[test]
fn a_cli_write_while_the_server_runs_says_the_data_dir_is_in_use() {
    let ws = Workspace::new();
    let file = ws.file(
        "a.jsonl",
        &line(json!({"id": "a", "kind": "research_output", "title": "Máy sấy", "description": "Sấy lạnh"})),
    );
    assert!(ws.cli(&["import", file.to_str().unwrap()]).status.success());
    let server = Server::start(&ws, &[]);
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("is in use by another techmatch process"),
        "{err}"
    );
    // Compaction rewrites the store, so it waits for the server as well.
    let out = ws.cli(&["compact"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is in use by another techmatch process"));
    // Reading still works: search uses the server's index as last committed.
    let answer = ws.cli_json(&["search", "--json", "may say"]);
    assert_eq!(answer["total"], 1);
    drop(server);
}

#[test]
fn eval_reads_a_beir_set_as_it_is_and_keeps_run_files_valid() {
    let ws = Workspace::new();
    let long_title = "Luật Điện ảnh 2022 Điều 32. ".repeat(25);
    let corpus = [
        json!({"_id": "law/1", "title": "Luật Viên chức 2010 Điều 29. Xếp loại viên chức", "text": ""}),
        json!({"_id": "law/2", "title": long_title, "text": "Phim phân loại T18 dành cho người từ đủ 18 tuổi."}),
        json!({"_id": "empty", "title": "", "text": " "}),
        json!({"_id": "law/3", "text": "Thuế thu nhập cá nhân."}),
    ];
    let corpus: String = corpus.into_iter().map(line).collect();
    let corpus = ws.file("corpus.jsonl", &corpus);
    let queries = ws.file(
        "queries.jsonl",
        "{\"_id\": \"q1\", \"text\": \"xếp loại viên chức\"}\n{\"_id\": \"q2\", \"text\": \"phim T18\"}\n",
    );
    let qrels = ws.file(
        "qrels.tsv",
        "query-id\tcorpus-id\tscore\nq1\tlaw/1\t1\nq2\tlaw/2\t2\n",
    );
    let run = ws.file("run.trec", "");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    let (c, q, r, out) = (path(&corpus), path(&queries), path(&qrels), path(&run));
    let args = [
        "eval",
        "--corpus",
        &c,
        "--queries",
        &q,
        "--qrels",
        &r,
        "--run",
        &out,
    ];
    let report = ws.cli_json(&args);
    assert_eq!(report["empty_documents"], 1, "{report}");
    assert_eq!(report["gain"], "linear", "{report}");
    assert!(report["mrr@10"].as_f64().unwrap() > 0.99, "{report}");
    let trec = std::fs::read_to_string(&run).expect("run file");
    assert!(
        trec.lines().all(|l| l.split_whitespace().count() == 6),
        "{trec}"
    );

    // An id a TREC run file cannot hold is refused with its line.
    let spaced = ws.file(
        "spaced.jsonl",
        "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b c\", \"text\": \"y\"}\n",
    );
    let s = path(&spaced);
    let refused = ws.cli(&[
        "eval",
        "--corpus",
        &s,
        "--queries",
        &q,
        "--qrels",
        &r,
        "--run",
        &out,
    ]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains("spaced.jsonl:2"), "{message}");
}
