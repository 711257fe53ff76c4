//! Saved searches: a member keeps a search (query and filters) to be told when a listing
//! enters its first results.

use chrono::Utc;

use crate::alerts::{new_secret, percolator::request_of};
use crate::app::{AppError, AppState, Refusal};
use crate::domain::account::User;
use crate::domain::alert::{Delivery, SavedQuery, StandingSearch};

/// Most saved searches one user may keep.
pub const MAX_SAVED_SEARCHES: usize = 100;

/// Saves `query` as a standing search of `user`, delivered as `delivery`.
///
/// # Errors
/// [`AppError::Invalid`] when the search could not run (checked as the search route checks
/// it); [`AppError::Conflict`] past [`MAX_SAVED_SEARCHES`]; our failure when the store fails.
pub async fn save(
    state: &AppState,
    user: &User,
    query: SavedQuery,
    delivery: Delivery,
) -> Result<StandingSearch, AppError> {
    let search = StandingSearch {
        id: format!("ss-{}", new_secret()?.get(..20).unwrap_or_default()),
        user_id: user.id.clone(),
        query,
        listing_id: None,
        secret: new_secret()?,
        delivery,
        created_at: Utc::now(),
        active: true,
    };
    // A saved search that cannot run is refused now, not at its first alert.
    request_of(&search)?;
    let alerts = state.alerts.clone();
    tokio::task::spawn_blocking(move || {
        let saved = alerts
            .searches_of(&search.user_id)?
            .iter()
            .filter(|s| s.listing_id.is_none())
            .count();
        if saved >= MAX_SAVED_SEARCHES {
            return Err(AppError::Conflict(Refusal::TooManySavedSearches));
        }
        Ok(alerts.add_search(&search)?)
    })
    .await?
}
