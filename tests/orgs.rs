//! Organisations through the API: a record and its administrator, an invitation accepted by
//! mail's link, a request to join, the province broker's verification and its revocation,
//! interest answered once per organisation, a merge of two records, and names that cannot be
//! claimed twice. The mail is read from the store's outbox (the SMTP path is `tests/mail.rs`).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::world::{Who, World, INSTITUTE, INSTITUTE_ORG, PASSWORD};
use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::Role;

/// The newest mail to `to`, as (subject, body).
fn last_mail_to(world: &World, to: &str) -> (String, String) {
    let mail = world
        .app
        .state
        .outbox
        .store()
        .recent_mail(500)
        .unwrap()
        .into_iter()
        .filter(|m| m.to == to)
        .max_by(|a, b| a.id.cmp(&b.id))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    (mail.subject, mail.body)
}

/// Every mail to `to`: subject and body, oldest first.
fn mails_to(world: &World, to: &str) -> Vec<(String, String)> {
    let mut mails: Vec<_> = world
        .app
        .state
        .outbox
        .store()
        .recent_mail(500)
        .unwrap()
        .into_iter()
        .filter(|m| m.to == to)
        .collect();
    mails.sort_by(|a, b| a.id.cmp(&b.id));
    mails.into_iter().map(|m| (m.subject, m.body)).collect()
}

