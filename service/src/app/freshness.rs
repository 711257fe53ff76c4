//! Freshness: a listing's owner is asked to confirm it is still current some time after it was
//! last confirmed (180 days unless configured), by mail and on `/me`; unconfirmed some time
//! later (30 days), it is marked stale and leaves search and matching — kept, not deleted —
//! until its owner confirms it. The cycle runs on whatever clock its caller passes as `now`:
//! the server's hourly sweep passes the time, tests and administrators any time they like.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::orgs::Actor;
use super::{AppError, Exchange, Refusal};
use crate::domain::{Listing, Status};

/// Days after the last confirmation at which the owner is asked (`TECHMATCH_CONFIRM_AFTER_DAYS`).
pub const CONFIRM_AFTER_DAYS: i64 = 180;
/// Days after being asked at which an unconfirmed listing turns stale
/// (`TECHMATCH_STALE_AFTER_DAYS`).
pub const STALE_AFTER_DAYS: i64 = 30;

/// When the cycle asks and when it marks stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// From the last confirmation to the question.
    pub confirm_after: Duration,
    /// From the question's due date to staleness.
    pub stale_after: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            confirm_after: Duration::days(CONFIRM_AFTER_DAYS),
            stale_after: Duration::days(STALE_AFTER_DAYS),
        }
    }
}

impl Policy {
    /// The policy from `TECHMATCH_CONFIRM_AFTER_DAYS` and `TECHMATCH_STALE_AFTER_DAYS` (whole
    /// days ≥ 1), else the defaults.
    pub fn from_env() -> Policy {
        let days = |name: &str, default: i64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|d| *d >= 1)
                .unwrap_or(default)
        };
        Policy {
            confirm_after: Duration::days(days("TECHMATCH_CONFIRM_AFTER_DAYS", CONFIRM_AFTER_DAYS)),
            stale_after: Duration::days(days("TECHMATCH_STALE_AFTER_DAYS", STALE_AFTER_DAYS)),
        }
    }

    /// When `listing` is due to be confirmed.
    pub fn due(&self, listing: &Listing) -> DateTime<Utc> {
        listing.confirmed() + self.confirm_after
    }

    /// When `listing`, unconfirmed, turns stale.
    pub fn stale_at(&self, listing: &Listing) -> DateTime<Utc> {
        self.due(listing) + self.stale_after
    }
}

