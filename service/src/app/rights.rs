//! Who is calling ([`Caller`]) and what they may do: every rule of the rights model in one
//! place, as methods on [`Caller`].
//!
//! - Anonymous: reads published (and archived) listings without contact details, searches
//!   published listings, reads reference data. Everything else answers 401.
//! - Admin (admin token, or a user with the admin role): everything.
//! - Broker of a province: reads every listing with contact details, drafts of their own
//!   province too; edits no listing; sees the leads and deals touching their province (the
//!   technology's or the enterprise's), proposes and moves those deals, reads their province's
//!   report.
//! - Institute / enterprise member: creates, replaces and deletes only listings whose `owner` is
//!   their organisation (institutes offer research outputs and patents, enterprises post
//!   needs), and reads them in full; reads other listings like anonymous. Enterprise members
//!   mark interest; both see the leads of their organisation.
//!
//! Signed in without the right answers 403; a listing the caller may not see (another
//! organisation's or province's draft) answers as if it did not exist, wherever it is named:
//! 404, or in a deal's body the same 400 as an unknown id.

use crate::app::AppError;
use crate::domain::account::{Role, User};
use crate::domain::deal::{Deal, Lead};
use crate::domain::{Kind, Listing, ProvinceCode, Status};

/// The deals and leads a broker's desk covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desk {
    /// An administrator's: everything.
    All,
    /// A broker's: what touches this province.
    Province(ProvinceCode),
}

impl Desk {
    /// Whether a deal is on this desk.
    pub fn covers(&self, deal: &Deal) -> bool {
        match self {
            Desk::All => true,
            Desk::Province(p) => deal.touches(p),
        }
    }

    /// Whether the desk may propose a deal between listings in these provinces.
    pub fn may_propose(&self, need: Option<&ProvinceCode>, listing: Option<&ProvinceCode>) -> bool {
        match self {
            Desk::All => true,
            Desk::Province(p) => need == Some(p) || listing == Some(p),
        }
    }
}

const SIGN_IN: &str =
    "this action needs a bearer token: Authorization: Bearer <token> (POST /api/v1/tokens)";

fn forbidden(message: impl Into<String>) -> AppError {
    AppError::Denied(message.into())
}

/// Who is calling: anonymous, the administrator by the break-glass token in
/// `<data dir>/admin.token`, or a signed-in user (by bearer API token or session cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials: sees published listings without contact details.
    Anonymous,
    /// Holds the admin token (kept valid next to admin accounts, for when no one can sign in).
    Admin,
    /// Signed in as this user.
    User(Box<User>),
}

