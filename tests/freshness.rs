//! Freshness (#20) with the real binary, a real SMTP server and the sweep run on a clock the
//! test sets (`POST /api/v1/admin/sweep {"now"}`): a listing's owner is asked after 180
//! days, by mail and on `/me`, once; 30 days later the listing is stale — kept, out of search
//! and matching, on the province desk with its organisation — until the owner confirms it.
//! Search sorts by the last confirmation with `sort=newest`.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::Workspace;
use crate::confidential::{fetch, session, As};
use crate::mail::{server_with_mail, SmtpReceiver};

const PASSWORD: &str = "một mật khẩu đủ dài";
const INSTITUTE: &str = "Viện Cây ăn quả miền Nam";
const ENTERPRISE: &str = "Công ty Trái cây Cái Bè";

fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, u64) {
    let text = body.map(|b| b.to_string());
    let (status, head, text) = server.request_with_head(method, path, token, text.as_deref());
    let seq = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-techmatch-seq: ")
                .map(str::to_string)
        })
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        seq,
    )
}

fn user(server: &Server, admin: &str, body: Value) -> String {
    let email = body["email"].as_str().unwrap().to_string();
    let (status, answer, _) = call(server, "POST", "/api/v1/users", Some(admin), Some(body));
    assert_eq!(status, 201, "{answer}");
    let login = json!({"email": email, "password": PASSWORD});
    let (status, answer, _) = call(server, "POST", "/api/v1/tokens", None, Some(login));
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().to_string()
}

fn put(server: &Server, token: &str, body: Value) -> u64 {
    let path = format!("/api/v1/listings/{}", body["id"].as_str().unwrap());
    let (status, answer, seq) = call(server, "PUT", &path, Some(token), Some(body));
    assert!(status == 200 || status == 201, "{status} {answer}");
    seq
}