impl Listing {
    /// When the owner last said the listing is current (before `confirmed_at` existed: when
    /// it was last changed).
    pub fn confirmed(&self) -> DateTime<Utc> {
        self.confirmed_at.unwrap_or(self.updated_at)
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Swept {
    /// Listings whose owner was asked now.
    pub asked: Vec<String>,
    /// Listings marked stale now.
    pub stale: Vec<String>,
}

/// Whether the sweep has something to do with `listing` at `now`.
fn state_at(policy: &Policy, listing: &Listing, now: DateTime<Utc>) -> (bool, bool) {
    if listing.status != Status::Published || listing.stale {
        return (false, false);
    }
    let ask = now >= policy.due(listing) && listing.confirm_asked_at.is_none();
    let stale = now >= policy.stale_at(listing);
    (ask, stale)
}

/// Asks the owners of listings due for confirmation (mail to the organisation's members, and
/// `/me`) and marks stale those unconfirmed for the grace period after that, as of `now`. Each
/// listing is asked once per confirmation; a listing past both dates at once (the sweep did not
/// run for a long time) is asked and marked stale together.
///
/// # Errors
/// When the store or the outbox fails; what was written before stays.
pub fn sweep(ex: Exchange<'_>, policy: &Policy, now: DateTime<Utc>) -> Result<Swept, AppError> {
    let mut due = Vec::new();
    for listing in ex.listings.scan() {
        let listing = listing?;
        let (ask, stale) = state_at(policy, &listing, now);
        if ask || stale {
            due.push(listing.id);
        }
    }
    let mut swept = Swept::default();
    for id in due {
        let mut changed = None;
        // Decided again under the writer lock: the owner may have confirmed meanwhile.
        ex.listings.update(
            &id,
            Box::new(|existing| {
                let mut listing = existing?.clone();
                let (ask, stale) = state_at(policy, &listing, now);
                if !ask && !stale {
                    return None;
                }
                if ask {
                    listing.confirm_asked_at = Some(now);
                }
                listing.stale = stale;
                changed = Some((listing.clone(), ask, stale));
                Some(listing)
            }),
        )?;
        let Some((listing, ask, stale)) = changed else {
            continue;
        };
        if ask {
            if let Some(owner) = &listing.owner {
                let link = ex.outbox.links.page(&format!("/listings/{}", listing.id));
                let text = confirm_mail(&listing.title, policy.stale_at(&listing), &link);
                for member in ex.alerts.users_of_org(owner)? {
                    if member.role.is_member() {
                        // Mail leaves on the outbox's clock, not on the cycle's.
                        ex.outbox.queue(&member.email, text.clone(), Utc::now())?;
                    }
                }
            }
            swept.asked.push(listing.id.clone());
        }
        if stale {
            swept.stale.push(listing.id);
        }
    }
    Ok(swept)
}

/// The owner (a member of its organisation, or an administrator) confirms that `id` is still
/// current: it is fresh again, back in search and matching if it was stale.
///
/// # Errors
/// [`AppError::NotFound`] for no such listing (or one the actor may not see);
/// [`AppError::Forbidden`] for anyone but its organisation's members and administrators.
pub fn confirm(
    ex: Exchange<'_>,
    actor: Actor<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Listing, AppError> {
    let listing = ex
        .listings
        .get(id)?
        .ok_or(AppError::NotFound("listing".into()))?;
    let own = match actor {
        Actor::AdminToken => true,
        Actor::User(u) => {
            actor.is_admin() || (u.role.is_member() && u.org.is_some() && u.org == listing.owner)
        }
    };
    if !own {
        if listing.status == Status::Draft {
            return Err(AppError::NotFound("listing".into()));
        }
        return Err(AppError::Forbidden(Refusal::NotListingOwner));
    }
    let mut stored = None;
    ex.listings.update(
        id,
        Box::new(|existing| {
            let mut listing = existing?.clone();
            listing.confirmed_at = Some(now);
            listing.confirm_asked_at = None;
            listing.stale = false;
            stored = Some(listing.clone());
            Some(listing)
        }),
    )?;
    stored.ok_or(AppError::NotFound("listing".into()))
}

/// The listings of organisation `org` waiting for its confirmation (asked or stale), soonest
/// to turn stale first.
///
/// # Errors
/// When the store fails.
pub fn to_confirm(ex: Exchange<'_>, org: &str) -> Result<Vec<Listing>, AppError> {
    let mut out: Vec<Listing> = ex
        .listings
        .owned_by(org)?
        .into_iter()
        .filter(|l| l.status == Status::Published && (l.stale || l.confirm_asked_at.is_some()))
        .collect();
    out.sort_by_key(Listing::confirmed);
    Ok(out)
}

/// The stale listings of a province (all provinces: `None`), with their organisations, oldest
/// confirmation first.
///
/// # Errors
/// When the store fails.
pub fn stale_in(
    listings: &dyn crate::store::Store,
    province: Option<&crate::domain::ProvinceCode>,
) -> Result<Vec<Listing>, AppError> {
    let mut out = Vec::new();
    for listing in listings.scan() {
        let listing = listing?;
        if listing.stale
            && listing.status == Status::Published
            && (province.is_none() || listing.province.as_ref() == province)
        {
            out.push(listing);
        }
    }
    out.sort_by_key(Listing::confirmed);
    Ok(out)
}

/// The question's mail, in Vietnamese then English.
fn confirm_mail(title: &str, stale_at: DateTime<Utc>, link: &str) -> super::mails::Text {
    let date = stale_at.format("%d/%m/%Y");
    let date_en = stale_at.format("%Y-%m-%d");
    (
        "Tin đăng còn hiệu lực? / Is your listing still current? — techmatch".to_string(),
        format!(
            "Xin chào,\n\nTin “{title}” của tổ chức bạn đã lâu chưa được xác nhận. Nếu tin vẫn \
             còn hiệu lực, hãy mở liên kết dưới đây và bấm “Xác nhận còn hiệu lực” (hoặc xác \
             nhận trên trang Của tôi). Nếu không được xác nhận trước ngày {date}, tin sẽ được \
             ẩn khỏi tìm kiếm và kết nối (không bị xóa).\n\n{link}\n\n---\n\nHello,\n\nYour \
             organisation's listing “{title}” has not been confirmed for a long time. If it is \
             still current, open the link below and press “Confirm it is current” (or confirm \
             it on My page). Unconfirmed by {date_en}, it leaves search and matching (it is \
             not deleted).\n\n{link}\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(confirmed: &str) -> Listing {
        serde_json::from_value(serde_json::json!({
            "id": "ro-1", "kind": "research_output", "title": "T", "description": "D",
            "status": "published", "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z", "confirmed_at": confirmed
        }))
        .unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn asked_after_180_days_and_stale_30_days_later() {
        let p = Policy::default();
        let l = listing("2025-01-01T00:00:00Z");
        assert_eq!(state_at(&p, &l, at("2025-06-29T00:00:00Z")), (false, false));
        assert_eq!(state_at(&p, &l, at("2025-06-30T00:00:00Z")), (true, false));
        let asked = Listing {
            confirm_asked_at: Some(at("2025-06-30T00:00:00Z")),
            ..l.clone()
        };
        assert_eq!(
            state_at(&p, &asked, at("2025-07-29T00:00:00Z")),
            (false, false)
        );
        assert_eq!(
            state_at(&p, &asked, at("2025-07-30T00:00:00Z")),
            (false, true)
        );
        let stale = Listing {
            stale: true,
            ..asked
        };
        assert_eq!(
            state_at(&p, &stale, at("2026-01-01T00:00:00Z")),
            (false, false)
        );
    }
}

/// What one sweep did: listings asked and marked stale, leads reminded.
#[derive(Debug, serde::Serialize)]
pub struct Upkeep {
    /// Listings asked to be confirmed and marked stale.
    #[serde(flatten)]
    pub listings: Swept,
    /// Leads whose organisations were reminded.
    pub reminded: Vec<String>,
    /// Daily digests mailed (standing searches delivered by digest).
    pub digests: usize,
}

/// Runs the freshness cycle, the reminders and the daily digests as of `now`, at once (an
/// administrator asked).
pub async fn upkeep(state: &crate::app::AppState, now: DateTime<Utc>) -> Result<Upkeep, AppError> {
    upkeep_at(state, now, Turn::Now).await
}

/// [`upkeep`] as background work that gives way to requests (the server's own timer: it scans
/// every listing).
pub async fn upkeep_in_background(
    state: &crate::app::AppState,
    now: DateTime<Utc>,
) -> Result<Upkeep, AppError> {
    upkeep_at(state, now, Turn::Background).await
}

/// When an upkeep runs: at once, or after requests.
#[derive(Clone, Copy, PartialEq)]
enum Turn {
    Now,
    Background,
}

async fn upkeep_at(
    state: &crate::app::AppState,
    now: DateTime<Utc>,
    turn: Turn,
) -> Result<Upkeep, AppError> {
    let cycle = move |ex: Exchange<'_>| {
        let listings = sweep(ex, &Policy::from_env(), now)?;
        let reminded = crate::app::replies::remind(ex, now)?;
        Ok((listings, reminded))
    };
    let result = match turn {
        Turn::Now => state.run(cycle).await?,
        Turn::Background => state.run_in_background("freshness", cycle).await?,
    };
    state.written.notify_one();
    let alerter = state.alerter.clone();
    let digests = move || alerter.send_digests(now);
    let digests = match turn {
        Turn::Now => tokio::task::spawn_blocking(digests).await?,
        Turn::Background => crate::app::background::run("digests", digests).await?,
    }
    .map_err(|e| AppError::Digests(Box::new(e)))?;
    let (listings, reminded) = result;
    Ok(Upkeep {
        listings,
        reminded,
        digests,
    })
}
