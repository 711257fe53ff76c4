//! Crash safety: a write the server acknowledged (`201`) is never lost, even on SIGKILL.
//!
//! Each cycle starts the real binary, lets several writers create listings over HTTP, kills the
//! process with SIGKILL at a random moment, restarts it and checks that every acknowledged
//! listing — from this cycle and all earlier ones — can be read whole and found by search.
//! One more writer proposes deals and moves them along the pipeline: every acknowledged deal
//! and stage move must be there after the restart, with a history that matches its stage.
//! `TECHMATCH_CRASH_CYCLES` sets the number of cycles (default 3) for a longer run.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use techmatch::store::Store;

use crate::cli::Server;
use crate::common::Workspace;

/// Concurrent writer threads per cycle.
const WRITERS: usize = 4;
/// Each writer stops after this many writes ...
const MAX_WRITES: usize = 500;
/// ... or after this long, whichever comes first (the kill normally comes much earlier).
const WRITE_WINDOW: Duration = Duration::from_secs(2);
/// The kill comes this many milliseconds after the writers start: 50..=400.
const KILL_MIN_MS: u64 = 50;
const KILL_MAX_MS: u64 = 400;
/// Threads reading listings back after a restart.
const CHECKERS: usize = 4;
/// No single request may hang the test (a `min_seq` search waits at most 5 s).
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// An answer read off the wire, possibly cut short by the kill.
struct Reply {
    status: u16,
    /// Header names in lowercase.
    headers: HashMap<String, String>,
    body: String,
    /// The head arrived and the body has its announced length.
    complete: bool,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads what comes back.
///
/// Connecting or sending fails with an error; a read cut short (the server died) returns the
/// bytes received so far, so that a `201` that made it onto the wire still counts.
fn send(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        // Bytes read before the error stay in `raw`; nothing at all is a plain failure.
        if raw.is_empty() {
            return Err(e);
        }
    }
    Ok(parse_reply(&raw))
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h, Some(b)),
        None => (text.as_ref(), None),
    };
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .filter(|l| l.starts_with("HTTP/1."))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = body.unwrap_or("").to_string();
    let complete = match headers.get("content-length") {
        Some(len) => len.parse::<usize>().ok() == Some(body.len()),
        // Without a length (`Connection: close`), the body ends where the stream did.
        None => true,
    } && text.contains("\r\n\r\n");
    Reply {
        status,
        headers,
        body,
        complete,
    }
}

/// xorshift64: enough randomness for kill timing, with no extra crate.
struct XorShift(u64);