/// Runs the sweep as of `days` from now; returns what it asked and marked, and its sequence.
fn sweep(server: &Server, admin: &str, days: i64) -> (Vec<String>, Vec<String>, u64) {
    let now = (Utc::now() + Duration::days(days)).to_rfc3339();
    let (status, swept, seq) = call(
        server,
        "POST",
        "/api/v1/admin/sweep",
        Some(admin),
        Some(json!({"now": now})),
    );
    assert_eq!(status, 200, "{swept}");
    let ids = |k: &str| {
        swept[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    (ids("asked"), ids("stale"), seq)
}

/// The ids a search finds once the index holds sequence `seq`.
fn found(server: &Server, query: &str, seq: u64) -> Vec<String> {
    let (status, answer, _) = call(
        server,
        "GET",
        &format!("/api/v1/search?{query}&min_seq={seq}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{answer}");
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn matched(server: &Server, token: &str) -> Vec<String> {
    let (status, answer, _) = call(
        server,
        "GET",
        "/api/v1/needs/nd-xoai/matches",
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{answer}");
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn technology(id: &str, title: &str) -> Value {
    json!({"id": id, "kind": "research_output", "title": title,
           "description": "Quy trình bảo quản xoài cát Hòa Lộc sau thu hoạch bằng màng bao chitosan, kéo dài thời gian bảo quản 3 tuần.",
           "owner": INSTITUTE, "province": "82", "field": "4.1", "trl": 7})
}

#[test]
fn an_unconfirmed_listing_is_asked_then_stale_then_back_when_confirmed() {
    if !SmtpReceiver::available("freshness") {
        return;
    }
    let ws = Workspace::new();
    let (smtp, server) = server_with_mail(&ws);
    let admin = server.token.clone().expect("admin token");
    let lan = user(
        &server,
        &admin,
        json!({"email": "lan@caqmn.vn", "role": "institute", "org": INSTITUTE, "password": PASSWORD}),
    );
    let minh = user(
        &server,
        &admin,
        json!({"email": "minh@caibe.vn", "role": "enterprise", "org": ENTERPRISE, "password": PASSWORD}),
    );
    user(
        &server,
        &admin,
        json!({"email": "moigioi@dongthap.gov.vn", "role": "broker", "province": "82", "password": PASSWORD}),
    );

    put(
        &server,
        &lan,
        technology("ro-xoai", "Bảo quản xoài bằng màng chitosan"),
    );
    put(
        &server,
        &minh,
        json!({"id": "nd-xoai", "kind": "need", "title": "Cần công nghệ bảo quản xoài xuất khẩu",
        "description": "Doanh nghiệp cần quy trình bảo quản xoài cát Hòa Lộc sau thu hoạch để xuất khẩu, giữ chất lượng ba tuần.",
        "owner": ENTERPRISE, "province": "82", "field": "4.1"}),
    );
    let seq = put(
        &server,
        &lan,
        technology("ro-xoai-2", "Màng chitosan bảo quản xoài cát"),
    );
    let (_, listing, _) = call(&server, "GET", "/api/v1/listings/ro-xoai", None, None);
    assert!(listing["confirmed_at"].is_string(), "{listing}");
    let (_, hits, _) = call(
        &server,
        "GET",
        &format!("/api/v1/search?q=xoai&min_seq={seq}"),
        None,
        None,
    );
    assert!(
        hits["hits"][0]["confirmed_at"].is_string(),
        "hits show the date: {hits}"
    );
    let (_, page) = fetch(&server, As::Nobody, "/listings/ro-xoai");
    assert!(page.contains("id=\"confirmed\""), "{page}");
    assert!(matched(&server, &minh).contains(&"ro-xoai".to_string()));
    // Newest first: the second technology was stored last.
    assert_eq!(
        found(&server, "q=xoai&kind=research_output&sort=newest", seq),
        ["ro-xoai-2", "ro-xoai"]
    );
    let (status, bad, _) = call(
        &server,
        "GET",
        "/api/v1/search?q=xoai&sort=oldest",
        None,
        None,
    );
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (400, Some("sort")),
        "{bad}"
    );

    // 179 days on nothing happens; at 181 the owners are asked, once, by mail and on /me.
    let (asked, stale, _) = sweep(&server, &admin, 179);
    assert!(asked.is_empty() && stale.is_empty(), "{asked:?} {stale:?}");
    let (mut asked, stale, _) = sweep(&server, &admin, 181);
    asked.sort();
    assert_eq!(asked, ["nd-xoai", "ro-xoai", "ro-xoai-2"]);
    assert!(stale.is_empty());
    assert_eq!(sweep(&server, &admin, 182).0.len(), 0, "asked once");
    let mut mailed = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while mailed < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the question's mail: {:?}",
            smtp.received()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        mailed = smtp
            .received()
            .iter()
            .filter(|(to, _, body)| {
                to.contains("lan@caqmn.vn")
                    && body.contains("Xác nhận còn hiệu lực")
                    && body.contains("Confirm it is current")
            })
            .count();
    }
    let (_, me, _) = call(&server, "GET", "/api/v1/me", Some(&lan), None);
    assert_eq!(me["to_confirm"].as_array().map(Vec::len), Some(2), "{me}");
    let lan_session = session(&server, "lan@caqmn.vn");
    let (_, page) = fetch(&server, As::Session(&lan_session), "/me");
    assert!(
        page.contains("id=\"to-confirm\"") && page.contains("ro-xoai"),
        "{page}"
    );

    // 30 days after the question: stale, out of search and matching, kept, on the desk.
    let (_, mut stale, seq) = sweep(&server, &admin, 211);
    stale.sort();
    assert_eq!(stale, ["nd-xoai", "ro-xoai", "ro-xoai-2"]);
    assert!(
        found(&server, "q=xoai", seq).is_empty(),
        "stale listings leave search"
    );
    let (status, kept, _) = call(&server, "GET", "/api/v1/listings/ro-xoai", None, None);
    assert_eq!(
        (status, kept["stale"].as_bool()),
        (200, Some(true)),
        "kept: {kept}"
    );
    let (_, admin_search, _) = call(
        &server,
        "GET",
        "/api/v1/search?q=xoai&status=stale",
        Some(&admin),
        None,
    );
    assert_eq!(
        admin_search["total"], 3,
        "administrators find them: {admin_search}"
    );
    let broker = session(&server, "moigioi@dongthap.gov.vn");
    let (_, desk) = fetch(&server, As::Session(&broker), "/desk");
    let panel = &desk[desk.find("id=\"stale\"").expect("the stale panel")..];
    assert!(
        panel.contains("ro-xoai") && panel.contains(INSTITUTE) && panel.contains(ENTERPRISE),
        "{panel}"
    );

    // Only the owner confirms; confirmed, it is back in search and matching.
    let (status, _, _) = call(
        &server,
        "POST",
        "/api/v1/listings/ro-xoai/confirm",
        Some(&minh),
        None,
    );
    assert_eq!(status, 403, "another organisation does not confirm");
    let (status, _, _) = call(
        &server,
        "POST",
        "/api/v1/listings/nd-xoai/confirm",
        Some(&minh),
        None,
    );
    assert_eq!(status, 200);
    let (status, confirmed, seq) = call(
        &server,
        "POST",
        "/api/v1/listings/ro-xoai/confirm",
        Some(&lan),
        None,
    );
    assert_eq!(
        (status, confirmed["stale"].as_bool()),
        (200, None),
        "{confirmed}"
    );
    assert_eq!(
        found(&server, "q=xoai&kind=research_output", seq),
        ["ro-xoai"]
    );
    assert!(matched(&server, &minh).contains(&"ro-xoai".to_string()));
    assert!(
        !matched(&server, &minh).contains(&"ro-xoai-2".to_string()),
        "still stale"
    );
    let (_, me, _) = call(&server, "GET", "/api/v1/me", Some(&lan), None);
    assert_eq!(me["to_confirm"].as_array().map(Vec::len), Some(1), "{me}");
    // Confirmed today, it is the newest.
    let (_, _, seq) = call(
        &server,
        "POST",
        "/api/v1/listings/ro-xoai-2/confirm",
        Some(&lan),
        None,
    );
    assert_eq!(
        found(&server, "q=xoai&kind=research_output&sort=newest", seq),
        ["ro-xoai-2", "ro-xoai"]
    );
    let (_, _, seq) = call(
        &server,
        "POST",
        "/api/v1/listings/ro-xoai/confirm",
        Some(&lan),
        None,
    );
    assert_eq!(
        found(&server, "q=xoai&kind=research_output&sort=newest", seq),
        ["ro-xoai", "ro-xoai-2"]
    );
}

#[test]
fn unanswered_interest_is_due_in_ten_working_days_then_reminded_and_overdue_on_the_desk() {
    if !SmtpReceiver::available("reply reminders") {
        return;
    }
    let ws = Workspace::new();
    let (smtp, server) = server_with_mail(&ws);
    let admin = server.token.clone().expect("admin token");
    let (status, created, _) = call(
        &server,
        "POST",
        "/api/v1/orgs",
        Some(&admin),
        Some(json!({"name": INSTITUTE, "kind": "institute", "province": "82"})),
    );
    assert_eq!(status, 201, "{created}");
    let org_id = created["org"]["id"].as_str().unwrap().to_string();
    let lan = user(
        &server,
        &admin,
        json!({"email": "lan@caqmn.vn", "role": "institute", "org": INSTITUTE, "password": PASSWORD}),
    );
    let minh = user(
        &server,
        &admin,
        json!({"email": "minh@caibe.vn", "role": "enterprise", "org": ENTERPRISE, "province": "82", "password": PASSWORD}),
    );
    user(
        &server,
        &admin,
        json!({"email": "moigioi@dongthap.gov.vn", "role": "broker", "province": "82", "password": PASSWORD}),
    );
    put(
        &server,
        &lan,
        technology("ro-xoai", "Bảo quản xoài bằng màng chitosan"),
    );

    let (status, lead, _) = call(
        &server,
        "POST",
        "/api/v1/listings/ro-xoai/interest",
        Some(&minh),
        Some(json!({"message": "Chúng tôi muốn mua li-xăng"})),
    );
    assert_eq!(status, 201, "{lead}");
    let id = lead["id"].as_str().unwrap().to_string();
    let created_at =
        chrono::DateTime::parse_from_rfc3339(lead["created_at"].as_str().unwrap()).unwrap();
    let reply_by =
        chrono::DateTime::parse_from_rfc3339(lead["reply_by"].as_str().expect("reply_by")).unwrap();
    let days = (reply_by - created_at).num_days();
    assert!(
        (12..=14).contains(&days),
        "ten working days are two weeks and a bit: {days}"
    );

    // Not yet due: no reminder; past it: one reminder, mailed to the organisation, once.
    let (_, _, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::days(11)).to_rfc3339()})),
    );
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::days(11)).to_rfc3339()})),
    );
    assert_eq!(swept["reminded"], json!([]), "{swept}");
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::days(17)).to_rfc3339()})),
    );
    assert_eq!(swept["reminded"], json!([id]), "{swept}");
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::days(18)).to_rfc3339()})),
    );
    assert_eq!(swept["reminded"], json!([]), "reminded once: {swept}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !smtp.received().iter().any(|(to, _, body)| {
        to.contains("lan@caqmn.vn")
            && body.contains("chưa nhận được trả lời")
            && body.contains("no answer yet")
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the reminder: {:?}",
            smtp.received()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let broker = session(&server, "moigioi@dongthap.gov.vn");
    let (_, desk) = fetch(&server, As::Session(&broker), "/desk");
    assert!(
        desk.contains(&format!("data-overdue=\"{id}\"")),
        "the desk shows it overdue: {desk}"
    );

    // The profile counts it unanswered, then answered with the time it took.
    let (_, profile, _) = call(
        &server,
        "GET",
        &format!("/api/v1/orgs/{org_id}"),
        None,
        None,
    );
    assert_eq!(
        (
            profile["replies"]["received"].as_u64(),
            profile["replies"]["replied"].as_u64()
        ),
        (Some(1), Some(0)),
        "{profile}"
    );
    let (status, answered, _) = call(
        &server,
        "POST",
        &format!("/api/v1/leads/{id}/reply"),
        Some(&lan),
        Some(json!({"message": "Xin mời trao đổi"})),
    );
    assert_eq!(status, 200, "{answered}");
    let (_, profile, _) = call(
        &server,
        "GET",
        &format!("/api/v1/orgs/{org_id}"),
        None,
        None,
    );
    assert_eq!(profile["replies"]["replied"].as_u64(), Some(1), "{profile}");
    assert!(
        profile["replies"]["median_reply_hours"].is_number(),
        "{profile}"
    );
    let (_, page) = fetch(&server, As::Nobody, &format!("/orgs/{org_id}"));
    assert!(
        page.contains("Đã trả lời 1/1 quan tâm (100%), thời gian trả lời trung vị"),
        "{page}"
    );
    let (_, desk) = fetch(&server, As::Session(&broker), "/desk");
    assert!(
        !desk.contains(&format!("data-overdue=\"{id}\"")),
        "answered: no longer overdue"
    );
}

