//! A small known world for the accounts, rights, deals and report tests: one user per role,
//! signed in through `POST /api/v1/tokens`, and a handful of listings in three provinces.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use techmatch::accounts::{add_user, NewUser};
use techmatch::domain::account::Role;
use techmatch::domain::org::{OrgKind, Organisation};

use crate::common::{TestApp, TOKEN};

/// Every test user's password.
pub const PASSWORD: &str = "mật khẩu đủ dài 2025";
/// The institute whose research outputs are listed.
pub const INSTITUTE: &str = "Viện Sinh học Nhiệt đới";
/// The enterprise whose need is listed.
pub const ENTERPRISE: &str = "Công ty Thủy sản Mekong";
/// The id of [`INSTITUTE`]'s record, which its member manages.
pub const INSTITUTE_ORG: &str = "org-vsh";
/// The id of [`ENTERPRISE`]'s record, which its member manages.
pub const ENTERPRISE_ORG: &str = "org-mekong";
/// A marker carried by every contact field, so that a leak shows in any response text.
pub const CONTACT: &str = "zzcontact";

/// The callers every route is tried as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The break-glass admin token.
    AdminToken,
    /// A user with the admin role.
    AdminUser,
    /// A broker of Hồ Chí Minh City (79).
    Broker,
    /// A member of [`INSTITUTE`] (province 79).
    Institute,
    /// A member of [`ENTERPRISE`] (province 92, Cần Thơ).
    Enterprise,
    /// No credentials.
    Anonymous,
    /// A token nobody issued.
    WrongToken,
}

impl Who {
    /// Every caller, in the order of the rights table's columns.
    pub const ALL: [Who; 7] = [
        Who::AdminToken,
        Who::AdminUser,
        Who::Broker,
        Who::Institute,
        Who::Enterprise,
        Who::Anonymous,
        Who::WrongToken,
    ];
}

/// The app with its users, their tokens and the base listings.
pub struct World {
    pub app: TestApp,
    pub admin_user: String,
    pub broker: String,
    pub broker_can_tho: String,
    pub institute: String,
    pub enterprise: String,
}

/// A listing body with contact fields carrying [`CONTACT`].
pub fn listing(id: &str, kind: &str, owner: &str, province: &str, field: &str) -> Value {
    json!({
        "id": id,
        "kind": kind,
        "title": format!("Tin {id}: công nghệ xử lý nước thải thủy sản"),
        "description": "Quy trình vi sinh xử lý nước thải ao nuôi tôm, cá tra.",
        "owner": owner,
        "province": province,
        "field": field,
        "contact_name": format!("{CONTACT} Nguyễn Văn A"),
        "contact_email": format!("{CONTACT}.{id}@example.vn"),
        "contact_phone": format!("{CONTACT} 0901 000 000"),
    })
}

