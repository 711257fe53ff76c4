//! The whole exchange walked in Chromium on a fresh data directory, with a real SMTP receiver
//! (aiosmtpd) on loopback: an enterprise signs up, confirms by the mailed link, creates its
//! organisation, posts a need and sends interest; a member of the institute, invited by mail,
//! finds the lead in the inbox and answers; the broker verifies both organisations, proposes a
//! deal from the lead on the desk, moves it to agreed with a value and downloads the province's
//! CSV; the public statistics withhold what rests on too few deals; a password is reset by
//! mail. Every Vietnamese page on the way is checked for English text (and pages in English
//! for Vietnamese labels); screenshots at desktop and phone widths go to
//! `target/screenshots/walk-*`.

use std::io::{Read, Write};
use std::sync::Arc;

use serde_json::json;

use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::Role;
use techmatch::domain::org::{OrgKind, Organisation};
use techmatch::store::Stores;

use crate::cli::Server;
use crate::common::{line, Workspace};
use crate::mail::{free_port, link_path, SmtpReceiver};
use crate::webdriver::{chromedriver, Browser};

const PASSWORD: &str = "mật khẩu đủ dài 2025";
const INSTITUTE: &str = "Viện Nuôi trồng Thủy sản 2";

/// English words and messages that must not show on a Vietnamese page (the list, and
/// the labels of the pages this walk visits).
const ENGLISH: [&str; 30] = [
    "is required",
    "is above budget",
    "unknown province",
    "does not apply to kind",
    "not found",
    "Draft",
    "Your organisation",
    "Invite a member",
    "Requests to join",
    "Verify this organisation",
    "Verified",
    "Propose",
    "History",
    "Interest in our technologies",
    "Interest we sent",
    "Download",
    "Answer",
    "Technologies",
    "Technology needs",
    "Create an organisation",
    "Sign in",
    "Search",
    "Deals by stage",
    "Leads",
    "Need",
    "Note",
    "Organisation",
    "Province",
    "Kind",
    "Send",
];

/// A technology of the institute in Cần Thơ, its record with one administrator, and the
/// province's broker.
fn world(ws: &Workspace) {
    let rows = [json!({"id": "ro-tom", "kind": "research_output",
        "title": "Công nghệ nuôi tôm thẻ chân trắng tuần hoàn",
        "description": "Hệ thống nuôi tôm tuần hoàn khép kín, xử lý nước bằng vi sinh, mật độ cao.",
        "province": "Cần Thơ", "field": "4.5", "trl": 7, "owner": INSTITUTE,
        "transfer_modes": ["licence"]})];
    let jsonl: String = rows.into_iter().map(line).collect();
    let file = ws.file("walk.jsonl", &jsonl);
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let stores = Stores::shared(Arc::new(ws.data_dir().open_store().expect("store")));
    for (email, role, org) in [
        ("thu@vnts2.vn", Role::Institute, Some(INSTITUTE)),
        ("moigioi@cantho.gov.vn", Role::Broker, None),
    ] {
        let new = NewUser {
            email,
            role,
            province: Some("Cần Thơ"),
            org,
            password: PASSWORD,
        };
        add_user(stores.accounts.as_ref(), new, chrono::Utc::now()).expect("add user");
    }
    let mut admin = stores
        .accounts
        .user_by_email("thu@vnts2.vn")
        .unwrap()
        .unwrap();
    let org = Organisation {
        id: "org-vnts2".into(),
        name: INSTITUTE.into(),
        kind: OrgKind::Institute,
        province: techmatch::domain::Provinces::get()
            .resolve("Cần Thơ")
            .ok()
            .map(|p| p.code.clone()),
        registration_no: None,
        website: None,
        description: None,
        created_at: chrono::Utc::now(),
        admins: vec![admin.id.clone()],
        verified: None,
        verification_history: Vec::new(),
        requests: Vec::new(),
        merged_into: None,
    };
    assert!(stores.orgs.add_org(&org).unwrap());
    admin.org_id = Some(org.id);
    stores.accounts.replace_user(&admin).unwrap();
}

/// Fails when the page's main part shows any of [`ENGLISH`].
fn assert_vietnamese(b: &Browser, page: &str) {
    let text = b.text("main");
    for english in ENGLISH {
        assert!(
            !text.contains(english),
            "{page}: English text {english:?} on the Vietnamese page:\n{text}"
        );
    }
}

