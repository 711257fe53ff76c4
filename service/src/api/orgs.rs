//! Organisations: `/orgs` (records and profiles), invitations, requests to join, verification
//! and merges, and `/me`, the caller's own overview. The rules are `app::orgs` and `app::me`.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::signup::hashing_turn;
use crate::accounts::credentials::hash_password;
use crate::app::me::{overview, UserView};
use crate::app::orgs::{self, Acceptance, MemberChange};
use crate::app::AppState;
use crate::app::Caller;
use crate::app::{AppError, Refusal};
use crate::domain::account::check_password;
use crate::domain::org::{OrgInput, OrgKind, Organisation, ReplyStats};
use crate::domain::Listing;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(list).post(create))
        .route("/orgs/{id}", get(show).put(edit))
        .route("/orgs/{id}/members", get(members))
        .route("/orgs/{id}/members/{user_id}", delete(remove_member))
        .route("/orgs/{id}/admins/{user_id}", post(make_admin))
        .route("/orgs/{id}/invitations", post(invite))
        .route("/orgs/{id}/requests", post(request))
        .route("/orgs/{id}/requests/{user_id}", post(answer))
        .route("/orgs/{id}/verification", post(verify).delete(revoke))
        .route("/orgs/{id}/merge", post(merge))
        .route("/invitations/{secret}", get(invitation).post(accept))
        .route("/me", get(me))
        .route("/me/email", post(change_email))
}

/// What anyone may read of an organisation (never its administrators or requests).
#[derive(Debug, Serialize)]
pub struct OrgView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Province code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Registration number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_no: Option<String>,
    /// Website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the province's broker verified it.
    pub verified: bool,
    /// When it was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    /// The record it was merged into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// When the record was made.
    pub created_at: DateTime<Utc>,
}

impl From<&Organisation> for OrgView {
    fn from(o: &Organisation) -> Self {
        OrgView {
            id: o.id.clone(),
            name: o.name.clone(),
            kind: o.kind,
            province: o.province.as_ref().map(ToString::to_string),
            registration_no: o.registration_no.clone(),
            website: o.website.clone(),
            description: o.description.clone(),
            verified: o.verified.is_some(),
            verified_at: o.verified.as_ref().map(|v| v.at),
            merged_into: o.merged_into.clone(),
            created_at: o.created_at,
        }
    }
}

/// An organisation's public profile.
#[derive(Debug, Serialize)]
struct ProfileView {
    #[serde(flatten)]
    org: OrgView,
    listings: Vec<Listing>,
    replies: ReplyStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_rate: Option<f64>,
}

fn input(body: &Fields) -> Result<OrgInput, ApiError> {
    let text =
        |name: &str| -> Result<String, ApiError> { Ok(body.text(name)?.unwrap_or_default()) };
    Ok(OrgInput {
        name: text("name")?,
        kind: text("kind")?,
        province: text("province")?,
        registration_no: text("registration_no")?,
        website: text("website")?,
        description: text("description")?,
    })
}

const PROFILE_FIELDS: [&str; 6] = [
    "name",
    "kind",
    "province",
    "registration_no",
    "website",
    "description",
];

