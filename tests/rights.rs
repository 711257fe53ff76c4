//! Rights: every route of the API as every kind of caller, against a table of expected answers;
//! and contact details, which anonymous readers never see in any answer.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TOKEN;
use crate::world::{listing, Who, World, CONTACT, ENTERPRISE, INSTITUTE, PASSWORD};

/// One route called as every caller, with the status each must get, in the order of
/// [`Who::ALL`]: admin token, admin user, broker (79), institute member, enterprise member,
/// anonymous, wrong token.
struct Row {
    method: Method,
    /// The route as the OpenAPI document names it.
    route: &'static str,
    /// The URI called; `{fresh_listing}`, `{other_listing}`, `{deal}`, `{other_deal}` and
    /// `{token}` are replaced by a new resource for each call.
    uri: &'static str,
    body: Option<Value>,
    expect: [u16; 7],
}

fn row(
    method: Method,
    route: &'static str,
    uri: &'static str,
    body: Option<Value>,
    expect: [u16; 7],
) -> Row {
    Row {
        method,
        route,
        uri,
        body,
        expect,
    }
}

/// A listing body without id (generated) and, unless given, without owner (stamped for members).
fn new_listing(kind: &str, owner: Option<&str>) -> Value {
    let mut body = listing("x", kind, owner.unwrap_or(""), "79", "2.8");
    let map = body.as_object_mut().unwrap();
    map.remove("id");
    if owner.is_none() {
        map.remove("owner");
    }
    body
}

