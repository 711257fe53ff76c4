//! Organisations: creating a record (its creator becomes its administrator), editing it,
//! inviting members by mail, requests to join, the province broker's verification, an
//! administrator's merge of two records, and the public profile.
//!
//! Members are still tied to their organisation by its name (`User::org`, `Listing::owner`);
//! the record adds the id (`User::org_id`), the profile and the rules around it.

use chrono::{DateTime, Duration, Utc};

use super::{mails, AppError, Exchange, Refusal};
use crate::accounts::credentials::{new_id, random_hex, token_hash};
use crate::domain::account::{normalise_email, Role, User};
use crate::domain::deal::Lead;
use crate::domain::mail::{Purpose, Ticket, INVITATION_HOURS};
use crate::domain::org::{
    name_key, JoinRequest, OrgInput, Organisation, ReplyStats, Verification, VerificationEvent,
};
use crate::domain::{FieldError, Listing, Status};
use crate::store::{DealStore, OrgStore};

/// Who acts: the administrator's token, or a signed-in user.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The break-glass administrator token.
    AdminToken,
    /// A signed-in user.
    User(&'a User),
}

impl Actor<'_> {
    /// Whether the actor may do everything.
    pub fn is_admin(&self) -> bool {
        match self {
            Actor::AdminToken => true,
            Actor::User(u) => u.role == Role::Admin,
        }
    }

    /// Who, for histories: the user's e-mail, or `admin-token`.
    pub fn who(&self) -> String {
        match self {
            Actor::AdminToken => "admin-token".into(),
            Actor::User(u) => u.email.clone(),
        }
    }

    fn user(&self) -> Option<&User> {
        match self {
            Actor::AdminToken => None,
            Actor::User(u) => Some(u),
        }
    }
}

/// An organisation's public profile: the record, its published listings and how it answers
/// interest.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The record.
    pub org: Organisation,
    /// Its published (and archived) listings, without contact details.
    pub listings: Vec<Listing>,
    /// How it answers interest in its technologies.
    pub replies: ReplyStats,
}

fn is_staff(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::Broker)
}

/// The record by id, refusing merged ones for changes.
fn live(ex: Exchange<'_>, id: &str) -> Result<Organisation, AppError> {
    let org = ex
        .orgs
        .org(id)?
        .ok_or(AppError::NotFound("organisation".into()))?;
    if org.merged_into.is_some() {
        return Err(AppError::Conflict(Refusal::Merged));
    }
    Ok(org)
}

/// Refuses anyone but the organisation's administrators and the exchange's.
fn require_org_admin(actor: Actor<'_>, org: &Organisation) -> Result<(), AppError> {
    match actor.user() {
        _ if actor.is_admin() => Ok(()),
        Some(u) if org.is_admin(&u.id) && u.org_id.as_deref() == Some(org.id.as_str()) => Ok(()),
        _ => Err(AppError::Forbidden(Refusal::NotOrgAdmin)),
    }
}

/// Whether the actor is an administrator or a broker of the organisation's province.
fn is_province_staff(actor: Actor<'_>, org: &Organisation) -> bool {
    actor.is_admin()
        || actor.user().is_some_and(|u| {
            u.role == Role::Broker && u.province.is_some() && u.province == org.province
        })
}

/// Makes `user` a member of `org`, with the role its kind gives, and stores the user.
fn join(ex: Exchange<'_>, mut user: User, org: &Organisation) -> Result<User, AppError> {
    user.org = Some(org.name.clone());
    user.org_id = Some(org.id.clone());
    user.role = org.kind.member_role();
    if user.province.is_none() {
        user.province = org.province.clone();
    }
    ex.accounts.replace_user(&user)?;
    Ok(user)
}