impl XorShift {
    fn from_time() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        XorShift(nanos | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// A listing the server acknowledged with `201`.
#[derive(Debug, Clone)]
struct Acked {
    id: String,
    /// The word only this listing contains.
    word: String,
    title: String,
    description: String,
    /// `x-techmatch-seq` of the answer; `None` only if the kill cut the answer inside its head.
    seq: Option<u64>,
}

/// What one writer saw before the server died.
#[derive(Debug, Default)]
struct WriterLog {
    acked: Vec<Acked>,
    /// Requests sent but never answered (in flight at the kill): either outcome is allowed.
    unanswered: Vec<String>,
    /// Complete answers other than `201`: there should be none.
    unexpected: Vec<(String, u16, String)>,
    /// `201` answers cut short by the kill (still acknowledged).
    truncated: usize,
}

/// Creates listings until the server dies, `MAX_WRITES` is reached or `WRITE_WINDOW` passes.
fn writer(addr: &str, token: &str, thread: usize, cycle: usize) -> WriterLog {
    let started = Instant::now();
    let mut log = WriterLog::default();
    for i in 0..MAX_WRITES {
        if started.elapsed() >= WRITE_WINDOW {
            break;
        }
        let id = format!("w{thread}-{cycle}-{i}");
        // Plain alphanumerics: analysis splits on anything else and folds diacritics.
        let word = format!("ma{thread}x{cycle}x{i}");
        let title = format!("Công nghệ sấy lạnh nông sản sau thu hoạch {word}");
        let description = format!(
            "Quy trình chuyển giao công nghệ bảo quản trái cây, rau quả và hải sản cho doanh \
             nghiệp vừa và nhỏ ở Đồng bằng sông Cửu Long; mẫu thử số {i}, luồng {thread}, vòng {cycle}."
        );
        let body = json!({
            "id": id,
            "kind": "research_output",
            "title": title,
            "description": description,
        })
        .to_string();
        let reply = match send(addr, "POST", "/api/v1/listings", Some(token), Some(&body)) {
            Ok(reply) => reply,
            Err(_) => {
                // Refused: the server is gone and nothing was sent. Reset or timed out: the
                // request may have been sent, so the listing may or may not exist.
                log.unanswered.push(id);
                break;
            }
        };
        match reply.status {
            201 => {
                let seq = reply
                    .headers
                    .get("x-techmatch-seq")
                    .map(|s| s.parse::<u64>().expect("x-techmatch-seq is a number"));
                if reply.complete {
                    assert!(seq.is_some(), "a complete 201 carries x-techmatch-seq");
                    let stored = reply.json();
                    assert_eq!(stored["id"], id.as_str(), "{}", reply.body);
                    assert_eq!(stored["title"], title.as_str(), "{}", reply.body);
                } else {
                    log.truncated += 1;
                }
                log.acked.push(Acked {
                    id,
                    word,
                    title,
                    description,
                    seq,
                });
            }
            // The connection was cut before a status line arrived.
            0 => {
                log.unanswered.push(id);
                break;
            }
            status if !reply.complete => {
                log.unexpected.push((id, status, reply.body));
                break;
            }
            status => log.unexpected.push((id, status, reply.body)),
        }
    }
    log
}

/// A deal the server acknowledged, with the last stage move it acknowledged.
#[derive(Debug, Clone)]
struct AckedDeal {
    id: String,
    /// Index in [`PIPELINE`] of the last acknowledged stage.
    stage: usize,
}

/// The stages a deal writer moves each deal through, in order.
const PIPELINE: [&str; 3] = ["proposed", "contacted", "negotiating"];

/// What the deal writer saw before the server died.
#[derive(Debug, Default)]
struct DealLog {
    acked: Vec<AckedDeal>,
    /// Complete answers other than the expected ones: there should be none.
    unexpected: Vec<(String, u16, String)>,
}

/// Proposes deals on `need` and a technology of their own (one open deal per need ×
/// technology; `tech` and a number name it, stored first) and moves each through
/// [`PIPELINE`] until the server dies or the window passes.
fn deal_writer(addr: &str, token: &str, need: &str, tech: &str) -> DealLog {
    let started = Instant::now();
    let mut log = DealLog::default();
    let mut n = 0;
    'deals: while started.elapsed() < WRITE_WINDOW {
        n += 1;
        let technology = format!("{tech}-{n}");
        let body = json!({"id": technology, "kind": "research_output",
            "title": "Sấy lạnh nông sản", "description": "Sấy lạnh nông sản"})
        .to_string();
        match send(addr, "POST", "/api/v1/listings", Some(token), Some(&body)) {
            Ok(reply) if reply.status == 201 => {}
            _ => break,
        }
        let body =
            json!({"need_id": need, "listing_id": technology, "note": "thử nghiệm"}).to_string();
        let Ok(reply) = send(addr, "POST", "/api/v1/deals", Some(token), Some(&body)) else {
            break;
        };
        match (reply.status, reply.complete) {
            (201, true) => {}
            // A 201 cut inside its body carries no id we can follow; a 0 is no answer at all.
            (201, false) | (0, _) => break,
            (status, _) => {
                log.unexpected.push(("propose".into(), status, reply.body));
                break;
            }
        }
        let Some(id) = reply.json()["id"].as_str().map(str::to_string) else {
            log.unexpected.push(("propose".into(), 201, reply.body));
            break;
        };
        log.acked.push(AckedDeal {
            id: id.clone(),
            stage: 0,
        });
        for (next, stage) in PIPELINE.iter().enumerate().skip(1) {
            let body = json!({"stage": stage}).to_string();
            let path = format!("/api/v1/deals/{id}/stage");
            let Ok(reply) = send(addr, "POST", &path, Some(token), Some(&body)) else {
                break 'deals;
            };
            match reply.status {
                200 => {
                    if let Some(last) = log.acked.last_mut() {
                        last.stage = next;
                    }
                }
                0 => break 'deals,
                status => {
                    if reply.complete {
                        log.unexpected.push((id.clone(), status, reply.body));
                    }
                    break 'deals;
                }
            }
        }
    }
    log
}

/// Every acknowledged deal is there, at its acknowledged stage or (a move in flight at the
/// kill) the next, with one history event per stage it went through.
fn check_deals(addr: &str, token: &str, deals: &[AckedDeal]) {
    let reply = send(addr, "GET", "/api/v1/deals", Some(token), None).expect("GET deals");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let listed = reply.json();
    let stages: HashMap<String, String> = listed["deals"]
        .as_array()
        .expect("deals")
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or_default().to_string(),
                d["stage"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for deal in deals {
        let stage = stages
            .get(&deal.id)
            .unwrap_or_else(|| panic!("acknowledged deal {} is lost", deal.id));
        let at = PIPELINE
            .iter()
            .position(|s| s == stage)
            .unwrap_or_else(|| panic!("deal {} in unexpected stage {stage}", deal.id));
        assert!(
            at == deal.stage || at == deal.stage + 1,
            "deal {}: acknowledged {}, stored {stage}",
            deal.id,
            PIPELINE[deal.stage]
        );
        let path = format!("/api/v1/deals/{}/history", deal.id);
        let reply = send(addr, "GET", &path, Some(token), None).expect("GET history");
        assert_eq!(reply.status, 200, "{}", reply.body);
        let events = reply.json()["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let numbers: Vec<u64> = events.iter().filter_map(|e| e["n"].as_u64()).collect();
        let expected: Vec<u64> = (1..=at as u64 + 1).collect();
        assert_eq!(
            numbers, expected,
            "deal {} in {stage}: history {events:?}",
            deal.id
        );
    }
}

fn admin_token(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.data().join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string()
}

fn get_json(addr: &str, path: &str) -> Value {
    let reply = send(addr, "GET", path, None, None).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert!(reply.complete, "GET {path}: cut short: {:?}", reply.body);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
    reply.json()
}

/// Reads an acknowledged listing back: it must be there, whole, as it was sent.
fn check_stored(addr: &str, a: &Acked) -> Result<(), String> {
    let path = format!("/api/v1/listings/{}", a.id);
    let reply = send(addr, "GET", &path, None, None).map_err(|e| format!("GET {path}: {e}"))?;
    if reply.status != 200 {
        return Err(format!(
            "{} (seq {:?}) is lost: {} {}",
            a.id, a.seq, reply.status, reply.body
        ));
    }
    if !reply.complete {
        return Err(format!("GET {path}: answer cut short"));
    }
    let listing: Value = serde_json::from_str(&reply.body)
        .map_err(|e| format!("{}: unreadable answer ({e}): {}", a.id, reply.body))?;
    let title = listing["title"].as_str().unwrap_or_default();
    let description = listing["description"].as_str().unwrap_or_default();
    if title.is_empty() || description.is_empty() {
        return Err(format!("{} is half-written: {listing}", a.id));
    }
    if title != a.title
        || description != a.description
        || listing["id"] != a.id.as_str()
        || listing["kind"] != "research_output"
    {
        return Err(format!(
            "{} differs from what was acknowledged: {listing}",
            a.id
        ));
    }
    Ok(())
}

/// Searches an acknowledged listing's own word, after the index has reached `min_seq`.
fn check_found(addr: &str, a: &Acked, min_seq: u64) -> Result<(), String> {
    let path = format!("/api/v1/search?q={}&min_seq={min_seq}", a.word);
    let reply = send(addr, "GET", &path, None, None).map_err(|e| format!("GET {path}: {e}"))?;
    if reply.status != 200 || !reply.complete {
        return Err(format!("GET {path}: {} {}", reply.status, reply.body));
    }
    let answer: Value = serde_json::from_str(&reply.body)
        .map_err(|e| format!("GET {path}: unreadable answer ({e}): {}", reply.body))?;
    let ids: Vec<&str> = answer["hits"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|h| h["id"].as_str()).collect())
        .unwrap_or_default();
    if ids != [a.id.as_str()] {
        return Err(format!(
            "searching {:?} should find exactly {}: {answer}",
            a.word, a.id
        ));
    }
    Ok(())
}

/// Runs `check` on every listing (a few at a time) and panics with every problem found.
fn check_all(what: &str, acked: &[Acked], check: impl Fn(&Acked) -> Result<(), String> + Sync) {
    let chunk = acked.len().div_ceil(CHECKERS).max(1);
    let problems: Vec<String> = thread::scope(|s| {
        let check = &check;
        let workers: Vec<_> = acked
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|a| check(a).err())
                        .collect::<Vec<String>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("checker thread"))
            .collect::<Vec<String>>()
    });
    assert!(
        problems.is_empty(),
        "{what}: {} of {} acknowledged listings fail; the first ones:\n{}",
        problems.len(),
        acked.len(),
        problems
            .iter()
            .take(10)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// With `TECHMATCH_CRASH_POWER_CUT` set, runs it (a shell command) right after each SIGKILL:
/// on a filesystem that can drop what was not synced (LazyFS, with `TMPDIR` on its mount:
/// `echo lazyfs::clear-cache > /tmp/faults.fifo`), the kill becomes a power cut.
fn power_cut() {
    if let Ok(command) = std::env::var("TECHMATCH_CRASH_POWER_CUT") {
        let status = std::process::Command::new("sh")
            .args(["-c", &command])
            .status()
            .expect("run TECHMATCH_CRASH_POWER_CUT");
        assert!(status.success(), "{command}: {status}");
        eprintln!("power cut: {command}");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: usize = match std::env::var("TECHMATCH_CRASH_CYCLES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TECHMATCH_CRASH_CYCLES={v:?} is not a whole number")),
        Err(_) => 3,
    };
    assert!(cycles > 0, "TECHMATCH_CRASH_CYCLES must be at least 1");
    let mut rng = XorShift::from_time();
    eprintln!("crash test: {cycles} cycles, rng seed {}", rng.0);
    let ws = Workspace::new();
    let test_started = Instant::now();
    let mut all: Vec<Acked> = Vec::new();
    let mut in_flight_kept = 0;
    let mut in_flight_lost = 0;
    let mut all_deals: Vec<AckedDeal> = Vec::new();
    let (need, tech) = ("crash-need", "crash-tech");

    for cycle in 0..cycles {
        let mut server = Server::start(
            &ws,
            &[
                "--max-writes-per-second",
                "1000000",
                "--max-reads-per-second",
                "0",
            ],
        );
        let token = admin_token(&ws);
        if cycle == 0 {
            assert_eq!(server.token.as_deref(), Some(token.as_str()));
            for (id, kind) in [(need, "need"), (tech, "research_output")] {
                let body = json!({"id": id, "kind": kind, "title": format!("Sấy lạnh {kind}"),
                    "description": "Sấy lạnh nông sản"})
                .to_string();
                let reply = send(
                    &server.addr,
                    "POST",
                    "/api/v1/listings",
                    Some(&token),
                    Some(&body),
                )
                .expect("create the deal's listings");
                assert_eq!(reply.status, 201, "{}", reply.body);
            }
        }
        let delay = Duration::from_millis(rng.between(KILL_MIN_MS, KILL_MAX_MS));

        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (addr, token) = (server.addr.clone(), token.clone());
                thread::spawn(move || writer(&addr, &token, t, cycle))
            })
            .collect();
        let deal_writer = {
            let (addr, token) = (server.addr.clone(), token.clone());
            let tech = format!("{tech}-{cycle}");
            thread::spawn(move || deal_writer(&addr, &token, need, &tech))
        };
        thread::sleep(delay);
        server.child.kill().expect("SIGKILL the server");
        server.child.wait().expect("reap the server");
        drop(server);
        power_cut();
        let logs: Vec<WriterLog> = writers
            .into_iter()
            .map(|w| w.join().expect("writer thread"))
            .collect();

