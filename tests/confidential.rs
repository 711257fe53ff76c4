//! Confidential needs (#20) with the real binary and a real SMTP server on loopback: an
//! enterprise posts a need as confidential; every answer an anonymous reader or a supplier it
//! was not disclosed to can get — the listing, search hits and downloads, match answers, the
//! change feed, duplicates, statistics, comparables, organisations, pages, the Atom feed,
//! notifications and mail — shows its summary at most, never its organisation or its text. A
//! broker reads it all; the enterprise discloses it to one supplier, a broker's deal to
//! another, each kept in its history; a second open deal on the same pair is refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::{enc, Workspace};
use crate::mail::{server_with_mail, SmtpReceiver};

const PASSWORD: &str = "một mật khẩu đủ dài";
/// The enterprise: its name must never be tied to its confidential need.
const OWNER: &str = "Công ty Thuộc da Quỳnh Lâm";
const SUPPLIER: &str = "Viện Môi trường Đồng Tháp";
const THIRD: &str = "Trường Đại học Kỹ thuật Sa Đéc";
/// Words only the need's full text holds.
const SECRETS: [&str; 4] = [OWNER, "Zirconova", "Valtrexium", "Quỳnh Lâm"];
const SUMMARY: &str = "Doanh nghiệp cần công nghệ xử lý nước thải ngành thuộc da";

/// One HTTP/1.1 exchange on loopback: status, response head, body bytes (de-chunked).
pub(crate) fn raw(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(req.as_bytes()).expect("send");
    stream.write_all(body).expect("send body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut rest = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16)
                .expect("hex");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = rest[line_end + 4 + size..].to_vec();
        }
        rest = out;
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, rest)
}

