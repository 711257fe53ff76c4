//! The [`AlertStore`] trait: standing searches, the notifications they raise, which searches a
//! listing is in, and how far the alert follower has read the change log.
//!
//! An alert is recorded with an atomic insert-if-absent of its (search, listing) mark, in the
//! same write as its notification and its mail: replaying a change after a crash, or a second
//! node reading the same change, finds the mark and writes nothing.

use super::StoreError;
use crate::domain::account::User;
use crate::domain::alert::{Notification, StandingSearch};
use crate::domain::mail::Mail;

/// Durable storage of standing searches and alerts; every write is on disk before it returns.
pub trait AlertStore: Send + Sync {
    /// Stores `search` unless one with its id exists; returns the stored one either way.
    fn add_search(&self, search: &StandingSearch) -> Result<StandingSearch, StoreError>;

    /// Replaces the stored search with the same id (unsubscribing).
    fn replace_search(&self, search: &StandingSearch) -> Result<(), StoreError>;

    /// The search with this id.
    fn search(&self, id: &str) -> Result<Option<StandingSearch>, StoreError>;

    /// A user's searches, oldest first.
    fn searches_of(&self, user_id: &str) -> Result<Vec<StandingSearch>, StoreError>;

    /// Every active saved search (those with no listing), for the percolator.
    fn saved_searches(&self) -> Result<Vec<StandingSearch>, StoreError>;

    /// Changes whenever a saved search is added or removed, so percolators reload.
    fn searches_version(&self) -> Result<u64, StoreError>;

    /// Removes a search; false when there was none.
    fn remove_search(&self, id: &str) -> Result<bool, StoreError>;

    /// Records that the notification's listing is in its search's first results, with the
    /// notification and (immediate delivery) its mail, in one atomic write — unless the mark
    /// is there already, when nothing is written and the answer is false.
    fn record_alert(&self, note: &Notification, mail: Option<&Mail>) -> Result<bool, StoreError>;

    /// Forgets that `listing_id` is in the search's first results (it left them), so that it
    /// raises an alert again when it comes back.
    fn clear_alert(&self, search_id: &str, listing_id: &str) -> Result<(), StoreError>;

    /// The searches whose first results `listing_id` is marked in.
    fn alerted_searches(&self, listing_id: &str) -> Result<Vec<String>, StoreError>;

    /// A user's newest `limit` notifications, newest first.
    fn notifications(&self, user_id: &str, limit: usize) -> Result<Vec<Notification>, StoreError>;

    /// Marks a user's notification read; false when the user has none with this id.
    fn mark_read(&self, user_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Notifications waiting for a daily digest, oldest first.
    fn undigested(&self) -> Result<Vec<Notification>, StoreError>;

    /// Marks these notifications mailed and queues their digest, in one atomic write.
    fn record_digest(&self, notes: &[Notification], mail: &Mail) -> Result<(), StoreError>;

    /// The change sequence up to which alerts have been computed (shared by every node);
    /// `None` until first set (alerts start at the log's end, not at its beginning).
    fn alert_position(&self) -> Result<Option<u64>, StoreError>;

    /// Moves the position forward to `seq` (never back), setting it the first time.
    fn set_alert_position(&self, seq: u64) -> Result<(), StoreError>;

    /// The members of organisation `org` (users whose `org` is exactly it).
    fn users_of_org(&self, org: &str) -> Result<Vec<User>, StoreError>;

    /// Whether any user belongs to an organisation (else no need or technology has anyone to
    /// tell, and matching each changed listing would be wasted).
    fn any_member(&self) -> Result<bool, StoreError>;
}