        let deal_log = deal_writer.join().expect("deal writer thread");
        assert!(
            deal_log.unexpected.is_empty(),
            "cycle {cycle}: deal answers other than expected before the kill: {:?}",
            deal_log.unexpected
        );
        all_deals.extend(deal_log.acked.iter().cloned());
        let unexpected: Vec<_> = logs.iter().flat_map(|l| &l.unexpected).collect();
        assert!(
            unexpected.is_empty(),
            "cycle {cycle}: answers other than 201 before the kill: {unexpected:?}"
        );
        let acked: Vec<Acked> = logs.iter().flat_map(|l| l.acked.clone()).collect();
        assert!(
            !acked.is_empty(),
            "cycle {cycle}: no write was acknowledged in {delay:?}; the test proves nothing"
        );
        let truncated: usize = logs.iter().map(|l| l.truncated).sum();
        let unanswered: Vec<String> = logs.iter().flat_map(|l| l.unanswered.clone()).collect();
        all.extend(acked.iter().cloned());

        // Sequences are unique across restarts: a reused number means a lost change.
        let mut by_seq: BTreeMap<u64, &str> = BTreeMap::new();
        for a in &all {
            if let Some(seq) = a.seq {
                if let Some(other) = by_seq.insert(seq, &a.id) {
                    panic!(
                        "cycle {cycle}: sequence {seq} acknowledged for {other} and {}",
                        a.id
                    );
                }
            }
        }
        let max_seq = by_seq.keys().next_back().copied().unwrap_or(0);

