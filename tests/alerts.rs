//! Standing searches and alerts (#20) with the real binary, a real SMTP server on loopback and,
//! for two nodes, a real PostgreSQL: a saved search and a need each get one alert (notification,
//! mail, Atom feed entry) for a fitting listing, none for one that does not fit, one after an
//! edit that makes a listing fit; alerts survive SIGKILLs; two nodes deliver each alert once.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::Workspace;
use crate::mail::{free_port, server_with_mail, SmtpReceiver};

const PASSWORD: &str = "một mật khẩu đủ dài";
const ENTERPRISE: &str = "Công ty Nông sản Tiền Giang";
const INSTITUTE: &str = "Viện Cơ điện Nông nghiệp";
/// The technologies' owner: nobody's organisation, so that only the saved search and the need
/// stand for them (every technology is also a standing search for needs, for its members).
const SUPPLIER: &str = "Viện Công nghệ Sau thu hoạch";

fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let (status, text) = server.request(method, path, token, body.as_deref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Adds a member of `org` with the admin token and signs in; returns the member's API token.
fn member(server: &Server, admin: &str, email: &str, role: &str, org: &str) -> String {
    let body = json!({"email": email, "role": role, "password": PASSWORD, "org": org});
    let (status, answer) = call(server, "POST", "/api/v1/users", Some(admin), Some(body));
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = call(
        server,
        "POST",
        "/api/v1/tokens",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().expect("token").to_string()
}

fn put_listing(server: &Server, token: &str, body: Value) {
    let id = body["id"].as_str().expect("id").to_string();
    let (status, answer) = call(
        server,
        "PUT",
        &format!("/api/v1/listings/{id}"),
        Some(token),
        Some(body),
    );
    assert!(status == 200 || status == 201, "{status} {answer}");
}

fn technology(id: &str, title: &str, description: &str) -> Value {
    json!({"id": id, "kind": "research_output", "title": title, "description": description,
           "owner": SUPPLIER, "province": "82", "field": "2.11", "trl": 7,
           "transfer_modes": ["licence"]})
}

/// The path of a URL on the service (`http://host:port/path` → `/path`).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

/// The caller's notifications by listing id.
fn notified(server: &Server, token: &str) -> BTreeMap<String, usize> {
    let (status, answer) = call(server, "GET", "/api/v1/notifications", Some(token), None);
    assert_eq!(status, 200, "{answer}");
    let mut out = BTreeMap::new();
    for n in answer["notifications"].as_array().expect("notifications") {
        for field in ["id", "listing_id", "reason", "created_at", "read"] {
            assert!(!n[field].is_null(), "{field} missing: {n}");
        }
        *out.entry(n["listing_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}

/// Waits until `check` holds (alerts are computed in the background).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Checks `xml` as Atom: RFC 4287's required elements read with Python's XML parser, and
/// feedparser (when installed) reading it without complaint; returns the entries' links.
pub(crate) fn check_atom(xml: &str) -> Vec<String> {
    let script = r#"
import sys, json, datetime
import xml.etree.ElementTree as ET
A = '{http://www.w3.org/2005/Atom}'
text = sys.stdin.read()
root = ET.fromstring(text)
assert root.tag == A + 'feed', root.tag
def one(el, name):
    found = el.findall(A + name)
    assert len(found) == 1, (name, len(found))
    return found[0]
def date(el):
    datetime.datetime.fromisoformat(one(el, 'updated').text.replace('Z', '+00:00'))
one(root, 'id'); one(root, 'title'); date(root)
feed_author = root.findall(A + 'author')
for a in feed_author:
    one(a, 'name')
links = []
for e in root.findall(A + 'entry'):
    one(e, 'id'); one(e, 'title'); date(e)
    assert feed_author or e.findall(A + 'author'), 'no author'
    alt = [l for l in e.findall(A + 'link') if l.get('rel', 'alternate') == 'alternate']
    assert alt or e.findall(A + 'content'), 'entry with neither content nor alternate link'
    links.append(alt[0].get('href'))
try:
    import feedparser
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == 'atom10', parsed.version
    assert len(parsed.entries) == len(links)
except ImportError:
    pass
print(json.dumps(links))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not valid Atom: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Mails received per recipient, and the bodies.
fn mails_to(smtp: &SmtpReceiver, who: &str) -> Vec<String> {
    smtp.received()
        .into_iter()
        .filter(|(to, _, _)| to.contains(who))
        .map(|(_, _, body)| body)
        .collect()
}

#[test]
fn a_saved_search_and_a_need_each_get_one_alert_by_app_mail_and_feed() {
    if !SmtpReceiver::available("alerts") {
        return;
    }
    let ws = Workspace::new();
    let (smtp, server) = server_with_mail(&ws);
    let admin = server.token.clone().expect("admin token");
    let lan = member(&server, &admin, "lan@nongsan.vn", "enterprise", ENTERPRISE);
    let an = member(&server, &admin, "an@vien.vn", "institute", INSTITUTE);

    // The institute's member saves a search; the enterprise posts a need.
    let (status, saved) = call(
        &server,
        "POST",
        "/api/v1/saved-searches",
        Some(&an),
        Some(json!({"q": "máy sấy lạnh", "kind": "research_output"})),
    );
    assert_eq!(status, 201, "{saved}");
    let feed = path_of(saved["feed_url"].as_str().expect("feed_url"));
    assert!(saved["id"].is_string());
    let (status, bad) = call(
        &server,
        "POST",
        "/api/v1/saved-searches",
        Some(&an),
        Some(json!({"province": "Atlantis"})),
    );
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (400, Some("province")),
        "{bad}"
    );
    put_listing(
        &server,
        &lan,
        json!({"id": "nd-say", "kind": "need",
        "title": "Cần máy sấy lạnh bơm nhiệt cho xoài và thanh long",
        "description": "Doanh nghiệp cần công nghệ sấy lạnh bơm nhiệt để sấy xoài, thanh long, giữ màu và vitamin, công suất 500 kg mẻ.",
        "owner": ENTERPRISE, "province": "82", "field": "2.11"}),
    );

    // A technology that fits both; one that fits neither.
    put_listing(&server, &admin, technology("ro-say", "Máy sấy lạnh bơm nhiệt cho trái cây",
        "Công nghệ sấy lạnh bơm nhiệt sấy xoài, thanh long, chuối; giữ màu và vitamin; công suất 500 kg mẻ."));
    put_listing(
        &server,
        &admin,
        technology(
            "ro-phanmem",
            "Phần mềm quản lý bệnh viện",
            "Hệ thống quản lý hồ sơ bệnh án điện tử cho bệnh viện tuyến tỉnh.",
        ),
    );
    eventually("both alerts", || {
        notified(&server, &an).contains_key("ro-say")
            && notified(&server, &lan).contains_key("ro-say")
    });

    // A listing that did not fit is edited so that it does: one alert each, after the edit.
    put_listing(
        &server,
        &admin,
        technology(
            "ro-sua",
            "Thiết bị bảo quản sữa tươi",
            "Bồn làm lạnh nhanh sữa tươi tại trang trại.",
        ),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!notified(&server, &an).contains_key("ro-sua"));
    put_listing(&server, &admin, technology("ro-sua", "Máy sấy lạnh xoài và thanh long quy mô nhỏ",
        "Máy sấy lạnh bơm nhiệt sấy xoài, thanh long cho hộ nông dân; giữ màu và vitamin, mẻ 500 kg."));
    eventually("alerts after the edit", || {
        notified(&server, &an).contains_key("ro-sua")
            && notified(&server, &lan).contains_key("ro-sua")
    });
    // An edit that keeps it fitting raises nothing new.
    put_listing(&server, &admin, technology("ro-sua", "Máy sấy lạnh xoài và thanh long quy mô nhỏ (mới)",
        "Máy sấy lạnh bơm nhiệt sấy xoài, thanh long cho hộ nông dân; giữ màu và vitamin, mẻ 500 kg."));

    // Mail: one per alert, each with its links.
    let an_mails = {
        eventually("the institute's mail", || {
            mails_to(&smtp, "an@vien.vn").len() >= 2
        });
        eventually("the enterprise's mail", || {
            mails_to(&smtp, "lan@nongsan.vn").len() >= 2
        });
        std::thread::sleep(Duration::from_secs(3));
        mails_to(&smtp, "an@vien.vn")
    };
    let expected: BTreeMap<String, usize> =
        [("ro-say".to_string(), 1), ("ro-sua".to_string(), 1)].into();
    assert_eq!(
        notified(&server, &an),
        expected,
        "exactly one alert each, none for ro-phanmem"
    );
    assert_eq!(notified(&server, &lan), expected);
    assert_eq!(an_mails.len(), 2, "{an_mails:?}");
    assert_eq!(mails_to(&smtp, "lan@nongsan.vn").len(), 2);
    for body in &an_mails {
        assert!(
            body.contains("Ngừng nhận") && body.contains("Stop these alerts"),
            "{body}"
        );
    }

    // The feeds: the saved search's, and the need's standing search's (listed for its member).
    let (status, xml) = server.request("GET", &feed, None, None);
    assert_eq!(status, 200);
    let links = check_atom(&xml);
    assert_eq!(links.len(), 2, "{xml}");
    assert!(
        links.iter().any(|l| l.ends_with("/listings/ro-say")),
        "{links:?}"
    );
    let (_, mine) = call(&server, "GET", "/api/v1/saved-searches", Some(&lan), None);
    let need_search = mine["saved_searches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["listing_id"] == "nd-say")
        .unwrap_or_else(|| panic!("the need's standing search: {mine}"))
        .clone();
    let (status, xml) = server.request(
        "GET",
        &path_of(need_search["feed_url"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(check_atom(&xml).len(), 2);
    let wrong = format!("{}0", feed);
    assert_eq!(
        server.request("GET", &wrong, None, None).0,
        404,
        "the secret opens the feed"
    );

    // The user's own page shows them too.
    let (_, me) = call(&server, "GET", "/api/v1/me", Some(&an), None);
    assert!(
        !me["notifications"]
            .as_array()
            .expect("notifications on /me")
            .is_empty(),
        "{me}"
    );

    // Marked read; one click in the mail unsubscribes; nothing more arrives.
    let (_, notes) = call(&server, "GET", "/api/v1/notifications", Some(&an), None);
    let first = notes["notifications"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = call(
        &server,
        "POST",
        &format!("/api/v1/notifications/{first}/read"),
        Some(&an),
        None,
    );
    assert_eq!(status, 204);
    let (_, notes) = call(&server, "GET", "/api/v1/notifications", Some(&an), None);
    assert_eq!(notes["notifications"][0]["read"], true);
    let start = an_mails[0].find("/alerts/").expect("unsubscribe link");
    let link: String = an_mails[0][start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let (status, page) = server.request("GET", &link, None, None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You will get no more alerts"));
    let (_, mine) = call(&server, "GET", "/api/v1/saved-searches", Some(&an), None);
    assert_eq!(
        mine["saved_searches"].as_array().unwrap().len(),
        0,
        "{mine}"
    );
    put_listing(
        &server,
        &admin,
        technology(
            "ro-say2",
            "Máy sấy lạnh công nghiệp",
            "Máy sấy lạnh bơm nhiệt cho xoài, thanh long, mẻ 500 kg; giữ màu.",
        ),
    );
    eventually("the need's alert for the new one", || {
        notified(&server, &lan).contains_key("ro-say2")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !notified(&server, &an).contains_key("ro-say2"),
        "unsubscribed"
    );
    assert_eq!(mails_to(&smtp, "an@vien.vn").len(), 2);
}

/// Saves one search per word `kiwi<k>` for the member; returns nothing (the searches are what
/// the listings written later fit, each alone in its first results).
fn save_word_searches(server: &Server, token: &str, n: usize) {
    for k in 0..n {
        let (status, answer) = call(
            server,
            "POST",
            "/api/v1/saved-searches",
            Some(token),
            Some(json!({"q": format!("kiwi{k}")})),
        );
        assert_eq!(status, 201, "{answer}");
    }
}

fn word_listing(k: usize) -> Value {
    technology(
        &format!("ro-kiwi{k}"),
        &format!("Máy sấy kiwi{k}"),
        "Máy sấy trái cây quy mô nhỏ.",
    )
}

/// Mails in the outbox (sent or waiting) per listing id named in their body.
fn outbox_by_listing(server: &Server, admin: &str) -> BTreeMap<String, usize> {
    let (status, answer) = call(
        server,
        "GET",
        "/api/v1/admin/outbox?limit=1000",
        Some(admin),
        None,
    );
    assert_eq!(status, 200, "{answer}");
    let mut out = BTreeMap::new();
    for mail in answer["mails"].as_array().unwrap() {
        let body = mail["body"].as_str().unwrap_or_default();
        if let Some(i) = body.find("/listings/") {
            let id: String = body[i + "/listings/".len()..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            *out.entry(id).or_default() += 1;
        }
    }
    out
}

/// Listings written, each fitting one saved search, then SIGKILL at a random moment while
/// alerts are being computed and mailed; after the last restart every alert is there once —
/// notification and outbox mail — and every mail has reached the SMTP server.
#[test]
fn alerts_survive_sigkills_with_none_lost_and_none_repeated() {
    if !SmtpReceiver::available("alerts_kill") {
        return;
    }
    const CYCLES: usize = 4;
    const PER_CYCLE: usize = 6;
    let ws = Workspace::new();
    let smtp = SmtpReceiver::start(ws.dir.path(), free_port());
    let url = smtp.url();
    let args = ["--smtp-url", url.as_str(), "--mail-retry-seconds", "1"];
    let mut server = Server::start(&ws, &args);
    let admin = server.token.clone().expect("admin token");
    let an = member(&server, &admin, "an@vien.vn", "institute", INSTITUTE);
    save_word_searches(&server, &an, CYCLES * PER_CYCLE);
    let mut expected = BTreeMap::new();
    for cycle in 0..CYCLES {
        for k in cycle * PER_CYCLE..(cycle + 1) * PER_CYCLE {
            put_listing(&server, &admin, word_listing(k));
            expected.insert(format!("ro-kiwi{k}"), 1);
        }
        // Somewhere in the alerts' work: before, during or after their batch.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        std::thread::sleep(Duration::from_millis(u64::from(nanos % 300)));
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("reaped");
        server = Server::start(&ws, &args);
    }
    eventually("every alert", || {
        notified(&server, &an).len() == expected.len()
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(notified(&server, &an), expected, "each alert once");
    assert_eq!(
        outbox_by_listing(&server, &admin),
        expected,
        "each mail queued once"
    );
    // Every queued alert mail gets sent — except those a killed sender had claimed (a batch),
    // which wait out the claim (ten minutes) before the next sender retries: delayed, not lost.
    let listing_of = |body: &str| -> String {
        let i = body.find("/listings/").expect("listing link");
        body[i + 10..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect()
    };
    let mut claimed = Vec::new();
    eventually("every mail sent or claimed", || {
        let (_, answer) = call(
            &server,
            "GET",
            "/api/v1/admin/outbox?limit=1000",
            Some(&admin),
            None,
        );
        claimed.clear();
        let soon = chrono::Utc::now() + chrono::Duration::minutes(5);
        answer["mails"].as_array().unwrap().iter().all(|m| {
            if m["sent_at"].is_string() {
                return true;
            }
            let due: chrono::DateTime<chrono::Utc> =
                m["next_attempt_at"].as_str().unwrap().parse().unwrap();
            claimed.push(listing_of(m["body"].as_str().unwrap()));
            due > soon
        })
    });
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for body in mails_to(&smtp, "an@vien.vn") {
        *received.entry(listing_of(&body)).or_default() += 1;
    }
    for id in expected.keys() {
        assert!(
            received.contains_key(id) || claimed.contains(id),
            "{id}: neither mailed nor waiting: {received:?}"
        );
    }
    // SMTP delivery is at least once: a kill between the server's accepting a mail and its
    // being recorded sent repeats that one mail, at most once per kill.
    let repeats: usize = received.values().map(|n| n - 1).sum();
    assert!(repeats <= CYCLES, "{received:?}");
}

/// Two nodes on one PostgreSQL store both follow the change log and compute alerts; each alert
/// is recorded, queued and mailed once.
#[test]
fn two_nodes_on_one_postgres_store_deliver_each_alert_once() {
    if !SmtpReceiver::available("alerts_two_nodes")
        || !crate::common::postgres_installed("alerts_two_nodes")
    {
        return;
    }
    const N: usize = 12;
    let cluster = techmatch_bench::pg::TempCluster::start().unwrap();
    let store = cluster.url();
    let (ws_a, ws_b) = (Workspace::new(), Workspace::new());
    let smtp = SmtpReceiver::start(ws_a.dir.path(), free_port());
    let url = smtp.url();
    let args = |store: &str| -> Vec<String> {
        [
            "--store",
            store,
            "--smtp-url",
            url.as_str(),
            "--mail-retry-seconds",
            "1",
        ]
        .map(String::from)
        .to_vec()
    };
    let args_a = args(&store);
    let args_a: Vec<&str> = args_a.iter().map(String::as_str).collect();
    let a = Server::start(&ws_a, &args_a);
    let b = Server::start(&ws_b, &args_a);
    let (admin_a, admin_b) = (a.token.clone().unwrap(), b.token.clone().unwrap());
    let an = member(&a, &admin_a, "an@vien.vn", "institute", INSTITUTE);
    save_word_searches(&b, &an, N);
    let mut expected = BTreeMap::new();
    for k in 0..N {
        let (node, admin) = if k % 2 == 0 {
            (&a, &admin_a)
        } else {
            (&b, &admin_b)
        };
        put_listing(node, admin, word_listing(k));
        expected.insert(format!("ro-kiwi{k}"), 1);
    }
    eventually("every alert", || notified(&a, &an).len() == N);
    eventually("every mail", || mails_to(&smtp, "an@vien.vn").len() >= N);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(notified(&b, &an), expected, "each alert once");
    assert_eq!(
        outbox_by_listing(&a, &admin_a),
        expected,
        "each mail queued once"
    );
    assert_eq!(
        mails_to(&smtp, "an@vien.vn").len(),
        N,
        "each mail sent once"
    );
}
