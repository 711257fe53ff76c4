//! One open deal per need × technology: a second proposal while one is proposed, contacted or
//! negotiating is refused, naming the deal to move instead; once it is agreed or lost, a new
//! one may start.

use std::sync::{Mutex, MutexGuard};

use super::{AppError, Refusal};
use crate::domain::deal::Deal;
use crate::store::DealStore;

/// Held from the check to the write, so that two proposals on one node cannot both pass.
/// Nodes sharing a PostgreSQL store are not serialised by it (a unique index on open pairs
/// would be next).
static PROPOSING: Mutex<()> = Mutex::new(());

/// The turn to check and write one proposal; hold it until the deal is stored.
pub fn proposing() -> MutexGuard<'static, ()> {
    PROPOSING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The open deal between `need_id` and `listing_id`, if any.
///
/// # Errors
/// When the store fails.
pub fn open_deal(
    deals: &dyn DealStore,
    need_id: &str,
    listing_id: &str,
) -> Result<Option<Deal>, AppError> {
    Ok(deals
        .deals()?
        .into_iter()
        .find(|d| d.need_id == need_id && d.listing_id == listing_id && !d.stage.is_closed()))
}

/// Refuses a proposal while a deal between the same need and technology is open.
///
/// # Errors
/// [`AppError::Refused`] on `listing_id` with [`Refusal::DealOpen`]; or when the store fails.
pub fn refuse_second(
    deals: &dyn DealStore,
    need_id: &str,
    listing_id: &str,
) -> Result<(), AppError> {
    match open_deal(deals, need_id, listing_id)? {
        Some(_) => Err(AppError::Refused {
            field: "listing_id",
            refusal: Refusal::DealOpen,
        }),
        None => Ok(()),
    }
}