        let server = Server::start(
            &ws,
            &[
                "--max-writes-per-second",
                "1000000",
                "--max-reads-per-second",
                "0",
            ],
        );
        assert!(server.token.is_none(), "the admin token is created once");
        let addr = server.addr.as_str();
        // Reads first: with writes lost, min_seq searches would each wait 5 s for nothing.
        check_all(&format!("cycle {cycle}, after restart"), &all, |a| {
            check_stored(addr, a)
        });
        check_deals(addr, &token, &all_deals);
        let health = get_json(addr, "/api/v1/health");
        let store_seq = health["store_seq"].as_u64().expect("store_seq");
        assert!(
            store_seq >= max_seq,
            "cycle {cycle}: the store restarted at sequence {store_seq}, below the acknowledged {max_seq}: {health}"
        );
        check_all(&format!("cycle {cycle}, search"), &all, |a| {
            check_found(addr, a, max_seq)
        });
        let health = get_json(addr, "/api/v1/health");
        assert_eq!(health["index_lag"], 0, "cycle {cycle}: {health}");
        assert_eq!(health["status"], "ok", "cycle {cycle}: {health}");

        // Writes in flight at the kill may or may not have landed; either is fine, but a
        // landed one must be whole.
        for id in &unanswered {
            let path = format!("/api/v1/listings/{id}");
            let reply = send(addr, "GET", &path, None, None).expect("GET in-flight");
            match reply.status {
                200 => {
                    let l = reply.json();
                    assert!(
                        l["title"].as_str().is_some_and(|t| !t.is_empty())
                            && l["description"].as_str().is_some_and(|d| !d.is_empty()),
                        "cycle {cycle}: in-flight {id} is half-written: {l}"
                    );
                    in_flight_kept += 1;
                }
                404 => in_flight_lost += 1,
                s => panic!("cycle {cycle}: GET {path}: {s} {}", reply.body),
            }
        }
        eprintln!(
            "cycle {cycle}: killed after {delay:?}; {} acknowledged ({truncated} answers cut short), \
             {} in flight; store seq {store_seq}, max acknowledged {max_seq}; {} checked in total; \
             {} deals acknowledged, {} checked in total",
            acked.len(),
            unanswered.len(),
            all.len(),
            deal_log.acked.len(),
            all_deals.len()
        );
        drop(server);
    }

    // Last, straight from the store: each acknowledged sequence is that listing's change
    // (those below the floor the server pruned the log to were checked by content above).
    let store = ws.data_dir().open_store().expect("open the store");
    let floor = store.log_floor().expect("log floor");
    let changes: HashMap<u64, String> = store
        .changes_since(0, usize::MAX)
        .expect("change log")
        .into_iter()
        .map(|c| (c.seq, c.id))
        .collect();
    for a in &all {
        if let Some(seq) = a.seq.filter(|s| *s > floor) {
            assert_eq!(
                changes.get(&seq).map(String::as_str),
                Some(a.id.as_str()),
                "change {seq} in the log"
            );
        }
    }
    eprintln!(
        "crash test: {cycles} cycles, {} acknowledged writes and {} deals (with {} stage moves) \
         checked, none lost; in flight at a kill: {in_flight_kept} kept, {in_flight_lost} not; {:.1} s",
        all.len(),
        all_deals.len(),
        all_deals.iter().map(|d| d.stage).sum::<usize>(),
        test_started.elapsed().as_secs_f64()
    );
}