#[utoipa::path(
    get,
    path = "/api/v1/orgs",
    operation_id = "orgs_list",
    summary = "Organisations' records (merged ones left out), verified ones marked",
    responses(
        (status = 200, description = "Organisations", body = inline(doc::OrgsListResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    let orgs = state.run(|ex| Ok(ex.orgs.orgs()?)).await?;
    let views: Vec<OrgView> = orgs
        .iter()
        .filter(|o| o.merged_into.is_none())
        .map(OrgView::from)
        .collect();
    Ok(Json(json!({ "total": views.len(), "orgs": views })))
}

/// `{"name", "kind", "province", "registration_no", "website", "description"}` → `201`; a
/// member without an organisation becomes its administrator.
#[utoipa::path(
    post,
    path = "/api/v1/orgs",
    operation_id = "orgs_create",
    summary = "Create an organisation's record. A signed-in user without an organisation becomes its first member and administrator (and gets the role its kind gives); brokers and administrators create records without joining. A name already carried by listings can only be claimed by brokers and administrators.",
    request_body(content = inline(doc::OrgsCreateRequest), content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = inline(doc::OrgsCreateResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &PROFILE_FIELDS)?;
    let input = input(&body)?;
    let (org, member) = state
        .run(move |ex| {
            let actor = caller
                .actor()
                .map_err(|_| AppError::Forbidden(Refusal::UsersOnly))?;
            orgs::create(ex, actor, &input, Utc::now())
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "org": OrgView::from(&org),
            "member": member.as_ref().map(UserView::from),
        })),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}",
    operation_id = "orgs_show",
    summary = "An organisation's public profile: its published technologies and needs (without contact details) and how it answers interest. A merged record shows the one it went into.",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Profile", body = inline(doc::OrgsShowResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let profile = state.run(move |ex| orgs::profile(ex, &id)).await?;
    let view = ProfileView {
        org: OrgView::from(&profile.org),
        reply_rate: profile.replies.rate(),
        listings: profile.listings,
        replies: profile.replies,
    };
    Ok(Json(json!(view)))
}

#[utoipa::path(
    put,
    path = "/api/v1/orgs/{id}",
    operation_id = "orgs_edit",
    summary = "Change the profile (the organisation's administrators, administrators); the name stays.",
    params(
        ("id" = String, Path)
    ),
    request_body(content = doc::OrgInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed", body = doc::Organisation, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<OrgView>, ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &PROFILE_FIELDS)?;
    let input = input(&body)?;
    let org = state
        .run(move |ex| orgs::edit(ex, actor_of(&caller)?, &id, &input))
        .await?;
    Ok(Json(OrgView::from(&org)))
}

fn actor_of(caller: &Caller) -> Result<orgs::Actor<'_>, AppError> {
    caller
        .actor()
        .map_err(|_| AppError::Forbidden(Refusal::UsersOnly))
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/members",
    operation_id = "orgs_members",
    summary = "Members, administrators and requests to join (the organisation's administrators, the province's brokers, administrators)",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Members", body = inline(doc::OrgsMembersResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let (users, org) = state
        .run(move |ex| {
            let users = orgs::members(ex, actor_of(&caller)?, &id)?;
            Ok((users, ex.orgs.org(&id)?))
        })
        .await?;
    let views: Vec<UserView> = users.iter().map(UserView::from).collect();
    let admins = org.as_ref().map(|o| o.admins.clone()).unwrap_or_default();
    let requests = org.map(|o| o.requests).unwrap_or_default();
    Ok(Json(
        json!({ "members": views, "admins": admins, "requests": requests }),
    ))
}

/// `{"email"}` → `202`: a mail with a link to join.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/invitations",
    operation_id = "orgs_invite",
    summary = "Invite an address to join by mail (the organisation's administrators, administrators); the link (/invite/{secret}) lets it accept, making an account if it has none. Valid 7 days.",
    params(
        ("id" = String, Path)
    ),
    request_body(content = inline(doc::OrgsInviteRequest), content_type = "application/json"),
    responses(
        (status = 202, description = "Invitation sent", body = inline(doc::OrgsInviteResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &["email"])?;
    let email = body.required("email")?;
    let email = state
        .run(move |ex| orgs::invite(ex, actor_of(&caller)?, &id, &email, Utc::now()))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "email": email, "invitation": "sent" })),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/requests",
    operation_id = "orgs_request",
    summary = "Ask to join (signed-in users without an organisation); the organisation's administrators are mailed.",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 202, description = "Request sent", body = inline(doc::OrgsRequestResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_signed_in()?;
    let Some(user) = caller.user().cloned() else {
        return Err(AppError::Forbidden(Refusal::UsersOnly).into());
    };
    let org = state
        .run(move |ex| orgs::request_to_join(ex, &user, &id, Utc::now()))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "org": OrgView::from(&org), "request": "sent" })),
    ))
}

