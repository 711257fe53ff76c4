//! Confidential needs: who reads one in full, and disclosing one to a supplier.
//!
//! An enterprise may post a need as confidential with a summary it writes. Search, public
//! pages, feeds and mails show only the summary, the field and the province (the listing's
//! [`Listing::redacted`] form); matching reads the full text. Administrators, brokers and the
//! enterprise itself read it in full, and so does a supplier once the need is disclosed to its
//! organisation: by the enterprise accepting its interest, by a broker introducing them, or by
//! a broker proposing a deal between the need and the supplier's technology. Each disclosure
//! is appended to the need's `disclosures`, which nothing removes.

use chrono::{DateTime, Utc};

use super::orgs::Actor;
use super::{AppError, Exchange, Refusal};
use crate::domain::account::{Role, User};
use crate::domain::confidential::{DisclosedVia, Disclosure};
use crate::domain::{FieldError, Kind, Listing};

/// Whether `user` (`None`: anonymous) reads `listing` in full: every listing but a confidential
/// need; that one only administrators, brokers, and members of its organisation or of one it
/// was disclosed to.
pub fn reads_in_full(user: Option<&User>, listing: &Listing) -> bool {
    if !listing.is_confidential() {
        return true;
    }
    match user {
        None => false,
        Some(u) if matches!(u.role, Role::Admin | Role::Broker) => true,
        Some(u) => {
            u.role.is_member()
                && u.org
                    .as_deref()
                    .is_some_and(|org| listing.disclosed_to(org))
        }
    }
}

/// What `user` may read of `listing`'s text: the listing, or its redacted form (for titles in
/// notifications, feeds and mails).
pub fn as_read_by(user: Option<&User>, listing: &Listing) -> Listing {
    if reads_in_full(user, listing) {
        listing.clone()
    } else {
        listing.redacted()
    }
}

/// Who may disclose a need: administrators, brokers of its province, members of its own
/// organisation.
fn may_disclose(actor: Actor<'_>, need: &Listing) -> bool {
    match actor {
        Actor::AdminToken => true,
        Actor::User(u) => match u.role {
            Role::Admin => true,
            Role::Broker => u.province.is_some() && u.province == need.province,
            _ => u.role.is_member() && u.org.is_some() && u.org == need.owner,
        },
    }
}

/// What to disclose, to whom, how.
#[derive(Debug, Clone)]
pub struct Disclose<'a> {
    /// The confidential need.
    pub need_id: &'a str,
    /// The organisation, by name or id.
    pub org: &'a str,
    /// How (the enterprise accepting interest, a broker's introduction, a deal).
    pub via: DisclosedVia,
    /// The deal it comes with, if any.
    pub deal_id: Option<String>,
}

/// Discloses a confidential need to an organisation, recording who, when and how in the need's
/// history, and mails the organisation's members a link to it. Disclosing again to the same
/// organisation changes nothing. Returns the need as stored and whether it was disclosed now.
///
/// # Errors
/// [`AppError::NotFound`] for no such need (or a draft the actor may not see);
/// [`AppError::Invalid`] on `id` for a need that is not confidential, on `org` for an unknown
/// organisation or the need's own; [`AppError::Forbidden`] unless the actor is an
/// administrator, a broker of the need's province or a member of its organisation.
pub fn disclose(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    what: Disclose<'_>,
    now: DateTime<Utc>,
) -> Result<(Listing, bool), AppError> {
    let need = ex
        .listings
        .get(what.need_id)?
        .filter(|l| l.kind == Kind::Need)
        .ok_or(AppError::NotFound("need".into()))?;
    // A deal's proposal was checked against the broker's desk, which may be the technology's
    // province rather than the need's.
    if what.via != DisclosedVia::Deal && !may_disclose(actor, &need) {
        // Another's draft is unknown to the actor, as everywhere.
        if need.status == crate::domain::Status::Draft {
            return Err(AppError::NotFound("need".into()));
        }
        return Err(AppError::Forbidden(Refusal::NotNeedOrgOrBroker));
    }
    if !need.is_confidential() {
        return Err(AppError::Invalid(FieldError::new(
            "id",
            "this need is not confidential: everyone reads it in full",
        )));
    }
    let org = match ex.orgs.org_by_name(what.org)? {
        Some(o) => o,
        None => ex
            .orgs
            .org(what.org)?
            .ok_or_else(|| FieldError::new("org", "no organisation by this name or id"))?,
    };
    if need.owner.as_deref() == Some(org.name.as_str()) {
        return Err(AppError::Invalid(FieldError::new(
            "org",
            "this is the need's own organisation",
        )));
    }
    let entry = Disclosure {
        org: org.name.clone(),
        by: actor.who(),
        at: now,
        via: what.via,
        deal_id: what.deal_id.clone(),
    };
    let mut stored = None;
    // Decided under the store's writer lock, so that a disclosure is never lost to an edit
    // of the need written at the same moment.
    ex.listings.update(
        what.need_id,
        Box::new(|existing| {
            let mut need = existing?.clone();
            if need.disclosed_to(&entry.org) {
                stored = Some((need, false));
                return None;
            }
            need.disclosures.push(entry.clone());
            stored = Some((need.clone(), true));
            Some(need)
        }),
    )?;
    let (need, fresh) = stored.ok_or(AppError::NotFound("need".into()))?;
    if fresh {
        let link = ex.outbox.links.page(&format!("/listings/{}", need.id));
        let text = disclosed_mail(&need.title, &link);
        for member in ex.alerts.users_of_org(&org.name)? {
            if member.role.is_member() {
                ex.outbox.queue(&member.email, text.clone(), now)?;
            }
        }
    }
    Ok((need, fresh))
}

