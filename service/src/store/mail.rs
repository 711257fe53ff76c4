//! The [`MailStore`] trait: the outbox of mail to send, and the one-time tickets its links carry.
//!
//! The outbox is in the store, not in memory, so that a restart or a refused connection loses no
//! mail; and several nodes sharing a store deliver each message once, each claiming what it sends.

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::mail::{Mail, Ticket};

/// Durable storage of outgoing mail and one-time tickets. Every write is on disk before the call
/// returns.
pub trait MailStore: Send + Sync {
    /// Queues a message.
    fn enqueue(&self, mail: &Mail) -> Result<(), StoreError>;

    /// Up to `limit` pending messages due at `now`, oldest first, each claimed until `until`
    /// (its next attempt moved there) so that no other sender takes it meanwhile.
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Mail>, StoreError>;

    /// Replaces the stored message with the same id (after an attempt: sent, or to retry).
    fn update_mail(&self, mail: &Mail) -> Result<(), StoreError>;

    /// The message with this id.
    fn mail(&self, id: &str) -> Result<Option<Mail>, StoreError>;

    /// The newest `limit` messages, newest first (for administrators).
    fn recent_mail(&self, limit: usize) -> Result<Vec<Mail>, StoreError>;

    /// Stores a new ticket.
    fn add_ticket(&self, ticket: &Ticket) -> Result<(), StoreError>;

    /// Removes and returns the ticket whose secret hashes to `hash`: a ticket works once, even
    /// when two requests present it at the same time.
    fn take_ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError>;

    /// The ticket whose secret hashes to `hash`, left in place (a page showing what a link
    /// offers before it is used).
    fn ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError>;
}
