//! The web pages in process: escaping, contact details, sessions and their cookies, CSRF, the
//! language switch. The browser tests (`browser.rs`) cover the same pages end to end.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::world::{World, CONTACT, PASSWORD};

/// An answer: status, `Set-Cookie` values, `Location`, body.
struct Page {
    status: StatusCode,
    cookies: Vec<String>,
    location: Option<String>,
    body: String,
}

async fn send(
    world: &World,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Page {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let req = match form {
        Some(f) => req
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(f.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let response = techmatch::server::app(world.app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        cookies,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The value of a hidden `csrf` field in a page.
fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..].split('"').next().unwrap().to_string()
}

/// The `name=value` part of the `Set-Cookie` for `name`.
fn cookie_pair(page: &Page, name: &str) -> String {
    let set = page
        .cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .expect(name);
    set.split(';').next().unwrap().to_string()
}

/// Signs in through the form; returns the session cookie (`tm_session=…`) and the sign-in answer.
async fn sign_in(world: &World, email: &str, password: &str) -> (Option<String>, Page) {
    let form = send(world, Method::GET, "/signin", None, None).await;
    let pre = cookie_pair(&form, "tm_pre");
    let body = format!(
        "csrf={}&email={}&password={}",
        csrf(&form.body),
        crate::common::enc(email),
        crate::common::enc(password)
    );
    let answer = send(world, Method::POST, "/signin", Some(&pre), Some(&body)).await;
    let session = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .map(|c| c.split(';').next().unwrap().to_string());
    (session, answer)
}

#[tokio::test]
async fn a_script_in_a_title_renders_as_text_on_every_page() {
    let world = World::new().await;
    let mut body = crate::world::listing("ro-x", "research_output", "X", "79", "2.8");
    body["title"] = json!("<script>alert(1)</script> xử lý nước thải");
    let seq = world.app.post_listing(body).await;
    world.app.search_after(seq, "?q=xu+ly").await;
    for uri in ["/listings/ro-x", "/search?q=xu+ly+nuoc+thai"] {
        let page = send(&world, Method::GET, uri, None, None).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(!page.body.contains("<script>"), "{uri}: {}", page.body);
        assert!(page.body.contains("&lt;script&gt;"), "{uri}");
    }
}

#[tokio::test]
async fn contact_details_show_only_to_those_the_rights_model_allows() {
    let world = World::new().await;
    let anonymous = send(&world, Method::GET, "/listings/ro-1", None, None).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(
        !anonymous.body.contains(CONTACT),
        "anonymous sees no contact"
    );
    let (broker, _) = sign_in(&world, "moigioi@hcm.gov.vn", PASSWORD).await;
    let page = send(
        &world,
        Method::GET,
        "/listings/ro-1",
        broker.as_deref(),
        None,
    )
    .await;
    assert!(page.body.contains(CONTACT), "a broker sees the contact");
    let draft = send(&world, Method::GET, "/listings/ro-draft", None, None).await;
    assert_eq!(draft.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_session_cookie_is_http_only_and_same_site_and_stored_only_as_a_hash() {
    let world = World::new().await;
    let (session, answer) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let session = session.expect("a session cookie");
    let set = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "not over plain HTTP");
    let id = session.trim_start_matches("tm_session=");
    let accounts = world.app.state.accounts.clone();
    assert!(
        accounts.session_by_hash(id).unwrap().is_none(),
        "the id itself is not a key"
    );
    let hash = techmatch::accounts::credentials::token_hash(id);
    assert!(accounts.session_by_hash(&hash).unwrap().is_some());
    // Signed in, the needs form is offered.
    let form = send(&world, Method::GET, "/needs/new", Some(&session), None).await;
    assert_eq!(form.status, StatusCode::OK);
    // Signing out ends the session in the store.
    let out = format!("csrf={}", csrf(&form.body));
    let bye = send(&world, Method::POST, "/signout", Some(&session), Some(&out)).await;
    assert_eq!(bye.status, StatusCode::SEE_OTHER);
    assert!(accounts.session_by_hash(&hash).unwrap().is_none());
    let after = send(&world, Method::GET, "/needs/new", Some(&session), None).await;
    assert_eq!(
        after.location.as_deref(),
        Some("/signin?next=%2Fneeds%2Fnew")
    );
}

#[tokio::test]
async fn behind_tls_the_session_cookie_is_secure() {
    let mut world = World::new().await;
    world.app.state.secure_cookies = true;
    let (_, answer) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let set = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .unwrap();
    assert!(set.ends_with("; Secure"), "{set}");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let world = World::new().await;
    let (session, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let session = session.unwrap();
    let body = "title=T&description=D&csrf=0000";
    let page = send(
        &world,
        Method::POST,
        "/needs/new",
        Some(&session),
        Some(body),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = send(
        &world,
        Method::POST,
        "/needs/new",
        Some(&session),
        Some("title=T&description=D"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A sign-in form posted without its pre-sign-in cookie is refused too.
    let signin = send(
        &world,
        Method::POST,
        "/signin",
        None,
        Some("csrf=x&email=a%40b.vn&password=p"),
    )
    .await;
    assert_eq!(signin.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_need_form_shows_each_error_beside_its_field_and_keeps_what_was_typed() {
    let world = World::new().await;
    let (session, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let session = session.unwrap();
    let form = send(&world, Method::GET, "/needs/new", Some(&session), None).await;
    let body = format!(
        "csrf={}&title=&description=M%C3%A1y+b%C3%B3c+v%E1%BB%8F&trl_min=3&deadline=hôm+qua",
        csrf(&form.body)
    );
    let page = send(
        &world,
        Method::POST,
        "/needs/new",
        Some(&session),
        Some(&body),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("id=\"title-error\""), "{}", page.body);
    assert!(page.body.contains("id=\"deadline-error\""), "{}", page.body);
    assert!(page.body.contains("Máy bóc vỏ"), "the description is kept");
    let ok = format!(
        "csrf={}&title=M%C3%A1y&description=M%C3%A1y+b%C3%B3c+v%E1%BB%8F",
        csrf(&form.body)
    );
    let page = send(
        &world,
        Method::POST,
        "/needs/new",
        Some(&session),
        Some(&ok),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let id = page.location.unwrap();
    let stored = world
        .app
        .state
        .store
        .get(id.trim_start_matches("/listings/"))
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.owner.as_deref(),
        Some(crate::world::ENTERPRISE),
        "owner stamped as on the API"
    );
}

#[tokio::test]
async fn wrong_passwords_on_the_form_count_towards_the_same_lockout_as_the_api() {
    let world = World::new().await;
    for _ in 0..10 {
        let (session, page) = sign_in(&world, "minh@mekong.vn", "sai mật khẩu rồi").await;
        assert!(session.is_none());
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let (_, page) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = world.sign_in("minh@mekong.vn", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the API token route is locked too"
    );
}

#[tokio::test]
async fn the_desk_is_for_brokers_and_english_is_remembered() {
    let world = World::new().await;
    let (member, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let page = send(&world, Method::GET, "/desk", member.as_deref(), None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let anonymous = send(&world, Method::GET, "/desk", None, None).await;
    assert_eq!(anonymous.location.as_deref(), Some("/signin?next=%2Fdesk"));
    let (broker, _) = sign_in(&world, "moigioi@hcm.gov.vn", PASSWORD).await;
    let page = send(
        &world,
        Method::GET,
        "/desk?lang=en",
        broker.as_deref(),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("Deal funnel"));
    let lang = cookie_pair(&page, "tm_lang");
    assert_eq!(lang, "tm_lang=en");
    let home = send(&world, Method::GET, "/", Some(&lang), None).await;
    assert!(home.body.contains("<html lang=\"en\">"));
    let home = send(&world, Method::GET, "/", None, None).await;
    assert!(
        home.body.contains("<html lang=\"vi\">"),
        "Vietnamese by default"
    );
}

#[tokio::test]
async fn the_owner_edits_a_listing_and_fields_the_form_lacks_are_kept() {
    let world = World::new().await;
    let (session, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let session = session.unwrap();
    let before = world.app.state.store.get("nd-1").unwrap().unwrap();
    let form = send(
        &world,
        Method::GET,
        "/listings/nd-1/edit",
        Some(&session),
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains(&before.title),
        "the form starts from the stored title"
    );
    let body = format!(
        "csrf={}&title=Ti%C3%AAu+%C4%91%E1%BB%81+m%E1%BB%9Bi&description={}",
        csrf(&form.body),
        crate::common::enc(&before.description)
    );
    let page = send(
        &world,
        Method::POST,
        "/listings/nd-1/edit",
        Some(&session),
        Some(&body),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let after = world.app.state.store.get("nd-1").unwrap().unwrap();
    assert_eq!(after.title, "Tiêu đề mới");
    assert_eq!(
        after.owner, before.owner,
        "the owner is not on the form and is kept"
    );
    assert_eq!(
        after.contact_email, None,
        "a field the form sent empty is cleared"
    );
    assert_eq!(after.created_at, before.created_at);

    let (other, _) = sign_in(&world, "lan@vsh.ac.vn", PASSWORD).await;
    let page = send(
        &world,
        Method::GET,
        "/listings/nd-1/edit",
        Some(&other.unwrap()),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = send(&world, Method::GET, "/listings/nd-1/edit", None, None).await;
    assert!(
        page.status == StatusCode::SEE_OTHER || page.status == StatusCode::UNAUTHORIZED,
        "{}",
        page.status
    );
}

#[tokio::test]
async fn an_unknown_page_answers_404_with_a_page_in_the_visitors_language() {
    let world = World::new().await;
    let page = send(&world, Method::GET, "/no/such/page", None, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.starts_with("<!DOCTYPE html>"), "{}", page.body);
    assert!(page.body.contains("Không có trang nào"), "{}", page.body);
    let page = send(&world, Method::GET, "/no/such/page?lang=en", None, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("There is no page at this address"));
    assert!(!page.body.contains("Không có trang nào"));
    // The API keeps its JSON answer.
    let page = send(&world, Method::GET, "/api/v1/no-such-route", None, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body.contains("\"code\":\"not_found\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_sign_up_form_shows_each_error_beside_its_field_in_the_pages_language() {
    let world = World::new().await;
    for (lang, expected, foreign) in [
        ("vi", "Mật khẩu cần ít nhất 10 ký tự", "The password needs"),
        (
            "en",
            "The password needs at least 10 characters",
            "Mật khẩu cần",
        ),
    ] {
        let form = send(
            &world,
            Method::GET,
            &format!("/signup?lang={lang}"),
            None,
            None,
        )
        .await;
        assert_eq!(form.status, StatusCode::OK);
        let cookie = format!("{}; tm_lang={lang}", cookie_pair(&form, "tm_pre"));
        let body = format!(
            "csrf={}&name=Lan&email=lan%40congty.vn&password=short",
            csrf(&form.body)
        );
        let page = send(&world, Method::POST, "/signup", Some(&cookie), Some(&body)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("id=\"password-error\""), "{}", page.body);
        assert!(page.body.contains(expected), "{}", page.body);
        assert!(!page.body.contains(foreign), "{}", page.body);
        // What was typed is kept, except the password.
        assert!(
            page.body.contains("value=\"lan@congty.vn\""),
            "{}",
            page.body
        );
        // Nothing was created: the form again, then a real sign-up goes through.
        let body = format!(
            "csrf={}&name=Lan&email=lan-{lang}%40congty.vn&password=mot+mat+khau+du+dai",
            csrf(&form.body)
        );
        let page = send(&world, Method::POST, "/signup", Some(&cookie), Some(&body)).await;
        assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
        assert!(page.body.contains(&format!("lan-{lang}@congty.vn")));
    }
}

#[tokio::test]
async fn the_broker_downloads_the_province_report_as_csv_for_spreadsheets() {
    let world = World::new().await;
    let (broker, _) = sign_in(&world, "moigioi@hcm.gov.vn", PASSWORD).await;
    let desk = send(&world, Method::GET, "/desk", broker.as_deref(), None).await;
    assert!(
        desk.body.contains("href=\"/desk/report.csv\""),
        "{}",
        desk.body
    );
    let file = send(
        &world,
        Method::GET,
        "/desk/report.csv",
        broker.as_deref(),
        None,
    )
    .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.body.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheet programs"
    );
    // The same figures as the API's CSV of the broker's province (79), after the mark.
    let (_, api) = world
        .call(
            crate::world::Who::Broker,
            Method::GET,
            "/api/v1/reports/provinces/79?format=csv",
            None,
        )
        .await;
    let api = api.as_str().unwrap_or_default().to_string();
    assert!(!api.is_empty());
    assert_eq!(file.body.trim_start_matches('\u{feff}'), api);
    // Members and visitors get no report.
    let (member, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let page = send(
        &world,
        Method::GET,
        "/desk/report.csv",
        member.as_deref(),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = send(&world, Method::GET, "/desk/report.csv", None, None).await;
    assert!(page.location.is_some_and(|l| l.starts_with("/signin")));
}

/// Signs in through the form with `next` as posted; the answer.
async fn sign_in_then(world: &World, next: &str) -> Page {
    let form = send(world, Method::GET, "/signin", None, None).await;
    let pre = cookie_pair(&form, "tm_pre");
    let body = format!(
        "csrf={}&email={}&password={}&next={}",
        csrf(&form.body),
        crate::common::enc("lan@vsh.ac.vn"),
        crate::common::enc(PASSWORD),
        crate::common::enc(next)
    );
    send(world, Method::POST, "/signin", Some(&pre), Some(&body)).await
}

#[tokio::test]
async fn after_sign_in_only_local_paths_are_followed() {
    let world = World::new().await;
    let answer = sign_in_then(&world, "/needs/new?lang=en").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/needs/new?lang=en"));
    for next in [
        "/%09/evil.example",
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/%2509/evil.example",
        "/x\r\nSet-Cookie: a=b",
        "/\n",
    ] {
        let answer = sign_in_then(&world, next).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{next:?}: {}",
            answer.body
        );
        assert_eq!(answer.location.as_deref(), Some("/"), "{next:?}");
    }
    // The form does not carry an off-site `next` either.
    let form = send(
        &world,
        Method::GET,
        "/signin?next=/%09/evil.example",
        None,
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(!form.body.contains("name=\"next\""), "{}", form.body);
}

#[tokio::test]
async fn another_organisations_draft_has_no_edit_page() {
    let world = World::new().await;
    let (session, _) = sign_in(&world, "minh@mekong.vn", PASSWORD).await;
    let session = session.expect("signed in");
    let hidden = send(
        &world,
        Method::GET,
        "/listings/ro-draft/edit",
        Some(&session),
        None,
    )
    .await;
    let missing = send(
        &world,
        Method::GET,
        "/listings/no-such/edit",
        Some(&session),
        None,
    )
    .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        !hidden.body.contains("another organisation"),
        "{}",
        hidden.body
    );
}

#[tokio::test]
async fn a_page_past_the_end_says_so_in_both_languages() {
    let world = World::new().await;
    let body = crate::world::listing("ro-p", "research_output", "X", "79", "2.8");
    let seq = world.app.post_listing(body).await;
    world.app.search_after(seq, "?q=x").await;
    let vi = send(&world, Method::GET, "/search?page=25&lang=vi", None, None).await;
    assert_eq!(vi.status, StatusCode::OK);
    assert!(vi.body.contains("vượt quá trang cuối"), "{}", vi.body);
    assert!(!vi.body.contains("25 / 1"), "{}", vi.body);
    let en = send(&world, Method::GET, "/search?page=25&lang=en", None, None).await;
    assert!(en.body.contains("is past the last page"), "{}", en.body);
    assert!(
        en.body.contains("page=1"),
        "a link to the last page: {}",
        en.body
    );
}