/// Discloses a deal's confidential need to the organisation of its technology, `org` (a
/// broker's introduction); an organisation without a record on the exchange is recorded by
/// the name its listings carry.
///
/// # Errors
/// When the store or the outbox fails.
pub fn disclose_with_deal(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    deal: &crate::domain::deal::Deal,
    org: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let what = Disclose {
        need_id: &deal.need_id,
        org,
        via: DisclosedVia::Deal,
        deal_id: Some(deal.id.clone()),
    };
    match disclose(ex, actor, what, now) {
        Ok(_) => Ok(()),
        // No record by that name: the name the technology carries is what reading checks.
        Err(AppError::Invalid(e)) if e.field == "org" => {
            let entry = Disclosure {
                org: org.to_string(),
                by: actor.who(),
                at: now,
                via: DisclosedVia::Deal,
                deal_id: Some(deal.id.clone()),
            };
            ex.listings.update(
                &deal.need_id,
                Box::new(|existing| {
                    let mut need = existing?.clone();
                    if need.disclosed_to(&entry.org) {
                        return None;
                    }
                    need.disclosures.push(entry);
                    Some(need)
                }),
            )?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The mail to a supplier's members: a confidential need is now open to them.
fn disclosed_mail(title: &str, link: &str) -> super::mails::Text {
    (
        "Nhu cầu bảo mật được mở cho bạn / A confidential need disclosed to you — techmatch"
            .to_string(),
        format!(
            "Xin chào,\n\nMột doanh nghiệp (hoặc cán bộ môi giới) vừa cho tổ chức của bạn xem \
             toàn văn nhu cầu công nghệ bảo mật “{title}”:\n\n{link}\n\nXin giữ kín nội dung \
             này.\n\n---\n\nHello,\n\nAn enterprise (or a broker) has just let your organisation \
             read the confidential technology need “{title}” in full:\n\n{link}\n\nPlease keep \
             it confidential.\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need() -> Listing {
        serde_json::from_value(serde_json::json!({
            "id": "nd-1", "kind": "need", "title": "Bí mật", "description": "Kế hoạch riêng",
            "owner": "Công ty A", "status": "published", "confidential": true,
            "summary": "Tìm công nghệ sấy", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn user(role: Role, org: Option<&str>) -> User {
        serde_json::from_value(serde_json::json!({
            "id": "u1", "email": "a@b.vn", "role": role, "org": org,
            "password_hash": "", "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn only_staff_the_owner_and_disclosed_suppliers_read_a_confidential_need() {
        let n = need();
        assert!(!reads_in_full(None, &n));
        assert!(reads_in_full(Some(&user(Role::Broker, None)), &n));
        assert!(reads_in_full(
            Some(&user(Role::Enterprise, Some("Công ty A"))),
            &n
        ));
        let supplier = user(Role::Institute, Some("Viện B"));
        assert!(!reads_in_full(Some(&supplier), &n));
        assert_eq!(as_read_by(Some(&supplier), &n).title, "Tìm công nghệ sấy");
    }
}