/// Opens `path` in English and fails when a label, heading, button, badge or message of the
/// page holds Vietnamese; then switches back to Vietnamese. (Listing titles, names and
/// provinces are data, in the language they were written in, and are not checked.)
fn assert_english(b: &Browser, base: &str, path: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    b.goto(&format!("{base}{path}{sep}lang=en"));
    let ui = b.texts(
        "main label, main th, main button, main :not(.hit) > h2, main h3, main summary, main .badge, \
         main .hint, main .notice, main .error, main .field-error, main figcaption, main dt, header nav",
    );
    let vietnamese: Vec<&str> = ui
        .lines()
        // The language switch names the other language in it.
        .filter(|line| line.trim() != "Tiếng Việt")
        .filter(|line| line.chars().any(|c| c.is_alphabetic() && !c.is_ascii()))
        .collect();
    assert!(
        vietnamese.is_empty(),
        "{path}: Vietnamese on the English page: {vietnamese:?}"
    );
    b.goto(&format!("{base}{path}{sep}lang=vi"));
}

fn sign_in(b: &Browser, base: &str, email: &str, password: &str) {
    b.goto(&format!("{base}/signin"));
    b.fill("#email", email);
    b.fill("#password", password);
    b.click("form[action='/signin'] button");
    b.wait_for("form[action='/signout']");
}

fn sign_out(b: &Browser) {
    b.click("form[action='/signout'] button");
    b.wait_for("a[href='/signin']");
}