/// A JSON call with an optional bearer token.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let text = body.map(|b| b.to_string());
    let (status, text) = server.request(method, path, token, text.as_deref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A page or download as a caller: a bearer token, a session cookie, or nobody.
#[derive(Clone, Copy)]
pub(crate) enum As<'a> {
    Nobody,
    Token(&'a str),
    Session(&'a str),
}

pub(crate) fn fetch(server: &Server, who: As<'_>, path: &str) -> (u16, String) {
    let bearer;
    let headers: Vec<(&str, &str)> = match who {
        As::Nobody => Vec::new(),
        As::Token(t) => {
            bearer = format!("Bearer {t}");
            vec![("Authorization", bearer.as_str())]
        }
        As::Session(c) => vec![("Cookie", c)],
    };
    let (status, _, body) = raw(server, "GET", path, &headers, b"");
    let text = if path.contains("format=xlsx") {
        xlsx_text(&body)
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    (status, text)
}

/// Every XML part of a workbook as text (its strings are in there, uncompressed).
fn xlsx_text(bytes: &[u8]) -> String {
    let script = "import sys, zipfile, io\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nprint(''.join(z.read(n).decode('utf-8', 'replace') for n in z.namelist()))";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not a workbook");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Signs in through the page's form; returns the session cookie (`tm_session=…`).
pub(crate) fn session(server: &Server, email: &str) -> String {
    let (_, head, body) = raw(server, "GET", "/signin", &[], b"");
    let body = String::from_utf8_lossy(&body);
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = body[at..].split('"').next().unwrap().to_string();
    let pre = cookie(&head, "tm_pre");
    let form = format!(
        "csrf={}&email={}&password={}",
        enc(&csrf),
        enc(email),
        enc(PASSWORD)
    );
    let (status, head, _) = raw(
        server,
        "POST",
        "/signin",
        &[
            ("Cookie", pre.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    );
    assert_eq!(status, 303, "{head}");
    cookie(&head, "tm_session")
}

fn cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
        .to_string()
}

fn user(server: &Server, admin: &str, body: Value) -> String {
    let email = body["email"].as_str().unwrap().to_string();
    let (status, answer) = call(server, "POST", "/api/v1/users", Some(admin), Some(body));
    assert_eq!(status, 201, "{answer}");
    let login = json!({"email": email, "password": PASSWORD});
    let (status, answer) = call(server, "POST", "/api/v1/tokens", None, Some(login));
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().to_string()
}

fn org(server: &Server, admin: &str, name: &str, kind: &str) -> String {
    let body = json!({"name": name, "kind": kind, "province": "82"});
    let (status, answer) = call(server, "POST", "/api/v1/orgs", Some(admin), Some(body));
    assert_eq!(status, 201, "{answer}");
    answer["org"]["id"].as_str().unwrap().to_string()
}

fn put(server: &Server, token: &str, body: Value) {
    let path = format!("/api/v1/listings/{}", body["id"].as_str().unwrap());
    let (status, answer) = call(server, "PUT", &path, Some(token), Some(body));
    assert!(status == 200 || status == 201, "{status} {answer}");
}

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The secrets found in `text`, case aside.
fn leaked(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    SECRETS
        .into_iter()
        .filter(|s| lower.contains(&s.to_lowercase()))
        .collect()
}

/// The hits of a search page (`<article>` elements), without the query it repeats.
fn hits_of(page: &str) -> String {
    page.split("<article")
        .skip(1)
        .map(|a| a.split("</article>").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn technology(id: &str, owner: &str, title: &str, description: &str) -> Value {
    json!({"id": id, "kind": "research_output", "title": title, "description": description,
           "owner": owner, "province": "82", "field": "2.7", "trl": 7, "transfer_modes": ["licence"]})
}

#[test]
fn a_confidential_need_shows_only_its_summary_until_disclosed() {
    if !SmtpReceiver::available("confidential needs") {
        return;
    }
    let ws = Workspace::new();
    let (smtp, server) = server_with_mail(&ws);
    let admin = server.token.clone().expect("admin token");
    let owner_org = org(&server, &admin, OWNER, "enterprise");
    org(&server, &admin, SUPPLIER, "institute");
    org(&server, &admin, THIRD, "university");
    let lan = user(
        &server,
        &admin,
        json!({"email": "lan@quynhlam.vn", "role": "enterprise", "org": OWNER, "password": PASSWORD}),
    );
    let an = user(
        &server,
        &admin,
        json!({"email": "an@moitruong.vn", "role": "institute", "org": SUPPLIER, "password": PASSWORD}),
    );
    let binh = user(
        &server,
        &admin,
        json!({"email": "binh@sadec.edu.vn", "role": "institute", "org": THIRD, "password": PASSWORD}),
    );
    let broker = user(
        &server,
        &admin,
        json!({"email": "moigioi@dongthap.gov.vn", "role": "broker", "province": "82", "password": PASSWORD}),
    );

    // The supplier follows the topic; both suppliers list fitting technologies.
    let (status, saved) = call(
        &server,
        "POST",
        "/api/v1/saved-searches",
        Some(&an),
        Some(json!({"q": "nước thải thuộc da"})),
    );
    assert_eq!(status, 201, "{saved}");
    let feed = saved["feed_url"].as_str().unwrap();
    let feed = &feed[feed.find("/feeds/").expect("a feed path")..];
    put(&server, &an, technology("ro-mang", SUPPLIER, "Xử lý nước thải thuộc da bằng màng sinh học",
        "Công nghệ màng sinh học xử lý nước thải thuộc da chứa crôm, đạt quy chuẩn xả thải, công suất 200 m3 ngày."));
    put(
        &server,
        &binh,
        technology(
            "ro-keo",
            THIRD,
            "Keo tụ điện hóa cho nước thải thuộc da",
            "Keo tụ điện hóa loại bỏ crôm và chất hữu cơ trong nước thải thuộc da và dệt nhuộm.",
        ),
    );

    // A confidential need needs its summary.
    let mut need = json!({"id": "nd-kin", "kind": "need",
        "title": "Dây chuyền Zirconova xử lý nước thải thuộc da crôm cho Quỳnh Lâm",
        "description": "Công ty Thuộc da Quỳnh Lâm chuẩn bị mở nhà máy Valtrexium, cần công nghệ xử lý nước thải thuộc da chứa crôm, công suất 200 m3 ngày, đạt quy chuẩn xả thải.",
        "province": "82", "field": "2.7", "confidential": true});
    let (status, refused) = call(
        &server,
        "PUT",
        "/api/v1/listings/nd-kin",
        Some(&lan),
        Some(need.clone()),
    );
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("summary")),
        "{refused}"
    );
    need["summary"] = json!(SUMMARY);
    put(&server, &lan, need);
    eventually("the need in search", || {
        let (_, found) = call(
            &server,
            "GET",
            "/api/v1/search?q=thuoc+da&kind=need",
            None,
            None,
        );
        found["hits"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["id"] == "nd-kin"))
    });
    eventually("the supplier's alert", || {
        let (_, notes) = call(&server, "GET", "/api/v1/notifications", Some(&an), None);
        notes["notifications"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["listing_id"] == "nd-kin"))
    });
    eventually("the alert's mail", || {
        smtp.received()
            .iter()
            .any(|(to, _, body)| to.contains("an@moitruong.vn") && body.contains(SUMMARY))
    });

    // Everything an anonymous reader and an unaccepted supplier can ask for.
    let q = enc("nước thải thuộc da");
    let api = [
        "/api/v1/listings/nd-kin".to_string(),
        format!("/api/v1/search?q={q}"),
        "/api/v1/search?q=Zirconova+Valtrexium".to_string(),
        format!("/api/v1/search?q={}", enc("Quỳnh Lâm")),
        "/api/v1/search?kind=need".to_string(),
        format!("/api/v1/search?q={q}&format=csv"),
        format!("/api/v1/search?q={q}&format=jsonl"),
        format!("/api/v1/search?q={q}&format=xlsx"),
        "/api/v1/needs/nd-kin/matches".to_string(),
        "/api/v1/listings/ro-mang/matches".to_string(),
        "/api/v1/listings/ro-keo/matches".to_string(),
        "/api/v1/listings/nd-kin/duplicates".to_string(),
        "/api/v1/listings/ro-mang/duplicates".to_string(),
        "/api/v1/changes?after=0".to_string(),
        "/api/v1/changes/snapshot".to_string(),
        "/api/v1/statistics".to_string(),
        "/api/v1/statistics?province=82&format=csv".to_string(),
        "/api/v1/listings/ro-mang/comparables".to_string(),
        "/api/v1/reports/provinces/82".to_string(),
        "/api/v1/leads".to_string(),
        "/api/v1/notifications".to_string(),
        "/api/v1/saved-searches".to_string(),
        "/api/v1/me".to_string(),
        feed.to_string(),
    ];
    let pages = [
        "/".to_string(),
        format!("/search?q={q}"),
        "/search?q=Zirconova".to_string(),
        "/search?kind=need".to_string(),
        "/listings/nd-kin".to_string(),
        "/listings/ro-mang".to_string(),
        "/listings/ro-keo".to_string(),
        "/statistics".to_string(),
        "/me".to_string(),
    ];
    let an_session = session(&server, "an@moitruong.vn");
    let walk = |who: As<'_>, name: &str| {
        let mut seen = 0;
        for path in api.iter().chain(pages.iter()) {
            let (status, body) = fetch(&server, who, path);
            assert!(status < 500, "{name} {path}: {status} {body}");
            seen += usize::from(status == 200 && body.contains(SUMMARY));
            // A search page says what was searched for: its hits are what must not tell.
            let told = if path.starts_with("/search?") {
                hits_of(&body)
            } else {
                body.clone()
            };
            assert!(
                leaked(&told).is_empty(),
                "{name} {path} shows {:?}: {body}",
                leaked(&told)
            );
        }
        // The enterprise's profile exists, but never with its confidential need.
        for path in [
            format!("/api/v1/orgs/{owner_org}"),
            format!("/orgs/{owner_org}"),
        ] {
            let (status, body) = fetch(&server, who, &path);
            assert_eq!(status, 200, "{path}");
            assert!(
                !body.contains("nd-kin") && !body.contains(SUMMARY),
                "{name} {path} ties the need to its organisation: {body}"
            );
        }
        seen
    };
    let anonymous = walk(As::Nobody, "anonymous");
    let supplier = walk(As::Token(&an), "the supplier (token)");
    walk(As::Session(&an_session), "the supplier (page session)");
    assert!(
        anonymous >= 6 && supplier >= 6,
        "the summary shows where the need does: {anonymous}, {supplier}"
    );
    let (_, hit) = call(&server, "GET", "/api/v1/listings/nd-kin", None, None);
    assert_eq!(
        (
            hit["title"].as_str(),
            hit["confidential"].as_bool(),
            hit["field"].as_str(),
            hit["province"].as_str()
        ),
        (Some(SUMMARY), Some(true), Some("2.7"), Some("82")),
        "{hit}"
    );
    for (_, _, body) in smtp
        .received()
        .iter()
        .filter(|(to, _, _)| !to.contains("lan@quynhlam.vn"))
    {
        assert!(
            leaked(body).is_empty(),
            "a mail shows {:?}: {body}",
            leaked(body)
        );
    }

    // A broker reads it all, as does its own organisation; the need is matched on its text.
    for token in [&broker, &lan] {
        let (_, full) = call(&server, "GET", "/api/v1/listings/nd-kin", Some(token), None);
        assert_eq!(full["owner"], OWNER, "{full}");
        assert!(full["description"].as_str().unwrap().contains("Valtrexium"));
    }
    let broker_session = session(&server, "moigioi@dongthap.gov.vn");
    let (_, page) = fetch(&server, As::Session(&broker_session), "/listings/nd-kin");
    assert!(page.contains("Zirconova") && page.contains(OWNER), "{page}");
    let (_, matched) = call(
        &server,
        "GET",
        "/api/v1/needs/nd-kin/matches",
        Some(&broker),
        None,
    );
    assert!(
        matched["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "ro-mang"),
        "{matched}"
    );

    // The enterprise accepts the first supplier: it reads the need, mailed a link.
    let (status, refused) = call(
        &server,
        "POST",
        "/api/v1/listings/nd-kin/disclosures",
        Some(&an),
        Some(json!({"org": SUPPLIER})),
    );
    assert_eq!(
        status, 403,
        "a supplier cannot disclose to itself: {refused}"
    );
    let (status, disclosed) = call(
        &server,
        "POST",
        "/api/v1/listings/nd-kin/disclosures",
        Some(&lan),
        Some(json!({"org": SUPPLIER})),
    );
    assert_eq!(status, 201, "{disclosed}");
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/listings/nd-kin/disclosures",
        Some(&lan),
        Some(json!({"org": SUPPLIER})),
    );
    assert_eq!(status, 200, "disclosing again changes nothing");
    let (_, full) = call(&server, "GET", "/api/v1/listings/nd-kin", Some(&an), None);
    assert_eq!(full["owner"], OWNER, "{full}");
    assert!(
        full["description"].as_str().unwrap().contains("Valtrexium"),
        "{full}"
    );
    assert!(
        full.get("disclosures").is_none(),
        "a supplier does not see who else was told: {full}"
    );
    let (_, page) = fetch(&server, As::Session(&an_session), "/listings/nd-kin");
    assert!(page.contains("Zirconova"), "{page}");
    eventually("the disclosure's mail", || {
        smtp.received()
            .iter()
            .any(|(to, _, body)| to.contains("an@moitruong.vn") && body.contains("Zirconova"))
    });

    // The other supplier still reads the summary only, until a broker's deal introduces it.
    let (_, still) = call(&server, "GET", "/api/v1/listings/nd-kin", Some(&binh), None);
    assert!(leaked(&still.to_string()).is_empty(), "{still}");
    let proposal = json!({"need_id": "nd-kin", "listing_id": "ro-keo", "note": "giới thiệu"});
    let (status, deal) = call(
        &server,
        "POST",
        "/api/v1/deals",
        Some(&broker),
        Some(proposal.clone()),
    );
    assert_eq!(status, 201, "{deal}");
    let (status, second) = call(
        &server,
        "POST",
        "/api/v1/deals",
        Some(&broker),
        Some(proposal),
    );
    assert_eq!(status, 409, "one open deal per need × technology: {second}");
    assert_eq!(second["error"]["field"], "listing_id", "{second}");
    assert!(
        second["error"]["message"]
            .as_str()
            .unwrap()
            .contains("open already"),
        "{second}"
    );
    assert!(
        second["error"]["message_vi"]
            .as_str()
            .unwrap()
            .contains("giao dịch"),
        "{second}"
    );
    let (_, full) = call(&server, "GET", "/api/v1/listings/nd-kin", Some(&binh), None);
    assert_eq!(full["owner"], OWNER, "introduced by the deal: {full}");

    // Every disclosure is in the need's history, for its organisation and the brokers.
    let (_, full) = call(
        &server,
        "GET",
        "/api/v1/listings/nd-kin",
        Some(&broker),
        None,
    );
    let history: Vec<(&str, &str)> = full["disclosures"]
        .as_array()
        .expect("disclosures")
        .iter()
        .map(|d| (d["org"].as_str().unwrap(), d["via"].as_str().unwrap()))
        .collect();
    assert_eq!(history, [(SUPPLIER, "owner"), (THIRD, "deal")], "{full}");
    assert_eq!(full["disclosures"][1]["deal_id"], deal["id"]);
    let (_, page) = fetch(&server, As::Session(&broker_session), "/listings/nd-kin");
    assert!(
        page.contains("id=\"disclosures\"") && page.contains(THIRD),
        "{page}"
    );

    // The enterprise discloses from the page too.
    const FOURTH: &str = "Trung tâm Ứng dụng Tiến bộ KH&CN Đồng Tháp";
    org(&server, &admin, FOURTH, "other");
    let lan_session = session(&server, "lan@quynhlam.vn");
    let (_, page) = fetch(&server, As::Session(&lan_session), "/listings/nd-kin");
    assert!(page.contains("id=\"disclose\""), "{page}");
    let at = page.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = page[at..].split('"').next().unwrap().to_string();
    let form = format!("csrf={}&org={}", enc(&csrf), enc(FOURTH));
    let (status, head, _) = raw(
        &server,
        "POST",
        "/listings/nd-kin/disclose",
        &[
            ("Cookie", lan_session.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    );
    assert_eq!(status, 303, "{head}");
    let (_, full) = call(&server, "GET", "/api/v1/listings/nd-kin", Some(&lan), None);
    assert_eq!(full["disclosures"][2]["org"], FOURTH, "{full}");
    assert_eq!(full["disclosures"][2]["via"], "owner", "{full}");
    let (_, page) = fetch(&server, As::Nobody, "/listings/nd-kin");
    assert!(!page.contains("id=\"disclose\"") && !page.contains("id=\"disclosures\""));

    // Anonymous readers still read the summary only, everywhere.
    assert!(walk(As::Nobody, "anonymous, after the disclosures") >= 6);
}
