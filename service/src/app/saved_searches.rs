//! Saving a search as a standing search, from the API or the search page's button.

use chrono::{DateTime, Utc};

use super::{AppError, Exchange, Refusal};
use crate::alerts::{new_secret, percolator::request_of};
use crate::domain::account::User;
use crate::domain::alert::{Delivery, SavedQuery, StandingSearch};

/// Most saved searches one user may keep.
pub const MAX_SAVED_SEARCHES: usize = 100;

/// Saves `query` as `user`'s standing search, checked as the search route checks it.
///
/// # Errors
/// [`AppError::Invalid`] on the parameter a search would refuse; [`AppError::Conflict`] past
/// [`MAX_SAVED_SEARCHES`]; store failures.
pub fn save(
    ex: Exchange<'_>,
    user: &User,
    query: SavedQuery,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<StandingSearch, AppError> {
    let search = StandingSearch {
        id: format!("ss-{}", new_secret()?.get(..20).unwrap_or_default()),
        user_id: user.id.clone(),
        query,
        listing_id: None,
        secret: new_secret()?,
        delivery,
        created_at: now,
        active: true,
    };
    // A saved search that cannot run is refused now.
    request_of(&search)?;
    let saved = ex
        .alerts
        .searches_of(&search.user_id)?
        .iter()
        .filter(|s| s.listing_id.is_none())
        .count();
    if saved >= MAX_SAVED_SEARCHES {
        return Err(AppError::Conflict(Refusal::TooManySavedSearches));
    }
    Ok(ex.alerts.add_search(&search)?)
}