/// Creates an organisation's record. A user without an organisation becomes its first member
/// and administrator; brokers and administrators create records for others (an organisation
/// whose name listings already carry) without joining.
///
/// # Errors
/// [`AppError::Invalid`] naming the field; [`AppError::Conflict`] when the name is taken, or
/// (for members) carried by listings already, or the user has an organisation.
pub fn create(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    input: &OrgInput,
    now: DateTime<Utc>,
) -> Result<(Organisation, Option<User>), AppError> {
    let profile = input.check()?;
    let joining = match actor.user() {
        Some(u) if !is_staff(u) => {
            if u.org.is_some() {
                return Err(AppError::Conflict(Refusal::AlreadyMember));
            }
            Some(u.clone())
        }
        _ => None,
    };
    if ex.orgs.org_by_name(&profile.name)?.is_some() {
        return Err(AppError::Conflict(Refusal::NameTaken));
    }
    // Whoever names a record after listings' owner may edit those listings, so only the
    // department's staff may claim a name already on the exchange.
    if joining.is_some() && !ex.listings.owned_by(&profile.name)?.is_empty() {
        return Err(AppError::Conflict(Refusal::NameHasListings));
    }
    let org = Organisation {
        id: new_id("org")?,
        name: profile.name,
        kind: profile.kind,
        province: profile.province,
        registration_no: profile.registration_no,
        website: profile.website,
        description: profile.description,
        created_at: now,
        admins: joining.iter().map(|u| u.id.clone()).collect(),
        verified: None,
        verification_history: Vec::new(),
        requests: Vec::new(),
        merged_into: None,
    };
    if !ex.orgs.add_org(&org)? {
        return Err(AppError::Conflict(Refusal::NameTaken));
    }
    let member = match joining {
        Some(user) => Some(join(ex, user, &org)?),
        None => None,
    };
    Ok((org, member))
}

/// Changes an organisation's profile; the name stays (listings carry it; an administrator's
/// merge is how two names become one).
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but its administrators; [`AppError::Invalid`] naming the
/// field, `name` when it differs.
pub fn edit(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    input: &OrgInput,
) -> Result<Organisation, AppError> {
    let org = live(ex, id)?;
    require_org_admin(actor, &org)?;
    let mut input = input.clone();
    if input.name.trim().is_empty() {
        input.name = org.name.clone();
    }
    let profile = input.check()?;
    if name_key(&profile.name) != name_key(&org.name) {
        return Err(AppError::Invalid(FieldError::new(
            "name",
            "cannot be changed; an administrator can merge two records of one organisation",
        )));
    }
    let changed = ex.orgs.update_org(
        id,
        Box::new(move |o| {
            Some(Organisation {
                kind: profile.kind,
                province: profile.province,
                registration_no: profile.registration_no,
                website: profile.website,
                description: profile.description,
                ..o.clone()
            })
        }),
    )?;
    changed.ok_or(AppError::NotFound("organisation".into()))
}

/// Invites an address to join by mail; the link lets it accept, creating an account if it has
/// none. Returns the normalised address.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but its administrators; [`AppError::Invalid`] on `email`.
pub fn invite(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let org = live(ex, id)?;
    require_org_admin(actor, &org)?;
    let email = normalise_email(email)?;
    let secret = random_hex(32)?;
    ex.outbox.store().add_ticket(&Ticket {
        hash: token_hash(&secret),
        purpose: Purpose::JoinOrg,
        user_id: String::new(),
        email: email.clone(),
        expires_at: now + Duration::hours(INVITATION_HOURS),
        org_id: Some(org.id.clone()),
    })?;
    let by = actor
        .user()
        .and_then(|u| u.name.clone())
        .unwrap_or_else(|| actor.who());
    let text = mails::invitation(
        &org.name,
        &by,
        &ex.outbox.links.page(&format!("/invite/{secret}")),
    );
    ex.outbox.queue(&email, text, now)?;
    Ok(email)
}

/// What an invitation link offers: the organisation, the address, and the account that
/// address has (if any). The link stays usable.
///
/// # Errors
/// [`AppError::InvalidLink`] for an unknown, used or expired link.
pub fn invitation(
    ex: Exchange<'_>,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(Organisation, Ticket, Option<User>), AppError> {
    let ticket = ex
        .outbox
        .store()
        .ticket(&token_hash(secret))?
        .filter(|t| t.purpose == Purpose::JoinOrg && t.is_valid(now))
        .ok_or(AppError::InvalidLink)?;
    let org_id = ticket.org_id.clone().ok_or(AppError::InvalidLink)?;
    let org = live(ex, &org_id)?;
    let user = ex.accounts.user_by_email(&ticket.email)?;
    Ok((org, ticket, user))
}

/// How the person opening an invitation answers it.
#[derive(Debug, Clone, Copy)]
pub enum Acceptance<'a> {
    /// Signed in as the invited address's account.
    SignedIn(&'a User),
    /// No account yet: one is made, confirmed (the mail proved the address).
    NewAccount {
        /// Their name.
        name: &'a str,
        /// The password's argon2 hash (the caller hashes it, in its turn at the hasher).
        password_hash: &'a str,
    },
}