/// The expected answers. Columns: admin token, admin user, broker (79), institute member,
/// enterprise member, anonymous, wrong token.
#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Method as M;
    let ro1 = listing("ro-1", "research_output", INSTITUTE, "79", "2.8");
    let ro_hn = listing("ro-hn", "research_output", "Đại học Bách khoa Hà Nội", "01", "2.7");
    let mut ro_draft = listing("ro-draft", "research_output", INSTITUTE, "79", "2.8");
    ro_draft["status"] = json!("draft");
    let contacted = json!({"stage": "contacted", "note": "đã gọi điện"});
    let interest = json!({"message": "Chúng tôi muốn mua li-xăng"});
    let sign_in = json!({"email": "minh@mekong.vn", "password": PASSWORD});
    vec![
        // Reference data and health ignore credentials.
        row(M::GET, "/api/v1/health", "/api/v1/health", None,                                  [200; 7]),
        row(M::GET, "/api/v1/provinces", "/api/v1/provinces", None,                             [200; 7]),
        row(M::GET, "/api/v1/fields", "/api/v1/fields", None,                                   [200; 7]),
        row(M::GET, "/api/v1/openapi.json", "/api/v1/openapi.json", None,                       [200; 7]),
        // Metrics are for the admin token (or `serve --metrics-addr`).
        row(M::GET, "/metrics", "/metrics", None,                                               [200, 200, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/search", "/api/v1/search?q=nuoc+thai", None,                       [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/search", "/api/v1/search?status=draft", None,                      [200, 200, 400, 400, 400, 400, 401]),
        // The public change feed and its snapshot: anonymous readers' view, for everyone.
        row(M::GET, "/api/v1/changes", "/api/v1/changes?after=0", None,                          [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/changes/snapshot", "/api/v1/changes/snapshot", None,                [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/listings/{id}/duplicates", "/api/v1/listings/ro-1/duplicates", None, [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/listings/{id}/duplicates", "/api/v1/listings/ro-draft/duplicates", None, [200, 200, 200, 200, 404, 404, 401]),
        row(M::GET, "/api/v1/schema/listing.json", "/api/v1/schema/listing.json", None,          [200, 200, 200, 200, 200, 200, 200]),
        row(M::GET, "/api/v1/schema/listing-template.csv", "/api/v1/schema/listing-template.csv", None, [200, 200, 200, 200, 200, 200, 200]),
        row(M::GET, "/api/v1/search", "/api/v1/search?q=nuoc+thai&format=csv", None,            [200, 200, 200, 200, 200, 200, 401]),
        // Listings: members write their own organisation's, of their kinds.
        row(M::POST, "/api/v1/listings", "/api/v1/listings", Some(new_listing("research_output", None)), [201, 201, 403, 201, 403, 401, 401]),
        row(M::POST, "/api/v1/listings", "/api/v1/listings", Some(new_listing("need", None)),   [201, 201, 403, 403, 201, 401, 401]),
        row(M::POST, "/api/v1/listings", "/api/v1/listings", Some(new_listing("patent", Some("Đại học Khác"))), [201, 201, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/listings/{id}", "/api/v1/listings/ro-1", None,                     [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/listings/{id}", "/api/v1/listings/ro-draft", None,                 [200, 200, 200, 200, 404, 404, 401]),
        row(M::PUT, "/api/v1/listings/{id}", "/api/v1/listings/ro-1", Some(ro1),                [200, 200, 403, 200, 403, 401, 401]),
        row(M::PUT, "/api/v1/listings/{id}", "/api/v1/listings/ro-hn", Some(ro_hn),             [200, 200, 403, 403, 403, 401, 401]),
        row(M::DELETE, "/api/v1/listings/{id}", "/api/v1/listings/{fresh_listing}", None,       [204, 204, 403, 204, 403, 401, 401]),
        row(M::DELETE, "/api/v1/listings/{id}", "/api/v1/listings/{other_listing}", None,       [204, 204, 403, 403, 403, 401, 401]),
        row(M::DELETE, "/api/v1/listings/{id}", "/api/v1/listings/nothing", None,               [404, 404, 403, 404, 404, 401, 401]),
        // A draft the caller may not see answers as if it did not exist, whatever the method.
        row(M::PUT, "/api/v1/listings/{id}", "/api/v1/listings/ro-draft", Some(ro_draft),       [200, 200, 403, 200, 404, 401, 401]),
        row(M::DELETE, "/api/v1/listings/{id}", "/api/v1/listings/{fresh_draft}", None,         [204, 204, 403, 204, 404, 401, 401]),
        row(M::POST, "/api/v1/listings", "/api/v1/listings", Some(json!({"id": "ro-draft", "kind": "need", "title": "Cần máy sấy", "description": "Máy sấy lạnh"})), [409, 409, 403, 403, 404, 401, 401]),
        // Matching reads published listings, for everyone with valid (or no) credentials.
        row(M::GET, "/api/v1/needs/{id}/matches", "/api/v1/needs/nd-1/matches", None,         [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/listings/{id}/matches", "/api/v1/listings/ro-1/matches", None,   [200, 200, 200, 200, 200, 200, 401]),
        row(M::POST, "/api/v1/match", "/api/v1/match", Some(json!({"text": "xử lý nước thải"})), [200, 200, 200, 200, 200, 200, 401]),
        // Interest and leads.
        row(M::POST, "/api/v1/listings/{id}/interest", "/api/v1/listings/ro-1/interest", Some(interest.clone()), [403, 403, 403, 403, 201, 401, 401]),
        row(M::POST, "/api/v1/listings/{id}/interest", "/api/v1/listings/nd-hn/interest", Some(interest), [403, 403, 403, 403, 400, 401, 401]),
        row(M::GET, "/api/v1/leads", "/api/v1/leads", None,                                     [200, 200, 200, 200, 200, 401, 401]),
        // Deals: brokers of either side's province, and admins.
        // (A technology of its own for each call: one open deal per need × technology.)
        row(M::POST, "/api/v1/deals", "/api/v1/deals", Some(json!({"need_id": "nd-1", "listing_id": "{fresh_listing}"})), [201, 201, 201, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/deals", "/api/v1/deals", Some(json!({"need_id": "nd-hn", "listing_id": "{fresh_hn}"})), [201, 201, 403, 403, 403, 401, 401]),
        // A broker's deal takes only what the broker may read: another province's draft is
        // refused exactly like an id that does not exist.
        row(M::POST, "/api/v1/deals", "/api/v1/deals", Some(json!({"need_id": "nd-1", "listing_id": "{other_draft}"})), [201, 201, 400, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/deals", "/api/v1/deals", Some(json!({"need_id": "nd-1", "listing_id": "nothing"})), [400, 400, 400, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/deals", "/api/v1/deals", None,                                     [200, 200, 200, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/deals/{id}/stage", "/api/v1/deals/{deal}/stage", Some(contacted.clone()), [200, 200, 200, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/deals/{id}/stage", "/api/v1/deals/{other_deal}/stage", Some(contacted), [200, 200, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/deals/{id}/history", "/api/v1/deals/{deal}/history", None,        [200, 200, 200, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/deals/{id}/history", "/api/v1/deals/{other_deal}/history", None,  [200, 200, 403, 403, 403, 401, 401]),
        // A confidential need is disclosed by its organisation, its province's brokers and
        // admins (nd-1, Cần Thơ's, is not confidential: 400 for those who may).
        row(M::POST, "/api/v1/listings/{id}/disclosures", "/api/v1/listings/nd-1/disclosures", Some(json!({"org": INSTITUTE})), [400, 400, 403, 403, 400, 401, 401]),
        // A listing is confirmed current by its organisation (ro-1 is the institute's) and
        // admins; the freshness sweep is run by admins.
        row(M::POST, "/api/v1/listings/{id}/confirm", "/api/v1/listings/ro-1/confirm", None,    [200, 200, 403, 200, 403, 401, 401]),
        row(M::POST, "/api/v1/admin/sweep", "/api/v1/admin/sweep", Some(json!({"now": "2020-01-01T00:00:00Z"})), [200, 200, 403, 403, 403, 401, 401]),
        // Reports: a province's brokers and admins; the nation's admins.
        row(M::GET, "/api/v1/reports/provinces/{code}", "/api/v1/reports/provinces/79", None,   [200, 200, 200, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/reports/provinces/{code}", "/api/v1/reports/provinces/92?format=csv", None, [200, 200, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/reports/national", "/api/v1/reports/national", None,               [200, 200, 403, 403, 403, 401, 401]),
        // Backups are for administrators (a relative path is refused, so nothing is written).
        row(M::POST, "/api/v1/admin/backup", "/api/v1/admin/backup", Some(json!({"dir": "relative"})), [400, 400, 403, 403, 403, 401, 401]),
        // Tokens: anyone signs in with a password; a token is revoked by its owner or an admin.
        row(M::POST, "/api/v1/tokens", "/api/v1/tokens", Some(sign_in),                         [201, 201, 201, 201, 201, 201, 401]),
        row(M::DELETE, "/api/v1/tokens/{id}", "/api/v1/tokens/{token}", None,                   [204, 204, 403, 403, 204, 401, 401]),
        row(M::DELETE, "/api/v1/tokens/{id}", "/api/v1/tokens/tk-nothing", None,                [404, 404, 404, 404, 404, 401, 401]),
        // Joining: anyone signs up or asks for a reset link (a wrong token is still refused);
        // a link's secret is needed to set a password.
        row(M::POST, "/api/v1/signup", "/api/v1/signup", Some(json!({"email": "moi@congty.vn", "password": PASSWORD, "name": "Mới"})), [201, 201, 201, 201, 201, 201, 401]),
        row(M::POST, "/api/v1/password-resets", "/api/v1/password-resets", Some(json!({"email": "minh@mekong.vn"})), [202, 202, 202, 202, 202, 202, 401]),
        row(M::POST, "/api/v1/password-resets/{secret}", "/api/v1/password-resets/00ff", Some(json!({"password": "một mật khẩu đủ dài"})), [404, 404, 404, 404, 404, 404, 401]),
        // Users and the outbox are for administrators.
        row(M::POST, "/api/v1/users", "/api/v1/users", Some(json!({"email": "x@y.vn", "role": "king", "password": "một mật khẩu đủ dài"})), [400, 400, 403, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/users/password", "/api/v1/users/password", Some(json!({"email": "nobody@y.vn", "password": "một mật khẩu đủ dài"})), [404, 404, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/admin/outbox", "/api/v1/admin/outbox", None,                       [200, 200, 403, 403, 403, 401, 401]),
        // Organisations: anyone reads; members without one (or staff) create; the record's
        // administrators (the institute's member for org-vsh) edit, invite and answer requests;
        // the province's broker verifies; administrators merge.
        row(M::GET, "/api/v1/orgs", "/api/v1/orgs", None,                                       [200, 200, 200, 200, 200, 200, 401]),
        row(M::POST, "/api/v1/orgs", "/api/v1/orgs", Some(json!({"name": "{fresh_name}", "kind": "university", "province": "79"})), [201, 201, 201, 409, 409, 401, 401]),
        row(M::GET, "/api/v1/orgs/{id}", "/api/v1/orgs/org-vsh", None,                          [200, 200, 200, 200, 200, 200, 401]),
        row(M::GET, "/api/v1/orgs/{id}", "/api/v1/orgs/org-nothing", None,                      [404, 404, 404, 404, 404, 404, 401]),
        row(M::PUT, "/api/v1/orgs/{id}", "/api/v1/orgs/org-vsh", Some(json!({"kind": "institute", "province": "79", "website": "https://vsh.ac.vn"})), [200, 200, 403, 200, 403, 401, 401]),
        row(M::GET, "/api/v1/orgs/{id}/members", "/api/v1/orgs/org-vsh/members", None,          [200, 200, 200, 200, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/invitations", "/api/v1/orgs/org-vsh/invitations", Some(json!({"email": "moi@vsh.ac.vn"})), [202, 202, 403, 202, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/requests", "/api/v1/orgs/org-vsh/requests", None,       [403, 409, 409, 409, 409, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/requests/{user_id}", "/api/v1/orgs/org-vsh/requests/u-nobody", Some(json!({"accept": true})), [404, 404, 403, 404, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/verification", "/api/v1/orgs/org-vsh/verification", None, [200, 200, 200, 403, 403, 401, 401]),
        row(M::DELETE, "/api/v1/orgs/{id}/verification", "/api/v1/orgs/org-vsh/verification", None, [200, 200, 200, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/verification", "/api/v1/orgs/org-mekong/verification", None, [200, 200, 403, 403, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/merge", "/api/v1/orgs/org-vsh/merge", Some(json!({"from": "{fresh_org}"})), [200, 200, 403, 403, 403, 401, 401]),
        row(M::GET, "/api/v1/invitations/{secret}", "/api/v1/invitations/00ff", None,          [404, 404, 404, 404, 404, 404, 401]),
        row(M::POST, "/api/v1/invitations/{secret}", "/api/v1/invitations/00ff", Some(json!({"name": "Mới", "password": PASSWORD})), [404, 404, 404, 404, 404, 404, 401]),
        row(M::GET, "/api/v1/me", "/api/v1/me", None,                                           [403, 200, 200, 200, 200, 401, 401]),
        row(M::POST, "/api/v1/me/email", "/api/v1/me/email", Some(json!({"email": "not-an-address"})), [403, 400, 400, 400, 400, 401, 401]),
        row(M::DELETE, "/api/v1/orgs/{id}/members/{user_id}", "/api/v1/orgs/org-vsh/members/{fresh_member}", None, [200, 200, 403, 200, 403, 401, 401]),
        row(M::POST, "/api/v1/orgs/{id}/admins/{user_id}", "/api/v1/orgs/org-vsh/admins/u-nobody", None, [409, 409, 403, 409, 403, 401, 401]),
        // Interest is answered by the technology's organisation (and administrators).
        row(M::POST, "/api/v1/leads/{id}/reply", "/api/v1/leads/{lead}/reply", Some(json!({"message": "Xin mời trao đổi"})), [200, 200, 403, 200, 403, 401, 401]),
        row(M::POST, "/api/v1/leads/{id}/reply", "/api/v1/leads/ld-nothing/reply", Some(json!({"message": "x"})), [404, 404, 404, 404, 404, 401, 401]),
        row(M::GET, "/api/v1/reports/provinces/{code}", "/api/v1/reports/provinces/79?format=xlsx", None, [200, 200, 200, 403, 403, 401, 401]),
        // Comparable deals value a technology for brokers, admins and its own organisation.
        row(M::GET, "/api/v1/listings/{id}/comparables", "/api/v1/listings/ro-1/comparables", None, [200, 200, 200, 200, 403, 401, 401]),
        row(M::GET, "/api/v1/listings/{id}/comparables", "/api/v1/listings/ro-draft/comparables", None, [200, 200, 200, 200, 404, 401, 401]),
        // The market's statistics are public.
        row(M::GET, "/api/v1/statistics", "/api/v1/statistics?province=79", None,             [200, 200, 200, 200, 200, 200, 401]),
        // Standing searches and alerts belong to user accounts (the admin token has none).
        row(M::POST, "/api/v1/saved-searches", "/api/v1/saved-searches", Some(json!({"q": "nước thải", "province": "79"})), [403, 201, 201, 201, 201, 401, 401]),
        row(M::POST, "/api/v1/saved-searches", "/api/v1/saved-searches", Some(json!({"q": "x", "trl_min": 12})), [403, 400, 400, 400, 400, 401, 401]),
        row(M::GET, "/api/v1/saved-searches", "/api/v1/saved-searches", None,                   [403, 200, 200, 200, 200, 401, 401]),
        row(M::DELETE, "/api/v1/saved-searches/{id}", "/api/v1/saved-searches/ss-nothing", None, [403, 404, 404, 404, 404, 401, 401]),
        row(M::GET, "/api/v1/notifications", "/api/v1/notifications", None,                     [403, 200, 200, 200, 200, 401, 401]),
        row(M::POST, "/api/v1/notifications/{id}/read", "/api/v1/notifications/n-nothing/read", None, [403, 404, 404, 404, 404, 401, 401]),
        // History is append-only: no method changes or removes it.
        row(M::DELETE, "-", "/api/v1/deals/{deal}/history", None,                               [405; 7]),
        row(M::PUT, "-", "/api/v1/deals/{deal}/history", Some(json!({"events": []})),           [405; 7]),
        row(M::PATCH, "-", "/api/v1/listings/ro-1", Some(json!({"title": "x"})),                [405; 7]),
    ]
}

/// Creates a draft as the admin token: the institute's in province 79, or another university's
/// in province 01 (which the broker of 79 may not see); returns its id.
async fn draft(world: &World, own: bool) -> String {
    let (owner, province) = if own {
        (INSTITUTE, "79")
    } else {
        ("Đại học Khác", "01")
    };
    let mut body = new_listing("research_output", Some(owner));
    body["province"] = json!(province);
    body["status"] = json!("draft");
    let (status, created) = world
        .call_with(TOKEN, Method::POST, "/api/v1/listings", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// Numbers fresh organisation names, unique within the test run.
static NAMES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// A new published research output in `province` (79: the institute's), made as the admin
/// token; returns its id. Each deal of the table takes its own: one deal per need × technology
/// may be open.
async fn technology(world: &World, province: &str) -> String {
    let owner = if province == "79" {
        INSTITUTE
    } else {
        "Đại học Bách khoa Hà Nội"
    };
    let mut body = new_listing("research_output", Some(owner));
    body["province"] = json!(province);
    let (status, created) = world
        .call_with(TOKEN, Method::POST, "/api/v1/listings", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// Replaces the placeholders of `uri` (or of a body) with resources made for this one call.
async fn resolve(world: &World, uri: &str) -> String {
    let mut uri = uri.to_string();
    if uri.contains("{fresh_draft}") {
        uri = uri.replace("{fresh_draft}", &draft(world, true).await);
    }
    if uri.contains("{other_draft}") {
        uri = uri.replace("{other_draft}", &draft(world, false).await);
    }
    if uri.contains("{fresh_listing}") || uri.contains("{other_listing}") {
        let owner = if uri.contains("{fresh_listing}") {
            INSTITUTE
        } else {
            "Đại học Khác"
        };
        let (status, created) = world
            .call_with(
                TOKEN,
                Method::POST,
                "/api/v1/listings",
                Some(new_listing("research_output", Some(owner))),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap();
        uri = uri
            .replace("{fresh_listing}", id)
            .replace("{other_listing}", id);
    }
    if uri.contains("{fresh_hn}") {
        uri = uri.replace("{fresh_hn}", &technology(world, "01").await);
    }
    if uri.contains("{deal}") {
        let technology = technology(world, "79").await;
        uri = uri.replace("{deal}", &world.deal("nd-1", &technology).await);
    }
    if uri.contains("{other_deal}") {
        let technology = technology(world, "01").await;
        uri = uri.replace("{other_deal}", &world.deal("nd-hn", &technology).await);
    }
    if uri.contains("{fresh_name}") {
        let n = NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        uri = uri.replace("{fresh_name}", &format!("Trường Đại học Mới số {n}"));
    }
    if uri.contains("{fresh_org}") {
        let n = NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (status, created) = world
            .call_with(
                TOKEN,
                Method::POST,
                "/api/v1/orgs",
                Some(json!({"name": format!("Viện trùng số {n}"), "kind": "institute"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        uri = uri.replace("{fresh_org}", created["org"]["id"].as_str().unwrap());
    }
    if uri.contains("{fresh_member}") {
        let n = NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("tv{n}@vsh.ac.vn");
        let new = techmatch::accounts::NewUser {
            email: &email,
            role: techmatch::domain::account::Role::Institute,
            province: None,
            org: Some(INSTITUTE),
            password: PASSWORD,
        };
        let accounts = world.app.state.accounts.as_ref();
        techmatch::accounts::add_user(accounts, new, chrono::Utc::now()).unwrap();
        let mut user = accounts.user_by_email(&email).unwrap().unwrap();
        user.org_id = Some(crate::world::INSTITUTE_ORG.into());
        accounts.replace_user(&user).unwrap();
        uri = uri.replace("{fresh_member}", &user.id);
    }
    if uri.contains("{lead}") {
        uri = uri.replace("{lead}", &world.lead().await);
    }
    if uri.contains("{token}") {
        let (status, issued) = world.sign_in("minh@mekong.vn", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED);
        uri = uri.replace("{token}", issued["id"].as_str().unwrap());
    }
    uri
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_rights_table_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    for row in table() {
        for (who, expected) in Who::ALL.into_iter().zip(row.expect) {
            let uri = resolve(&world, row.uri).await;
            let sent = match &row.body {
                Some(b) => Some(
                    serde_json::from_str::<Value>(&resolve(&world, &b.to_string()).await).unwrap(),
                ),
                None => None,
            };
            let (status, body) = world
                .call(who, row.method.clone(), &uri, sent.as_ref())
                .await;
            if status.as_u16() != expected {
                wrong.push(format!(
                    "{} {uri} as {who:?}: {} (expected {expected}) {body}",
                    row.method, status
                ));
            }
            if status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED {
                assert!(
                    body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                    "{} {uri} as {who:?}: not our error format: {body}",
                    row.method
                );
            }
            if matches!(who, Who::Anonymous | Who::WrongToken) {
                assert!(
                    !body.to_string().contains(CONTACT),
                    "{} {uri} showed contact details to {who:?}: {body}",
                    row.method
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answer(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn the_rights_table_covers_every_documented_route() {
    let world = World::new().await;
    let (_, doc) = world.app.get("/api/v1/openapi.json").await;
    let covered: Vec<(String, &str)> = table()
        .iter()
        .map(|r| (r.method.as_str().to_lowercase(), r.route))
        .collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method == "parameters" {
                continue;
            }
            assert!(
                covered.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is documented but missing from the rights table"
            );
        }
    }
}

#[tokio::test]
async fn unsupported_methods_answer_in_our_error_format() {
    let world = World::new().await;
    let (status, body) = world
        .call(
            Who::AdminToken,
            Method::DELETE,
            "/api/v1/deals/x/history",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn contact_details_show_to_owners_brokers_and_admins_only() {
    let world = World::new().await;
    for (who, sees) in [
        (Who::AdminToken, true),
        (Who::AdminUser, true),
        (Who::Broker, true),
        (Who::Institute, true),
        (Who::Enterprise, false),
        (Who::Anonymous, false),
    ] {
        let (status, body) = world
            .call(who, Method::GET, "/api/v1/listings/ro-1", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body.get("contact_email").is_some(),
            sees,
            "{who:?} reading ro-1: {body}"
        );
        // The enterprise member sees the contacts of its own need.
        let (_, need) = world
            .call(who, Method::GET, "/api/v1/listings/nd-1", None)
            .await;
        let own_or_privileged = !matches!(who, Who::Institute | Who::Anonymous);
        assert_eq!(
            need.get("contact_email").is_some(),
            own_or_privileged,
            "{who:?}: {need}"
        );
    }
}

#[tokio::test]
async fn anonymous_readers_never_see_contacts_in_search_hits_or_listing_pages() {
    let world = World::new().await;
    let seq = world.app.state.store.last_seq().unwrap();
    let found = world.app.search_after(seq, "?q=nuoc+thai&limit=100").await;
    assert_eq!(
        found["total"], 5,
        "every published listing matches: {found}"
    );
    assert!(!found.to_string().contains(CONTACT), "{found}");
    for id in ["ro-1", "pt-1", "ro-hn", "nd-1", "nd-hn"] {
        let (status, page) = world.app.get(&format!("/api/v1/listings/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.to_string().contains(CONTACT), "{page}");
    }
}

#[tokio::test]
async fn members_store_listings_as_their_own_organisation() {
    let world = World::new().await;
    let (status, created) = world
        .call(
            Who::Institute,
            Method::POST,
            "/api/v1/listings",
            Some(&new_listing("patent", None)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["owner"], INSTITUTE, "the owner is stamped");
    let (status, err) = world
        .call(
            Who::Enterprise,
            Method::POST,
            "/api/v1/listings",
            Some(&new_listing("need", Some(INSTITUTE))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["error"]["code"], "forbidden");
    // Taking another organisation's listing over by PUT with one's own owner is refused too.
    let takeover = listing("ro-hn", "research_output", INSTITUTE, "01", "2.7");
    let (status, _) = world
        .call(
            Who::Institute,
            Method::PUT,
            "/api/v1/listings/ro-hn",
            Some(&takeover),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, still) = world
        .call(Who::AdminToken, Method::GET, "/api/v1/listings/ro-hn", None)
        .await;
    assert_eq!(still["owner"], "Đại học Bách khoa Hà Nội");
    let (_, need) = world
        .call(Who::Enterprise, Method::GET, "/api/v1/listings/nd-1", None)
        .await;
    assert_eq!(need["owner"], ENTERPRISE);
}