impl World {
    /// Users for every role, signed in, and listings:
    /// `ro-1` (institute, 79, field 2.8), `pt-1` (institute patent, 79, 2.8),
    /// `ro-draft` (institute, 79, draft), `ro-hn` (another university, 01, 2.7),
    /// `nd-1` (enterprise need, 92, 2.8), `nd-hn` (another company's need, 01, 2.7).
    pub async fn new() -> World {
        let app = TestApp::new().await;
        let users = [
            ("admin@sokhcn.gov.vn", Role::Admin, None, None),
            ("moigioi@hcm.gov.vn", Role::Broker, Some("TP.HCM"), None),
            ("moigioi@cantho.gov.vn", Role::Broker, Some("Cần Thơ"), None),
            ("lan@vsh.ac.vn", Role::Institute, None, Some(INSTITUTE)),
            (
                "minh@mekong.vn",
                Role::Enterprise,
                Some("Cần Thơ"),
                Some(ENTERPRISE),
            ),
        ];
        for (email, role, province, org) in users {
            let new = NewUser {
                email,
                role,
                province,
                org,
                password: PASSWORD,
            };
            add_user(app.state.accounts.as_ref(), new, chrono::Utc::now()).expect("add user");
        }
        // The institute's and the enterprise's members manage their organisations' records.
        for (id, name, kind, province, email) in [
            (
                INSTITUTE_ORG,
                INSTITUTE,
                OrgKind::Institute,
                "79",
                "lan@vsh.ac.vn",
            ),
            (
                ENTERPRISE_ORG,
                ENTERPRISE,
                OrgKind::Enterprise,
                "92",
                "minh@mekong.vn",
            ),
        ] {
            let accounts = app.state.accounts.as_ref();
            let mut user = accounts.user_by_email(email).unwrap().expect("member");
            let org = Organisation {
                id: id.into(),
                name: name.into(),
                kind,
                province: techmatch::domain::Provinces::get()
                    .by_code_str(province)
                    .map(|p| p.code.clone()),
                registration_no: None,
                website: None,
                description: None,
                created_at: chrono::Utc::now(),
                admins: vec![user.id.clone()],
                verified: None,
                verification_history: Vec::new(),
                requests: Vec::new(),
                merged_into: None,
            };
            assert!(app.state.orgs.add_org(&org).unwrap());
            user.org_id = Some(id.into());
            accounts.replace_user(&user).unwrap();
        }
        let mut world = World {
            app,
            admin_user: String::new(),
            broker: String::new(),
            broker_can_tho: String::new(),
            institute: String::new(),
            enterprise: String::new(),
        };
        world.admin_user = world.token_of("admin@sokhcn.gov.vn").await;
        world.broker = world.token_of("moigioi@hcm.gov.vn").await;
        world.broker_can_tho = world.token_of("moigioi@cantho.gov.vn").await;
        world.institute = world.token_of("lan@vsh.ac.vn").await;
        world.enterprise = world.token_of("minh@mekong.vn").await;
        let mut draft = listing("ro-draft", "research_output", INSTITUTE, "79", "2.8");
        draft["status"] = json!("draft");
        for body in [
            listing("ro-1", "research_output", INSTITUTE, "79", "2.8"),
            listing("pt-1", "patent", INSTITUTE, "79", "2.8"),
            draft,
            listing(
                "ro-hn",
                "research_output",
                "Đại học Bách khoa Hà Nội",
                "01",
                "2.7",
            ),
            listing("nd-1", "need", ENTERPRISE, "92", "2.8"),
            listing("nd-hn", "need", "Công ty Sông Hồng", "01", "2.7"),
        ] {
            world.app.post_listing(body).await;
        }
        world
    }

    /// Signs in with [`PASSWORD`] and returns the token.
    pub async fn token_of(&self, email: &str) -> String {
        let (status, body) = self.sign_in(email, PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// `POST /api/v1/tokens`.
    pub async fn sign_in(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"email": email, "password": password}).to_string();
        let (s, v, _) = self
            .app
            .send(Method::POST, "/api/v1/tokens", None, Some(&body))
            .await;
        (s, v)
    }

    /// The bearer token a caller sends, if any.
    pub fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::AdminToken => Some(TOKEN),
            Who::AdminUser => Some(&self.admin_user),
            Who::Broker => Some(&self.broker),
            Who::Institute => Some(&self.institute),
            Who::Enterprise => Some(&self.enterprise),
            Who::Anonymous => None,
            Who::WrongToken => {
                Some("tm_0000000000000000000000000000000000000000000000000000000000000000")
            }
        }
    }

    /// Sends a request as `who`, with an optional JSON body.
    pub async fn call(
        &self,
        who: Who,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(Value::to_string);
        let (s, v, _) = self
            .app
            .send(method, uri, self.token(who), body.as_deref())
            .await;
        (s, v)
    }

    /// Sends a request with an explicit token.
    pub async fn call_with(
        &self,
        token: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        let (s, v, _) = self
            .app
            .send(method, uri, Some(token), body.as_deref())
            .await;
        (s, v)
    }

    /// The enterprise member's interest in `ro-1` (one lead per organisation and technology);
    /// returns the lead's id.
    pub async fn lead(&self) -> String {
        let (status, lead) = self
            .call(
                Who::Enterprise,
                Method::POST,
                "/api/v1/listings/ro-1/interest",
                Some(&json!({"message": "Chúng tôi muốn mua li-xăng"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{lead}");
        lead["id"].as_str().expect("lead id").to_string()
    }

    /// Proposes a deal as the admin token and returns its id.
    pub async fn deal(&self, need: &str, listing: &str) -> String {
        let (status, deal) = self
            .call_with(
                TOKEN,
                Method::POST,
                "/api/v1/deals",
                Some(json!({"need_id": need, "listing_id": listing})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{deal}");
        deal["id"].as_str().expect("deal id").to_string()
    }
}