/// Accepts an invitation: the account (made now if it had none) joins the organisation.
///
/// # Errors
/// [`AppError::InvalidLink`]; [`AppError::Forbidden`] when signed in as another address;
/// [`AppError::Conflict`] when the account belongs to another organisation or is staff.
pub fn accept_invitation(
    ex: Exchange<'_>,
    secret: &str,
    acceptance: Acceptance<'_>,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    let (org, ticket, existing) = invitation(ex, secret, now)?;
    let user = match (acceptance, existing) {
        (Acceptance::SignedIn(u), Some(e)) if u.id == e.id => e,
        (Acceptance::SignedIn(_), _) => {
            return Err(AppError::Forbidden(Refusal::InvitationForOther))
        }
        // An account exists: its holder signs in first, so a stranger holding the mail cannot
        // set its password.
        (Acceptance::NewAccount { .. }, Some(_)) => {
            return Err(AppError::Forbidden(Refusal::UsersOnly))
        }
        (
            Acceptance::NewAccount {
                name,
                password_hash,
            },
            None,
        ) => {
            let name = super::signup::check_name(name)?;
            let user = User {
                id: new_id("u")?,
                email: ticket.email.clone(),
                role: Role::Newcomer,
                province: None,
                org: None,
                org_id: None,
                password_hash: password_hash.to_string(),
                created_at: now,
                name: Some(name),
                confirmed: true,
            };
            if !ex.accounts.add_user(&user)? {
                return Err(AppError::Forbidden(Refusal::UsersOnly));
            }
            user
        }
    };
    if is_staff(&user) {
        return Err(AppError::Conflict(Refusal::StaffJoinNone));
    }
    if user.org_id.as_deref() == Some(org.id.as_str()) {
        ex.outbox.store().take_ticket(&ticket.hash)?;
        return Ok(user);
    }
    if user.org.is_some() {
        return Err(AppError::Conflict(Refusal::AlreadyMember));
    }
    if ex.outbox.store().take_ticket(&ticket.hash)?.is_none() {
        return Err(AppError::InvalidLink);
    }
    join(ex, user, &org)
}

/// A user without an organisation asks to join one; its administrators get a mail.
///
/// # Errors
/// [`AppError::Conflict`] when the user has an organisation, is staff or asked already.
pub fn request_to_join(
    ex: Exchange<'_>,
    user: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Organisation, AppError> {
    if is_staff(user) {
        return Err(AppError::Conflict(Refusal::StaffJoinNone));
    }
    if user.org.is_some() {
        return Err(AppError::Conflict(Refusal::AlreadyMember));
    }
    live(ex, id)?;
    let request = JoinRequest {
        user_id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        at: now,
    };
    let mut already = false;
    let org = ex
        .orgs
        .update_org(
            id,
            Box::new(|o| {
                if o.requests.iter().any(|r| r.user_id == request.user_id) {
                    already = true;
                    return None;
                }
                let mut next = o.clone();
                next.requests.push(request);
                Some(next)
            }),
        )?
        .ok_or(AppError::NotFound("organisation".into()))?;
    if already {
        return Err(AppError::Conflict(Refusal::AlreadyRequested));
    }
    let who = match &user.name {
        Some(n) => format!("{n} <{}>", user.email),
        None => user.email.clone(),
    };
    let text = mails::join_requested(&org.name, &who, &ex.outbox.links.page("/me"));
    for admin in &org.admins {
        if let Some(a) = ex.accounts.user(admin)? {
            ex.outbox.queue(&a.email, text.clone(), now)?;
        }
    }
    Ok(org)
}

/// The organisation's administrator accepts or declines a request to join; the person gets a
/// mail either way.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but its administrators; [`AppError::NotFound`] for no such
/// request.
pub fn answer_request(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    user_id: &str,
    accept: bool,
    now: DateTime<Utc>,
) -> Result<Option<User>, AppError> {
    let org = live(ex, id)?;
    require_org_admin(actor, &org)?;
    let mut found = false;
    ex.orgs.update_org(
        id,
        Box::new(|o| {
            found = o.requests.iter().any(|r| r.user_id == user_id);
            let mut next = o.clone();
            next.requests.retain(|r| r.user_id != user_id);
            found.then_some(next)
        }),
    )?;
    if !found {
        return Err(AppError::NotFound("request".into()));
    }
    let Some(user) = ex.accounts.user(user_id)? else {
        return Ok(None);
    };
    let text = mails::join_answered(
        user.name.as_deref(),
        &org.name,
        accept,
        &ex.outbox.links.page("/me"),
    );
    let joined = if accept && user.org.is_none() && !is_staff(&user) {
        Some(join(ex, user.clone(), &org)?)
    } else {
        None
    };
    ex.outbox.queue(&user.email, text, now)?;
    Ok(joined)
}

/// The organisation's administrator removes a member (who becomes a newcomer), or makes one an
/// administrator too.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but its administrators; [`AppError::Conflict`] for a user
/// who is not a member, or for removing its last administrator.
pub fn manage_member(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    user_id: &str,
    change: MemberChange,
) -> Result<User, AppError> {
    let org = live(ex, id)?;
    require_org_admin(actor, &org)?;
    let mut user = ex
        .accounts
        .user(user_id)?
        .filter(|u| u.org_id.as_deref() == Some(id))
        .ok_or(AppError::Conflict(Refusal::NotMember))?;
    let user_id = user.id.clone();
    let mut last_admin = false;
    ex.orgs.update_org(
        id,
        Box::new(|o| {
            let mut next = o.clone();
            match change {
                MemberChange::Remove => {
                    if o.admins == [user_id.clone()] {
                        last_admin = true;
                        return None;
                    }
                    next.admins.retain(|a| *a != user_id);
                }
                MemberChange::MakeAdmin => {
                    if o.is_admin(&user_id) {
                        return None;
                    }
                    next.admins.push(user_id.clone());
                }
            }
            Some(next)
        }),
    )?;
    if last_admin {
        return Err(AppError::Conflict(Refusal::LastAdmin));
    }
    if change == MemberChange::Remove {
        user.org = None;
        user.org_id = None;
        user.role = Role::Newcomer;
        ex.accounts.replace_user(&user)?;
        // Their sessions and tokens carry the old rights no further than the next request:
        // the caller is read from the store each time.
    }
    Ok(user)
}

/// What an organisation's administrator does to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Takes the member out of the organisation.
    Remove,
    /// Makes the member an administrator of the record too.
    MakeAdmin,
}