/// `{"accept": true|false}`.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/requests/{user_id}",
    operation_id = "orgs_answer",
    summary = "Accept or decline a request to join (the organisation's administrators, administrators); the person is mailed.",
    params(
        ("id" = String, Path),
        ("user_id" = String, Path)
    ),
    request_body(content = inline(doc::OrgsAnswerRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Answered", body = inline(doc::OrgsAnswerResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &["accept"])?;
    let accept = body
        .flag("accept")?
        .ok_or_else(|| ApiError::invalid("accept", "is required"))?;
    let joined = state
        .run(move |ex| {
            orgs::answer_request(ex, actor_of(&caller)?, &id, &user_id, accept, Utc::now())
        })
        .await?;
    Ok(Json(
        json!({ "accepted": accept, "member": joined.as_ref().map(UserView::from) }),
    ))
}

async fn set_verified(
    state: AppState,
    caller: Caller,
    id: String,
    verified: bool,
) -> Result<Json<OrgView>, ApiError> {
    caller.require_signed_in()?;
    let org = state
        .run(move |ex| orgs::set_verified(ex, actor_of(&caller)?, &id, verified, Utc::now()))
        .await?;
    Ok(Json(OrgView::from(&org)))
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/verification",
    operation_id = "orgs_verify",
    summary = "Verify the organisation (a broker of its province, administrators); kept in its history",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Verified", body = doc::Organisation, content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrgView>, ApiError> {
    set_verified(state, caller, id, true).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/orgs/{id}/verification",
    operation_id = "orgs_revoke",
    summary = "Revoke the verification (a broker of its province, administrators); kept in its history",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Revoked", body = doc::Organisation, content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrgView>, ApiError> {
    set_verified(state, caller, id, false).await
}

/// `{"from": ID}`: the record `from` merges into `{id}`.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/merge",
    operation_id = "orgs_merge",
    summary = "Merge the record `from` into this one (administrators): members, listings and leads move here; `from` is kept, marked merged, and its name leads here.",
    params(
        ("id" = String, Path)
    ),
    request_body(content = inline(doc::OrgsMergeRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Merged", body = inline(doc::OrgsMergeResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let body = Fields::new(body, &["from"])?;
    let from = body.required("from")?;
    let (org, moved) = state
        .run(move |ex| orgs::merge(ex, actor_of(&caller)?, &from, &id, Utc::now()))
        .await?;
    if moved.seq > 0 {
        state.written.notify_one();
    }
    Ok(Json(json!({ "org": OrgView::from(&org), "moved": moved })))
}

#[utoipa::path(
    get,
    path = "/api/v1/invitations/{secret}",
    operation_id = "orgs_invitation",
    summary = "What an invitation link offers: the organisation, the address, whether it has an account",
    params(
        ("secret" = String, Path)
    ),
    responses(
        (status = 200, description = "Invitation", body = inline(doc::OrgsInvitationResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn invitation(
    State(state): State<AppState>,
    _caller: Caller,
    Path(secret): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (org, ticket, user) = state
        .run(move |ex| orgs::invitation(ex, &secret, Utc::now()))
        .await?;
    Ok(Json(json!({
        "org": OrgView::from(&org),
        "email": ticket.email,
        "has_account": user.is_some(),
        "expires_at": ticket.expires_at,
    })))
}

/// With the invited account's bearer token: `{}`; without an account: `{"name", "password"}`.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/{secret}",
    operation_id = "orgs_accept",
    summary = "Accept an invitation: with the invited account's bearer token, `{}`; without an account, `{\"name\", \"password\"}` makes one (confirmed: the mail proved the address).",
    params(
        ("secret" = String, Path)
    ),
    request_body(content = inline(doc::OrgsAcceptRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Joined", body = inline(doc::OrgsAcceptResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(secret): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let body = Fields::new(body, &["name", "password"])?;
    let user = if let Some(user) = caller.user().cloned() {
        state
            .run(move |ex| {
                orgs::accept_invitation(ex, &secret, Acceptance::SignedIn(&user), Utc::now())
            })
            .await?
    } else {
        let name = body.required("name")?;
        let password = body.required("password")?;
        check_password(&password).map_err(ApiError::Invalid)?;
        let _turn = hashing_turn(&state).await?;
        state
            .run(move |ex| {
                let hash = hash_password(&password)?;
                orgs::accept_invitation(
                    ex,
                    &secret,
                    Acceptance::NewAccount {
                        name: &name,
                        password_hash: &hash,
                    },
                    Utc::now(),
                )
            })
            .await?
    };
    Ok(Json(json!({ "member": UserView::from(&user) })))
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "orgs_me",
    summary = "The caller's overview: their organisation, its listings and needs with drafts, interest sent with its answers, the leads inbox, and for brokers the organisations of their province waiting for verification",
    responses(
        (status = 200, description = "Overview", body = inline(doc::OrgsMeResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let Some(user) = caller.user().cloned() else {
        return Err(ApiError::Forbidden(
            "the administrator token has no overview; sign in as a user".into(),
        ));
    };
    let overview = state.run(move |ex| overview(ex, &user)).await?;
    Ok(Json(json!(overview)))
}

async fn change_member(
    state: AppState,
    caller: Caller,
    (id, user_id): (String, String),
    change: MemberChange,
) -> Result<Json<Value>, ApiError> {
    caller.require_signed_in()?;
    let user = state
        .run(move |ex| orgs::manage_member(ex, actor_of(&caller)?, &id, &user_id, change))
        .await?;
    Ok(Json(json!({ "member": UserView::from(&user) })))
}

/// Takes a member out of the organisation (its administrators, administrators).
#[utoipa::path(
    delete,
    path = "/api/v1/orgs/{id}/members/{user_id}",
    operation_id = "orgs_remove_member",
    summary = "Take a member out of the organisation (its administrators, administrators); they become a newcomer. Its last administrator cannot leave.",
    params(
        ("id" = String, Path),
        ("user_id" = String, Path)
    ),
    responses(
        (status = 200, description = "Removed", body = inline(doc::OrgsRemoveMemberResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    change_member(state, caller, ids, MemberChange::Remove).await
}

/// Makes a member an administrator of the record too.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/admins/{user_id}",
    operation_id = "orgs_make_admin",
    summary = "Make a member an administrator of the record too (its administrators, administrators)",
    params(
        ("id" = String, Path),
        ("user_id" = String, Path)
    ),
    responses(
        (status = 200, description = "Administrator", body = inline(doc::OrgsMakeAdminResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn make_admin(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    change_member(state, caller, ids, MemberChange::MakeAdmin).await
}

/// `{"email"}` → `202`: a link to the new address moves the account there when opened.
#[utoipa::path(
    post,
    path = "/api/v1/me/email",
    operation_id = "orgs_change_email",
    summary = "Move the caller's account to another e-mail address: a link mailed there makes the move when opened (GET /confirm/{secret}); the old address is told. The answer is the same when the address is taken.",
    request_body(content = inline(doc::OrgsChangeEmailRequest), content_type = "application/json"),
    responses(
        (status = 202, description = "Link sent", body = inline(doc::OrgsChangeEmailResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn change_email(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_signed_in()?;
    let Some(user) = caller.user().cloned() else {
        return Err(AppError::Forbidden(Refusal::UsersOnly).into());
    };
    let body = Fields::new(body, &["email"])?;
    let email = body.required("email")?;
    let email = state
        .run(move |ex| {
            crate::app::signup::request_email_change(
                ex.accounts,
                ex.outbox,
                &user,
                &email,
                Utc::now(),
            )
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "email": email, "confirmation": "sent" })),
    ))
}
