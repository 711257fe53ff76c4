//! End-to-end tests in a real browser: Debian's chromium driven through chromedriver against
//! the real binary on loopback. They search with and without diacritics, apply a facet, open a
//! listing, sign in as an enterprise and post a need (first with an error shown beside its
//! field), and sign in as a broker and move a deal. Screenshots of the main pages at desktop
//! and phone widths go to `target/screenshots/`.
//!
//! Without chromedriver the test is skipped with a message, unless `CI` is set: in CI a missing
//! browser fails the run.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};

use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::Role;
use techmatch::store::Stores;

use crate::cli::Server;
use crate::common::{line, Workspace};
use crate::webdriver::{chromedriver, Browser};

const PASSWORD: &str = "mật khẩu đủ dài 2025";
const ENTERPRISE: &str = "Công ty Thủy sản Mekong";
const INSTITUTE: &str = "Viện Nuôi trồng Thủy sản 2";
const XSS_TITLE: &str = "<script>alert(1)</script> Máy sấy nông sản";

/// The small world: three technologies, one need, an enterprise member and a broker.
fn world(ws: &Workspace) {
    let contact = |id: &str| json!({"contact_name": "zzcontact Nguyễn Văn A", "contact_email": format!("zzcontact.{id}@example.vn")});
    let mut rows = vec![
        json!({"id": "ro-tom", "kind": "research_output", "title": "Công nghệ nuôi tôm thẻ chân trắng tuần hoàn",
               "description": "Hệ thống nuôi tôm tuần hoàn khép kín, xử lý nước bằng vi sinh, mật độ cao.",
               "province": "Cần Thơ", "field": "4.5", "trl": 7, "owner": INSTITUTE, "transfer_modes": ["licence"]}),
        json!({"id": "pt-tom", "kind": "patent", "title": "Chế phẩm vi sinh xử lý nước ao nuôi tôm",
               "description": "Chế phẩm vi sinh giúp xử lý nước ao nuôi tôm, giảm bệnh.",
               "province": "TP.HCM", "field": "4.5", "trl": 6, "owner": INSTITUTE}),
        json!({"id": "ro-xss", "kind": "research_output", "title": XSS_TITLE,
               "description": "Sấy lạnh nông sản <b>giữ màu</b>.", "province": "Hà Nội", "field": "2.3"}),
        json!({"id": "nd-1", "kind": "need", "title": "Cần công nghệ nuôi tôm mật độ cao",
               "description": "Doanh nghiệp cần quy trình nuôi tôm tuần hoàn, xử lý nước ao.",
               "province": "Cần Thơ", "field": "4.5", "owner": ENTERPRISE}),
    ];
    for row in &mut rows {
        let id = row["id"].as_str().unwrap_or_default().to_string();
        if let (Some(r), Value::Object(c)) = (row.as_object_mut(), contact(&id)) {
            r.extend(c);
        }
    }
    let jsonl: String = rows.into_iter().map(line).collect();
    let file = ws.file("world.jsonl", &jsonl);
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let store = Stores::shared(Arc::new(ws.data_dir().open_store().expect("store")));
    for (email, role, province, org) in [
        (
            "minh@mekong.vn",
            Role::Enterprise,
            Some("Cần Thơ"),
            Some(ENTERPRISE),
        ),
        ("moigioi@cantho.gov.vn", Role::Broker, Some("Cần Thơ"), None),
    ] {
        let new = NewUser {
            email,
            role,
            province,
            org,
            password: PASSWORD,
        };
        add_user(store.accounts.as_ref(), new, chrono::Utc::now()).expect("add user");
    }
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

fn sign_in(b: &Browser, email: &str) {
    b.fill("#email", email);
    b.fill("#password", PASSWORD);
    b.click("form[action='/signin'] button");
}

#[test]
fn people_search_read_post_and_move_deals_in_a_real_browser() {
    let Some(driver) = chromedriver() else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "CI is set but chromedriver is missing: install chromium and chromium-driver"
        );
        eprintln!("SKIPPED browser test: chromedriver not found (apt-get install chromium chromium-driver)");
        return;
    };
    let ws = Workspace::new();
    world(&ws);
    let server = Server::start(&ws, &[]);
    let token = server.token.clone().expect("admin token");
    let deal = json!({"need_id": "nd-1", "listing_id": "ro-tom"}).to_string();
    let (status, body) = server.request("POST", "/api/v1/deals", Some(&token), Some(&deal));
    assert_eq!(status, 201, "{body}");
    let deal_id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The index follows the store in the background; wait until it holds the world.
    server.get_json("/api/v1/search?q=tom&min_seq=4");

    let base = format!("http://{}", server.addr);
    let shots = screenshots();
    let b = Browser::start(&driver);

    // Search with diacritics, from the home page's box.
    b.goto(&format!("{base}/"));
    b.screenshot(&shots, "desktop-home");
    b.fill("input[name=q]", "nuôi tôm");
    b.click("form.searchbox button");
    b.wait_for_url("/search?q=");
    assert!(
        b.source().contains("href=\"/listings/ro-tom\""),
        "the research output is found"
    );
    b.screenshot(&shots, "desktop-search");

    // And without: the same listing, with the matched words highlighted.
    b.fill("input[name=q]", "nuoi tom");
    b.click("form.searchbox button");
    b.wait_for_url("q=nuoi+tom");
    let page = b.source();
    assert!(
        page.contains("href=\"/listings/ro-tom\"") && page.contains("<mark>"),
        "{page}"
    );

    // A facet narrows the results and stays in the shareable URL.
    b.click("a[data-facet='kind'][href*='kind=patent']");
    b.wait_for_url("kind=patent");
    let page = b.source();
    assert!(
        page.contains("/listings/pt-tom") && !page.contains("/listings/ro-tom"),
        "{page}"
    );

    // Open a listing: public facts and matches, no contact details for an anonymous reader.
    b.click(".hit h2 a");
    b.wait_for_url("/listings/pt-tom");
    assert_eq!(b.text("h1"), "Chế phẩm vi sinh xử lý nước ao nuôi tôm");
    assert!(b.try_find("#matches").is_some());
    assert!(
        !b.source().contains("zzcontact"),
        "contact details leaked to anonymous"
    );
    b.screenshot(&shots, "desktop-listing");

    // A title with a script renders as text.
    b.goto(&format!("{base}/listings/ro-xss"));
    assert_eq!(b.text("h1"), XSS_TITLE);

    // The language switch is remembered.
    b.click("a[hreflang='en']");
    b.wait_for_url("lang=en");
    assert!(b.source().contains("<html lang=\"en\">"));
    b.goto(&format!("{base}/"));
    assert!(
        b.source().contains("<html lang=\"en\">"),
        "English is remembered"
    );
    b.click("a[hreflang='vi']");
    b.wait_for_url("lang=vi");

    // An enterprise member signs in (sent there by the form) and posts a need.
    b.goto(&format!("{base}/needs/new"));
    assert!(b.url().contains("/signin?next="), "{}", b.url());
    sign_in(&b, "minh@mekong.vn");
    b.wait_for_url("/needs/new");
    b.fill(
        "#description",
        "Cần máy bóc vỏ hạt điều năng suất 2 tấn/giờ.",
    );
    b.click("form[action='/needs/new'] button[type=submit]");
    b.wait_for("#title-error");
    assert!(
        b.text("#title-error").contains("Bắt buộc"),
        "the error is next to the title"
    );
    assert!(
        b.source().contains("Cần máy bóc vỏ hạt điều"),
        "what was typed is kept"
    );
    b.screenshot(&shots, "desktop-need-error");
    b.fill("#title", "Cần máy bóc vỏ hạt điều");
    b.click("form[action='/needs/new'] button[type=submit]");
    b.wait_for_url("/listings/nd-");
    assert_eq!(b.text("h1"), "Cần máy bóc vỏ hạt điều");

    // Interest in a technology, through the same logic as the API.
    b.goto(&format!("{base}/listings/ro-tom"));
    b.fill("#message", "Chúng tôi muốn li-xăng công nghệ này.");
    b.click("#interest button");
    b.wait_for_url("sent=1");
    assert!(b.try_find("#sent").is_some(), "{}", b.source());
    b.click("form[action='/signout'] button");
    b.wait_for("a[href='/signin']");

    // A broker signs in, lands on the desk and moves the deal to contacted.
    b.goto(&format!("{base}/signin"));
    sign_in(&b, "moigioi@cantho.gov.vn");
    b.wait_for_url("/desk");
    assert!(b
        .try_find(&format!("[data-stage='proposed'] #deal-{deal_id}"))
        .is_some());
    assert!(
        b.source().contains("Chúng tôi muốn li-xăng"),
        "the lead is on the desk"
    );
    b.screenshot(&shots, "desktop-desk");
    b.click(&format!("form[data-deal='{deal_id}'] button"));
    b.wait_for_url("#deal-");
    assert!(
        b.try_find(&format!("[data-stage='contacted'] #deal-{deal_id}"))
            .is_some(),
        "{}",
        b.source()
    );

    // The main pages at a phone's width.
    b.viewport(390, 844, true);
    b.screenshot(&shots, "phone-desk");
    b.goto(&format!("{base}/search?q=nuoi+tom"));
    b.screenshot(&shots, "phone-search");
    b.goto(&format!("{base}/listings/ro-tom"));
    b.screenshot(&shots, "phone-listing");
    b.goto(&format!("{base}/"));
    b.screenshot(&shots, "phone-home");
}