/// The province's broker (or an administrator) verifies an organisation, or revokes it; both
/// are kept in its history.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone else.
pub fn set_verified(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    verified: bool,
    now: DateTime<Utc>,
) -> Result<Organisation, AppError> {
    let org = live(ex, id)?;
    if !is_province_staff(actor, &org) {
        return Err(AppError::Forbidden(Refusal::NotProvinceBroker));
    }
    let by = actor.who();
    ex.orgs
        .update_org(
            id,
            Box::new(move |o| {
                let mut next = o.clone();
                next.verified = verified.then(|| Verification {
                    by: by.clone(),
                    at: now,
                });
                next.verification_history.push(VerificationEvent {
                    verified,
                    by,
                    at: now,
                });
                Some(next)
            }),
        )?
        .ok_or(AppError::NotFound("organisation".into()))
}

/// What a merge moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    /// Members moved.
    pub members: usize,
    /// Listings whose owner was renamed.
    pub listings: usize,
    /// Leads whose organisation was renamed.
    pub leads: usize,
    /// The change sequence of the listings' rename (0 when none moved).
    pub seq: u64,
}

/// An administrator merges `from` into `into`: members, listings and leads move to `into`,
/// `from`'s name leads to `into`, and `from` is kept, marked merged.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but administrators.
pub fn merge(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    from: &str,
    into: &str,
    now: DateTime<Utc>,
) -> Result<(Organisation, Merged), AppError> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden(Refusal::AdminsOnly));
    }
    if from == into {
        return Err(AppError::Invalid(FieldError::new(
            "from",
            "must be another organisation than the one merged into",
        )));
    }
    let old = live(ex, from)?;
    let target = live(ex, into)?;
    if !ex.orgs.merge_org(from, into)? {
        return Err(AppError::Conflict(Refusal::Merged));
    }
    let mut moved = Merged::default();
    // Members carry the organisation's name (and, once joined to the record, its id too).
    for mut user in ex.alerts.users_of_org(&old.name)? {
        user.org = Some(target.name.clone());
        user.org_id = Some(target.id.clone());
        ex.accounts.replace_user(&user)?;
        moved.members += 1;
    }
    let renamed: Vec<Listing> = ex
        .listings
        .owned_by(&old.name)?
        .into_iter()
        .map(|mut l| {
            l.owner = Some(target.name.clone());
            l.updated_at = now;
            l
        })
        .collect();
    if !renamed.is_empty() {
        moved.listings = renamed.len();
        moved.seq = ex.listings.put_all(&renamed)?;
    }
    for mut lead in ex.deals.leads()? {
        let mut changed = false;
        if lead.listing_owner.as_deref() == Some(old.name.as_str()) {
            lead.listing_owner = Some(target.name.clone());
            changed = true;
        }
        if lead.from_org == old.name {
            lead.from_org = target.name.clone();
            changed = true;
        }
        if changed {
            ex.deals.add_lead(&lead)?;
            moved.leads += 1;
        }
    }
    let admins = old.admins.clone();
    let requests = old.requests.clone();
    let merged = ex
        .orgs
        .update_org(
            into,
            Box::new(move |o| {
                let mut next = o.clone();
                for a in admins {
                    if !next.admins.contains(&a) {
                        next.admins.push(a);
                    }
                }
                for r in requests {
                    if !next.requests.iter().any(|x| x.user_id == r.user_id) {
                        next.requests.push(r);
                    }
                }
                Some(next)
            }),
        )?
        .ok_or(AppError::NotFound("organisation".into()))?;
    Ok((merged, moved))
}