impl Caller {
    /// The signed-in user, if any (not for the admin token).
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    /// Who acts, for the application's use cases; anonymous callers are refused (401).
    pub fn actor(&self) -> Result<crate::app::orgs::Actor<'_>, AppError> {
        match self {
            Caller::Anonymous => Err(AppError::Unauthorized(SIGN_IN)),
            Caller::Admin => Ok(crate::app::orgs::Actor::AdminToken),
            Caller::User(u) => Ok(crate::app::orgs::Actor::User(u)),
        }
    }

    /// The caller's role; the admin token counts as admin.
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Admin => Some(Role::Admin),
            Caller::User(u) => Some(u.role),
        }
    }

    /// Whether the caller may do everything.
    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// The member's organisation (institute and enterprise members only).
    fn org(&self) -> Option<&str> {
        self.user()
            .filter(|u| u.role.is_member())
            .and_then(|u| u.org.as_deref())
    }

    /// Who, for histories: the user's e-mail, or `admin-token`.
    pub fn who(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::Admin => "admin-token".into(),
            Caller::User(u) => u.email.clone(),
        }
    }

    /// Refuses anonymous callers (401).
    pub fn require_signed_in(&self) -> Result<(), AppError> {
        match self {
            Caller::Anonymous => Err(AppError::Unauthorized(SIGN_IN)),
            _ => Ok(()),
        }
    }

    /// Refuses anyone but administrators (401 anonymous, 403 others).
    pub fn require_admin(&self) -> Result<(), AppError> {
        self.require_signed_in()?;
        if self.is_admin() {
            Ok(())
        } else {
            Err(forbidden("this action is for administrators"))
        }
    }

    /// The desk of a broker or administrator; 403 for members.
    pub fn desk(&self) -> Result<Desk, AppError> {
        self.require_signed_in()?;
        match self {
            _ if self.is_admin() => Ok(Desk::All),
            Caller::User(u) if u.role == Role::Broker => u
                .province
                .clone()
                .map(Desk::Province)
                .ok_or_else(|| forbidden("this broker account has no province")),
            _ => Err(forbidden("deals are run by brokers and administrators")),
        }
    }

    /// Whether the caller sees all of a listing, contact details included.
    fn sees_in_full(&self, listing: &Listing) -> bool {
        let own = self.org().is_some() && listing.owner.as_deref() == self.org();
        match self {
            _ if self.is_admin() || own => true,
            Caller::User(u) if u.role == Role::Broker => {
                listing.status != Status::Draft
                    || (u.province.is_some() && listing.province == u.province)
            }
            _ => false,
        }
    }

    /// Whether the caller may know that a listing exists. Everywhere a listing is named by
    /// id — read, replace, delete, interest, deals, the edit page — one it may not see gets
    /// the same answer as an id that does not exist, so ids cannot be probed.
    pub fn may_see(&self, listing: &Listing) -> bool {
        listing.status != Status::Draft || self.sees_in_full(listing)
    }

    /// The listing if the caller may know it exists ([`Caller::may_see`]), else `None`.
    pub fn visible(&self, listing: Option<Listing>) -> Option<Listing> {
        listing.filter(|l| self.may_see(l))
    }

    /// What this caller sees of a listing: all of it, the public part, a confidential need's
    /// summary only, or nothing (`None`: answer as if it did not exist).
    pub fn listing_view(&self, listing: &Listing) -> Option<Listing> {
        if self.sees_in_full(listing) {
            Some(listing.clone())
        } else if !self.may_see(listing) {
            None
        } else if self.reads_in_full(listing) {
            Some(listing.public())
        } else {
            Some(listing.redacted())
        }
    }

    /// Whether the caller reads the listing's text and organisation: every listing but a
    /// confidential need not disclosed to them (`app::confidential`).
    pub fn reads_in_full(&self, listing: &Listing) -> bool {
        self.is_admin() || crate::app::confidential::reads_in_full(self.user(), listing)
    }

    /// A quick refusal before reading a listing body: anonymous (401) and brokers (403).
    pub fn may_write_listings(&self) -> Result<(), AppError> {
        self.require_signed_in()?;
        match self.role() {
            Some(Role::Broker) => Err(forbidden(
                "brokers read listings but do not edit them; members of the owner organisation do",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the caller may replace or delete `existing` and store `new`; 404, as for an
    /// unknown id, when the caller may not see `existing` (another organisation's draft).
    pub fn may_write_listing(
        &self,
        existing: Option<&Listing>,
        new: Option<&Listing>,
    ) -> Result<(), AppError> {
        self.may_write_listings()?;
        if self.is_admin() {
            return Ok(());
        }
        if let Some(e) = existing.filter(|e| !self.may_see(e)) {
            return Err(AppError::NotFound(format!("listing {:?}", e.id)));
        }
        let Some(org) = self.org() else {
            return Err(forbidden("this account belongs to no organisation"));
        };
        if let Some(e) = existing.filter(|e| e.owner.as_deref() != Some(org)) {
            return Err(forbidden(format!(
                "listing {:?} belongs to another organisation",
                e.id
            )));
        }
        if let Some(n) = new {
            if n.owner.as_deref() != Some(org) {
                return Err(forbidden(format!(
                    "members store listings of their own organisation only (owner {org:?})"
                )));
            }
            let allowed = match self.role() {
                Some(Role::Institute) => n.kind != Kind::Need,
                Some(Role::Enterprise) => n.kind == Kind::Need,
                _ => false,
            };
            if !allowed {
                return Err(forbidden(
                    "institute members list research outputs and patents; enterprise members list needs",
                ));
            }
        }
        Ok(())
    }

    /// The organisation an enterprise member marks interest for; 403 for everyone else.
    pub fn enterprise(&self) -> Result<&User, AppError> {
        self.require_signed_in()?;
        match self.user() {
            Some(u) if u.role == Role::Enterprise && u.org.is_some() => Ok(u),
            _ => Err(forbidden("interest is marked by enterprise members")),
        }
    }

    /// Whether the caller sees a lead: administrators all; brokers those of either province;
    /// members those of their organisation (as owner or as the interested enterprise).
    pub fn may_see_lead(&self, lead: &Lead) -> bool {
        if self.is_admin() {
            return true;
        }
        match self.user() {
            Some(u) if u.role == Role::Broker => {
                u.province.is_some()
                    && (lead.listing_province == u.province || lead.from_province == u.province)
            }
            Some(u) if u.role.is_member() => {
                let org = u.org.as_deref();
                org.is_some()
                    && (lead.listing_owner.as_deref() == org || Some(lead.from_org.as_str()) == org)
            }
            _ => false,
        }
    }

    /// Whether the caller may see what deals on similar technologies were worth, to value this
    /// one: administrators, brokers and the technology's own organisation.
    pub fn may_value(&self, listing: &Listing) -> bool {
        self.is_admin()
            || self.role() == Some(Role::Broker)
            || (self.org().is_some() && listing.owner.as_deref() == self.org())
    }

    /// Refuses a report on `province` unless the caller is an administrator or its broker.
    pub fn may_report(&self, province: &ProvinceCode) -> Result<(), AppError> {
        self.require_signed_in()?;
        match self.user() {
            _ if self.is_admin() => Ok(()),
            Some(u) if u.role == Role::Broker && u.province.as_ref() == Some(province) => Ok(()),
            _ => Err(forbidden(
                "a province report is for the province's brokers and administrators",
            )),
        }
    }
}

/// The client's address: the connection's peer, or what a trusted proxy says (see
/// `server/client.rs`); `None` in process (tests) and behind anything that gives no peer address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);
