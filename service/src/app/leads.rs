//! Interest and its answer: an enterprise member's interest in a technology becomes a lead for
//! the technology's organisation (mailed to its members) and the brokers of both provinces; a
//! second interest from the same organisation in the same technology updates the first; a
//! member of the technology's organisation answers it, and the enterprise is mailed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::orgs::{answers_lead, Actor};
use super::{mails, AppError, Exchange, Outbox, Refusal};
use crate::accounts::credentials::new_id;
use crate::domain::account::User;
use crate::domain::deal::{clean_text, Lead, LeadReply};
use crate::domain::{FieldError, Kind, ProvinceCode, Status};
use crate::store::{DealStore, Store};

/// The enterprise's province: the member's own, else the one most of their organisation's
/// listings name (ties to the lowest code), else unknown.
fn enterprise_province(store: &dyn Store, user: &User) -> Result<Option<ProvinceCode>, AppError> {
    if user.province.is_some() {
        return Ok(user.province.clone());
    }
    let Some(org) = &user.org else {
        return Ok(None);
    };
    let mut counts: BTreeMap<ProvinceCode, usize> = BTreeMap::new();
    for listing in store.owned_by(org)? {
        if let Some(p) = listing.province {
            *counts.entry(p).or_default() += 1;
        }
    }
    let best = counts.values().copied().max().unwrap_or(0);
    Ok(counts
        .into_iter()
        .find(|(_, n)| *n == best && best > 0)
        .map(|(p, _)| p))
}

/// Records `user`'s (an enterprise member's) interest in the technology `id`, or updates the
/// interest their organisation marked before; the technology's organisation is mailed.
/// Returns the lead and whether it is new.
///
/// # Errors
/// [`AppError::NotFound`] for no such published listing; [`AppError::Invalid`] on `message`,
/// or on `id` for a need or the member's own organisation's technology.
pub fn mark_interest(
    ex: Exchange<'_>,
    user: &User,
    id: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(Lead, bool), AppError> {
    let (store, deals, outbox) = (ex.listings, ex.deals, ex.outbox);
    let message = clean_text("message", Some(message))?.unwrap_or_default();
    let listing = store
        .get(id)?
        .filter(|l| l.status != Status::Draft)
        .ok_or(AppError::NotFound("listing".into()))?;
    if listing.kind == Kind::Need {
        return Err(AppError::Invalid(FieldError::new(
            "id",
            "interest is marked on research outputs and patents, not on needs",
        )));
    }
    let org = user.org.clone().unwrap_or_default();
    if listing.owner.as_deref() == Some(org.as_str()) {
        return Err(AppError::Invalid(FieldError::new(
            "id",
            "this technology belongs to your own organisation",
        )));
    }
    let earlier = deals
        .leads()?
        .into_iter()
        .find(|l| l.listing_id == listing.id && l.from_org == org);
    let fresh = earlier.is_none();
    let lead = match earlier {
        Some(previous) => Lead {
            listing_title: listing.title.clone(),
            listing_owner: listing.owner.clone(),
            listing_province: listing.province.clone(),
            from_email: user.email.clone(),
            message,
            updated_at: Some(now),
            ..previous
        },
        None => Lead {
            id: new_id("ld")?,
            listing_id: listing.id.clone(),
            listing_title: listing.title.clone(),
            listing_owner: listing.owner.clone(),
            listing_province: listing.province.clone(),
            from_email: user.email.clone(),
            from_province: enterprise_province(store, user)?,
            from_org: org,
            message,
            created_at: now,
            updated_at: None,
            reply: None,
            reply_by: Some(super::replies::reply_by(now)),
            reminded_at: None,
        },
    };
    deals.add_lead(&lead)?;
    if let Some(owner) = &listing.owner {
        let text = mails::interest_received(
            &listing.title,
            &lead.from_org,
            &lead.message,
            &outbox.links.page("/me"),
        );
        for member in ex.alerts.users_of_org(owner)? {
            if member.role.is_member() {
                outbox.queue(&member.email, text.clone(), now)?;
            }
        }
    }
    Ok((lead, fresh))
}

/// A member of the technology's organisation (or an administrator) answers a lead; the
/// enterprise's member who wrote is mailed.
///
/// # Errors
/// [`AppError::NotFound`] for no such lead (or one the actor may not see);
/// [`AppError::Forbidden`] for anyone else; [`AppError::Invalid`] on `message`.
pub fn reply(
    deals: &dyn DealStore,
    outbox: &Outbox,
    actor: Actor<'_>,
    lead_id: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<Lead, AppError> {
    let message = clean_text("message", Some(message))?.unwrap_or_default();
    if message.is_empty() {
        return Err(AppError::Invalid(FieldError::new("message", "is required")));
    }
    let lead = deals
        .lead(lead_id)?
        .ok_or(AppError::NotFound("lead".into()))?;
    let allowed = match actor {
        Actor::AdminToken => true,
        Actor::User(u) => actor.is_admin() || answers_lead(u, &lead),
    };
    if !allowed {
        return Err(AppError::Forbidden(Refusal::NotListingOrg));
    }
    let lead = Lead {
        reply: Some(LeadReply {
            message,
            by: actor.who(),
            at: now,
        }),
        ..lead
    };
    deals.add_lead(&lead)?;
    let text = mails::interest_answered(
        &lead.listing_title,
        lead.listing_owner.as_deref().unwrap_or_default(),
        &lead
            .reply
            .as_ref()
            .map(|r| r.message.clone())
            .unwrap_or_default(),
        &outbox.links.page("/me"),
    );
    outbox.queue(&lead.from_email, text, now)?;
    Ok(lead)
}

/// Records an enterprise member's interest in the technology `id` with `message` (required)
/// as a lead, or updates their organisation's earlier one; the API and the page both come here.
///
/// # Errors
/// The rights' refusal for anyone but enterprise members; [`AppError::Invalid`] on `message`;
/// as [`mark_interest`].
pub async fn express_interest(
    state: &crate::app::AppState,
    caller: &crate::app::Caller,
    id: String,
    message: Option<String>,
) -> Result<Lead, AppError> {
    let user = caller.enterprise()?.clone();
    let message =
        message
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| crate::domain::FieldError {
                field: "message".into(),
                reason: "is required".into(),
            })?;
    let (lead, _) = state
        .run(move |ex| mark_interest(ex, &user, &id, &message, Utc::now()))
        .await?;
    Ok(lead)
}