#[test]
fn a_search_saved_from_its_page_alerts_in_a_daily_digest_on_the_sweeps_clock() {
    if !SmtpReceiver::available("daily digests") {
        return;
    }
    let ws = Workspace::new();
    let (smtp, server) = server_with_mail(&ws);
    let admin = server.token.clone().expect("admin token");
    let minh = user(
        &server,
        &admin,
        json!({"email": "minh@caibe.vn", "role": "enterprise", "org": ENTERPRISE, "password": PASSWORD}),
    );

    // The button is for signed-in users; it saves the page's query and filters.
    let (_, anonymous) = fetch(&server, As::Nobody, "/search?q=xoai&kind=research_output");
    assert!(!anonymous.contains("id=\"save-search\""));
    let cookie = session(&server, "minh@caibe.vn");
    let (_, page) = fetch(
        &server,
        As::Session(&cookie),
        "/search?q=xoai&kind=research_output",
    );
    assert!(page.contains("id=\"save-search\""), "{page}");
    let at = page.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = page[at..].split('"').next().unwrap().to_string();
    let form = format!("csrf={csrf}&q=xoai&kind=research_output&delivery=daily");
    let (status, head, _) = crate::confidential::raw(
        &server,
        "POST",
        "/search/save",
        &[
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    );
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("saved=1"), "{head}");
    let (_, saved, _) = call(&server, "GET", "/api/v1/saved-searches", Some(&minh), None);
    let mine = saved["saved_searches"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{saved}");
    assert_eq!(
        (
            mine[0]["q"].as_str(),
            mine[0]["kind"].as_str(),
            mine[0]["delivery"].as_str()
        ),
        (Some("xoai"), Some("research_output"), Some("daily"))
    );

    // A fitting listing: a notification now, mail only in the digest a day later.
    put(
        &server,
        &admin,
        technology("ro-xoai", "Bảo quản xoài bằng màng chitosan"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, notes, _) = call(&server, "GET", "/api/v1/notifications", Some(&minh), None);
        if notes["notifications"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the notification");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::hours(2)).to_rfc3339()})),
    );
    assert_eq!(swept["digests"], 0, "not a day old: {swept}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        smtp.received()
            .iter()
            .all(|(to, _, _)| !to.contains("minh@caibe.vn")),
        "no mail at once"
    );
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::hours(25)).to_rfc3339()})),
    );
    assert_eq!(swept["digests"], 1, "{swept}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !smtp.received().iter().any(|(to, _, body)| {
        to.contains("minh@caibe.vn") && body.contains("Bảo quản xoài bằng màng chitosan")
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the digest: {:?}",
            smtp.received()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, swept, _) = call(
        &server,
        "POST",
        "/api/v1/admin/sweep",
        Some(&admin),
        Some(json!({"now": (Utc::now() + Duration::hours(50)).to_rfc3339()})),
    );
    assert_eq!(swept["digests"], 0, "digested once: {swept}");
}