/// How an organisation answers interest in its technologies.
///
/// # Errors
/// Store failures.
pub fn reply_stats(deals: &dyn DealStore, name: &str) -> Result<ReplyStats, AppError> {
    let times: Vec<_> = deals
        .leads()?
        .into_iter()
        .filter(|l| l.listing_owner.as_deref() == Some(name))
        .map(|l| (l.created_at, l.reply.map(|r| r.at)))
        .collect();
    Ok(ReplyStats::from_times(&times))
}

/// An organisation's public profile (a merged record shows the one it was merged into).
///
/// # Errors
/// [`AppError::NotFound`] for no such id.
pub fn profile(ex: Exchange<'_>, id: &str) -> Result<Profile, AppError> {
    let mut org = ex
        .orgs
        .org(id)?
        .ok_or(AppError::NotFound("organisation".into()))?;
    if let Some(into) = &org.merged_into {
        org = ex
            .orgs
            .org(into)?
            .ok_or(AppError::NotFound("organisation".into()))?;
    }
    let listings = ex
        .listings
        .owned_by(&org.name)?
        .into_iter()
        .filter(|l| l.status != Status::Draft)
        // A confidential need is never shown under its organisation's name.
        .filter(|l| !l.is_confidential())
        .map(|l| l.public())
        .collect();
    let replies = reply_stats(ex.deals, &org.name)?;
    Ok(Profile {
        org,
        listings,
        replies,
    })
}

/// The members of an organisation, for its administrators, the province's brokers and the
/// exchange's administrators.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone else.
pub fn members(ex: Exchange<'_>, actor: Actor<'_>, id: &str) -> Result<Vec<User>, AppError> {
    let org = ex
        .orgs
        .org(id)?
        .ok_or(AppError::NotFound("organisation".into()))?;
    if require_org_admin(actor, &org).is_err() && !is_province_staff(actor, &org) {
        return Err(AppError::Forbidden(Refusal::NotOrgAdmin));
    }
    Ok(ex
        .alerts
        .users_of_org(&org.name)?
        .into_iter()
        .filter(|u| u.org_id.as_deref() == Some(id))
        .collect())
}

/// Whether the user may answer interest in a technology of `lead` (a member of its
/// organisation).
pub fn answers_lead(user: &User, lead: &Lead) -> bool {
    user.role.is_member() && user.org.is_some() && lead.listing_owner == user.org
}

/// The verified organisations among `names`, by name: what pages and hits mark.
///
/// # Errors
/// Store failures.
pub fn verified_names<'n>(
    orgs: &dyn OrgStore,
    names: impl IntoIterator<Item = &'n str>,
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut out = std::collections::BTreeMap::new();
    for name in names {
        if out.contains_key(name) {
            continue;
        }
        if let Some(org) = orgs.org_by_name(name)?.filter(|o| o.verified.is_some()) {
            out.insert(name.to_string(), org.id);
        }
    }
    Ok(out)
}

/// Accepts an invitation for someone with no account yet: checks the password and the name,
/// hashes the password and makes the account as [`accept_invitation`] does. Run it in a turn
/// at the password hasher.
///
/// # Errors
/// [`AppError::Invalid`] on `password` or `name`; as [`accept_invitation`].
pub fn accept_invitation_as_newcomer(
    ex: Exchange<'_>,
    secret: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    crate::domain::account::check_password(password)?;
    if name.trim().is_empty() {
        return Err(AppError::Invalid(FieldError {
            field: "name".into(),
            reason: "is required".into(),
        }));
    }
    let hash = crate::accounts::credentials::hash_password(password)?;
    accept_invitation(
        ex,
        secret,
        Acceptance::NewAccount {
            name,
            password_hash: &hash,
        },
        now,
    )
}