/// The mail to `to` whose subject holds `subject`, waiting for it to arrive.
fn mail_to(smtp: &SmtpReceiver, to: &str, subject: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some((_, _, body)) = smtp
            .received()
            .into_iter()
            .rev()
            .find(|(t, s, _)| t.contains(to) && s.contains(subject))
        {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} about {subject:?}: {:?}",
            smtp.received()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `GET path` with the browser's session cookie; returns the status line, headers and body.
fn get_with_cookie(server: &Server, path: &str, cookie: &str) -> (String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(&server.addr).expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: tm_session={cookie}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    (head, response[split + 4..].to_vec())
}

#[test]
fn the_whole_exchange_in_a_real_browser_with_real_mail() {
    let Some(driver) = chromedriver() else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(!ci, "CI is set but chromedriver is missing");
        eprintln!("SKIPPED the exchange walk: chromedriver not found");
        return;
    };
    if !SmtpReceiver::available("the_whole_exchange_in_a_real_browser") {
        return;
    }
    let ws = Workspace::new();
    world(&ws);
    let smtp = SmtpReceiver::start(ws.dir.path(), free_port());
    let server = Server::start(
        &ws,
        &[
            "--smtp-url",
            &smtp.url(),
            "--mail-from",
            "techmatch <no-reply@techmatch.test>",
        ],
    );
    server.get_json("/api/v1/search?q=tom&min_seq=1");
    let base = format!("http://{}", server.addr);
    let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let b = Browser::start(&driver);

    // 1. An enterprise signs up and confirms its address by the mailed link.
    b.goto(&format!("{base}/signup"));
    b.fill("#name", "Trần Văn Sáu");
    b.fill("#email", "sau@tomsach.vn");
    b.fill("#password", PASSWORD);
    b.click("form[action='/signup'] button");
    b.wait_for("p.notice");
    assert_vietnamese(&b, "signup sent");
    let body = mail_to(&smtp, "sau@tomsach.vn", "Xác nhận");
    b.goto(&format!("{base}{}", link_path(&body, "confirm")));
    assert_vietnamese(&b, "confirmed");
    sign_in(&b, &base, "sau@tomsach.vn", PASSWORD);

    // 2. It creates its organisation from its own page.
    b.goto(&format!("{base}/me"));
    assert_vietnamese(&b, "/me of a newcomer");
    b.click("a[href='/orgs/new']");
    b.wait_for("form[action='/orgs/new']");
    assert_vietnamese(&b, "/orgs/new");
    assert_english(&b, &base, "/orgs/new");
    b.fill("#name", "Công ty Tôm Sạch Cà Mau");
    b.click("select#kind option[value='enterprise']");
    b.click("select#province option[value='92']");
    b.fill("#registration_no", "2001234567");
    b.click("form[action='/orgs/new'] button");
    b.wait_for_url("/orgs/org-");
    assert_eq!(b.text("h1"), "Công ty Tôm Sạch Cà Mau");
    assert_vietnamese(&b, "the enterprise's profile");
    let profile = b
        .url()
        .split_once(&base)
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    assert_english(&b, &base, &profile);
    assert_english(&b, &base, "/needs/new");

    // 3. It posts a need and sends interest in the institute's technology.
    b.goto(&format!("{base}/needs/new"));
    b.fill("#title", "Cần quy trình nuôi tôm tuần hoàn mật độ cao");
    b.fill(
        "#description",
        "Doanh nghiệp cần công nghệ nuôi tôm tuần hoàn, xử lý nước bằng vi sinh.",
    );
    b.click("form[action='/needs/new'] button[type=submit]");
    b.wait_for_url("/listings/nd-");
    assert_vietnamese(&b, "the need");
    b.goto(&format!("{base}/listings/ro-tom"));
    b.fill(
        "#message",
        "Chúng tôi muốn li-xăng công nghệ này cho 2 trại nuôi.",
    );
    b.click("#interest button");
    b.wait_for_url("sent=1");
    assert_vietnamese(&b, "interest sent");
    sign_out(&b);

    // 4. The institute's administrator invites a colleague by mail.
    sign_in(&b, &base, "thu@vnts2.vn", PASSWORD);
    b.goto(&format!("{base}/me"));
    assert_vietnamese(&b, "/me of an organisation's administrator");
    b.fill("form[action='/me/invite'] #email", "hoa@vnts2.vn");
    b.click("form[action='/me/invite'] button");
    b.wait_for_url("done=invited");
    sign_out(&b);
    let body = mail_to(&smtp, "hoa@vnts2.vn", INSTITUTE);
    b.goto(&format!("{base}{}", link_path(&body, "invite")));
    assert_vietnamese(&b, "the invitation");
    b.fill("#name", "Lê Thị Hoa");
    b.fill("#password", PASSWORD);
    b.click("form[action^='/invite/'] button");
    b.wait_for_url("done=joined");

    // 5. The new member finds the lead in the inbox and answers it.
    assert!(
        b.text("#inbox")
            .contains("Chúng tôi muốn li-xăng công nghệ này"),
        "{}",
        b.source()
    );
    assert_vietnamese(&b, "the leads inbox");
    assert_english(&b, &base, "/me");
    b.screenshot(&shots, "walk-desktop-inbox");
    b.fill(
        "#inbox textarea[name=message]",
        "Mời anh đến Viện thứ Năm để trao đổi.",
    );
    b.click("#inbox form button");
    b.wait_for_url("done=replied");
    assert!(b.text("#inbox").contains("Mời anh đến Viện thứ Năm"));
    let body = mail_to(&smtp, "sau@tomsach.vn", "Trả lời");
    assert!(body.contains("Mời anh đến Viện thứ Năm"), "{body}");
    sign_out(&b);

    // 6. The broker verifies both organisations from the list waiting on their page.
    sign_in(&b, &base, "moigioi@cantho.gov.vn", PASSWORD);
    for _ in 0..2 {
        b.goto(&format!("{base}/me"));
        assert_vietnamese(&b, "/me of the broker");
        b.click("#to-verify a");
        b.wait_for("#verify");
        assert_vietnamese(&b, "a profile to verify");
        b.click("#verify");
        b.wait_for("#revoke");
        assert!(b.source().contains("badge verified"), "the badge shows");
    }
    b.goto(&format!("{base}/me"));
    assert!(b.try_find("#to-verify").is_none(), "both verified");
    b.goto(&format!("{base}/listings/ro-tom"));
    assert!(b.text("#owner").contains(INSTITUTE));
    b.screenshot(&shots, "walk-desktop-listing-verified");

    // 7. It proposes a deal from the lead on the desk and takes it to agreed.
    b.goto(&format!("{base}/desk"));
    assert_vietnamese(&b, "the desk");
    b.click("form[data-lead] button");
    b.wait_for_url("#deal-");
    let url = b.url();
    let deal = url.rsplit("#deal-").next().unwrap().to_string();
    assert!(
        b.try_find("form[data-lead]").is_none(),
        "the lead left the list once it became a deal"
    );
    for stage in ["contacted", "negotiating"] {
        b.click(&format!("form[data-deal='{deal}'] button"));
        b.wait_for(&format!("[data-stage='{stage}'] #deal-{deal}"));
    }
    b.click(&format!("#stage-{deal} option[value='agreed']"));
    b.fill(&format!("#value-{deal}"), "350.000.000");
    b.set_value(&format!("#signed-{deal}"), "2026-12-01");
    b.click(&format!("form[data-deal='{deal}'] button"));
    b.wait_for(&format!("[data-stage='agreed'] #deal-{deal}"));
    assert!(b.text(&format!("#deal-{deal}")).contains("350.000.000"));
    b.click(&format!("#deal-{deal} details summary"));
    assert!(b
        .text(&format!("#deal-{deal} details"))
        .contains("moigioi@cantho.gov.vn"));
    assert_vietnamese(&b, "the desk after the deal");
    assert_english(&b, &base, "/desk");
    assert_english(&b, &base, "/listings/ro-tom");
    b.goto(&format!("{base}/listings/ro-tom"));
    assert!(
        b.text("#comparables").contains("chưa đủ 3"),
        "the broker sees comparable deals, withheld when fewer than three"
    );
    assert_english(&b, &base, "/search?q=nuoi+tom");
    assert_english(&b, &base, "/orgs");
    b.screenshot(&shots, "walk-desktop-desk");

    // 8. The province's CSV, as the browser would download it.
    let cookie = b.cookie("tm_session").expect("a session cookie");
    let (head, csv) = get_with_cookie(&server, "/desk/report.csv", &cookie);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        csv.starts_with("\u{feff}".as_bytes()),
        "a byte-order mark first"
    );
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("signed_value_vnd,350000000"), "{csv}");
    let (head, xlsx) = get_with_cookie(&server, "/desk/report.xlsx", &cookie);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(xlsx.starts_with(b"PK"), "an XLSX is a zip");

    // 9. The public statistics: one agreed deal is too few to publish its value.
    b.goto(&format!("{base}/statistics"));
    assert_vietnamese(&b, "the statistics");
    assert!(
        b.text("#market-value").contains("ẩn"),
        "{}",
        b.text("#headline")
    );
    // The page's downloads, fetched as the browser would follow their links.
    for (format, starts) in [
        ("csv", "\u{feff}".as_bytes()),
        ("xlsx", b"PK".as_slice()),
        ("json", b"{".as_slice()),
    ] {
        assert!(
            !b.texts(&format!("#headline a[href*='format={format}']"))
                .is_empty(),
            "no {format} download on the statistics page"
        );
        let path = format!("/api/v1/statistics?province=&year=&format={format}");
        let (head, body) = get_with_cookie(&server, &path, &cookie);
        assert!(head.starts_with("HTTP/1.1 200"), "{format}: {head}");
        assert!(body.starts_with(starts), "{format} download");
    }
    assert_english(&b, &base, "/statistics?province=92");
    b.screenshot(&shots, "walk-desktop-statistics");

    // 10. The phone's view of the desk and the pages of the walk.
    b.viewport(390, 844, true);
    b.goto(&format!("{base}/desk"));
    b.screenshot(&shots, "walk-phone-desk");
    b.goto(&format!("{base}/orgs"));
    b.screenshot(&shots, "walk-phone-orgs");
    b.goto(&format!("{base}/statistics"));
    b.screenshot(&shots, "walk-phone-statistics");
    b.viewport(1280, 900, false);
    sign_out(&b);

    // 11. A forgotten password is reset by mail.
    assert_english(&b, &base, "/forgot");
    assert_english(&b, &base, "/signup");
    b.goto(&format!("{base}/forgot"));
    b.fill("#email", "sau@tomsach.vn");
    b.click("form[action='/forgot'] button");
    b.wait_for("p.notice");
    let body = mail_to(&smtp, "sau@tomsach.vn", "Đặt lại mật khẩu");
    b.goto(&format!("{base}{}", link_path(&body, "reset")));
    b.fill("#password", "một mật khẩu mới thật dài");
    b.click("form[action^='/reset/'] button");
    b.wait_for("p.notice");
    sign_in(&b, &base, "sau@tomsach.vn", "một mật khẩu mới thật dài");
    b.goto(&format!("{base}/me"));
    assert!(
        b.text("#sent").contains("Mời anh đến Viện thứ Năm"),
        "the answer is on the enterprise's page"
    );
    b.screenshot(&shots, "walk-desktop-me-enterprise");
    b.viewport(390, 844, true);
    b.screenshot(&shots, "walk-phone-me-enterprise");
}
