//! A user's own overview (`/me`): their organisation, its listings and needs with drafts, the
//! interest they sent with its answers, their organisation's leads inbox, and for brokers the
//! organisations of their province waiting for verification; and the newest alerts of their
//! standing searches.

use serde::Serialize;

use super::{AppError, Exchange};
use crate::domain::account::{Role, User};
use crate::domain::alert::Notification;
use crate::domain::deal::Lead;
use crate::domain::org::Organisation;
use crate::domain::Listing;

/// What a user sees of themselves (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role.
    pub role: Role,
    /// Province.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Organisation's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Organisation's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            province: u.province.as_ref().map(ToString::to_string),
            org: u.org.clone(),
            org_id: u.org_id.clone(),
        }
    }
}

/// A user's overview.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The user.
    pub user: UserView,
    /// Their organisation's record, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<Organisation>,
    /// Whether they manage it.
    pub org_admin: bool,
    /// Its members, for its administrators.
    pub members: Vec<UserView>,
    /// Their organisation's listings and needs, drafts included, newest first.
    pub listings: Vec<Listing>,
    /// Interest their organisation sent, with answers, newest first.
    pub sent_interest: Vec<Lead>,
    /// Interest in their organisation's technologies, newest first.
    pub leads_inbox: Vec<Lead>,
    /// For brokers: organisations of their province not verified yet.
    pub to_verify: Vec<Organisation>,
    /// The newest alerts of their standing searches.
    pub notifications: Vec<Notification>,
    /// Their organisation's listings its owner is asked to confirm as current, or stale.
    pub to_confirm: Vec<Listing>,
}

/// Alerts shown on the overview.
pub const NOTIFICATIONS_SHOWN: usize = 20;

/// The overview of `user`.
///
/// # Errors
/// Store failures.
pub fn overview(ex: Exchange<'_>, user: &User) -> Result<Overview, AppError> {
    let org = match &user.org_id {
        Some(id) => ex.orgs.org(id)?,
        None => None,
    };
    let org_admin = org.as_ref().is_some_and(|o| o.is_admin(&user.id));
    let members = match (&org, org_admin) {
        (Some(o), true) => ex
            .alerts
            .users_of_org(&o.name)?
            .iter()
            .filter(|u| u.org_id.as_deref() == Some(o.id.as_str()))
            .map(UserView::from)
            .collect(),
        _ => Vec::new(),
    };
    let mut listings = Vec::new();
    let (mut sent, mut inbox) = (Vec::new(), Vec::new());
    if let Some(name) = user.org.as_deref().filter(|_| user.role.is_member()) {
        listings = ex.listings.owned_by(name)?;
        listings.sort_by_key(|l| std::cmp::Reverse(l.updated_at));
        for lead in ex.deals.leads()? {
            if lead.from_org == name {
                sent.push(lead);
            } else if lead.listing_owner.as_deref() == Some(name) {
                inbox.push(lead);
            }
        }
    }
    sent.reverse();
    inbox.reverse();
    let to_verify = match (&user.role, &user.province) {
        (Role::Broker, Some(p)) => ex
            .orgs
            .orgs()?
            .into_iter()
            .filter(|o| {
                o.merged_into.is_none() && o.verified.is_none() && o.province.as_ref() == Some(p)
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Overview {
        user: UserView::from(user),
        org,
        org_admin,
        members,
        sent_interest: sent,
        leads_inbox: inbox,
        to_verify,
        notifications: ex.alerts.notifications(&user.id, NOTIFICATIONS_SHOWN)?,
        to_confirm: listings
            .iter()
            .filter(|l| {
                l.status == crate::domain::Status::Published
                    && (l.stale || l.confirm_asked_at.is_some())
            })
            .cloned()
            .collect(),
        listings,
    })
}