/// The secret of the first link under `path` in `body`.
fn secret_in(body: &str, path: &str) -> String {
    let at = body
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in {body}"));
    body[at + path.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// A signed-in user of `role` (and organisation), by e-mail; returns the token.
async fn user(world: &World, email: &str, role: Role, org: Option<&str>) -> String {
    let new = NewUser {
        email,
        role,
        province: None,
        org,
        password: PASSWORD,
    };
    add_user(world.app.state.accounts.as_ref(), new, chrono::Utc::now()).unwrap();
    world.token_of(email).await
}

async fn as_token(
    world: &World,
    token: &str,
    method: Method,
    uri: &str,
    body: Value,
) -> (StatusCode, Value) {
    world.call_with(token, method, uri, Some(body)).await
}

#[tokio::test]
async fn a_newcomer_creates_an_organisation_invites_a_member_and_lets_another_in() {
    let world = World::new().await;
    let founder = user(&world, "an@vienmoi.vn", Role::Newcomer, None).await;
    let (status, created) = as_token(
        &world,
        &founder,
        Method::POST,
        "/api/v1/orgs",
        json!({"name": "Viện Công nghệ Sinh học Mới", "kind": "institute", "province": "Hồ Chí Minh",
               "registration_no": "0312345678", "website": "https://vienmoi.vn"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["org"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["org"]["province"], "79");
    assert_eq!(created["org"]["verified"], false);
    // The founder is now its member, with the role its kind gives.
    assert_eq!(created["member"]["role"], "institute");
    assert_eq!(created["member"]["org_id"], id.as_str());
    // So they can list a technology of theirs.
    let (status, me) = as_token(&world, &founder, Method::GET, "/api/v1/me", json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["org_admin"], true);
    assert_eq!(me["org"]["name"], "Viện Công nghệ Sinh học Mới");

    // An invitation by mail; the link makes an account and joins.
    let (status, sent) = as_token(
        &world,
        &founder,
        Method::POST,
        &format!("/api/v1/orgs/{id}/invitations"),
        json!({"email": "Binh@VienMoi.vn"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let (subject, body) = last_mail_to(&world, "binh@vienmoi.vn");
    assert!(subject.contains("Viện Công nghệ Sinh học Mới"), "{subject}");
    let secret = secret_in(&body, "/invite/");
    let (status, offer) = world
        .app
        .get(&format!("/api/v1/invitations/{secret}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    assert_eq!(offer["has_account"], false);
    let (status, too_short, _) = world
        .app
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{secret}"),
            None,
            Some(&json!({"name": "Bình", "password": "short"}).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{too_short}");
    assert_eq!(too_short["error"]["field"], "password");
    // The refused attempt did not use the link up.
    let (status, joined, _) = world
        .app
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{secret}"),
            None,
            Some(&json!({"name": "Bình", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["member"]["org_id"], id.as_str());
    let member = world.token_of("binh@vienmoi.vn").await;
    let (_, again, _) = world
        .app
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{secret}"),
            None,
            Some(&json!({"name": "Bình", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(
        again["error"]["code"], "not_found",
        "a link works once: {again}"
    );
    // A member who is not its administrator may not invite.
    let (status, _) = as_token(
        &world,
        &member,
        Method::POST,
        &format!("/api/v1/orgs/{id}/invitations"),
        json!({"email": "x@vienmoi.vn"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A request to join, accepted by the administrator.
    let asker = user(&world, "chi@gmail.com", Role::Newcomer, None).await;
    let (status, _) = as_token(
        &world,
        &asker,
        Method::POST,
        &format!("/api/v1/orgs/{id}/requests"),
        json!(null),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, twice) = as_token(
        &world,
        &asker,
        Method::POST,
        &format!("/api/v1/orgs/{id}/requests"),
        json!(null),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    let (subject, _) = last_mail_to(&world, "an@vienmoi.vn");
    assert!(subject.contains("Yêu cầu tham gia"), "{subject}");
    let (_, members) = as_token(
        &world,
        &founder,
        Method::GET,
        &format!("/api/v1/orgs/{id}/members"),
        json!(null),
    )
    .await;
    let asker_id = members["requests"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, answered) = as_token(
        &world,
        &founder,
        Method::POST,
        &format!("/api/v1/orgs/{id}/requests/{asker_id}"),
        json!({"accept": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    let (_, members) = as_token(
        &world,
        &founder,
        Method::GET,
        &format!("/api/v1/orgs/{id}/members"),
        json!(null),
    )
    .await;
    let emails: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 3, "{members}");
    assert!(emails.contains(&"chi@gmail.com") && emails.contains(&"binh@vienmoi.vn"));
    assert!(members["requests"].as_array().unwrap().is_empty());
    let (subject, _) = last_mail_to(&world, "chi@gmail.com");
    assert!(subject.contains("yêu cầu tham gia"), "{subject}");
}

#[tokio::test]
async fn the_province_broker_verifies_and_revokes_and_the_history_keeps_both() {
    let world = World::new().await;
    let uri = format!("/api/v1/orgs/{INSTITUTE_ORG}/verification");
    let (status, org) = world.call(Who::Broker, Method::POST, &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["verified"], true);
    let (_, listed) = world.app.get("/api/v1/orgs").await;
    let vsh = listed["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == INSTITUTE_ORG)
        .unwrap();
    assert_eq!(vsh["verified"], true);
    let (status, org) = world.call(Who::Broker, Method::DELETE, &uri, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["verified"], false);
    let stored = world.app.state.orgs.org(INSTITUTE_ORG).unwrap().unwrap();
    let history: Vec<bool> = stored
        .verification_history
        .iter()
        .map(|e| e.verified)
        .collect();
    assert_eq!(history, vec![true, false]);
    assert!(stored
        .verification_history
        .iter()
        .all(|e| e.by == "moigioi@hcm.gov.vn"));
    // The broker of Cần Thơ is not the institute's broker.
    let (status, _) = world
        .call_with(&world.broker_can_tho, Method::POST, &uri, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn interest_is_kept_once_per_organisation_and_answered_by_the_owner() {
    let world = World::new().await;
    let first = world.lead().await;
    let (status, second) = world
        .call(
            Who::Enterprise,
            Method::POST,
            "/api/v1/listings/ro-1/interest",
            Some(&json!({"message": "Xin báo giá li-xăng cho 3 nhà máy"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        second["id"].as_str().unwrap(),
        first,
        "the same lead, updated"
    );
    assert_eq!(second["message"], "Xin báo giá li-xăng cho 3 nhà máy");
    let (_, leads) = world
        .call(Who::Institute, Method::GET, "/api/v1/leads", None)
        .await;
    assert_eq!(leads["total"], 1, "{leads}");
    // The institute's member was told by mail, and answers.
    let (subject, _) = last_mail_to(&world, "lan@vsh.ac.vn");
    assert!(subject.contains("Quan tâm"), "{subject}");
    let (status, replied) = world
        .call(
            Who::Institute,
            Method::POST,
            &format!("/api/v1/leads/{first}/reply"),
            Some(&json!({"message": "Mời anh chị đến Viện trao đổi"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replied}");
    assert_eq!(replied["reply"]["by"], "lan@vsh.ac.vn");
    // The enterprise sees the answer on its overview and got a mail.
    let (_, me) = world
        .call(Who::Enterprise, Method::GET, "/api/v1/me", None)
        .await;
    assert_eq!(
        me["sent_interest"][0]["reply"]["message"],
        "Mời anh chị đến Viện trao đổi"
    );
    // Alerts of new listings may reach the same address in between: look for the answer.
    let answered = mails_to(&world, "minh@mekong.vn")
        .into_iter()
        .any(|(_, body)| body.contains("Mời anh chị đến Viện trao đổi"));
    assert!(answered, "{:?}", mails_to(&world, "minh@mekong.vn"));
    // The institute's profile counts it.
    let (_, profile) = world
        .app
        .get(&format!("/api/v1/orgs/{INSTITUTE_ORG}"))
        .await;
    assert_eq!(profile["replies"]["received"], 1, "{profile}");
    assert_eq!(profile["replies"]["replied"], 1);
    assert_eq!(profile["reply_rate"], 1.0);
    // Its published listings are there, without contacts; its draft is not.
    let ids: Vec<&str> = profile["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"ro-1") && !ids.contains(&"ro-draft"),
        "{ids:?}"
    );
    assert!(!profile.to_string().contains("zzcontact"));
    // The enterprise may not answer interest in someone else's technology.
    let (status, _) = world
        .call(
            Who::Enterprise,
            Method::POST,
            &format!("/api/v1/leads/{first}/reply"),
            Some(&json!({"message": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn names_are_claimed_once_and_listed_names_only_by_staff() {
    let world = World::new().await;
    let newcomer = user(&world, "dung@gmail.com", Role::Newcomer, None).await;
    // The same name in capitals, decomposed: one organisation.
    let decomposed: String =
        unicode_normalization::UnicodeNormalization::nfd(INSTITUTE.to_uppercase().as_str())
            .collect();
    let (status, body) = as_token(
        &world,
        &newcomer,
        Method::POST,
        "/api/v1/orgs",
        json!({"name": decomposed, "kind": "institute"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Listings carry this name already: a member may not claim it (and their listings).
    let (status, body) = as_token(
        &world,
        &newcomer,
        Method::POST,
        "/api/v1/orgs",
        json!({"name": "Đại học Bách khoa Hà Nội", "kind": "university"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("broker"));
    // A broker makes the record; then the newcomer asks to join it.
    let (status, made) = world
        .call(
            Who::AdminToken,
            Method::POST,
            "/api/v1/orgs",
            Some(&json!({"name": "Đại học Bách khoa Hà Nội", "kind": "university", "province": "01"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(made["member"].is_null());
    // Bad fields are named.
    for (field, body) in [
        ("kind", json!({"name": "X", "kind": "bank"})),
        (
            "website",
            json!({"name": "X", "kind": "other", "website": "javascript:alert(1)"}),
        ),
        (
            "province",
            json!({"name": "X", "kind": "other", "province": "Atlantis"}),
        ),
        ("name", json!({"name": "X\u{200B}Y", "kind": "other"})),
        (
            "colour",
            json!({"name": "X", "kind": "other", "colour": "red"}),
        ),
    ] {
        let (status, answer) =
            as_token(&world, &newcomer, Method::POST, "/api/v1/orgs", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let (_, me) = as_token(&world, &newcomer, Method::GET, "/api/v1/me", json!(null)).await;
    assert!(me["org"].is_null(), "nothing was created: {me}");
}

#[tokio::test]
async fn a_merge_moves_members_listings_and_leads_to_one_record() {
    let world = World::new().await;
    // A second record of the institute under a re-typed name, with a listing and a member.
    let (_, dup) = world
        .call(
            Who::AdminToken,
            Method::POST,
            "/api/v1/orgs",
            Some(&json!({"name": "Viện SH Nhiệt đới (cũ)", "kind": "institute", "province": "79"})),
        )
        .await;
    let dup_id = dup["org"]["id"].as_str().unwrap().to_string();
    let mut listing = crate::world::listing(
        "ro-dup",
        "research_output",
        "Viện SH Nhiệt đới (cũ)",
        "79",
        "2.8",
    );
    listing["title"] = json!("Chế phẩm vi sinh xử lý bùn đáy ao tôm");
    world.app.post_listing(listing).await;
    let _old_member = user(
        &world,
        "cu@vsh.ac.vn",
        Role::Institute,
        Some("Viện SH Nhiệt đới (cũ)"),
    )
    .await;
    let (status, merged) = world
        .call(
            Who::AdminUser,
            Method::POST,
            &format!("/api/v1/orgs/{INSTITUTE_ORG}/merge"),
            Some(&json!({"from": dup_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["moved"]["listings"], 1);
    assert_eq!(merged["moved"]["members"], 1);
    let seq = merged["moved"]["seq"].as_u64().unwrap();
    let (_, moved) = world.app.get("/api/v1/listings/ro-dup").await;
    assert_eq!(moved["owner"], INSTITUTE);
    let answer = world.app.search_after(seq, "?q=bun+day+ao+tom").await;
    assert_eq!(answer["hits"][0]["owner"], INSTITUTE, "{answer}");
    // The old record leads to the one it went into; its name too.
    let (_, profile) = world.app.get(&format!("/api/v1/orgs/{dup_id}")).await;
    assert_eq!(profile["id"], INSTITUTE_ORG);
    let by_name = world
        .app
        .state
        .orgs
        .org_by_name("viện sh nhiệt đới (CŨ)")
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, INSTITUTE_ORG);
    let member = world
        .app
        .state
        .accounts
        .user_by_email("cu@vsh.ac.vn")
        .unwrap()
        .unwrap();
    assert_eq!(member.org.as_deref(), Some(INSTITUTE));
    assert_eq!(member.org_id.as_deref(), Some(INSTITUTE_ORG));
    // Merging it again is refused; members other than administrators may not merge.
    let (status, _) = world
        .call(
            Who::AdminUser,
            Method::POST,
            &format!("/api/v1/orgs/{INSTITUTE_ORG}/merge"),
            Some(&json!({"from": dup_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn administrators_manage_members_and_a_new_address_is_confirmed_before_it_counts() {
    let world = World::new().await;
    let colleague = user(&world, "tuan@vsh.ac.vn", Role::Institute, Some(INSTITUTE)).await;
    let stored = world
        .app
        .state
        .accounts
        .user_by_email("tuan@vsh.ac.vn")
        .unwrap()
        .unwrap();
    let mut joined = stored.clone();
    joined.org_id = Some(INSTITUTE_ORG.into());
    world.app.state.accounts.replace_user(&joined).unwrap();
    // The institute's administrator makes the colleague an administrator too, then the
    // colleague may invite.
    let (status, body) = world
        .call(
            Who::Institute,
            Method::POST,
            &format!("/api/v1/orgs/{INSTITUTE_ORG}/admins/{}", stored.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = as_token(
        &world,
        &colleague,
        Method::POST,
        &format!("/api/v1/orgs/{INSTITUTE_ORG}/invitations"),
        json!({"email": "moi@vsh.ac.vn"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Removed, the colleague is a newcomer and may no longer list the institute's technologies.
    let (status, body) = world
        .call(
            Who::Institute,
            Method::DELETE,
            &format!("/api/v1/orgs/{INSTITUTE_ORG}/members/{}", stored.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["member"]["role"], "newcomer");
    let listing = crate::world::listing("ro-x", "research_output", INSTITUTE, "79", "2.8");
    let (status, _) = as_token(
        &world,
        &colleague,
        Method::PUT,
        "/api/v1/listings/ro-x",
        listing,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The last administrator cannot leave.
    let lan = world
        .app
        .state
        .accounts
        .user_by_email("lan@vsh.ac.vn")
        .unwrap()
        .unwrap();
    let (status, body) = world
        .call(
            Who::Institute,
            Method::DELETE,
            &format!("/api/v1/orgs/{INSTITUTE_ORG}/members/{}", lan.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A new address: nothing changes until the link mailed there is opened.
    let (status, body) = world
        .call(
            Who::Enterprise,
            Method::POST,
            "/api/v1/me/email",
            Some(&json!({"email": "Minh@MekongFood.vn"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (_, notice) = last_mail_to(&world, "minh@mekong.vn");
    assert!(
        notice.contains("minh@mekongfood.vn"),
        "the old address is told: {notice}"
    );
    let (_, body) = last_mail_to(&world, "minh@mekongfood.vn");
    let secret = secret_in(&body, "/confirm/");
    assert_eq!(
        world.sign_in("minh@mekong.vn", PASSWORD).await.0,
        StatusCode::CREATED
    );
    let (status, _, _) = world
        .app
        .send(Method::GET, &format!("/confirm/{secret}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        world.sign_in("minh@mekongfood.vn", PASSWORD).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        world.sign_in("minh@mekong.vn", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An address another account holds is not taken over (the answer is the same).
    let (status, _) = world
        .call(
            Who::Institute,
            Method::POST,
            "/api/v1/me/email",
            Some(&json!({"email": "minh@mekongfood.vn"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (subject, _) = last_mail_to(&world, "minh@mekongfood.vn");
    assert!(subject.contains("already have an account"), "{subject}");
}
